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
The autoregressive action head: cached decoding, prefix-LM mask, vocabulary, loss mask.

Tiny random models (width 64, 2 layers); equivalences, not shapes: KV-cached greedy decoding
equals the argmax of one uncached teacher-forced pass, the loss sees only the action and end
tokens, the id mapping is LeRobot pi0_fast's formula and its own inverse, and a tiny model
fits one batch until greedy decoding returns the target tokens.
"""

import numpy as np
import pytest

torch = pytest.importorskip('torch')
pytest.importorskip('tokenizers')

from vla_ros.model.autoregressive import AutoregressiveVLA  # noqa: E402
from vla_ros.model.config import SmolVLAConfig  # noqa: E402
from vla_ros.policy.action_vocabulary import ActionVocabulary  # noqa: E402
from vla_ros.policy.interface import InvalidDecode, PolicyError  # noqa: E402

BEGIN, END, TEXT = 2, 3, 20      # a 20-id text vocabulary with BOS 2 and EOS 3


def smooth_chunks(n=64, horizon=4, dims=3, seed=0):
    """Chunks (n, horizon, dims) of random ramps plus a little noise."""
    rng = np.random.default_rng(seed)
    start, end = rng.uniform(-1, 1, (2, n, 1, dims))
    ramp = np.linspace(0, 1, horizon)[None, :, None]
    return start + (end - start) * ramp + 0.01 * rng.standard_normal((n, horizon, dims))


def vocabulary(kind='bins', chunks=None, **kwargs):
    chunks = smooth_chunks() if chunks is None else chunks
    return ActionVocabulary.fit(kind, chunks, text_vocab_size=TEXT, begin_id=BEGIN, end_id=END,
                                **kwargs)


def prefix_inputs(config, batch=2, seed=0):
    """Images, masks, language (row 1 padded) and state for a tiny model."""
    g = torch.Generator().manual_seed(seed)
    size = config.vision_image_size
    lang_masks = torch.ones(batch, 5, dtype=torch.bool)
    lang_masks[1:, 3:] = False
    return {
        'images': [torch.rand(batch, 3, size, size, generator=g) * 2 - 1 for _ in range(2)],
        'img_masks': [torch.ones(batch, dtype=torch.bool)] * 2,
        'lang_tokens': torch.randint(4, TEXT, (batch, 5), generator=g),
        'lang_masks': lang_masks,
        'state': torch.randn(batch, config.max_state_dim, generator=g),
    }


def tiny_model(vocab_size, seed=0, **overrides):
    torch.manual_seed(seed)
    config = SmolVLAConfig.tiny(vocab_size=vocab_size, **overrides)
    model = AutoregressiveVLA(config).eval()
    with torch.no_grad():      # larger weights than the init: distinct, confident logits
        for p in model.parameters():
            if p.ndim >= 2:
                p.normal_(0.0, 0.2)
    return model


# ---- decoding ------------------------------------------------------------------------------

def test_cached_greedy_decode_equals_uncached_teacher_forced_argmax():
    voc = vocabulary('bins')
    model = tiny_model(voc.vocab_size)
    x = prefix_inputs(model.config)
    allowed = torch.from_numpy(voc.allowed_ids())
    steps = 10
    # Cached: logits of every step, fed back greedily.
    state = model.encode_prefix(**x)
    token = torch.full((2, 1), BEGIN)
    cached, fed = [], [token]
    with torch.no_grad():
        for _ in range(steps):
            logits = model.step(state, token).masked_fill(~allowed, float('-inf'))
            cached.append(logits)
            token = logits.argmax(-1, keepdim=True)
            fed.append(token)
    cached = torch.stack(cached, dim=1)                                  # (B, steps, V)
    inputs = torch.cat(fed[:-1], dim=1)                                  # (B, steps)
    with torch.no_grad():
        uncached = model.suffix_logits(**x, input_ids=inputs).masked_fill(~allowed,
                                                                          float('-inf'))
    finite = torch.isfinite(cached)
    assert torch.equal(finite, torch.isfinite(uncached))
    torch.testing.assert_close(cached[finite], uncached[finite], atol=2e-5, rtol=1e-5)
    assert torch.equal(uncached.argmax(-1), cached.argmax(-1))
    assert len(set(cached.argmax(-1)[0].tolist())) > 1, 'a degenerate test: one token'
    # decode() gives the same stream, the end token once it has been produced.
    out = model.generate(**x, begin_id=BEGIN, end_id=END, max_new_tokens=steps,
                         allowed_ids=allowed)
    greedy = uncached.argmax(-1)
    for row in range(2):
        ends = (greedy[row] == END).nonzero()
        n = int(ends[0]) + 1 if len(ends) else steps
        assert torch.equal(out[row, :n], greedy[row, :n])
        assert (out[row, n:] == END).all()


def test_prefix_is_bidirectional_and_action_tokens_causal():
    model = tiny_model(64)
    x = prefix_inputs(model.config)
    ids = torch.randint(20, 64, (2, 6))
    with torch.no_grad():
        base = model.suffix_logits(**x, input_ids=ids)
        later = ids.clone()
        later[:, 3] = (later[:, 3] + 1 - 20) % 44 + 20
        changed = model.suffix_logits(**x, input_ids=later)
        # A token never influences the logits before it ...
        torch.testing.assert_close(changed[:, :3], base[:, :3], rtol=0, atol=0)
        assert not torch.allclose(changed[:, 3:], base[:, 3:])
        # ... while the prefix is one block: the state token (last) changes every suffix
        # logit, and the padded language tokens of row 1 change nothing.
        moved = dict(x, state=x['state'] + 1.0)
        assert not torch.allclose(model.suffix_logits(**moved, input_ids=ids)[:, 0], base[:, 0])
        padded = dict(x, lang_tokens=x['lang_tokens'].clone())
        padded['lang_tokens'][1, 3:] = 7
        torch.testing.assert_close(model.suffix_logits(**padded, input_ids=ids)[1], base[1])
        embs, pad = model.embed_prefix(**x)
    assert embs.shape[1] == 2 * model.config.n_img_tokens + 5 + 1 and pad[1, -1]


def test_decode_stops_at_the_length_limit_without_an_end_token():
    model = tiny_model(64)
    x = prefix_inputs(model.config)
    allowed = torch.zeros(64, dtype=torch.bool)
    allowed[40:50] = True                    # the end token (3) can never be chosen
    out = model.generate(**x, begin_id=BEGIN, end_id=END, max_new_tokens=7, allowed_ids=allowed)
    assert out.shape == (2, 7) and ((out >= 40) & (out < 50)).all()


# ---- vocabulary mapping --------------------------------------------------------------------

def test_fast_ids_follow_lerobot_pi0_fast_mapping_and_round_trip():
    chunks = smooth_chunks(n=96, horizon=8, dims=3)
    # pi0-FAST on PaliGemma: the last 128 ids are skipped; here a made-up 5000-id vocabulary.
    voc = vocabulary('fast', chunks, vocab_size=5000, skip_tokens=128, fast_vocab_size=256)
    tokens = np.arange(voc.n_action_tokens)
    lm = voc.to_lm_ids(tokens)
    # LeRobot 0.6.1 ActionTokenizerProcessorStep._act_tokens_to_paligemma_tokens:
    np.testing.assert_array_equal(lm, 5000 - 1 - 128 - tokens)
    assert lm.max() == 4871 and lm.min() == voc.first_action_id
    np.testing.assert_array_equal(voc.from_lm_ids(lm), tokens)
    assert voc.is_action_id(lm).all() and not voc.is_action_id([BEGIN, END, 4872, 4999]).any()
    # chunk -> ids -> chunk, within FAST's quantization error.
    for ids, chunk in zip(voc.encode(chunks[:10]), chunks[:10]):
        assert voc.is_action_id(ids).all()
        back = voc.parse(np.r_[ids, END, END])
        assert back.shape == (8, 3)
        rms = np.sqrt(np.mean((voc.tokenizer.normalizer.normalize(back)
                               - voc.tokenizer.normalizer.normalize(chunk)) ** 2))
        assert rms <= 0.5 / voc.tokenizer.scale + 1e-9


def test_bin_ids_are_the_last_ids_openvla_style_and_round_trip():
    chunks = smooth_chunks()
    voc = vocabulary('bins', chunks)
    assert voc.vocab_size == TEXT + 256 and voc.max_decode_tokens == 4 * 3 + 1
    bins = np.asarray(voc.tokenizer.encode(chunks[:1])[0])
    ids = voc.encode(chunks[:1])[0]
    np.testing.assert_array_equal(ids, voc.vocab_size - 1 - bins)      # bin 0 is the last id
    np.testing.assert_array_equal(voc.from_lm_ids(ids), bins)
    assert voc.first_action_id == TEXT, 'from scratch: action ids right after the text ids'
    back = voc.parse(np.r_[ids, END])
    half_bin = (voc.tokenizer.normalizer.high - voc.tokenizer.normalizer.low) / 256
    inside = np.abs(voc.tokenizer.normalizer.normalize(chunks[0])) <= 1
    assert (np.abs(back - chunks[0])[inside] <= np.broadcast_to(half_bin, back.shape)[inside]
            + 1e-9).all()
    allowed = voc.allowed_ids()
    assert allowed.sum() == 257 and allowed[END]
    assert not allowed[:TEXT][np.arange(TEXT) != END].any()


def test_vocabulary_refuses_overlapping_special_ids():
    with pytest.raises(PolicyError, match='end_id'):     # ids 44..299 are the 256 bins
        ActionVocabulary.fit('bins', smooth_chunks(), text_vocab_size=TEXT, begin_id=BEGIN,
                             end_id=299, vocab_size=300)
    with pytest.raises(PolicyError, match='vocab_size'):
        vocabulary('bins', vocab_size=100)


@pytest.mark.parametrize('stream, reason', [
    ([], 'no end token'),
    ([END], 'end token came first'),
    ('no_end', 'no end token'),
    ('foreign', 'is no action token'),
    ('short', 'expected 12 token ids'),
    ('long', 'expected 12 token ids'),
])
def test_malformed_streams_are_invalid_decodes_never_chunks(stream, reason):
    voc = vocabulary('bins')
    good = list(voc.encode(smooth_chunks()[:1])[0])
    streams = {'no_end': good, 'foreign': good[:5] + [7] + good[6:] + [END],
               'short': good[:-1] + [END], 'long': good + good[:1] + [END]}
    with pytest.raises(InvalidDecode, match=reason):
        voc.parse(streams.get(stream, stream) if isinstance(stream, str) else stream)


def test_fast_stream_that_decodes_to_the_wrong_length_is_invalid():
    voc = vocabulary('fast', smooth_chunks(n=96, horizon=8), fast_vocab_size=256)
    ids = list(voc.encode(smooth_chunks(n=96, horizon=8)[:1])[0])
    with pytest.raises(InvalidDecode, match='fast head'):
        voc.parse(ids[:-1] + [END])


# ---- training ------------------------------------------------------------------------------

def test_loss_mask_covers_only_the_action_tokens_and_the_end_token():
    voc = vocabulary('fast', smooth_chunks(n=96, horizon=8), fast_vocab_size=256)
    chunks = smooth_chunks(n=96, horizon=8)[:3]
    inputs, targets, mask = voc.training_arrays(chunks)
    streams = voc.encode(chunks)
    for row, ids in enumerate(streams):
        n = len(ids)
        assert mask[row].sum() == n + 1 and mask[row, :n + 1].all()
        assert inputs[row, 0] == BEGIN and (inputs[row, 1:n + 1] == ids).all()
        assert (targets[row, :n] == ids).all() and targets[row, n] == END
        assert voc.is_action_id(targets[row][mask[row]][:-1]).all()
    assert len({len(s) for s in streams}) > 1, 'FAST streams of different lengths'
    # The model's loss: cross-entropy at exactly those positions, nothing of the prefix.
    model = tiny_model(voc.vocab_size)
    x = prefix_inputs(model.config, batch=3)
    batch = dict(x, action_input_ids=torch.from_numpy(inputs),
                 action_target_ids=torch.from_numpy(targets),
                 action_loss_mask=torch.from_numpy(mask))
    with torch.no_grad():
        loss = model.compute_loss(batch)
        logits = model.suffix_logits(**x, input_ids=torch.from_numpy(inputs),
                                     input_mask=torch.from_numpy(mask))
        m = torch.from_numpy(mask)
        manual = torch.nn.functional.cross_entropy(logits[m], torch.from_numpy(targets)[m])
        torch.testing.assert_close(loss, manual)
        scrambled = targets.copy()
        scrambled[~mask] = BEGIN              # outside the mask nothing counts
        same = model.compute_loss(dict(batch, action_target_ids=torch.from_numpy(scrambled)))
        torch.testing.assert_close(same, loss)
        per_sample = model.compute_loss(batch, reduction='none')
    assert per_sample.shape == (3,)


def test_tiny_model_overfits_one_batch_and_greedy_decode_returns_the_targets():
    chunks = smooth_chunks(n=64, horizon=2, dims=2)
    voc = vocabulary('bins', chunks, n_bins=32)
    torch.manual_seed(0)
    model = AutoregressiveVLA(SmolVLAConfig.tiny(vocab_size=voc.vocab_size))
    x = prefix_inputs(model.config)
    inputs, targets, mask = voc.training_arrays(chunks[[0, 7]])
    assert not np.array_equal(targets[0], targets[1])
    batch = dict(x, action_input_ids=torch.from_numpy(inputs),
                 action_target_ids=torch.from_numpy(targets),
                 action_loss_mask=torch.from_numpy(mask))
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(150):
        loss = model.compute_loss(batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.02, loss.item()
    model.eval()
    out = model.generate(**x, begin_id=BEGIN, end_id=END, max_new_tokens=voc.max_decode_tokens,
                         allowed_ids=torch.from_numpy(voc.allowed_ids()))
    np.testing.assert_array_equal(out.numpy(), targets)
    for row, chunk in enumerate(chunks[[0, 7]]):
        half_bin = (voc.tokenizer.normalizer.high - voc.tokenizer.normalizer.low) / 32
        assert (np.abs(voc.parse(out[row].numpy()) - chunk) <= half_bin + 0.05).all()
