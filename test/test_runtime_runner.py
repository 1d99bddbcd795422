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

"""PolicyRunner, the policy side of the runtime (what policy_node and eval drive), without ROS."""

from dataclasses import replace

from conftest import CAMERAS, drifting_chunk, JOINTS, ScriptedPolicy
import numpy as np
import pytest

from vla_ros.config import PolicyNodeConfig
from vla_ros.control.action_chunk import ActionChunk, ChunkError
from vla_ros.policy.interface import Observation
from vla_ros.runtime.runner import PolicyRunner


def observation(stamp=7.5, joint_order=('j2', 'x', 'j0', 'j1'), state=(0.1, 0.2, 0.3)):
    return Observation(
        images={c: np.full((20, 30, 3), 100, np.uint8) for c in CAMERAS},
        state=np.asarray(state), instruction='pick up the cube', stamp=stamp,
        joint_order=joint_order, age_s=0.01)


def fed_runner(output=drifting_chunk, **cfg):
    """A runner on a scripted policy with every input stored at t = 10 s."""
    runner = PolicyRunner(ScriptedPolicy(output),
                          PolicyNodeConfig(warmup=False, **cfg))
    runner.inputs.set_joint_state(10 * 10**9, ['j2', 'j0', 'j1'], [0.3, 0.1, 0.2])
    for cam in CAMERAS:
        runner.inputs.set_image(cam, 10 * 10**9, np.zeros((4, 4, 3), np.uint8))
    return runner


def test_load_warm_up_and_predict(tiny_policy_dir):
    logs = []
    runner = PolicyRunner.load(PolicyNodeConfig(checkpoint_path=str(tiny_policy_dir)),
                               log=logs.append)
    assert runner.camera_names == CAMERAS and runner.joint_names == JOINTS
    assert runner.policy.format_name == 'vla_ros.smolvla'
    assert any('warm-up inference took' in line for line in logs)
    chunk = runner.predict(observation())
    assert chunk.joint_names == ('j2', 'j0', 'j1'), 'robot (joint_states) order'
    assert chunk.t0 == 7.5 and chunk.dt == pytest.approx(0.1)
    assert chunk.positions.shape == (8, 3) and np.isfinite(chunk.positions).all()


def test_joint_names_parameter_renames_the_model_joints(tiny_policy_dir):
    cfg = PolicyNodeConfig(checkpoint_path=str(tiny_policy_dir), joint_names=('a', 'b', 'c'),
                           warmup=False, num_steps=2)
    runner = PolicyRunner.load(cfg)
    assert runner.joint_names == ('a', 'b', 'c') and runner.state_names == ('a', 'b', 'c')
    assert runner.policy.model.config.num_steps == 2
    chunk = runner.predict(observation(joint_order=('c', 'b', 'a')))
    assert chunk.joint_names == ('c', 'b', 'a')


def test_wrong_joint_count_is_a_clear_load_error(tiny_policy_dir):
    from vla_ros.policy import PolicyError
    cfg = PolicyNodeConfig(checkpoint_path=str(tiny_policy_dir), joint_names=('a', 'b'),
                           warmup=False)
    with pytest.raises(PolicyError, match='joint_names'):
        PolicyRunner.load(cfg)


def test_delta_override_adds_the_state_back(tiny_policy_dir):
    import torch
    base = PolicyRunner.load(PolicyNodeConfig(checkpoint_path=str(tiny_policy_dir),
                                              warmup=False, action_mode='absolute'))
    delta = PolicyRunner.load(PolicyNodeConfig(checkpoint_path=str(tiny_policy_dir),
                                               warmup=False, action_mode='delta'))
    state = (1.0, 2.0, 3.0)
    torch.manual_seed(1)
    a = base.predict(observation(joint_order=JOINTS, state=state))
    torch.manual_seed(1)
    d = delta.predict(observation(joint_order=JOINTS, state=state))
    np.testing.assert_allclose(d.positions - a.positions, np.tile(state, (8, 1)), atol=1e-5)


FAILURES = [
    (lambda obs: (_ for _ in ()).throw(RuntimeError('CUDA out of memory')), RuntimeError),
    (lambda obs: ActionChunk(JOINTS, obs.stamp, 0.1, np.full((4, 3), np.nan)), ChunkError),
    (lambda obs: ActionChunk(('j0',), obs.stamp, 0.1, np.zeros((4, 1))), ChunkError),
]


@pytest.mark.parametrize('output, error', FAILURES)
def test_model_failures_raise_from_predict(output, error):
    with pytest.raises(error):
        PolicyRunner(ScriptedPolicy(output), PolicyNodeConfig()).predict(observation())


@pytest.mark.parametrize('output, error', FAILURES)
def test_infer_never_raises_counts_the_error_and_frees_the_slot(output, error):
    runner = fed_runner(output)
    assert runner.trigger.on_request()
    inference = runner.infer(10.05, 'service')
    assert inference.chunk is None and inference.level == 'error'
    assert error.__name__ in inference.message and ' (at ' in inference.message
    runner.complete(inference, False, 10.06)
    assert runner.stats.errors == 1 and runner.stats.chunks == 0
    assert runner.trigger.on_request(), 'the slot is free again'


def test_infer_assembles_predicts_and_anchors_the_chunk_at_the_joint_state_stamp():
    runner = fed_runner()
    inference = runner.infer(10.05, 'horizon')
    assert inference.chunk.t0 == 10.0 and inference.observation.stamp_ns == 10 * 10**9
    assert inference.chunk.joint_names == ('j2', 'j0', 'j1'), 'robot order'
    state = runner.policy.observations[0].state
    assert state.tolist() == [0.1, 0.2, 0.3], 'policy state order'
    runner.complete(inference, True, 10.1, latency_s=0.05)
    assert runner.stats.chunks == 1
    assert runner.stats.latency_percentiles_s()[0] == pytest.approx(0.05)
    assert runner.stats.obs_age_s == pytest.approx(0.05)


def test_refused_observation_is_counted_and_warned_once_per_period():
    runner = fed_runner(warn_period_s=5.0)
    first = runner.infer(12.0, 'horizon')      # inputs 2 s old: stale
    second = runner.infer(12.1, 'horizon')
    assert first.chunk is None and first.level == 'warn' and 'stale' in first.message
    assert second.chunk is None and second.message == '', 'throttled'
    assert runner.stats.dropped['stale'] == 2


def test_apply_changes_checks_trigger_instruction_and_steps():
    runner = fed_runner()
    cfg = replace(runner.cfg, max_obs_age_s=5.0, trigger_horizon_s=0.2, instruction='place it',
                  num_steps=3, trigger='rate')
    runner.apply(cfg)
    assert runner.trigger.trigger_horizon_s == 0.2 and runner.trigger.mode == 'rate'
    assert runner.policy.num_steps == 3
    inference = runner.infer(12.0, 'rate')     # 2 s old inputs pass the new 5 s rule
    assert inference.chunk is not None
    assert runner.policy.observations[-1].instruction == 'place it'


def test_reset_forgets_inputs_and_the_last_publish():
    runner = fed_runner()
    assert runner.trigger.on_horizon(0.0, 10.0)
    inference = runner.infer(10.0, 'horizon')
    runner.complete(inference, True, 10.1)
    assert not runner.trigger.on_horizon(0.0, 10.2), 'waits for the executor to take it'
    runner.reset()
    assert runner.trigger.on_horizon(0.0, 10.2)
    assert runner.infer(10.2, 'horizon').chunk is None, 'no inputs after a reset'


def test_load_policy_names_the_known_formats(tmp_path):
    from vla_ros.policy import load_policy, UnknownCheckpointFormat
    (tmp_path / 'config.json').write_text('{"format": "something_else"}')
    with pytest.raises(UnknownCheckpointFormat) as info:
        load_policy(tmp_path)
    text = str(info.value)
    assert 'vla_ros.smolvla' in text and 'lerobot.smolvla' in text and str(tmp_path) in text
    with pytest.raises(UnknownCheckpointFormat, match='not a directory'):
        load_policy(tmp_path / 'missing')


def test_a_registered_format_is_found_by_what_the_directory_holds(tmp_path):
    from vla_ros.policy import registry
    fmt = registry.CheckpointFormat(
        'test.scripted', 'a file scripted.txt', lambda d: (d / 'scripted.txt').is_file(),
        lambda d, device, dtype: ScriptedPolicy(drifting_chunk))
    registry.register_format(fmt)
    try:
        (tmp_path / 'scripted.txt').write_text('x')
        policy = registry.load_policy(tmp_path)
        assert isinstance(policy, ScriptedPolicy) and policy.format_name == 'test.scripted'
        with pytest.raises(ValueError, match='already registered'):
            registry.register_format(fmt)
    finally:
        registry._FORMATS.pop('test.scripted')


def test_scripted_policy_meets_the_interface():
    from vla_ros.policy.interface import VLAPolicy
    assert isinstance(ScriptedPolicy(drifting_chunk), VLAPolicy)
