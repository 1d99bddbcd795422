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
What every policy offers the runtime and the nodes, whatever model is behind it.

An `Observation` goes in, an `ActionChunk` comes out, anchored at the observation's stamp and
in the policy's joint order. A policy states its cameras, its state and action joints, the time
between action steps and how many steps a chunk has, so the runtime can check inputs and the
executor can time the chunk without knowing the model. Implementations are found by
`vla_ros.policy.registry.load_policy` from what a checkpoint directory holds.

numpy only: the simulation and the runtime import this module without torch.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
import time
from typing import Any

import numpy as np

from vla_ros.control.action_chunk import ActionChunk

ACTION_MODES = ('absolute', 'delta')
WARMUP_IMAGE_SIZE = 224   # any size works: policies resize; this is SmolVLA's own


class PolicyError(ValueError):
    """An observation, spec or statistic does not fit the policy; the message says how."""


class RTCInputError(PolicyError):
    """
    The previous chunk or delay given for real-time chunking is unusable.

    The message says why; the runtime then samples without real-time chunking and warns.
    """


class InvalidDecode(PolicyError):
    """
    An autoregressive policy decoded tokens that are not one whole chunk; there is no chunk.

    The message says what was wrong (no end token within the maximum length, a token that is
    no action token, a wrong number of values). The runtime counts it (``invalid_decodes``)
    and publishes nothing, so the executor keeps its plan or stops as when starved; a policy
    must never hand out zeros or a guess instead.
    """


@dataclass(frozen=True)
class Observation:
    """
    What a policy sees at one instant, and what is needed to publish its chunk.

    ``stamp`` is the joint-state stamp (the instant step 0 of the chunk belongs to);
    ``stamp_ns`` the same as exact integer nanoseconds where it came from a message, so the
    chunk can carry it unchanged; ``joint_order`` the robot's ``joint_states`` order, in which
    the chunk is published; ``age_s`` the age of the oldest input when it was assembled.
    """

    images: dict[str, np.ndarray]       # camera name -> uint8 (H, W, 3) RGB, any size
    state: np.ndarray                   # (S,) joint state in the policy's state order
    instruction: str                    # the task in natural language
    stamp: float = 0.0                  # time the observation was taken [s]
    stamp_ns: int | None = None         # the same, exact [ns]; None: from `stamp`
    joint_order: tuple[str, ...] = ()   # the robot's joint order; empty: the policy's
    age_s: float = 0.0                  # age of the oldest input at assembly [s]


@dataclass(frozen=True)
class PolicySpec:
    """
    How the model's inputs and outputs map onto a robot.

    ``camera_names`` is the model's camera order (observation image keys); ``joint_names``
    the action columns; ``state_names`` the state entries (empty: ``joint_names``).
    ``action_mode='delta'`` means the model predicts offsets from the observed state of the
    same joint, which the policy adds back.
    """

    camera_names: tuple[str, ...]
    joint_names: tuple[str, ...]
    action_dt_s: float = 1.0 / 30.0
    action_mode: str = 'absolute'
    state_names: tuple[str, ...] = ()

    def __post_init__(self):
        for name in ('camera_names', 'joint_names', 'state_names'):
            object.__setattr__(self, name, tuple(str(v) for v in getattr(self, name)))
        if not self.camera_names:
            raise PolicyError('policy_spec.camera_names=(): needs at least one camera')
        if not self.joint_names:
            raise PolicyError('policy_spec.joint_names=(): needs at least one joint')
        if not (np.isfinite(self.action_dt_s) and self.action_dt_s > 0):
            raise PolicyError(f'policy_spec.action_dt_s={self.action_dt_s}: must be > 0')
        if self.action_mode not in ACTION_MODES:
            raise PolicyError(f'policy_spec.action_mode={self.action_mode!r}: must be one of '
                              + ', '.join(ACTION_MODES))
        missing = [j for j in self.joint_names if j not in self.states]
        if self.action_mode == 'delta' and missing:
            raise PolicyError(f'policy_spec.state_names: delta actions need the state of '
                              f'every joint, missing {missing}')

    @property
    def states(self) -> tuple[str, ...]:
        """Names of the state entries (``state_names`` or, when empty, ``joint_names``)."""
        return self.state_names or self.joint_names


class VLAPolicy(abc.ABC):
    """
    A loaded policy, as the runtime uses it: observation -> action chunk.

    Subclasses set ``spec`` (a `PolicySpec`) and implement `predict_chunk`, `horizon`,
    `device`, `dtype` and `to`; the rest has working defaults.
    """

    spec: PolicySpec
    format_name: str = ''       # the checkpoint format it was loaded from (registry key)

    @property
    def camera_names(self) -> tuple[str, ...]:
        """Return the model's camera slots, in its order."""
        return self.spec.camera_names

    @property
    def joint_names(self) -> tuple[str, ...]:
        """Return the action joints, in the model's order."""
        return self.spec.joint_names

    @property
    def state_names(self) -> tuple[str, ...]:
        """Return the joints whose positions form the state vector, in the model's order."""
        return self.spec.states

    @property
    def action_dt_s(self) -> float:
        """Return the time between two action steps [s]."""
        return self.spec.action_dt_s

    @property
    @abc.abstractmethod
    def horizon(self) -> int:
        """Return the number of steps of a chunk."""

    @property
    @abc.abstractmethod
    def device(self) -> Any:
        """Return the device the policy runs on."""

    @property
    @abc.abstractmethod
    def dtype(self) -> Any:
        """Return the dtype the policy computes in."""

    @abc.abstractmethod
    def to(self, device: str = 'cpu', dtype: str = 'float32') -> 'VLAPolicy':
        """Move the policy (in place) to `device` and `dtype`; return it."""

    @abc.abstractmethod
    def predict_chunk(self, observation: Observation, *, noise: Any = None,
                      prev_chunk: ActionChunk | None = None,
                      inference_delay_s: float = 0.0) -> ActionChunk:
        """
        Return the chunk for `observation`, step 0 at ``observation.stamp``, policy joint order.

        `noise` makes a sampling policy deterministic. `prev_chunk` (what the executor will
        command while this inference runs) and `inference_delay_s` (how long it is expected
        to take) are for real-time chunking; a policy without it ignores them.
        """

    def set_num_steps(self, num_steps: int) -> None:
        """Set the number of sampling steps (flow policies); others ignore it."""

    def set_rtc(self, guidance: str, schedule: str = 'linear', max_guidance_weight: float = 1.0,
                execution_horizon: int = 0) -> None:
        """
        Turn real-time chunking on (`guidance` non-empty) or off.

        Once on, `predict_chunk` uses `prev_chunk` and `inference_delay_s` when given. A policy
        that cannot do it raises `PolicyError`.
        """
        if guidance:
            raise PolicyError(f'{type(self).__name__} does not support real-time chunking')

    def warm_up(self, instruction: str = '') -> float:
        """Run one inference on blank inputs (allocates, fills caches); return seconds."""
        obs = self.blank_observation(instruction)
        start = time.perf_counter()
        self.predict_chunk(obs)
        return time.perf_counter() - start

    def blank_observation(self, instruction: str = '') -> Observation:
        """Return black images of every camera and a zero state: what a warm-up runs on."""
        size = WARMUP_IMAGE_SIZE
        return Observation(
            images={c: np.zeros((size, size, 3), np.uint8) for c in self.camera_names},
            state=np.zeros(len(self.state_names)), instruction=instruction or 'warm up')

    def close(self) -> None:
        """Release the model's memory; the policy is unusable afterwards."""
