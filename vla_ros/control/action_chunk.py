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

"""An action chunk: a short trajectory of joint targets anchored at an observation time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class ChunkError(ValueError):
    """A chunk is malformed; the message names what is wrong."""


@dataclass(frozen=True)
class ActionChunk:
    """
    Joint targets the policy predicted from one observation.

    Step ``k`` is the target for time ``t0 + k * dt``: step 0 belongs to the observation time
    itself (the action a teleoperator would have commanded at that frame), so a
    ``trajectory_msgs/JointTrajectory`` carries ``time_from_start = k * dt``. By the time a chunk
    reaches the executor its first steps lie in the past and are skipped, never replayed.
    """

    joint_names: tuple[str, ...]
    t0: float                               # stamp of the observation the policy saw [s]
    dt: float                               # time between steps [s]
    positions: np.ndarray                   # (H, J) targets [rad or m]
    velocities: np.ndarray | None = None    # (H, J) optional [rad/s or m/s]

    def __post_init__(self):
        names = tuple(self.joint_names)
        object.__setattr__(self, 'joint_names', names)
        positions = np.asarray(self.positions, dtype=np.float64)
        if positions.ndim != 2 or positions.shape[0] == 0:
            raise ChunkError(f'positions must be (steps, joints) with steps > 0, '
                             f'got shape {positions.shape}')
        if positions.shape[1] != len(names):
            raise ChunkError(f'positions have {positions.shape[1]} joints but '
                             f'{len(names)} joint names')
        if len(set(names)) != len(names):
            raise ChunkError(f'joint names repeat: {list(names)}')
        if not np.isfinite(positions).all():
            raise ChunkError('positions contain NaN or inf')
        if not (np.isfinite(self.dt) and self.dt > 0):
            raise ChunkError(f'dt={self.dt}: must be finite and > 0')
        if not np.isfinite(self.t0):
            raise ChunkError(f't0={self.t0}: must be finite')
        object.__setattr__(self, 'positions', positions)
        if self.velocities is not None:
            velocities = np.asarray(self.velocities, dtype=np.float64)
            if velocities.shape != positions.shape:
                raise ChunkError(f'velocities shape {velocities.shape} != positions shape '
                                 f'{positions.shape}')
            if not np.isfinite(velocities).all():
                raise ChunkError('velocities contain NaN or inf')
            object.__setattr__(self, 'velocities', velocities)

    @property
    def horizon(self) -> int:
        """Return the number of steps."""
        return self.positions.shape[0]

    @property
    def times(self) -> np.ndarray:
        """Absolute time of every step [s], shape (H,)."""
        return self.t0 + self.dt * np.arange(self.horizon)

    @property
    def end_time(self) -> float:
        """Time of the last step [s]."""
        return self.t0 + self.dt * (self.horizon - 1)

    def reordered(self, joint_names: tuple[str, ...] | list[str]) -> 'ActionChunk':
        """Return this chunk with its columns in `joint_names` order (same set required)."""
        joint_names = tuple(joint_names)
        missing = [n for n in joint_names if n not in self.joint_names]
        extra = [n for n in self.joint_names if n not in joint_names]
        if missing or extra:
            raise ChunkError(f'joint names do not match: missing {missing}, unknown {extra}')
        index = [self.joint_names.index(n) for n in joint_names]
        velocities = None if self.velocities is None else self.velocities[:, index]
        return ActionChunk(joint_names, self.t0, self.dt, self.positions[:, index], velocities)
