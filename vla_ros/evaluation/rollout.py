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
One closed-loop episode: simulation, policy and chunk executor, asynchronous in sim time.

The loop reproduces what the ROS graph does, with time simulated instead of waited for:

* the executor ticks at ``control_rate_hz`` and its command drives the simulated arm;
* when the executor's remaining horizon falls below ``trigger_horizon_s`` (or it has nothing)
  the policy is given the current observation; its chunk is stamped with the observation time
  but reaches the executor only ``inference_delay_s`` later, and the arm keeps executing the
  previous chunk in the meantime, exactly as with a real, slow policy;
* the delay is the measured wall-clock latency of that inference, or a fixed parameter, so an
  evaluation on a busy machine can still model a given deployment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import logging
import time

import numpy as np

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RolloutSettings:
    """How the policy is scheduled during a rollout."""

    trigger_horizon_s: float = 0.5   # infer when less than this is left to execute [s]
    inference_delay_s: float = -1.0  # chunk latency in sim time; < 0: measured wall time [s]
    episode_time_s: float = 20.0     # fail the episode after this [s]
    frame_period_s: float = 0.1      # period of recorded video frames; 0: none [s]
    trace: bool = False              # keep commanded / measured joints for plotting

    def __post_init__(self):
        if not self.trigger_horizon_s >= 0:
            raise ValueError(f'trigger_horizon_s={self.trigger_horizon_s}: must be >= 0')
        if not self.episode_time_s > 0:
            raise ValueError(f'episode_time_s={self.episode_time_s}: must be > 0')
        if not self.frame_period_s >= 0:
            raise ValueError(f'frame_period_s={self.frame_period_s}: must be >= 0')


@dataclass
class EpisodeResult:
    """Outcome and traces of one rollout."""

    seed: int
    task: str
    instruction: str
    success: bool
    duration_s: float                       # sim time until success or timeout [s]
    inferences: int
    latencies_s: list[float] = field(default_factory=list)     # wall time per inference
    frames: list[np.ndarray] = field(default_factory=list)     # (H, W, 3) uint8
    times: list[float] = field(default_factory=list)            # trace sample times [s]
    commanded: list[np.ndarray] = field(default_factory=list)   # (J,) executor output
    measured: list[np.ndarray] = field(default_factory=list)    # (J,) joint positions


def run_episode(env, policy, executor, seed: int, task: str | None = None,
                settings: RolloutSettings = RolloutSettings(),
                control_rate_hz: float = 100.0) -> EpisodeResult:
    """
    Run one episode of `env` (an ``ArmEnv``) under `policy` through `executor`.

    `executor` is a fresh ``ChunkExecutor``; it is ticked every ``1 / control_rate_hz`` of sim
    time with the measured joint positions, and its command is sent to the arm. The
    flow-matching noise is seeded from `seed`, so an episode's only run-to-run variation is
    the measured inference latency (none with a fixed ``settings.inference_delay_s``).
    """
    import torch

    from vla_ros.policy import Observation

    torch.manual_seed(seed)
    obs = env.reset(seed=seed, task=task)
    dt = 1.0 / control_rate_hz
    now = float(obs.time)
    start = now
    result = EpisodeResult(seed=seed, task=env.task, success=False,
                           instruction=obs.instruction, duration_s=0.0, inferences=0)
    pending = None            # (chunk, time it reaches the executor)
    next_frame = now
    while now - start < settings.episode_time_s:
        if pending is not None and now >= pending[1] - 1e-9:
            executor.submit(pending[0], now)
            pending = None
        if pending is None and _wants_chunk(executor, now, settings.trigger_horizon_s):
            obs = env.observe()
            wall = time.perf_counter()
            chunk = policy.predict_chunk(Observation(
                images=obs.images, state=np.asarray(obs.state), instruction=obs.instruction,
                stamp=float(obs.time)))
            latency = time.perf_counter() - wall
            result.latencies_s.append(latency)
            result.inferences += 1
            delay = latency if settings.inference_delay_s < 0 else settings.inference_delay_s
            pending = (chunk, float(obs.time) + delay)
        measured = env.joint_positions()
        command = executor.tick(now, measured)
        command = None if command is None else command.positions
        if command is not None:
            env.set_command(command)
        if settings.trace:
            result.times.append(now - start)
            result.measured.append(measured.copy())
            result.commanded.append(np.full_like(measured, np.nan) if command is None
                                    else np.asarray(command, dtype=np.float64).copy())
        if settings.frame_period_s and now >= next_frame - 1e-9:
            result.frames.append(_frame(env))
            next_frame += settings.frame_period_s
        env.advance(dt)
        # The sim's clock, not a running sum: advance rounds to whole physics steps.
        now = env.time
        if env.success():
            result.success = True
            break
    result.duration_s = now - start
    if settings.frame_period_s:
        result.frames.append(_frame(env))
    return result


def _wants_chunk(executor, now: float, trigger_horizon_s: float) -> bool:
    # Also true while a chunk is queued but not started, so only pending guards re-entry.
    return executor.remaining_horizon(now).seconds < trigger_horizon_s


def _frame(env) -> np.ndarray:
    """All cameras side by side, as one uint8 image."""
    images = env.observe().images
    return np.concatenate([np.asarray(images[name]) for name in sorted(images)], axis=1)
