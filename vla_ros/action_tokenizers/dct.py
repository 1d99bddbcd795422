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
DCT compression of a signal: keep the largest coefficients, measure what is lost.

The idea behind FAST (Pertsch et al. 2025, arXiv 2501.09747): smooth action trajectories
concentrate their energy in a few low-frequency DCT-II coefficients, so most coefficients can
be dropped (or quantized to zero) with little reconstruction error.
"""

from dataclasses import dataclass

import numpy as np
from scipy.fft import dct, idct

from .normalization import check_finite


@dataclass(frozen=True, eq=False)
class DctCompression:
    """
    Result of :func:`dct_compress`.

    Fields:
        coefficients: orthonormal DCT-II of the signal along axis 0, same shape as the signal.
        kept: boolean mask over ``coefficients``, True where a coefficient was kept.
        reconstruction: inverse DCT of the kept coefficients (the others set to zero).
        ratio: number of coefficients / number kept.
        max_error: largest absolute difference between signal and reconstruction.
        rms_error: root-mean-square difference between signal and reconstruction.

    """

    coefficients: np.ndarray
    kept: np.ndarray
    reconstruction: np.ndarray
    ratio: float
    max_error: float
    rms_error: float

    @property
    def n_kept(self):
        """Return the number of coefficients kept."""
        return int(self.kept.sum())


def dct_compress(signal, keep=None, energy=None):
    """
    Keep the ``keep`` largest-magnitude DCT coefficients, or enough for ``energy``.

    Inputs:
        signal: array of shape (T,) or (T, D); the DCT runs along time (axis 0) and the
            coefficients of all dimensions compete for the kept slots.
        keep: number of coefficients to keep, 1 <= keep <= signal.size.
        energy: alternatively, the fraction in (0, 1] of the total energy (sum of squared
            coefficients) the kept coefficients must reach; the fewest that do are kept.

    Result:
        A :class:`DctCompression`. Because the orthonormal DCT is an isometry, ``rms_error``
        equals the root of the dropped energy divided by ``signal.size``.

    """
    signal = check_finite(signal, 'dct_compress signal')
    if signal.ndim not in (1, 2) or signal.shape[0] == 0 or signal.size == 0:
        raise ValueError(f'dct_compress signal: shape {signal.shape}: must be (T,) or (T, D), '
                         'non-empty')
    if (keep is None) == (energy is None):
        raise ValueError(f'dct_compress: keep={keep!r}, energy={energy!r}: give exactly one')
    coefficients = dct(signal, axis=0, norm='ortho')
    # Stable sort so that equal magnitudes keep the earlier (lower-frequency) coefficient.
    order = np.argsort(-np.abs(coefficients).ravel(), kind='stable')
    if keep is not None:
        if int(keep) != keep or not 1 <= keep <= signal.size:
            raise ValueError(
                f'dct_compress: keep={keep!r}: must be an integer in [1, {signal.size}]')
        n_kept = int(keep)
    else:
        if not 0.0 < energy <= 1.0:
            raise ValueError(f'dct_compress: energy={energy!r}: must be in (0, 1]')
        sorted_energy = np.cumsum(coefficients.ravel()[order] ** 2)
        total = sorted_energy[-1]
        # An all-zero signal needs no coefficient beyond the first to be reproduced exactly.
        n_kept = 1 if total == 0.0 else int(np.searchsorted(sorted_energy, energy * total) + 1)
        n_kept = min(n_kept, signal.size)
    kept = np.zeros(signal.size, dtype=bool)
    kept[order[:n_kept]] = True
    kept = kept.reshape(coefficients.shape)
    reconstruction = idct(np.where(kept, coefficients, 0.0), axis=0, norm='ortho')
    error = signal - reconstruction
    return DctCompression(
        coefficients=coefficients,
        kept=kept,
        reconstruction=reconstruction,
        ratio=signal.size / n_kept,
        max_error=float(np.max(np.abs(error))),
        rms_error=float(np.sqrt(np.mean(error ** 2))),
    )
