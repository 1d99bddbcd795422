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
Real-time chunking in the closed loop: success and smoothness against inference delay.

    MUJOCO_GL=egl python benchmarks/rtc_grid.py --out outputs/rtc_grid \
        [--delays 0 0.2 0.4 0.6 0.8] [--episodes 100] [--variants none lerobot vjp ...] \
        [--trained-policy DIR]

Every cell runs `vla-ros eval`'s loop (the runtime the nodes use, on sim time) on the same
held-out seeds (100000 on), with a fixed inference delay so a cell is deterministic. Variants:
``none`` (today's executor crossfade, no real-time chunking), ``lerobot`` (LeRobot 0.6.1's
guidance, its default max weight 10), ``lerobot_w1`` (the same, max weight 1), ``vjp`` (the
paper's guidance) and ``trained`` (a policy fine-tuned with delayed prefixes, the prefix
clamped; needs --trained-policy). Smoothness: per chunk switch, the largest command step and
the RMS jerk of the commands in the 0.2 s after it (means over episodes). Writes
``OUT/grid.json`` (resumable: finished cells are skipped), ``OUT/table.md`` and
``OUT/success_vs_delay.png``; prints the table and the CPU.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
import json
from pathlib import Path
import time

import numpy as np

VARIANTS = {
    'none': {},
    'lerobot': {'rtc_guidance': 'lerobot'},
    'lerobot_w1': {'rtc_guidance': 'lerobot', 'rtc_max_guidance_weight': 1.0},
    'vjp': {'rtc_guidance': 'vjp'},
    'trained': {'rtc_guidance': 'trained'},
}


def run_cell(policy_dir, variant, delay, episodes, seed_start, out_dir):
    """Evaluate one (variant, delay) cell; return its row."""
    import torch

    from vla_ros.config import ExecutorConfig, PolicyNodeConfig, SimConfig
    from vla_ros.evaluation.evaluate import evaluate
    from vla_ros.evaluation.report import success_table
    from vla_ros.evaluation.rollout import RolloutSettings
    from vla_ros.policy.registry import load_policy
    from vla_ros.sim import TASKS

    torch.set_num_threads(1)
    policy = load_policy(policy_dir)
    node_cfg = replace(PolicyNodeConfig(), **VARIANTS[variant])
    sim_cfg = SimConfig()
    seeds = list(range(seed_start, seed_start + episodes))
    start = time.monotonic()
    results = evaluate(policy, sim_cfg, ExecutorConfig(control_rate_hz=100.0), node_cfg, seeds,
                       [getattr(t, 'name', t) for t in TASKS],
                       RolloutSettings(inference_delay_s=delay,
                                       episode_time_s=sim_cfg.episode_time_s,
                                       frame_period_s=0.0),
                       out_dir, video=None, progress=False)
    table = {row['task']: row for row in success_table(results)}

    def mean_of(name):
        values = [v for r in results for v in getattr(r, name, [])]
        return float(np.mean(values)) if values else float('nan')

    return {'variant': variant, 'delay_s': delay, 'episodes': episodes,
            'success': table['all']['success_rate'],
            'per_task': {k: v['success_rate'] for k, v in table.items() if k != 'all'},
            'switch_max_step_rad': mean_of('switch_max_step_rad'),
            'switch_jerk_rms': mean_of('switch_jerk_rms'),
            'rtc_applied': sum(r.rtc.count('applied') for r in results),
            'chunks': sum(r.inferences for r in results),
            'wall_s': round(time.monotonic() - start, 1)}


def markdown(rows, delays, variants) -> str:
    """Return the success table (rows: variants, columns: delays) and the smoothness one."""
    cell = {(r['variant'], r['delay_s']): r for r in rows}
    head = '| variant | ' + ' | '.join(f'{d:g} s' for d in delays) + ' |'
    rule = '|---|' + '---:|' * len(delays)
    lines = ['Success (100 held-out episodes per cell):', '', head, rule]
    for v in variants:
        lines.append(f'| {v} | ' + ' | '.join(
            f"{100 * cell[(v, d)]['success']:.0f} %" if (v, d) in cell else '-'
            for d in delays) + ' |')
    lines += ['', 'Smoothness after each chunk switch (0.2 s window; mean over switches): '
              'largest command step [mrad] / RMS jerk [rad/s^3]:', '', head, rule]
    for v in variants:
        lines.append(f'| {v} | ' + ' | '.join(
            f"{1e3 * cell[(v, d)]['switch_max_step_rad']:.2f} / "
            f"{cell[(v, d)]['switch_jerk_rms']:.1f}" if (v, d) in cell else '-'
            for d in delays) + ' |')
    return '\n'.join(lines) + '\n'


def plot(rows, delays, variants, path) -> None:
    """Success against delay, one line per variant."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=100)
    for v in variants:
        points = sorted((r['delay_s'], 100 * r['success']) for r in rows if r['variant'] == v)
        if points:
            ax.plot(*zip(*points), marker='o', label=v)
    ax.set_xlabel('inference delay [s]')
    ax.set_ylabel('success [%]')
    ax.set_xticks(delays)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('--out', default='outputs/rtc_grid')
    parser.add_argument('--policy', default='', help='default: the shipped demo policy')
    parser.add_argument('--trained-policy', default='', help='for the trained variant')
    parser.add_argument('--delays', type=float, nargs='+', default=[0.0, 0.2, 0.4, 0.6, 0.8])
    parser.add_argument('--variants', nargs='+', default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument('--episodes', type=int, default=100)
    parser.add_argument('--seed-start', type=int, default=100_000)
    args = parser.parse_args(argv)
    from vla_ros.policy.registry import find_shipped_model

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    grid = out / 'grid.json'
    rows = json.loads(grid.read_text()) if grid.exists() else []
    done = {(r['variant'], r['delay_s'], r['episodes']) for r in rows}
    variants = [v for v in args.variants if v != 'trained' or args.trained_policy]
    from machine import cpu_model

    print(f'CPU: {cpu_model()}')
    for variant in variants:
        policy_dir = (args.trained_policy if variant == 'trained'
                      else args.policy or find_shipped_model())
        for delay in args.delays:
            if (variant, delay, args.episodes) in done:
                continue
            row = run_cell(policy_dir, variant, delay, args.episodes, args.seed_start,
                           out / f'{variant}_{delay:g}')
            rows.append(row)
            grid.write_text(json.dumps(rows, indent=1))
            print(f"{variant} {delay:g} s: {100 * row['success']:.0f} % "
                  f"({row['wall_s']} s)", flush=True)
    text = markdown(rows, args.delays, variants)
    (out / 'table.md').write_text(text)
    plot(rows, args.delays, variants, out / 'success_vs_delay.png')
    print(text)
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
