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
Flow matching (Lipman et al., arXiv 2210.02747) with the pi0/SmolVLA time convention.

Time runs from noise at t = 1 to data at t = 0: ``x_t = t * noise + (1 - t) * actions`` and
the model learns the velocity ``u = dx_t/dt = noise - actions``. All functions are stateless.
"""

from __future__ import annotations

from typing import Callable

import torch


def sample_time(batch_size: int, device: torch.device | str = 'cpu',
                generator: torch.Generator | None = None) -> torch.Tensor:
    """Training times (B,) ~ Beta(1.5, 1) * 0.999 + 0.001: more weight near t = 1 (noise)."""
    # Beta(a, 1) has CDF t^a, so the inverse CDF of a uniform sample draws it.
    u = torch.rand(batch_size, generator=generator, dtype=torch.float32)
    return (u.pow(1.0 / 1.5) * 0.999 + 0.001).to(device)


def interpolate(actions: torch.Tensor, noise: torch.Tensor,
                time: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """
    Return (x_t, target velocity u) for actions/noise (B, H, A) and time (B,) or (B, H).

    A per-step time (B, H) gives each action its own noise level (training-time RTC).
    """
    t = time.reshape(time.shape + (1,) * (actions.ndim - time.ndim))    # (B, 1, 1) or (B, H, 1)
    return t * noise + (1 - t) * actions, noise - actions


def euler_sample(velocity: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                 noise: torch.Tensor, num_steps: int) -> torch.Tensor:
    """
    Integrate dx/dt = velocity(x_t, t) from t = 1 (noise) to t = 0 (actions) by Euler.

    Convention: ``dt = -1 / num_steps``; step k evaluates the velocity at
    ``t = 1 + k * dt`` (a float32 tensor (B,)) and updates ``x <- x + dt * v``. `noise` is
    x at t = 1, shape (B, ...); the result is x at t = 0, same shape and dtype.
    """
    if num_steps <= 0:
        raise ValueError(f'num_steps={num_steps}: must be > 0')
    dt = -1.0 / num_steps
    x = noise
    for step in range(num_steps):
        t = torch.full((noise.shape[0],), 1.0 + step * dt, dtype=torch.float32,
                       device=noise.device)
        x = x + dt * velocity(x, t)
    return x
