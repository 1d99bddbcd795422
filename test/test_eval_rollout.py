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

from vla_ros.config import ExecutorConfig, SimConfig  # noqa: E402
from vla_ros.control.action_chunk import ActionChunk  # noqa: E402
from vla_ros.evaluation.evaluate import sim_executor_config  # noqa: E402
from vla_ros.evaluation.report import format_table, success_table  # noqa: E402
from vla_ros.evaluation.rollout import EpisodeResult, RolloutSettings, run_episode  # noqa
from vla_ros.sim.robot import HOME_POSITIONS, JOINT_LIMITS, JOINT_NAMES  # noqa: E402


class RecordingPolicy:
    """Returns a chunk that drifts the first joint; remembers every observation stamp."""

    def __init__(self):
        self.stamps = []

    def predict_chunk(self, obs):
        self.stamps.append(obs.stamp)
        assert set(obs.images) == {'scene', 'wrist'} and obs.state.shape == (7,)
        steps = np.arange(10)[:, None]
        positions = np.tile(HOME_POSITIONS, (10, 1))
        positions[:, 0] = obs.state[0] + 0.05 * steps[:, 0]
        return ActionChunk(JOINT_NAMES, obs.stamp, 0.1, positions)


class KeepingPolicy:
    """Passes through to `policy`; keeps every chunk's positions."""

    def __init__(self, policy):
        self.policy = policy
        self.chunks = []

    def predict_chunk(self, obs):
        chunk = self.policy.predict_chunk(obs)
        self.chunks.append(chunk.positions)
        return chunk


@pytest.fixture(scope='module')
def env():
    from vla_ros.sim import ArmEnv
    env = ArmEnv(SimConfig(image_width=32, image_height=32))
    yield env
    env.close()


def _executor():
    from vla_ros.control.executor import ChunkExecutor
    return ChunkExecutor.from_config(sim_executor_config(ExecutorConfig(control_rate_hz=100)))


def test_arm_keeps_moving_while_the_policy_infers_and_chunks_arrive_late(env):
    policy = RecordingPolicy()
    settings = RolloutSettings(trigger_horizon_s=0.5, inference_delay_s=0.3,
                               episode_time_s=2.0, frame_period_s=0.5, trace=True)
    result = run_episode(env, policy, _executor(), seed=100_000, task='touch',
                         settings=settings, control_rate_hz=100)
    times = np.array(result.times)
    commanded = np.array(result.commanded)
    # Nothing is commanded until the first chunk has "finished inferring" 0.3 s in.
    assert np.isnan(commanded[times < 0.3 - 1e-6]).all()
    assert np.isfinite(commanded[times > 0.3 + 1e-6]).all()
    # Chunks are stamped with their observation time; the next inference starts when less
    # than trigger_horizon_s of the newest chunk is left: its last step is 0.9 s after its
    # stamp, so every 0.4 s, whatever the delay (here shorter than the 0.5 s left).
    assert policy.stamps[0] == pytest.approx(0.0)
    assert np.diff(policy.stamps) == pytest.approx([0.4] * (len(policy.stamps) - 1), abs=0.02)
    # The executor's limits hold: no command step is faster than the joint velocity limit.
    speed = np.abs(np.diff(commanded[times > 0.31], axis=0)) / 0.01
    assert (speed <= JOINT_LIMITS.velocity * 1.001 + 1e-9).all()
    # The arm moved between inferences (it did not wait for the policy).
    moving = np.abs(np.diff(np.array(result.measured)[:, 0])) > 1e-5
    assert moving[times[1:] > 0.4].mean() > 0.8
    assert result.inferences == len(policy.stamps) and not result.success
    assert len(result.frames) == 5 and result.frames[0].shape == (32, 64, 3)


def test_measured_latency_is_used_when_no_delay_is_given(env):
    class Slow(RecordingPolicy):

        def predict_chunk(self, obs):
            import time
            time.sleep(0.05)
            return super().predict_chunk(obs)

    settings = RolloutSettings(inference_delay_s=-1, episode_time_s=0.5, frame_period_s=0,
                               trace=True)
    result = run_episode(env, Slow(), _executor(), seed=100_001, settings=settings,
                         control_rate_hz=100)
    first = np.argmax(np.isfinite(np.array(result.commanded)[:, 0]))
    assert result.latencies_s[0] >= 0.05
    assert result.times[first] == pytest.approx(result.latencies_s[0], abs=0.011)


def test_success_table_counts_per_task():
    results = [EpisodeResult(s, task, '', ok, 3.0, 1) for s, (task, ok) in enumerate(
        [('pick', True), ('pick', False), ('touch', True), ('touch', True)])]
    rows = {r['task']: r for r in success_table(results)}
    assert rows['pick']['success_rate'] == 0.5 and rows['touch']['successes'] == 2
    assert rows['all']['episodes'] == 4 and rows['all']['success_rate'] == 0.75
    assert '| **all** | 4 | 3 | 75 % | 3.0 s |' in format_table(success_table(results))


def test_shipped_demo_policy_drives_a_short_rollout(env):
    from vla_ros.evaluation.evaluate import find_shipped_model
    from vla_ros.policy import Policy
    try:
        path = find_shipped_model()
    except FileNotFoundError:
        pytest.skip('no shipped demo policy in models/')
    policy = Policy.from_pretrained(path)
    settings = RolloutSettings(inference_delay_s=0.2, episode_time_s=1.0, frame_period_s=0)
    runs = []
    for _ in range(2):
        keeping = KeepingPolicy(policy)
        result = run_episode(env, keeping, _executor(), seed=100_002, settings=settings,
                             control_rate_hz=100)
        assert result.inferences >= 1 and result.duration_s <= 1.0 + 1e-6
        runs.append(keeping.chunks)
    # The flow-matching noise is seeded per episode: with a fixed delay, a rerun is identical.
    assert len(runs[0]) == len(runs[1])
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)
