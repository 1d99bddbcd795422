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
The executor side of the runtime: chunks and joint states in, commands at control rate out.

`ExecutorRunner` owns what the chunk_executor node decides without ROS: turning a chunk
message into an `ActionChunk` (malformed ones counted by kind), creating the `ChunkExecutor`
once the command joint order is known (from the config, else the first chunk), the measured
state it starts from, pause / resume, a re-sync after the world was reset, the state vector the
policy's horizon trigger reads, and the diagnostics. The node feeds it messages on its timers;
the in-process loop calls the same methods on sim time.

It also watches whether anybody follows the commands (`vla_ros.control.follow`): each tick
compares the newest joint state with the command sent ``follow_delay_s`` before it, and reports
a controller that does not follow in the state vector, the diagnostics (ERROR) and a log line,
pausing the executor when ``pause_on_follow_error``. For ``joint_trajectory_window`` it builds
the stamped look-ahead window (`vla_ros.control.command_window`) from the last command.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from vla_ros.config import ConfigError
from vla_ros.control.action_chunk import ActionChunk
from vla_ros.control.command_window import CommandWindow, WindowBuilder
from vla_ros.control.executor import ChunkExecutor, Command, STATE_FIELDS, STATES, Submission
from vla_ros.control.follow import FollowMonitor
from vla_ros.messages.joint_state import JointStateError, positions_by_name
from vla_ros.messages.trajectory import chunk_from_trajectory, MalformedChunk


class ExecutorRunner:
    """A `ChunkExecutor` with its joint order, measured state, message checks and counters."""

    def __init__(self, cfg):
        """Set up from an `ExecutorConfig`; without joint names the first chunk sets them."""
        self.cfg = cfg
        self.core = None
        self.follow: FollowMonitor | None = None
        self.malformed: dict[str, int] = {}
        self.resyncs = 0
        self.follow_pauses = 0
        self.last_command: tuple[float, Command] | None = None
        self._joint_state: tuple[Sequence[str], Sequence[float]] | None = None
        self._joint_state_stamp = self._joint_state_received = math.nan
        self._joint_state_seq = self._checked_seq = 0
        self._windows = WindowBuilder(cfg.window_s, 1.0 / cfg.window_rate_hz)
        if cfg.joint_names:
            self._set_core(ChunkExecutor.from_config(cfg))

    @property
    def joint_names(self) -> tuple[str, ...] | None:
        """Return the command joint order, or None before it is known."""
        return None if self.core is None else self.core.joint_names

    @property
    def state(self) -> str:
        """Return the executor's state name (one of `STATES`)."""
        return 'waiting' if self.core is None else self.core.state

    # ---- inputs ------------------------------------------------------------------------------
    def set_joint_state(self, names: Sequence[str], positions: Sequence[float],
                        stamp_s: float = math.nan, received_s: float = math.nan) -> None:
        """
        Store the latest measured joint state (names and positions, the robot's order).

        `stamp_s` is when it was measured (the message stamp), `received_s` when it arrived;
        the follow check uses the stamp when it is plausible (within 1 s before the tick).
        """
        self._joint_state = (names, positions)
        self._joint_state_stamp = stamp_s
        self._joint_state_received = received_s
        self._joint_state_seq += 1

    def measured(self) -> np.ndarray | None:
        """Return the latest measured positions in command order; None if unusable."""
        if self._joint_state is None or self.core is None:
            return None
        try:
            return positions_by_name(*self._joint_state, self.core.joint_names)
        except JointStateError:
            return None

    def offer_message(self, msg: Any, now: float) -> tuple[Submission, str]:
        """Convert a JointTrajectory-shaped `msg` and offer it; return (result, log line)."""
        try:
            chunk = chunk_from_trajectory(msg, self.joint_names, now, self.cfg.max_future_stamp_s)
        except MalformedChunk as exc:
            self.malformed[exc.kind] = self.malformed.get(exc.kind, 0) + 1
            return Submission(False, str(exc)), f'chunk rejected: {exc}'
        return self.offer(chunk, now)

    def offer(self, chunk: ActionChunk, now: float) -> tuple[Submission, str]:
        """Offer a chunk received at `now`; return (result, log line or '')."""
        note = ''
        if self.core is None:
            self._set_core(ChunkExecutor.from_config(self.cfg, chunk.joint_names))
            note = f'command order from the first chunk: {list(chunk.joint_names)}'
        result = self.core.submit(chunk, now)
        if not result.accepted:
            note = f'chunk rejected: {result.reason}'
        return result, note

    # ---- output ------------------------------------------------------------------------------
    def tick(self, now: float) -> Command | None:
        """Return the command for `now`, or None while there is nothing to command."""
        if self.core is None:
            return None
        # The measured state is needed only to start from; reading it costs a name lookup.
        measured = self.measured() if self.core.state == 'waiting' else None
        command = self.core.tick(now, measured)
        if command is not None:
            self.last_command = (now, command)
            self.follow.record(now, command.positions)
            if self._joint_state_seq != self._checked_seq:
                self._check_follow(now)
        return command

    def _check_follow(self, now: float) -> None:
        self._checked_seq = self._joint_state_seq
        measured = self.measured()
        if measured is None:
            return
        if self.core.state == 'resuming':
            # The command moves to the measured state: its distance shrinks whoever follows.
            t, command = self.last_command
            self.follow.reset()
            self.follow.record(t, command.positions)
            return
        stamp, received = self._joint_state_stamp, self._joint_state_received
        # A stamp from another clock (or none) would compare with the wrong command.
        at = stamp if now - 1.0 <= stamp <= now else (
            received if math.isfinite(received) else now)
        before = self.follow.status.state
        status = self.follow.check(at, measured)
        if (status.state == 'not_following' and before != 'not_following'
                and self.cfg.pause_on_follow_error
                and self.core.state not in ('pausing', 'paused')):
            self.core.pause(now)
            self.follow_pauses += 1

    @property
    def follow_state(self) -> str:
        """Return ok, lagging or not_following (`vla_ros.control.follow.FOLLOW_STATES`)."""
        return 'ok' if self.follow is None else self.follow.status.state

    def follow_report(self) -> tuple[str, str]:
        """Return (follow state, log line naming the joints off; '' when following)."""
        if self.follow is None:
            return 'ok', ''
        message = self.follow.describe()
        if message and self.follow_pauses and self.core.state in ('pausing', 'paused'):
            message += ' Paused (pause_on_follow_error); ~/resume continues.'
        return self.follow.status.state, message

    def window(self) -> CommandWindow | None:
        """Return the look-ahead window from the last command (joint_trajectory_window)."""
        if self.last_command is None:
            return None
        t, command = self.last_command
        return self._windows.build(self.core, t, command.positions, command.velocities)

    def waiting_for_joint_states(self) -> bool:
        """Tell whether a chunk waits for a usable joint state to start from."""
        return self.core is not None and self.core.state == 'waiting' and (
            self.measured() is None)

    def horizon(self, now: float) -> tuple[float, float]:
        """Return (remaining seconds of the newest chunk, its stamp or NaN)."""
        data = self.state_vector(now)
        return (data[STATE_FIELDS.index('remaining_s')],
                data[STATE_FIELDS.index('newest_chunk_t0')])

    def plan(self, now: float) -> ActionChunk | None:
        """
        Return what the executor will command from `now` on if no chunk arrives (``~/plan``).

        Sampled every ``plan_dt_s`` over ``plan_horizon_s``, and only while a chunk is being
        tracked, up to its end: what follows is a hold, not a plan a new chunk should continue
        (real-time chunking, like LeRobot's, continues only what is left of the previous chunk).
        None when no chunk is tracked or ``plan_horizon_s`` is 0.
        """
        if self.core is None or self.cfg.plan_horizon_s <= 0:
            return None
        span = min(self.cfg.plan_horizon_s, self.core.plan_end_time() - now)
        if span <= 0:
            return None
        steps = max(2, int(math.ceil(span / self.cfg.plan_dt_s - 1e-9)) + 1)
        positions = self.core.planned_positions(now + self.cfg.plan_dt_s * np.arange(steps))
        if positions is None:
            return None
        return ActionChunk(self.core.joint_names, now, self.cfg.plan_dt_s, positions)

    def state_vector(self, now: float) -> list[float]:
        """Return the executor state in `STATE_FIELDS` order (the node's ``~/state``)."""
        if self.core is not None:
            return self.core.state_vector(now, self.follow.status.code)
        # No joint order yet: say "nothing queued" so a horizon-triggered policy sends the
        # first chunk; staying silent here would leave both sides waiting for each other.
        data = dict.fromkeys(STATE_FIELDS, 0.0)
        data.update(state_code=float(STATES.index('waiting')),
                    rejected_count=float(sum(self.malformed.values())),
                    last_latency_s=math.nan, newest_chunk_t0=math.nan)
        return list(data.values())

    def diagnostics(self) -> tuple[str, str, dict[str, Any]]:
        """Return (level 'ok' or 'warn', message, values) for /diagnostics."""
        values = self.core.stats() if self.core is not None else {'state': 'waiting'}
        values.update({f'malformed_{k.replace(" ", "_")}': n
                       for k, n in self.malformed.items()})
        values['resyncs'] = self.resyncs
        state = values['state']
        follow, message = self.follow_report()
        values['follow'] = follow
        if self.follow is not None:
            errors = self.follow.status.errors
            values['follow_max_error'] = float(np.max(errors)) if len(errors) else math.nan
            values['follow_errors'] = self.follow.episodes
            values['follow_pauses'] = self.follow_pauses
        if follow == 'not_following':
            return 'error', f'{state}; {message}', values
        return ('ok' if state in ('tracking', 'waiting') else 'warn'), state, values

    # ---- control -----------------------------------------------------------------------------
    def pause(self, now: float) -> tuple[bool, str]:
        """Stop within limits and hold until `resume`; chunks observed before now are refused."""
        if self.core is None:
            return False, 'no joint order yet: nothing to pause'
        self.core.pause(now)
        return True, 'stopping; chunks ignored until resume'

    def resume(self) -> tuple[bool, str]:
        """Leave a pause: move to the measured state within the limits, then hold it."""
        if self.core is None or not self.core.resume(self.measured()):
            return False, 'not paused'
        self.follow.reset()     # the command now moves to where the arm is
        return True, 'resuming: to the measured state within limits, then holding; the next ' \
                     'fresh chunk moves the arm'

    def resync(self, now: float) -> tuple[bool, str]:
        """
        Start over from the measured state, dropping every plan: for a world that was reset.

        Only for a simulation reset or a robot moved by other means while nothing was
        commanded: the command then jumps to where the robot is, which `pause`/`resume` never
        do. Chunks observed before the joint state it starts from (its stamp; `now` if it has
        none) are refused, as after a pause: they were planned in the old world.
        """
        measured = self.measured()
        if self.core is None or measured is None:
            return False, 'no joint order or no usable joint state yet'
        self._set_core(ChunkExecutor.from_config(self.cfg, self.core.joint_names))
        stamp = self._joint_state_stamp
        self.core.pause(stamp if math.isfinite(stamp) and stamp <= now else now)
        self.core.resume(measured)
        self.resyncs += 1
        return True, 'holding the measured state; older chunks are refused'

    def apply(self, cfg) -> None:
        """Take a validated new `ExecutorConfig` (same joint names) without losing state."""
        if self.core is not None:
            follow = self.follow
            if any(getattr(cfg, name) != getattr(self.cfg, name) for name in (
                    'follow_tolerance', 'follow_timeout_s', 'follow_delay_s')):
                follow = self._follow_monitor(cfg, self.core.joint_names)
            self.core.reconfigure(cfg)      # both raise before anything changed
            self.follow = follow
        if (cfg.window_s, cfg.window_rate_hz) != (self.cfg.window_s, self.cfg.window_rate_hz):
            self._windows = WindowBuilder(cfg.window_s, 1.0 / cfg.window_rate_hz)
        self.cfg = cfg

    def _set_core(self, core: ChunkExecutor) -> None:
        self.core, self.last_command = core, None
        self.follow = self._follow_monitor(self.cfg, core.joint_names)

    @staticmethod
    def _follow_monitor(cfg, joint_names) -> FollowMonitor:
        try:
            return FollowMonitor(joint_names, cfg.follow_tolerance, cfg.follow_timeout_s,
                                 cfg.follow_delay_s)
        except ValueError as exc:
            raise ConfigError(f'{cfg.SECTION}.{exc}') from None
