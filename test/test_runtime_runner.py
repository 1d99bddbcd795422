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
    """Return a runner on a scripted policy with every input stored at t = 10 s."""
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
    from vla_ros.model.checkpoint import CheckpointError
    from vla_ros.policy import PolicyError
    cfg = PolicyNodeConfig(checkpoint_path=str(tiny_policy_dir), joint_names=('a', 'b'),
                           warmup=False)
    with pytest.raises((PolicyError, CheckpointError), match='joint_names'):
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


def plan(t0=10.0, joints=('j2', 'j0', 'j1', 'extra'), dt=0.02, steps=101):
    """Return an executor plan: the joints move at 3, 1, 2, 9 rad/s from 0 at `t0`."""
    speeds = np.array([3.0, 1.0, 2.0, 9.0])
    positions = (dt * np.arange(steps))[:, None] * speeds[None, :]
    return ActionChunk(joints, t0, dt, positions)


def test_previous_chunk_samples_the_plan_on_the_policy_grid():
    runner = fed_runner(rtc_guidance='lerobot')
    obs = observation(stamp=9.98, joint_order=())
    assert runner.previous_chunk(obs) is None, 'no plan yet'
    runner.set_plan(plan())
    prev = runner.previous_chunk(obs)
    assert prev.joint_names == JOINTS and prev.t0 == 9.98 and prev.horizon == 10
    t = np.maximum(9.98 + 0.1 * np.arange(10) - 10.0, 0.0)    # before the plan: its start
    t = np.minimum(t, 2.0)
    np.testing.assert_allclose(prev.positions, t[:, None] * [1.0, 2.0, 3.0], atol=1e-12)
    runner.set_plan(plan(joints=('j0', 'j1', 'x', 'y')))
    assert runner.previous_chunk(obs) is None, 'the plan lacks j2'


def test_rtc_passes_the_plan_and_the_delay_estimate_to_the_policy():
    runner = fed_runner(rtc_guidance='lerobot', rtc_delay_percentile=100.0)
    assert runner.policy.rtc == 'lerobot'
    first = runner.infer(10.05, 'horizon')
    assert first.rtc == 'no plan' and runner.policy.calls[-1] == {}
    runner.complete(first, True, 10.2, latency_s=0.15)
    runner.set_plan(plan(t0=10.2))
    second = runner.infer(10.25, 'horizon')
    call = runner.policy.calls[-1]
    assert second.rtc == 'applied'
    # Observation age (inputs stamped 10.0, assembled at 10.25) + the worst recent latency.
    assert call['inference_delay_s'] == pytest.approx(0.25 + 0.15)
    assert call['prev_chunk'].t0 == 10.0 and call['prev_chunk'].joint_names == JOINTS
    assert runner.stats.rtc == {'applied': 1, 'no plan': 1, 'fallback': 0}
    assert runner.stats.values(10.3)['rtc_delay_estimate_ms'] == '400.0'


def test_an_unusable_previous_chunk_falls_back_to_plain_sampling_with_a_warning():
    from vla_ros.policy.interface import RTCInputError

    def picky(obs, prev_chunk=None, inference_delay_s=0.0):
        if prev_chunk is not None:
            raise RTCInputError('prev_chunk has NaN')
        return drifting_chunk(obs)

    runner = fed_runner(rtc_guidance='vjp')
    runner.policy.predict_chunk = lambda obs, **kw: picky(obs, **kw)
    runner.set_plan(plan())
    inference = runner.infer(10.05, 'horizon')
    assert inference.chunk is not None and inference.rtc == 'fallback'
    assert inference.level == 'warn' and 'prev_chunk has NaN' in inference.message
    assert runner.stats.rtc['fallback'] == 1 and runner.stats.errors == 0


def test_a_policy_without_rtc_refuses_to_turn_it_on():
    from vla_ros.policy.interface import PolicyError, VLAPolicy

    class Plain(VLAPolicy):
        spec = ScriptedPolicy(drifting_chunk).spec
        horizon, device, dtype = 10, 'cpu', None

        def to(self, device='cpu', dtype='float32'):
            return self

        def predict_chunk(self, obs, **kwargs):
            return drifting_chunk(obs)

    PolicyRunner(Plain(), PolicyNodeConfig())
    with pytest.raises(PolicyError, match='does not support real-time chunking'):
        PolicyRunner(Plain(), PolicyNodeConfig(rtc_guidance='lerobot'))


def test_smolvla_policy_continues_the_previous_chunk(tiny_policy_dir):
    import torch

    from vla_ros.policy import load_policy
    from vla_ros.policy.interface import PolicyError, RTCInputError
    policy = load_policy(tiny_policy_dir)
    obs = observation(joint_order=JOINTS)
    torch.manual_seed(0)
    plain = policy.predict_chunk(obs)
    prev = ActionChunk(JOINTS, obs.stamp, policy.action_dt_s,
                       np.linspace([0.5, -0.5, 0.2], [0.9, -0.1, 0.6], policy.horizon))
    policy.set_rtc('trained')
    torch.manual_seed(0)
    frozen = policy.predict_chunk(obs, prev_chunk=prev, inference_delay_s=0.25)
    # 0.25 s at 0.1 s per step: 3 steps execute before the chunk lands, and are kept as planned.
    np.testing.assert_allclose(frozen.positions[:3], prev.positions[:3], atol=1e-5)
    assert np.abs(frozen.positions[3:] - prev.positions[3:]).max() > 1e-3
    policy.set_rtc('lerobot', 'exp', 5.0)
    torch.manual_seed(0)
    guided = policy.predict_chunk(obs, prev_chunk=prev, inference_delay_s=0.25)
    assert np.abs(guided.positions - plain.positions).max() > 1e-4
    torch.manual_seed(0)
    assert np.array_equal(policy.predict_chunk(obs).positions, plain.positions), \
        'without a previous chunk the sample is plain'
    bad = ActionChunk(('j0', 'j1', 'x'), obs.stamp, policy.action_dt_s, prev.positions)
    with pytest.raises(RTCInputError, match='joints'):
        policy.predict_chunk(obs, prev_chunk=bad, inference_delay_s=0.1)
    with pytest.raises(RTCInputError, match='inference_delay_s'):
        policy.predict_chunk(obs, prev_chunk=prev, inference_delay_s=float('nan'))
    with pytest.raises(PolicyError, match='rtc_execution_horizon'):
        policy.set_rtc('lerobot', execution_horizon=policy.horizon + 1)
    policy.set_rtc('')
    assert policy.rtc is None


def test_training_metadata_round_trips(tiny_policy_dir, tmp_path):
    from vla_ros.policy import load_policy
    policy = load_policy(tiny_policy_dir)
    assert policy.training == {}
    policy.training['rtc_max_delay_steps'] = 4
    policy.save_pretrained(tmp_path)
    assert load_policy(tmp_path).training == {'rtc_max_delay_steps': 4}


def test_previous_chunk_stops_where_the_executors_chunk_ends():
    runner = fed_runner(rtc_guidance='lerobot')
    runner.set_plan(plan(steps=21))                  # 0.4 s of chunk left, then a hold
    prev = runner.previous_chunk(observation(stamp=9.98, joint_order=()))
    assert prev.horizon == 5, 'steps at 9.98 .. 10.38; the hold after 10.4 is no plan'


def test_executor_plan_covers_only_the_chunk_being_tracked():
    from vla_ros.config import ExecutorConfig
    from vla_ros.runtime.execution import ExecutorRunner
    executor = ExecutorRunner(ExecutorConfig(joint_names=('a',), max_velocity=(10.0,),
                                             max_acceleration=(100.0,), plan_dt_s=0.05))
    executor.set_joint_state(['a'], [0.0], 0.0)
    assert executor.plan(0.0) is None, 'nothing tracked yet'
    executor.offer(ActionChunk(('a',), 0.0, 0.1, np.linspace([0.0], [0.9], 10)), 0.0)
    for k in range(31):
        executor.tick(k / 100)
    plan_ = executor.plan(0.3)
    assert plan_.t0 == 0.3 and plan_.times[-1] >= 0.9 - 1e-9
    np.testing.assert_allclose(plan_.positions[-1], [0.9], atol=1e-6)
    assert executor.plan(0.95) is None, 'the chunk is over: what follows is a hold'
