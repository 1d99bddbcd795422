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
Piecewise polynomials through action steps: linear, cubic (C1) and quintic (C2).

A `PiecewisePolynomial` runs through knots at ``t_start, t_start + h0, t_start + h0 + dt, ...``:
the first interval is free (it joins the command being executed to the next action step of a
chunk), the others are one chunk step long. Coefficients are computed once per chunk so that
evaluating at control rate is one small matrix product.
"""

from __future__ import annotations

import numpy as np

ORDERS = {'linear': 1, 'cubic': 3, 'quintic': 5}
_NCOEF = 6   # every order is stored as a degree-5 polynomial so one evaluation path serves all


def knot_derivative(values: np.ndarray, h: np.ndarray, first: np.ndarray | None = None
                    ) -> np.ndarray:
    """
    Estimate d/dt at every knot of `values` (N, J) with interval lengths `h` (N-1,).

    Interior knots use the three-point formula that is exact for quadratics on uneven spacing;
    the last knot uses the backward difference; the first uses `first` when given (the state of
    the command being executed), else the forward difference.
    """
    slopes = np.diff(values, axis=0) / h[:, None]               # (N-1, J)
    out = np.empty_like(values)
    out[0] = slopes[0] if first is None else first
    out[-1] = slopes[-1]
    if len(values) > 2:
        h0, h1 = h[:-1, None], h[1:, None]
        out[1:-1] = (h1 * slopes[:-1] + h0 * slopes[1:]) / (h0 + h1)
    return out


def segment_coefficients(h: np.ndarray, p: np.ndarray, v: np.ndarray, a: np.ndarray,
                         order: int) -> np.ndarray:
    """
    Power-basis coefficients (N-1, 6, J) of each segment in local time ``0 <= tau <= h``.

    `p`, `v`, `a` (N, J) are position, velocity and acceleration at the knots. Order 1 ignores
    `v` and `a`; order 3 is the cubic Hermite segment; order 5 matches all three at both ends,
    which is the minimum-jerk segment between those boundary states (Flash & Hogan, 1985).
    """
    n, joints = len(h), p.shape[1]
    c = np.zeros((n, _NCOEF, joints))
    hh = h[:, None]
    p0, p1, v0, v1, a0, a1 = p[:-1], p[1:], v[:-1], v[1:], a[:-1], a[1:]
    dp = p1 - p0
    c[:, 0] = p0
    if order == 1:
        c[:, 1] = dp / hh
    elif order == 3:
        c[:, 1] = v0
        c[:, 2] = (3 * dp / hh - 2 * v0 - v1) / hh
        c[:, 3] = (-2 * dp / hh + v0 + v1) / hh**2
    elif order == 5:
        c[:, 1] = v0
        c[:, 2] = a0 / 2
        c[:, 3] = (20 * dp - (8 * v1 + 12 * v0) * hh - (3 * a0 - a1) * hh**2) / (2 * hh**3)
        c[:, 4] = (-30 * dp + (14 * v1 + 16 * v0) * hh + (3 * a0 - 2 * a1) * hh**2) / (
            2 * hh**4)
        c[:, 5] = (12 * dp - 6 * (v1 + v0) * hh + (a1 - a0) * hh**2) / (2 * hh**5)
    else:
        raise ValueError(f'order={order}: must be 1, 3 or 5')
    return c


class PiecewisePolynomial:
    """
    Position and velocity of a piecewise polynomial over absolute time.

    Knot ``0`` is at `t_start`, knot ``1`` at ``t_start + h0``, knot ``k`` at
    ``t_start + h0 + (k - 1) * dt``.
    """

    __slots__ = ('t_start', 't1', 'dt', 'inv_dt', 'end_time', 'coef', 'rows', 'n_seg', 'knots')

    def __init__(self, t_start: float, h0: float, dt: float, coef: np.ndarray,
                 knots: np.ndarray):
        self.t_start = float(t_start)
        self.t1 = self.t_start + float(h0)
        self.dt = float(dt)
        self.inv_dt = 1.0 / self.dt
        self.coef = coef                                        # (S, 6, J)
        # The same coefficients as plain floats: at J = 7 a Python loop beats numpy's
        # per-call overhead, and the control tick is all per-call overhead.
        self.rows = [tuple(map(tuple, c.T.tolist())) for c in coef]
        self.n_seg = coef.shape[0]
        self.end_time = self.t1 + (self.n_seg - 1) * self.dt
        self.knots = knots                                      # (S + 1, J) positions

    @classmethod
    def through(cls, t_start: float, h0: float, dt: float, positions: np.ndarray,
                order: int, v_start: np.ndarray, a_start: np.ndarray | None = None,
                velocities: np.ndarray | None = None) -> 'PiecewisePolynomial':
        """
        Fit the knots `positions` (N, J), N >= 2, starting in state (`v_start`, `a_start`).

        Knot velocities are `velocities` (N, J; row 0 is ignored) when given, else estimated
        from the positions; knot accelerations (quintic only) are estimated from those.
        """
        n = len(positions)
        h = np.full(n - 1, float(dt))
        h[0] = h0
        if velocities is None:
            v = knot_derivative(positions, h, v_start)
        else:
            v = np.array(velocities, dtype=np.float64)
            v[0] = v_start
        if order == 5:
            a = knot_derivative(v, h, np.zeros_like(v_start) if a_start is None else a_start)
        else:
            a = np.zeros_like(v)
        return cls(t_start, h0, dt, segment_coefficients(h, positions, v, a, order), positions)

    def _locate(self, t: float) -> tuple[int, float]:
        if t < self.t1:
            return 0, max(t - self.t_start, 0.0)
        if t >= self.end_time:
            # The end of the last segment, which is the free first one (h0 long, not dt) when
            # it is the only one.
            return self.n_seg - 1, self.dt if self.n_seg > 1 else self.t1 - self.t_start
        i = 1 + int((t - self.t1) * self.inv_dt)
        if i >= self.n_seg:
            i = self.n_seg - 1
        return i, t - self.t1 - (i - 1) * self.dt

    def positions_at(self, t: float) -> list[float]:
        """Positions (J floats) at time `t` (clamped to the segments), by Horner's rule."""
        i, x = self._locate(t)
        return [c0 + x * (c1 + x * (c2 + x * (c3 + x * (c4 + x * c5))))
                for c0, c1, c2, c3, c4, c5 in self.rows[i]]

    def evaluate(self, t: float) -> np.ndarray:
        """Return ``[[position], [velocity]]`` (2, J) at time `t` (clamped to the segments)."""
        i, x = self._locate(t)
        x2 = x * x
        x3 = x2 * x
        basis = np.array(((1.0, x, x2, x3, x2 * x2, x3 * x2),
                          (0.0, 1.0, 2.0 * x, 3.0 * x2, 4.0 * x3, 5.0 * x2 * x2)))
        return basis @ self.coef[i]

    def sample(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions and velocities (M, J) at many times (clamped to the covered span)."""
        times = np.clip(np.asarray(times, dtype=np.float64), self.t_start, self.end_time)
        idx = np.where(times < self.t1, 0,
                       np.minimum(1 + ((times - self.t1) * self.inv_dt).astype(int),
                                  self.n_seg - 1))
        x = np.where(idx == 0, times - self.t_start, times - self.t1 - (idx - 1) * self.dt)
        powers = x[:, None] ** np.arange(_NCOEF)                # (M, 6)
        dpowers = np.zeros_like(powers)
        dpowers[:, 1:] = powers[:, :-1] * np.arange(1, _NCOEF)
        c = self.coef[idx]                                      # (M, 6, J)
        return np.einsum('mc,mcj->mj', powers, c), np.einsum('mc,mcj->mj', dpowers, c)
