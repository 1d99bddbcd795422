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

"""The training loss history: an append-only CSV and its loss-curve PNG."""

from __future__ import annotations

import csv
from pathlib import Path

FIELDS = ('step', 'loss', 'lr', 'elapsed_s')


class LossLog:
    """
    Appends ``step, loss, lr, elapsed_s`` rows to a CSV that survives interruption.

    On resume the rows after the resumed step are dropped, so the curve never shows the same
    step twice when a run died between a log line and the next checkpoint.
    """

    def __init__(self, path: str | Path, resume_step: int = 0):
        self.path = Path(path)
        rows = [r for r in self.read(self.path) if r['step'] <= resume_step] if resume_step else []
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open('w', newline='') as f:
            writer = csv.writer(f)
            writer.writerow(FIELDS)
            for row in rows:
                writer.writerow([row[k] for k in FIELDS])

    def append(self, step: int, loss: float, lr: float, elapsed_s: float) -> None:
        """Add one row and flush it to disk."""
        with self.path.open('a', newline='') as f:
            csv.writer(f).writerow([step, f'{loss:.6g}', f'{lr:.6g}', f'{elapsed_s:.1f}'])

    @staticmethod
    def read(path: str | Path) -> list[dict]:
        """Return the rows of a loss CSV as dicts of numbers; [] if there is no file."""
        path = Path(path)
        if not path.is_file():
            return []
        with path.open(newline='') as f:
            return [{'step': int(r['step']), 'loss': float(r['loss']), 'lr': float(r['lr']),
                     'elapsed_s': float(r['elapsed_s'])} for r in csv.DictReader(f)]


def plot_loss_curve(csv_path: str | Path, png_path: str | Path, title: str = '') -> None:
    """Draw the loss (log scale, raw and smoothed) against the step into `png_path`."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np

    rows = LossLog.read(csv_path)
    if not rows:
        return
    steps = np.array([r['step'] for r in rows])
    loss = np.array([r['loss'] for r in rows])
    # An exponential moving average over ~5 rows shows the trend through flow-matching's
    # noisy loss (each batch draws fresh noise and times) without lagging behind it.
    smooth = np.empty_like(loss)
    acc = loss[0]
    for i, value in enumerate(loss):
        acc = 0.7 * acc + 0.3 * value
        smooth[i] = acc
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    ax.plot(steps, loss, color='tab:blue', alpha=0.3, lw=0.8,
            label='mean over each logging window')
    ax.plot(steps, smooth, color='tab:blue', lw=1.6, label='moving average')
    ax.set_yscale('log')
    ax.set_xlabel('step')
    ax.set_ylabel('flow-matching loss')
    ax.set_title(title or 'training loss')
    ax.grid(True, which='both', alpha=0.3)
    ax.legend()
    fig.tight_layout()
    Path(png_path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png_path)
    plt.close(fig)
