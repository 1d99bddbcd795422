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
FAST action tokenizer: quantile normalization, DCT, quantization, byte-pair encoding.

Pertsch et al., "FAST: Efficient Action Tokenization for Vision-Language-Action Models",
arXiv 2501.09747. The BPE stage is set up like physical-intelligence/fast's
``UniversalActionProcessor`` (codes become characters ``chr(code - min_code)``, a byte-level
BPE with the GPT-2 pre-tokenizer, the raw code characters as initial alphabet,
min_frequency 2), so both produce the same tokens for chunks whose codes were seen in fitting.
Unlike it, every code in the fitted range stays encodable, out-of-range codes are clipped
and reported, and decoding never raises on a malformed sequence: it flags it.
"""

import itertools
import json
import logging
import numbers
import os
import threading

import numpy as np
from scipy.fft import dct, idct
from tokenizers import decoders, models, pre_tokenizers, Tokenizer, trainers

from .byte_level import BYTE_TO_SYMBOL, codes_to_text, SYMBOL_TO_BYTE
from .decoded import Decoded
from .normalization import (check_action_dim, check_chunks, check_directory, check_integer,
                            check_token_batch, MAX_HORIZON, QuantileNormalizer)
from .run_tail import hf_ids, RunTailEncoder
from .storage import read_config, write_config

_LOG = logging.getLogger(__name__)

_CONFIG_FILE = 'fast_tokenizer.json'
_BPE_FILE = 'tokenizer.json'
_FORMAT = 'vla_ros.action_tokenizers.FastTokenizer'
_FORMAT_VERSION = 1
# Code characters must be encodable as UTF-8; the first surrogate code point is not.
_MAX_CODE_RANGE = 0xD800
# BPE vocabularies: FAST uses 1024-2048; this only stops a typo reaching the trainer.
_MAX_VOCAB_SIZE = 1 << 24
# Normalized values and DCT codes saturate here before the cast to int64, so that a huge (but
# finite) action keeps its sign instead of wrapping around, and clips to the right end of the
# code range. Any chunk reaching these bounds is far outside the fitted range anyway.
_MAX_NORMALIZED = 1e12
_MAX_ABS_CODE = 1 << 53


class FastTokenizer:
    """
    Frequency-space action tokenizer (FAST) for autoregressive VLAs.

    Encoding a chunk (T, D): normalize each dimension from its 1st/99th percentiles, take the
    orthonormal DCT-II along time, multiply by ``scale``, round half to even, flatten
    low-frequency first (coefficient 0 of every dimension, then 1, ...), clip into the code
    range seen in :meth:`fit`, map to characters and apply the fitted BPE.

    Inputs:
        scale: quantization scale; the per-chunk RMS round-trip error in normalized units is
            at most 0.5 / scale when no code had to be clipped.
        vocab_size: BPE vocabulary size to train for (alphabet + merges). A few byte
            symbols may be appended after training so that every code in the fitted range
            stays encodable; :attr:`n_tokens` is the final size.
        cache_chunks: how many encoded chunks to remember (0: none). Re-encoding a chunk
            seen before (a dataset's next epoch) then skips the BPE, which is most of the
            encode time; the ids are the same either way.

    """

    def __init__(self, scale=10.0, vocab_size=1024, cache_chunks=16384):
        if not (isinstance(scale, numbers.Real) and not isinstance(scale, bool)
                and np.isfinite(scale) and scale > 0):
            raise ValueError(f'FastTokenizer.scale={scale!r}: must be finite and > 0')
        self.scale = float(scale)
        self.vocab_size = check_integer(vocab_size, 'FastTokenizer.vocab_size', 2,
                                        _MAX_VOCAB_SIZE)
        self.cache_chunks = check_integer(cache_chunks, 'FastTokenizer.cache_chunks', 0)
        # Code string of a chunk -> its ids (a tuple, so callers cannot change it); the
        # oldest entries go first once cache_chunks is reached.
        self._cache = {}
        self._cache_lock = threading.Lock()
        self.normalizer = None
        self.min_code = None
        self.max_code = None
        self.horizon = None
        self._bpe = None
        self._tail = None
        self._token_bytes = None
        self._token_lengths = None

    # ---------------------------------------------------------------- fitting

    def fit(self, chunks):
        """Fit normalization statistics, the code range and the BPE on (B, T, D) chunks."""
        chunks = self._check_chunks(chunks, 'fit', fitted=False)
        self.normalizer = QuantileNormalizer.fit(chunks)
        self.horizon = chunks.shape[1]
        codes = self._raw_codes(chunks)
        min_code, max_code = int(codes.min()), int(codes.max())
        code_range = max_code - min_code + 1
        if code_range > self.vocab_size:
            raise ValueError(
                f'FastTokenizer.vocab_size={self.vocab_size}: must be >= the {code_range} '
                f'distinct code values in the fitted range [{min_code}, {max_code}] '
                '(raise vocab_size or lower scale)')
        if code_range > _MAX_CODE_RANGE:
            raise ValueError(
                f'FastTokenizer.scale={self.scale}: fitted code range {code_range} exceeds '
                f'{_MAX_CODE_RANGE}, the most that maps to characters; lower scale')
        self.min_code, self.max_code = min_code, max_code

        bpe = Tokenizer(models.BPE())
        # The GPT-2 pre-tokenizer splits the code string into words; merges never cross them.
        bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        bpe.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=self.vocab_size,
            min_frequency=2,
            show_progress=False,
            special_tokens=[],
            initial_alphabet=[chr(i) for i in range(code_range)],
            max_token_length=10000,
        )
        bpe.train_from_iterator(codes_to_text(codes - min_code), trainer=trainer)
        self._set_bpe(_with_all_code_bytes(bpe, code_range))
        return self

    @property
    def fitted(self):
        """Whether :meth:`fit` or :meth:`load` has run."""
        return self._bpe is not None

    @property
    def n_tokens(self):
        """Return the number of token ids this tokenizer can emit (ids are 0 .. n_tokens - 1)."""
        self._require_fitted('n_tokens')
        return len(self._token_bytes)

    @property
    def action_dim(self):
        """Return the action dimension D the statistics were fitted on."""
        self._require_fitted('action_dim')
        return self.normalizer.action_dim

    # ---------------------------------------------------------------- encoding

    def dct_codes(self, chunks):
        """Integer DCT codes (B, T * D), low-frequency first, before clipping to the range."""
        self._require_fitted('dct_codes')
        return self._raw_codes(self._check_chunks(chunks, 'dct_codes'))

    def encode(self, chunks, return_clipped=False):
        """
        Tokenize chunks of shape (B, T, D) (or one (T, D)) into lists of token ids.

        NaN/inf input raises ValueError. Codes outside the fitted range are clipped into it
        (logged as a warning); with ``return_clipped`` a (B,) bool array saying which chunks
        were clipped is returned too.
        """
        self._require_fitted('encode')
        codes = self._raw_codes(self._check_chunks(chunks, 'encode'))
        outside = (codes < self.min_code) | (codes > self.max_code)
        clipped = outside.any(axis=1)
        if clipped.any():
            _LOG.warning(
                'FastTokenizer.encode: %d of %d chunks have DCT codes outside the fitted range '
                '[%d, %d]; clipped, so their error exceeds 0.5/scale',
                int(clipped.sum()), len(clipped), self.min_code, self.max_code)
        codes = np.clip(codes, self.min_code, self.max_code) - self.min_code
        tokens = self._encode_text(codes, codes_to_text(codes))
        return (tokens, clipped) if return_clipped else tokens

    def clear_cache(self):
        """
        Forget what :meth:`encode` remembers, so that the next call starts cold.

        That is the encoded chunks (see ``cache_chunks``), the BPE ids of trailing code runs
        and HF ``tokenizers``' own cache of encoded words.
        """
        with self._cache_lock:
            self._cache.clear()
        if self._tail is not None:
            self._tail.forget()
        clear_bpe_cache = getattr(self._bpe.model, '_clear_cache', None) if self._bpe else None
        if clear_bpe_cache is not None:
            clear_bpe_cache()

    def _encode_text(self, codes, text):
        """Ids of each chunk: remembered ones from the cache, the rest from the BPE."""
        cached = [self._cache.get(string) for string in text]
        # Each distinct missing string once, in order.
        first = {}
        for row, (string, ids) in enumerate(zip(text, cached)):
            if ids is None:
                first.setdefault(string, row)
        if first:
            rows = list(first.values())
            found = dict(zip(first, map(tuple, self._encode_plain(codes[rows],
                                                                  [text[r] for r in rows]))))
            cached = [found[s] if ids is None else ids for s, ids in zip(text, cached)]
            self._remember(found)
        return [list(ids) for ids in cached]

    def _encode_plain(self, codes, text):
        """Encode code strings (and their codes) with no chunk cache."""
        if self._tail is not None:
            return self._tail.encode(codes, text)
        return hf_ids(self._bpe, text)

    def _remember(self, found):
        if not self.cache_chunks:
            return
        with self._cache_lock:
            self._cache.update(found)
            excess = len(self._cache) - self.cache_chunks
            for key in list(itertools.islice(self._cache, max(excess, 0))):
                del self._cache[key]

    # ---------------------------------------------------------------- decoding

    def decode(self, tokens, horizon, action_dim):
        """
        Decode a batch of token-id sequences into (B, horizon, action_dim) actions.

        Never raises on sequence content: an empty, truncated or overlong sequence, an unknown
        id, a byte sequence that is not whole characters, or a code outside the fitted range
        marks that chunk invalid (``valid`` False, actions NaN, ``reasons`` says why). Wrap a
        single sequence in a list. Raises ValueError only for a bad ``horizon`` (an integer in
        [1, MAX_HORIZON]) or ``action_dim``, or ``tokens`` that is not a list of sequences.
        """
        self._require_fitted('decode')
        horizon = check_integer(horizon, 'FastTokenizer.decode horizon', 1, MAX_HORIZON)
        check_action_dim(action_dim, self.action_dim, 'FastTokenizer.decode')
        check_token_batch(tokens, 'FastTokenizer.decode')
        n_codes = horizon * self.action_dim
        codes = self._decode_well_formed(tokens, n_codes)
        if codes is not None:
            reasons = [None] * len(tokens)
        else:
            codes = np.zeros((len(tokens), n_codes), dtype=np.int64)
            reasons = [self._decode_codes(seq, n_codes, out) for seq, out in zip(tokens, codes)]
        valid = np.array([reason is None for reason in reasons], dtype=bool)
        coefficients = (codes + self.min_code).reshape(-1, horizon, self.action_dim) / self.scale
        normalized = idct(coefficients, axis=1, norm='ortho')
        actions = self.normalizer.unnormalize(normalized)
        actions[~valid] = np.nan
        return Decoded(actions=actions, valid=valid, reasons=reasons)

    def _decode_well_formed(self, tokens, n_codes):
        """
        Codes (B, n_codes) of the whole batch at once if every sequence is well formed.

        Returns None at the first irregularity of any kind; the per-sequence path then finds
        which sequences are invalid and why.
        """
        try:
            lengths = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
            ids = np.array(list(itertools.chain.from_iterable(tokens)))
        except (TypeError, ValueError):
            return None
        if (ids.ndim != 1 or ids.dtype.kind not in 'iu' or lengths.size == 0
                or lengths.min() == 0 or ids.min() < 0 or ids.max() >= len(self._token_bytes)):
            return None
        raw = b''.join(self._token_bytes[ids])
        try:
            text = raw.decode('utf-8')
        except UnicodeDecodeError:
            return None
        data = np.frombuffer(raw, dtype=np.uint8)
        is_first_byte = (data & 0xC0) != 0x80
        byte_ends = np.cumsum(self._token_lengths[ids])[np.cumsum(lengths) - 1]
        # A sequence must start on a character boundary, and hold n_codes characters.
        if not is_first_byte[np.r_[0, byte_ends[:-1]]].all():
            return None
        chars_before_end = np.cumsum(is_first_byte)[byte_ends - 1]
        if np.any(np.diff(chars_before_end, prepend=0) != n_codes):
            return None
        codes = np.frombuffer(text.encode('utf-32-le'), dtype='<u4')
        if codes.max() > self.max_code - self.min_code:
            return None
        return codes.reshape(len(tokens), n_codes).astype(np.int64)

    def _decode_codes(self, seq, n_codes, out):
        """Write the codes of one sequence into ``out``; return None or why it is invalid."""
        try:
            ids = np.asarray(seq)
        except (TypeError, ValueError):
            return 'not a sequence of integer token ids'
        if ids.ndim != 1 or ids.size == 0:
            return f'expected a non-empty 1-D sequence of token ids, got shape {ids.shape}'
        if ids.dtype.kind not in 'iu':
            return f'token ids must be integers, got dtype {ids.dtype}'
        if ids.min() < 0 or ids.max() >= len(self._token_bytes):
            bad = ids[(ids < 0) | (ids >= len(self._token_bytes))][0]
            return f'unknown token id {int(bad)} (ids are 0..{len(self._token_bytes) - 1})'
        try:
            text = b''.join(self._token_bytes[ids]).decode('utf-8')
        except UnicodeDecodeError:
            return 'token bytes do not form whole code characters (truncated or stray byte)'
        codes = np.frombuffer(text.encode('utf-32-le'), dtype='<u4')
        if codes.size != n_codes:
            return f'decodes to {codes.size} codes, expected horizon * action_dim = {n_codes}'
        if codes.max() > self.max_code - self.min_code:
            return 'decodes to a code outside the fitted range'
        out[:] = codes
        return None

    # ---------------------------------------------------------------- persistence

    def save(self, directory):
        """Write ``fast_tokenizer.json`` (settings, statistics) and ``tokenizer.json`` (BPE)."""
        self._require_fitted('save')
        os.makedirs(check_directory(directory, 'FastTokenizer.save'), exist_ok=True)
        write_config(os.path.join(directory, _CONFIG_FILE), _FORMAT, _FORMAT_VERSION, {
            'scale': self.scale,
            'vocab_size': self.vocab_size,
            'min_code': self.min_code,
            'max_code': self.max_code,
            'horizon': self.horizon,
            'normalizer': self.normalizer.to_dict(),
        })
        self._bpe.save(os.path.join(directory, _BPE_FILE))

    @classmethod
    def load(cls, directory):
        """Read a tokenizer written by :meth:`save`; a bad file is a ValueError naming it."""
        directory = check_directory(directory, 'FastTokenizer.load')
        path = os.path.join(directory, _CONFIG_FILE)
        config = read_config(path, _FORMAT, _FORMAT_VERSION)
        try:
            tokenizer = cls(scale=config.get('scale'), vocab_size=config.get('vocab_size'))
            tokenizer.normalizer = QuantileNormalizer.from_dict(config.get('normalizer'))
            tokenizer.horizon = check_integer(config.get('horizon'), 'horizon', 1, MAX_HORIZON)
            min_code = check_integer(config.get('min_code'), 'min_code', -_MAX_ABS_CODE,
                                     _MAX_ABS_CODE)
            max_code = check_integer(config.get('max_code'), 'max_code', min_code,
                                     min_code + _MAX_CODE_RANGE - 1)
        except ValueError as err:
            raise ValueError(f'{path}: {err}') from None
        tokenizer.min_code, tokenizer.max_code = min_code, max_code
        bpe_path = os.path.join(directory, _BPE_FILE)
        try:
            bpe = Tokenizer.from_file(bpe_path)
        # The Rust library raises a bare Exception for a missing or unparsable file.
        except Exception as err:  # noqa: BLE001
            raise ValueError(f'{bpe_path}: not a readable tokenizer file ({err})') from None
        tokenizer._set_bpe(bpe, bpe_path)
        return tokenizer

    # ---------------------------------------------------------------- helpers

    def _set_bpe(self, bpe, source='the fitted BPE'):
        vocab = bpe.get_vocab()
        code_range = self.max_code - self.min_code + 1
        if (not isinstance(bpe.model, models.BPE)
                or sorted(vocab.values()) != list(range(len(vocab)))):
            raise ValueError(f'{source}: must be a byte-level BPE with token ids 0..n-1')
        missing = {BYTE_TO_SYMBOL[byte] for code in range(code_range)
                   for byte in chr(code).encode('utf-8')}.difference(vocab)
        if missing:
            # HF's BPE drops a character it has no token for: codes would vanish silently.
            raise ValueError(f'{source}: has no token for {len(missing)} byte symbol(s) of the '
                             f'code range [{self.min_code}, {self.max_code}]')
        self._bpe = bpe
        self._tail = RunTailEncoder.build(
            bpe, self.max_code - self.min_code + 1,
            zero=chr(-self.min_code) if self.min_code <= 0 <= self.max_code else None,
            width=self.horizon * self.normalizer.action_dim)
        self.clear_cache()
        token_bytes = np.empty(len(vocab), dtype=object)
        for token, index in vocab.items():
            token_bytes[index] = _token_to_bytes(token)
        self._token_bytes = token_bytes
        self._token_lengths = np.array([len(b) for b in token_bytes], dtype=np.int64)

    def _raw_codes(self, chunks):
        normalized = np.clip(self.normalizer.normalize(chunks), -_MAX_NORMALIZED,
                             _MAX_NORMALIZED)
        coefficients = dct(normalized, axis=1, norm='ortho')
        # np.around rounds half to even, as the reference does; (B, T, D) -> (B, T * D) puts
        # coefficient t of every dimension before coefficient t + 1.
        codes = np.clip(np.around(coefficients * self.scale), -_MAX_ABS_CODE, _MAX_ABS_CODE)
        return codes.astype(np.int64).reshape(len(chunks), -1)

    def _check_chunks(self, chunks, what, fitted=True):
        return check_chunks(chunks, f'FastTokenizer.{what}', self.action_dim if fitted else None)

    def _require_fitted(self, what):
        if self._bpe is None:
            raise RuntimeError(f'FastTokenizer.{what}: call fit() or load() first')


def _token_to_bytes(token):
    """
    Bytes a token stands for, as the HF byte-level decoder reads it.

    Tokens from the raw initial alphabet that are not byte-level symbols (e.g. chr(0)) are
    never produced by encoding; the HF decoder reads them as their own UTF-8 bytes.
    """
    if all(symbol in SYMBOL_TO_BYTE for symbol in token):
        return bytes(SYMBOL_TO_BYTE[symbol] for symbol in token)
    return token.encode('utf-8')


def _with_all_code_bytes(bpe, code_range):
    """
    Append the byte symbols of codes 0..code_range-1 that training never saw.

    The reference silently drops such codes at encode. Appending after training keeps every
    trained id (and so every token of a chunk made of seen codes) unchanged.
    """
    vocab = bpe.get_vocab()
    needed = {BYTE_TO_SYMBOL[byte] for code in range(code_range)
              for byte in chr(code).encode('utf-8')}
    missing = sorted(needed.difference(vocab))
    if not missing:
        return bpe
    state = json.loads(bpe.to_str())
    for offset, symbol in enumerate(missing):
        state['model']['vocab'][symbol] = len(vocab) + offset
    return Tokenizer.from_str(json.dumps(state))
