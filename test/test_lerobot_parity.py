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
Parity with LeRobot 0.6.1's SmolVLA on the committed fixture (no lerobot needed).

test/fixtures/lerobot_smolvla/ holds a LeRobot checkpoint, one batch (two cameras of
different non-square sizes, a padded language batch) and every intermediate LeRobot computed
(see its README.md; regenerate with test/fixtures/make_lerobot_smolvla_fixture.py). Every
stage must match to 1e-4 in float32; padded positions included.
"""

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip('torch')
pytest.importorskip('safetensors')
pytest.importorskip('transformers')

from vla_ros.model import SmolVLA  # noqa: E402
from vla_ros.policy import Observation, Policy  # noqa: E402

FIXTURE = Path(__file__).resolve().parent / 'fixtures' / 'lerobot_smolvla'
TOL = 1e-4
N_CAMERAS = 2


def max_diff(ours, theirs):
    return (ours.double() - theirs.double()).abs().max().item()


@pytest.fixture(scope='module')
def fixture():
    from safetensors import safe_open
    from safetensors.torch import load_file

    torch.set_num_threads(2)
    with safe_open(str(FIXTURE / 'inputs.safetensors'), 'pt') as f:
        meta = json.loads(f.metadata()['fixture'])
    inputs = load_file(str(FIXTURE / 'inputs.safetensors'))
    outputs = load_file(str(FIXTURE / 'outputs.safetensors'))
    return meta, inputs, outputs


@pytest.fixture(scope='module')
def model():
    return SmolVLA.from_lerobot(FIXTURE / 'checkpoint', FIXTURE / 'vlm').float().eval()


def model_inputs(inputs):
    images = [inputs[f'image.{c}'] for c in range(N_CAMERAS)]
    masks = [inputs[f'img_mask.{c}'] for c in range(N_CAMERAS)]
    return images, masks, inputs['lang_tokens'], inputs['lang_masks'], inputs['state']


@torch.no_grad()
def test_vision_and_connector(model, fixture):
    _, inputs, outputs = fixture
    images, *_ = model_inputs(inputs)
    tokens = model.embed_images(images)          # all cameras in one pass
    for c in range(N_CAMERAS):
        assert max_diff(model.vision.embed(images[c]), outputs[f'vision_embeddings.{c}']) <= TOL
        assert max_diff(model.vision(images[c]), outputs[f'vision_hidden.{c}']) <= TOL
        assert max_diff(tokens[c], outputs[f'image_emb.{c}']) <= TOL


@torch.no_grad()
def test_prefix_embeddings_masks_and_kv_cache(model, fixture):
    _, inputs, outputs = fixture
    embs, pad, allowed = model.embed_prefix(*model_inputs(inputs))
    # prefix_embs are ~30 in magnitude (sqrt(D) scaling): relative 1e-6 is float32 rounding.
    assert max_diff(embs, outputs['prefix_embs']) <= TOL
    assert torch.equal(pad, outputs['prefix_pad_masks'])
    assert torch.equal(allowed, outputs['prefix_att_2d_masks'])
    positions = pad.long().cumsum(dim=1) - 1
    assert torch.equal(positions, outputs['prefix_position_ids'])
    kv, hidden = model.language_model.prefill(embs, allowed, positions, return_hidden=True)
    assert max_diff(hidden, outputs['prefix_out']) <= TOL
    assert len(kv) == model.config.num_vlm_layers
    for layer, (k, v) in enumerate(kv):
        assert max_diff(k, outputs[f'kv_cache.{layer}.keys']) <= TOL
        assert max_diff(v, outputs[f'kv_cache.{layer}.values']) <= TOL
    # Without the last layer's MLP (the inference path) the cache is the same.
    kv_fast, _ = model.language_model.prefill(embs, allowed, positions)
    for (k, v), (k2, v2) in zip(kv, kv_fast):
        assert torch.equal(k, k2) and torch.equal(v, v2)


@torch.no_grad()
def test_every_denoising_step(model, fixture):
    _, inputs, outputs = fixture
    ctx = model.encode_prefix(*model_inputs(inputs))
    n = model.config.chunk_size
    n_prefix = outputs['prefix_pad_masks'].shape[1]
    expected_self = outputs['suffix_att_2d_masks']
    assert torch.equal(ctx.self_mask[:, 0] == 0, expected_self)
    assert torch.equal(ctx.cross_mask[:, 0] == 0, expected_self[:, :, :n_prefix])
    for k in range(model.config.num_steps):
        x_t, t = outputs[f'denoise.{k}.x_t'], outputs[f'denoise.{k}.time']
        assert t.tolist() == pytest.approx([1.0 - k / 10] * 2)
        assert max_diff(model.time_embedding(t), outputs[f'denoise.{k}.time_emb']) <= TOL
        suffix = model.embed_suffix(x_t, t)
        assert max_diff(suffix, outputs[f'denoise.{k}.suffix_embs']) <= TOL
        assert max_diff(model.expert(suffix, ctx), outputs[f'denoise.{k}.expert_out']) <= TOL
        assert max_diff(model.velocity(x_t, t, ctx), outputs[f'denoise.{k}.v_t']) <= TOL
    assert outputs['suffix_position_ids'][0].tolist() == list(
        range(int(outputs['prefix_pad_masks'][0].sum()), int(outputs['prefix_pad_masks'][0].sum())
              + n))


@torch.no_grad()
def test_sampled_actions(model, fixture):
    _, inputs, outputs = fixture
    actions = model.sample_actions(*model_inputs(inputs), noise=inputs['noise'])
    assert max_diff(actions, outputs['actions_norm_padded']) <= TOL


@torch.no_grad()
def test_training_losses(model, fixture):
    _, inputs, outputs = fixture
    images, masks, tokens, lang_masks, state = model_inputs(inputs)
    batch = {'images': images, 'img_masks': masks, 'lang_tokens': tokens,
             'lang_masks': lang_masks, 'state': state, 'actions': inputs['train_actions'],
             'noise': inputs['noise'], 'time': inputs['train_time']}
    expected = outputs['train_losses']
    assert max_diff(model.flow_losses(batch), expected) <= TOL
    # LeRobot's reduction: mean over the 6 real action dims.
    assert model.compute_loss(batch).item() == pytest.approx(
        expected[:, :, :6].mean().item(), rel=1e-4)


@torch.no_grad()
def test_policy_end_to_end_from_raw_observation(fixture):
    meta, inputs, outputs = fixture
    policy = Policy.from_pretrained(FIXTURE / 'checkpoint')
    cameras = [name.split('.')[-1] for name in meta['cameras']]
    assert policy.spec.camera_names == tuple(cameras)
    raw = {name: inputs[f'image_raw.{c}'].numpy() for c, name in enumerate(cameras)}
    batch = policy.prepare_batch(raw, inputs['state_raw'].numpy(), meta['tasks'])
    for c in range(N_CAMERAS):
        assert max_diff(batch['images'][c], inputs[f'image.{c}']) <= TOL
    assert torch.equal(batch['lang_tokens'], inputs['lang_tokens'])
    assert torch.equal(batch['lang_masks'], inputs['lang_masks'])
    assert max_diff(batch['state'], inputs['state']) <= TOL
    # One observation at a time: no language padding, same actions as the padded batch.
    for b in range(2):
        obs = Observation({name: img[b] for name, img in raw.items()},
                          inputs['state_raw'][b].numpy(), meta['tasks'][b], stamp=12.5)
        chunk = policy.predict_chunk(obs, noise=inputs['noise'][b:b + 1])
        assert chunk.t0 == 12.5 and chunk.horizon == 10
        assert np.abs(chunk.positions - outputs['e2e_actions'][b].double().numpy()).max() <= TOL
