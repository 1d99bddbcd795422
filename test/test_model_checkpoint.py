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

"""Checkpoints: our format round-trips, key maps cover every tensor, bad files fail clearly."""

import json
import shutil

import pytest

torch = pytest.importorskip('torch')
pytest.importorskip('safetensors')

from safetensors.torch import load_file, save_file  # noqa: E402

from vla_ros.model import SmolVLA, SmolVLAConfig  # noqa: E402
from vla_ros.model.checkpoint import (  # noqa: E402
    CheckpointError, LEROBOT_IGNORED, lerobot_key_map)

torch.set_num_threads(2)


@pytest.fixture()
def saved(tmp_path):
    torch.manual_seed(0)
    model = SmolVLA(SmolVLAConfig.tiny()).eval()
    model.save_pretrained(tmp_path / 'ckpt')
    return model, tmp_path / 'ckpt'


def inputs(config):
    g = torch.Generator().manual_seed(0)
    s = config.vision_image_size
    return ([torch.rand(1, 3, s, s, generator=g) * 2 - 1], [torch.ones(1, dtype=torch.bool)],
            torch.randint(0, config.vocab_size, (1, 4), generator=g),
            torch.ones(1, 4, dtype=torch.bool), torch.randn(1, config.max_state_dim, generator=g),
            torch.randn(1, config.chunk_size, config.max_action_dim, generator=g))


def test_save_and_load_round_trip(saved):
    model, path = saved
    assert sorted(p.name for p in path.iterdir()) == ['config.json', 'model.safetensors']
    loaded = SmolVLA.from_pretrained(path)
    assert loaded.config == model.config
    *args, noise = inputs(model.config)
    torch.testing.assert_close(loaded.sample_actions(*args, noise=noise),
                               model.sample_actions(*args, noise=noise), rtol=0, atol=0)


def test_missing_tensor_is_one_clear_error(saved):
    _, path = saved
    tensors = load_file(str(path / 'model.safetensors'))
    del tensors['expert.layers.1.k_proj.weight']
    save_file(tensors, str(path / 'model.safetensors'))
    with pytest.raises(CheckpointError, match=r'model.safetensors: does not fit the model: '
                                              r"1 missing tensor\(s\), e.g. \['expert.layers.1"):
        SmolVLA.from_pretrained(path)


def test_wrong_shape_and_unexpected_tensor_are_reported(saved):
    _, path = saved
    tensors = load_file(str(path / 'model.safetensors'))
    tensors['state_proj.weight'] = torch.zeros(3, 3)
    tensors['extra.weight'] = torch.zeros(1)
    save_file(tensors, str(path / 'model.safetensors'))
    with pytest.raises(CheckpointError, match=r"unexpected tensor\(s\), e.g. \['extra.weight'\]"
                                              r'.*state_proj.weight has shape \(3, 3\)'):
        SmolVLA.from_pretrained(path)


@pytest.mark.parametrize('name', ['pytorch_model.bin', 'model.pt', 'policy.pth'])
def test_pickles_are_refused_with_the_reason(saved, name):
    _, path = saved
    (path / 'model.safetensors').unlink()
    (path / name).write_bytes(b'\x80\x04not really a pickle')
    with pytest.raises(CheckpointError, match=f'{name}: is a pickle.*arbitrary code'):
        SmolVLA.from_pretrained(path)
    with pytest.raises(CheckpointError, match='is a pickle'):
        SmolVLA.from_pretrained(path / name)


def test_corrupt_files_name_the_file(saved):
    _, path = saved
    (path / 'model.safetensors').write_bytes(b'garbage')
    with pytest.raises(CheckpointError, match='model.safetensors: not a readable safetensors'):
        SmolVLA.from_pretrained(path)
    (path / 'config.json').write_text('{not json')
    with pytest.raises(CheckpointError, match='config.json: not valid JSON'):
        SmolVLA.from_pretrained(path)
    with pytest.raises(CheckpointError, match='no such checkpoint directory'):
        SmolVLA.from_pretrained(path / 'nope')


def test_foreign_config_is_refused(saved):
    _, path = saved
    (path / 'config.json').write_text(json.dumps({'type': 'smolvla'}))
    with pytest.raises(CheckpointError, match='use from_lerobot'):
        SmolVLA.from_pretrained(path)


@pytest.mark.parametrize('multiplier,expert_width,expert_mlp', [(0.75, 720, 2048),
                                                                (0.5, 480, 1280)])
def test_lerobot_key_map_covers_smolvla_base(multiplier, expert_width, expert_mlp):
    config = SmolVLAConfig.smolvla_base(expert_width_multiplier=multiplier)
    with torch.device('meta'):
        model = SmolVLA(config)
    state = model.state_dict()
    key_map = lerobot_key_map(config)
    assert set(key_map) == set(state)
    assert len(set(key_map.values())) == len(key_map)
    assert not set(key_map.values()) & set(LEROBOT_IGNORED)
    e = 'model.vlm_with_expert.lm_expert.layers.'
    reverse = {v: k for k, v in key_map.items()}
    assert state[reverse[e + '1.self_attn.k_proj.weight']].shape == (320, 320)   # cross
    assert state[reverse[e + '0.self_attn.k_proj.weight']].shape == (320, expert_width)
    assert state[reverse[e + '0.mlp.gate_proj.weight']].shape == (expert_mlp, expert_width)
    assert state[reverse['model.vlm_with_expert.vlm.model.connector.modality_projection.proj'
                         '.weight']].shape == (960, 768 * 16)
    assert sum(k.startswith('language_model.layers.') and k.endswith('q_proj.weight')
               for k in state) == 16


def test_from_vlm_loads_a_transformers_smolvlm_directory(tmp_path):
    transformers = pytest.importorskip('transformers')
    hf_config = transformers.SmolVLMConfig(
        vision_config={'hidden_size': 32, 'intermediate_size': 64, 'num_hidden_layers': 1,
                       'num_attention_heads': 2, 'image_size': 64, 'patch_size': 8},
        text_config={'model_type': 'llama', 'hidden_size': 64, 'intermediate_size': 128,
                     'num_hidden_layers': 3, 'num_attention_heads': 4,
                     'num_key_value_heads': 2, 'head_dim': 16, 'vocab_size': 100},
        scale_factor=2, tie_word_embeddings=False)
    torch.manual_seed(0)
    hf = transformers.SmolVLMForConditionalGeneration(hf_config).float().eval()
    hf.save_pretrained(tmp_path / 'vlm')
    for p in (tmp_path / 'vlm').glob('*.bin'):
        p.unlink()
    model = SmolVLA.from_vlm(tmp_path / 'vlm', num_vlm_layers=2, chunk_size=4,
                             n_action_steps=4)
    c = model.config
    assert (c.text_hidden_size, c.vision_image_size, c.num_vlm_layers) == (64, 64, 2)
    pixels = torch.rand(2, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        theirs = hf.model.vision_model(pixel_values=pixels).last_hidden_state
        torch.testing.assert_close(model.vision(pixels), theirs, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(model.connector(theirs), hf.model.connector(theirs))
    torch.testing.assert_close(model.language_model.embed_tokens.weight,
                               hf.model.text_model.embed_tokens.weight)
    shutil.rmtree(tmp_path / 'vlm')
