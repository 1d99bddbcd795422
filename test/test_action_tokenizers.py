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

"""FAST tokenizer, DCT compression and quantile normalization (vla_ros.action_tokenizers)."""

import json
import logging
import subprocess
import sys

from hypothesis import given, HealthCheck, settings, strategies as st
from hypothesis.extra import numpy as hnp
import numpy as np
import pytest
from scipy.fft import dct, idct
from tokenizers import pre_tokenizers

from vla_ros.action_tokenizers import dct_compress, FastTokenizer, QuantileNormalizer
from vla_ros.action_tokenizers.byte_level import BYTE_TO_SYMBOL, codes_to_text

PROPERTY = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

WORKED_SIGNAL = [10, 12, 15, 20, 18, 16, 14, 12, 11, 13, 17, 19, 21, 20, 18, 15]


def smooth_chunks(n_chunks, horizon=50, action_dim=7, seed=0):
    """Sinusoids per joint plus a little noise: the kind of chunk FAST is meant for."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, horizon)[None, :, None]
    amplitude = rng.uniform(0.2, 1.5, (n_chunks, 1, action_dim))
    frequency = rng.uniform(0.2, 2.0, (n_chunks, 1, action_dim))
    phase = rng.uniform(0.0, 2 * np.pi, (n_chunks, 1, action_dim))
    noise = 0.01 * rng.standard_normal((n_chunks, horizon, action_dim))
    return amplitude * np.sin(2 * np.pi * frequency * t + phase) + noise


@pytest.fixture(scope='module')
def fitted():
    chunks = smooth_chunks(300)
    return FastTokenizer().fit(chunks), chunks


def rms_per_chunk(a, b):
    return np.sqrt(np.mean((a - b) ** 2, axis=(1, 2)))


# ------------------------------------------------------------------------- DCT utility

def test_worked_example_reproduces_to_two_decimals():
    result = dct_compress(WORKED_SIGNAL, keep=5)
    np.testing.assert_allclose(
        np.round(result.coefficients, 2),
        [62.75, -5.88, 2.24, -2.76, -11.29, 0.33, -1.10, 0.30, 0.25, 1.72, 0.67, -0.16,
         -0.47, -0.41, -1.25, -0.14])
    np.testing.assert_allclose(
        np.round(result.reconstruction, 2),
        [9.78, 12.21, 15.73, 18.38, 18.76, 16.76, 13.65, 11.30, 11.14, 13.35, 16.78, 19.68,
         20.68, 19.58, 17.43, 15.78])
    assert result.n_kept == 5
    assert result.ratio == pytest.approx(3.2)


def test_energy_mode_keeps_fewest_coefficients_reaching_the_fraction():
    result = dct_compress(WORKED_SIGNAL, energy=0.99)
    energy = result.coefficients ** 2
    kept_energy = energy[result.kept].sum()
    assert kept_energy >= 0.99 * energy.sum()
    # Dropping the smallest kept coefficient must fall below the fraction.
    smallest = energy[result.kept].min()
    assert kept_energy - smallest < 0.99 * energy.sum()
    # Isometry: the squared error equals the dropped energy.
    assert result.rms_error ** 2 * len(WORKED_SIGNAL) == pytest.approx(energy[~result.kept].sum())


def test_dct_compress_rejects_bad_arguments():
    with pytest.raises(ValueError, match='keep=0'):
        dct_compress(WORKED_SIGNAL, keep=0)
    with pytest.raises(ValueError, match='give exactly one'):
        dct_compress(WORKED_SIGNAL, keep=3, energy=0.5)
    with pytest.raises(ValueError, match='energy=1.5'):
        dct_compress(WORKED_SIGNAL, energy=1.5)
    with pytest.raises(ValueError, match=r'signal\[2\]=nan: must be finite'):
        dct_compress([1.0, 2.0, np.nan])


# ------------------------------------------------------------------------- normalization

def test_normalizer_maps_percentiles_to_unit_interval_and_inverts():
    rng = np.random.default_rng(1)
    actions = rng.normal([0.0, 5.0, -3.0], [1.0, 0.1, 10.0], size=(1000, 3))
    normalizer = QuantileNormalizer.fit(actions)
    low, high = np.percentile(actions, [1, 99], axis=0)
    np.testing.assert_allclose(normalizer.normalize(low), -1.0)
    np.testing.assert_allclose(normalizer.normalize(high), 1.0)
    np.testing.assert_allclose(normalizer.unnormalize(normalizer.normalize(actions)), actions)
    assert np.all(np.abs(normalizer.normalize(actions * 10, clip=True)) <= 1.0)


def test_normalizer_constant_dimension_is_shifted_not_divided_by_zero():
    actions = np.stack([np.linspace(0, 1, 100), np.full(100, 2.5)], axis=1)
    normalizer = QuantileNormalizer.fit(actions)
    np.testing.assert_allclose(normalizer.normalize([[0.5, 2.75]])[0, 1], 0.25)


def test_normalizer_round_trips_through_dict_and_validates():
    normalizer = QuantileNormalizer(low=[0.0, 1.0], high=[2.0, 1.0])
    assert QuantileNormalizer.from_dict(json.loads(json.dumps(normalizer.to_dict()))) == normalizer
    with pytest.raises(ValueError, match=r'high\[0\]=-1.0 < low\[0\]=0.0'):
        QuantileNormalizer(low=[0.0], high=[-1.0])
    with pytest.raises(ValueError, match='action_dim=2'):
        normalizer.normalize(np.zeros((4, 3)))


# ------------------------------------------------------------------------- FAST

def test_byte_symbols_match_hf_byte_level_pre_tokenizer():
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    for code in [*range(0, 128), 128, 200, 255, 256, 1000, 2047, 2048, 4000]:
        (word, _), = byte_level.pre_tokenize_str(chr(code))
        assert word == ''.join(BYTE_TO_SYMBOL[b] for b in chr(code).encode('utf-8'))


def test_codes_are_flattened_low_frequency_first(fitted):
    tokenizer, chunks = fitted
    codes = tokenizer.dct_codes(chunks[:4])
    normalized = tokenizer.normalizer.normalize(chunks[:4])
    expected = np.around(dct(normalized, axis=1, norm='ortho') * tokenizer.scale)
    # codes[:, :D] are every dimension's coefficient 0, then coefficient 1, ...
    np.testing.assert_array_equal(codes[:, :7], expected[:, 0, :])
    np.testing.assert_array_equal(codes[:, 7:14], expected[:, 1, :])


def test_round_trip_error_is_bounded_by_quantization(fitted):
    tokenizer, chunks = fitted
    tokens, clipped = tokenizer.encode(chunks, return_clipped=True)
    assert not clipped.any()
    decoded = tokenizer.decode(tokens, 50, 7)
    assert decoded.valid.all() and decoded.reasons == [None] * len(chunks)
    norm = tokenizer.normalizer.normalize
    assert rms_per_chunk(norm(decoded.actions), norm(chunks)).max() <= 0.5 / tokenizer.scale
    # Compression is the point: far fewer tokens than the 350 values of a chunk.
    assert np.mean([len(t) for t in tokens]) < 100


def test_batched_encode_equals_one_by_one(fitted):
    tokenizer, chunks = fitted
    batch = tokenizer.encode(chunks[:20])
    assert batch == [tokenizer.encode(chunk)[0] for chunk in chunks[:20]]


@pytest.mark.parametrize('scale', [1.0, 3.0, 10.0, 40.0])
def test_trailing_run_split_gives_hf_ids_exactly(scale):
    # The zero code's character is a letter, digit, symbol or whitespace depending on the
    # scale (min_code); every path (split, cut refused, whole string) must match HF.
    tokenizer = FastTokenizer(scale=scale, vocab_size=1024, cache_chunks=0).fit(
        smooth_chunks(200))
    held_out = smooth_chunks(100, seed=1)
    codes, texts = code_strings(tokenizer, held_out)
    plain = plain_ids(tokenizer, held_out)
    assert tokenizer._tail is not None
    assert tokenizer._tail.encode(codes, texts) == plain
    assert tokenizer.encode(held_out) == plain


def test_every_code_in_the_fitted_range_stays_encodable():
    """Codes never seen while fitting must still encode and decode (the reference drops them)."""
    rng = np.random.default_rng(3)
    tokenizer = FastTokenizer(scale=100.0).fit(rng.standard_normal((40, 8, 2)))
    horizon, action_dim = 16, 2
    span = np.arange(tokenizer.min_code, tokenizer.max_code + 1)
    n_codes = horizon * action_dim
    for start in range(0, len(span), n_codes):
        codes = np.resize(span[start:start + n_codes], n_codes).reshape(1, horizon, action_dim)
        normalized = idct(codes / tokenizer.scale, axis=1, norm='ortho')
        chunk = tokenizer.normalizer.unnormalize(normalized)
        np.testing.assert_array_equal(tokenizer.dct_codes(chunk), codes.reshape(1, -1))
        tokens, clipped = tokenizer.encode(chunk, return_clipped=True)
        assert not clipped.any()
        decoded = tokenizer.decode(tokens, horizon, action_dim)
        assert decoded.valid.all(), decoded.reasons
        np.testing.assert_allclose(decoded.actions, chunk, atol=1e-9)


def test_out_of_range_codes_are_clipped_reported_and_bounded(fitted, caplog, monkeypatch):
    tokenizer, chunks = fitted
    wild = chunks[:8] * 5.0
    # Under a sourced ROS 2, pytest's launch_testing plugin imports `launch`, whose logger class
    # does not propagate to the root logger that caplog listens on.
    monkeypatch.setattr(logging.getLogger('vla_ros.action_tokenizers.fast'), 'propagate', True)
    with caplog.at_level(logging.WARNING, logger='vla_ros.action_tokenizers.fast'):
        tokens, clipped = tokenizer.encode(wild, return_clipped=True)
    assert clipped.all()
    assert 'outside the fitted range' in caplog.text
    decoded = tokenizer.decode(tokens, 50, 7)
    assert decoded.valid.all()
    # The bound holds against the chunk whose coefficients were clipped to the range.
    coefficients = dct(tokenizer.normalizer.normalize(wild), axis=1, norm='ortho')
    target = idct(np.clip(coefficients, tokenizer.min_code / tokenizer.scale,
                          tokenizer.max_code / tokenizer.scale), axis=1, norm='ortho')
    error = rms_per_chunk(tokenizer.normalizer.normalize(decoded.actions), target)
    assert error.max() <= 0.5 / tokenizer.scale + 1e-12


@pytest.mark.parametrize('bad', [np.nan, np.inf, -np.inf])
def test_non_finite_input_is_rejected_with_its_position(fitted, bad):
    tokenizer, chunks = fitted
    chunk = chunks[:2].copy()
    chunk[1, 4, 3] = bad
    with pytest.raises(ValueError, match=r'encode chunks\[1, 4, 3\]=.*must be finite'):
        tokenizer.encode(chunk)
    with pytest.raises(ValueError, match='must be finite'):
        FastTokenizer().fit(chunk)


def test_malformed_sequences_are_flagged_not_raised(fitted):
    tokenizer, chunks = fitted
    good = tokenizer.encode(chunks[:1])[0]
    malformed = [
        good[:-1],                      # truncated
        good + good[-1:],               # one token too many
        good[:-1] + [-1],               # negative id
        good[:-1] + [tokenizer.n_tokens],   # unknown id
        [],                             # nothing generated
        [float(i) for i in good],       # not integers
        [[1, 2], [3]],                  # ragged
        None,
        'abc',
    ]
    decoded = tokenizer.decode([good] + malformed, 50, 7)
    assert decoded.valid.tolist() == [True] + [False] * len(malformed)
    assert all(isinstance(reason, str) for reason in decoded.reasons[1:])
    assert np.isnan(decoded.actions[1:]).all()
    assert np.isfinite(decoded.actions[0]).all()


def test_stray_byte_and_out_of_range_code_are_flagged():
    # A code range above 200 puts the lead byte 'Ã' (0xC3) and the continuation '¿' (0xBF)
    # in the alphabet: alone the lead byte is half a character; together they are chr(255).
    chunks = np.random.default_rng(5).standard_normal((30, 6, 2))
    probe = FastTokenizer(scale=10.0).fit(chunks)
    scale = 10.0 * 230 / (probe.max_code - probe.min_code)
    tokenizer = FastTokenizer(scale=scale).fit(chunks)
    assert 200 < tokenizer.max_code - tokenizer.min_code < 255
    lead, tail = tokenizer._bpe.token_to_id('Ã'), tokenizer._bpe.token_to_id('¿')
    filler = [tokenizer._bpe.token_to_id('A')] * 11     # code 65, inside the range
    decoded = tokenizer.decode([[lead] + filler, [lead, tail] + filler], 6, 2)
    assert not decoded.valid.any()
    assert 'whole code characters' in decoded.reasons[0]
    assert 'outside the fitted range' in decoded.reasons[1]


@PROPERTY
@given(ids=st.lists(st.lists(st.integers(-5, 1100), max_size=120), max_size=6))
def test_random_id_sequences_never_raise(fitted, ids):
    tokenizer, _ = fitted
    decoded = tokenizer.decode(ids, 50, 7)
    assert decoded.actions.shape == (len(ids), 50, 7)
    assert np.isfinite(decoded.actions[decoded.valid]).all()
    assert np.isnan(decoded.actions[~decoded.valid]).all()


@st.composite
def chunk_batches(draw):
    n_chunks = draw(st.integers(1, 6))
    horizon = draw(st.integers(1, 20))
    action_dim = draw(st.integers(1, 4))
    values = st.floats(-100.0, 100.0, allow_nan=False, allow_infinity=False, width=64)
    return draw(hnp.arrays(np.float64, (n_chunks, horizon, action_dim), elements=values))


@PROPERTY
@given(chunks=chunk_batches(), scale=st.sampled_from([1.0, 4.0, 10.0, 25.0]))
def test_round_trip_property(chunks, scale):
    tokenizer = FastTokenizer(scale=scale, vocab_size=1024)
    codes_range = None
    try:
        tokenizer.fit(chunks)
    except ValueError as err:
        # Outliers far beyond the percentiles give a code range the vocabulary cannot hold;
        # that must be refused with the rule, never tokenized lossily.
        assert 'vocab_size=1024: must be >=' in str(err)
        normalized = QuantileNormalizer.fit(chunks).normalize(chunks)
        codes = np.around(dct(normalized, axis=1, norm='ortho') * scale)
        codes_range = codes.max() - codes.min() + 1
        assert codes_range > 1024
        return
    tokens, clipped = tokenizer.encode(chunks, return_clipped=True)
    assert not clipped.any()
    decoded = tokenizer.decode(tokens, chunks.shape[1], chunks.shape[2])
    assert decoded.valid.all(), decoded.reasons
    norm = tokenizer.normalizer.normalize
    assert rms_per_chunk(norm(decoded.actions), norm(chunks)).max() <= 0.5 / scale + 1e-9


def test_save_load_gives_identical_tokenizer(fitted, tmp_path):
    tokenizer, chunks = fitted
    tokenizer.save(tmp_path)
    loaded = FastTokenizer.load(tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {'fast_tokenizer.json', 'tokenizer.json'}
    for name in ('scale', 'vocab_size', 'min_code', 'max_code', 'horizon', 'normalizer',
                 'n_tokens', 'action_dim'):
        assert getattr(loaded, name) == getattr(tokenizer, name), name
    assert loaded._bpe.to_str() == tokenizer._bpe.to_str()
    tokens = tokenizer.encode(chunks[:50])
    assert loaded.encode(chunks[:50]) == tokens
    np.testing.assert_array_equal(loaded.decode(tokens, 50, 7).actions,
                                  tokenizer.decode(tokens, 50, 7).actions)


def test_load_rejects_foreign_file(tmp_path):
    (tmp_path / 'fast_tokenizer.json').write_text('{"format": "something else"}')
    with pytest.raises(ValueError, match="format='something else'"):
        FastTokenizer.load(tmp_path)


def test_configuration_errors_name_field_and_rule(fitted):
    tokenizer, chunks = fitted
    with pytest.raises(ValueError, match=r'FastTokenizer.scale=0: must be finite and > 0'):
        FastTokenizer(scale=0)
    with pytest.raises(ValueError, match=r'FastTokenizer.vocab_size=8: must be >= the'):
        FastTokenizer(vocab_size=8).fit(chunks)
    with pytest.raises(ValueError, match=r'decode action_dim=6: must equal .* action_dim=7'):
        tokenizer.decode([[1]], 50, 6)
    with pytest.raises(ValueError, match=r'action_dim 3: must equal the fitted action_dim=7'):
        tokenizer.encode(np.zeros((2, 50, 3)))
    with pytest.raises(RuntimeError, match='call fit'):
        FastTokenizer().encode(chunks)


def test_core_imports_without_torch_or_ros():
    code = ("import sys; sys.modules['rclpy'] = None; sys.modules['torch'] = None; "
            'import vla_ros.action_tokenizers')
    subprocess.run([sys.executable, '-c', code], check=True)


def test_whole_batch_and_per_sequence_decoding_agree(fitted):
    tokenizer, chunks = fitted
    tokens = tokenizer.encode(chunks[:30])
    together = tokenizer.decode(tokens, 50, 7)              # all well formed: one pass
    with_bad = tokenizer.decode(tokens + [[-1]], 50, 7)     # one bad: sequence by sequence
    np.testing.assert_array_equal(together.actions, with_bad.actions[:-1])
    assert with_bad.valid.tolist() == [True] * 30 + [False]


# ------------------------------------------------------------------------- encode cache

def code_strings(tokenizer, chunks):
    """Return the chunks' clipped codes, shifted to start at 0, and the same as code strings."""
    codes = np.clip(tokenizer.dct_codes(chunks), tokenizer.min_code, tokenizer.max_code)
    codes -= tokenizer.min_code
    return codes, codes_to_text(codes)


def plain_ids(tokenizer, chunks):
    """Encode with HF's own batched encode of the chunks' code strings, bypassing the cache."""
    _, text = code_strings(tokenizer, chunks)
    return [encoding.ids for encoding in tokenizer._bpe.encode_batch(text)]


@PROPERTY
@given(seed=st.integers(0, 2 ** 32 - 1), n_chunks=st.integers(1, 12),
       noise=st.sampled_from([0.0, 0.01, 0.3, 3.0]), cache_chunks=st.sampled_from([0, 3, 100]))
def test_cached_encode_equals_plain_hf_encode(fitted, seed, n_chunks, noise, cache_chunks):
    """Cold, warm, partly evicted and duplicated batches all give HF's ids exactly."""
    tokenizer, _ = fitted
    tokenizer.cache_chunks = cache_chunks
    tokenizer.clear_cache()
    try:
        rng = np.random.default_rng(seed)
        chunks = smooth_chunks(n_chunks, seed=seed)
        chunks += noise * rng.standard_normal(chunks.shape)     # up to far out of range
        chunks = np.concatenate([chunks, chunks[rng.integers(0, n_chunks, 3)]])
        expected = plain_ids(tokenizer, chunks)
        assert tokenizer.encode(chunks) == expected
        assert tokenizer.encode(chunks[::-1]) == expected[::-1]
        assert len(tokenizer._cache) <= cache_chunks
    finally:
        tokenizer.cache_chunks = 16384
        tokenizer.clear_cache()


def test_cached_ids_cannot_be_changed_through_the_result(fitted):
    tokenizer, chunks = fitted
    first = tokenizer.encode(chunks[:3])
    expected = [list(ids) for ids in first]
    first[0].append(-1)
    first[1].clear()
    assert tokenizer.encode(chunks[:3]) == expected


def test_cache_size_is_validated():
    with pytest.raises(ValueError, match=r'FastTokenizer.cache_chunks=-1: must be an integer'):
        FastTokenizer(cache_chunks=-1)
