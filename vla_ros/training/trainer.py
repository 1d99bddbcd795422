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
The training loop: AdamW, warm-up + cosine schedule, gradient clipping, resumable.

Randomness is derived from ``(seed, step)`` at every step (batch choice, augmentation, the
flow-matching noise and time, the training-time RTC delays), so a run resumed from a checkpoint
draws exactly the batches the uninterrupted run would have drawn; only the optimizer moments and
the step need saving.
"""

from __future__ import annotations

from dataclasses import dataclass
import logging
import math
from pathlib import Path
import time
from typing import Callable, Protocol

import numpy as np

from vla_ros.training.checkpoint import latest_checkpoint, load_training_state, save_checkpoint
from vla_ros.training.data import sample_rtc_delays
from vla_ros.training.loss_log import LossLog, plot_loss_curve
from vla_ros.training.train_config import TrainConfig

log = logging.getLogger(__name__)


class BatchSource(Protocol):
    """Anything that draws a training batch (a dict of tensors for ``compute_loss``)."""

    def sample(self, rng: np.random.Generator, batch_size: int) -> dict:
        """Return one batch drawn with `rng`."""


@dataclass
class TrainResult:
    """What a finished (or stopped) run reached."""

    step: int
    loss: float          # mean loss over the last logging window
    first_loss: float    # mean loss over the first logging window of this process
    elapsed_s: float     # total training wall time, over all resumed sessions
    checkpoint: Path | None
    stopped_early: bool  # max_time_s or an interrupt ended it before cfg.steps


def learning_rate(cfg: TrainConfig, step: int) -> float:
    """Linear warm-up to ``learning_rate``, then cosine decay to ``min_learning_rate``."""
    if step < cfg.warmup_steps:
        return cfg.learning_rate * (step + 1) / cfg.warmup_steps
    progress = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
    cosine = 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))
    return cfg.min_learning_rate + (cfg.learning_rate - cfg.min_learning_rate) * cosine


def train(model, batches: BatchSource, cfg: TrainConfig, run_dir: str | Path,
          save_policy: Callable[[Path], None], load_weights: Callable[[Path], None],
          resume: bool = True, progress: bool = True) -> TrainResult:
    """
    Train `model` (``model.compute_loss(batch)`` -> scalar loss) for ``cfg.steps`` steps.

    With ``cfg.rtc_max_delay_steps`` each batch also gets ``rtc_delay`` (training-time RTC).

    Writes ``run_dir/loss.csv``, ``run_dir/loss_curve.png`` and checkpoints under
    ``run_dir/checkpoints/``; `save_policy(dir)` writes the loadable policy into a checkpoint
    and `load_weights(dir)` loads one back into `model` on resume.
    """
    import torch
    from tqdm import tqdm

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim >= 2]
    no_decay = [p for p in params if p.ndim < 2]
    optimizer = torch.optim.AdamW(
        [{'params': decay, 'weight_decay': cfg.weight_decay},
         {'params': no_decay, 'weight_decay': 0.0}],
        lr=cfg.learning_rate, betas=(0.9, 0.95))

    step, elapsed_before = 0, 0.0
    checkpoint = latest_checkpoint(run_dir) if resume else None
    if checkpoint is not None:
        load_weights(checkpoint / 'policy')
        state = load_training_state(checkpoint, optimizer)
        step, elapsed_before = int(state['step']), float(state.get('elapsed_s', 0.0))
        log.info('resuming %s at step %d (%.0f s trained so far)', checkpoint, step,
                 elapsed_before)
    loss_log = LossLog(run_dir / 'loss.csv', resume_step=step)

    def save(at_step: int) -> Path:
        return save_checkpoint(run_dir, at_step, save_policy, optimizer,
                               {'elapsed_s': elapsed(), 'seed': cfg.seed,
                                'total_steps': cfg.steps}, keep=cfg.keep_checkpoints)

    start = time.monotonic()

    def elapsed() -> float:
        return elapsed_before + time.monotonic() - start

    model.train()
    window: list[float] = []
    first_loss = last_loss = float('nan')
    stopped_early = False
    bar = tqdm(total=cfg.steps, initial=step, desc='train', unit='step', disable=not progress,
               dynamic_ncols=True)
    try:
        while step < cfg.steps:
            if cfg.max_time_s and time.monotonic() - start >= cfg.max_time_s:
                log.info('max_time_s=%g reached at step %d', cfg.max_time_s, step)
                stopped_early = True
                break
            rng = np.random.default_rng([cfg.seed, step])
            torch.manual_seed(cfg.seed * 1_000_003 + step)
            batch = batches.sample(rng, cfg.batch_size)
            if cfg.rtc_max_delay_steps:
                # Drawn after the batch, so that runs without RTC keep their batches.
                batch['rtc_delay'] = sample_rtc_delays(rng, cfg.batch_size,
                                                       cfg.rtc_max_delay_steps)
            lr = learning_rate(cfg, step)
            for group in optimizer.param_groups:
                group['lr'] = lr
            loss = model.compute_loss(batch)
            if isinstance(loss, tuple):
                loss = loss[0]
            if loss.ndim:
                loss = loss.mean()
            if not torch.isfinite(loss):
                raise FloatingPointError(f'loss={loss.item()} at step {step}: must be finite '
                                         '(lower train.learning_rate?)')
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.grad_clip_norm:
                torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip_norm)
            optimizer.step()
            step += 1
            window.append(loss.item())
            bar.update(1)
            if step % cfg.log_every_steps == 0 or step == cfg.steps:
                last_loss = float(np.mean(window))
                if math.isnan(first_loss):
                    first_loss = last_loss
                window = []
                loss_log.append(step, last_loss, lr, elapsed())
                bar.set_postfix(loss=f'{last_loss:.4f}', lr=f'{lr:.2e}')
                log.debug('step %d loss %.4f lr %.2e', step, last_loss, lr)
                if not progress:
                    log.info('step %d/%d loss %.4f lr %.2e', step, cfg.steps, last_loss, lr)
            if step % cfg.save_every_steps == 0 and step < cfg.steps:
                save(step)
    except KeyboardInterrupt:
        log.warning('interrupted at step %d: saving a checkpoint to resume from', step)
        stopped_early = True
    finally:
        bar.close()
    if window:
        last_loss = float(np.mean(window))
        if math.isnan(first_loss):
            first_loss = last_loss
    checkpoint = save(step) if step > 0 else None
    plot_loss_curve(run_dir / 'loss.csv', run_dir / 'loss_curve.png',
                    title=f'{run_dir.name}: {step} steps, {elapsed() / 60:.1f} min')
    return TrainResult(step, last_loss, first_loss, elapsed(), checkpoint, stopped_early)
