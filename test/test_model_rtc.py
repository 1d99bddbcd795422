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
Real-Time Chunking in the model: schedules, parity with LeRobot 0.6.1, ΠGDM, training-time RTC.

test/fixtures/lerobot_rtc/ holds what LeRobot 0.6.1's SmolVLA returns with ``rtc_config`` set
(one per schedule, two situations each), on the SmolVLA parity fixture's checkpoint and inputs;
regenerate with test/fixtures/make_lerobot_rtc_fixture.py.
"""

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip('torch')

from vla_ros.config import ConfigError  # noqa: E402
from vla_ros.model import RTCConfig, SmolVLA, SmolVLAConfig  # noqa: E402
from vla_ros.model.flow_matching import euler_sample, interpolate  # noqa: E402
from vla_ros.model.lerobot_reference import randomize_weights  # noqa: E402
from vla_ros.model.rtc import (guidance_weight, prefix_weights, rtc_sample,  # noqa: E402
                               SCHEDULES)
from vla_ros.training.data import sample_rtc_delays  # noqa: E402
from vla_ros.training.train_config import TrainConfig  # noqa: E402
from vla_ros.training.trainer import train  # noqa: E402

FIXTURES = Path(__file__).resolve().parent / 'fixtures'
SMOLVLA = FIXTURES / 'lerobot_smolvla'
RTC = FIXTURES / 'lerobot_rtc'
TOL = 1e-4

torch.set_num_threads(2)


def make_batch(config, batch=2, lang=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    size = config.vision_image_size
    lang_masks = torch.ones(batch, lang, dtype=torch.bool)
    lang_masks[0, -2:] = False
    return {
        'images': [torch.rand(batch, 3, size, size, generator=g) * 2 - 1],
        'img_masks': [torch.ones(batch, dtype=torch.bool)],
        'lang_tokens': torch.randint(0, config.vocab_size, (batch, lang), generator=g),
        'lang_masks': lang_masks,
        'state': torch.randn(batch, config.max_state_dim, generator=g),
        'actions': torch.randn(batch, config.chunk_size, config.max_action_dim, generator=g),
        'noise': torch.randn(batch, config.chunk_size, config.max_action_dim, generator=g),
        'prev': torch.randn(batch, config.chunk_size, config.max_action_dim, generator=g),
    }


def prefix_args(batch):
    return (batch['images'], batch['img_masks'], batch['lang_tokens'], batch['lang_masks'],
            batch['state'])


@pytest.fixture(scope='module')
def tiny():
    # O(1) weights (not the 0.02 init) so that the velocity really depends on x_t.
    model = SmolVLA(SmolVLAConfig.tiny()).eval()
    randomize_weights(model, seed=3)
    return model


@pytest.fixture(scope='module')
def batch(tiny):
    return make_batch(tiny.config)


# --------------------------------------------------------------------------------------------
# Prefix weights and guidance weight.

def test_prefix_weights_small_case_exact():
    # delay 2, horizon 5, chunk 6: two frozen steps, a ramp over 3, zero after the horizon.
    assert prefix_weights(2, 5, 6, 'zeros').tolist() == [1, 1, 0, 0, 0, 0]
    assert prefix_weights(2, 5, 6, 'ones').tolist() == [1, 1, 1, 1, 1, 0]
    assert prefix_weights(2, 5, 6, 'linear').tolist() == [1, 1, 0.75, 0.5, 0.25, 0]
    ramp = [r * math.expm1(r) / (math.e - 1) for r in (0.75, 0.5, 0.25)]
    assert prefix_weights(2, 5, 6, 'exp').tolist() == pytest.approx([1, 1, *ramp, 0], abs=1e-7)
    # delay 0: the ramp starts at the first step; delay >= horizon: ones up to the horizon.
    assert prefix_weights(0, 3, 5, 'linear').tolist() == [0.75, 0.5, 0.25, 0, 0]
    assert prefix_weights(0, 3, 5, 'zeros').tolist() == [0, 0, 0, 0, 0]
    for schedule in SCHEDULES:
        assert prefix_weights(4, 3, 5, schedule).tolist() == [1, 1, 1, 0, 0]
        assert prefix_weights(9, 9, 5, schedule).tolist() == [1, 1, 1, 1, 1]


@pytest.fixture(scope='module')
def rtc_fixture():
    from safetensors import safe_open
    from safetensors.torch import load_file

    with safe_open(str(RTC / 'outputs.safetensors'), 'pt') as f:
        meta = json.loads(f.metadata()['fixture'])
    return meta, load_file(str(RTC / 'inputs.safetensors')), load_file(
        str(RTC / 'outputs.safetensors'))


@pytest.mark.parametrize('schedule', SCHEDULES)
def test_prefix_weights_equal_lerobot_on_a_grid(rtc_fixture, schedule):
    meta, _, outputs = rtc_fixture
    ours = torch.stack([torch.stack([
        prefix_weights(d, h, meta['weight_chunk'], schedule) for h in meta['weight_horizons']])
        for d in meta['weight_delays']])
    assert torch.equal(ours, outputs[f'prefix_weights.{schedule}'])


def test_guidance_weight_equals_lerobot_and_is_clipped(rtc_fixture):
    meta, _, outputs = rtc_fixture
    times = torch.tensor([1.0 - k / 10 for k in range(10)])
    for clip in meta['guidance_clips']:
        expected = outputs[f'guidance_weight.{clip:g}']
        assert (guidance_weight(times, clip) - expected).abs().max() <= 1e-5
    weights = guidance_weight(times, 10.0)
    assert weights[0] == 10.0                                   # t = 1: infinite, clipped
    assert weights[5].item() == pytest.approx(2.0)              # t = 0.5: (0.25+0.25)/0.25
    assert weights.max() <= 10.0 and (guidance_weight(times, 2.0) == 2.0).all()


# --------------------------------------------------------------------------------------------
# Without RTC nothing changes.

@torch.no_grad()
def test_without_rtc_sampling_is_bit_identical(tiny, batch):
    ctx = tiny.encode_prefix(*prefix_args(batch))
    # Today's path, spelled out: plain Euler over the cached velocity.
    expected = euler_sample(lambda x, t: tiny.velocity(x, t, ctx), batch['noise'],
                            tiny.config.num_steps)
    plain = tiny.sample_actions(*prefix_args(batch), noise=batch['noise'])
    assert torch.equal(plain, expected)
    rtc = RTCConfig(schedule='exp', execution_horizon=6)
    assert torch.equal(tiny.sample_actions(*prefix_args(batch), noise=batch['noise'],
                                           rtc=rtc, inference_delay=2), expected)
    assert torch.equal(tiny.sample_actions(*prefix_args(batch), noise=batch['noise'],
                                           prev_chunk=batch['prev'], inference_delay=2),
                       expected)


@torch.no_grad()
def test_per_step_time_equals_per_sample_time_when_constant(tiny, batch):
    time = torch.tensor([0.3, 0.8])
    per_step = time[:, None].expand(-1, tiny.config.chunk_size)
    assert torch.equal(tiny.embed_suffix(batch['noise'], per_step),
                       tiny.embed_suffix(batch['noise'], time))
    x_t, u = interpolate(batch['actions'], batch['noise'], time)
    x_t2, u2 = interpolate(batch['actions'], batch['noise'], per_step)
    assert torch.equal(x_t, x_t2) and torch.equal(u, u2)


# --------------------------------------------------------------------------------------------
# Parity with LeRobot 0.6.1 ('lerobot' guidance).

@pytest.fixture(scope='module')
def lerobot_model():
    return SmolVLA.from_lerobot(SMOLVLA / 'checkpoint', SMOLVLA / 'vlm').float().eval()


@pytest.fixture(scope='module')
def lerobot_prefix():
    from safetensors.torch import load_file

    inputs = load_file(str(SMOLVLA / 'inputs.safetensors'))
    return ([inputs[f'image.{c}'] for c in range(2)], [inputs[f'img_mask.{c}'] for c in range(2)],
            inputs['lang_tokens'], inputs['lang_masks'], inputs['state'])


@pytest.mark.parametrize('schedule', SCHEDULES)
@torch.no_grad()
def test_guided_actions_equal_lerobot(lerobot_model, lerobot_prefix, rtc_fixture, schedule):
    meta, inputs, outputs = rtc_fixture
    for case, spec in meta['cases'].items():
        key = f'{schedule}.{case}'
        rtc = RTCConfig(schedule=schedule, max_guidance_weight=spec['max_guidance_weight'],
                        execution_horizon=spec['execution_horizon'], guidance='lerobot')
        prev, noise = inputs[f'prev_chunk.{key}'], inputs[f'noise.{key}']
        delay = int(inputs[f'inference_delay.{key}'])
        ours = lerobot_model.sample_actions(*lerobot_prefix, noise=noise, prev_chunk=prev,
                                            inference_delay=delay, rtc=rtc)
        expected = outputs[f'actions.{key}']
        assert (ours - expected).abs().max().item() <= TOL, key
        # The guidance did something: far from the unguided chunk LeRobot also recorded
        # (test_lerobot_parity.py checks unguided sampling).
        assert (expected - outputs[f'unguided.{key}']).abs().max().item() > 0.5
        if prev.shape[1:] != noise.shape[1:]:
            # Padded by the caller to the chunk's shape: the same, once the horizon is clipped
            # to the real steps as LeRobot clips it.
            padded = torch.zeros_like(noise)
            padded[:, :prev.shape[1], :prev.shape[2]] = prev
            clipped = dataclasses.replace(rtc, execution_horizon=prev.shape[1])
            again = lerobot_model.sample_actions(*lerobot_prefix, noise=noise,
                                                 prev_chunk=padded, inference_delay=delay,
                                                 rtc=clipped)
            assert torch.equal(again, ours)


# --------------------------------------------------------------------------------------------
# 'vjp': ΠGDM through the action expert.

def explicit_jacobian_sample(model, batch, prev, weights, clip):
    """
    ΠGDM written from the paper with the full Jacobian of the denoised estimate.

    For each Euler step: a_hat(x) = x - t v(x), J = d a_hat / d x by torch.autograd
    (every entry), g = J^T (W (Y - a_hat)), v' = v - min(clip, (t^2 + (1-t)^2)/(t (1-t))) g.
    """
    ctx = model.encode_prefix(*prefix_args(batch))
    n = model.config.num_steps
    x = batch['noise'].clone()
    for k in range(n):
        t = 1.0 + k * (-1.0 / n)
        times = torch.full((x.shape[0],), t)

        def denoised(y):
            return y - t * model.velocity(y, times, ctx)

        jac = torch.autograd.functional.jacobian(denoised, x, vectorize=True)
        a_hat = denoised(x).detach()
        error = weights * (prev - a_hat)
        correction = torch.einsum('ijk,ijklmn->lmn', error, jac)
        k_p = clip if t == 1.0 else min(clip, (t * t + (1 - t) ** 2) / (t * (1 - t)))
        v = model.velocity(x, times, ctx).detach()
        x = x + (-1.0 / n) * (v - k_p * correction)
    return x


def test_vjp_guidance_equals_explicit_jacobian(tiny, batch):
    c = tiny.config
    prev = batch['prev'][:, :6]
    rtc = RTCConfig(schedule='ones', max_guidance_weight=5.0, execution_horizon=5,
                    guidance='vjp')
    weights = torch.tensor([1.0] * 5 + [0.0] * (c.chunk_size - 5))[None, :, None]
    padded = torch.zeros_like(batch['noise'])
    padded[:, :6] = prev
    expected = explicit_jacobian_sample(tiny, batch, padded, weights, 5.0)
    ours = tiny.sample_actions(*prefix_args(batch), noise=batch['noise'], prev_chunk=prev,
                               inference_delay=2, rtc=rtc)
    assert (ours - expected).abs().max().item() <= 1e-5
    # The Jacobian matters here: the cheap variant differs.
    cheap = tiny.sample_actions(*prefix_args(batch), noise=batch['noise'], prev_chunk=prev,
                                inference_delay=2, rtc=RTCConfig(
                                    schedule='ones', max_guidance_weight=5.0,
                                    execution_horizon=5))
    assert (cheap - ours).abs().max().item() > 1e-3
    assert not any(p.grad is not None for p in tiny.parameters())


# --------------------------------------------------------------------------------------------
# Clipping and edge cases.

def test_max_guidance_weight_clips_the_first_step():
    # v = 0 and one Euler step from t = 1: x = noise + clip * W * (Y - noise).
    noise, prev = torch.randn(2, 1, 4, 3)
    for clip in (0.25, 0.5):
        rtc = RTCConfig(schedule='ones', max_guidance_weight=clip, execution_horizon=2)
        out = rtc_sample(lambda x, t: torch.zeros_like(x), noise, 1, prev, 0, rtc)
        w = torch.tensor([1.0, 1.0, 0.0, 0.0])[None, :, None]
        torch.testing.assert_close(out, noise + clip * w * (prev - noise), rtol=0, atol=1e-7)


@torch.no_grad()
def test_delay_zero_and_delay_past_the_horizon(tiny, batch):
    plain = tiny.sample_actions(*prefix_args(batch), noise=batch['noise'])
    # zeros schedule, delay 0: every weight is 0, so the sample is exactly the plain one.
    for guidance in ('lerobot', 'vjp', 'trained'):
        rtc = RTCConfig(schedule='zeros', execution_horizon=4, guidance=guidance)
        out = tiny.sample_actions(*prefix_args(batch), noise=batch['noise'],
                                  prev_chunk=batch['prev'], inference_delay=0, rtc=rtc)
        assert torch.equal(out, plain), guidance
    # Delay at or past the horizon (and past the chunk): ones up to the horizon, finite.
    for delay in (4, 20):
        rtc = RTCConfig(schedule='linear', execution_horizon=4)
        out = tiny.sample_actions(*prefix_args(batch), noise=batch['noise'],
                                  prev_chunk=batch['prev'], inference_delay=delay, rtc=rtc)
        assert torch.isfinite(out).all() and not torch.equal(out, plain)
    horizon_ones = tiny.sample_actions(
        *prefix_args(batch), noise=batch['noise'], prev_chunk=batch['prev'], inference_delay=4,
        rtc=RTCConfig(schedule='ones', execution_horizon=4))
    assert torch.equal(out, horizon_ones)


@torch.no_grad()
def test_bad_arguments_raise_value_error_naming_them(tiny, batch):
    c = tiny.config
    rtc = RTCConfig(execution_horizon=4)

    def sample(prev=batch['prev'], delay=2, config=rtc):
        return tiny.sample_actions(*prefix_args(batch), noise=batch['noise'], prev_chunk=prev,
                                   inference_delay=delay, rtc=config)

    for prev in (batch['prev'][0], batch['prev'][:1],
                 torch.zeros(2, c.chunk_size + 1, c.max_action_dim),
                 torch.zeros(2, 3, c.max_action_dim + 1), torch.zeros(2, 0, 4)):
        with pytest.raises(ValueError, match=r'^prev_chunk\.shape='):
            sample(prev=prev)
    bad = batch['prev'].clone()
    bad[1, 3, 0] = float('nan')
    with pytest.raises(ValueError, match=r'^prev_chunk .*finite'):
        sample(prev=bad)
    for delay in (-1, None, 1.5, True):
        with pytest.raises(ValueError, match=r'^inference_delay='):
            sample(delay=delay)
    with pytest.raises(ValueError, match=r'^rtc\.execution_horizon=9: must be <= chunk_size=8'):
        sample(config=RTCConfig(execution_horizon=9))
    with pytest.raises(ValueError, match=r'^rtc='):
        sample(config={'schedule': 'linear'})
    for field, value in (('schedule', 'cosine'), ('guidance', 'pigdm'),
                         ('max_guidance_weight', 0.0), ('max_guidance_weight', float('inf')),
                         ('execution_horizon', 0), ('execution_horizon', 2.5)):
        with pytest.raises(ValueError, match=rf'^rtc\.{field}={value!r}: must'):
            RTCConfig(**{field: value})


# --------------------------------------------------------------------------------------------
# 'trained': training-time RTC.

def test_trained_inference_freezes_the_prefix_at_time_zero(tiny, batch, monkeypatch):
    c = tiny.config
    seen = []
    embed_suffix = tiny.embed_suffix

    def recording(x_t, time):
        seen.append((x_t.clone(), time.clone()))
        return embed_suffix(x_t, time)

    monkeypatch.setattr(tiny, 'embed_suffix', recording)
    prev = batch['prev'][:, :5, :6]
    out = tiny.sample_actions(*prefix_args(batch), noise=batch['noise'], prev_chunk=prev,
                              inference_delay=3, rtc=RTCConfig(guidance='trained'))
    assert len(seen) == c.num_steps                        # no extra model call
    for k, (x_t, time) in enumerate(seen):
        assert time.shape == (2, c.chunk_size)
        assert (time[:, :3] == 0).all() and (time[:, 3:] == 1.0 - k / c.num_steps).all()
        assert torch.equal(x_t[:, :3, :6], prev[:, :3]) and (x_t[:, :3, 6:] == 0).all()
    assert torch.equal(out[:, :3, :6], prev[:, :3])
    # The delay is bounded by the previous chunk's length.
    seen.clear()
    tiny.sample_actions(*prefix_args(batch), noise=batch['noise'], prev_chunk=prev[:, :2],
                        inference_delay=3, rtc=RTCConfig(guidance='trained'))
    assert (seen[0][1][:, :2] == 0).all() and (seen[0][1][:, 2:] == 1).all()


def test_training_time_rtc_loss(tiny, batch):
    c = tiny.config
    train_batch = {k: batch[k] for k in ('images', 'img_masks', 'lang_tokens', 'lang_masks',
                                         'state', 'actions', 'noise')}
    train_batch['time'] = torch.tensor([0.4, 0.9])
    with torch.no_grad():
        plain = tiny.compute_loss(train_batch)
        zero = tiny.compute_loss({**train_batch, 'rtc_delay': torch.zeros(2, dtype=torch.long)})
    assert torch.equal(plain, zero)

    delay = torch.tensor([3, 0])
    outputs, seen = [], []

    def keep_grad(module, args, out):
        out.retain_grad()
        outputs.append(out)

    hook = tiny.action_out_proj.register_forward_hook(keep_grad)
    embed_suffix = tiny.embed_suffix
    tiny.embed_suffix = lambda x_t, time: (seen.append((x_t, time)), embed_suffix(x_t, time))[1]
    try:
        loss = tiny.compute_loss({**train_batch, 'rtc_delay': delay})
        loss.backward()
    finally:
        hook.remove()
        del tiny.embed_suffix
        tiny.zero_grad(set_to_none=True)
    x_t, time = seen[0]
    assert time.shape == (2, c.chunk_size)
    assert (time[0, :3] == 0).all() and (time[0, 3:] == 0.4).all() and (time[1] == 0.9).all()
    assert torch.equal(x_t[0, :3], batch['actions'][0, :3])       # clean actions at time 0
    grad = outputs[0].grad
    assert (grad[0, :3] == 0).all() and (grad[0, 3:].abs().sum(-1) > 0).all()
    assert (grad[1].abs().sum(-1) > 0).all()
    # The mean is over the scored steps only.
    with torch.no_grad():
        losses = tiny.flow_losses({**train_batch, 'rtc_delay': delay})
    losses = losses[:, :, :c.real_action_dim]
    expected = (losses[0, 3:].sum() + losses[1].sum()) / (
        (c.chunk_size * 2 - 3) * c.real_action_dim)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    for bad in (torch.tensor([c.chunk_size, 0]), torch.tensor([-1, 0]), torch.tensor([0.5, 1])):
        with pytest.raises(ValueError, match=r'^rtc_delay='):
            tiny.compute_loss({**train_batch, 'rtc_delay': bad})


class RecordingModel(torch.nn.Module):

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.batches = []

    def compute_loss(self, batch):
        self.batches.append(batch)
        return (self.weight - 1).pow(2).sum()


class Batches:

    def sample(self, rng, batch_size):
        return {'x': torch.from_numpy(rng.uniform(size=batch_size))}


def test_trainer_draws_delays_only_when_enabled(tmp_path):
    def run(name, **kw):
        model = RecordingModel()
        cfg = TrainConfig(steps=3, warmup_steps=0, batch_size=64, chunk_size=8, **kw)
        train(model, Batches(), cfg, tmp_path / name, lambda path: None, lambda path: None,
              progress=False)
        return model.batches

    plain, with_rtc = run('plain'), run('rtc', rtc_max_delay_steps=5)
    assert all('rtc_delay' not in b for b in plain)
    for a, b in zip(plain, with_rtc):
        assert torch.equal(a['x'], b['x'])                 # the same batches otherwise
        assert b['rtc_delay'].dtype == torch.int64 and b['rtc_delay'].shape == (64,)
        assert 0 <= b['rtc_delay'].min() and b['rtc_delay'].max() <= 5
    delays = torch.cat([b['rtc_delay'] for b in with_rtc])
    assert set(delays.tolist()) == set(range(6))
    assert sample_rtc_delays(np.random.default_rng(0), 4, 0).tolist() == [0, 0, 0, 0]
    with pytest.raises(ConfigError, match=r'^train\.rtc_max_delay_steps=8: must be in'):
        TrainConfig(chunk_size=8, rtc_max_delay_steps=8)
