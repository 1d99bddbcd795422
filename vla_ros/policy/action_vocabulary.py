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
Action tokens in a language model's vocabulary: chunk -> token stream -> chunk, or no chunk.

An action tokenizer (`FastTokenizer` for the ``fast`` head, `BinTokenizer` for ``bins``) emits
ids 0..n-1; the language model sees them at the top of its vocabulary,

    lm_id = vocab_size - 1 - skip_tokens - token        (its own inverse)

which is LeRobot ``pi0_fast``'s ``_act_tokens_to_paligemma_tokens`` (skip_tokens 128 there:
PaliGemma's last 128 ids are special) and OpenVLA's choice for bins (skip 0: the 256
least-used ids, the last ones of a BPE vocabulary). A vocabulary trained here from scratch is
made just big enough, text ids first, so action ids overlay nothing.

A training stream is ``[begin] a_1 .. a_n`` in, ``a_1 .. a_n [end]`` out, scored on those
n + 1 outputs only. A decoded stream is one whole chunk or an `InvalidDecode`: no end token
within ``max_decode_tokens``, an id that is no action token, or tokens the action tokenizer
cannot turn into exactly horizon x action_dim values. LeRobot's pi0_fast pads or truncates
such a stream and, when decoding still fails, returns an all-zero chunk; here it is an error.

numpy only; no torch.
"""

from __future__ import annotations

from dataclasses import dataclass
import numbers
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from vla_ros.action_tokenizers import BinTokenizer, FastTokenizer
from vla_ros.policy.interface import InvalidDecode, PolicyError

ACTION_HEADS = ('flow', 'fast', 'bins')    # flow: SmolVLA's expert; the others decode tokens
TOKEN_HEADS = ACTION_HEADS[1:]
TOKENIZER_DIR = 'action_tokenizer'          # inside a checkpoint or run directory
_FIELDS = ('kind', 'vocab_size', 'skip_tokens', 'begin_id', 'end_id', 'max_decode_tokens',
           'horizon', 'action_dim')


@dataclass
class ActionVocabulary:
    """
    How an autoregressive head's action tokens sit in the language model's vocabulary.

    ``tokenizer`` is fitted on normalized action chunks (the policy's mean/std units), so
    `encode` takes and `parse` returns normalized chunks. ``begin_id`` starts every action
    stream (the model's first input after the prefix), ``end_id`` ends it; both lie outside
    the action ids. ``max_decode_tokens`` bounds a decode, the end token included.
    """

    kind: str
    tokenizer: Any              # FastTokenizer ('fast') or BinTokenizer ('bins'), fitted
    vocab_size: int
    horizon: int
    action_dim: int
    begin_id: int
    end_id: int
    max_decode_tokens: int
    skip_tokens: int = 0

    def __post_init__(self):
        if self.kind not in TOKEN_HEADS:
            raise PolicyError(f'action_head.kind={self.kind!r}: must be one of '
                              + ', '.join(TOKEN_HEADS))
        expected = FastTokenizer if self.kind == 'fast' else BinTokenizer
        if not isinstance(self.tokenizer, expected) or not self.tokenizer.fitted:
            raise PolicyError(f'action_head.tokenizer: a {self.kind} head needs a fitted '
                              f'{expected.__name__}, got {type(self.tokenizer).__name__}')
        for name in _FIELDS[1:]:
            value = getattr(self, name)
            if not (isinstance(value, numbers.Integral) and not isinstance(value, bool)):
                raise PolicyError(f'action_head.{name}={value!r}: must be an integer')
            setattr(self, name, int(value))
        checks = (
            ('skip_tokens', self.skip_tokens >= 0, 'must be >= 0'),
            ('vocab_size', self.first_action_id >= 0,
             f'must hold the {self.n_action_tokens} action tokens and skip_tokens='
             f'{self.skip_tokens}'),
            ('horizon', self.horizon >= 1, 'must be >= 1'),
            ('action_dim', self.action_dim == self.tokenizer.action_dim,
             f'must be the action_dim {self.tokenizer.action_dim} of the action tokenizer'),
            ('begin_id', 0 <= self.begin_id < self.vocab_size
             and not self.is_action_id(self.begin_id),
             f'must be in [0, vocab_size={self.vocab_size}) outside the action ids '
             f'{self.first_action_id}..{self.last_action_id}'),
            ('end_id', 0 <= self.end_id < self.vocab_size and self.end_id != self.begin_id
             and not self.is_action_id(self.end_id),
             f'must be in [0, vocab_size={self.vocab_size}), not begin_id, outside the '
             f'action ids {self.first_action_id}..{self.last_action_id}'),
            ('max_decode_tokens', self.max_decode_tokens >= 2, 'must be >= 2'),
        )
        for name, ok, rule in checks:
            if not ok:
                raise PolicyError(f'action_head.{name}={getattr(self, name)!r}: {rule}')

    # ----------------------------------------------------------------------------------------
    # Fitting.

    @classmethod
    def fit(cls, kind: str, chunks: np.ndarray, *, text_vocab_size: int, begin_id: int,
            end_id: int, vocab_size: int | None = None, skip_tokens: int = 0,
            fast_scale: float = 10.0, fast_vocab_size: int = 1024,
            n_bins: int = 256) -> 'ActionVocabulary':
        """
        Fit the action tokenizer on normalized chunks (N, horizon, action_dim).

        `vocab_size` None sizes a vocabulary trained from scratch: ``text_vocab_size`` text
        ids, then ``skip_tokens`` unused ones, then the action ids, nothing overlaid. For
        ``bins`` a decode has exactly horizon x action_dim tokens before the end; for ``fast``
        the limit is 1.5 x the longest training stream (+ the end token), since an unseen
        chunk may need more tokens than any training one.
        """
        chunks = np.asarray(chunks, dtype=np.float64)
        if chunks.ndim != 3 or 0 in chunks.shape:
            raise PolicyError(f'action chunks: shape {chunks.shape}: must be (N, horizon, '
                              'action_dim), non-empty')
        horizon, action_dim = chunks.shape[1:]
        try:
            if kind == 'fast':
                tokenizer = FastTokenizer(scale=fast_scale, vocab_size=fast_vocab_size).fit(chunks)
                longest = max(map(len, tokenizer.encode(chunks)))
                max_tokens = longest + longest // 2 + 1
                n_tokens = tokenizer.n_tokens
            elif kind == 'bins':
                tokenizer = BinTokenizer(n_bins=n_bins).fit(chunks)
                max_tokens = horizon * action_dim + 1
                n_tokens = tokenizer.n_bins
            else:
                raise PolicyError(f'action_head.kind={kind!r}: must be one of '
                                  + ', '.join(TOKEN_HEADS))
        except ValueError as exc:
            if isinstance(exc, PolicyError):
                raise
            raise PolicyError(f'action tokenizer: {exc}') from None
        if vocab_size is None:
            vocab_size = text_vocab_size + skip_tokens + n_tokens
        return cls(kind, tokenizer, vocab_size, horizon, action_dim, begin_id, end_id,
                   max_tokens, skip_tokens)

    # ----------------------------------------------------------------------------------------
    # The id mapping.

    @property
    def n_action_tokens(self) -> int:
        """Return how many ids the action tokenizer emits (0 .. n - 1)."""
        return self.tokenizer.n_tokens if self.kind == 'fast' else self.tokenizer.n_bins

    @property
    def first_action_id(self) -> int:
        """Return the lowest language-model id of an action token (the tokenizer's last)."""
        return self.vocab_size - self.skip_tokens - self.n_action_tokens

    @property
    def last_action_id(self) -> int:
        """Return the highest language-model id of an action token (the tokenizer's 0)."""
        return self.vocab_size - 1 - self.skip_tokens

    def is_action_id(self, ids: Any) -> Any:
        """Whether each language-model id is an action token."""
        ids = np.asarray(ids)
        return (ids >= self.first_action_id) & (ids <= self.last_action_id)

    def to_lm_ids(self, tokens: Any) -> np.ndarray:
        """Action-tokenizer ids -> language-model ids: ``vocab_size - 1 - skip - token``."""
        tokens = np.asarray(tokens, dtype=np.int64)
        if tokens.size and (tokens.min() < 0 or tokens.max() >= self.n_action_tokens):
            raise PolicyError(f'action token ids must be in [0, {self.n_action_tokens}), got '
                              f'{int(tokens.min())}..{int(tokens.max())}')
        return self.last_action_id - tokens

    def from_lm_ids(self, ids: Any) -> np.ndarray:
        """Language-model ids of action tokens -> action-tokenizer ids (the same formula)."""
        ids = np.asarray(ids, dtype=np.int64)
        if ids.size and not self.is_action_id(ids).all():
            raise PolicyError(f'ids outside the action ids {self.first_action_id}..'
                              f'{self.last_action_id}')
        return self.last_action_id - ids

    def allowed_ids(self) -> np.ndarray:
        """Bool (vocab_size,): what greedy decoding may emit, the action ids and the end."""
        allowed = np.zeros(self.vocab_size, dtype=bool)
        allowed[self.first_action_id:self.last_action_id + 1] = True
        allowed[self.end_id] = True
        return allowed

    # ----------------------------------------------------------------------------------------
    # Streams.

    def encode(self, chunks: np.ndarray) -> list[np.ndarray]:
        """Language-model ids of each normalized chunk (B, horizon, action_dim), no begin/end."""
        chunks = np.asarray(chunks, dtype=np.float64)
        if chunks.ndim != 3 or chunks.shape[1:] != (self.horizon, self.action_dim):
            raise PolicyError(f'action chunks: shape {chunks.shape}: must be (B, '
                              f'{self.horizon}, {self.action_dim})')
        return [self.to_lm_ids(ids) for ids in self.tokenizer.encode(chunks)]

    def training_arrays(self, chunks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """
        Teacher-forcing inputs, targets and loss mask, each (B, T), T the longest stream + 1.

        Row b: inputs ``[begin, a_1 .. a_n]``, targets ``[a_1 .. a_n, end]``, mask true on
        those n + 1 positions; after them inputs and targets are ``end_id`` and masked out.
        """
        streams = self.encode(chunks)
        width = 1 + max(len(s) for s in streams)
        inputs = np.full((len(streams), width), self.end_id, dtype=np.int64)
        targets = np.full_like(inputs, self.end_id)
        mask = np.zeros(inputs.shape, dtype=bool)
        for row, ids in enumerate(streams):
            n = len(ids)
            inputs[row, 0], inputs[row, 1:n + 1] = self.begin_id, ids
            targets[row, :n] = ids
            mask[row, :n + 1] = True
        return inputs, targets, mask

    def parse(self, ids: Any) -> np.ndarray:
        """
        Return the normalized chunk (horizon, action_dim) of one decoded stream (after begin).

        The stream is cut at its first ``end_id``. Raises `InvalidDecode` saying why when it
        is not one whole chunk; never pads, truncates or substitutes values.
        """
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        ends = np.flatnonzero(ids == self.end_id)
        if not ends.size:
            raise InvalidDecode(f'{self.kind} head: no end token (id {self.end_id}) within '
                                f'{ids.size} decoded tokens')
        body = ids[:ends[0]]
        if not body.size:
            raise InvalidDecode(f'{self.kind} head: the end token came first (no action '
                                'tokens)')
        foreign = body[~self.is_action_id(body)]
        if foreign.size:
            raise InvalidDecode(f'{self.kind} head: token id {int(foreign[0])} is no action '
                                f'token (ids {self.first_action_id}..{self.last_action_id})')
        decoded = self.tokenizer.decode([self.from_lm_ids(body).tolist()], self.horizon,
                                        self.action_dim)
        if not decoded.valid[0]:
            raise InvalidDecode(f'{self.kind} head: {len(body)} action tokens: '
                                f'{decoded.reasons[0]}')
        return decoded.actions[0]

    # ----------------------------------------------------------------------------------------
    # Persistence: the fields in JSON (policy.json's "action_head"), the tokenizer's own files
    # in a directory beside it.

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready fields (the tokenizer is saved by `save_tokenizer`)."""
        return {name: getattr(self, name) for name in _FIELDS} | {'tokenizer_dir': TOKENIZER_DIR}

    def save_tokenizer(self, directory: str | Path) -> None:
        """Write the action tokenizer's files into `directory`."""
        self.tokenizer.save(str(directory))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], directory: str | Path) -> 'ActionVocabulary':
        """
        Build from `to_dict` output; the tokenizer is read from ``directory/tokenizer_dir``.

        Raises `PolicyError` naming the field or the file.
        """
        if not isinstance(data, Mapping):
            raise PolicyError(f'action_head={data!r}: must be an object')
        known = set(_FIELDS) | {'tokenizer_dir'}
        unknown = sorted(set(data) - known, key=str)
        missing = [name for name in _FIELDS if name not in data]
        if unknown or missing:
            raise PolicyError(f'action_head: unknown field(s) {unknown}, missing {missing}')
        sub = data.get('tokenizer_dir', TOKENIZER_DIR)
        if (not isinstance(sub, str) or not sub or Path(sub).is_absolute()
                or '..' in Path(sub).parts):
            raise PolicyError(f'action_head.tokenizer_dir={sub!r}: must be a relative '
                              'directory inside the checkpoint')
        kind = data['kind']
        if kind not in TOKEN_HEADS:
            raise PolicyError(f'action_head.kind={kind!r}: must be one of '
                              + ', '.join(TOKEN_HEADS))
        loader = FastTokenizer if kind == 'fast' else BinTokenizer
        try:
            tokenizer = loader.load(str(Path(directory) / sub))
        except ValueError as exc:
            raise PolicyError(f'action_head: {exc}') from None
        return cls(tokenizer=tokenizer, **{name: data[name] for name in _FIELDS})
