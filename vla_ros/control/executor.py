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
The chunk executor: a stream of late, overlapping action chunks in, limited commands out.

Time is always passed in, never read from a clock, so tests and simulations are deterministic.

States: ``waiting`` (no chunk yet, or no measured state to start from), ``tracking`` (following
the plan), ``stopping`` then ``holding`` (the plan ran out or the newest chunk is older than
``max_chunk_age_s``), ``pausing`` then ``paused`` (`pause` was called). A stop never jumps and
never turns back towards the chunk: every joint's speed only decreases, all joints reaching
rest on the same tick so the arm keeps its direction of travel, then the position is held
exactly.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from vla_ros.config import ConfigError, ExecutorConfig, show
from vla_ros.control.action_chunk import ActionChunk, ChunkError
from vla_ros.control.blending import BLEND_MODES
from vla_ros.control.interpolation import ORDERS, PiecewisePolynomial
from vla_ros.control.limits import CLAMP_KINDS, CommandLimiter, JointLimits
from vla_ros.control.timeline import build_plan, remaining_steps
from vla_ros.control.urdf_limits import read_urdf_limits, UrdfError

STATES = ('waiting', 'tracking', 'stopping', 'holding', 'pausing', 'paused')
# Layout of the executor state vector (the node's ``~/state`` Float64MultiArray).
STATE_FIELDS = ('remaining_s', 'remaining_steps', 'state_code', 'clamp_count',
                'accepted_count', 'rejected_count', 'last_latency_s', 'newest_chunk_t0')


class Command(NamedTuple):
    """One command: positions and velocities (J,) in command order, and the state name."""

    positions: np.ndarray
    velocities: np.ndarray
    state: str


class Submission(NamedTuple):
    """Whether `ChunkExecutor.submit` took a chunk, and why not."""

    accepted: bool
    reason: str


class Horizon(NamedTuple):
    """What is left to execute of the newest chunk."""

    seconds: float
    steps: int


class ChunkExecutor:
    """Turns action chunks into position and velocity commands at a fixed control rate."""

    def __init__(self, joint_names, limits: JointLimits, control_rate_hz: float, *,
                 blend_mode: str = 'crossfade', crossfade_s: float = 0.2,
                 old_chunk_weight: float = 0.3, interpolation: str = 'cubic',
                 max_chunk_age_s: float = 1.0, max_future_stamp_s: float = 0.5,
                 stop_deceleration=None):
        """Set up for `joint_names` (command order) with `limits` in the same order."""
        self.joint_names = tuple(joint_names)
        if blend_mode not in BLEND_MODES:
            raise ValueError(f'blend_mode={blend_mode!r}: must be one of {BLEND_MODES}')
        if interpolation not in ORDERS:
            raise ValueError(f'interpolation={interpolation!r}: must be one of {tuple(ORDERS)}')
        if len(limits.max_velocity) != len(self.joint_names):
            raise ValueError(f'limits cover {len(limits.max_velocity)} joints, '
                             f'joint_names {len(self.joint_names)}')
        self.period = 1.0 / control_rate_hz
        self.limiter = CommandLimiter(limits, self.period)
        self.blend_mode, self.interpolation = blend_mode, interpolation
        self.crossfade_s, self.old_chunk_weight = crossfade_s, old_chunk_weight
        self.max_chunk_age_s, self.max_future_stamp_s = max_chunk_age_s, max_future_stamp_s
        self.stop_deceleration = limits.max_acceleration if stop_deceleration is None else (
            np.broadcast_to(np.asarray(stop_deceleration, float), limits.max_acceleration.shape))
        self.accepted = 0
        self.rejected: dict[str, int] = {}
        self.holds = 0
        self.last_latency_s = math.nan
        self._state = 'waiting'
        self._pending: ActionChunk | None = None
        self._newest: ActionChunk | None = None
        self._plan: PiecewisePolynomial | None = None
        self._p = self._v = self._v_before = None
        self._pl = self._vl = None                  # the same as float lists, for the tick
        self._t = -math.inf
        self._paused_at = -math.inf   # chunks observed before the last pause are stale
        self._decrement = None
        self._zeros = np.zeros(len(self.joint_names))

    @classmethod
    def from_config(cls, cfg: ExecutorConfig, joint_names=None) -> 'ChunkExecutor':
        """Build from the typed config; `joint_names` is used when the config lists none."""
        names = tuple(cfg.joint_names) or tuple(joint_names or ())
        if not names:
            raise ConfigError(f'{cfg.SECTION}.joint_names=[]: needed (or a first chunk)')
        limits = resolve_limits(cfg, names)
        stop = expand(cfg, 'stop_deceleration', len(names)) if cfg.stop_deceleration else None
        return cls(names, limits, cfg.control_rate_hz, blend_mode=cfg.blend_mode,
                   crossfade_s=cfg.crossfade_s, old_chunk_weight=cfg.old_chunk_weight,
                   interpolation=cfg.interpolation, max_chunk_age_s=cfg.max_chunk_age_s,
                   max_future_stamp_s=cfg.max_future_stamp_s, stop_deceleration=stop)

    # ---------------------------------------------------------------------------- inputs

    @property
    def state(self) -> str:
        """One of `STATES`."""
        return self._state

    def submit(self, chunk: ActionChunk, now: float) -> Submission:
        """Offer a chunk received at `now`; its past steps are skipped, never replayed."""
        if self._state in ('pausing', 'paused'):
            return self._reject('paused', 'paused: chunks are ignored until resume')
        if chunk.t0 < self._paused_at:
            # Planned from the world before the pause (an e-stop, a reset): after the resume
            # it would drive the arm towards where things were, not where they are.
            return self._reject('before pause', f'observed at t0={chunk.t0:.3f}, before the '
                                f'last pause at {self._paused_at:.3f}')
        if chunk.joint_names != self.joint_names:
            try:
                chunk = chunk.reordered(self.joint_names)
            except ChunkError as exc:
                return self._reject('joint names', str(exc))
        if chunk.t0 > now + self.max_future_stamp_s:
            return self._reject('future stamp', f'stamp {chunk.t0 - now:.3f} s in the future '
                                f'(max_future_stamp_s={self.max_future_stamp_s:g})')
        if now - chunk.t0 > self.max_chunk_age_s:
            return self._reject('too old', f'observation {now - chunk.t0:.3f} s old '
                                f'(max_chunk_age_s={self.max_chunk_age_s:g})')
        newest = self._newest or self._pending
        if newest is not None and chunk.t0 <= newest.t0:
            return self._reject('out of order', f't0={chunk.t0:.3f} is not newer than the '
                                f'chunk being executed (t0={newest.t0:.3f})')
        if chunk.end_time <= now:
            return self._reject('late', 'late: every step is already in the past')
        if self._p is None:
            self._pending = chunk       # the first tick with a measured state starts it
        elif not self._take(chunk):
            return self._reject('late', 'late: no step left after the last command')
        self.accepted += 1
        self.last_latency_s = now - chunk.t0
        return Submission(True, '')

    def pause(self, now: float) -> None:
        """
        Stop from the next tick on (at `stop_deceleration`), then hold until `resume`.

        Chunks observed before `now` are refused from then on, also after the resume.
        """
        self._paused_at = max(self._paused_at, now)
        self._pending = self._plan = self._newest = None
        if self._p is None:
            self._state = 'paused'
            return
        self._begin_stop(self.stop_deceleration, 'pausing')

    def resume(self, measured=None) -> bool:
        """Leave pause: hold the `measured` positions (if given) until a fresh chunk arrives."""
        if self._state not in ('pausing', 'paused'):
            return False
        if measured is not None or self._p is not None:
            p = self._p if measured is None else np.array(measured, dtype=np.float64)
            self._emit(self._t, p, self._zeros, 'holding')
            self._v_before = self._zeros
            self._state = 'holding'
        else:
            self._state = 'waiting'
        return True

    # ---------------------------------------------------------------------------- output

    def tick(self, now: float, measured=None) -> Command | None:
        """
        Return the command for time `now`; None while there is nothing to command yet.

        `measured` (J,) joint positions in command order are needed once, to start: the first
        command begins there and ramps to the first chunk within the limits.
        """
        if self._p is None:
            if self._pending is None or measured is None or self._state == 'paused':
                return None
            self._start(now, measured)
        state = self._state
        if state == 'tracking':
            plan = self._plan
            if now <= plan.end_time and now - self._newest.t0 <= self.max_chunk_age_s:
                p_list = plan.positions_at(now)
                v_list = self.limiter.within(p_list, self._pl, self._vl)
                if v_list is not None:      # the common case: no limit binds
                    self._v_before, self._pl, self._vl, self._t = self._v, p_list, v_list, now
                    self._p, self._v = np.array(p_list), np.array(v_list)
                    return Command(self._p, self._v, state)
                target = plan.evaluate(now)
                p, v = self.limiter.track(target[0], target[1], self._p, self._v)
                return self._emit(now, p, v, state)
            self.holds += 1
            self._plan = None
            state = self._begin_stop(self.limiter.limits.max_acceleration, 'stopping')
        if state in ('stopping', 'pausing'):
            p, v = self.limiter.stop_step(self._p, self._v, self._decrement)
            if not v.any():
                self._state = 'holding' if state == 'stopping' else 'paused'
            return self._emit(now, p, v, state)
        return self._emit(now, self._p, self._zeros, state)

    def remaining_horizon(self, now: float) -> Horizon:
        """Seconds and steps of the newest chunk still to execute (0 when stopping)."""
        chunk = self._newest if self._state == 'tracking' else self._pending
        if chunk is None:
            return Horizon(0.0, 0)
        end = min(chunk.end_time, chunk.t0 + self.max_chunk_age_s)
        seconds = max(end - now, 0.0)
        return Horizon(seconds, remaining_steps(chunk, now) if seconds > 0 else 0)

    def state_vector(self, now: float) -> list[float]:
        """Executor state in `STATE_FIELDS` order, for the policy and for monitoring."""
        horizon = self.remaining_horizon(now)
        newest = self._newest or self._pending
        return [horizon.seconds, float(horizon.steps), float(STATES.index(self._state)),
                float(self.limiter.clamped_ticks), float(self.accepted),
                float(sum(self.rejected.values())), self.last_latency_s,
                newest.t0 if newest is not None else math.nan]

    def stats(self) -> dict[str, float]:
        """Counters for diagnostics: clamps by kind, rejections by kind, holds."""
        out = {'state': self._state, 'accepted': self.accepted, 'holds': self.holds,
               'clamped_ticks': self.limiter.clamped_ticks,
               'last_latency_s': self.last_latency_s}
        out.update({f'clamps_{k}': self.limiter.counts[k] for k in CLAMP_KINDS})
        out.update({f'rejected_{k.replace(" ", "_")}': n for k, n in self.rejected.items()})
        return out

    # ---------------------------------------------------------------------------- internals

    def _reject(self, kind: str, reason: str) -> Submission:
        self.rejected[kind] = self.rejected.get(kind, 0) + 1
        return Submission(False, reason)

    def _start(self, now: float, measured) -> None:
        measured = np.array(measured, dtype=np.float64)
        if measured.shape != self._zeros.shape or not np.isfinite(measured).all():
            raise ValueError(f'measured positions {measured.tolist()}: need '
                             f'{len(self._zeros)} finite values')
        self._p, self._v, self._v_before, self._t = measured, self._zeros, self._zeros, now
        self._pl, self._vl = measured.tolist(), self._zeros.tolist()
        self._state = 'holding'
        chunk, self._pending = self._pending, None
        self._take(chunk)

    def _take(self, chunk: ActionChunk) -> bool:
        """Make `chunk` the plan, joined to the last command; False if nothing is left of it."""
        a_start = (self._v - self._v_before) / self.period
        old = self._plan if self._state == 'tracking' else None
        plan = build_plan(chunk, self._t, self._p, self._v, a_start, old,
                          mode=self.blend_mode, order=ORDERS[self.interpolation],
                          crossfade_s=self.crossfade_s, old_chunk_weight=self.old_chunk_weight)
        if plan is None:
            return False
        self._plan, self._newest, self._state = plan, chunk, 'tracking'
        return True

    def _begin_stop(self, decel: np.ndarray, state: str) -> str:
        # One tick count for all joints: each slows in proportion, so the path keeps its
        # direction (a stop along the path, not joint by joint).
        speed = np.abs(self._v)
        ticks = math.ceil(float(np.max(speed / (decel * self.period))) - 1e-9)
        self._decrement = speed / max(ticks, 1)
        self._state = state if ticks > 0 else ('holding' if state == 'stopping' else 'paused')
        return self._state

    def _emit(self, now: float, p: np.ndarray, v: np.ndarray, state: str) -> Command:
        self._v_before, self._p, self._v, self._t = self._v, p, v, now
        self._pl, self._vl = p.tolist(), v.tolist()
        return Command(p, v, state)


def expand(cfg: ExecutorConfig, name: str, joints: int) -> np.ndarray:
    """Return a config list as one value per joint: one value applies to all."""
    value = getattr(cfg, name)
    if len(value) not in (1, joints):
        raise ConfigError(f'{cfg.SECTION}.{name}={show(value)}: needs one value or one per '
                          f'joint ({joints})')
    return np.broadcast_to(np.asarray(value, dtype=np.float64), (joints,)).copy()


def resolve_limits(cfg: ExecutorConfig, joint_names) -> JointLimits:
    """Limits in `joint_names` order: the parameters, tightened by the URDF's where given."""
    n = len(joint_names)
    lower, upper = np.full(n, -np.inf), np.full(n, np.inf)
    for name, arr in (('position_lower', lower), ('position_upper', upper)):
        value = getattr(cfg, name)
        if value:
            if len(value) != n:
                raise ConfigError(f'{cfg.SECTION}.{name}={show(value)}: needs one value per '
                                  f'joint ({n})')
            arr[:] = value
    velocity = expand(cfg, 'max_velocity', n)
    accel = expand(cfg, 'max_acceleration', n)
    if cfg.urdf_path:
        try:
            urdf = read_urdf_limits(cfg.urdf_path)
        except UrdfError as exc:
            raise ConfigError(f'{cfg.SECTION}.urdf_path={show(cfg.urdf_path)}: {exc}') from None
        missing = [j for j in joint_names if j not in urdf]
        if missing:
            raise ConfigError(f'{cfg.SECTION}.urdf_path={show(cfg.urdf_path)}: no joint '
                              f'{", ".join(missing)} in the URDF')
        lower = np.maximum(lower, [urdf[j]['lower'] for j in joint_names])
        upper = np.minimum(upper, [urdf[j]['upper'] for j in joint_names])
        velocity = np.minimum(velocity, [urdf[j]['velocity'] for j in joint_names])
    if (lower >= upper).any():
        raise ConfigError(f'{cfg.SECTION}.position_upper={show(tuple(upper))}: must be above '
                          f'position_lower={show(tuple(lower))} (with the URDF bounds)')
    return JointLimits(lower, upper, velocity, accel)
