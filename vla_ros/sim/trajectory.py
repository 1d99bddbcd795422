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
Smooth joint trajectories: minimum-jerk segments, densely sampled, spline-interpolated.

The expert plans in segments that start and end at rest; each follows the minimum-jerk time
law (Flash & Hogan 1985), s(u) = 10u^3 - 15u^4 + 6u^5, so velocity and acceleration are zero
at both ends. A `SampledTrajectory` holds the joint targets sampled along the whole plan and is
read at any time by a cubic spline, so a recorder can sample it at 10 Hz and a controller at
500 Hz and see the same motion.
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import CubicSpline


def minimum_jerk(u: np.ndarray | float) -> np.ndarray | float:
    """Progress in [0, 1] at normalized time `u` in [0, 1] (clipped) of a rest-to-rest move."""
    u = np.clip(u, 0.0, 1.0)
    return u ** 3 * (10.0 - 15.0 * u + 6.0 * u ** 2)


class SampledTrajectory:
    """
    Joint targets (T, J) at strictly increasing times (T,) [s], read by cubic spline.

    Times outside the sampled span return the first or last sample (the arm holds still).
    """

    def __init__(self, times_s: np.ndarray, positions: np.ndarray):
        times_s = np.asarray(times_s, dtype=np.float64)
        positions = np.asarray(positions, dtype=np.float64)
        if times_s.ndim != 1 or positions.shape[:1] != times_s.shape or len(times_s) < 2:
            raise ValueError(f'times {times_s.shape} and positions {positions.shape}: need '
                             f'(T,) and (T, J) with T >= 2')
        if np.any(np.diff(times_s) <= 0):
            raise ValueError('times_s: must be strictly increasing')
        self.times_s = times_s
        self.positions = positions
        # 'clamped': zero end velocities, which the rest-to-rest segments have anyway.
        self._spline = CubicSpline(times_s, positions, axis=0, bc_type='clamped')

    @property
    def duration_s(self) -> float:
        """Time of the last sample [s]."""
        return float(self.times_s[-1])

    def __call__(self, t_s: float | np.ndarray) -> np.ndarray:
        """Joint targets at time(s) `t_s`: (J,) for a scalar, (N, J) for an array."""
        return self._spline(np.clip(t_s, self.times_s[0], self.times_s[-1]))

    def velocity(self, t_s: float | np.ndarray) -> np.ndarray:
        """Joint velocities at time(s) `t_s` [unit/s]."""
        # The clamped ends make this zero outside the span, where the targets hold still.
        return self._spline(np.clip(t_s, self.times_s[0], self.times_s[-1]), 1)

    def acceleration(self, t_s: float | np.ndarray) -> np.ndarray:
        """Joint accelerations at time(s) `t_s` [unit/s^2]."""
        return self._spline(np.clip(t_s, self.times_s[0], self.times_s[-1]), 2)
