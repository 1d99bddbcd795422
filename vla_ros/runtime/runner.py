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
The policy side of the runtime: latest inputs -> trigger -> inference -> chunk, without ROS.

`PolicyRunner` owns everything the policy node decides: the observation rules
(`ObservationAssembler`), when to infer (`InferenceTrigger`), the inference itself, the chunk in
the robot's joint order anchored at the observation stamp, and the running numbers
(`InferenceStats`). The node feeds it messages and publishes what `infer` returns; the
in-process loop (`vla_ros.evaluation.rollout`) feeds it the simulator's sensors on sim time
and hands the chunk to the executor after the inference delay. One inference is in flight at a
time: a trigger claims the slot, `complete` releases it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
import time
import traceback
from typing import Any, Callable

import numpy as np

from vla_ros.control.action_chunk import ActionChunk, ChunkError
from vla_ros.messages.trajectory import robot_order
from vla_ros.policy.interface import InvalidDecode, Observation, RTCInputError, VLAPolicy
from vla_ros.runtime.observation import ObservationAssembler, Refusal, slot_mapping
from vla_ros.runtime.observation import WarningThrottle
from vla_ros.runtime.stats import InferenceStats
from vla_ros.runtime.trigger import InferenceTrigger


@dataclass
class Inference:
    """The outcome of one inference attempt."""

    source: str                             # horizon, rate, service, ...
    chunk: ActionChunk | None = None        # robot joint order; None: refused or failed
    observation: Observation | None = None
    latency_s: float = 0.0                  # policy time [s]
    rtc: str = ''                           # real-time chunking: '', applied, no plan, fallback
    delay_s: float = 0.0                    # the frozen prefix it assumed (RTC) [s]
    message: str = ''                       # one line for the log
    level: str = 'info'                     # log level of `message`: info, warn, error
    detail: str = ''                        # traceback, for debug logging


def identity(payload: Any) -> Any:
    """Decode nothing: the payload already is an RGB array (simulation)."""
    return payload


class PolicyRunner:
    """A loaded `VLAPolicy` and the rules that decide when and on what it runs."""

    def __init__(self, policy: VLAPolicy, cfg, decode: Callable[[Any], Any] = identity):
        """Wire `policy` with a `PolicyNodeConfig`; `decode` turns a stored frame into RGB."""
        self.policy = policy
        self.cfg = cfg
        self.decode = decode
        self.camera_topics = slot_mapping(cfg.camera_topics, cfg.camera_slots,
                                          policy.camera_names)
        self.inputs = ObservationAssembler(self.camera_topics.values(), policy.state_names,
                                           cfg.max_obs_age_s, cfg.max_sync_skew_s,
                                           cfg.instruction)
        self.trigger = InferenceTrigger(cfg.trigger, cfg.trigger_horizon_s, cfg.horizon_rearm_s)
        self.stats = InferenceStats()
        self.throttle = WarningThrottle(cfg.warn_period_s)
        self._plan: ActionChunk | None = None
        if cfg.num_steps:
            policy.set_num_steps(cfg.num_steps)
        self._set_rtc(cfg)

    def _set_rtc(self, cfg) -> None:
        self.policy.set_rtc(cfg.rtc_guidance, cfg.rtc_schedule, cfg.rtc_max_guidance_weight,
                            cfg.rtc_execution_horizon)

    @classmethod
    def load(cls, cfg, decode: Callable[[Any], Any] = identity,
             log: Callable[[str], None] = lambda text: None) -> 'PolicyRunner':
        """Load ``cfg.checkpoint_path`` (empty: the shipped demo policy); warm up if asked."""
        from vla_ros.policy.registry import find_shipped_model, load_policy

        path = cfg.checkpoint_path or str(find_shipped_model())
        if cfg.num_threads:
            import torch
            torch.set_num_threads(cfg.num_threads)
        overrides = {}
        if cfg.joint_names:
            overrides['joint_names'] = tuple(cfg.joint_names)
        if cfg.action_mode:
            overrides['action_mode'] = cfg.action_mode
        policy = load_policy(path, device=cfg.device, dtype=cfg.dtype, **overrides)
        runner = cls(policy, cfg, decode)
        log(f'loaded {path} ({policy.format_name}) on {cfg.device} ({cfg.dtype}): cameras '
            f'{list(policy.camera_names)}, joints {list(policy.joint_names)}')
        if cfg.warmup:
            log(f'warm-up inference took {policy.warm_up(cfg.instruction):.2f} s')
        return runner

    @property
    def camera_names(self) -> tuple[str, ...]:
        """Return the model's camera slots, in its order."""
        return tuple(self.policy.camera_names)

    @property
    def joint_names(self) -> tuple[str, ...]:
        """Return the action joints (robot names), in the model's order."""
        return tuple(self.policy.joint_names)

    @property
    def state_names(self) -> tuple[str, ...]:
        """Return the joints whose positions form the state vector, in the model's order."""
        return tuple(self.policy.state_names)

    # ---- configuration at run time -----------------------------------------------------------
    def apply(self, cfg) -> None:
        """Take a validated new `PolicyNodeConfig` whose read-only fields are unchanged."""
        self.inputs.max_obs_age_s = cfg.max_obs_age_s
        self.inputs.max_sync_skew_s = cfg.max_sync_skew_s
        if cfg.instruction != self.cfg.instruction:
            self.inputs.set_instruction(cfg.instruction)
        self.trigger.mode = cfg.trigger
        self.trigger.trigger_horizon_s = cfg.trigger_horizon_s
        self.trigger.rearm_s = cfg.horizon_rearm_s
        self.throttle.period_s = cfg.warn_period_s
        if cfg.num_steps != self.cfg.num_steps and cfg.num_steps:
            self.policy.set_num_steps(cfg.num_steps)
        rtc = ('rtc_guidance', 'rtc_schedule', 'rtc_max_guidance_weight', 'rtc_execution_horizon')
        if any(getattr(cfg, name) != getattr(self.cfg, name) for name in rtc):
            self._set_rtc(cfg)
        self.cfg = cfg

    def reset(self) -> None:
        """Forget the inputs, the executor's plan and the last publish: the world was reset."""
        self.inputs.clear()
        self.trigger.reset()
        self._plan = None

    # ---- real-time chunking ------------------------------------------------------------------
    def set_plan(self, plan: ActionChunk | None) -> None:
        """Store the executor's latest plan: what it will command if no chunk arrives."""
        self._plan = plan

    def previous_chunk(self, obs: Observation) -> ActionChunk | None:
        """
        Return the executor's plan on the policy's action grid from `obs`, policy joints.

        Step k is the plan at ``obs.stamp + k * action_dt_s`` (linear between its samples,
        its first sample before it); the steps after the plan's end are left out, since it
        holds there. None without a plan that covers every joint of the policy and at least
        one step.
        """
        plan = self._plan
        if plan is None or any(j not in plan.joint_names for j in self.joint_names):
            return None
        plan = plan.reordered([*self.joint_names, *(j for j in plan.joint_names
                                                    if j not in self.joint_names)])
        times = obs.stamp + self.policy.action_dt_s * np.arange(self.policy.horizon)
        times = times[times <= plan.end_time + 1e-9]
        if not len(times):
            return None
        positions = np.stack([np.interp(times, plan.times, plan.positions[:, j])
                              for j in range(len(self.joint_names))], axis=1)
        return ActionChunk(self.joint_names, obs.stamp, self.policy.action_dt_s, positions)

    def delay_estimate_s(self, obs: Observation) -> float:
        """Observation age plus the ``rtc_delay_percentile`` of recent latencies [s]."""
        latency = self.stats.latency_percentile_s(self.cfg.rtc_delay_percentile)
        return obs.age_s + (0.0 if np.isnan(latency) else latency)

    # ---- one inference -----------------------------------------------------------------------
    def infer(self, now_s: float, source: str, **policy_kwargs: Any) -> Inference:
        """
        Assemble the observation at `now_s` and run the policy on it; never raises.

        A refused observation is counted per cause (`Inference.message` is set only when the
        throttle lets a warning through); a failed inference is counted with its message, and
        where it was raised; an autoregressive decode that is not one whole chunk
        (`InvalidDecode`) is counted as such (``invalid_decodes``, part of ``model_errors``)
        with a throttled warning. Either way ``chunk`` is None. The caller publishes
        ``chunk`` and then calls `complete`.
        """
        result = Inference(source)
        try:
            obs = self.inputs.assemble(now_s, self.decode)
            result.observation = obs
            start = time.perf_counter()
            result.chunk = self._predict_with_rtc(obs, result, policy_kwargs)
            result.latency_s = time.perf_counter() - start
            if not result.message:
                result.message = (f'{source}: chunk of {result.chunk.horizon} steps in '
                                  f'{1e3 * result.latency_s:.0f} ms')
        except Refusal as refusal:
            self.stats.record_drop(refusal.cause)
            text = f'observation refused ({refusal.cause}): {refusal}'
            if self.throttle.allow(refusal.cause, now_s):
                result.message, result.level = text, 'warn'
        except InvalidDecode as exc:
            # The model ran but said nothing usable: no chunk, never a padded or zero one.
            self.stats.record_invalid_decode(f'{type(exc).__name__}: {exc}')
            if self.throttle.allow('invalid_decode', now_s):
                result.message = f'invalid decode, no chunk published: {exc}'
                result.level = 'warn'
            result.chunk = None
        except Exception as exc:  # noqa: BLE001 - a model failure must not stop the runtime
            text = f'{type(exc).__name__}: {exc}'
            self.stats.record_error(text)
            # Where it was raised, so a model error can be told from bad input at a glance.
            where = traceback.extract_tb(exc.__traceback__)[-1]
            result.message = (f'inference failed, no chunk published: {text} (at '
                              f'{Path(where.filename).name}:{where.lineno} in {where.name})')
            result.level = 'error'
            result.detail = ''.join(traceback.format_exception(exc))
            result.chunk = None
        return result

    def _predict_with_rtc(self, obs: Observation, result: Inference,
                          policy_kwargs: dict) -> ActionChunk:
        if not self.cfg.rtc_guidance or 'prev_chunk' in policy_kwargs:
            return self.predict(obs, **policy_kwargs)
        prev = self.previous_chunk(obs)
        if prev is None:
            result.rtc = 'no plan'
            self.stats.record_rtc(result.rtc)
            return self.predict(obs, **policy_kwargs)
        result.delay_s = self.delay_estimate_s(obs)
        try:
            chunk = self.predict(obs, prev_chunk=prev, inference_delay_s=result.delay_s,
                                 **policy_kwargs)
            result.rtc = 'applied'
        except RTCInputError as exc:
            # A bad previous chunk must not cost the chunk: sample without it, and say so.
            result.rtc = 'fallback'
            if self.throttle.allow('rtc', obs.stamp):
                result.message, result.level = (f'real-time chunking skipped: {exc}', 'warn')
            chunk = self.predict(obs, **policy_kwargs)
        self.stats.record_rtc(result.rtc, result.delay_s)
        return chunk

    def complete(self, inference: Inference, published: bool, now_s: float,
                 latency_s: float | None = None) -> None:
        """
        Release the inference slot; count a published chunk.

        `latency_s` replaces the measured policy time where the caller models another (the
        in-process loop's fixed delay).
        """
        t0 = float('-inf')
        if published and inference.chunk is not None:
            latency = inference.latency_s if latency_s is None else latency_s
            self.stats.record_chunk(latency, now_s - inference.observation.stamp - latency,
                                    now_s)
            t0 = inference.chunk.t0
        self.trigger.finish(published and inference.chunk is not None, now_s, t0)

    def predict(self, obs: Observation, **policy_kwargs: Any) -> ActionChunk:
        """
        Return the chunk for `obs` in the robot's joint order, step 0 at ``obs.stamp``.

        Raises whatever the model raises (out of memory, ...) and `ChunkError` for an output
        of the wrong joints or with NaN; `infer` is the variant that never raises.
        """
        chunk = self.policy.predict_chunk(obs, **policy_kwargs)
        if tuple(chunk.joint_names) != self.joint_names:
            raise ChunkError(f'the model returned joints {list(chunk.joint_names)}, expected '
                             f'{list(self.joint_names)}')
        chunk = replace(chunk, t0=obs.stamp)
        return robot_order(chunk, obs.joint_order) if obs.joint_order else chunk

    def close(self) -> None:
        """Drop the model and give its accelerator memory back."""
        if self.policy is not None:
            self.policy.close()
        self.policy = None
