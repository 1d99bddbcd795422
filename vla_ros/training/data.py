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
Training samples: (observation at frame t, action chunk t .. t+chunk_size-1) pairs.

All frames of all episodes are held in memory as uint8 images at the model's input size, so a
batch costs an index gather, not a decode and a resize; preprocessing then goes through
`Policy.prepare_batch`, the same code the policy runs at inference, so training and deployment
cannot disagree on resizing, normalisation or tokenisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass
class EpisodeArrays:
    """One demonstration, frame-aligned."""

    images: dict[str, np.ndarray]   # camera -> (T, H, W, 3) uint8
    state: np.ndarray               # (T, S) measured joint positions
    action: np.ndarray              # (T, A) commanded joint targets
    instruction: str

    def __post_init__(self):
        n = len(self.state)
        lengths = {name: len(v) for name, v in self.images.items()}
        if n == 0 or len(self.action) != n or any(k != n for k in lengths.values()):
            raise ValueError(f'episode lengths differ or are zero: state {n}, action '
                             f'{len(self.action)}, images {lengths}: must be equal and > 0')


def sample_rtc_delays(rng: np.random.Generator, batch_size: int, max_delay_steps: int):
    """
    Inference delays (B,) int64 for training-time RTC, uniform over 0..max_delay_steps.

    ``SmolVLA.compute_loss`` reads them as ``batch['rtc_delay']``: each sample's first d
    actions are given clean at flow time 0 and not scored (arXiv 2512.05964).
    """
    import torch

    return torch.from_numpy(rng.integers(0, max_delay_steps + 1, size=batch_size))


def training_chunks(episodes: Sequence[EpisodeArrays], chunk_size: int) -> np.ndarray:
    """
    Every frame's action chunk (N, chunk_size, A), as `ChunkSamples` draws them.

    Steps past an episode's end repeat its last action. What an action tokenizer is fitted on.
    """
    chunks = []
    for e in episodes:
        steps = np.minimum(np.arange(len(e.action))[:, None] + np.arange(chunk_size)[None, :],
                           len(e.action) - 1)                               # (T, chunk)
        chunks.append(np.asarray(e.action, dtype=np.float64)[steps])
    return np.concatenate(chunks)


class ActionTokenBatches:
    """
    Batches of `samples` with an autoregressive head's token targets added.

    A token stream encodes the whole chunk, so the steps past an episode's end (which repeat
    its last action) are part of the target, unlike the flow loss that leaves them out: at
    an episode's end the arm holds still.
    """

    def __init__(self, samples: 'ChunkSamples', policy):
        self.samples = samples
        self.policy = policy

    def __len__(self) -> int:
        return len(self.samples)

    def sample(self, rng: np.random.Generator, batch_size: int) -> dict:
        """Return one batch for ``AutoregressiveVLA.compute_loss``."""
        batch = self.samples.sample(rng, batch_size)
        batch.update(self.policy.action_token_batch(batch['actions']))
        return batch


class ChunkSamples:
    """
    Draws batches of (observation, future action chunk) from a set of episodes.

    A chunk that runs past the end of its episode is padded with the last action and marked in
    ``action_is_pad`` so the loss ignores it (as LeRobot does), rather than teaching the model
    that every episode ends by holding still.
    """

    def __init__(self, episodes: Sequence[EpisodeArrays], policy, chunk_size: int,
                 augment_shift_px: int = 0, state_noise_std: float = 0.0):
        if not episodes:
            raise ValueError('episodes: empty: need at least one episode to train on')
        self.policy = policy
        self.chunk_size = int(chunk_size)
        self.shift = int(augment_shift_px)
        self.state_noise_std = float(state_noise_std)
        self.cameras = sorted(episodes[0].images)
        self.images = {c: np.concatenate([e.images[c] for e in episodes]) for c in self.cameras}
        self.state = np.concatenate([e.state for e in episodes]).astype(np.float32)
        self.action = np.concatenate([e.action for e in episodes]).astype(np.float32)
        lengths = np.array([len(e.state) for e in episodes])
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        self.frame_end = np.repeat(starts + lengths, lengths)      # (N,) one past last frame
        self.frame_episode = np.repeat(np.arange(len(episodes)), lengths)
        self.instructions = [e.instruction for e in episodes]

    def __len__(self) -> int:
        return len(self.state)

    def sample(self, rng: np.random.Generator, batch_size: int) -> dict:
        """Return one batch for ``SmolVLA.compute_loss``."""
        import torch

        index = rng.integers(0, len(self), size=batch_size)
        steps = index[:, None] + np.arange(self.chunk_size)[None, :]        # (B, chunk)
        is_pad = steps >= self.frame_end[index][:, None]
        steps = np.minimum(steps, self.frame_end[index][:, None] - 1)
        images = {c: self._augment(self.images[c][index], rng) for c in self.cameras}
        instructions = [self.instructions[e] for e in self.frame_episode[index]]
        batch = dict(self.policy.prepare_batch(images, self.state[index], instructions))
        if self.state_noise_std:
            # Only the real entries: the zero padding must stay zero, as at inference.
            real = self.state.shape[1]
            noise = rng.normal(0.0, self.state_noise_std, size=(batch_size, real))
            batch['state'][:, :real] += torch.from_numpy(noise.astype(np.float32))
        actions = self.policy.normalize_actions(torch.from_numpy(self.action[steps]))
        batch['actions'] = actions.to(torch.float32)
        batch['action_is_pad'] = torch.from_numpy(is_pad)
        return batch

    def _augment(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Random translation by up to ``shift`` px with edge padding (DrQ-style)."""
        if not self.shift:
            return images
        s = self.shift
        b, h, w, _ = images.shape
        padded = np.pad(images, ((0, 0), (s, s), (s, s), (0, 0)), mode='edge')
        dy = rng.integers(0, 2 * s + 1, size=b)
        dx = rng.integers(0, 2 * s + 1, size=b)
        rows = dy[:, None] + np.arange(h)[None, :]                          # (B, H)
        cols = dx[:, None] + np.arange(w)[None, :]                          # (B, W)
        return padded[np.arange(b)[:, None, None], rows[:, :, None], cols[:, None, :]]
