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
How a new chunk takes over from the trajectory being executed.

Blending happens on the new chunk's action steps (knots), before interpolation, so the executed
trajectory stays one piecewise polynomial and a control tick evaluates only one of them. The
weight ``w`` of the new chunk at each knot is:

- ``replace``: 1. The new chunk alone; what a Real-Time-Chunking policy wants, since its chunk
  already agrees with what is executing during the inference delay.
- ``crossfade``: 0 -> 1 over ``crossfade_s`` from the switch, along the quintic smoothstep
  ``6x^5 - 15x^4 + 10x^3``, whose first and second derivatives vanish at both ends, so the
  blend adds no velocity or acceleration step. The window is shortened to end where the old
  trajectory does.
- ``weighted_average``: LeRobot's async aggregation: ``1 - old_chunk_weight`` where the old
  trajectory still has actions, 1 after.
"""

from __future__ import annotations

import numpy as np

BLEND_MODES = ('replace', 'crossfade', 'weighted_average')


def new_chunk_weight(mode: str, times: np.ndarray, t_switch: float, old_end: float,
                     crossfade_s: float, old_chunk_weight: float
                     ) -> tuple[np.ndarray, np.ndarray]:
    """
    Weight of the new chunk at `times` and its time derivative, both (M,).

    `old_end` is the time the old trajectory runs out (``-inf`` when there is none).
    """
    times = np.asarray(times, dtype=np.float64)
    ones, zeros = np.ones_like(times), np.zeros_like(times)
    if mode == 'replace' or old_end <= t_switch:
        return ones, zeros
    if mode == 'weighted_average':
        return np.where(times <= old_end, 1.0 - old_chunk_weight, 1.0), zeros
    if mode == 'crossfade':
        window = min(crossfade_s, old_end - t_switch)
        if window <= 0 or (times.size and times.min() - t_switch >= window):
            return ones, zeros      # over before the first knot (and no 1 / tiny window)
        x = np.clip((times - t_switch) / window, 0.0, 1.0)
        w = x**3 * (10.0 - 15.0 * x + 6.0 * x**2)
        dw = 30.0 * x**2 * (1.0 - x) ** 2 / window
        return w, dw
    raise ValueError(f'blend_mode={mode!r}: must be one of {", ".join(BLEND_MODES)}')


def blend(old_p: np.ndarray, old_v: np.ndarray, new_p: np.ndarray, new_v: np.ndarray | None,
          w: np.ndarray, dw: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """
    Mix positions (M, J) with per-row weights; velocities too when the chunk has them.

    The velocity of ``(1 - w) old + w new`` includes ``dw (new - old)``: the crossfade itself
    moves the arm, and dropping that term would make the knot velocities disagree with the
    knot positions.
    """
    w2, dw2 = w[:, None], dw[:, None]
    p = old_p + w2 * (new_p - old_p)
    if new_v is None:
        return p, None
    return p, old_v + w2 * (new_v - old_v) + dw2 * (new_p - old_p)
