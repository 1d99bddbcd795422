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
the plan), ``stopping`` then ``holding`` (the plan ran out, the newest chunk is older than
``max_chunk_age_s``, the clock jumped back, or a resume came while the pause was still
braking), ``pausing`` then ``paused`` (`pause` was called), ``resuming`` (after `resume`, moving
within the limits to the measured state, then ``holding`` it). A stop never jumps and never
turns back towards the chunk: every joint's speed only decreases, all joints reaching rest on
the same tick so the arm keeps its direction of travel, then the position is held exactly.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from vla_ros.config import ConfigError, ExecutorConfig, show
from vla_ros.control.action_chunk import ActionChunk, ChunkError
from vla_ros.control.blending import BLEND_MODES
from vla_ros.control.interpolation import ORDERS, PiecewisePolynomial
from vla_ros.control.limits import CLAMP_KINDS, CommandLimiter, JointLimits, per_joint
from vla_ros.control.timeline import build_plan, remaining_steps
from vla_ros.control.urdf_limits import read_urdf_limits, UrdfError

# Appended states keep their codes: ``~/state`` readers index this tuple.
STATES = ('waiting', 'tracking', 'stopping', 'holding', 'pausing', 'paused', 'resuming')
# Layout of the executor state vector (the node's ``~/state`` Float64MultiArray).
# Appended fields keep the indices of the others. ``follow_error`` indexes
# `vla_ros.control.follow.FOLLOW_STATES` (ok, lagging, not_following), set by the runtime that
# compares the joint states with the commands; the core alone reports 0.
STATE_FIELDS = ('remaining_s', 'remaining_steps', 'state_code', 'clamp_count',
                'accepted_count', 'rejected_count', 'last_latency_s', 'newest_chunk_t0',
                'follow_error')
# A tick, submit or pause whose `now` is this much earlier than the latest one seen is a clock
# jump (time set back, a simulation reset, a bag replayed from its start). Less is jitter:
# callbacks of a multi-threaded node read the clock in one order and run in another.
CLOCK_JUMP_S = 0.05
# Sane magnitudes. Positions [rad or m] and velocities beyond MAX_ABS_VALUE are a policy's
# garbage, not a target; their differences would overflow the interpolation long before 1e308.
MAX_ABS_VALUE = 1e6
# Chunk stamps [s]: ROS time is ~1.7e9 s; beyond 1e10 s a float cannot resolve MIN_CHUNK_DT.
MAX_ABS_STAMP_S = 1e10
MIN_CHUNK_DT_S, MAX_CHUNK_DT_S = 1e-4, 1e3
_INF = math.inf


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
        """
        Set up for `joint_names` (command order) with `limits` in the same order.

        Raises ValueError naming the argument and the rule, as `ExecutorConfig` does.
        """
        names = tuple(joint_names)
        if not names or len(set(names)) != len(names) or not all(
                isinstance(n, str) and n for n in names):
            raise ValueError(f'joint_names={list(names)}: need one or more unique, non-empty '
                             'names')
        self.joint_names = names
        self._apply(self._checked(limits, control_rate_hz, blend_mode, crossfade_s,
                                  old_chunk_weight, interpolation, max_chunk_age_s,
                                  max_future_stamp_s, stop_deceleration))
        self.accepted = 0
        self.rejected: dict[str, int] = {}
        self.holds = 0
        self.clock_jumps = 0
        self.last_latency_s = math.nan
        self._state = 'waiting'
        self._pending: ActionChunk | None = None
        self._newest: ActionChunk | None = None
        self._plan: PiecewisePolynomial | None = None
        # The last command as float lists (positions, velocities, the velocities before):
        # the tick works on lists, and every Command gets arrays of its own.
        self._pl = self._vl = self._vbl = None
        self._t = -math.inf          # time of the last command
        self._clock = -math.inf      # latest `now` seen: the reference for clock jumps
        self._paused_at = -math.inf  # chunks observed before the last pause are stale
        self._decrement = None
        self._resume_target: np.ndarray | None = None
        self._zeros = np.zeros(len(names))

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

    def reconfigure(self, cfg: ExecutorConfig) -> None:
        """
        Apply a changed config in place, keeping the state and the command continuous.

        Rate, limits (with the URDF's), blending, interpolation and the chunk age rules change
        from the next tick; the plan being executed keeps its interpolation until the next
        chunk. A velocity limit tightened below the current speed is reached within the new
        acceleration limit, never in a jump. Raises ValueError (`ConfigError` for config
        rules) and changes nothing when the joint names differ, or when the command, moving,
        could no longer stop inside new position bounds within the acceleration limit.
        """
        if cfg.joint_names and tuple(cfg.joint_names) != self.joint_names:
            raise ConfigError(f'{cfg.SECTION}.joint_names={show(cfg.joint_names)}: must stay '
                              f'{show(self.joint_names)} (build a new executor to change them)')
        names = self.joint_names
        stop = expand(cfg, 'stop_deceleration', len(names)) if cfg.stop_deceleration else None
        settings = self._checked(resolve_limits(cfg, names), cfg.control_rate_hz,
                                 cfg.blend_mode, cfg.crossfade_s, cfg.old_chunk_weight,
                                 cfg.interpolation, cfg.max_chunk_age_s,
                                 cfg.max_future_stamp_s, stop)
        limiter = settings[0]
        if self._pl is not None:
            p, v = np.array(self._pl), np.array(self._vl)
            bad = ~limiter.can_stop_inside(p, v)
            if bad.any():
                j = int(np.argmax(bad))
                raise ConfigError(
                    f'{cfg.SECTION}.position_lower/position_upper: joint {names[j]} at '
                    f'{p[j]:.4g} moving at {v[j]:.3g} could not stop inside '
                    f'[{limiter.lower[j]:g}, {limiter.upper[j]:g}] within max_acceleration; '
                    'not applied (retry when it can)')
        old = self.limiter
        self._apply(settings)
        self.limiter.counts, self.limiter.clamped_ticks = old.counts, old.clamped_ticks
        if self._state in ('stopping', 'pausing'):
            # Same stop, per-tick decrement for the new period and deceleration.
            self._begin_stop(self.stop_deceleration if self._state == 'pausing'
                             else self.limiter.accel, self._state)
        if self._resume_target is not None:
            self._resume_target = self.limiter.limits.clip(self._resume_target)

    # ---------------------------------------------------------------------------- inputs

    @property
    def state(self) -> str:
        """One of `STATES`."""
        return self._state

    def submit(self, chunk: ActionChunk, now: float) -> Submission:
        """Offer a chunk received at `now`; its past steps are skipped, never replayed."""
        self._check_clock(now)
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
        wrong = out_of_range(chunk)
        if wrong:
            return self._reject('out of range', wrong)
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
        if self._pl is None:
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
        self._check_clock(now)
        self._paused_at = max(self._paused_at, now)
        self._pending = self._plan = self._newest = self._resume_target = None
        if self._pl is None:
            self._state = 'paused'
            return
        self._begin_stop(self.stop_deceleration, 'pausing')

    def resume(self, measured=None) -> bool:
        """
        Leave pause; False (and nothing changes) when not paused.

        A pause still braking finishes its stop first (state ``stopping``). Then, with
        `measured` (J,) positions, the command moves to them within the limits (``resuming``;
        clipped into the position bounds) and holds them; without, it holds where it stopped.
        A fresh chunk takes over at any point. Before the first command, `measured` is where
        the commands start (a hold there, as if measured at the pause); without it the
        executor waits for a chunk and a measured state, as at start-up.
        """
        if self._state not in ('pausing', 'paused'):
            return False
        target = None if measured is None else self._checked_positions(measured, 'measured')
        if self._pl is None:
            if target is None:
                self._state = 'waiting'
                return True
            zeros = self._zeros.tolist()
            # The pause gave the clock a time; a plan from a chunk starts from it.
            self._pl, self._vl, self._vbl, self._t = target.tolist(), zeros, zeros, self._clock
            self._state = 'holding'
            return True
        if target is not None:
            target = self.limiter.limits.clip(target)
            if self._state == 'paused' and (target == np.array(self._pl)).all():
                target = None
        self._resume_target = target
        if self._state == 'pausing':
            self._state = 'stopping'
        else:
            self._state = 'holding' if target is None else 'resuming'
        return True

    # ---------------------------------------------------------------------------- output

    def tick(self, now: float, measured=None) -> Command | None:
        """
        Return the command for time `now`; None while there is nothing to command yet.

        `measured` (J,) joint positions in command order are needed once, to start: the first
        command is exactly there, and the next ones ramp to the first chunk within the limits.
        """
        if self._clock <= now < _INF:   # the common case, checked in one comparison
            self._clock = now
        else:
            self._check_clock(now)
        if self._pl is None:
            if self._pending is None or measured is None or self._state == 'paused':
                return None
            return self._start(now, measured)
        state = self._state
        if state == 'tracking':
            plan = self._plan
            if now <= plan.end_time and now - self._newest.t0 <= self.max_chunk_age_s:
                p_list = plan.positions_at(now)
                v_list = self.limiter.within(p_list, self._pl, self._vl)
                if v_list is not None:      # the common case: no limit binds
                    self._vbl, self._pl, self._vl, self._t = self._vl, p_list, v_list, now
                    return Command(np.array(p_list), np.array(v_list), state)
                target = plan.evaluate(now)
                p, v = self.limiter.track(target[0], target[1], np.array(self._pl),
                                          np.array(self._vl))
                return self._emit(now, p, v, state)
            self.holds += 1
            self._plan = None
            state = self._begin_stop(self.limiter.accel, 'stopping')
        if state in ('stopping', 'pausing'):
            p, v = self.limiter.stop_step(np.array(self._pl), np.array(self._vl),
                                          self._decrement)
            if not v.any():
                self._state = self._after_stop(state, p)
            return self._emit(now, p, v, state)
        if state == 'resuming':
            target, p_prev = self._resume_target, np.array(self._pl)
            p, v = self.limiter.approach(target.copy(), p_prev, np.array(self._vl))
            if (np.abs(target - p) <= 1e-12 * (1.0 + np.abs(target))).all() and (
                    np.abs(v) <= self.limiter.a_t).all():
                # Arrived, to rounding: land on it exactly; the hold then starts at rest.
                p, v = target.copy(), (target - p_prev) * self.limiter.inv_period
                self._resume_target = None
                self._state = 'holding'
            elif not v.any() and (p == p_prev).all():
                self._resume_target = None      # a bound keeps it from going on
                self._state = 'holding'
            return self._emit(now, p, v, state)
        self._vbl, self._vl, self._t = self._vl, self._zeros.tolist(), now
        return Command(np.array(self._pl), np.zeros(len(self._pl)), state)

    def remaining_horizon(self, now: float) -> Horizon:
        """Seconds and steps of the newest chunk still to execute (0 when stopping)."""
        chunk = self._newest if self._state == 'tracking' else self._pending
        if chunk is None:
            return Horizon(0.0, 0)
        end = min(chunk.end_time, chunk.t0 + self.max_chunk_age_s)
        seconds = max(end - now, 0.0)
        return Horizon(seconds, remaining_steps(chunk, now) if seconds > 0 else 0)

    def planned_positions(self, times) -> np.ndarray | None:
        """
        Positions (M, J) the executor plans to command at future `times` if no chunk arrives.

        While tracking, the plan (the blended, interpolated chunk) up to its end, then its end
        position held, and the hold too once ``max_chunk_age_s`` would stop the arm; while
        stopping or pausing, the stop (each joint slowing at its per-tick decrement, from the
        last command's time); while resuming, its target; otherwise the current command held.
        The plan is the target before the limiter: where a limit binds, the commands lag it.
        None before the first command. For real-time chunking (what will execute while the
        policy thinks) and for a trajectory controller's look-ahead window.
        """
        if self._pl is None:
            return None
        times = np.asarray(times, dtype=np.float64).reshape(-1)
        if self._state in ('stopping', 'pausing'):
            return self._stop_path(times)
        if self._state == 'resuming' and self._resume_target is not None:
            return np.tile(self._resume_target, (len(times), 1))
        if self._state != 'tracking' or self._plan is None:
            return np.tile(np.array(self._pl), (len(times), 1))
        positions, _ = self._plan.sample(np.minimum(times, self.plan_end_time()))
        return positions

    def plan_end_time(self) -> float:
        """Return when the chunk being tracked ends (or gets too old); -inf when not tracking."""
        if self._state != 'tracking' or self._plan is None:
            return -math.inf
        return min(self._plan.end_time, self._newest.t0 + self.max_chunk_age_s)

    def state_vector(self, now: float, follow_error: float = 0.0) -> list[float]:
        """Executor state in `STATE_FIELDS` order, for the policy and for monitoring."""
        horizon = self.remaining_horizon(now)
        newest = self._newest or self._pending
        return [horizon.seconds, float(horizon.steps), float(STATES.index(self._state)),
                float(self.limiter.clamped_ticks), float(self.accepted),
                float(sum(self.rejected.values())), self.last_latency_s,
                newest.t0 if newest is not None else math.nan, float(follow_error)]

    def stats(self) -> dict[str, float]:
        """Counters for diagnostics: clamps by kind, rejections by kind, holds, clock jumps."""
        out = {'state': self._state, 'accepted': self.accepted, 'holds': self.holds,
               'clock_jumps': self.clock_jumps, 'clamped_ticks': self.limiter.clamped_ticks,
               'last_latency_s': self.last_latency_s}
        out.update({f'clamps_{k}': self.limiter.counts[k] for k in CLAMP_KINDS})
        out.update({f'rejected_{k.replace(" ", "_")}': n for k, n in self.rejected.items()})
        return out

    # ---------------------------------------------------------------------------- internals

    def _checked(self, limits, control_rate_hz, blend_mode, crossfade_s, old_chunk_weight,
                 interpolation, max_chunk_age_s, max_future_stamp_s, stop_deceleration):
        """Validate the settings (ValueError naming the argument and the rule); return them."""
        joints = len(self.joint_names)
        if not isinstance(limits, JointLimits):
            raise ValueError(f'limits={limits!r}: must be a JointLimits')
        if len(limits.max_velocity) != joints:
            raise ValueError(f'limits cover {len(limits.max_velocity)} joints, '
                             f'joint_names {joints}')
        if blend_mode not in BLEND_MODES:
            raise ValueError(f'blend_mode={blend_mode!r}: must be one of {BLEND_MODES}')
        if interpolation not in ORDERS:
            raise ValueError(f'interpolation={interpolation!r}: must be one of {tuple(ORDERS)}')
        rate = _number('control_rate_hz', control_rate_hz, lambda x: x > 0, '> 0')
        crossfade_s = _number('crossfade_s', crossfade_s, lambda x: x >= 0, '>= 0')
        old_chunk_weight = _number('old_chunk_weight', old_chunk_weight,
                                   lambda x: 0 <= x <= 1, 'in [0, 1]')
        max_chunk_age_s = _number('max_chunk_age_s', max_chunk_age_s, lambda x: x > 0, '> 0')
        max_future_stamp_s = _number('max_future_stamp_s', max_future_stamp_s,
                                     lambda x: x >= 0, '>= 0')
        if stop_deceleration is None:
            stop = limits.max_acceleration
        else:
            stop = per_joint('stop_deceleration', stop_deceleration, joints)
        try:
            limiter = CommandLimiter(limits, 1.0 / rate)
        except ValueError as exc:
            raise ValueError(f'control_rate_hz={control_rate_hz!r} with these limits: {exc}'
                             ) from None
        if not (stop * limiter.period > 0).all():
            raise ValueError(f'stop_deceleration={stop.tolist()}: vanishes over a control '
                             f'period of {limiter.period:g} s')
        return (limiter, blend_mode, crossfade_s, old_chunk_weight, interpolation,
                max_chunk_age_s, max_future_stamp_s, stop)

    def _apply(self, settings) -> None:
        (self.limiter, self.blend_mode, self.crossfade_s, self.old_chunk_weight,
         self.interpolation, self.max_chunk_age_s, self.max_future_stamp_s,
         self.stop_deceleration) = settings
        self.period = self.limiter.period

    def _checked_positions(self, values, name: str) -> np.ndarray:
        try:
            out = np.array(values, dtype=np.float64)
        except (TypeError, ValueError):
            out = None
        if out is None or out.shape != self._zeros.shape or not (
                np.abs(out) <= MAX_ABS_VALUE).all():
            raise ValueError(f'{name}={show(values)}: need {len(self._zeros)} finite values, '
                             f'|x| <= {MAX_ABS_VALUE:g}')
        return out

    def _check_clock(self, now: float) -> None:
        if not math.isfinite(now):
            raise ValueError(f'now={now}: must be finite')
        if now < self._clock - CLOCK_JUMP_S:
            self._clock_jump(now)
        self._clock = max(self._clock, now)

    def _clock_jump(self, now: float) -> None:
        """
        Time went back: stop within the limits and forget the old timeline.

        The plan and the chunk stamps belong to the old timeline; kept, they would be tracked
        again and would refuse every fresh chunk until the clock passed them.
        """
        self.clock_jumps += 1
        self._clock = now
        self._pending = self._newest = self._plan = None
        self._paused_at = now if self._state in ('pausing', 'paused') else -math.inf
        if self._pl is None:
            return
        self._t = now
        if self._state == 'tracking':
            self._begin_stop(self.limiter.accel, 'stopping')

    def _reject(self, kind: str, reason: str) -> Submission:
        self.rejected[kind] = self.rejected.get(kind, 0) + 1
        return Submission(False, reason)

    def _start(self, now: float, measured) -> Command:
        measured = self._checked_positions(measured, 'measured')
        zeros = self._zeros.tolist()
        self._pl, self._vl, self._vbl, self._t = measured.tolist(), zeros, zeros, now
        self._state = 'holding'
        chunk, self._pending = self._pending, None
        self._take(chunk)
        # The plan starts here, whatever its velocity there (a linear one has some): the
        # first command is the measured state itself.
        return Command(measured, np.zeros(len(zeros)), self._state)

    def _take(self, chunk: ActionChunk) -> bool:
        """Make `chunk` the plan, joined to the last command; False if nothing is left of it."""
        p, v = np.array(self._pl), np.array(self._vl)
        a_start = (v - np.array(self._vbl)) / self.period
        old = self._plan if self._state == 'tracking' else None
        plan = build_plan(chunk, self._t, p, v, a_start, old,
                          mode=self.blend_mode, order=ORDERS[self.interpolation],
                          crossfade_s=self.crossfade_s, old_chunk_weight=self.old_chunk_weight)
        if plan is None:
            return False
        self._plan, self._newest, self._state = plan, chunk, 'tracking'
        self._resume_target = None
        return True

    def _begin_stop(self, decel: np.ndarray, state: str) -> str:
        # One tick count for all joints: each slows in proportion, so the path keeps its
        # direction (a stop along the path, not joint by joint).
        speed = np.abs(np.array(self._vl))
        ticks = math.ceil(min(float(np.max(speed / (decel * self.period))), 1e15) - 1e-9)
        self._decrement = speed / max(ticks, 1)
        self._state = state if ticks > 0 else self._after_stop(state, np.array(self._pl))
        return self._state

    def _stop_path(self, times: np.ndarray) -> np.ndarray:
        """Positions (M, J) of the stop in progress at `times`, within the position bounds."""
        v = np.array(self._vl)
        decel = np.maximum(self._decrement, 1e-300) / self.period     # (J,) [rad/s^2]
        stop_after = np.abs(v) / decel
        tau = np.clip(times[:, None] - self._t, 0.0, stop_after)
        p = np.array(self._pl)
        path = p + v * tau - np.sign(v) * 0.5 * decel * tau**2
        # As the limiter: a command outside a bound may stay there, never move further out.
        return np.clip(path, np.minimum(self.limiter.lower, p), np.maximum(self.limiter.upper, p))

    def _after_stop(self, state: str, p: np.ndarray) -> str:
        """State once a stop reaches rest at `p`."""
        if state == 'pausing':
            return 'paused'
        if self._resume_target is not None and (self._resume_target != p).any():
            return 'resuming'
        self._resume_target = None
        return 'holding'

    def _emit(self, now: float, p: np.ndarray, v: np.ndarray, state: str) -> Command:
        self._vbl, self._pl, self._vl, self._t = self._vl, p.tolist(), v.tolist(), now
        return Command(p, v, state)


def _number(name: str, value, ok, rule: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f'{name}={value!r}: must be a number') from None
    if not (math.isfinite(x) and ok(x)):
        raise ValueError(f'{name}={value!r}: must be finite and {rule}')
    return x


def out_of_range(chunk: ActionChunk) -> str:
    """Say why `chunk` is beyond the sane magnitudes (see `MAX_ABS_VALUE`); '' if it is not."""
    for name, values in (('positions', chunk.positions), ('velocities', chunk.velocities)):
        if values is not None:
            big = float(np.abs(values).max())
            if big > MAX_ABS_VALUE:
                return f'{name} up to {big:.3g}: |x| <= {MAX_ABS_VALUE:g} required'
    if abs(chunk.t0) > MAX_ABS_STAMP_S:
        return f't0={chunk.t0:.6g}: |t0| <= {MAX_ABS_STAMP_S:g} s required'
    if not MIN_CHUNK_DT_S <= chunk.dt <= MAX_CHUNK_DT_S:
        return f'dt={chunk.dt:g}: must be in [{MIN_CHUNK_DT_S:g}, {MAX_CHUNK_DT_S:g}] s'
    return ''


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
