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
Resumable training checkpoints, all tensors in safetensors (no pickle).

Layout of one checkpoint, ``<run>/checkpoints/step_000500/``::

    policy/                  the policy as `Policy.save_pretrained` writes it (loadable alone)
    optimizer.safetensors    AdamW moments, keyed ``<param index>.<state name>``
    training_state.json      step, elapsed time, learning-rate schedule, optimizer hyper-params

A checkpoint directory is written under a temporary name and renamed when complete, so an
interruption mid-write never leaves a checkpoint that looks valid but is not.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
import re
import shutil
from typing import Any, Callable

log = logging.getLogger(__name__)

_STEP_DIR = re.compile(r'^step_(\d+)$')


def checkpoint_dirs(run_dir: str | Path) -> list[Path]:
    """Return the complete checkpoints of a run, oldest first."""
    root = Path(run_dir) / 'checkpoints'
    if not root.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in root.iterdir()
             if (m := _STEP_DIR.match(p.name)) and (p / 'training_state.json').is_file()]
    return [p for _, p in sorted(found)]


def latest_checkpoint(run_dir: str | Path) -> Path | None:
    """Return the newest complete checkpoint of a run, or None."""
    dirs = checkpoint_dirs(run_dir)
    return dirs[-1] if dirs else None


def save_checkpoint(run_dir: str | Path, step: int, save_policy: Callable[[Path], None],
                    optimizer, state: dict[str, Any], keep: int = 2) -> Path:
    """Write a checkpoint for `step`; keep only the newest `keep` step checkpoints."""
    from safetensors.torch import save_file

    root = Path(run_dir) / 'checkpoints'
    final = root / f'step_{step:06d}'
    tmp = root / f'.tmp_step_{step:06d}'
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_policy(tmp / 'policy')
    tensors, hyper = _flatten_optimizer(optimizer)
    save_file(tensors, str(tmp / 'optimizer.safetensors'))
    state = dict(state, step=step, optimizer_param_groups=hyper)
    (tmp / 'training_state.json').write_text(json.dumps(state, indent=2))
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    for old in checkpoint_dirs(run_dir)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    log.info('checkpoint %s', final)
    return final


def load_training_state(checkpoint: str | Path, optimizer) -> dict[str, Any]:
    """Restore `optimizer` from `checkpoint`; return its training_state.json contents."""
    from safetensors.torch import load_file

    checkpoint = Path(checkpoint)
    state = json.loads((checkpoint / 'training_state.json').read_text())
    tensors = load_file(str(checkpoint / 'optimizer.safetensors'))
    _restore_optimizer(optimizer, tensors, state['optimizer_param_groups'])
    return state


def _flatten_optimizer(optimizer) -> tuple[dict, list[dict]]:
    sd = optimizer.state_dict()
    tensors = {}
    for index, per_param in sd['state'].items():
        for name, value in per_param.items():
            tensors[f'{index}.{name}'] = value.detach().clone().contiguous().reshape(
                value.shape)
    return tensors, sd['param_groups']


def _restore_optimizer(optimizer, tensors: dict, param_groups: list[dict]) -> None:
    state: dict[int, dict] = {}
    for key, value in tensors.items():
        index, name = key.split('.', 1)
        state.setdefault(int(index), {})[name] = value
    sizes = [len(g['params']) for g in optimizer.state_dict()['param_groups']]
    saved = [len(g['params']) for g in param_groups]
    if sizes != saved:
        raise ValueError(f'optimizer param groups {saved} in the checkpoint do not match the '
                         f"model's {sizes}: was the model config changed?")
    optimizer.load_state_dict({'state': state, 'param_groups': param_groups})
