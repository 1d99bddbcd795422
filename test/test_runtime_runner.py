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
PolicyRunner (what policy_node calls) on a tiny random-weight policy; no ROS needed.

`make_tiny_policy` is also what the ROS tests load: a SmolVLA of a few hundred kilobytes.
"""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from vla_ros.config import PolicyNodeConfig
from vla_ros.control.action_chunk import ActionChunk, ChunkError
from vla_ros.observation import AssembledObservation

CAMERAS = ('scene', 'wrist')
JOINTS = ('j0', 'j1', 'j2')


def make_tiny_policy(directory, cameras=CAMERAS, joints=JOINTS, dt=0.1, seed=0):
    """Save a random-weight tiny SmolVLA policy into `directory`; return the path."""
    import torch

    from vla_ros.model.config import SmolVLAConfig
    from vla_ros.model.smolvla import SmolVLA
    from vla_ros.policy import NormalizationStats, Policy, PolicySpec
    from vla_ros.training.instruction_tokenizer import train_instruction_tokenizer

    torch.manual_seed(seed)
    tokenizer = train_instruction_tokenizer(['pick up the cube', 'warm up', 'place it'])
    spec = PolicySpec(camera_names=cameras, joint_names=joints, action_dt_s=dt)
    policy = Policy(SmolVLA(SmolVLAConfig.tiny()), tokenizer,
                    NormalizationStats.identity(len(joints), len(joints)), spec)
    Path(directory).mkdir(parents=True, exist_ok=True)
    policy.save_pretrained(directory)
    return Path(directory)


@pytest.fixture(scope='module')
def tiny_dir(tmp_path_factory):
    pytest.importorskip('torch')
    return make_tiny_policy(tmp_path_factory.mktemp('tiny_policy'))


def observation(stamp=7.5, joint_order=('j2', 'x', 'j0', 'j1'), state=(0.1, 0.2, 0.3)):
    return AssembledObservation(
        images={c: np.full((20, 30, 3), 100, np.uint8) for c in CAMERAS},
        state=np.asarray(state), instruction='pick up the cube', stamp=stamp,
        joint_order=joint_order, age_s=0.01)


def test_load_warm_up_and_predict(tiny_dir):
    from vla_ros.policy_runner import PolicyRunner
    logs = []
    runner = PolicyRunner.load(PolicyNodeConfig(checkpoint_path=str(tiny_dir)), logs.append)
    assert runner.camera_names == CAMERAS and runner.joint_names == JOINTS
    assert any('warm-up inference took' in line for line in logs)
    chunk = runner.predict(observation())
    assert chunk.joint_names == ('j2', 'j0', 'j1'), 'robot (joint_states) order'
    assert chunk.t0 == 7.5 and chunk.dt == pytest.approx(0.1)
    assert chunk.positions.shape == (8, 3) and np.isfinite(chunk.positions).all()


def test_joint_names_parameter_renames_the_model_joints(tiny_dir):
    from vla_ros.policy_runner import PolicyRunner
    cfg = PolicyNodeConfig(checkpoint_path=str(tiny_dir), joint_names=('a', 'b', 'c'),
                           warmup=False, num_steps=2)
    runner = PolicyRunner.load(cfg)
    assert runner.joint_names == ('a', 'b', 'c') and runner.state_names == ('a', 'b', 'c')
    assert runner.policy.model.config.num_steps == 2
    chunk = runner.predict(observation(joint_order=('c', 'b', 'a')))
    assert chunk.joint_names == ('c', 'b', 'a')


def test_wrong_joint_count_is_a_clear_load_error(tiny_dir):
    from vla_ros.policy import PolicyError
    from vla_ros.policy_runner import PolicyRunner
    cfg = PolicyNodeConfig(checkpoint_path=str(tiny_dir), joint_names=('a', 'b'), warmup=False)
    with pytest.raises(PolicyError, match='joint_names'):
        PolicyRunner.load(cfg)


def test_delta_override_adds_the_state_back(tiny_dir):
    from vla_ros.policy_runner import PolicyRunner
    base = PolicyRunner.load(PolicyNodeConfig(checkpoint_path=str(tiny_dir), warmup=False,
                                              action_mode='absolute'))
    delta = PolicyRunner.load(PolicyNodeConfig(checkpoint_path=str(tiny_dir), warmup=False,
                                               action_mode='delta'))
    import torch
    state = (1.0, 2.0, 3.0)
    torch.manual_seed(1)
    a = base.predict(observation(joint_order=JOINTS, state=state))
    torch.manual_seed(1)
    d = delta.predict(observation(joint_order=JOINTS, state=state))
    np.testing.assert_allclose(d.positions - a.positions, np.tile(state, (8, 1)), atol=1e-5)


class FakePolicy:
    """Stands in for vla_ros.policy.Policy: returns what `output` builds, or raises it."""

    def __init__(self, output):
        self.spec = SimpleNamespace(camera_names=CAMERAS, joint_names=JOINTS, states=JOINTS)
        self.output = output

    def predict_chunk(self, obs):
        return self.output(obs)


@pytest.mark.parametrize('output, error', [
    (lambda obs: (_ for _ in ()).throw(RuntimeError('CUDA out of memory')), RuntimeError),
    (lambda obs: ActionChunk(JOINTS, obs.stamp, 0.1, np.full((4, 3), np.nan)), ChunkError),
    (lambda obs: ActionChunk(('j0',), obs.stamp, 0.1, np.zeros((4, 1))), ChunkError),
])
def test_model_failures_propagate_for_the_node_to_report(output, error):
    pytest.importorskip('torch')
    from vla_ros.policy_runner import PolicyRunner
    with pytest.raises(error):
        PolicyRunner(FakePolicy(output)).predict(observation())


def test_chunk_is_anchored_at_the_observation_stamp():
    pytest.importorskip('torch')
    from vla_ros.policy_runner import PolicyRunner
    runner = PolicyRunner(FakePolicy(lambda obs: ActionChunk(JOINTS, 0.0, 0.1, np.zeros((2, 3)))))
    assert runner.predict(observation(stamp=3.25)).t0 == 3.25
