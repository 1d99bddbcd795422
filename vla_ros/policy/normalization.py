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
import numbers
from typing import Any, Mapping

import numpy as np

from vla_ros.policy.interface import PolicyError

# Far above any joint's range in any unit; keeps x * std + mean from overflowing to inf.
MAX_STAT = 1e12


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
            value = _numbers(name, getattr(self, name))
            if not np.isfinite(value).all():
                raise PolicyError(f'stats.{name}: contains NaN or inf')
            if (np.abs(value) > MAX_STAT).any():
                raise PolicyError(f'stats.{name}: holds {_short(value.tolist())}: every value '
                                  f'must be within +-{MAX_STAT:g}')
            if name.endswith('std') and (value < 0).any():
                raise PolicyError(f'stats.{name}: must be >= 0')
            setattr(self, name, value)
        for kind in ('state', 'action'):
            mean, std = getattr(self, f'{kind}_mean'), getattr(self, f'{kind}_std')
            if mean.shape != std.shape:
                raise PolicyError(f'stats.{kind}_std: {std.size} values but {kind}_mean has '
                                  f'{mean.size}')
        eps = self.eps
        if not (isinstance(eps, numbers.Real) and not isinstance(eps, bool)
                and np.isfinite(eps) and 0 <= eps <= MAX_STAT):
            raise PolicyError(f'stats.eps={_short(eps)}: must be a number in [0, {MAX_STAT:g}]')
        self.eps = float(eps)
        for name in ('state_std', 'action_std'):
            zero = np.flatnonzero(getattr(self, name) + eps == 0)
            if zero.size:
                raise PolicyError(f'stats.{name}[{zero[0]}]=0 with eps={eps}: std + eps must '
                                  'be > 0 (normalizing divides by it)')

    @classmethod
    def identity(cls, state_dim: int, action_dim: int) -> 'NormalizationStats':
        """Statistics that leave values unchanged."""
        return cls(np.zeros(state_dim), np.ones(state_dim), np.zeros(action_dim),
                   np.ones(action_dim), eps=0.0)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> 'NormalizationStats':
        """Accept `to_dict` output or ``{'state': {'mean', 'std'}, 'action': {...}}``."""
        if not isinstance(data, Mapping):
            raise PolicyError(f'stats={_short(data)}: must be a mapping of statistics')
        if 'state' in data:
            flat = {}
            for kind in ('state', 'action'):
                section = data.get(kind)
                if not isinstance(section, Mapping) or not {'mean', 'std'} <= set(section):
                    raise PolicyError(f'stats.{kind}={_short(section)}: must be a mapping '
                                      'with mean and std')
                flat.update({f'{kind}_{stat}': section[stat] for stat in ('mean', 'std')})
            flat['eps'] = data.get('eps', 1e-8)
            data = flat
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(data) - set(names), key=str)
        missing = [n for n in names[:4] if n not in data]
        if unknown or missing:
            raise PolicyError(f'stats: unknown field(s) {unknown}, missing {missing}: needs '
                              f'{names[:4]} (and optionally eps)')
        return cls(**dict(data))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v)
                for k, v in dataclasses.asdict(self).items()}


def _numbers(name: str, raw: Any) -> np.ndarray:
    """`raw` as a flat float64 array; anything but integers or floats is refused by name."""
    try:
        array = np.asarray(raw)
    except (TypeError, ValueError):     # ragged nesting
        array = None
    if array is None or array.dtype.kind not in 'iuf':
        raise PolicyError(f'stats.{name}={_short(raw)}: must be a list of numbers')
    return array.astype(np.float64).reshape(-1)


def _short(value: Any) -> str:
    """Return the repr of `value`, cut to keep an error message on one readable line."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + '...'
