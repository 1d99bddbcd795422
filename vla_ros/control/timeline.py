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
The absolute timeline: a chunk's step k belongs to ``t0 + k * dt``, whenever it arrives.

A chunk reaches the executor after the inference delay, so its first steps lie in the past;
they are skipped, never replayed (latency compensation). What is left is joined to the command
being executed: the plan starts at the last command's time, position, velocity and
acceleration, so every switch is continuous by construction, and then runs through the
chunk's remaining steps, blended with the old plan where the mode asks for it.
"""

from __future__ import annotations

import math

import numpy as np

from vla_ros.control.action_chunk import ActionChunk
from vla_ros.control.blending import blend, new_chunk_weight
from vla_ros.control.interpolation import PiecewisePolynomial

# The first segment of a plan (switch -> first step aimed for) is at least this many chunk
# steps long.
MIN_FIRST_SEGMENT = 1e-6


def first_future_step(chunk: ActionChunk, t_switch: float) -> int:
    """
    Index of the first step far enough after `t_switch` to aim for; H if none.

    A step less than half a chunk step after the switch is skipped: joining the current command
    to it would need an arbitrarily short, steep first segment.
    """
    k = math.floor((t_switch - chunk.t0) / chunk.dt + 0.5) + 1
    k = max(k, 0)
    if k >= chunk.horizon and chunk.end_time > t_switch:
        return chunk.horizon - 1    # only the last step is still ahead: aim for it
    return min(k, chunk.horizon)


def remaining_steps(chunk: ActionChunk | None, now: float) -> int:
    """Return the number of the chunk's steps still in the future at `now`."""
    if chunk is None:
        return 0
    passed = math.floor((now - chunk.t0) / chunk.dt) + 1
    return int(min(max(chunk.horizon - passed, 0), chunk.horizon))


def build_plan(chunk: ActionChunk, t_switch: float, p_start: np.ndarray, v_start: np.ndarray,
               a_start: np.ndarray, old: PiecewisePolynomial | None, *, mode: str,
               order: int, crossfade_s: float, old_chunk_weight: float
               ) -> PiecewisePolynomial | None:
    """
    Plan from the command at `t_switch` through the chunk's future steps; None if none.

    `old` is the plan being executed (None when the arm is starting, stopping or holding):
    the blend modes mix the chunk with it where both cover the same time.
    """
    k = first_future_step(chunk, t_switch)
    if k >= chunk.horizon or chunk.t0 + chunk.dt * k - t_switch < MIN_FIRST_SEGMENT * chunk.dt:
        # Nothing ahead, or only a last step so close that the segment to it would be steeper
        # than floating point can express (its coefficients go as 1 / h0^5).
        return None
    times = chunk.t0 + chunk.dt * np.arange(k, chunk.horizon)
    new_p = chunk.positions[k:]
    new_v = None if chunk.velocities is None else chunk.velocities[k:]
    if old is not None and old.end_time > t_switch:
        w, dw = new_chunk_weight(mode, times, t_switch, old.end_time, crossfade_s,
                                 old_chunk_weight)
        if (w < 1.0).any():
            old_p, old_v = old.sample(times)
            new_p, new_v = blend(old_p, old_v, new_p, new_v, w, dw)
    positions = np.vstack((p_start[None], new_p))
    velocities = None if new_v is None else np.vstack((v_start[None], new_v))
    h0 = times[0] - t_switch
    return PiecewisePolynomial.through(t_switch, h0, chunk.dt, positions, order, v_start,
                                       a_start, velocities)
