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
The policy as the policy node uses it: load, warm up, observation -> the robot's chunk.

Kept apart from the node so the load rules (default checkpoint, joint names and action mode
from the parameters, warm-up) and the post-processing (the chunk anchored at the observation
stamp, in the robot's joint order) are tested without ROS.
"""

from __future__ import annotations

import gc
import time
from typing import Callable

import numpy as np

from vla_ros.control.action_chunk import ActionChunk, ChunkError
from vla_ros.observation import AssembledObservation
from vla_ros.trajectory_conversion import robot_order

WARMUP_IMAGE_SIZE = 224   # any size works: the policy resizes; this is SmolVLA's own


class PolicyRunner:
    """A loaded `vla_ros.policy.Policy` whose spec is already in the robot's joint names."""

    def __init__(self, policy):
        self.policy = policy

    @property
    def camera_names(self) -> tuple[str, ...]:
        """Return the model's camera slots, in its order."""
        return tuple(self.policy.spec.camera_names)

    @property
    def joint_names(self) -> tuple[str, ...]:
        """Return the action joints (robot names), in the model's order."""
        return tuple(self.policy.spec.joint_names)

    @property
    def state_names(self) -> tuple[str, ...]:
        """Return the joints whose positions form the state vector, in the model's order."""
        return tuple(self.policy.spec.states)

    @classmethod
    def load(cls, cfg, log: Callable[[str], None] = lambda text: None) -> 'PolicyRunner':
        """Load ``cfg.checkpoint_path`` (empty: the shipped demo policy); warm up if asked."""
        from vla_ros.policy import Policy

        path = cfg.checkpoint_path or str(default_checkpoint())
        overrides = {}
        if cfg.joint_names:
            overrides['joint_names'] = tuple(cfg.joint_names)
        if cfg.action_mode:
            overrides['action_mode'] = cfg.action_mode
        policy = Policy.from_pretrained(path, device=cfg.device, dtype=cfg.dtype, **overrides)
        if cfg.num_steps:
            policy.model.config.num_steps = cfg.num_steps
        runner = cls(policy)
        log(f'loaded {path} on {cfg.device} ({cfg.dtype}): cameras {list(runner.camera_names)}'
            f', joints {list(runner.joint_names)}, {policy.spec.action_mode} actions')
        if cfg.warmup:
            log(f'warm-up inference took {runner.warm_up(cfg.instruction):.2f} s')
        return runner

    def warm_up(self, instruction: str = '') -> float:
        """Run one inference on blank inputs (allocates, fills caches); return seconds."""
        size = WARMUP_IMAGE_SIZE
        obs = AssembledObservation(
            images={c: np.zeros((size, size, 3), np.uint8) for c in self.camera_names},
            state=np.zeros(len(self.state_names)), instruction=instruction or 'warm up',
            stamp=0.0, joint_order=self.joint_names, age_s=0.0)
        start = time.perf_counter()
        self.predict(obs)
        return time.perf_counter() - start

    def predict(self, obs: AssembledObservation) -> ActionChunk:
        """
        Return the chunk for `obs` in the robot's joint order, step 0 at ``obs.stamp``.

        Raises whatever the model raises (out of memory, ...) and `ChunkError` for an output
        of the wrong shape or with NaN.
        """
        from vla_ros.policy import Observation

        chunk = self.policy.predict_chunk(Observation(
            images=obs.images, state=obs.state, instruction=obs.instruction, stamp=obs.stamp))
        if tuple(chunk.joint_names) != self.joint_names:
            raise ChunkError(f'the model returned joints {list(chunk.joint_names)}, expected '
                             f'{list(self.joint_names)}')
        chunk = ActionChunk(chunk.joint_names, obs.stamp, chunk.dt, chunk.positions,
                            chunk.velocities)
        return robot_order(chunk, obs.joint_order)

    def close(self) -> None:
        """Drop the model and give its accelerator memory back."""
        device = str(getattr(self.policy, 'device', 'cpu'))
        self.policy = None
        gc.collect()
        if device.startswith('cuda'):
            import torch
            torch.cuda.empty_cache()


def default_checkpoint():
    """Return the demo policy's directory (the repository's models/ or the installed share)."""
    from vla_ros.evaluation.evaluate import find_shipped_model

    return find_shipped_model()
