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
What Real-Time Chunking adds to the latency of one action chunk, per variant.

Times ``SmolVLA.sample_actions`` (batch 1, float32, CPU) without RTC and with each variant
(``lerobot``, ``vjp``, ``trained``) on the same inputs, interleaved in one process (a round
runs every variant once, in a rotated order), after one warm-up round. Reported per variant:
the median time of a whole **chunk** (the call: vision, prefix, denoising) and the median time
of the **denoise** loop alone (the same call with the prefix encoded beforehand: all that RTC
changes, and cheap enough to repeat more often), the loop's **added** time and both ratios to
no RTC.

Sizes: ``demo`` is the shipped demo policy (models/demo_policy/, its weights and its two
cameras); ``smolvla_base`` is ``SmolVLAConfig.smolvla_base()`` with random weights, two
cameras at 512x512, chunk 50, 10 steps.

    .venv/bin/python benchmarks/rtc_cost.py [--sizes demo smolvla_base] [--repeats 3]
        [--denoise-repeats 10] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
import statistics
import time

# Passive OpenMP waiting: on a CPU shared with other jobs spinning threads distort timings
# (see benchmarks/policy_latency.py). Must be set before torch loads.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import torch  # noqa: E402

from vla_ros.model import RTCConfig, SmolVLA, SmolVLAConfig  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
DEMO_POLICY = REPO_ROOT / 'models' / 'demo_policy'
VARIANTS = ('none', 'lerobot', 'vjp', 'trained')


def build(size: str) -> tuple[SmolVLA, int, int]:
    """Return (model, cameras, language tokens) for `size`."""
    if size == 'demo':
        return SmolVLA.from_pretrained(DEMO_POLICY).float().eval(), 2, 8
    torch.manual_seed(0)
    config = SmolVLAConfig.smolvla_base(chunk_size=50, n_action_steps=50, num_steps=10)
    return SmolVLA(config).float().eval(), 2, 16


def inputs(model: SmolVLA, cameras: int, lang: int) -> dict:
    """One observation (batch 1), fixed noise and a previous chunk, all seeded."""
    c = model.config
    g = torch.Generator().manual_seed(0)
    size = c.vision_image_size
    return {
        'images': [torch.rand(1, 3, size, size, generator=g) * 2 - 1 for _ in range(cameras)],
        'img_masks': [torch.ones(1, dtype=torch.bool) for _ in range(cameras)],
        'lang_tokens': torch.randint(0, c.vocab_size, (1, lang), generator=g),
        'lang_masks': torch.ones(1, lang, dtype=torch.bool),
        'state': torch.randn(1, c.max_state_dim, generator=g),
        'noise': torch.randn(1, c.chunk_size, c.max_action_dim, generator=g),
        'prev': torch.randn(1, c.chunk_size, c.max_action_dim, generator=g),
    }


def variant_kwargs(variant: str, model: SmolVLA, x: dict) -> dict:
    """Keyword arguments of `sample_actions` for `variant`: delay 1/5, horizon 1/2 the chunk."""
    if variant == 'none':
        return {}
    chunk = model.config.chunk_size
    rtc = RTCConfig(schedule='exp', max_guidance_weight=10.0,
                    execution_horizon=max(1, chunk // 2), guidance=variant)
    return {'prev_chunk': x['prev'], 'inference_delay': max(1, chunk // 5), 'rtc': rtc}


def time_variants(model: SmolVLA, x: dict, repeats: int,
                  cached_prefix: bool) -> dict[str, list[float]]:
    """
    Time `sample_actions` for every variant, `repeats` interleaved rounds after a warm-up.

    With `cached_prefix` the prefix is encoded once beforehand and every call reuses it, so
    what is timed is the denoising loop (with RTC's argument checks), which is all RTC
    changes; it is cheap enough to repeat more often than a whole chunk.
    """
    times: dict[str, list[float]] = {v: [] for v in VARIANTS}
    args = (x['images'], x['img_masks'], x['lang_tokens'], x['lang_masks'], x['state'])
    if cached_prefix:
        ctx = model.encode_prefix(*args)
        model.encode_prefix = lambda *a, **k: ctx
    try:
        for round_ in range(repeats + 1):                   # round 0 warms up
            order = VARIANTS[round_ % 4:] + VARIANTS[:round_ % 4]
            for variant in order:
                kwargs = variant_kwargs(variant, model, x)
                start = time.perf_counter()
                model.sample_actions(*args, noise=x['noise'], **kwargs)
                if round_:
                    times[variant].append(time.perf_counter() - start)
    finally:
        if cached_prefix:
            del model.encode_prefix
    return times


def main() -> None:
    """Parse arguments, time, print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--sizes', nargs='+', default=['demo', 'smolvla_base'],
                        choices=['demo', 'smolvla_base'])
    parser.add_argument('--repeats', type=int, default=3,
                        help='timed rounds of whole chunks (median of N)')
    parser.add_argument('--denoise-repeats', type=int, default=10,
                        help='timed rounds of the denoising loop alone (median of N)')
    parser.add_argument('--threads', type=int, default=2, help='torch CPU threads')
    args = parser.parse_args()
    if min(args.repeats, args.denoise_repeats, args.threads) < 1:
        parser.error('--repeats, --denoise-repeats and --threads must be >= 1')
    torch.set_num_threads(args.threads)
    load = os.getloadavg()[0] if hasattr(os, 'getloadavg') else float('nan')
    from machine import cpu_model

    print(f'CPU: {cpu_model()}; torch {torch.__version__}; {args.threads} threads; float32; '
          f'batch 1; medians of {args.repeats} whole chunks and {args.denoise_repeats} '
          f'denoising loops, interleaved, after 1 warm-up round; 1-min load at start {load:.1f}')
    print()
    print('| size | variant | chunk ms | denoise ms | added ms | chunk / none | '
          'denoise / none |')
    print('| --- | --- | ---: | ---: | ---: | ---: | ---: |')
    for size in args.sizes:
        model, cameras, lang = build(size)
        x = inputs(model, cameras, lang)
        chunk = {v: statistics.median(t) * 1e3
                 for v, t in time_variants(model, x, args.repeats, False).items()}
        loop = {v: statistics.median(t) * 1e3
                for v, t in time_variants(model, x, args.denoise_repeats, True).items()}
        for variant in VARIANTS:
            print(f'| {size} | {variant} | {chunk[variant]:.0f} | {loop[variant]:.0f} | '
                  f"{loop[variant] - loop['none']:+.0f} | {chunk[variant] / chunk['none']:.2f} | "
                  f"{loop[variant] / loop['none']:.2f} |", flush=True)
        del model


if __name__ == '__main__':
    main()
