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
``sensor_msgs/JointState`` -> positions of named joints, without ROS.

A robot's ``joint_states`` lists its joints in its own order, often with more joints than a
policy or the executor uses (a gripper, a mobile base); everything here picks joints by name.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


class JointStateError(ValueError):
    """A joint state lacks a joint or is malformed; `kind` is 'missing_joint' or 'bad_input'."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def positions_by_name(names: Sequence[str], positions: Sequence[float],
                      wanted: Sequence[str]) -> np.ndarray:
    """Return the positions of `wanted`, in that order; raise `JointStateError` naming why not."""
    names = list(names)
    if len(positions) != len(names):
        raise JointStateError('bad_input', f'joint_states has {len(names)} names but '
                                           f'{len(positions)} positions')
    index = {name: i for i, name in enumerate(names)}
    missing = [n for n in wanted if n not in index]
    if missing:
        raise JointStateError('missing_joint', f'joint_states lacks joint {missing[0]!r} '
                                               f'(has {names})')
    state = np.array([positions[index[n]] for n in wanted], dtype=np.float64)
    if not np.isfinite(state).all():
        raise JointStateError('bad_input', 'joint_states has a NaN or inf position')
    return state


def joint_state_positions(msg, joint_names: Sequence[str]) -> np.ndarray | None:
    """Positions of `joint_names` from a JointState-shaped `msg`; None if any is unusable."""
    try:
        return positions_by_name(msg.name, msg.position, joint_names)
    except (JointStateError, TypeError, ValueError):
        return None
