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

"""OpenVLA-style binning tokenizer (vla_ros.action_tokenizers.BinTokenizer)."""

from hypothesis import given, HealthCheck, settings, strategies as st
from hypothesis.extra import numpy as hnp
import numpy as np
import pytest

from vla_ros.action_tokenizers import BinTokenizer

PROPERTY = settings(max_examples=50, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope='module')
def chunks():
    rng = np.random.default_rng(0)
    return rng.normal(0.0, [1.0, 0.2, 3.0], size=(64, 10, 3)).cumsum(axis=1)


@st.composite
def chunk_batches(draw):
    shape = (draw(st.integers(1, 5)), draw(st.integers(1, 12)), draw(st.integers(1, 4)))
    values = st.floats(-50.0, 50.0, allow_nan=False, allow_infinity=False, width=64)
    return draw(hnp.arrays(np.float64, shape, elements=values))


@PROPERTY
@given(chunks=chunk_batches(), vocab_size=st.sampled_from([None, 256, 32000]))
def test_round_trip_within_half_a_bin(chunks, vocab_size):
    tokenizer = BinTokenizer(vocab_size=vocab_size).fit(chunks)
    tokens = tokenizer.encode(chunks)
    assert all(len(t) == chunks.shape[1] * chunks.shape[2] for t in tokens)
    decoded = tokenizer.decode(tokens, chunks.shape[1], chunks.shape[2])
    assert decoded.valid.all()
    # Values are clipped to the percentile range first; within it the error is half a bin.
    clipped = tokenizer.normalizer.normalize(chunks, clip=True)
    error = np.abs(tokenizer.normalizer.normalize(decoded.actions) - clipped)
    assert error.max() <= 1.0 / tokenizer.n_bins + 1e-9


def test_ids_are_bins_or_the_last_ids_of_a_vocabulary(chunks):
    plain = BinTokenizer().fit(chunks)
    ids = np.array(plain.encode(chunks))
    assert ids.min() == 0 and ids.max() == 255
    llama = BinTokenizer(vocab_size=32000).fit(chunks)
    mapped = np.array(llama.encode(chunks))
    # OpenVLA: token = vocab_size - 1 - bin, so the top bin takes id 31744.
    np.testing.assert_array_equal(mapped, 32000 - 1 - ids)
    assert mapped.min() == 32000 - 256 and mapped.max() == 31999


def test_values_beyond_the_percentiles_go_to_the_edge_bins(chunks):
    tokenizer = BinTokenizer().fit(chunks)
    far = np.broadcast_to(tokenizer.normalizer.high * 10, (1, 1, 3))
    assert tokenizer.encode(far) == [[255, 255, 255]]
    assert tokenizer.encode(-far) == [[0, 0, 0]]


def test_malformed_sequences_are_flagged_not_raised(chunks):
    tokenizer = BinTokenizer(vocab_size=32000).fit(chunks)
    good = tokenizer.encode(chunks[:1])[0]
    malformed = [good[:-1], good + [31999], good[:-1] + [5], good[:-1] + [32000], [],
                 [float(i) for i in good], None]
    decoded = tokenizer.decode([good] + malformed, 10, 3)
    assert decoded.valid.tolist() == [True] + [False] * len(malformed)
    assert np.isnan(decoded.actions[1:]).all() and np.isfinite(decoded.actions[0]).all()
    assert 'outside the bin ids 31744..31999' in decoded.reasons[3]


def test_save_load_gives_identical_tokenizer(chunks, tmp_path):
    tokenizer = BinTokenizer(n_bins=128, vocab_size=1000).fit(chunks)
    tokenizer.save(tmp_path)
    loaded = BinTokenizer.load(tmp_path)
    assert (loaded.n_bins, loaded.vocab_size) == (128, 1000)
    assert loaded.normalizer == tokenizer.normalizer
    tokens = tokenizer.encode(chunks)
    assert loaded.encode(chunks) == tokens
    np.testing.assert_array_equal(loaded.decode(tokens, 10, 3).actions,
                                  tokenizer.decode(tokens, 10, 3).actions)


def test_errors_name_field_value_and_rule(chunks):
    with pytest.raises(ValueError, match=r'BinTokenizer.vocab_size=100: must be None or an '
                                         r'integer >= n_bins=256'):
        BinTokenizer(vocab_size=100)
    tokenizer = BinTokenizer().fit(chunks)
    bad = chunks[:1].copy()
    bad[0, 2, 1] = np.nan
    with pytest.raises(ValueError, match=r'encode chunks\[0, 2, 1\]=nan: must be finite'):
        tokenizer.encode(bad)


@pytest.mark.parametrize('content', ['{not json', '[1, 2]', '{"format": "other"}'])
def test_corrupt_or_foreign_saved_file_is_refused_by_name(chunks, tmp_path, content):
    BinTokenizer().fit(chunks).save(tmp_path)
    saved = next(tmp_path.glob('*.json'))
    saved.write_text(content)
    with pytest.raises(ValueError, match=saved.name):
        BinTokenizer.load(tmp_path)
    with pytest.raises(ValueError, match='no such file'):
        BinTokenizer.load(tmp_path / 'missing')
