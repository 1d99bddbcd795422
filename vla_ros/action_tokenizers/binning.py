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

"""Uniform-bin action tokenizer, as OpenVLA (Kim et al. 2024, arXiv 2406.09246) uses."""

import os

import numpy as np

from .decoded import Decoded
from .normalization import (check_action_dim, check_chunks, check_directory, check_integer,
                            check_token_batch, MAX_HORIZON, QuantileNormalizer)
from .storage import read_config, write_config

_CONFIG_FILE = 'bin_tokenizer.json'
_FORMAT = 'vla_ros.action_tokenizers.BinTokenizer'
_FORMAT_VERSION = 1
# Far above OpenVLA's 256 bins and any language model's vocabulary; bin centers stay exact.
_MAX_IDS = 1 << 24


class BinTokenizer:
    """
    One token per action value: normalize, clip to [-1, 1], pick one of ``n_bins`` bins.

    A chunk (T, D) becomes T * D tokens, time-major (step 0's dimensions, then step 1's, ...).
    Decoding returns bin centers, so the round-trip error in normalized units is at most half
    a bin (1 / n_bins) for values inside the 1st/99th percentile range.

    Inputs:
        n_bins: number of uniform bins over [-1, 1].
        vocab_size: None for ids 0 .. n_bins - 1 (id = bin). Otherwise ids take the last
            ``n_bins`` ids of a language model's vocabulary, as OpenVLA overwrites its least
            used tokens: id = vocab_size - 1 - bin.

    """

    def __init__(self, n_bins=256, vocab_size=None):
        n_bins = check_integer(n_bins, 'BinTokenizer.n_bins', 2, _MAX_IDS)
        if vocab_size is not None:
            try:
                vocab_size = check_integer(vocab_size, 'BinTokenizer.vocab_size', n_bins,
                                           _MAX_IDS)
            except ValueError:
                raise ValueError(f'BinTokenizer.vocab_size={vocab_size!r}: must be None or an '
                                 f'integer >= n_bins={n_bins} (and <= {_MAX_IDS})') from None
        self.n_bins = n_bins
        self.vocab_size = vocab_size
        self.normalizer = None

    @property
    def fitted(self):
        """Whether :meth:`fit` or :meth:`load` has run."""
        return self.normalizer is not None

    @property
    def action_dim(self):
        """Return the action dimension D the statistics were fitted on."""
        self._require_fitted('action_dim')
        return self.normalizer.action_dim

    def fit(self, chunks):
        """Fit the per-dimension 1st/99th percentiles on (B, T, D) chunks."""
        self.normalizer = QuantileNormalizer.fit(self._check_chunks(chunks, 'fit', fitted=False))
        return self

    def encode(self, chunks):
        """Tokenize chunks of shape (B, T, D) (or one (T, D)) into lists of T * D token ids."""
        self._require_fitted('encode')
        chunks = self._check_chunks(chunks, 'encode')
        normalized = self.normalizer.normalize(chunks, clip=True)
        bins = np.minimum(np.floor((normalized + 1.0) * (self.n_bins / 2)), self.n_bins - 1)
        ids = self._bin_to_id(bins.astype(np.int64).reshape(len(chunks), -1))
        return ids.tolist()

    def decode(self, tokens, horizon, action_dim):
        """
        Decode a batch of token-id sequences into (B, horizon, action_dim) bin centers.

        Never raises on sequence content: a sequence of the wrong length, with non-integer
        ids or ids outside this tokenizer's range, is flagged (``valid`` False, actions NaN,
        ``reasons`` says why). Raises ValueError only for a bad ``horizon`` (an integer in
        [1, MAX_HORIZON]) or ``action_dim``, or ``tokens`` that is not a list of sequences.
        """
        self._require_fitted('decode')
        horizon = check_integer(horizon, 'BinTokenizer.decode horizon', 1, MAX_HORIZON)
        check_action_dim(action_dim, self.action_dim, 'BinTokenizer.decode')
        check_token_batch(tokens, 'BinTokenizer.decode')
        n_values = horizon * self.action_dim
        bins = self._decode_well_formed(tokens, n_values)
        if bins is not None:
            reasons = [None] * len(tokens)
        else:
            bins = np.zeros((len(tokens), n_values), dtype=np.int64)
            reasons = [self._decode_bins(seq, n_values, out) for seq, out in zip(tokens, bins)]
        valid = np.array([reason is None for reason in reasons], dtype=bool)
        centers = -1.0 + (bins + 0.5) * (2.0 / self.n_bins)
        actions = self.normalizer.unnormalize(
            centers.reshape(len(tokens), horizon, self.action_dim))
        actions[~valid] = np.nan
        return Decoded(actions=actions, valid=valid, reasons=reasons)

    def save(self, directory):
        """Write ``bin_tokenizer.json`` (settings and statistics)."""
        self._require_fitted('save')
        os.makedirs(check_directory(directory, 'BinTokenizer.save'), exist_ok=True)
        write_config(os.path.join(directory, _CONFIG_FILE), _FORMAT, _FORMAT_VERSION, {
            'n_bins': self.n_bins,
            'vocab_size': self.vocab_size,
            'normalizer': self.normalizer.to_dict(),
        })

    @classmethod
    def load(cls, directory):
        """Read a tokenizer written by :meth:`save`; a bad file is a ValueError naming it."""
        path = os.path.join(check_directory(directory, 'BinTokenizer.load'), _CONFIG_FILE)
        config = read_config(path, _FORMAT, _FORMAT_VERSION)
        try:
            tokenizer = cls(n_bins=config.get('n_bins'), vocab_size=config.get('vocab_size'))
            tokenizer.normalizer = QuantileNormalizer.from_dict(config.get('normalizer'))
        except ValueError as err:
            raise ValueError(f'{path}: {err}') from None
        return tokenizer

    def _bin_to_id(self, bins):
        return bins if self.vocab_size is None else self.vocab_size - 1 - bins

    def _decode_well_formed(self, tokens, n_values):
        """Bins (B, n_values) of the whole batch at once, or None if any sequence is off."""
        try:
            ids = np.asarray(tokens)
        except (TypeError, ValueError):
            return None
        if ids.ndim != 2 or ids.shape != (len(tokens), n_values) or ids.dtype.kind not in 'iu':
            return None
        low, high = self._id_range()
        if ids.size == 0 or ids.min() < low or ids.max() > high:
            return None
        return self._bin_to_id(ids.astype(np.int64))

    def _decode_bins(self, seq, n_values, out):
        """Write the bins of one sequence into ``out``; return None or why it is invalid."""
        try:
            ids = np.asarray(seq)
        except (TypeError, ValueError):
            return 'not a sequence of integer token ids'
        if ids.ndim != 1 or ids.size != n_values:
            return f'expected {n_values} token ids (horizon * action_dim), got shape {ids.shape}'
        if ids.dtype.kind not in 'iu':
            return f'token ids must be integers, got dtype {ids.dtype}'
        # Compared before any cast, so that no huge id wraps around into the range.
        low, high = self._id_range()
        if ids.min() < low or ids.max() > high:
            return f'token id outside the bin ids {low}..{high}'
        # The map id <-> bin is its own inverse: bin = vocab_size - 1 - id.
        out[:] = self._bin_to_id(ids.astype(np.int64))
        return None

    def _id_range(self):
        """Lowest and highest token id of a bin."""
        low, high = sorted(self._bin_to_id(np.array([0, self.n_bins - 1])).tolist())
        return low, high

    def _check_chunks(self, chunks, what, fitted=True):
        return check_chunks(chunks, f'BinTokenizer.{what}', self.action_dim if fitted else None)

    def _require_fitted(self, what):
        if self.normalizer is None:
            raise RuntimeError(f'BinTokenizer.{what}: call fit() or load() first')
