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
Real-Time Chunking: sample the next chunk as an inpainting of the one still executing.

While the policy infers for ``d`` control steps the robot keeps executing the previous chunk,
so the first ``d`` actions of the new chunk are already decided. Three ways to honour that:

- ``'lerobot'`` and ``'vjp'`` (Black, Galliker, Levine 2025, arXiv 2506.07339, eq. 5-7): guide
  the velocity towards the previous chunk ``Y`` with prefix weights ``W`` (1 on the delay,
  decaying over the overlap, 0 from the execution horizon on). In this repo's convention
  (noise at t = 1, data at t = 0, ``x_t = t * noise + (1 - t) * a``, ``v = noise - a``):

      a_hat = x_t - t * v(x_t)                           the denoised estimate
      e     = W * (Y - a_hat)
      g     = e^T d a_hat / d x_t                        'vjp': ΠGDM, one backward pass
            = e                                          'lerobot': the Jacobian taken as I
      v'    = v - min(beta, (t^2 + (1 - t)^2) / (t (1 - t))) * g

  ``'lerobot'`` is what LeRobot 0.6.1's ``RTCProcessor.denoise_step`` computes (its autograd
  call differentiates ``x_t - t * v`` with ``v`` detached); ``'vjp'`` differentiates through the
  action expert (the prefix key/value cache is a constant).
- ``'trained'`` (Black et al. 2025, arXiv 2512.05964): a policy trained with the first ``d``
  actions given clean (flow time 0, no loss) is sampled with those actions fixed to ``Y`` at
  flow time 0 at every step; no guidance term, no extra cost.

Everything here is stateless: `rtc_sample` wraps `euler_sample` around a velocity function.
"""

from __future__ import annotations

from dataclasses import dataclass
import math
import numbers
from typing import Callable

import torch

from vla_ros.model.flow_matching import euler_sample

SCHEDULES = ('zeros', 'ones', 'linear', 'exp')
GUIDANCES = ('lerobot', 'vjp', 'trained')

Velocity = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class RTCConfig:
    """
    How `SmolVLA.sample_actions` continues a previous chunk; LeRobot's names and defaults.

    ``schedule``: prefix weights over the chunk (`prefix_weights`). ``max_guidance_weight``:
    the clip ``beta`` of the guidance weight. ``execution_horizon``: steps of the new chunk
    guided towards the previous one (weights are 0 from there on; LeRobot clips it to the
    previous chunk's length). ``guidance``: ``'lerobot'``, ``'vjp'`` or ``'trained'`` (see
    the module docstring). ``'trained'`` uses neither schedule nor weight nor horizon.
    """

    schedule: str = 'linear'
    max_guidance_weight: float = 10.0
    execution_horizon: int = 10
    guidance: str = 'lerobot'

    def __post_init__(self):
        if self.schedule not in SCHEDULES:
            raise ValueError(f'rtc.schedule={self.schedule!r}: must be one of '
                             + ', '.join(SCHEDULES))
        if self.guidance not in GUIDANCES:
            raise ValueError(f'rtc.guidance={self.guidance!r}: must be one of '
                             + ', '.join(GUIDANCES))
        weight = self.max_guidance_weight
        if (isinstance(weight, bool) or not isinstance(weight, numbers.Real)
                or not math.isfinite(weight) or weight <= 0):
            raise ValueError(f'rtc.max_guidance_weight={weight!r}: must be a finite number > 0')
        horizon = self.execution_horizon
        if isinstance(horizon, bool) or not isinstance(horizon, numbers.Integral) or horizon < 1:
            raise ValueError(f'rtc.execution_horizon={horizon!r}: must be an integer >= 1')


def prefix_weights(delay: int, horizon: int, chunk_size: int, schedule: str) -> torch.Tensor:
    """
    Guidance weights (chunk_size,) float32 over the new chunk, as LeRobot 0.6.1 defines them.

    With ``s = min(delay, horizon)`` and ``e = min(horizon, chunk_size)``: ``zeros`` is 1 on
    [0, s); ``ones`` is 1 on [0, horizon); ``linear`` is 1 on [0, s), then steps down from 1
    to 0 (exclusive at both ends) over [s, e); ``exp`` is that ramp r mapped to
    r (e^r - 1) / (e - 1). Everything else is 0.
    """
    start, end = min(delay, horizon), min(horizon, chunk_size)
    weights = torch.zeros(chunk_size)
    if schedule == 'ones':
        weights[:end] = 1.0
        return weights
    weights[:start] = 1.0
    if schedule in ('linear', 'exp') and end > start:
        ramp = torch.linspace(1.0, 0.0, end - start + 2)[1:-1]
        if schedule == 'exp':
            ramp = ramp * (torch.expm1(ramp) / (math.e - 1))
        weights[start:end] = ramp
    return weights


def guidance_weight(time: torch.Tensor, max_weight: float) -> torch.Tensor:
    """
    ΠGDM's weight min(beta, (1 - tau) / tau / r^2) at flow times (B,), here with tau = 1 - t.

    ``r^2 = (1 - tau)^2 / ((1 - tau)^2 + tau^2)`` is the paper's variance; at t = 1 (pure
    noise) the quotient is infinite and the clip applies, as in LeRobot.
    """
    t = time.float()
    ratio = (t.square() + (1 - t).square()) / (t * (1 - t))
    return ratio.clamp(max=max_weight)                               # (B,)


def check_rtc_arguments(prev_chunk: torch.Tensor, inference_delay: int, rtc: RTCConfig,
                        chunk_size: int, max_action_dim: int, batch_size: int) -> None:
    """
    Raise ValueError naming the argument, its value and the rule when RTC cannot run.

    `prev_chunk` must be (B, T_prev, A) with 1 <= T_prev <= chunk_size, A <= max_action_dim,
    finite; `inference_delay` an integer >= 0; a guided variant's execution horizon at most
    the chunk.
    """
    if not isinstance(rtc, RTCConfig):
        raise ValueError(f'rtc={rtc!r}: must be an RTCConfig or None')
    if not isinstance(prev_chunk, torch.Tensor):
        raise ValueError(f'prev_chunk={type(prev_chunk).__name__}: must be a torch.Tensor')
    shape = tuple(prev_chunk.shape)
    if (len(shape) != 3 or shape[0] != batch_size or not 1 <= shape[1] <= chunk_size
            or not 1 <= shape[2] <= max_action_dim):
        raise ValueError(
            f'prev_chunk.shape={shape}: must be (B={batch_size}, T_prev in [1, '
            f'chunk_size={chunk_size}], A in [1, max_action_dim={max_action_dim}])')
    if not prev_chunk.is_floating_point() or not bool(torch.isfinite(prev_chunk).all()):
        raise ValueError(f'prev_chunk (dtype {prev_chunk.dtype}): must be floating point '
                         'and finite (no NaN or inf)')
    if (isinstance(inference_delay, bool) or not isinstance(inference_delay, numbers.Integral)
            or inference_delay < 0):
        raise ValueError(f'inference_delay={inference_delay!r}: must be an integer >= 0')
    if rtc.guidance != 'trained' and rtc.execution_horizon > chunk_size:
        raise ValueError(f'rtc.execution_horizon={rtc.execution_horizon}: must be <= '
                         f'chunk_size={chunk_size}')


def pad_prev_chunk(prev_chunk: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Zero-pad (B, T_prev, A) at the end of time and action axes to `like`'s (B, T, A)."""
    padded = torch.zeros_like(like, dtype=torch.float32)
    padded[:, :prev_chunk.shape[1], :prev_chunk.shape[2]] = prev_chunk
    return padded


def rtc_sample(velocity: Velocity, noise: torch.Tensor, num_steps: int,
               prev_chunk: torch.Tensor, inference_delay: int, rtc: RTCConfig) -> torch.Tensor:
    """
    Euler-sample a chunk (B, T, A) that continues `prev_chunk`; arguments already checked.

    `velocity(x, t)` is the flow at x (B, T, A) and times t (B,) or, for ``'trained'``,
    (B, T); `noise` is x at t = 1. `prev_chunk` (B, T_prev, A') is zero-padded to (B, T, A)
    as LeRobot pads it; its length also bounds the execution horizon and the frozen prefix.
    """
    prev = pad_prev_chunk(prev_chunk.to(noise.device, torch.float32), noise)   # (B, T, A)
    n_prev, chunk_size = prev_chunk.shape[1], noise.shape[1]
    if rtc.guidance == 'trained':
        frozen = min(inference_delay, n_prev, chunk_size)
        if frozen == 0:
            return euler_sample(velocity, noise, num_steps)
        is_prefix = torch.arange(chunk_size, device=noise.device) < frozen           # (T,)

        def clamped_velocity(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            # The prefix is clean data (time 0) and, with zero velocity, stays Y exactly.
            times = torch.where(is_prefix, torch.zeros_like(t)[:, None], t[:, None])  # (B, T)
            return velocity(x, times).masked_fill(is_prefix[None, :, None], 0.0)

        start = torch.where(is_prefix[None, :, None], prev, noise)
        return euler_sample(clamped_velocity, start, num_steps)

    horizon = min(rtc.execution_horizon, n_prev)
    weights = prefix_weights(inference_delay, horizon, chunk_size, rtc.schedule)
    weights = weights.to(noise.device)[None, :, None]                                  # (1, T, 1)
    through_model = rtc.guidance == 'vjp'

    def guided_velocity(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        tt = t[:, None, None]
        if through_model:
            # ΠGDM (2506.07339, eq. 6): e^T (I - t dv/dx), one backward through the expert.
            with torch.enable_grad():
                x_in = x.detach().requires_grad_(True)
                v = velocity(x_in, t)
                denoised = x_in - tt * v
                error = ((prev - denoised) * weights).detach()
                correction, = torch.autograd.grad(denoised, x_in, error)
            v = v.detach()
        else:
            v = velocity(x, t)
            correction = (prev - (x - tt * v)) * weights
        return v - guidance_weight(t, rtc.max_guidance_weight)[:, None, None] * correction

    return euler_sample(guided_velocity, noise, num_steps)


def training_prefix(delay: torch.Tensor, chunk_size: int) -> torch.Tensor:
    """
    Training-time RTC mask (B, chunk_size): true on each sample's first ``delay[b]`` steps.

    `delay` (B,) integers in [0, chunk_size); raises ValueError naming ``rtc_delay`` if not.
    """
    if (delay.ndim != 1 or delay.is_floating_point() or delay.dtype == torch.bool
            or (delay.numel() and not 0 <= int(delay.min()) <= int(delay.max()) < chunk_size)):
        raise ValueError(f'rtc_delay={delay.tolist()!r} (dtype {delay.dtype}): must be (B,) '
                         f'integers in [0, chunk_size={chunk_size})')
    return torch.arange(chunk_size, device=delay.device)[None, :] < delay[:, None]
