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
The closed loop in one process: simulation, policy runtime and chunk executor on sim time.

The same runtime objects the ROS nodes wrap do the work here, so this loop and
``ros2 launch vla_ros sim.launch.py`` differ only in transport and clock:

* the simulated sensors are published into the `PolicyRunner` and the `ExecutorRunner` at the
  sim's ``joint_state_rate_hz`` and ``camera_rate_hz``, as sim_node publishes them;
* the executor ticks at ``control_rate_hz`` and its command drives the simulated arm;
* the policy's horizon trigger reads the executor's remaining horizon every tick; an inference
  runs on the latest inputs, passes the same observation checks as in the node, and its chunk,
  stamped with the observation time, reaches the executor ``inference_delay_s`` later (the
  measured wall-clock latency of that inference, or a fixed value) while the arm keeps
  executing the previous chunk, exactly as with a real, slow policy;
* at every episode start the executor is re-synced to the new start pose and the runner
  forgets the old world's inputs, as sim_node does through the executor's services.

Time is the sim clock plus an offset that grows from episode to episode, so stamps never go
back, as on a real clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import logging

import numpy as np

from vla_ros.sim.schedule import Periodic

log = logging.getLogger(__name__)

SWITCH_WINDOW_S = 0.2  # smoothness is measured over this long after each chunk switch [s]
EPISODE_GAP_S = 1.0   # runtime time between two episodes, as a reset takes time on a robot [s]
NS_PER_S = 1_000_000_000


@dataclass(frozen=True)
class RolloutSettings:
    """How an episode is run and what is kept of it."""

    inference_delay_s: float = -1.0  # chunk latency in sim time; < 0: measured wall time [s]
    episode_time_s: float = 20.0     # fail the episode after this [s]
    frame_period_s: float = 0.1      # period of recorded video frames; 0: none [s]
    trace: bool = False              # keep commanded / measured joints for plotting

    def __post_init__(self):
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
    obs_ages_s: list[float] = field(default_factory=list)       # observation age per chunk
    refused: int = 0                        # observations refused by the runtime's checks
    rtc: list[str] = field(default_factory=list)                # per chunk: applied, no plan...
    # Per chunk switch, over the commands of the next SWITCH_WINDOW_S: the largest step [rad]
    # and the RMS jerk [rad/s^3] (finite differences at the control period).
    switch_max_step_rad: list[float] = field(default_factory=list)
    switch_jerk_rms: list[float] = field(default_factory=list)
    # Observation stamp -> chunk handed to the executor, per chunk: observation age, inference
    # and (through ROS) transport; what the executor sees of the policy's delay [s].
    chunk_delays_s: list[float] = field(default_factory=list)
    runtime: dict = field(default_factory=dict)     # `runtime_numbers` at the episode's end
    executor: dict = field(default_factory=dict)    # `executor_counts` of the episode


# The policy runtime's own numbers (`InferenceStats.values`, the policy node's /diagnostics)
# kept per episode: a rolling window over the last chunks, so they lag across episodes.
RUNTIME_KEYS = ('latency_p50_ms', 'latency_p95_ms', 'observation_age_ms', 'chunks_total',
                'rtc_applied', 'rtc_no_plan', 'rtc_fallback', 'rtc_delay_estimate_ms',
                'model_errors', 'invalid_decodes')
EXECUTOR_KEYS = ('accepted', 'clamped_ticks', 'holds')


def runtime_numbers(values) -> dict:
    """Return the `RUNTIME_KEYS` of a runtime stats mapping (numbers or text) as floats."""
    return {k: float(values[k]) for k in RUNTIME_KEYS if k in values}


def executor_counts(values) -> dict:
    """Return the executor's counters (accepted, clamps, holds, rejections by kind) as ints."""
    return {k: int(float(v)) for k, v in values.items()
            if k in EXECUTOR_KEYS or k.startswith('rejected_')}


class ClosedLoop:
    """An `ArmEnv` driven by a `PolicyRunner` through an `ExecutorRunner`, on sim time."""

    def __init__(self, env, runner, executor, control_rate_hz: float = 100.0):
        """`env` an ``ArmEnv``; `runner` and `executor` the runtime's two halves."""
        from vla_ros.sim.robot import JOINT_NAMES

        self.env, self.runner, self.executor = env, runner, executor
        self.period_s = 1.0 / control_rate_hz
        self.joint_names = JOINT_NAMES
        self.joint_states = Periodic(1.0 / env.config.joint_state_rate_hz)
        self.cameras = Periodic(1.0 / env.config.camera_rate_hz)
        self.clock_s = 0.0

    def run_episode(self, seed: int, task: str | None = None,
                    settings: RolloutSettings = RolloutSettings()) -> EpisodeResult:
        """
        Run one episode; the flow-matching noise is seeded from `seed`.

        An episode's only run-to-run variation is then the measured inference latency (none
        with a fixed ``settings.inference_delay_s``).
        """
        import torch

        env, runner, executor = self.env, self.runner, self.executor
        torch.manual_seed(seed)
        obs = env.reset(seed=seed, task=task)
        start = self.clock_s
        now = start
        result = EpisodeResult(seed=seed, task=env.task, success=False,
                               instruction=obs.instruction, duration_s=0.0, inferences=0)
        runner.reset()
        runner.inputs.set_instruction(obs.instruction)
        next_frame = now
        self.joint_states.restart(now)
        self.cameras.restart(now)
        self._publish(now)
        executor.resync(now)
        pending, ready_at, delay = None, 0.0, 0.0      # the inference in flight
        commands, switches = [], []                    # every command; ticks a chunk arrived
        while now - start < settings.episode_time_s:
            self._publish(now)
            if pending is not None and now >= ready_at - 1e-9:
                if executor.offer(pending.chunk, now)[0].accepted:
                    switches.append(len(commands))
                runner.complete(pending, True, now, latency_s=delay)
                result.obs_ages_s.append(pending.observation.age_s)
                result.chunk_delays_s.append(now - pending.observation.stamp)
                pending = None
            if pending is None and runner.trigger.on_horizon(*self._horizon(now)):
                if runner.cfg.rtc_guidance:      # the node gets it on ~/plan with ~/state
                    runner.set_plan(executor.plan(now))
                inference = runner.infer(now, 'horizon')
                if inference.chunk is None:
                    result.refused += 1
                    if inference.message:
                        log.warning(inference.message)
                    runner.complete(inference, False, now)
                else:
                    result.latencies_s.append(inference.latency_s)
                    result.inferences += 1
                    delay = (inference.latency_s if settings.inference_delay_s < 0
                             else settings.inference_delay_s)
                    pending, ready_at = inference, now + delay
                    result.rtc.append(inference.rtc)
            command = executor.tick(now)
            if command is not None:
                env.set_command(command.positions)
                commands.append(command.positions)
            if settings.trace:
                measured = env.joint_positions()
                result.times.append(now - start)
                result.measured.append(measured)
                result.commanded.append(np.full_like(measured, np.nan) if command is None
                                        else np.array(command.positions, dtype=np.float64))
            if settings.frame_period_s and now >= next_frame - 1e-9:
                result.frames.append(_frame(env))
                next_frame += settings.frame_period_s
            env.advance(self.period_s)
            # The sim's clock, not a running sum: advance rounds to whole physics steps.
            now = start + env.time
            if env.success():
                result.success = True
                break
        self._switch_smoothness(result, commands, switches)
        if pending is not None:      # the world it saw ends here: nothing is published
            runner.complete(pending, False, now)
        result.duration_s = now - start
        result.runtime = runtime_numbers(runner.stats.values(now))
        if executor.core is not None:    # re-synced at the start: counters of this episode
            result.executor = executor_counts(executor.core.stats())
        if settings.frame_period_s:
            result.frames.append(_frame(env))
        self.clock_s = now + EPISODE_GAP_S
        return result

    def _switch_smoothness(self, result: EpisodeResult, commands: list, switches: list) -> None:
        """Largest step and RMS jerk of the commands just after each chunk switch."""
        window = int(round(SWITCH_WINDOW_S / self.period_s))
        for i in switches:
            span = np.asarray(commands[max(i - 3, 0):i + window])   # 3 before: the first jerks
            if len(span) < 4:
                continue
            result.switch_max_step_rad.append(float(np.abs(np.diff(span, axis=0)).max()))
            jerk = np.diff(span, n=3, axis=0) / self.period_s ** 3
            result.switch_jerk_rms.append(float(np.sqrt(np.mean(jerk ** 2))))

    def _horizon(self, now: float) -> tuple[float, float, float]:
        remaining, newest_t0 = self.executor.horizon(now)
        return remaining, now, newest_t0

    def _publish(self, now: float) -> None:
        """Publish the sensors that are due, as sim_node does on sim time."""
        stamp_ns = int(round(now * NS_PER_S))
        if self.joint_states.due(now):
            positions = self.env.joint_positions()
            self.runner.inputs.set_joint_state(stamp_ns, self.joint_names, positions)
            self.executor.set_joint_state(self.joint_names, positions, 1e-9 * stamp_ns)
        if self.cameras.due(now):
            for name, image in self.env.render().items():
                self.runner.inputs.set_image(name, stamp_ns, image)


def _frame(env) -> np.ndarray:
    """All cameras side by side, as one uint8 image."""
    images = env.render()
    return np.concatenate([np.asarray(images[name]) for name in sorted(images)], axis=1)
