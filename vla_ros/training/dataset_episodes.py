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

"""Demonstrations from a recorded dataset (``vla-ros record``, LeRobot v3.0 layout)."""

from __future__ import annotations

import logging
from pathlib import Path

from vla_ros.training.data import EpisodeArrays

log = logging.getLogger(__name__)


def dataset_fps(root: str | Path) -> float:
    """Frame (and action) rate of the dataset at `root`."""
    from vla_ros.sim.dataset import EpisodeDataset

    return float(EpisodeDataset(root).fps)


def read_dataset(root: str | Path, image_hw: tuple[int, int],
                 successful_only: bool = True) -> list[EpisodeArrays]:
    """
    Every episode of the dataset, images resized to `image_hw` as the policy resizes.

    Episodes the recorder marked unsuccessful (``vla_ros/success`` false) are skipped unless
    `successful_only` is false: imitating a failure teaches it.
    """
    from tqdm import tqdm

    from vla_ros.sim.dataset import EpisodeDataset
    from vla_ros.training.expert_data import to_model_uint8

    dataset = EpisodeDataset(root)
    episodes = []
    for episode in tqdm(dataset.episodes, desc='read dataset', unit='episode'):
        if successful_only and episode.meta.get('vla_ros/success') is False:
            continue
        episodes.append(EpisodeArrays(
            images={n: to_model_uint8(v, *image_hw) for n, v in episode.images.items()},
            state=episode.state, action=episode.action, instruction=episode.instruction))
    log.info('read %d of %d episodes from %s', len(episodes), len(dataset), root)
    return episodes
