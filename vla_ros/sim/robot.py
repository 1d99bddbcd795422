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
The simulated arm's fixed facts: joint order, limits, cameras and model files.

These constants are what code outside the simulator needs (the chunk executor, the dataset, the
ROS node), so they live apart from the MuJoCo environment and import nothing heavy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vla_ros.control.limits import JointLimits

ASSETS_DIR = Path(__file__).resolve().parent / 'assets'
"""Folder of the MJCF files."""

SCENE_XML = ASSETS_DIR / 'scene.xml'
"""The table-top scene (includes the arm, ``vla_arm.xml``)."""

ARM_JOINT_NAMES = ('shoulder_pan', 'shoulder_lift', 'elbow_flex', 'forearm_roll',
                   'wrist_flex', 'wrist_roll')
"""The six revolute arm joints, base to tool [rad]."""

GRIPPER_JOINT_NAME = 'gripper'
"""Finger slide joint [m per finger]: 0 closed, 0.04 open (8 cm between the pads)."""

JOINT_NAMES = ARM_JOINT_NAMES + (GRIPPER_JOINT_NAME,)
"""Order of `state` and `action` vectors everywhere (dataset, policy, ROS commands)."""

CAMERA_NAMES = ('scene', 'wrist')
"""Rendered cameras: ``scene`` looks across the table at the robot; ``wrist`` looks along the
tool. Dataset features are ``observation.images.<name>``."""

GRIPPER_OPEN_M = 0.04
GRIPPER_CLOSED_M = 0.0


def _frozen(values) -> np.ndarray:
    array = np.array(values, dtype=np.float64)
    array.setflags(write=False)
    return array


JOINT_LIMITS = JointLimits(
    lower=_frozen([-2.6, -1.9, -2.6, -2.8, -2.2, -2.8, 0.0]),
    upper=_frozen([2.6, 1.9, 2.6, 2.8, 2.2, 2.8, GRIPPER_OPEN_M]),
    max_velocity=_frozen([2.0, 2.0, 2.5, 3.0, 3.0, 3.0, 0.2]),
    max_acceleration=_frozen([8.0, 8.0, 10.0, 12.0, 12.0, 12.0, 1.0]),
)
"""
Limits of the simulated arm (and of ``models/vla_arm.urdf``), in `JOINT_NAMES` order.

Positions match the MJCF ``range`` and the URDF ``<limit>``; velocity and acceleration are what
the scripted expert stays within and what a chunk executor should enforce.
"""

HOME_POSITIONS = _frozen([0.0, 0.15, 1.75, 0.0, 1.24, 0.0, GRIPPER_OPEN_M])
"""Start pose of every episode: gripper open, tool pointing down above the workspace."""
