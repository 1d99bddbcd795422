# Copyright 2026 vla_ros maintainers
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""
The table-top tasks: what each instruction asks, where the cubes go, when it has succeeded.

Three cubes (red, green, blue; 4 cm) lie on the table. A task names a verb and a target cube:

========== ================================== ===============================================
task       instruction (canonical template)   success (latched: once true, stays true)
========== ================================== ===============================================
touch      ``touch the {color} cube``         a gripper geom is in contact with the cube
push_left  ``push the {color} cube to the     the cube is >= 5 cm left of where it started
           left``                             (left in the scene image: world -y), on the table
pick       ``pick up the {color} cube``       the cube is >= 5 cm above its start and touching
                                              the gripper
========== ================================== ===============================================

By default each task has one fixed target colour (touch red, push blue, pick green, as in the
issue's examples), which keeps the language grounding a policy must learn to three cases;
``SimConfig.random_target_color`` draws the colour per episode instead (nine cases).

This module is pure numpy: poses in, booleans out, so it is testable without MuJoCo.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COLORS = ('red', 'green', 'blue')
"""Cube colours; the cube of colour ``c`` is the MJCF body and geom ``f'{c}_cube'``."""

CUBE_HALF_SIZE_M = 0.02
WORKSPACE_X_M = (0.27, 0.43)
"""Range of cube centres away from the robot [m]."""
WORKSPACE_Y_M = (-0.15, 0.15)
"""Range of cube centres sideways [m]."""
CUBE_YAW_RAD = (-0.5, 0.5)
"""Range of cube yaw; the square cube repeats every pi/2, so this covers a third of it."""
MIN_CUBE_DISTANCE_M = 0.09
"""Closest cube centres; leaves room for open fingers between neighbours."""

PUSH_DISTANCE_M = 0.05
"""How far left a pushed cube must end up from where it started [m]."""
LIFT_HEIGHT_M = 0.05
"""How far a picked cube must rise above where it started [m]."""
ON_TABLE_MAX_Z_M = 0.03
"""A cube centre higher than this is not resting on the table [m]."""


@dataclass(frozen=True)
class TaskSpec:
    """One task: its instruction templates (``{color}`` placeholder) and default target."""

    name: str
    templates: tuple[str, ...]   # the first is the canonical instruction
    default_color: str
    summary: str

    def instruction(self, color: str) -> str:
        """Return the canonical instruction for target `color`."""
        return self.templates[0].format(color=color)


TASKS = {
    'touch': TaskSpec('touch', ('touch the {color} cube',), 'red',
                      'Touch the cube with the gripper.'),
    'push_left': TaskSpec('push_left', ('push the {color} cube to the left',), 'blue',
                          'Push the cube at least 5 cm to the left (as the scene camera sees '
                          'it), keeping it on the table.'),
    'pick': TaskSpec('pick', ('pick up the {color} cube',), 'green',
                     'Grasp the cube and lift it at least 5 cm.'),
}
"""Task name -> `TaskSpec`, in a fixed order (the order seeds draw from)."""


class TaskError(ValueError):
    """A task name or instruction is not one the simulation knows."""


def parse_task(text: str) -> tuple[str, str | None]:
    """
    Return ``(task name, colour or None)`` for a task name or an instruction.

    Accepts ``'pick'`` (colour left open) or any template filled with a colour, compared
    case-insensitively without surrounding spaces or a final full stop.
    """
    key = text.strip().rstrip('.').strip().lower()
    if key in TASKS:
        return key, None
    for spec in TASKS.values():
        for template in spec.templates:
            for color in COLORS:
                if key == template.format(color=color):
                    return spec.name, color
    known = ', '.join(list(TASKS) + [TASKS[t].instruction(TASKS[t].default_color)
                                     for t in TASKS])
    raise TaskError(f'task={text!r}: not a task name or known instruction; known: {known}')


@dataclass(frozen=True)
class Episode:
    """What one seed sets up: the task, its target and every cube's (x, y, yaw)."""

    seed: int
    task: str
    color: str
    instruction: str
    layout: dict   # colour -> (x [m], y [m], yaw [rad])


def sample_layout(rng: np.random.Generator, task: str, color: str) -> dict:
    """
    Cube poses ``{colour: (x, y, yaw)}`` for `task` on the `color` cube.

    Rejection sampling keeps cubes apart and, for ``push_left``, keeps the pusher's start and
    the cube's path free, so every layout is solvable by the same motion.
    """
    for _ in range(1000):
        poses = {}
        for c in COLORS:
            x = rng.uniform(*WORKSPACE_X_M)
            y = rng.uniform(*WORKSPACE_Y_M)
            yaw = rng.uniform(*CUBE_YAW_RAD)
            poses[c] = (float(x), float(y), float(yaw))
        if _acceptable(poses, task, color):
            return poses
    raise RuntimeError('sample_layout: no layout found in 1000 draws')  # not reached in practice


def _acceptable(poses: dict, task: str, color: str) -> bool:
    xy = np.array([poses[c][:2] for c in COLORS])
    gaps = np.linalg.norm(xy[:, None] - xy[None], axis=-1) + np.eye(len(COLORS))
    if gaps.min() < MIN_CUBE_DISTANCE_M:
        return False
    if task == 'push_left':
        x, y, _ = poses[color]
        # The pusher starts 8 cm right of the cube (+y) and pushes 6 cm past its centre.
        if y < -0.02:
            return False
        for c in COLORS:
            if c == color:
                continue
            ox, oy, _ = poses[c]
            if abs(ox - x) < 0.075 and y - 0.17 < oy < y + 0.13:
                return False
    return True


def cube_rests_at(xyz: np.ndarray) -> bool:
    """Whether a cube centre `xyz` is low enough to be lying on the table."""
    return bool(xyz[2] < ON_TABLE_MAX_Z_M)


def task_achieved(task: str, start_xyz: np.ndarray, xyz: np.ndarray, touching: bool) -> bool:
    """
    Whether `task` is achieved now for the target cube.

    `start_xyz` and `xyz` are the cube centre at reset and now [m]; `touching` is whether any
    gripper geom is in contact with it.
    """
    if task == 'touch':
        return touching
    if task == 'push_left':
        return bool(start_xyz[1] - xyz[1] >= PUSH_DISTANCE_M and cube_rests_at(xyz))
    if task == 'pick':
        return bool(xyz[2] - start_xyz[2] >= LIFT_HEIGHT_M and touching)
    raise TaskError(f'task={task!r}: must be one of {", ".join(TASKS)}')
