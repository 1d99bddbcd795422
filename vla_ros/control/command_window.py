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
A short, stamped look-ahead of the commands, for a trajectory controller to interpolate.

A joint_trajectory_controller (JTC) samples the trajectory it holds at its own update times,
so a window of the executor's next commands, stamped with the absolute time of its first point,
is executed at the controller's rate with no repeated or skipped samples, whatever the two
loops' phase. The window starts at the current command and follows the executor's plan
(`ChunkExecutor.planned_positions`: the blended, interpolated chunk, or the stop in progress),
re-limited at the window's point spacing so that no window asks for more than the limits
(a chunk far from the arm is chased within them, as the executor does). Its last point is at
rest: a stock JTC (``allow_nonzero_velocity_at_trajectory_end: false``) accepts it, and a
controller that gets no further window stops there. Numpy only.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from vla_ros.control.limits import CommandLimiter


class CommandWindow(NamedTuple):
    """Points ``t0 + k * dt``, k = 0..N: positions and velocities (N + 1, J), command order."""

    t0: float               # absolute time of point 0, the current command [s]
    dt: float               # spacing of the points [s]
    positions: np.ndarray   # (N + 1, J) [rad or m]
    velocities: np.ndarray  # (N + 1, J) [rad/s or m/s]; the last row is zero


class WindowBuilder:
    """Samples windows of `window_s` at `dt` from an executor's plan, within its limits."""

    def __init__(self, window_s: float, dt: float):
        """Windows reach `window_s` ahead with points every `dt` (at least two segments)."""
        if not (math.isfinite(dt) and dt > 0 and math.isfinite(window_s) and window_s >= dt):
            raise ValueError(f'window_s={window_s}, dt={dt}: need 0 < dt <= window_s')
        self.dt = float(dt)
        self.segments = max(2, int(math.ceil(window_s / dt - 1e-9)))
        self._limiter: CommandLimiter | None = None

    def build(self, executor, t0: float, positions, velocities) -> CommandWindow | None:
        """
        Return the window from the command (`positions`, `velocities`) sent at `t0`.

        `executor` is the `ChunkExecutor` that sent it; None before its first command.
        """
        offsets = self.dt * np.arange(self.segments + 1)
        targets = executor.planned_positions(t0 + offsets)
        if targets is None:
            return None
        limiter = self._limiter
        if limiter is None or limiter.limits is not executor.limiter.limits:
            limiter = self._limiter = CommandLimiter(executor.limiter.limits, self.dt)
        p = np.array(positions, dtype=np.float64)
        v = np.array(velocities, dtype=np.float64)
        out = np.empty_like(targets)
        out[0] = p
        target_v = np.gradient(targets, self.dt, axis=0)
        for k in range(1, len(targets)):
            p, v = limiter.track(targets[k], target_v[k], p, v)
            out[k] = p
        vel = np.empty_like(out)
        vel[0] = velocities
        vel[1:-1] = (out[2:] - out[:-2]) / (2.0 * self.dt)
        vel[-1] = 0.0
        return CommandWindow(float(t0), self.dt, out, vel)
