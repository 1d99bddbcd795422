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

"""Mean/std normalization of a policy's state and actions, as LeRobot's SmolVLA does it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from vla_ros.policy.interface import PolicyError


@dataclass
class NormalizationStats:
    """Mean/std normalization of state and actions: ``(x - mean) / (std + eps)``."""

    state_mean: np.ndarray
    state_std: np.ndarray
    action_mean: np.ndarray
    action_std: np.ndarray
    eps: float = 1e-8

    def __post_init__(self):
        for name in ('state_mean', 'state_std', 'action_mean', 'action_std'):
            value = np.asarray(getattr(self, name), dtype=np.float64).reshape(-1)
            if not np.isfinite(value).all():
                raise PolicyError(f'stats.{name}: contains NaN or inf')
            if name.endswith('std') and (value < 0).any():
                raise PolicyError(f'stats.{name}: must be >= 0')
            setattr(self, name, value)
        for kind in ('state', 'action'):
            mean, std = getattr(self, f'{kind}_mean'), getattr(self, f'{kind}_std')
            if mean.shape != std.shape:
                raise PolicyError(f'stats.{kind}_std: {std.size} values but {kind}_mean has '
                                  f'{mean.size}')

    @classmethod
    def identity(cls, state_dim: int, action_dim: int) -> 'NormalizationStats':
        """Statistics that leave values unchanged."""
        return cls(np.zeros(state_dim), np.ones(state_dim), np.zeros(action_dim),
                   np.ones(action_dim), eps=0.0)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> 'NormalizationStats':
        """Accept `to_dict` output or ``{'state': {'mean', 'std'}, 'action': {...}}``."""
        if 'state' in data and isinstance(data['state'], Mapping):
            flat = {f'{kind}_{stat}': data[kind][stat]
                    for kind in ('state', 'action') for stat in ('mean', 'std')}
            flat['eps'] = data.get('eps', 1e-8)
            data = flat
        try:
            return cls(**dict(data))
        except TypeError as exc:
            raise PolicyError(f'stats: {exc}') from None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v)
                for k, v in dataclasses.asdict(self).items()}
