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

"""What an evaluation leaves behind: the per-task table, a rollout video, a joint plot."""

from __future__ import annotations

from collections import OrderedDict
import json
from pathlib import Path
from typing import Sequence

import numpy as np

from vla_ros.evaluation.rollout import EpisodeResult


def success_table(results: Sequence[EpisodeResult]) -> list[dict]:
    """Per-task rows ``{task, episodes, successes, success_rate}`` plus an ``all`` row."""
    by_task: OrderedDict[str, list[EpisodeResult]] = OrderedDict()
    for r in sorted(results, key=lambda r: r.task):
        by_task.setdefault(r.task, []).append(r)
    rows = []
    for task, group in list(by_task.items()) + [('all', list(results))]:
        n = len(group)
        ok = sum(r.success for r in group)
        rows.append({'task': task, 'episodes': n, 'successes': ok,
                     'success_rate': ok / n if n else float('nan'),
                     'mean_time_s': float(np.mean([r.duration_s for r in group if r.success]))
                     if ok else float('nan')})
    return rows


def format_table(rows: Sequence[dict]) -> str:
    """Return the table as Markdown (it goes into models/README.md as printed)."""
    lines = ['| task | episodes | successes | success rate | mean time to success |',
             '|---|---:|---:|---:|---:|']
    for row in rows:
        name = f'**{row["task"]}**' if row['task'] == 'all' else row['task']
        time_s = '-' if np.isnan(row['mean_time_s']) else f'{row["mean_time_s"]:.1f} s'
        lines.append(f'| {name} | {row["episodes"]} | {row["successes"]} | '
                     f'{100 * row["success_rate"]:.0f} % | {time_s} |')
    return '\n'.join(lines)


def write_summary(path: str | Path, results: Sequence[EpisodeResult], extra: dict) -> None:
    """
    Write every episode's outcome, the table and the latency percentiles as JSON.

    ``vla-ros eval`` and sim_node (``episodes:=N``) both write it; `read_summary` reads either.
    """
    episodes = [{'seed': r.seed, 'task': r.task, 'instruction': r.instruction,
                 'success': r.success, 'duration_s': round(r.duration_s, 3),
                 'inferences': r.inferences,
                 'mean_latency_s': _mean(r.latencies_s),
                 'mean_obs_age_s': _mean(r.obs_ages_s),
                 'mean_chunk_delay_s': _mean(r.chunk_delays_s),
                 'refused_observations': r.refused,
                 'rtc_applied': r.rtc.count('applied'),
                 'switch_max_step_rad': _max(r.switch_max_step_rad),
                 'switch_jerk_rms': _mean(r.switch_jerk_rms),
                 'runtime': r.runtime, 'executor': r.executor} for r in results]
    data = dict(extra, table=success_table(results), latency=latency_summary(results),
                episodes=episodes)
    Path(path).write_text(json.dumps(data, indent=2))


def latency_summary(results: Sequence[EpisodeResult]) -> dict:
    """
    Return p50 / p95 over every chunk of the run: latency, observation age, chunk delay [s].

    None where the run did not see the quantity (through ROS the inference latency of each
    chunk is not on the wire; the medians over episodes of the runtime's own rolling p50 / p95,
    which the policy node reports on /diagnostics, stand in for it).
    """
    out = {}
    for name, attr in (('latency', 'latencies_s'), ('obs_age', 'obs_ages_s'),
                       ('chunk_delay', 'chunk_delays_s')):
        values = [v for r in results for v in getattr(r, attr)]
        p50, p95 = np.percentile(values, [50, 95]) if values else (None, None)
        out[f'{name}_p50_s'] = None if p50 is None else round(float(p50), 4)
        out[f'{name}_p95_s'] = None if p95 is None else round(float(p95), 4)
    for key in ('latency_p50_ms', 'latency_p95_ms', 'observation_age_ms'):
        values = [r.runtime[key] for r in results
                  if key in r.runtime and np.isfinite(r.runtime[key])]
        out[f'runtime_{key}_median'] = round(float(np.median(values)), 1) if values else None
    out['chunks'] = sum(len(r.chunk_delays_s) for r in results)
    return out


def read_summary(path: str | Path) -> tuple[dict, list[EpisodeResult]]:
    """Return (the summary's top-level entries, its episodes) from a `write_summary` file."""
    data = json.loads(Path(path).read_text())
    results = [EpisodeResult(seed=e['seed'], task=e['task'], instruction=e['instruction'],
                             success=e['success'], duration_s=e['duration_s'],
                             inferences=e['inferences'],
                             refused=e.get('refused_observations', 0),
                             runtime=e.get('runtime', {}), executor=e.get('executor', {}))
               for e in data.pop('episodes')]
    return data, results


def _max(values):
    return round(float(np.max(values)), 6) if values else None


def _mean(values: Sequence[float]) -> float | None:
    return round(float(np.mean(values)), 4) if len(values) else None


def write_video(path: str | Path, frames: Sequence[np.ndarray], fps: float,
                scale: int = 2) -> Path:
    """Write frames as MP4 (ffmpeg) or GIF, chosen by the suffix of `path`."""
    import imageio.v2 as imageio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = [np.repeat(np.repeat(f, scale, axis=0), scale, axis=1) for f in frames]
    if path.suffix.lower() == '.gif':
        imageio.mimsave(path, frames, duration=1.0 / fps, loop=0)
    else:
        # Even sizes keep yuv420p encoders happy; macro_block_size=1 stops imageio resizing.
        frames = [f[:f.shape[0] // 2 * 2, :f.shape[1] // 2 * 2] for f in frames]
        imageio.mimsave(path, frames, fps=fps, macro_block_size=1)
    return path


def plot_joints(path: str | Path, result: EpisodeResult, joint_names: Sequence[str]) -> Path:
    """Plot commanded vs. measured position of every joint over one episode."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    times = np.asarray(result.times)
    commanded = np.asarray(result.commanded)
    measured = np.asarray(result.measured)
    n = measured.shape[1]
    cols = 2
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(9, 1.9 * rows), dpi=90, sharex=True,
                             squeeze=False)
    for j in range(rows * cols):
        ax = axes[j // cols][j % cols]
        if j >= n:
            ax.axis('off')
            continue
        ax.plot(times, commanded[:, j], lw=1.2, label='commanded')
        ax.plot(times, measured[:, j], lw=1.0, ls='--', label='measured')
        ax.set_ylabel(joint_names[j] if j < len(joint_names) else f'joint {j}', fontsize=8)
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7, loc='best')
    for ax in axes[-1]:
        ax.set_xlabel('sim time [s]')
    status = 'success' if result.success else 'failure'
    fig.suptitle(f'seed {result.seed}: "{result.instruction}" ({status})', fontsize=10)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
