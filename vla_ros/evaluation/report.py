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
    """Write every episode's outcome and the table as JSON."""
    episodes = [{'seed': r.seed, 'task': r.task, 'instruction': r.instruction,
                 'success': r.success, 'duration_s': round(r.duration_s, 3),
                 'inferences': r.inferences,
                 'mean_latency_s': round(float(np.mean(r.latencies_s)), 4)
                 if r.latencies_s else None,
                 'mean_obs_age_s': round(float(np.mean(r.obs_ages_s)), 4)
                 if r.obs_ages_s else None,
                 'refused_observations': r.refused} for r in results]
    data = dict(extra, table=success_table(results), episodes=episodes)
    Path(path).write_text(json.dumps(data, indent=2))


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
