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
Test-wide settings and the helpers several test modules share.

The simulation renders offscreen; a machine with no display needs EGL, so default to it
(an explicit MUJOCO_GL, e.g. osmesa, still wins). `make_tiny_policy` is also imported by the
launch tests (``from conftest import make_tiny_policy``), which run outside pytest fixtures.
"""

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault('MUJOCO_GL', 'egl')

CAMERAS = ('scene', 'wrist')
JOINTS = ('j0', 'j1', 'j2')


def make_tiny_policy(directory, cameras=CAMERAS, joints=JOINTS, dt=0.1, seed=0):
    """Save a random-weight tiny SmolVLA policy (a few hundred kB) into `directory`."""
    import torch

    from vla_ros.model.config import SmolVLAConfig
    from vla_ros.model.smolvla import SmolVLA
    from vla_ros.policy import NormalizationStats, PolicySpec, SmolVLAPolicy
    from vla_ros.training.instruction_tokenizer import train_instruction_tokenizer

    torch.manual_seed(seed)
    tokenizer = train_instruction_tokenizer(['pick up the cube', 'warm up', 'place it'])
    spec = PolicySpec(camera_names=cameras, joint_names=joints, action_dt_s=dt)
    policy = SmolVLAPolicy(SmolVLA(SmolVLAConfig.tiny()), tokenizer,
                           NormalizationStats.identity(len(joints), len(joints)), spec)
    Path(directory).mkdir(parents=True, exist_ok=True)
    policy.save_pretrained(directory)
    return Path(directory)


@pytest.fixture(scope='session')
def tiny_policy_dir(tmp_path_factory):
    """Directory of a tiny random-weight SmolVLA policy (cameras scene/wrist, joints j0-j2)."""
    pytest.importorskip('torch')
    pytest.importorskip('transformers')
    return make_tiny_policy(tmp_path_factory.mktemp('tiny_policy'))


class ScriptedPolicy:
    """
    A `VLAPolicy` whose chunks come from a function: runtime tests without a model.

    `output(obs)` returns an `ActionChunk` or raises; every observation is kept.
    """

    def __init__(self, output, cameras=CAMERAS, joints=JOINTS, dt=0.1, horizon=10):
        from vla_ros.policy.interface import PolicySpec, VLAPolicy

        # Registered as a virtual subclass, so it passes isinstance checks without torch.
        VLAPolicy.register(type(self))
        self.spec = PolicySpec(camera_names=cameras, joint_names=joints, action_dt_s=dt)
        self.output = output
        self.horizon = horizon
        self.observations = []
        self.calls = []                 # the keyword arguments of every predict_chunk
        self.num_steps = None
        self.rtc = ''

    camera_names = property(lambda self: self.spec.camera_names)
    joint_names = property(lambda self: self.spec.joint_names)
    state_names = property(lambda self: self.spec.states)
    action_dt_s = property(lambda self: self.spec.action_dt_s)

    def predict_chunk(self, obs, **kwargs):
        self.observations.append(obs)
        self.calls.append(kwargs)
        return self.output(obs)

    def set_num_steps(self, num_steps):
        self.num_steps = num_steps

    def set_rtc(self, guidance, *args):
        self.rtc = guidance

    def warm_up(self, instruction=''):
        return 0.0

    def close(self):
        pass


def drifting_chunk(obs, joints=JOINTS, dt=0.1, steps=10, speed=0.5):
    """Return a chunk from `obs` that moves the first joint at `speed` [unit/s]."""
    from vla_ros.control.action_chunk import ActionChunk

    positions = np.tile(np.asarray(obs.state, dtype=np.float64)[:len(joints)], (steps, 1))
    positions[:, 0] += speed * dt * np.arange(steps)
    return ActionChunk(joints, obs.stamp, dt, positions)
