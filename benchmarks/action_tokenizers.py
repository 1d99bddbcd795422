#!/usr/bin/env python3
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
Benchmark the action tokenizers: FAST vs binning, and FAST vs LeRobot's reference.

Measures on realistic action chunks: tokens per chunk, reconstruction error (max and RMS, in
normalized units) and batched encode / decode throughput. Until recorded sim demonstrations
exist, the chunks are smooth synthetic multi-joint trajectories with noise (``--chunks``
takes an (N, T, D) .npy file instead).

With ``--lerobot-python`` (a venv with lerobot and scipy), LeRobot's FAST implementation
(``UniversalActionProcessor``) is fitted in a subprocess on the same normalized chunks; the
tokens are compared chunk by chunk and the speed ratio is measured in the same run.

    PYTHONPATH=. python benchmarks/action_tokenizers.py \
        [--lerobot-python /opt/venvs/lerobot/bin/python] [--markdown]
"""

import argparse
import json
import os
from pathlib import Path
import subprocess
import sys
import tempfile
import time

import numpy as np

from vla_ros.action_tokenizers import BinTokenizer, FastTokenizer

# Run by the lerobot venv's python: fit the reference exactly as its own ``fit`` does, encode
# the fit and eval chunks, time batched encode + decode, decode the eval tokens.
_REFERENCE_SCRIPT = r"""
import importlib, json, logging, pathlib, sys, time
import numpy as np
import lerobot

logging.disable(logging.WARNING)
work, repo = sys.argv[1], sys.argv[2]
scale, vocab_size, repeats = float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
sys.path.insert(0, repo)
from vla_ros.action_tokenizers import FastTokenizer

root = pathlib.Path(lerobot.__file__).parent
for path in sorted(root.rglob('*.py')):
    if 'class UniversalActionProcessor' in path.read_text(errors='ignore'):
        module = 'lerobot.' + '.'.join(path.relative_to(root).with_suffix('').parts)
        break
else:
    raise SystemExit('no UniversalActionProcessor in ' + str(root))
processor_cls = importlib.import_module(module).UniversalActionProcessor
fit_norm, eval_norm = np.load(work + '/fit_norm.npy'), np.load(work + '/eval_norm.npy')
fit_raw, eval_raw = np.load(work + '/fit_raw.npy'), np.load(work + '/eval_raw.npy')
horizon, action_dim = eval_norm.shape[1:]
start = time.perf_counter()
processor = processor_cls.fit(list(fit_norm), scale=scale, vocab_size=vocab_size,
                              time_horizon=horizon, action_dim=action_dim)
fit_s = time.perf_counter() - start
ours = FastTokenizer(scale=scale, vocab_size=vocab_size).fit(fit_raw)
fit_tokens = processor(fit_norm)
# Interleaved so both see the same machine load, with the same numpy/scipy/tokenizers.
times = {'ref_encode': [], 'ref_decode': [], 'ours_encode': [], 'ours_decode': [],
         'ours_encode_warm': []}
# HF tokenizers keeps a cache of encoded words in each BPE model; both are emptied before
# a cold call, so neither reuses words of the previous repeat.
ref_model = processor.bpe_tokenizer._tokenizer.model
clear_ref = getattr(ref_model, '_clear_cache', lambda: None)
for _ in range(repeats):
    clear_ref()
    start = time.perf_counter()
    eval_tokens = processor(eval_norm)
    middle = time.perf_counter()
    decoded = processor.decode(eval_tokens, time_horizon=horizon, action_dim=action_dim)
    times['ref_encode'].append(middle - start)
    times['ref_decode'].append(time.perf_counter() - middle)
    # Cold: these chunks are new to our caches (clear_cache empties HF's too), as to its.
    ours.clear_cache()
    start = time.perf_counter()
    our_tokens = ours.encode(eval_raw)
    middle = time.perf_counter()
    ours.decode(our_tokens, horizon, action_dim)
    times['ours_encode'].append(middle - start)
    times['ours_decode'].append(time.perf_counter() - middle)
    # Warm: the same chunks again (a dataset's next epoch).
    start = time.perf_counter()
    ours.encode(eval_raw)
    times['ours_encode_warm'].append(time.perf_counter() - start)
np.save(work + '/ref_decoded.npy', decoded)
json.dump({'module': module, 'lerobot_version': getattr(lerobot, '__version__', '?'),
           'tokenizers_version': importlib.import_module('tokenizers').__version__,
           'min_token': int(processor.min_token), 'fit_s': fit_s, 'times': times,
           'same_tokens_in_this_venv': our_tokens == eval_tokens,
           'fit_tokens': [list(map(int, t)) for t in fit_tokens],
           'eval_tokens': [list(map(int, t)) for t in eval_tokens]},
          open(work + '/ref.json', 'w'))
"""


def synthetic_chunks(n_episodes, horizon, action_dim, seed, episode_steps=300, stride=5):
    """
    Chunks from smooth multi-joint episodes: waypoints joined by minimum-jerk segments.

    The last dimension is a gripper that opens and closes with a short smooth transition;
    the others are joints in radians with 0.005 rad of white noise (teleoperation jitter).
    """
    rng = np.random.default_rng(seed)
    chunks = []
    for _ in range(n_episodes):
        episode = np.empty((episode_steps, action_dim))
        for dim in range(action_dim):
            gripper = dim == action_dim - 1
            knots = np.sort(rng.choice(np.arange(20, episode_steps - 20), 5, replace=False))
            knots = np.concatenate([[0], knots, [episode_steps - 1]])
            values = (rng.integers(0, 2, len(knots)).astype(float) if gripper
                      else rng.uniform(-1.5, 1.5, len(knots)))
            for k in range(len(knots) - 1):
                begin, end = knots[k], knots[k + 1]
                # Minimum-jerk profile 10s^3 - 15s^4 + 6s^5 (Flash & Hogan 1985); a gripper
                # moves in ~5 steps, a joint over the whole segment.
                length = 5 if gripper else end - begin
                s = np.clip((np.arange(begin, end + 1) - begin) / length, 0.0, 1.0)
                blend = 10 * s ** 3 - 15 * s ** 4 + 6 * s ** 5
                episode[begin:end + 1, dim] = values[k] + (values[k + 1] - values[k]) * blend
            if not gripper:
                episode[:, dim] += 0.005 * rng.standard_normal(episode_steps)
        starts = np.arange(0, episode_steps - horizon + 1, stride)
        chunks.append(np.stack([episode[s:s + horizon] for s in starts]))
    return np.concatenate(chunks)


def timed(function, repeats):
    """Median wall time of ``function()`` over ``repeats`` calls, and its last result."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


def errors(decoded, target):
    """Max absolute and RMS error over a batch, in the units given."""
    diff = decoded - target
    return float(np.max(np.abs(diff))), float(np.sqrt(np.mean(diff ** 2)))


def measure(tokenizer, eval_chunks, normalize, repeats):
    """
    Token counts, errors (normalized units) and batched timings of one tokenizer.

    Encoding is timed cold: a tokenizer with an encode cache has it cleared before each call.
    """
    horizon, action_dim = eval_chunks.shape[1:]
    clear = getattr(tokenizer, 'clear_cache', lambda: None)
    encode_s, tokens = timed(lambda: clear() or tokenizer.encode(eval_chunks), repeats)
    decode_s, decoded = timed(lambda: tokenizer.decode(tokens, horizon, action_dim), repeats)
    assert decoded.valid.all(), decoded.reasons
    max_err, rms_err = errors(normalize(decoded.actions), normalize(eval_chunks))
    lengths = [len(t) for t in tokens]
    return {'tokens_mean': float(np.mean(lengths)), 'tokens_max': int(np.max(lengths)),
            'max_err': max_err, 'rms_err': rms_err, 'encode_s': encode_s,
            'decode_s': decode_s, 'tokens': tokens}


def run_reference(python, arrays, scale, vocab_size, repeats):
    """Run ``_REFERENCE_SCRIPT`` with the lerobot venv's python on the given arrays."""
    with tempfile.TemporaryDirectory() as work:
        for name, array in arrays.items():
            np.save(os.path.join(work, f'{name}.npy'), array)
        script = os.path.join(work, 'reference.py')
        Path(script).write_text(_REFERENCE_SCRIPT)
        repo = str(Path(__file__).resolve().parents[1])
        subprocess.run([python, script, work, repo, str(scale), str(vocab_size), str(repeats)],
                       check=True, stdout=subprocess.DEVNULL)
        result = json.loads(Path(work, 'ref.json').read_text())
        result['decoded'] = np.load(os.path.join(work, 'ref_decoded.npy'))
    return result


def compare_tokens(ours, theirs, mask, what):
    """(identical, compared) over the chunks selected by ``mask``; prints any mismatch."""
    picked = np.flatnonzero(mask)
    differ = [int(i) for i in picked if list(ours[i]) != list(theirs[i])]
    for i in differ[:5]:
        print(f'MISMATCH {what} chunk {i}: ours {list(ours[i])} LeRobot {list(theirs[i])}',
              file=sys.stderr)
    return len(picked) - len(differ), len(picked)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--lerobot-python', help='python of a venv with lerobot and scipy')
    parser.add_argument('--chunks', help='(N, T, D) .npy of recorded action chunks')
    parser.add_argument('--fit-episodes', type=int, default=60)
    parser.add_argument('--eval-chunks', type=int, default=256)
    parser.add_argument('--horizon', type=int, default=50)
    parser.add_argument('--action-dim', type=int, default=7)
    parser.add_argument('--scale', type=float, default=10.0)
    parser.add_argument('--vocab-size', type=int, default=1024)
    parser.add_argument('--repeats', type=int, default=7)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--markdown', action='store_true', help='print the docs table')
    args = parser.parse_args(argv)

    if args.chunks:
        chunks = np.load(args.chunks)
        split = len(chunks) - args.eval_chunks
        fit_chunks, eval_chunks = chunks[:split], chunks[split:]
        source = f'{args.chunks}: {chunks.shape}'
    else:
        fit_chunks = synthetic_chunks(args.fit_episodes, args.horizon, args.action_dim,
                                      args.seed)
        # Held-out episodes: the eval chunks are not in the fitting set.
        eval_chunks = synthetic_chunks(args.eval_chunks // 40 + 1, args.horizon,
                                       args.action_dim, args.seed + 1)[:args.eval_chunks]
        source = 'synthetic minimum-jerk episodes with noise'
    horizon, action_dim = eval_chunks.shape[1:]

    start = time.perf_counter()
    fast = FastTokenizer(scale=args.scale, vocab_size=args.vocab_size).fit(fit_chunks)
    fast_fit_s = time.perf_counter() - start
    bins = BinTokenizer().fit(fit_chunks)
    # Both tokenizers' errors in the same normalized units (FAST's 1st/99th percentiles).
    normalize = fast.normalizer.normalize
    rows = {'FAST (ours)': measure(fast, eval_chunks, normalize, args.repeats),
            'binning (ours)': measure(bins, eval_chunks, normalize, args.repeats)}
    report = {'data': source, 'fit_chunks': len(fit_chunks), 'eval_chunks': len(eval_chunks),
              'horizon': horizon, 'action_dim': action_dim, 'fast_fit_s': fast_fit_s,
              'fast_vocab': fast.n_tokens, 'code_range': [fast.min_code, fast.max_code],
              'repeats': args.repeats}

    if args.lerobot_python:
        fit_norm, eval_norm = normalize(fit_chunks), normalize(eval_chunks)
        arrays = {'fit_norm': fit_norm, 'eval_norm': eval_norm, 'fit_raw': fit_chunks,
                  'eval_raw': eval_chunks}
        ref = run_reference(args.lerobot_python, arrays, args.scale, args.vocab_size,
                            args.repeats)
        median = {name: float(np.median(t)) for name, t in ref['times'].items()}
        ref_encode_s, ref_decode_s = median['ref_encode'], median['ref_decode']
        max_err, rms_err = errors(ref['decoded'], eval_norm)
        lengths = [len(t) for t in ref['eval_tokens']]
        rows['FAST (LeRobot)'] = {
            'tokens_mean': float(np.mean(lengths)), 'tokens_max': int(np.max(lengths)),
            'max_err': max_err, 'rms_err': rms_err,
            'encode_s': float(ref_encode_s), 'decode_s': float(ref_decode_s)}
        # Identity holds where the reference saw every code while fitting: all fit chunks,
        # and the eval chunks made only of seen codes.
        seen = np.unique(fast.dct_codes(fit_chunks))
        eval_codes = fast.dct_codes(eval_chunks)
        seen_eval = np.isin(eval_codes, seen).all(axis=1)
        fast.clear_cache()
        ours_fit = fast.encode(fit_chunks)
        fit_same = compare_tokens(ours_fit, ref['fit_tokens'], np.ones(len(fit_chunks), bool),
                                  'fitting')
        eval_same = compare_tokens(rows['FAST (ours)']['tokens'], ref['eval_tokens'],
                                   seen_eval, 'held-out')
        # The cached path must give the same ids as the cold one.
        cached_same = fast.encode(fit_chunks) == ours_fit
        ours_s = median['ours_encode'] + median['ours_decode']
        report['lerobot'] = {
            'module': ref['module'], 'lerobot_version': ref['lerobot_version'],
            'tokenizers_version': ref['tokenizers_version'],
            'min_token_equal': ref['min_token'] == fast.min_code,
            'identical_fit_chunks': fit_same, 'identical_eval_seen_chunks': eval_same,
            'eval_chunks_with_unseen_codes': int((~seen_eval).sum()),
            'fit_s': ref['fit_s'],
            'same_tokens_in_lerobot_venv': ref['same_tokens_in_this_venv'],
            'interleaved_s': median,
            'encode_speedup': ref_encode_s / median['ours_encode'],
            'decode_speedup': ref_decode_s / median['ours_decode'],
            'encode_decode_speedup': (ref_encode_s + ref_decode_s) / ours_s,
            'warm_encode_speedup': ref_encode_s / median['ours_encode_warm'],
            'warm_encode_decode_speedup': (ref_encode_s + ref_decode_s)
            / (median['ours_encode_warm'] + median['ours_decode']),
            'cached_encode_same': cached_same}
        identical = (fit_same[0] == fit_same[1] and eval_same[0] == eval_same[1]
                     and ref['same_tokens_in_this_venv'] and cached_same
                     and report['lerobot']['min_token_equal'])

    for row in rows.values():
        row.pop('tokens', None)
    report['rows'] = rows
    if args.markdown:
        print(markdown(report))
    else:
        print(json.dumps(report, indent=2))
    if args.lerobot_python and not identical:
        print('MISMATCH: our tokens differ from the reference (see above)', file=sys.stderr)
        return 1
    return 0


def markdown(report):
    """Return the docs table and the LeRobot comparison as Markdown."""
    n = report['eval_chunks']
    lines = [f"{n} held-out chunks of {report['horizon']} steps x {report['action_dim']} dims "
             f"({report['data']}); FAST fitted on {report['fit_chunks']} chunks "
             f"(vocabulary {report['fast_vocab']}, code range {report['code_range']}).", '',
             '| tokenizer | tokens/chunk (mean / max) | max err | RMS err | encode chunks/s '
             '| decode chunks/s |', '|---|---|---|---|---|---|']
    for name, row in report['rows'].items():
        lines.append(f"| {name} | {row['tokens_mean']:.1f} / {row['tokens_max']} "
                     f"| {row['max_err']:.4f} | {row['rms_err']:.4f} "
                     f"| {n / row['encode_s']:,.0f} | {n / row['decode_s']:,.0f} |")
    if 'lerobot' in report:
        ref = report['lerobot']
        fit_same, fit_total = ref['identical_fit_chunks']
        eval_same, eval_total = ref['identical_eval_seen_chunks']
        lines += ['', f"Reference: `{ref['module']}` (lerobot {ref['lerobot_version']}, "
                      f"tokenizers {ref['tokenizers_version']}).",
                  f'Identical tokens: {fit_same}/{fit_total} fitting chunks, '
                  f'{eval_same}/{eval_total} held-out chunks whose codes were all seen '
                  f"({ref['eval_chunks_with_unseen_codes']} held-out chunks had unseen codes).",
                  f"Speed-up ours/LeRobot, timed interleaved in the lerobot venv's process "
                  f"(median of {report['repeats']}): encode {ref['encode_speedup']:.1f}x, "
                  f"decode {ref['decode_speedup']:.1f}x, encode+decode "
                  f"{ref['encode_decode_speedup']:.1f}x (our encode cache cleared before every "
                  f'call); ours there also gives the same tokens on every held-out chunk: '
                  f"{ref['same_tokens_in_lerobot_venv']}.",
                  f"Re-encoding the same chunks (cache warm, e.g. a dataset's next epoch): "
                  f"encode {ref['warm_encode_speedup']:.1f}x, encode+decode "
                  f"{ref['warm_encode_decode_speedup']:.1f}x; cached ids equal uncached: "
                  f"{ref['cached_encode_same']}."]
    return '\n'.join(lines)


if __name__ == '__main__':
    sys.exit(main())
