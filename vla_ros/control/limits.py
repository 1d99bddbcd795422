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
Joint limits applied to every command, at the nominal control period.

The limiter computes each command from the previous one with the nominal period ``T`` (never
the measured tick interval), so a late or early timer tick cannot make a step look slower than
it is: ``|p_k - p_{k-1}| <= v_max T`` and ``|v_k - v_{k-1}| <= a_max T`` hold per command, where
``v_k = (p_k - p_{k-1}) / T`` is the velocity sent with ``p_k``.

A target the limits cannot follow is not rejected: the command chases it as fast as the limits
allow and slows down in time to arrive without overshoot, using the braking distance of the
discrete command sequence itself (`braking_speed`), not its continuous-time approximation,
which would overshoot by up to a tick's travel. A target beyond a position bound is followed
up to the bound, where the command brakes to rest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CLAMP_KINDS = ('position', 'velocity', 'acceleration')
# Distances from a bound beyond this are "no bound" for braking; with the per-tick constants
# capped at `_MAX_CONSTANT`, no product in `braking_speed` can overflow.
FAR_DISTANCE = 1e150
_MAX_CONSTANT = 1e100


@dataclass(frozen=True)
class JointLimits:
    """Per-joint limits in command order; ``inf`` bounds mean none."""

    lower: np.ndarray               # (J,) [rad or m]
    upper: np.ndarray               # (J,) [rad or m]
    max_velocity: np.ndarray        # (J,) [rad/s], finite and > 0
    max_acceleration: np.ndarray    # (J,) [rad/s^2], finite and > 0

    def __post_init__(self):
        for name in ('lower', 'upper', 'max_velocity', 'max_acceleration'):
            value = np.array(getattr(self, name), dtype=np.float64)
            value.setflags(write=False)
            object.__setattr__(self, name, value)
        n = len(self.max_velocity)
        for name in ('lower', 'upper', 'max_acceleration'):
            if len(getattr(self, name)) != n:
                raise ValueError(f'{name}: {len(getattr(self, name))} values for {n} joints')
        for name in ('max_velocity', 'max_acceleration'):
            value = getattr(self, name)
            if not (np.isfinite(value) & (value > 0)).all():
                raise ValueError(f'{name}={value.tolist()}: every value must be finite and > 0')
        if np.isnan(self.lower).any() or np.isnan(self.upper).any() or (
                self.lower >= self.upper).any():
            raise ValueError(f'lower={self.lower.tolist()}, upper={self.upper.tolist()}: '
                             'lower must be below upper, joint by joint')

    @classmethod
    def uniform(cls, joints: int, max_velocity: float, max_acceleration: float,
                lower: float = -np.inf, upper: float = np.inf) -> 'JointLimits':
        """Build the same limits for every joint."""
        return cls(np.full(joints, lower), np.full(joints, upper),
                   np.full(joints, max_velocity), np.full(joints, max_acceleration))

    def clip(self, positions: np.ndarray) -> np.ndarray:
        """Return `positions` clipped into [lower, upper]."""
        return np.clip(positions, self.lower, self.upper)


def per_joint(name: str, value, joints: int) -> np.ndarray:
    """
    Return `value` (one number, or one per joint) as (joints,) floats, all finite and > 0.

    Raises ValueError naming `name`, the value and the rule.
    """
    try:
        out = np.broadcast_to(np.asarray(value, dtype=np.float64), (joints,)).copy()
    except (TypeError, ValueError):
        raise ValueError(f'{name}={list(np.ravel(value))}: needs one value or one per joint '
                         f'({joints})') from None
    if not (np.isfinite(out) & (out > 0)).all():
        raise ValueError(f'{name}={out.tolist()}: every value must be finite and > 0')
    return out


def braking_speed(distance: np.ndarray, a_t: np.ndarray, k2: np.ndarray, inv_period: float
                  ) -> np.ndarray:
    """
    Largest speed that can still stop within `distance` (>= 0), tick by tick.

    Speeds ``v, v - aT, ..., v - n aT`` cover ``T ((n + 1) v - aT n (n + 1) / 2)``, the last
    one ``<= aT`` so the next tick may be at rest; n comes from the continuous solution of
    ``a T^2 m (m + 1) / 2 = distance`` (`k2` is ``2 / (a T^2)``). Exact per tick, so a command
    at this speed is at it again, one decrement lower, on the next tick.

    An infinite distance (no bound: a continuous joint beside bounded ones) counts as
    `FAR_DISTANCE`, whose braking speed is finite but beyond any speed limit: inf / inf would
    be NaN.
    """
    distance = np.minimum(distance, FAR_DISTANCE)
    m = np.sqrt(0.25 + distance * k2) - 0.5
    n = np.maximum(np.ceil(m) - 1.0, 0.0)
    return distance * inv_period / (n + 1.0) + a_t * n * 0.5


class CommandLimiter:
    """Position bounds, velocity and acceleration limits on a stream of commands."""

    def __init__(self, limits: JointLimits, period_s: float):
        """Prepare the per-tick constants for `limits` at the nominal `period_s`."""
        self.limits = limits
        self.period = float(period_s)
        self.inv_period = 1.0 / self.period
        self.lower, self.upper = limits.lower, limits.upper
        self.v_max = limits.max_velocity
        self.has_bounds = bool(np.isfinite(self.lower).any() or np.isfinite(self.upper).any())
        self.accel = limits.max_acceleration
        self.a_t = self.accel * self.period
        self.k2 = 2.0 / (self.accel * self.period**2)
        constants = np.r_[self.inv_period, self.a_t, self.k2]
        if not (np.isfinite(constants).all() and (constants > 0).all()
                and constants.max() <= _MAX_CONSTANT):
            raise ValueError(f'max_acceleration={self.accel.tolist()} at a period of '
                             f'{self.period:g} s: a_max T and 2 / (a_max T^2) must lie in '
                             f'(0, {_MAX_CONSTANT:g}]')
        # Beyond this distance from a bound, braking for it cannot bind at any legal speed.
        margin = self.v_max**2 / (2 * self.accel) + 2 * self.v_max * self.period
        self.safe_lo, self.safe_hi = self.lower + margin, self.upper - margin
        self._fast = list(zip(self.v_max.tolist(), self.a_t.tolist(), self.safe_lo.tolist(),
                              self.safe_hi.tolist()))
        self.counts = dict.fromkeys(CLAMP_KINDS, 0)
        self.clamped_ticks = 0

    def within(self, p_target: list[float], p_prev: list[float], v_prev: list[float]
               ) -> list[float] | None:
        """
        Velocities reaching `p_target` this tick if no limit binds there, else None.

        The common case, checked with plain floats because it runs every tick.
        """
        inv_t = self.inv_period
        out = []
        for p, q, w, (v_max, a_t, lo, hi) in zip(p_target, p_prev, v_prev, self._fast):
            v = (p - q) * inv_t
            dv = v - w
            # Far from the bounds, a legal speed cannot carry the command past them.
            if not (-v_max <= v <= v_max and -a_t <= dv <= a_t and lo <= q <= hi):
                return None
            out.append(v)
        return out

    def track(self, p_target: np.ndarray, v_target: np.ndarray, p_prev: np.ndarray,
              v_prev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Next command (position, velocity) towards the target state of this tick."""
        v = self.within(p_target.tolist(), p_prev.tolist(), v_prev.tolist())
        if v is not None:
            return p_target, np.array(v)   # the target is reachable: follow it exactly
        v_exact = (p_target - p_prev) * self.inv_period
        return self._limited(p_target, v_target, p_prev, v_prev, v_exact)

    def approach(self, p_target: np.ndarray, p_prev: np.ndarray, v_prev: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
        """
        Next command towards the fixed `p_target`, to arrive there at rest.

        Unlike `track`, a target within a tick's reach is not taken at whatever speed that
        needs: the command brakes for it, so it does not overshoot.
        """
        return self._limited(p_target, np.zeros_like(p_target), p_prev, v_prev,
                             (p_target - p_prev) * self.inv_period)

    def _limited(self, p_target, v_target, p_prev, v_prev, v_exact):
        gap = p_target - p_prev - v_target * self.period
        step = gap * self.inv_period
        catch_up = braking_speed(np.abs(gap), self.a_t, self.k2, self.inv_period)
        v = np.where(np.abs(step) <= catch_up, v_exact,
                     v_target + np.clip(step, -catch_up, catch_up))
        kinds = set()
        if (np.abs(v) > self.v_max).any():
            v = np.clip(v, -self.v_max, self.v_max)
            kinds.add('velocity')
        lo, hi = v_prev - self.a_t, v_prev + self.a_t
        if ((v < lo) | (v > hi)).any():
            v = np.clip(v, lo, hi)
            kinds.add('acceleration')
        p, v, hit = self._bounded(p_prev, v)
        if hit:
            kinds.add('position')
        on_target = v == v_exact
        if on_target.all():
            return p_target, v_exact
        # Joints that reach their target get it exactly, not a rounded p_prev + v T.
        p = np.where(on_target, p_target, p)
        self.clamped_ticks += 1
        for kind in kinds or ('acceleration',):   # none: braking into a target that got away
            self.counts[kind] += 1
        return p, v

    def _bounded(self, p_prev, v):
        """Brake for the position bounds and clip to them; True if either acted."""
        if not self.has_bounds:
            return p_prev + v * self.period, v, False
        room_up = np.maximum(self.upper - p_prev, 0.0)
        room_down = np.maximum(p_prev - self.lower, 0.0)
        v_up = braking_speed(room_up, self.a_t, self.k2, self.inv_period)
        v_down = -braking_speed(room_down, self.a_t, self.k2, self.inv_period)
        hit = bool(((v > v_up) | (v < v_down)).any())
        v = np.clip(v, v_down, v_up)
        p = p_prev + v * self.period
        # A measured start outside the bounds may stay there, but never move further out.
        lo, hi = np.minimum(self.lower, p_prev), np.maximum(self.upper, p_prev)
        if ((p < lo) | (p > hi)).any():
            p = np.clip(p, lo, hi)
            v = (p - p_prev) * self.inv_period
            hit = True
        return p, v, hit

    def can_stop_inside(self, p: np.ndarray, v: np.ndarray) -> np.ndarray:
        """
        Per joint: whether the command (`p`, `v`) can still stop before the bounds, (J,) bool.

        Within limits, the next speed towards a bound can drop by ``a_max T`` and must then be
        a braking speed. A joint outside a bound qualifies when it does not move further out.
        """
        room_up, room_down = self.upper - p, p - self.lower
        tol = 1e-9 * (1.0 + np.abs(v))
        up_ok = np.where(room_up < 0, v <= 0, v - self.a_t <= braking_speed(
            np.maximum(room_up, 0.0), self.a_t, self.k2, self.inv_period) + tol)
        down_ok = np.where(room_down < 0, v >= 0, -v - self.a_t <= braking_speed(
            np.maximum(room_down, 0.0), self.a_t, self.k2, self.inv_period) + tol)
        return up_ok & down_ok

    def stop_step(self, p_prev: np.ndarray, v_prev: np.ndarray, decrement: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
        """One tick of a stop: every joint's speed drops by `decrement` (J,), never rises."""
        speed = np.maximum(np.abs(v_prev) - decrement, 0.0)
        v = np.copysign(speed, v_prev)
        v[speed == 0.0] = 0.0           # no -0.0: the hold is exact
        p, v, _ = self._bounded(p_prev, v)
        return p, v
