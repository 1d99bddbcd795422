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

"""Policy: raw observation -> ActionChunk, training batches, checkpoints, errors."""

import numpy as np
import pytest

torch = pytest.importorskip('torch')
transformers = pytest.importorskip('transformers')

from vla_ros.control.action_chunk import ActionChunk  # noqa: E402
from vla_ros.model import SmolVLA, SmolVLAConfig  # noqa: E402
from vla_ros.model.checkpoint import CheckpointError  # noqa: E402
from vla_ros.policy import (  # noqa: E402
    NormalizationStats, Observation, Policy, PolicyError, PolicySpec)
from vla_ros.policy.preprocessing import resize_with_pad, to_model_pixels  # noqa: E402

torch.set_num_threads(2)
JOINTS = ('shoulder', 'elbow', 'wrist', 'gripper')


def word_tokenizer():
    from tokenizers import pre_tokenizers, Tokenizer
    from tokenizers.models import WordLevel

    words = ['[PAD]', '[UNK]', 'pick', 'up', 'the', 'red', 'cube', 'place', 'it', '\n']
    tok = Tokenizer(WordLevel({w: i for i, w in enumerate(words)}, unk_token='[UNK]'))
    tok.pre_tokenizer = pre_tokenizers.Split(' ', behavior='removed')
    return transformers.PreTrainedTokenizerFast(tokenizer_object=tok, pad_token='[PAD]',
                                                unk_token='[UNK]')


def make_policy(action_mode='absolute'):
    torch.manual_seed(0)
    model = SmolVLA(SmolVLAConfig.tiny(action_dim=4, state_dim=4)).eval()
    stats = {'state': {'mean': [0.1, 0.2, 0.3, 0.4], 'std': [1.0, 2.0, 0.5, 1.0]},
             'action': {'mean': [1.0, -1.0, 0.5, 0.0], 'std': [0.5, 0.5, 2.0, 1.0]}}
    spec = PolicySpec(camera_names=('front', 'wrist'), joint_names=JOINTS, action_dt_s=0.05,
                      action_mode=action_mode)
    return Policy(model, word_tokenizer(), stats, spec)


def observation(stamp=3.0):
    rng = np.random.default_rng(0)
    return Observation(
        images={'front': rng.integers(0, 255, (48, 64, 3), dtype=np.uint8),
                'wrist': rng.integers(0, 255, (40, 24, 3), dtype=np.uint8)},
        state=np.array([0.0, 0.5, -0.5, 0.02]), instruction='pick up the red cube',
        stamp=stamp)


def noise(policy):
    c = policy.model.config
    return torch.randn(1, c.chunk_size, c.max_action_dim, generator=torch.Generator()
                       .manual_seed(1))


def test_resize_with_pad_keeps_aspect_and_pads_left_and_top():
    img = torch.ones(1, 3, 10, 20)
    out = resize_with_pad(img, 16, 16)
    assert out.shape == (1, 3, 16, 16)
    assert (out[:, :, :8] == 0).all() and (out[:, :, 8:] == 1).all()     # 8 rows on top
    tall = resize_with_pad(torch.ones(1, 3, 30, 10), 12, 12)
    assert (tall[..., :8] == 0).all() and (tall[..., 8:] == 1).all()     # 8 columns on left
    pixels = to_model_pixels(np.full((10, 20, 3), 255, np.uint8), 16, 16)
    assert pixels.min() == -1 and pixels.max() == 1


def test_predict_chunk_is_unnormalized_in_joint_order_and_timed():
    policy = make_policy()
    obs = observation()
    chunk = policy.predict_chunk(obs, noise=noise(policy))
    assert isinstance(chunk, ActionChunk)
    assert chunk.joint_names == JOINTS and chunk.t0 == 3.0 and chunk.dt == 0.05
    assert chunk.positions.shape == (policy.model.config.chunk_size, 4)
    batch = policy.prepare_batch({k: v[None] for k, v in obs.images.items()},
                                 obs.state[None], [obs.instruction])
    raw = policy.model.sample_actions(**batch, noise=noise(policy))[0, :, :4].double().numpy()
    np.testing.assert_allclose(chunk.positions, raw * [0.5, 0.5, 2.0, 1.0] + [1, -1, 0.5, 0])
    again = policy.predict_chunk(obs, noise=noise(policy))
    np.testing.assert_array_equal(again.positions, chunk.positions)


def test_delta_mode_adds_the_observed_joint_state():
    absolute, delta = make_policy(), make_policy('delta')
    obs = observation()
    a = absolute.predict_chunk(obs, noise=noise(absolute)).positions
    d = delta.predict_chunk(obs, noise=noise(delta)).positions
    np.testing.assert_allclose(d, a + obs.state)
    actions = np.ones((1, 3, 4))
    np.testing.assert_allclose(delta.normalize_actions(actions, obs.state[None]).numpy(),
                               absolute.normalize_actions(actions - obs.state).numpy())


def test_prepare_batch_and_normalize_actions_train_the_model():
    policy = make_policy()
    c = policy.model.config
    rng = np.random.default_rng(0)
    images = {'front': rng.integers(0, 255, (2, 30, 50, 3), dtype=np.uint8),
              'wrist': rng.integers(0, 255, (2, 50, 30, 3), dtype=np.uint8)}
    batch = policy.prepare_batch(images, rng.normal(size=(2, 4)),
                                 ['pick up the red cube', 'place it'])
    assert [t.shape for t in batch['images']] == [(2, 3, 32, 32)] * 2
    assert batch['state'].shape == (2, c.max_state_dim) and (batch['state'][:, 4:] == 0).all()
    assert batch['lang_masks'].dtype == torch.bool and not batch['lang_masks'][1].all()
    actions = rng.normal(size=(2, c.chunk_size, 4))
    batch['actions'] = policy.normalize_actions(actions)
    assert batch['actions'].shape == (2, c.chunk_size, c.max_action_dim)
    np.testing.assert_allclose(policy.unnormalize_actions(batch['actions']), actions,
                               atol=1e-5)
    loss = policy.model.compute_loss(batch)
    loss.backward()
    assert loss.ndim == 0 and torch.isfinite(loss)


def test_save_and_load_round_trip(tmp_path):
    policy = make_policy()
    policy.save_pretrained(tmp_path / 'p')
    names = {p.name for p in (tmp_path / 'p').iterdir()}
    assert {'config.json', 'model.safetensors', 'policy.json', 'tokenizer.json'} <= names
    loaded = Policy.from_pretrained(tmp_path / 'p')
    assert loaded.spec == policy.spec
    obs = observation()
    np.testing.assert_array_equal(loaded.predict_chunk(obs, noise=noise(policy)).positions,
                                  policy.predict_chunk(obs, noise=noise(policy)).positions)
    (tmp_path / 'p' / 'policy.json').write_text('{"spec": {}}')
    with pytest.raises(CheckpointError, match='policy.json'):
        Policy.from_pretrained(tmp_path / 'p')


def test_bfloat16_policy_runs():
    policy = make_policy().to('cpu', 'bfloat16')
    assert policy.model.dtype == torch.bfloat16
    chunk = policy.predict_chunk(observation(), noise=noise(policy))
    assert np.isfinite(chunk.positions).all()
    with pytest.raises(PolicyError, match="dtype='float8'"):
        policy.to('cpu', 'float8')


def test_bad_inputs_say_what_is_wrong():
    policy = make_policy()
    obs = observation()
    with pytest.raises(PolicyError, match=r"camera\(s\) \['wrist'\] missing"):
        policy.predict_chunk(Observation({'front': obs.images['front']}, obs.state, 'x'))
    with pytest.raises(PolicyError, match=r'state has shape \(1, 3\): expected \(B, 4\)'):
        policy.predict_chunk(Observation(obs.images, obs.state[:3], 'x'))
    with pytest.raises(ValueError, match='expected uint8'):
        policy.predict_chunk(Observation({**obs.images, 'front': np.zeros((8, 8))},
                                         obs.state, 'x'))
    with pytest.raises(PolicyError, match='policy_spec.action_dt_s=0: must be > 0'):
        PolicySpec(('a',), ('j',), action_dt_s=0)
    with pytest.raises(PolicyError, match='stats.action_mean: 2 values for 4 joint_names'):
        Policy(policy.model, policy.tokenizer, NormalizationStats.identity(4, 2), policy.spec)
