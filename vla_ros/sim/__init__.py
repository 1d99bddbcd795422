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
MuJoCo simulation of a 6-DOF arm on a table with three cubes; no ROS.

Public API (see docs/simulation.md):

- `ArmEnv`: build from `vla_ros.config.SimConfig`; ``reset(seed, task)``, ``set_command``,
  ``advance``, ``observe``, ``success``.
- `ScriptedExpert`: ``ScriptedExpert(env)`` after a reset; ``target(t)``, ``duration_s``.
- `TASKS`, `JOINT_NAMES`, `JOINT_LIMITS`, `CAMERA_NAMES`, `HOME_POSITIONS`.
- `EpisodeDataset`, `DatasetWriter` (in `vla_ros.sim.dataset`): LeRobot v3 datasets.

Names that need MuJoCo or scipy load on first use, so ``vla_ros.sim.robot`` and
``vla_ros.sim.tasks`` stay importable without them.
"""

from __future__ import annotations

import importlib
import os

from vla_ros.sim.robot import (  # noqa: F401 - re-exported
    CAMERA_NAMES, GRIPPER_CLOSED_M, GRIPPER_OPEN_M, HOME_POSITIONS, JOINT_LIMITS, JOINT_NAMES,
    JointLimits)
from vla_ros.sim.tasks import (  # noqa: F401 - re-exported
    COLORS, parse_task, TaskError, TASKS, TaskSpec)

# Rendering is offscreen only: EGL needs no display. MUJOCO_GL is read when mujoco is first
# imported (robot and tasks above do not import it), so set the default here; a user's value
# wins.
os.environ.setdefault('MUJOCO_GL', 'egl')

_LAZY = {
    'ArmEnv': 'vla_ros.sim.env',
    'Observation': 'vla_ros.sim.env',
    'ScriptedExpert': 'vla_ros.sim.expert',
    'EpisodeDataset': 'vla_ros.sim.dataset',
    'DatasetWriter': 'vla_ros.sim.dataset',
    'record_episode': 'vla_ros.sim.rollout',
}

__all__ = ['CAMERA_NAMES', 'COLORS', 'GRIPPER_CLOSED_M', 'GRIPPER_OPEN_M', 'HOME_POSITIONS',
           'JOINT_LIMITS', 'JOINT_NAMES', 'JointLimits', 'parse_task', 'TaskError', 'TASKS',
           'TaskSpec'] + list(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
