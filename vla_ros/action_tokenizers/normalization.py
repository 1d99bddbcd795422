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

"""Per-dimension quantile normalization of actions to [-1, 1]."""

from dataclasses import dataclass
import math
import numbers
import os

import numpy as np

# The most steps `decode` accepts: far beyond any action chunk, small enough that the
# (B, horizon, D) result of a typo cannot exhaust memory.
MAX_HORIZON = 100_000
# A dimension whose 1st and 99th percentiles coincide (a joint that never moved in the data)
# has no scale to divide by; it is only shifted, so its values stay in their own units.
_MIN_HALF_RANGE = 1e-8


@dataclass(frozen=True, eq=False)
class QuantileNormalizer:
    """
    Maps each action dimension's [low, high] percentile range onto [-1, 1].

    FAST (Pertsch et al. 2025, Sec. V-A) and OpenVLA both normalize with the 1st and 99th
    percentiles so that rare outliers do not squeeze the bulk of the data into a few
    quantization levels. Values beyond the percentiles land outside [-1, 1] unless
    ``normalize(..., clip=True)`` is asked for.

    Fields:
        low: per-dimension lower percentile, shape (D,).
        high: per-dimension upper percentile, shape (D,).

    """

    low: np.ndarray
    high: np.ndarray

    def __post_init__(self):
        low = np.asarray(self.low, dtype=np.float64)
        high = np.asarray(self.high, dtype=np.float64)
        if low.ndim != 1 or low.shape != high.shape or low.size == 0:
            raise ValueError(
                f'QuantileNormalizer.low/high: shapes {low.shape} and {high.shape}: '
                'must be equal, non-empty and one-dimensional')
        if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))):
            raise ValueError('QuantileNormalizer.low/high: must be finite')
        if np.any(high < low):
            dim = int(np.argmax(high < low))
            raise ValueError(
                f'QuantileNormalizer.high[{dim}]={float(high[dim])!r} < '
                f'low[{dim}]={float(low[dim])!r}: '
                'high must be >= low')
        object.__setattr__(self, 'low', low)
        object.__setattr__(self, 'high', high)

    def __eq__(self, other):
        if not isinstance(other, QuantileNormalizer):
            return NotImplemented
        return np.array_equal(self.low, other.low) and np.array_equal(self.high, other.high)

    __hash__ = None

    @classmethod
    def fit(cls, actions, lower_percentile=1.0, upper_percentile=99.0):
        """Fit the percentiles of every dimension of ``actions`` (shape (..., D))."""
        if not 0.0 <= lower_percentile < upper_percentile <= 100.0:
            raise ValueError(
                f'QuantileNormalizer.fit: percentiles ({lower_percentile}, {upper_percentile}): '
                'must satisfy 0 <= lower < upper <= 100')
        flat = check_finite(actions, 'QuantileNormalizer.fit actions')
        if flat.ndim < 1 or flat.size == 0:
            raise ValueError(
                f'QuantileNormalizer.fit actions: shape {flat.shape}: must be (..., D), non-empty')
        flat = flat.reshape(-1, flat.shape[-1])
        low, high = np.percentile(flat, [lower_percentile, upper_percentile], axis=0)
        return cls(low=low, high=high)

    @property
    def action_dim(self):
        """Return the number of action dimensions D."""
        return self.low.shape[0]

    @property
    def _center(self):
        return 0.5 * (self.low + self.high)

    @property
    def _half_range(self):
        half = 0.5 * (self.high - self.low)
        return np.where(half < _MIN_HALF_RANGE, 1.0, half)

    def normalize(self, actions, clip=False):
        """Map ``actions`` (shape (..., D)) to normalized units; optionally clip to [-1, 1]."""
        actions = self._check_dim(actions, 'normalize')
        out = (actions - self._center) / self._half_range
        return np.clip(out, -1.0, 1.0) if clip else out

    def unnormalize(self, normalized):
        """Invert :meth:`normalize` (without clipping); NaN stays NaN."""
        normalized = self._check_dim(normalized, 'unnormalize')
        return normalized * self._half_range + self._center

    def to_dict(self):
        """JSON-ready description of the statistics."""
        return {'low': self.low.tolist(), 'high': self.high.tolist()}

    @classmethod
    def from_dict(cls, data):
        """Inverse of :meth:`to_dict`; anything else raises ValueError naming the field."""
        if not isinstance(data, dict) or not {'low', 'high'} <= set(data):
            raise ValueError(f'QuantileNormalizer: {_short(data)}: must be an object with '
                             'low and high')
        bounds = {}
        for name in ('low', 'high'):
            values = data[name]
            if not (isinstance(values, list)
                    and all(isinstance(v, numbers.Real) and not isinstance(v, bool)
                            for v in values)):
                raise ValueError(f'QuantileNormalizer.{name}={_short(values)}: must be a list '
                                 'of numbers')
            bounds[name] = np.asarray(values, dtype=np.float64)
        return cls(**bounds)

    def _check_dim(self, actions, what):
        actions = np.asarray(actions, dtype=np.float64)
        if actions.ndim < 1 or actions.shape[-1] != self.action_dim:
            raise ValueError(
                f'QuantileNormalizer.{what}: last axis of shape {actions.shape}: '
                f'must equal the fitted action_dim={self.action_dim}')
        return actions


def check_finite(values, what):
    """Return ``values`` as float64, raising ValueError naming the first NaN/inf entry."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f'{what}: must be a numeric array ({err})') from None
    bad = ~np.isfinite(array)
    if np.any(bad):
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f'{what}[{", ".join(map(str, index))}]={float(array[index])!r}: must be finite')
    return array


def check_chunks(chunks, what, action_dim=None):
    """
    Return ``chunks`` as a finite float64 (B, T, D) array; a single (T, D) chunk gains B = 1.

    `what` names the caller in errors; `action_dim`, when given, is the fitted D to match.
    """
    chunks = check_finite(chunks, f'{what} chunks')
    if chunks.ndim == 2:
        chunks = chunks[None]
    if chunks.ndim != 3 or 0 in chunks.shape:
        raise ValueError(f'{what} chunks: shape {chunks.shape}: must be '
                         '(B, T, D) or (T, D), non-empty')
    if action_dim is not None and chunks.shape[2] != action_dim:
        raise ValueError(f'{what} chunks: action_dim {chunks.shape[2]}: must '
                         f'equal the fitted action_dim={action_dim}')
    return chunks


def check_integer(value, what, minimum, maximum=None):
    """
    Return `value` as an int, or raise ValueError naming `what`, the value and the rule.

    Integers and integral floats (``50.0``) pass; booleans, strings, NaN, inf and None do not.
    """
    ok = (isinstance(value, numbers.Real) and not isinstance(value, bool)
          and math.isfinite(value) and float(value).is_integer()
          and value >= minimum and (maximum is None or value <= maximum))
    if not ok:
        rule = (f'an integer >= {minimum}' if maximum is None
                else f'an integer in [{minimum}, {maximum}]')
        raise ValueError(f'{what}={_short(value)}: must be {rule}')
    return int(value)


def check_directory(directory, what):
    """Return `directory` if it is a path (str or os.PathLike), else raise ValueError."""
    if not isinstance(directory, (str, os.PathLike)):
        raise ValueError(f'{what} directory={_short(directory)}: must be a path (str or '
                         'os.PathLike)')
    return directory


def check_action_dim(action_dim, fitted, what):
    """Raise ValueError unless `action_dim` is the integer `fitted`."""
    try:
        ok = check_integer(action_dim, 'action_dim', 1) == fitted
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f'{what} action_dim={_short(action_dim)}: must equal the fitted '
                         f'action_dim={fitted}')


def check_token_batch(tokens, what):
    """Raise ValueError unless `tokens` is a batch (a list, tuple or array) of sequences."""
    if isinstance(tokens, (str, bytes, dict)) or not hasattr(tokens, '__getitem__'):
        raise ValueError(f'{what} tokens={_short(tokens)}: must be a list of token-id '
                         'sequences (wrap a single sequence in a list)')
    try:
        len(tokens)
    except TypeError:       # a 0-d array
        raise ValueError(f'{what} tokens={_short(tokens)}: must be a list of token-id '
                         'sequences, not a scalar') from None


def _short(value):
    """Return the repr of `value`, cut to keep an error message on one readable line."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + '...'
