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
Time one SmolVLA action chunk stage by stage: ours, and LeRobot's on the same weights.

Stages of ``sample_actions`` (batch 1): **vision** (SigLIP + connector, every camera),
**prefix** (embeddings, masks, the VLM prefill that fills the key/value cache, and whatever an
implementation precomputes for the denoising loop), each **denoising step** (one velocity
evaluation of the action expert) and the **total** wall time of the call. Each stage also
gets its achieved GFLOP/s, from an analytic count of the work the result needs (see
`stage_flops`: the same count for both implementations, so redundant work shows up as a lower
rate, not as more FLOPs).

Without ``--lerobot`` only our model runs (random weights; the dev venv is enough). With
``--lerobot`` (run it with LeRobot's venv), every size builds LeRobot's ``SmolVLAPolicy`` offline
from a temporary SmolVLM2-style config folder, fills it with seeded random weights
(`vla_ros.model.lerobot_reference`, shared with the parity fixture's generator), saves it as
a LeRobot checkpoint, loads ours from that checkpoint with ``SmolVLA.from_lerobot``, checks
that both give the same actions from the same noise, and then times the two *interleaved* in
one process (same torch, same threads): warm-up, then LeRobot/ours pairs with alternating
order; medians and p90s are reported with the ratio ours/LeRobot.

    PYTHONPATH=. /opt/venvs/lerobot/bin/python benchmarks/policy_latency.py --lerobot \
        [--sizes tiny reduced smolvla_base] [--dtype float32 bfloat16] [--compile] \
        [--repeats 5] [--threads 2] [--json out.json] [--markdown]

``--dtype bfloat16`` runs ours with bf16 weights and LeRobot under CPU autocast to bf16 (its
``use_amp`` path; its code needs fp32 weights for the fp32 action head), and reports the
largest action difference of each against its own fp32 result. ``--compile`` wraps our stages
in ``torch.compile`` (LeRobot stays eager: it is the reference).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import os
from pathlib import Path
import platform
import statistics
import sys
import tempfile
import time
from typing import Any, Callable

# OpenMP threads spin while they wait by default. On a CPU shared with other jobs a spinning or
# descheduled thread stalls every parallel region until its time slice comes round: measured
# here, a (1, 50, 720) RMSNorm took 3-30 ms instead of 0.2 ms and a chunk 5x longer. Passive
# waiting is the setting for an oversubscribed machine; it must be set before torch loads.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import torch  # noqa: E402

from vla_ros.model import SmolVLA, SmolVLAConfig  # noqa: E402
from vla_ros.model.lerobot_reference import (  # noqa: E402
    build_lerobot_policy,
    lerobot_policy_config,
    randomize_weights,
    smolvlm_config,
    use_offline_hub,
)

# Offline before transformers/huggingface_hub are imported (inside the LeRobot helpers).
use_offline_hub()

REPO_ROOT = Path(__file__).resolve().parents[1]
# Tokenizer and processor files LeRobot's constructor insists on reading; the model never
# sees text, so the fixture's small tokenizer serves every size.
FIXTURE_VLM = REPO_ROOT / 'test' / 'fixtures' / 'lerobot_smolvla' / 'vlm'
# That tokenizer's special-token ids (test/fixtures/lerobot_smolvla/README.md).
FIXTURE_TOKEN_IDS = {'pad_token_id': 2, 'bos_token_id': 1, 'eos_token_id': 6,
                     'image_token_id': 4}

# name: (config, cameras, language tokens). `reduced` keeps smolvla_base's widths with
# 256x256 images and half the depth of both the vision encoder and the VLM.
SIZES: dict[str, tuple[Callable[[], SmolVLAConfig], int, int]] = {
    'tiny': (SmolVLAConfig.tiny, 2, 12),
    'reduced': (lambda: SmolVLAConfig.smolvla_base(
        vision_image_size=256, resize_imgs_with_padding=(256, 256),
        vision_num_hidden_layers=6, num_vlm_layers=8), 2, 16),
    'smolvla_base': (SmolVLAConfig.smolvla_base, 2, 16),
}
DTYPES = {'float32': torch.float32, 'bfloat16': torch.bfloat16}


# ------------------------------------------------------------------------------------------
# FLOPs: multiply-adds count 2, attention counted dense (masked scores included).

def stage_flops(c: SmolVLAConfig, cameras: int, lang: int) -> dict[str, float]:
    """
    Count the FLOPs of the vision, the prefix and one denoising step at batch 1.

    Only the work the actions depend on: the prefix stops after the last layer's keys and
    values (its attention output and MLP feed nothing), and the cross-attention layers'
    re-projection of the cached keys/values, fixed for a chunk, is counted once in the
    prefix.
    """
    patches = (c.vision_image_size // c.vision_patch_size) ** 2
    dv = c.vision_hidden_size
    per_layer = (4 * 2 * patches * dv * dv + 2 * 2 * patches * patches * dv
                 + 2 * 2 * patches * dv * c.vision_intermediate_size)
    vision = cameras * (2 * patches * dv * 3 * c.vision_patch_size ** 2
                        + c.vision_num_hidden_layers * per_layer
                        + 2 * patches * dv * c.text_hidden_size)      # conv, layers, connector

    d, hd = c.text_hidden_size, c.text_head_dim
    q_w, kv_w = c.text_num_attention_heads * hd, c.text_num_key_value_heads * hd
    n_prefix = cameras * c.n_img_tokens + lang + 1
    kv = 2 * 2 * n_prefix * d * kv_w
    full = (kv + 2 * 2 * n_prefix * d * q_w + 2 * 2 * n_prefix * n_prefix * q_w
            + 3 * 2 * n_prefix * d * c.text_intermediate_size)
    n_layers = c.num_vlm_layers
    cross = [i % c.self_attn_every_n_layers != 0 for i in range(n_layers)]
    prefix = ((n_layers - 1) * full + 2 * 2 * n_prefix * d * q_w + kv    # last layer: q, k, v
              + 2 * n_prefix * c.max_state_dim * d                        # state token
              + sum(cross) * 2 * 2 * n_prefix * kv_w * kv_w)              # cross K/V, once

    de, t, a = c.expert_hidden_size, c.chunk_size, c.max_action_dim
    step = 2 * t * (a * de + 2 * de * de + de * de + de * a)             # suffix embed, head
    for is_cross in cross:
        step += 2 * 2 * t * de * q_w + 3 * 2 * t * de * c.expert_intermediate_size
        if is_cross:
            step += 2 * 2 * t * n_prefix * q_w
        else:
            step += 2 * 2 * t * de * kv_w + 2 * 2 * t * (n_prefix + t) * q_w
    return {'vision': vision, 'prefix': prefix, 'step': step,
            'total': vision + prefix + c.num_steps * step}


# ------------------------------------------------------------------------------------------
# Stage timing: wrap the methods that bound the stages, read the clock around each call.

class StageClock:
    """Records (stage, start, end) of wrapped method calls during one `run`."""

    def __init__(self, device: torch.device):
        """Clock for work on `device` (CUDA work is synchronised at every boundary)."""
        self.events: list[tuple[str, float, float]] = []
        self.sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)

    def wrap(self, obj: Any, attr: str, stage: str) -> None:
        """Replace `obj.attr` (a bound method or callable) by a timed instance attribute."""
        inner = getattr(obj, attr)

        def timed(*args, **kwargs):
            self.sync()
            start = time.perf_counter()
            out = inner(*args, **kwargs)
            self.sync()
            self.events.append((stage, start, time.perf_counter()))
            return out

        setattr(obj, attr, timed)

    def run(self, fn: Callable[[], torch.Tensor]) -> tuple[torch.Tensor, dict[str, Any]]:
        """Call `fn` once; return its output and the stage times in seconds."""
        self.events.clear()
        self.sync()
        start = time.perf_counter()
        out = fn()
        self.sync()
        end = time.perf_counter()
        vision = sum(e - s for name, s, e in self.events if name == 'vision')
        steps = [e - s for name, s, e in self.events if name == 'step']
        first_step = min((s for name, s, _ in self.events if name == 'step'), default=end)
        return out, {'vision': vision, 'prefix': first_step - start - vision,
                     'steps': steps, 'total': end - start}


# ------------------------------------------------------------------------------------------
# Models and inputs.

def make_inputs(c: SmolVLAConfig, cameras: int, lang: int, seed: int) -> dict[str, Any]:
    """Batch-1 model inputs in LeRobot's ``sample_actions`` layout, plus the fixed noise."""
    gen = torch.Generator().manual_seed(seed)
    height, width = c.image_hw
    yy = torch.linspace(-1, 1, height)[:, None]
    xx = torch.linspace(-1, 1, width)[None, :]
    images = []
    for cam in range(cameras):
        # Smooth structure plus noise: realistic value ranges without a dataset.
        base = torch.stack([torch.sin(3 * xx + 2 * yy + cam + ch) for ch in range(3)])
        noisy = 0.8 * base + 0.1 * torch.randn(3, height, width, generator=gen)
        images.append(noisy.clamp(-1, 1)[None])                     # (1, 3, H, W)
    return {
        'images': images,
        'img_masks': [torch.ones(1, dtype=torch.bool) for _ in range(cameras)],
        'lang_tokens': torch.randint(7, c.vocab_size, (1, lang), generator=gen),
        'lang_masks': torch.ones(1, lang, dtype=torch.bool),
        'state': torch.randn(1, c.max_state_dim, generator=gen),
        'noise': torch.randn(1, c.chunk_size, c.max_action_dim, generator=gen),
    }


def write_vlm_folder(c: SmolVLAConfig, folder: Path) -> None:
    """Write a SmolVLM2-style backbone folder with `c`'s sizes that LeRobot builds offline."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ('tokenizer.json', 'tokenizer_config.json', 'processor_config.json'):
        (folder / name).write_bytes((FIXTURE_VLM / name).read_bytes())
    smolvlm_config(c, **FIXTURE_TOKEN_IDS).save_pretrained(folder)


def build_lerobot(c: SmolVLAConfig, cameras: int, workdir: Path, seed: int):
    """Build LeRobot's SmolVLAPolicy at `c` with seeded weights; save it as a checkpoint."""
    vlm_dir = workdir / 'vlm'
    # LeRobot keeps only the first num_vlm_layers; building more is wasted time.
    c = dataclasses.replace(c, text_num_hidden_layers=c.num_vlm_layers,
                            vlm_model_name=str(vlm_dir))
    write_vlm_folder(c, vlm_dir)
    config = lerobot_policy_config(
        c, {f'observation.images.cam{i}': c.image_hw for i in range(cameras)})
    policy = build_lerobot_policy(config, seed).eval()
    policy.save_pretrained(workdir / 'checkpoint')
    return policy, workdir / 'checkpoint', vlm_dir


class Runner:
    """One implementation ready to time: a chunk function and its stage clock."""

    def __init__(self, name: str, sample: Callable[..., torch.Tensor], clock: StageClock,
                 autocast: torch.dtype | None = None):
        """Wrap `sample(**inputs) -> actions`; `autocast` runs it under CPU/CUDA autocast."""
        self.name, self.sample, self.clock, self.autocast = name, sample, clock, autocast
        self.times: list[dict[str, Any]] = []
        self.warmup_s = 0.0

    def chunk(self, inputs: dict[str, Any], device: torch.device,
              record: bool = True) -> torch.Tensor:
        """Sample one chunk; append its stage times when `record`."""
        ctx = (torch.autocast(device.type, dtype=self.autocast) if self.autocast is not None
               else contextlib.nullcontext())
        with torch.inference_mode(), ctx:
            out, times = self.clock.run(lambda: self.sample(**inputs))
        if record:
            self.times.append(times)
        return out.float()


def ours_runner(model: SmolVLA, device: torch.device, compile_model: bool) -> Runner:
    """Time `model.sample_actions`; stages are `embed_images` and `velocity` calls."""
    if compile_model:
        # Inference only: let inductor treat the weights as constants, fold them and pre-pack
        # them for oneDNN (what helps the small-M GEMMs of the denoising loop most).
        import torch._inductor.config as inductor_config
        inductor_config.freezing = True
        # Each stage separately, so the clock still sees the boundaries.
        model.embed_images = torch.compile(model.embed_images, dynamic=False)
        model.language_model.prefill = torch.compile(model.language_model.prefill,
                                                     dynamic=False)
        model.velocity = torch.compile(model.velocity, dynamic=False)
    clock = StageClock(device)
    clock.wrap(model, 'embed_images', 'vision')
    clock.wrap(model, 'velocity', 'step')
    return Runner('ours', model.sample_actions, clock)


def lerobot_runner(policy, device: torch.device, autocast: torch.dtype | None) -> Runner:
    """Time LeRobot's ``VLAFlowMatching.sample_actions`` (stages: embed_image, denoise_step)."""
    flow = policy.model
    clock = StageClock(device)
    clock.wrap(flow.vlm_with_expert, 'embed_image', 'vision')
    clock.wrap(flow, 'denoise_step', 'step')
    return Runner('lerobot', flow.sample_actions, clock, autocast)


# ------------------------------------------------------------------------------------------
# Measurement and report.

def to_device(inputs: dict[str, Any], device: torch.device) -> dict[str, Any]:
    """Move every tensor (also inside lists) of `inputs` to `device`."""
    def move(v):
        return [t.to(device) for t in v] if isinstance(v, list) else v.to(device)
    return {k: move(v) for k, v in inputs.items()}


def percentile(values: list[float], q: float) -> float:
    """Return the nearest-rank `q`-th percentile of non-empty `values`; q is in [0, 100]."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def summarize(times: list[dict[str, Any]], flops: dict[str, float]) -> dict[str, Any]:
    """Median/p90 seconds and GFLOP/s per stage over the recorded chunks."""
    per_stage = {
        'vision': [t['vision'] for t in times],
        'prefix': [t['prefix'] for t in times],
        'step': [s for t in times for s in t['steps']],
        'steps': [sum(t['steps']) for t in times],
        'total': [t['total'] for t in times],
    }
    out = {}
    for stage, values in per_stage.items():
        med = statistics.median(values)
        work = flops['step'] * len(times[0]['steps']) if stage == 'steps' else flops[stage]
        out[stage] = {'median_s': med, 'p90_s': percentile(values, 90),
                      'gflop_per_s': work / med / 1e9 if med > 0 else float('nan')}
    return out


def measure(runners: list[Runner], inputs: dict[str, Any], device: torch.device,
            warmup: int, repeats: int) -> None:
    """
    Warm up each runner, then record `repeats` chunks each, interleaved, order alternating.

    Alternating the order (A B, B A, ...) keeps a slow drift of a shared machine (other jobs,
    thermal state) from favouring whichever implementation always runs first.
    """
    for runner in runners:
        start = time.perf_counter()
        for _ in range(warmup):
            runner.chunk(inputs, device, record=False)
        runner.warmup_s = time.perf_counter() - start     # includes compilation, if any
    for i in range(repeats):
        for runner in (runners if i % 2 == 0 else runners[::-1]):
            runner.chunk(inputs, device)


def bench_size(size: str, args: argparse.Namespace, device: torch.device) -> dict[str, Any]:
    """Build, check and time one size; return its JSON record."""
    make_config, cameras, lang = SIZES[size]
    config = make_config()
    cameras = args.cameras or cameras
    dtype = DTYPES[args.dtype]
    inputs = make_inputs(config, cameras, lang, args.seed)
    record: dict[str, Any] = {
        'size': size, 'dtype': args.dtype, 'compile': args.compile, 'cameras': cameras,
        'lang_tokens': lang, 'prefix_tokens': cameras * config.n_img_tokens + lang + 1,
        'chunk_size': config.chunk_size, 'num_steps': config.num_steps,
        'image_hw': list(config.image_hw), 'flops': stage_flops(config, cameras, lang)}
    log(f'[{size}] building ({cameras} cameras, {lang} language tokens, '
        f'{record["prefix_tokens"]} prefix tokens)')
    runners = []
    with tempfile.TemporaryDirectory(prefix='policy_latency_') as tmp:
        if args.lerobot:
            # LeRobot prints its progress; keep stdout for the report.
            with contextlib.redirect_stdout(sys.stderr):
                policy, checkpoint, vlm_dir = build_lerobot(config, cameras, Path(tmp),
                                                            args.seed)
            ours = SmolVLA.from_lerobot(checkpoint, vlm_path=vlm_dir).eval()
        else:
            policy = None
            ours = SmolVLA(config).eval()
            randomize_weights(ours, args.seed)
    ours_fp32 = None
    dev_inputs = to_device(inputs, device)
    if args.lerobot:
        policy.to(device)
        le_fp32 = Runner('lerobot', policy.model.sample_actions, StageClock(device))
        le_ref = le_fp32.chunk(dev_inputs, device, record=False)
    ours.to(device)
    ours_ref = Runner('ours', ours.sample_actions, StageClock(device)).chunk(
        dev_inputs, device, record=False)
    if args.lerobot:
        record['max_abs_diff_fp32_ours_vs_lerobot'] = (ours_ref - le_ref).abs().max().item()
        log(f'[{size}] fp32 actions: max |ours - lerobot| = '
            f'{record["max_abs_diff_fp32_ours_vs_lerobot"]:.2e}')
    if dtype != torch.float32:
        ours_fp32 = ours_ref
        ours.to(dtype)
    runners.append(ours_runner(ours, device, args.compile))
    if args.lerobot:
        runners.insert(0, lerobot_runner(
            policy, device, dtype if dtype != torch.float32 else None))
    record['load_avg_1min_before'] = os.getloadavg()[0]
    log(f'[{size}] timing {" / ".join(r.name for r in runners)}: {args.warmup} warm-up, '
        f'{args.repeats} recorded chunks each')
    start = time.perf_counter()
    measure(runners, dev_inputs, device, args.warmup, args.repeats)
    record['bench_wall_s'] = time.perf_counter() - start
    record['load_avg_1min_after'] = os.getloadavg()[0]
    for runner in runners:
        record[runner.name] = summarize(runner.times, record['flops'])
        record[runner.name]['raw'] = runner.times
        record[runner.name]['warmup_s'] = runner.warmup_s
    if dtype != torch.float32 or args.compile:
        # What the timed setting changes in the actions, against the eager fp32 result.
        outs = {r.name: r.chunk(dev_inputs, device, record=False) for r in runners}
        ours_fp32 = ours_ref if ours_fp32 is None else ours_fp32
        record['max_abs_diff_vs_fp32_ours'] = (outs['ours'] - ours_fp32).abs().max().item()
        record['action_rms_fp32'] = ours_fp32.pow(2).mean().sqrt().item()
        if args.lerobot and dtype != torch.float32:
            record['max_abs_diff_vs_fp32_lerobot'] = (outs['lerobot'] - le_ref).abs().max().item()
    if args.lerobot:
        record['ratio'] = {stage: record['ours'][stage]['median_s']
                           / record['lerobot'][stage]['median_s']
                           for stage in ('vision', 'prefix', 'step', 'total')}
    print_size(record)
    return record


def log(message: str) -> None:
    """Progress on stderr, so stdout stays the report."""
    print(message, file=sys.stderr, flush=True)


def print_size(r: dict[str, Any]) -> None:
    """Print one size's table to stdout."""
    impls = [name for name in ('lerobot', 'ours') if name in r]
    print(f"\n{r['size']} ({r['dtype']}{', compiled' if r['compile'] else ''}): "
          f"{r['cameras']} cameras at {r['image_hw'][0]}x{r['image_hw'][1]}, "
          f"{r['lang_tokens']} language tokens, {r['prefix_tokens']} prefix tokens, "
          f"chunk {r['chunk_size']}, {r['num_steps']} steps")
    print(f"{'stage':<8} {'GFLOP':>8} " + ' '.join(
        f'{name + " ms (p90)":>20} {"GFLOP/s":>8}' for name in impls)
        + ('  ours/LeRobot' if 'ratio' in r else ''))
    for stage in ('vision', 'prefix', 'step', 'steps', 'total'):
        gflop = r['flops']['step' if stage == 'steps' else stage] / 1e9
        if stage == 'steps':
            gflop *= r['num_steps']
        line = f'{stage:<8} {gflop:8.3g} '
        for name in impls:
            s = r[name][stage]
            line += f"{s['median_s'] * 1e3:10.1f} ({s['p90_s'] * 1e3:7.1f}) " \
                    f"{s['gflop_per_s']:8.1f} "
        if 'ratio' in r and stage in r['ratio']:
            line += f" {r['ratio'][stage]:12.2f}"
        print(line)
    for key in ('max_abs_diff_fp32_ours_vs_lerobot', 'max_abs_diff_vs_fp32_ours',
                'max_abs_diff_vs_fp32_lerobot', 'action_rms_fp32'):
        if key in r:
            print(f'{key}: {r[key]:.3e}')
    sys.stdout.flush()


def markdown(records: list[dict[str, Any]]) -> str:
    """
    One Markdown table row per size, setting and implementation (docs/benchmarks.md).

    `load` is the machine's 1-minute load average when the timing started (2 cores).
    """
    lines = ['| size | dtype | impl | vision ms | prefix ms | step ms | total ms (p90) | '
             'GFLOP/s vision / prefix / step | ours/LeRobot total | load |',
             '| --- | --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |']
    for r in records:
        for name in ('lerobot', 'ours'):
            if name not in r:
                continue
            s = r[name]
            ratio = f"**{r['ratio']['total']:.2f}**" if name == 'ours' and 'ratio' in r else ''
            dtype = r['dtype'] + (' +compile' if r['compile'] and name == 'ours' else '')
            lines.append(
                f"| {r['size']} | {dtype} | {name} | {s['vision']['median_s'] * 1e3:.0f} | "
                f"{s['prefix']['median_s'] * 1e3:.0f} | {s['step']['median_s'] * 1e3:.1f} | "
                f"{s['total']['median_s'] * 1e3:.0f} ({s['total']['p90_s'] * 1e3:.0f}) | "
                f"{s['vision']['gflop_per_s']:.3g} / {s['prefix']['gflop_per_s']:.3g} / "
                f"{s['step']['gflop_per_s']:.3g} | {ratio} | "
                f"{r.get('load_avg_1min_before', float('nan')):.1f} |")
    return '\n'.join(lines)


def main(argv: list[str] | None = None) -> None:
    """Parse the options and benchmark every requested size."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--sizes', nargs='+', choices=sorted(SIZES), default=list(SIZES))
    parser.add_argument('--lerobot', action='store_true',
                        help="also run LeRobot's SmolVLA (needs LeRobot's venv)")
    parser.add_argument('--dtype', choices=sorted(DTYPES), default='float32')
    parser.add_argument('--compile', action='store_true', help='torch.compile our stages')
    parser.add_argument('--repeats', type=int, default=5, help='recorded chunks per impl')
    parser.add_argument('--warmup', type=int, default=1, help='unrecorded chunks per impl')
    parser.add_argument('--threads', type=int, default=2, help='torch intra-op threads')
    parser.add_argument('--cameras', type=int, default=0, help='override the camera count')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--json', type=Path, help='write every measurement here')
    parser.add_argument('--markdown', action='store_true', help='print a Markdown table too')
    args = parser.parse_args(argv)
    if args.compile:
        args.warmup = max(args.warmup, 1)   # the first call compiles
    if args.repeats < 1 or args.warmup < 0 or args.threads < 1:
        parser.error('--repeats and --threads must be >= 1, --warmup >= 0')

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    machine = {
        'cpu': platform.processor() or platform.machine(), 'threads': args.threads,
        'torch': torch.__version__, 'python': platform.python_version(),
        'device': torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu',
        'cpu_capability': torch.backends.cpu.get_cpu_capability(),
        'omp_wait_policy': os.environ.get('OMP_WAIT_POLICY'),
    }
    with contextlib.suppress(OSError):
        model_names = [line.split(':', 1)[1].strip() for line in
                       Path('/proc/cpuinfo').read_text().splitlines()
                       if line.startswith('model name')]
        machine['cpu'] = model_names[0] if model_names else machine['cpu']
    if args.lerobot:
        import lerobot
        import transformers
        machine.update(lerobot=lerobot.__version__, transformers=transformers.__version__)
    log(f'machine: {json.dumps(machine)}')
    records = [bench_size(size, args, device) for size in args.sizes]
    if args.markdown:
        print('\n' + markdown(records))
    if args.json:
        args.json.write_text(json.dumps({'machine': machine, 'argv': sys.argv[1:],
                                         'results': records}, indent=1))


if __name__ == '__main__':
    main()
