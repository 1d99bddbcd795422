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

"""SmolVLA on tiny configs: equivalences, not just shapes."""

import math

import pytest

torch = pytest.importorskip('torch')

from vla_ros.model import ModelConfigError, SmolVLA, SmolVLAConfig  # noqa: E402
from vla_ros.model.connector import pixel_shuffle  # noqa: E402
from vla_ros.model.flow_matching import euler_sample, interpolate, sample_time  # noqa: E402
from vla_ros.model.language_model import apply_rotary, rotary_tables  # noqa: E402
from vla_ros.model.smolvla import block_attention  # noqa: E402

torch.set_num_threads(2)


def make_batch(config, batch=2, lang=6, seed=0, cameras=2):
    g = torch.Generator().manual_seed(seed)
    size = config.vision_image_size
    lang_masks = torch.ones(batch, lang, dtype=torch.bool)
    lang_masks[0, lang - 2:] = False            # a padded language batch
    return {
        'images': [torch.rand(batch, 3, size, size, generator=g) * 2 - 1
                   for _ in range(cameras)],
        'img_masks': [torch.ones(batch, dtype=torch.bool) for _ in range(cameras)],
        'lang_tokens': torch.randint(0, config.vocab_size, (batch, lang), generator=g),
        'lang_masks': lang_masks,
        'state': torch.randn(batch, config.max_state_dim, generator=g),
        'actions': torch.randn(batch, config.chunk_size, config.max_action_dim, generator=g),
        'noise': torch.randn(batch, config.chunk_size, config.max_action_dim, generator=g),
    }


def prefix_args(batch):
    return (batch['images'], batch['img_masks'], batch['lang_tokens'], batch['lang_masks'],
            batch['state'])


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return SmolVLA(SmolVLAConfig.tiny()).eval()


# --------------------------------------------------------------------------------------------
# Building blocks.

def test_pixel_shuffle_equals_transformers_idefics3_connector():
    idefics3 = pytest.importorskip('transformers.models.idefics3.modeling_idefics3')
    from transformers import Idefics3Config

    config = SmolVLAConfig.tiny(vision_image_size=64, scale_factor=4)   # 8x8 patches -> 4
    hf_config = Idefics3Config(
        vision_config={'hidden_size': config.vision_hidden_size},
        text_config={'hidden_size': config.text_hidden_size}, scale_factor=4)
    theirs = idefics3.Idefics3Connector(hf_config)
    ours = SmolVLA(config).connector
    ours.proj.weight.data.copy_(theirs.modality_projection.proj.weight)
    x = torch.randn(3, 64, config.vision_hidden_size)
    torch.testing.assert_close(pixel_shuffle(x, 4), theirs.pixel_shuffle(x, 4), rtol=0, atol=0)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x), rtol=0, atol=0)


def test_vision_positions_equal_transformers_bucketing():
    # 19 patches per side is a size where SmolVLM's float bucketing is not the identity.
    smolvlm = pytest.importorskip('transformers.models.smolvlm.modeling_smolvlm')
    from transformers import SmolVLMVisionConfig

    config = SmolVLAConfig.tiny(vision_image_size=19 * 8, scale_factor=1)
    ours = SmolVLA(config).vision
    hf_config = SmolVLMVisionConfig(hidden_size=config.vision_hidden_size, patch_size=8,
                                    image_size=19 * 8)
    theirs = smolvlm.SmolVLMVisionEmbeddings(hf_config)
    theirs.load_state_dict({'patch_embedding.weight': ours.patch_embedding.weight,
                            'patch_embedding.bias': ours.patch_embedding.bias,
                            'position_embedding.weight': ours.position_embedding.weight})
    pixels = torch.randn(2, 3, 19 * 8, 19 * 8)
    full = torch.ones(2, 19, 19, dtype=torch.bool)
    assert not torch.equal(ours.position_ids, torch.arange(19 * 19))
    with torch.no_grad():
        torch.testing.assert_close(ours.embed(pixels), theirs(pixels, full))


def test_rotary_is_a_rotation_that_depends_on_relative_position():
    q, k = torch.randn(2, 1, 4, 1, 16)
    pos = torch.tensor([[3], [10]])
    qa, ka = (apply_rotary(t, rotary_tables(pos[:1], 16, 1e4, torch.float32)) for t in (q, k))
    qb = apply_rotary(q, rotary_tables(pos[:1] + 5, 16, 1e4, torch.float32))
    kb = apply_rotary(k, rotary_tables(pos[:1] + 5, 16, 1e4, torch.float32))
    torch.testing.assert_close((qa * ka).sum(), (qb * kb).sum(), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(qa.norm(), q.norm())


def test_block_attention_is_prefix_lm_then_causal():
    pad = torch.tensor([[True, True, False, True, True, True]])
    blocks = torch.tensor([0, 0, 0, 1, 2, 3])
    allowed = block_attention(pad, blocks)[0]
    assert allowed[0, 1] and allowed[1, 0]              # bidirectional block 0
    assert not allowed[0, 3] and allowed[3, 0]          # block 0 does not see later blocks
    assert not allowed[:, 2].any() and not allowed[2].any()   # padding sees / is seen by none
    assert allowed[5, 4] and not allowed[4, 5]          # causal after the prefix


# --------------------------------------------------------------------------------------------
# Flow matching.

def test_constant_velocity_integrates_exactly():
    noise = torch.randn(3, 5, 4, dtype=torch.float64)
    velocity = torch.randn(3, 5, 4, dtype=torch.float64)
    times = []

    def field(x, t):
        times.append(t[0].item())
        return velocity

    out = euler_sample(field, noise, num_steps=10)
    torch.testing.assert_close(out, noise - velocity, rtol=0, atol=1e-12)
    assert times == pytest.approx([1.0 - k / 10 for k in range(10)])


def test_true_velocity_maps_noise_to_actions():
    actions, noise = torch.randn(2, 2, 4, 3, dtype=torch.float64)
    x_t, u = interpolate(actions, noise, torch.tensor([1.0, 0.0], dtype=torch.float64))
    torch.testing.assert_close(x_t, torch.stack([noise[0], actions[1]]))
    out = euler_sample(lambda x, t: u, noise, num_steps=7)
    torch.testing.assert_close(out, actions)


def test_training_time_is_beta_1_5_1_in_range():
    t = sample_time(20000, generator=torch.Generator().manual_seed(0))
    assert 0.001 <= t.min() and t.max() <= 1.0
    # Beta(1.5, 1) has mean 0.6; scaled by 0.999 and shifted by 0.001.
    assert t.mean().item() == pytest.approx(0.6 * 0.999 + 0.001, abs=0.01)


# --------------------------------------------------------------------------------------------
# The model.

def reference_velocity(model, batch, x_t, time):
    """
    Recompute the prefix and the expert as one joint sequence, no cache (LeRobot training).

    Written independently of the cached path: one boolean mask over [prefix ; actions],
    explicit softmax attention with the KV heads repeated.
    """
    c = model.config
    lm, expert = model.language_model, model.expert
    embs, pad_p, _ = model.embed_prefix(*prefix_args(batch))
    x_s = model.embed_suffix(x_t, time)
    b, n_p, n_s = embs.shape[0], embs.shape[1], x_s.shape[1]
    pad = torch.cat([pad_p, torch.ones(b, n_s, dtype=torch.bool)], dim=1)
    blocks = torch.cat([torch.zeros(n_p - 1), torch.ones(1), 2 + torch.arange(n_s)])
    allowed = block_attention(pad, blocks)
    pos = pad.long().cumsum(1) - 1
    rope_p = rotary_tables(pos[:, :n_p], c.text_head_dim, c.rope_theta, embs.dtype)
    rope_s = rotary_tables(pos[:, n_p:], c.text_head_dim, c.rope_theta, embs.dtype)
    rope_x = rotary_tables(pos[:, n_p:] - pos[:, n_p:].min(1, keepdim=True).values,
                           c.text_head_dim, c.rope_theta, embs.dtype)

    def softmax_attention(q, k, v, mask):
        rep = q.shape[1] // k.shape[1]
        k, v = k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
        scores = scores.masked_fill(~mask[:, None], torch.finfo(scores.dtype).min)
        out = scores.softmax(-1) @ v
        return out.transpose(1, 2).flatten(2)

    x_p = embs
    for i, (layer, e_layer) in enumerate(zip(lm.layers, expert.layers)):
        q_p, k_p, v_p = layer.qkv(layer.input_layernorm(x_p), rope_p)
        h_s = e_layer.input_layernorm(x_s)
        if not expert.is_cross[i]:
            q_s, k_s, v_s = e_layer.qkv(h_s, rope_s)
            out = softmax_attention(torch.cat([q_p, q_s], 2), torch.cat([k_p, k_s], 2),
                                    torch.cat([v_p, v_s], 2), allowed)
            a_p, a_s = out[:, :n_p], out[:, n_p:]
        else:
            a_p = softmax_attention(q_p, k_p, v_p, allowed[:, :n_p, :n_p])
            q_s = apply_rotary(e_layer.split_heads(e_layer.q_proj(h_s), e_layer.heads), rope_x)
            k_x = e_layer.split_heads(e_layer.k_proj(k_p.transpose(1, 2).flatten(2)),
                                      e_layer.kv_heads)
            v_x = e_layer.split_heads(e_layer.v_proj(v_p.transpose(1, 2).flatten(2)),
                                      e_layer.kv_heads)
            a_s = softmax_attention(q_s, k_x, v_x, allowed[:, n_p:, :n_p])
        x_p, x_s = layer.finish(x_p, a_p), e_layer.finish(x_s, a_s)
    return model.action_out_proj(expert.norm(x_s)).float()


@torch.no_grad()
def test_kv_cached_sampling_equals_uncached_joint_forward(model):
    batch = make_batch(model.config)
    cached = model.sample_actions(*prefix_args(batch), noise=batch['noise'])
    uncached = euler_sample(lambda x, t: reference_velocity(model, batch, x, t),
                            batch['noise'], model.config.num_steps)
    torch.testing.assert_close(cached, uncached, rtol=1e-5, atol=1e-5)


@torch.no_grad()
def test_padding_language_tokens_does_not_change_actions(model):
    batch = make_batch(model.config)
    ref = model.sample_actions(*prefix_args(batch), noise=batch['noise'])
    padded = dict(batch)
    extra = 5
    padded['lang_tokens'] = torch.cat(
        [batch['lang_tokens'], torch.randint(0, 100, (2, extra))], dim=1)
    padded['lang_masks'] = torch.cat(
        [batch['lang_masks'], torch.zeros(2, extra, dtype=torch.bool)], dim=1)
    out = model.sample_actions(*prefix_args(padded), noise=batch['noise'])
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)
    # The padding tokens' values are irrelevant too.
    padded['lang_tokens'][0, -extra - 2:] = 7
    torch.testing.assert_close(model.sample_actions(*prefix_args(padded),
                                                    noise=batch['noise']), ref,
                               rtol=1e-5, atol=1e-5)


@torch.no_grad()
def test_no_language_tokens_equals_all_padding(model):
    # An empty instruction can tokenize to nothing; the prefix is then images + state only.
    batch = make_batch(model.config)
    none = dict(batch, lang_tokens=batch['lang_tokens'][:, :0],
                lang_masks=batch['lang_masks'][:, :0])
    padded = dict(batch, lang_masks=torch.zeros_like(batch['lang_masks']))
    torch.testing.assert_close(model.sample_actions(*prefix_args(none), noise=batch['noise']),
                               model.sample_actions(*prefix_args(padded), noise=batch['noise']),
                               rtol=1e-5, atol=1e-5)


@torch.no_grad()
def test_masked_camera_is_ignored(model):
    batch = make_batch(model.config)
    batch['img_masks'][1] = torch.zeros(2, dtype=torch.bool)
    ref = model.sample_actions(*prefix_args(batch), noise=batch['noise'])
    batch['images'][1] = -torch.ones_like(batch['images'][1])
    torch.testing.assert_close(model.sample_actions(*prefix_args(batch),
                                                    noise=batch['noise']), ref)


@torch.no_grad()
def test_batch_members_are_independent(model):
    batch = make_batch(model.config)
    both = model.sample_actions(*prefix_args(batch), noise=batch['noise'])
    one = {k: ([x[1:] for x in v] if isinstance(v, list) else v[1:]) for k, v in batch.items()}
    one['lang_tokens'], one['lang_masks'] = one['lang_tokens'], one['lang_masks']
    alone = model.sample_actions(*prefix_args(one), noise=one['noise'])
    torch.testing.assert_close(alone[0], both[1], rtol=1e-5, atol=1e-5)


def test_compute_loss_ignores_padded_steps_and_padded_action_dims():
    torch.manual_seed(0)
    model = SmolVLA(SmolVLAConfig.tiny(action_dim=5))
    batch = make_batch(model.config)
    batch['time'] = torch.tensor([0.2, 0.7])
    batch['action_is_pad'] = torch.zeros(2, model.config.chunk_size, dtype=torch.bool)
    batch['action_is_pad'][1, 6:] = True
    with torch.no_grad():
        losses = model.flow_losses(batch)
        loss = model.compute_loss(batch)
        per_sample = model.compute_loss(batch, reduction='none')
    valid = torch.cat([losses[0, :, :5].flatten(), losses[1, :6, :5].flatten()])
    assert loss.item() == pytest.approx(valid.mean().item(), rel=1e-6)
    assert per_sample[1].item() == pytest.approx(losses[1, :6, :5].mean().item(), rel=1e-6)
    with pytest.raises(ValueError, match='reduction'):
        model.compute_loss(batch, reduction='sum')


def test_tiny_model_overfits_one_batch():
    torch.manual_seed(0)
    model = SmolVLA(SmolVLAConfig.tiny()).train()
    batch = make_batch(model.config, seed=3, cameras=1)
    batch['time'] = torch.tensor([0.35, 0.8])
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        loss = model.compute_loss(batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] / 10, losses[::20]


def test_frozen_parts_follow_lerobot_switches():
    model = SmolVLA(SmolVLAConfig.tiny(train_expert_only=True, train_state_proj=True))
    assert not any(p.requires_grad for p in model.language_model.parameters())
    assert not any(p.requires_grad for p in model.vision.parameters())
    assert all(p.requires_grad for p in model.expert.parameters())
    assert model.state_proj.weight.requires_grad
    model = SmolVLA(SmolVLAConfig.tiny(freeze_vision_encoder=True, train_expert_only=False))
    assert not any(p.requires_grad for p in model.vision.parameters())
    assert all(p.requires_grad for p in model.language_model.parameters())


@torch.no_grad()
def test_bfloat16_inference_is_close_to_float32():
    torch.manual_seed(0)
    model = SmolVLA(SmolVLAConfig.tiny()).eval()
    batch = make_batch(model.config)
    ref = model.sample_actions(*prefix_args(batch), noise=batch['noise'])
    model.to(torch.bfloat16)
    out = model.sample_actions(*prefix_args(batch), noise=batch['noise'])
    assert out.dtype == torch.float32
    assert (out - ref).abs().max().item() < 0.1 * ref.abs().max().item()


# --------------------------------------------------------------------------------------------
# Config.

def test_presets():
    base = SmolVLAConfig.smolvla_base()
    assert (base.expert_hidden_size, base.expert_intermediate_size, base.n_img_tokens) == (
        720, 2048, 64)
    assert SmolVLAConfig.smolvla_base(expert_width_multiplier=0.5).expert_intermediate_size \
        == 1280
    assert SmolVLAConfig.from_dict(SmolVLAConfig.tiny().to_dict()) == SmolVLAConfig.tiny()


@pytest.mark.parametrize('field,value,rule', [
    ('chunk_size', 0, 'must be > 0'),
    ('n_action_steps', 60, 'must be <= chunk_size'),
    ('attention_mode', 'self_attn', "must be 'cross_attn'"),
    ('num_vlm_layers', 40, 'must be <= text_num_hidden_layers'),
    ('scale_factor', 3, 'must divide the 32 patches per side'),
])
def test_config_errors_name_field_value_and_rule(field, value, rule):
    with pytest.raises(ModelConfigError, match=f'smolvla.{field}={value!r}: {rule}'):
        SmolVLAConfig.smolvla_base(**{field: value})
