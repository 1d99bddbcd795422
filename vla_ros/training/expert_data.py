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
Demonstrations for training: recorded from the scripted expert, or read from a dataset.

Either way every frame ends up as an `EpisodeArrays` with images already at the model's input
size (resized by `vla_ros.policy.preprocessing`, the policy's own code, then stored as uint8),
so the whole training set fits in memory and a batch needs no resizing.
"""

from __future__ import annotations

import logging
from typing import Sequence

import numpy as np

from vla_ros.training.data import EpisodeArrays

log = logging.getLogger(__name__)


def to_model_uint8(images: np.ndarray, height: int, width: int) -> np.ndarray:
    """uint8 (T, H, W, 3) -> uint8 (T, height, width, 3) as the policy would resize them."""
    import torch

    from vla_ros.policy.preprocessing import to_model_pixels

    out = []
    for start in range(0, len(images), 256):
        pixels = to_model_pixels(images[start:start + 256], height, width)   # [-1, 1]
        out.append(((pixels + 1.0) * 127.5).round().clamp(0, 255).to(torch.uint8)
                   .permute(0, 2, 3, 1).numpy())
    return np.concatenate(out)


def record_expert_episodes(sim_cfg, seeds: Sequence[int], image_hw: tuple[int, int],
                           fps: float, tasks: Sequence[str] = (), tail_s: float = 0.5,
                           perturb_rad: float = 0.0, workers: int = 1,
                           progress: bool = True) -> list[EpisodeArrays]:
    """
    Run the scripted expert on each seed; keep frames at `fps` (task ``tasks[i % n]``).

    The frame at time t pairs the observation (images, measured joints) with the expert's
    target at t, as a teleoperated recording would (`vla_ros.sim.rollout.record_episode`;
    `perturb_rad` > 0 makes it DART-style). `tail_s` of the final hold is kept so the policy
    also learns to stay put once done. `workers` processes record in parallel.
    """
    from tqdm import tqdm

    from vla_ros.sim.rollout import record_episodes

    jobs = [(int(seed), tasks[i % len(tasks)] if tasks else None)
            for i, seed in enumerate(seeds)]
    episodes = []
    failures = 0
    for recorded in tqdm(record_episodes(sim_cfg, jobs, workers, fps=fps,
                                         tail_s=tail_s, perturb_rad=perturb_rad),
                         total=len(jobs), desc='record', unit='episode',
                         disable=not progress, dynamic_ncols=True):
        if not recorded.success:
            # A demonstration that fails teaches failure; drop it.
            failures += 1
            continue
        episodes.append(EpisodeArrays(
            images={n: to_model_uint8(v, *image_hw) for n, v in recorded.images.items()},
            state=recorded.state, action=recorded.action, instruction=recorded.instruction))
    log.info('recorded %d expert episodes (%d failed and dropped)', len(episodes), failures)
    return episodes
