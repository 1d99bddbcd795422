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

"""The evaluation rollout: policy, chunk executor and MuJoCo arm, asynchronous in sim time."""

import numpy as np
import pytest

torch = pytest.importorskip('torch')
pytest.importorskip('mujoco')
pytest.importorskip('transformers')

from vla_ros.config import ExecutorConfig, PolicyNodeConfig, SimConfig  # noqa: E402
from vla_ros.control.action_chunk import ActionChunk  # noqa: E402
from vla_ros.evaluation.evaluate import in_process_runner, sim_executor_config  # noqa: E402
from vla_ros.evaluation.report import format_table, success_table  # noqa: E402
from vla_ros.evaluation.rollout import ClosedLoop, EpisodeResult, RolloutSettings  # noqa
from vla_ros.runtime.execution import ExecutorRunner  # noqa: E402
from vla_ros.sim.robot import CAMERA_NAMES, HOME_POSITIONS, JOINT_LIMITS, JOINT_NAMES  # noqa

from conftest import ScriptedPolicy  # noqa: E402, I100


def drift(obs):
    """Return a chunk drifting the first joint from the observed state, the rest at home."""
    assert set(obs.images) == {'scene', 'wrist'} and obs.state.shape == (7,)
    steps = np.arange(10)[:, None]
    positions = np.tile(HOME_POSITIONS, (10, 1))
    positions[:, 0] = obs.state[0] + 0.05 * steps[:, 0]
    return ActionChunk(JOINT_NAMES, obs.stamp, 0.1, positions)


def sim_policy(output=drift):
    return ScriptedPolicy(output, cameras=CAMERA_NAMES, joints=JOINT_NAMES)


class KeepingPolicy:
    """Passes through to `policy`; keeps every chunk's positions."""

    def __init__(self, policy):
        self.policy = policy
        self.spec = policy.spec
        self.chunks = []

    camera_names = property(lambda self: self.policy.camera_names)
    joint_names = property(lambda self: self.policy.joint_names)
    state_names = property(lambda self: self.policy.state_names)

    def predict_chunk(self, obs, **kwargs):
        chunk = self.policy.predict_chunk(obs, **kwargs)
        self.chunks.append(chunk.positions)
        return chunk

    def set_num_steps(self, num_steps):
        self.policy.set_num_steps(num_steps)

    def set_rtc(self, *args):
        self.policy.set_rtc(*args)


@pytest.fixture(scope='module')
def env():
    from vla_ros.sim import ArmEnv
    env = ArmEnv(SimConfig(image_width=32, image_height=32))
    yield env
    env.close()


def closed_loop(env, policy, **node_cfg):
    runner = in_process_runner(policy, PolicyNodeConfig(warmup=False, **node_cfg))
    executor = ExecutorRunner(sim_executor_config(ExecutorConfig(control_rate_hz=100)))
    return ClosedLoop(env, runner, executor, control_rate_hz=100)


def test_arm_keeps_moving_while_the_policy_infers_and_chunks_arrive_late(env):
    policy = sim_policy()
    loop = closed_loop(env, policy, trigger_horizon_s=0.5)
    settings = RolloutSettings(inference_delay_s=0.3, episode_time_s=2.0, frame_period_s=0.5,
                               trace=True)
    result = loop.run_episode(seed=100_000, task='touch', settings=settings)
    stamps = [obs.stamp - loop.clock_s + 2.0 + 1.0 for obs in policy.observations]
    times = np.array(result.times)
    commanded = np.array(result.commanded)
    # Until the first chunk has "finished inferring" 0.3 s in, the re-synced executor holds
    # the start pose exactly; then the arm follows the chunk.
    assert np.isfinite(commanded).all()
    assert (commanded[times < 0.3 - 1e-6] == commanded[0]).all()
    assert np.array_equal(commanded[0], result.measured[0])
    assert (commanded[times > 0.3 + 0.02, 0] != commanded[0, 0]).all()
    # Chunks are stamped with their observation time; the next inference starts when less
    # than trigger_horizon_s of the newest chunk is left: its last step is 0.9 s after its
    # stamp, so every 0.4 s, whatever the delay (here shorter than the 0.5 s left).
    assert stamps[0] == pytest.approx(0.0, abs=1e-9)
    assert np.diff(stamps) == pytest.approx([0.4] * (len(stamps) - 1), abs=0.02)
    # The executor's limits hold: no command step is faster than the joint velocity limit.
    speed = np.abs(np.diff(commanded[times > 0.31], axis=0)) / 0.01
    assert (speed <= JOINT_LIMITS.max_velocity * 1.001 + 1e-9).all()
    # The arm moved between inferences (it did not wait for the policy).
    moving = np.abs(np.diff(np.array(result.measured)[:, 0])) > 1e-5
    assert moving[times[1:] > 0.4].mean() > 0.8
    assert result.inferences == len(stamps) and not result.success
    # Smoothness is measured after every chunk the executor took (the one in flight at the
    # end never lands); the executor's velocity limit bounds every step.
    assert len(result.switch_max_step_rad) == len(result.switch_jerk_rms) >= result.inferences - 1
    assert max(result.switch_max_step_rad) <= 1.0 * 0.01 + 1e-9
    assert all(np.isfinite(result.switch_jerk_rms))
    assert len(result.frames) == 5 and result.frames[0].shape == (32, 64, 3)
    # The images the policy saw went through the runtime's checks: at most a camera period
    # (0.1 s) older than the joint state, never newer.
    for obs in policy.observations:
        assert 0.0 <= obs.age_s <= 0.1 + 1e-6


def test_measured_latency_is_used_when_no_delay_is_given(env):
    def slow(obs):
        import time
        time.sleep(0.05)
        return drift(obs)

    loop = closed_loop(env, sim_policy(slow))
    settings = RolloutSettings(inference_delay_s=-1, episode_time_s=0.5, frame_period_s=0,
                               trace=True)
    result = loop.run_episode(seed=100_001, settings=settings)
    commanded = np.array(result.commanded)
    first = np.argmax((commanded != commanded[0]).any(axis=1))   # the first chunk's first step
    assert result.latencies_s[0] >= 0.05
    assert result.times[first] == pytest.approx(result.latencies_s[0], abs=0.021)


def test_consecutive_episodes_resync_the_executor_and_never_go_back_in_time(env):
    policy = sim_policy()
    loop = closed_loop(env, policy)
    settings = RolloutSettings(inference_delay_s=0.2, episode_time_s=1.0, frame_period_s=0,
                               trace=True)
    first = loop.run_episode(seed=100_003, settings=settings)
    start_second = loop.clock_s
    second = loop.run_episode(seed=100_004, settings=settings)
    stamps = [obs.stamp for obs in policy.observations]
    assert np.all(np.diff(stamps) > 0)
    assert min(stamps[first.inferences:]) == pytest.approx(start_second, abs=1e-9)
    # Every chunk of the second episode was taken: none counted as observed before the resync.
    assert loop.executor.core.rejected == {}
    assert np.diff(stamps[first.inferences:]) == pytest.approx([0.4] * (second.inferences - 1),
                                                               abs=0.02)
    # The second episode starts holding its own start pose (no pull towards the first
    # episode's final command): the first command is the measured start.
    np.testing.assert_array_equal(second.commanded[0], second.measured[0])
    assert loop.executor.resyncs == 2


def test_a_refused_observation_starts_no_inference(env):
    loop = closed_loop(env, sim_policy(), max_obs_age_s=0.05, trigger_horizon_s=0.44)
    # Camera frames come at 10 Hz and the trigger fires 0.46 s after each chunk's stamp: the
    # newest frame is then 0.06 s old, over the 0.05 s limit, until the next frame arrives.
    result = loop.run_episode(seed=100_005, settings=RolloutSettings(
        inference_delay_s=0.0, episode_time_s=1.0, frame_period_s=0))
    assert result.refused > 0 and result.inferences > 0
    assert loop.runner.stats.dropped['stale'] == result.refused


def test_success_table_counts_per_task():
    results = [EpisodeResult(s, task, '', ok, 3.0, 1) for s, (task, ok) in enumerate(
        [('pick', True), ('pick', False), ('touch', True), ('touch', True)])]
    rows = {r['task']: r for r in success_table(results)}
    assert rows['pick']['success_rate'] == 0.5 and rows['touch']['successes'] == 2
    assert rows['all']['episodes'] == 4 and rows['all']['success_rate'] == 0.75
    assert '| **all** | 4 | 3 | 75 % | 3.0 s |' in format_table(success_table(results))


def test_shipped_demo_policy_drives_a_short_rollout(env):
    from vla_ros.policy import load_policy
    from vla_ros.policy.registry import find_shipped_model
    try:
        path = find_shipped_model()
    except FileNotFoundError:
        pytest.skip('no shipped demo policy in models/')
    policy = load_policy(path)
    settings = RolloutSettings(inference_delay_s=0.2, episode_time_s=1.0, frame_period_s=0)
    runs = []
    for _ in range(2):
        keeping = KeepingPolicy(policy)
        result = closed_loop(env, keeping).run_episode(seed=100_002, settings=settings)
        assert result.inferences >= 1 and result.duration_s <= 1.0 + 1e-6
        runs.append(keeping.chunks)
    # The flow-matching noise is seeded per episode: with a fixed delay, a rerun is identical.
    assert len(runs[0]) == len(runs[1])
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)
