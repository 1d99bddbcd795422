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
A small word-level tokenizer trained on the task instructions.

The full SmolVLA uses SmolVLM2's 49k-token BPE tokenizer; a demo policy trained from scratch
on a handful of instructions needs a vocabulary of tens of words, and a 49k-row embedding
would dominate the checkpoint. The tokenizer is saved in the Hugging Face layout
(``tokenizer.json`` + ``tokenizer_config.json``) so that ``AutoTokenizer.from_pretrained``
and ``PreTrainedTokenizerFast`` load it exactly like the real one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

PAD_TOKEN = '[PAD]'
UNK_TOKEN = '[UNK]'
BOS_TOKEN = '[BOS]'
EOS_TOKEN = '[EOS]'
SPECIAL_TOKENS = (PAD_TOKEN, UNK_TOKEN, BOS_TOKEN, EOS_TOKEN)


def train_instruction_tokenizer(instructions: Iterable[str], extra_words: Iterable[str] = ()):
    """
    Return a ``PreTrainedTokenizerFast`` whose vocabulary is every word in `instructions`.

    Text is lower-cased and split on whitespace and punctuation; unknown words map to
    ``[UNK]``. `extra_words` are added to the vocabulary even if no instruction uses them
    (e.g. the words of tasks that may be added later).
    """
    from tokenizers import normalizers, pre_tokenizers, Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.trainers import WordLevelTrainer
    from transformers import PreTrainedTokenizerFast

    texts = [str(t) for t in instructions] + [' '.join(extra_words)]
    if not any(t.strip() for t in texts):
        raise ValueError('instructions: empty: need at least one non-empty instruction')
    tok = Tokenizer(WordLevel(unk_token=UNK_TOKEN))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Whitespace(), pre_tokenizers.Punctuation()])
    trainer = WordLevelTrainer(special_tokens=list(SPECIAL_TOKENS), min_frequency=1)
    tok.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token=PAD_TOKEN, unk_token=UNK_TOKEN,
        bos_token=BOS_TOKEN, eos_token=EOS_TOKEN, padding_side='right')


def save_instruction_tokenizer(tokenizer, directory: str | Path) -> None:
    """Write `tokenizer` to `directory` in the Hugging Face layout."""
    Path(directory).mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(str(directory))


def load_instruction_tokenizer(directory: str | Path):
    """Load a tokenizer written by `save_instruction_tokenizer`."""
    from transformers import PreTrainedTokenizerFast

    path = Path(directory) / 'tokenizer.json'
    if not path.is_file():
        raise FileNotFoundError(f'{path}: no tokenizer.json (train one with vla-ros train)')
    return PreTrainedTokenizerFast.from_pretrained(str(directory))
