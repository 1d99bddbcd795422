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
size (resized by `vla_ros.preprocessing`, the policy's own code, then stored as uint8), so the
whole training set fits in memory and a batch needs no resizing.
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

    from vla_ros.preprocessing import to_model_pixels

    out = []
    for start in range(0, len(images), 256):
        pixels = to_model_pixels(images[start:start + 256], height, width)   # [-1, 1]
        out.append(((pixels + 1.0) * 127.5).round().clamp(0, 255).to(torch.uint8)
                   .permute(0, 2, 3, 1).numpy())
    return np.concatenate(out)


def record_expert_episodes(sim_cfg, seeds: Sequence[int], image_hw: tuple[int, int],
                           fps: float, tasks: Sequence[str] = (), extra_s: float = 0.5,
                           progress: bool = True) -> list[EpisodeArrays]:
    """
    Run the scripted expert on each seed; keep frames at `fps` (task ``tasks[i % n]``).

    The frame at time t pairs the observation (images, measured joints) with the expert's
    target at t, as a teleoperated recording would. `extra_s` of the final hold is kept so the
    policy also learns to stay put once done.
    """
    from tqdm import tqdm

    from vla_ros.sim import ArmEnv, ScriptedExpert

    env = ArmEnv(sim_cfg)
    episodes = []
    failures = 0
    period = 1.0 / fps
    for i, seed in enumerate(tqdm(seeds, desc='record', unit='episode', disable=not progress,
                                  dynamic_ncols=True)):
        obs = env.reset(seed=int(seed), task=tasks[i % len(tasks)] if tasks else None)
        expert = ScriptedExpert(env)
        frames = int(np.ceil((expert.duration_s + extra_s) / period))
        images = {name: [] for name in obs.images}
        state, action = [], []
        for k in range(frames):
            t = k * period
            target = expert.target(t)
            obs = env.observe()
            for name, img in obs.images.items():
                images[name].append(img)
            state.append(obs.state)
            action.append(target)
            # Command the next target at 100 Hz between frames, as the executor would.
            for j in range(10):
                env.set_command(expert.target(t + (j + 1) * period / 10))
                env.advance(period / 10)
        if not env.success():
            # A demonstration that fails teaches failure; drop it (the expert rarely fails).
            failures += 1
            continue
        episodes.append(EpisodeArrays(
            images={n: to_model_uint8(np.stack(v), *image_hw) for n, v in images.items()},
            state=np.array(state), action=np.array(action), instruction=env.instruction))
    env.close()
    log.info('recorded %d expert episodes (%d failed and dropped)', len(episodes), failures)
    return episodes
