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
Exact, faster byte-level BPE for FAST code strings: the trailing run is encoded once.

A chunk's high-frequency DCT coefficients are mostly zero, so its code string ends in a run
of ~200 equal characters. The GPT-2 pre-tokenizer keeps that run in one word with the
characters of its class before it, and HF ``tokenizers`` runs BPE's merge queue through all
of it for every chunk: about half of an encode. `RunTailEncoder` encodes the string without
its trailing run (the head) with the same HF tokenizer, takes the run's ids from a memo
(there are only as many distinct runs as run lengths), and joins the two where that
provably gives the ids of the whole string:

* Word boundaries: the head splits into the same words as the whole string, with the last
  word cut before the run, when neither the run's character nor the one before it is
  whitespace or an apostrophe (the GPT-2 regex's look-ahead and contractions are the only
  rules that read past a word), and the run is letters, numbers or other symbols.
* The cut inside that last word: the pieces either side evolve as they would alone until a
  merge crosses the cut. BPE applies merges in rank order (a merge that uses a token ranks
  after the merge that made it), so the symbols at the end of the left piece are its last
  token's right spine (the token, its right parent, that one's right parent, ... one byte
  symbol), each alive until the rank of the merge above it, and likewise the right piece's
  first token's left spine. A pair (a, b) of them merges exactly when its rank comes before
  both are consumed; with no such pair no merge crosses. Checked once per token pair.

A chunk where either condition fails is encoded whole. A tokenizer this cannot mirror (other
pre-tokenizer or BPE options, a merge list that is not a trained one) gets None from
`RunTailEncoder.build`, and the caller uses HF alone.
"""

import json

import numpy as np

# Trailing runs shorter than this are left in the head.
_MIN_RUN = 16
# Remembered runs and cuts; the memo is emptied when it grows past this.
_MAX_REMEMBERED = 1 << 16
# Zero runs up to this long are encoded at build (longer ones when first met): their total
# length grows with the square of the chunk's width.
_MAX_ZERO_RUN = 2048


class RunTailEncoder:
    """Encode FAST code strings as a byte-level BPE ``Tokenizer`` does (see the module doc)."""

    def __init__(self, bpe, splittable, merges, left, right):
        self._bpe = bpe
        # Runs of the zero code, encoded once at build (part of the tokenizer, like its
        # vocabulary); runs of other codes are remembered as they come.
        self._zero_runs = {}
        self._splittable = splittable
        self._merges = merges
        self._left = left
        self._right = right
        self._runs = {}
        self._seams = {}

    @classmethod
    def build(cls, bpe, alphabet_size, zero=None, width=0):
        """
        Return a `RunTailEncoder` for `bpe` over code characters ``chr(0) .. chr(size - 1)``.

        `zero` is the character of DCT code 0 and `width` the length of a chunk's string:
        runs of `zero` up to that long are encoded here, once.

        Returns None when `bpe` is not a plain byte-level BPE this class mirrors exactly.
        """
        state = json.loads(bpe.to_str())
        model = state.get('model') or {}
        pre = state.get('pre_tokenizer') or {}
        plain_model = (model.get('type') == 'BPE' and not model.get('dropout')
                       and not model.get('continuing_subword_prefix')
                       and not model.get('end_of_word_suffix')
                       and not model.get('ignore_merges') and not model.get('byte_fallback'))
        plain_pre = (pre.get('type') == 'ByteLevel' and pre.get('use_regex', True)
                     and not pre.get('add_prefix_space'))
        if not (plain_model and plain_pre and state.get('normalizer') is None):
            return None
        vocab = model['vocab']
        pairs = [tuple(m.split(' ')) if isinstance(m, str) else tuple(m)
                 for m in model['merges']]
        # Spines: (token, rank of the merge that consumes it there), top token first.
        never = len(pairs)
        left = {i: ((i, never),) for i in vocab.values()}
        right = dict(left)
        merges, made = {}, set()
        for rank, (a, b) in enumerate(pairs):
            ia, ib, new = vocab.get(a), vocab.get(b), vocab.get(a + b)
            if ia is None or ib is None or new is None or new in made or (ia, ib) in merges:
                return None   # not a merge list as BPE training writes it
            made.add(new)
            merges[(ia, ib)] = rank
            left[new] = ((new, never), (ia, rank)) + left[ia][1:]
            right[new] = ((new, never), (ib, rank)) + right[ib][1:]
        splittable = np.array([_splittable(bpe, chr(code)) for code in range(alphabet_size)])
        encoder = cls(bpe, splittable, merges, left, right)
        if zero is not None and width >= _MIN_RUN:
            runs = [zero * n for n in range(_MIN_RUN, min(width, _MAX_ZERO_RUN) + 1)]
            encoder._zero_runs = dict(zip(runs, encoder._encode(runs)))
        return encoder

    def encode(self, codes, texts):
        """
        Token ids (lists) of each chunk.

        `codes` (B, N) are the chunks' codes as integers ``0 .. alphabet - 1`` and `texts`
        the same as strings of ``chr(code)``.
        """
        codes = np.asarray(codes)
        n_rows, width = codes.shape
        # Start of each row's trailing run of one character.
        same = np.ones((n_rows, width), dtype=bool)
        same[:, 1:] = codes[:, 1:] == codes[:, :-1]
        not_same = ~same
        not_same[:, 0] = True
        starts = width - 1 - np.argmax(not_same[:, ::-1], axis=1)
        before = np.where(starts > 0, codes[np.arange(n_rows), np.maximum(starts - 1, 0)],
                          codes[:, -1])
        split = ((width - starts >= _MIN_RUN) & self._splittable[codes[:, -1]]
                 & self._splittable[before])
        cuts = [start if cut else None for start, cut in zip(starts.tolist(), split.tolist())]
        head_ids = self._encode([text if cut is None else text[:cut]
                                 for text, cut in zip(texts, cuts)])
        tails = [None if cut is None else text[cut:] for text, cut in zip(texts, cuts)]
        # A local view of the memo: another thread may empty the shared one meanwhile.
        runs = self._runs
        if len(runs) > _MAX_REMEMBERED:
            self.forget()
            runs = self._runs
        if len(self._seams) > _MAX_REMEMBERED:
            self._seams = {}
        zero_runs = self._zero_runs
        known = {t: zero_runs.get(t) or runs.get(t) for t in set(tails) if t is not None}
        new = [t for t, ids in known.items() if ids is None]
        found = dict(zip(new, self._encode(new)))
        known.update(found)
        runs.update(found)
        out, redo = [], []
        for row, (ids, tail) in enumerate(zip(head_ids, tails)):
            if tail is not None:
                tail_ids = known[tail]
                if ids and not self._seam_ok(ids[-1], tail_ids[0]):
                    redo.append(row)
                else:
                    ids = ids + tail_ids
            out.append(ids)
        for row, ids in zip(redo, self._encode([texts[row] for row in redo])):
            out[row] = ids
        return out

    def forget(self):
        """
        Drop the remembered runs (not the zero runs encoded at build).

        Cut checks stay: they depend on the vocabulary alone, not on what was encoded.
        """
        self._runs = {}

    def _encode(self, texts):
        return hf_ids(self._bpe, texts) if texts else []

    def _seam_ok(self, last, first):
        """Whether no merge crosses a cut between tokens `last` and `first` (module doc)."""
        key = (last, first)
        ok = self._seams.get(key)
        if ok is None:
            # A pair that is no merge rule gets a rank after every consumption.
            merges, no_rule = self._merges, len(self._merges) + 1
            ok = not any(merges.get((a, b), no_rule) <= min(consumed_a, consumed_b)
                         for a, consumed_a in self._right[last]
                         for b, consumed_b in self._left[first])
            self._seams[key] = ok
        return ok


def hf_ids(bpe, texts):
    """Token ids of each string in `texts` from HF's batched encode of `bpe`."""
    # encode_batch_fast skips offset bookkeeping we never use (tokenizers >= 0.20).
    encode_batch = getattr(bpe, 'encode_batch_fast', bpe.encode_batch)
    return [encoding.ids for encoding in encode_batch(texts, add_special_tokens=False)]


def _splittable(bpe, char):
    """
    Whether a word may be cut next to `char` without changing the pre-tokenizer's words.

    True for letters, numbers and other symbols, read from the pre-tokenizer itself: after
    an 'a', a '0' or a '!' the character joins that word, and it is not the apostrophe
    (which starts contractions). Whitespace joins none of them.
    """
    if char == "'":
        return False
    pre = bpe.pre_tokenizer
    return any(len(pre.pre_tokenize_str(lead + char)) == 1 for lead in ('a', '0', '!'))
