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
Policies: the interface every policy meets, the registry that loads them, and SmolVLA.

``interface`` (numpy only): `Observation`, `PolicySpec`, `VLAPolicy`, `PolicyError`,
`InvalidDecode`.
``registry``: `load_policy` finds the implementation from what a checkpoint directory holds.
``smolvla``: `SmolVLAPolicy`, the flow-matching SmolVLA policy (torch), with its
``normalization`` and image ``preprocessing``; ``autoregressive``: `AutoregressivePolicy`, the
same backbone decoding action tokens (``action_vocabulary``: FAST or bins in the LM's ids).

The torch-backed names are imported on first use, so ``from vla_ros.policy import
Observation`` stays light for the simulation and the runtime.
"""

from __future__ import annotations

import importlib

from vla_ros.policy.interface import (InvalidDecode, Observation, PolicyError, PolicySpec,
                                      VLAPolicy)
from vla_ros.policy.registry import (CheckpointFormat, known_formats, load_policy,
                                     register_format, UnknownCheckpointFormat)

_LAZY = {
    'SmolVLAPolicy': 'vla_ros.policy.smolvla',
    'Policy': 'vla_ros.policy.smolvla',
    'load_tokenizer': 'vla_ros.policy.smolvla',
    'NormalizationStats': 'vla_ros.policy.normalization',
    'AutoregressivePolicy': 'vla_ros.policy.autoregressive',
    'ActionVocabulary': 'vla_ros.policy.action_vocabulary',
}

__all__ = ['CheckpointFormat', 'InvalidDecode', 'known_formats', 'load_policy', 'Observation',
           'PolicyError', 'PolicySpec', 'register_format', 'UnknownCheckpointFormat',
           'VLAPolicy', *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
