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
Inference latency per action chunk of the three heads on one backbone: flow, fast, bins.

Each chunk is timed in two parts (batch 1, CPU): the **prefix** (vision encoder, connector
and the language-model prefill that fills the key/value cache; the same work for every head)
and the **decoding** (flow: ``num_steps`` Euler steps of the action expert; fast and bins:
KV-cached greedy decoding, one language-model step and one LM-head matmul per token). Rounds
run every head once, in a rotated order, after one warm-up round; p50 and p95 over rounds.

Random weights never end a token stream on cue, so the token heads decode a fixed number of
tokens with the end token masked out: for bins horizon x joints + 1 (the end), exactly what a
trained model decodes; for fast the median FAST stream length of held-out chunks + 1. FAST is
fitted on training chunks: synthetic minimum-jerk episodes by default (as
benchmarks/action_tokenizers.py), or with ``--episodes-npz`` the demonstrations a
``vla-ros train`` run cached (``RUN/episodes.npz``), normalized by their mean/std as the policy
normalizes them.

Sizes: ``demo`` is the shipped demo policy's architecture (vla_ros/training/demo_model.py:
two 64 px cameras, 4 decoder layers 128 wide, chunk 10, 7 joints); ``smolvla_base`` is
``SmolVLAConfig.smolvla_base()`` (two 512 px cameras, 16 layers 960 wide, the 49280-id
SmolVLM2 vocabulary with the action ids on its last ids, chunk 50, 7 joints), all with random
weights built from the config (no download; ~5 GB of memory for the three fp32 models).

    .venv/bin/python benchmarks/action_heads_latency.py [--sizes demo smolvla_base]
        [--dtypes float32 bfloat16] [--threads 2] [--repeats 20] [--episodes-npz FILE]
        [--json out.json]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
from pathlib import Path
import statistics
import sys
import time

# Passive OpenMP waiting, as benchmarks/policy_latency.py explains; set before torch loads.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import numpy as np  # noqa: E402
import torch  # noqa: E402

from vla_ros.model import SmolVLA, SmolVLAConfig  # noqa: E402
from vla_ros.model.autoregressive import AutoregressiveVLA  # noqa: E402
from vla_ros.model.flow_matching import euler_sample  # noqa: E402
from vla_ros.policy.action_vocabulary import ActionVocabulary  # noqa: E402
from vla_ros.training.demo_model import demo_model_config  # noqa: E402

HEADS = ('flow', 'fast', 'bins')
DTYPES = {'float32': torch.float32, 'bfloat16': torch.bfloat16}
JOINTS = 7
TEXT_VOCAB = 15          # the demo policy's word-level instruction tokenizer
BEGIN, END = 2, 3        # its [BOS] and [EOS]


def size_config(size: str, vocab_size: int) -> tuple[SmolVLAConfig, int]:
    """Return (model config, language tokens of the instruction) for `size`."""
    if size == 'demo':
        return demo_model_config(64, 10, vocab_size, state_dim=JOINTS, action_dim=JOINTS), 6
    return SmolVLAConfig.smolvla_base(chunk_size=50, n_action_steps=50, num_steps=10,
                                      state_dim=JOINTS, action_dim=JOINTS,
                                      vocab_size=vocab_size), 16


@functools.lru_cache(maxsize=None)
def action_chunks(horizon: int, episodes_npz: str) -> tuple[np.ndarray, np.ndarray]:
    """Return normalized (fit, held-out) chunks (N, horizon, JOINTS) to fit and count FAST."""
    if episodes_npz:
        from vla_ros.training.build import read_episodes
        from vla_ros.training.data import training_chunks

        episodes = read_episodes(Path(episodes_npz))
        chunks = training_chunks(episodes, horizon)
        actions = np.concatenate([e.action for e in episodes])
        chunks = (chunks - actions.mean(0)) / (actions.std(0) + 1e-6)
        cut = int(0.9 * len(chunks))
        return chunks[:cut], chunks[cut:]
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from action_tokenizers import synthetic_chunks

    fit = synthetic_chunks(60, horizon, JOINTS, seed=0)
    held_out = synthetic_chunks(8, horizon, JOINTS, seed=1)
    mean, std = fit.reshape(-1, JOINTS).mean(0), fit.reshape(-1, JOINTS).std(0)
    return (fit - mean) / std, (held_out - mean) / std


def vocabularies(size: str, horizon: int, episodes_npz: str) -> dict[str, ActionVocabulary]:
    """Return the fast and bins vocabularies of `size` (demo: from scratch; base: SmolVLM2 ids)."""
    fit, _ = action_chunks(horizon, episodes_npz)
    vocab_size = None if size == 'demo' else SmolVLAConfig().vocab_size
    return {kind: ActionVocabulary.fit(kind, fit, text_vocab_size=TEXT_VOCAB, begin_id=BEGIN,
                                       end_id=END, vocab_size=vocab_size)
            for kind in ('fast', 'bins')}


def decode_lengths(vocab: dict[str, ActionVocabulary], horizon: int,
                   episodes_npz: str) -> dict[str, int]:
    """Tokens per chunk, end token included: bins exact, fast the held-out median."""
    _, held_out = action_chunks(horizon, episodes_npz)
    fast = int(np.median([len(ids) for ids in vocab['fast'].encode(held_out)]))
    return {'fast': fast + 1, 'bins': horizon * JOINTS + 1}


def build(size: str, head: str, vocab: dict[str, ActionVocabulary], dtype: torch.dtype):
    """Return (model, instruction tokens) with seeded random weights."""
    vocab_size = TEXT_VOCAB if head == 'flow' else vocab[head].vocab_size
    if size == 'smolvla_base':
        vocab_size = SmolVLAConfig().vocab_size
    config, lang = size_config(size, vocab_size)
    torch.manual_seed(0)
    model = (SmolVLA if head == 'flow' else AutoregressiveVLA)(config)
    return model.to(dtype).eval(), lang


def inputs(config: SmolVLAConfig, lang: int) -> dict:
    """One observation (batch 1) with two cameras, seeded."""
    g = torch.Generator().manual_seed(0)
    size = config.vision_image_size
    return {
        'images': [torch.rand(1, 3, size, size, generator=g) * 2 - 1 for _ in range(2)],
        'img_masks': [torch.ones(1, dtype=torch.bool) for _ in range(2)],
        'lang_tokens': torch.randint(4, TEXT_VOCAB, (1, lang), generator=g),
        'lang_masks': torch.ones(1, lang, dtype=torch.bool),
        'state': torch.randn(1, config.max_state_dim, generator=g),
    }


@torch.no_grad()
def time_chunk(head: str, model, x: dict, tokens: int, allowed) -> tuple[float, float]:
    """Seconds of (prefix, decoding) of one chunk."""
    start = time.perf_counter()
    ctx = model.encode_prefix(**x)
    mid = time.perf_counter()
    if head == 'flow':
        c = model.config
        noise = torch.randn(1, c.chunk_size, c.max_action_dim, generator=torch.Generator()
                            .manual_seed(0))
        euler_sample(lambda xt, t: model.velocity(xt, t, ctx), noise, c.num_steps)
    else:
        out = model.decode(ctx, BEGIN, END, tokens, allowed)
        assert not (out == END).any(), 'the end token is masked out: a fixed-length decode'
    return mid - start, time.perf_counter() - mid


def percentiles(values: list[float]) -> tuple[float, float]:
    """Return (p50, p95) in ms."""
    p50, p95 = np.percentile(np.asarray(values) * 1e3, [50, 95])
    return float(p50), float(p95)


def run(size: str, dtype_name: str, repeats: int, episodes_npz: str) -> list[dict]:
    """Time every head at `size` and `dtype_name`; return one row per head."""
    dtype = DTYPES[dtype_name]
    horizon = size_config(size, TEXT_VOCAB)[0].chunk_size
    vocab = vocabularies(size, horizon, episodes_npz)
    lengths = decode_lengths(vocab, horizon, episodes_npz)
    models, allowed, x = {}, {}, None
    for head in HEADS:
        models[head], lang = build(size, head, vocab, dtype)
        if head != 'flow':
            mask = torch.from_numpy(vocab[head].allowed_ids())
            mask[END] = False                     # a fixed number of tokens, see the docstring
            allowed[head] = mask
        x = x or inputs(models[head].config, lang)
    times = {head: ([], []) for head in HEADS}
    for round_ in range(repeats + 1):             # round 0 warms up
        order = HEADS[round_ % 3:] + HEADS[:round_ % 3]
        for head in order:
            prefix, decode = time_chunk(head, models[head], x, lengths.get(head, 0),
                                        allowed.get(head))
            if round_:
                times[head][0].append(prefix)
                times[head][1].append(decode)
    rows = []
    flow_total = statistics.median(a + b for a, b in zip(*times['flow']))
    for head in HEADS:
        prefix, decode = times[head]
        total = [a + b for a, b in zip(prefix, decode)]
        rows.append({
            'size': size, 'dtype': dtype_name, 'head': head,
            'tokens_per_chunk': lengths.get(head, 0) - 1 if head != 'flow' else None,
            'decode_steps': lengths.get(head, models[head].config.num_steps),
            'prefix_ms': percentiles(prefix), 'decode_ms': percentiles(decode),
            'total_ms': percentiles(total),
            'total_over_flow': statistics.median(total) / flow_total,
            'parameters': sum(p.numel() for p in models[head].parameters()),
        })
    return rows


def main() -> None:
    """Parse arguments, time, print a markdown table (and write JSON if asked)."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--sizes', nargs='+', default=['demo', 'smolvla_base'],
                        choices=['demo', 'smolvla_base'])
    parser.add_argument('--dtypes', nargs='+', default=['float32', 'bfloat16'],
                        choices=sorted(DTYPES))
    parser.add_argument('--threads', type=int, default=2, help='torch CPU threads')
    parser.add_argument('--repeats', type=int, default=20, help='timed rounds (p50/p95 of N)')
    parser.add_argument('--episodes-npz', default='', metavar='FILE',
                        help='fit and count FAST on these demonstrations (a vla-ros train '
                        "run's episodes.npz) instead of synthetic ones")
    parser.add_argument('--json', default='', metavar='FILE', help='also write the rows here')
    args = parser.parse_args()
    if min(args.threads, args.repeats) < 1:
        parser.error('--threads and --repeats must be >= 1')
    torch.set_num_threads(args.threads)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from machine import cpu_model

    load = os.getloadavg()[0] if hasattr(os, 'getloadavg') else float('nan')
    print(f'CPU: {cpu_model()}; torch {torch.__version__}; {args.threads} threads; batch 1; '
          f'p50/p95 of {args.repeats} rounds, heads interleaved, after 1 warm-up round; '
          f"FAST fitted on {args.episodes_npz or 'synthetic minimum-jerk chunks'}; "
          f'1-min load at start {load:.1f}')
    print()
    print('| size | dtype | head | tokens / chunk | prefix ms p50 / p95 | decoding ms p50 / p95 '
          '| total ms p50 / p95 | total / flow |')
    print('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |')
    rows = []
    for size in args.sizes:
        for dtype in args.dtypes:
            for r in run(size, dtype, args.repeats, args.episodes_npz):
                rows.append(r)
                tokens = '-' if r['tokens_per_chunk'] is None else r['tokens_per_chunk']
                print(f"| {size} | {dtype} | {r['head']} | {tokens} | "
                      f"{r['prefix_ms'][0]:.1f} / {r['prefix_ms'][1]:.1f} | "
                      f"{r['decode_ms'][0]:.1f} / {r['decode_ms'][1]:.1f} | "
                      f"{r['total_ms'][0]:.1f} / {r['total_ms'][1]:.1f} | "
                      f"{r['total_over_flow']:.2f} |", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({'cpu': cpu_model(), 'threads': args.threads,
                                               'torch': torch.__version__, 'rows': rows},
                                              indent=2) + '\n')


if __name__ == '__main__':
    main()
