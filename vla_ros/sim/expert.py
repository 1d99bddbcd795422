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
`ScriptedExpert`: solves every task with one fixed motion per task, planned by IK.

The plan depends only on the start joints and the target cube's pose, so the same episode
always yields the same demonstration (no dithering, no randomness): what a policy should find
easy to imitate. Every plan is

1. a joint-space move (minimum jerk) from the start pose to 10 cm above the grasp or push
   point, tool pointing down, yawed to the cube for touch and pick;
2. straight-line tool moves (minimum jerk along the line, IK every 10 ms) for the approach,
   the push or the lift, with the gripper command changing only between moves;
3. a short hold, so the episode ends at rest.

==========  =====================================================================
touch       close; above the cube; descend until the fingertips press 6 mm into its top
push_left   close; above a point 8 cm right of the cube (+y); descend to 1.5 cm; push
            14 cm left (-y), through the cube's start; lift
pick        open; above the cube; descend to 1.2 cm; close; lift 13 cm
==========  =====================================================================
"""

from __future__ import annotations

import numpy as np

from vla_ros.sim.kinematics import ToolIK
from vla_ros.sim.robot import GRIPPER_CLOSED_M, GRIPPER_OPEN_M, JOINT_LIMITS
from vla_ros.sim.tasks import CUBE_HALF_SIZE_M
from vla_ros.sim.trajectory import minimum_jerk, SampledTrajectory

SAMPLE_PERIOD_S = 0.01
"""Spacing of the IK samples of the plan [s]; the spline reads between them."""
APPROACH_HEIGHT_M = 0.10
"""Tool centre point (fingertips) height above the table before descending [m]."""
HOLD_S = 0.5
"""Rest at the end of every plan [s]."""


class ScriptedExpert:
    """
    Joint targets for the current episode of `env`, as a smooth function of sim time.

    Build it right after ``env.reset``: it reads the start joints and the target cube's pose.
    ``target(t)`` returns the (7,) targets (`JOINT_NAMES` order) at sim time `t` [s];
    after ``duration_s`` the targets hold the final pose.
    """

    def __init__(self, env):
        """Plan the current episode of `env` (an `ArmEnv` right after ``reset``)."""
        episode = env.episode
        self.task = episode.task
        self._ik = ToolIK(env.model)
        self._t0 = env.time
        q_start = env.joint_positions()
        cube = env.object_position(episode.color)
        yaw = _grasp_yaw(env.object_yaw(episode.color))
        x, y = cube[0], cube[1]
        top = 2 * CUBE_HALF_SIZE_M
        # (tool position, yaw, gripper command, duration [s]) for each straight-line move.
        if self.task == 'touch':
            gripper = GRIPPER_CLOSED_M
            start = (x, y, APPROACH_HEIGHT_M)
            moves = [((x, y, top - 0.006), yaw, gripper, 1.0)]
        elif self.task == 'push_left':
            gripper, yaw = GRIPPER_CLOSED_M, 0.0
            start = (x, y + 0.08, APPROACH_HEIGHT_M)
            moves = [((x, y + 0.08, 0.015), yaw, gripper, 0.8),
                     ((x, y - 0.06, 0.015), yaw, gripper, 1.6),
                     ((x, y - 0.06, APPROACH_HEIGHT_M), yaw, gripper, 0.6)]
        elif self.task == 'pick':
            gripper = GRIPPER_OPEN_M
            start = (x, y, APPROACH_HEIGHT_M)
            moves = [((x, y, 0.012), yaw, gripper, 1.0),
                     ((x, y, 0.012), yaw, GRIPPER_CLOSED_M, 0.6),
                     ((x, y, 0.14), yaw, GRIPPER_CLOSED_M, 1.0)]
        else:
            raise ValueError(f'task={self.task!r}: the expert has no plan for it')
        self._trajectory = self._plan(q_start, np.array(start), yaw, gripper, moves)

    @property
    def duration_s(self) -> float:
        """Length of the plan, final hold included [s]."""
        return self._trajectory.duration_s

    @property
    def trajectory(self) -> SampledTrajectory:
        """Return the plan's samples and spline, time measured from the reset [s]."""
        return self._trajectory

    def target(self, t: float) -> np.ndarray:
        """Joint targets (7,) at sim time `t` [s] ((N, 7) for an array of times)."""
        # The spline may overshoot a bound it touches (the closed gripper, 0) by a hair.
        return JOINT_LIMITS.clip(self._trajectory(np.asarray(t) - self._t0))

    def _plan(self, q_start, position, yaw, gripper, moves) -> SampledTrajectory:
        q_start = np.asarray(q_start, dtype=np.float64)
        q_above = np.append(self._ik.solve(position, yaw, q_start[:6]), gripper)
        # The first move is in joint space: the start pose need not be exactly tool-down.
        first_s = 1.5
        u = np.arange(0.0, first_s, SAMPLE_PERIOD_S)[:, None] / first_s
        samples = [q_start + minimum_jerk(u) * (q_above - q_start)]
        q, pos, g = q_above[:6], position, gripper
        for target, yaw_to, g_to, duration in moves:
            target = np.asarray(target, dtype=np.float64)
            block = []
            for u in np.arange(0.0, duration, SAMPLE_PERIOD_S) / duration:
                s = minimum_jerk(u)
                q = self._ik.solve(pos + s * (target - pos), yaw + s * (yaw_to - yaw), q)
                block.append(np.append(q, g + s * (g_to - g)))
            samples.append(np.array(block))
            pos, yaw, g = target, yaw_to, g_to
        q = self._ik.solve(pos, yaw, q)
        final = np.append(q, g)
        samples.append(np.repeat(final[None], int(round(HOLD_S / SAMPLE_PERIOD_S)) + 1, 0))
        positions = np.concatenate(samples)
        times = np.arange(len(positions)) * SAMPLE_PERIOD_S
        return SampledTrajectory(times, positions)


def _grasp_yaw(cube_yaw: float) -> float:
    """Tool yaw facing the cube's sides, the one of the four nearest to the home yaw (0)."""
    return float((cube_yaw + np.pi / 4) % (np.pi / 2) - np.pi / 4)
