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
Does anybody follow the commands? The measured joint state against what was commanded.

A controller that is inactive, rejects the commands (a joint_trajectory_controller refusing a
trajectory whose last point moves) or listens on another topic leaves the arm where it is while
the executor streams on: nothing fails, the arm just does not move, and when the controller
comes back it jumps to the command. `FollowMonitor` notices: the joint state measured at `t`
is compared with the command in force at ``t - delay_s`` (the controller needs about one of
its periods to apply a command and report it); a joint off by more than its tolerance for
`timeout_s` means nobody follows. Numpy only, time passed in.
"""

from __future__ import annotations

from collections import deque
import math
from typing import NamedTuple

import numpy as np

from vla_ros.control.limits import per_joint

# Codes of the ``follow_error`` field of the executor state (``~/state``).
FOLLOW_STATES = ('ok', 'lagging', 'not_following')


class FollowStatus(NamedTuple):
    """The last comparison: state (one of `FOLLOW_STATES`), errors (J,) and since when."""

    state: str
    errors: np.ndarray      # |measured - command| per joint [rad or m]; NaN before a check
    since: float            # when the error first went beyond the tolerance; NaN if it is not
    checked_at: float       # time of the joint state compared [s]

    @property
    def code(self) -> float:
        """Return the state as the number ``~/state`` carries."""
        return float(FOLLOW_STATES.index(self.state))


class FollowMonitor:
    """Compares measured joint states with the commands sent ``delay_s`` before them."""

    def __init__(self, joint_names, tolerance, timeout_s: float, delay_s: float,
                 history_s: float = 2.0):
        """
        Watch `joint_names` (command order) with `tolerance` (one value or one per joint).

        Commands older than `history_s` before the newest are forgotten.
        """
        self.joint_names = tuple(joint_names)
        joints = len(self.joint_names)
        tol = per_joint('follow_tolerance', tolerance, joints)
        if not (timeout_s >= 0 and delay_s >= 0 and history_s > delay_s):
            raise ValueError(f'timeout_s={timeout_s}, delay_s={delay_s}, history_s='
                             f'{history_s}: need timeout_s >= 0, 0 <= delay_s < history_s')
        self.tolerance, self.timeout_s, self.delay_s = tol, float(timeout_s), float(delay_s)
        self.history_s = float(history_s)
        self.episodes = 0           # how often the state became not_following
        self._commands: deque[tuple[float, list[float]]] = deque()
        self.reset()

    def reset(self) -> None:
        """Forget the commands and the error (after a re-sync or a resume)."""
        self._commands.clear()
        self.status = FollowStatus('ok', np.full(len(self.joint_names), math.nan), math.nan,
                                   math.nan)

    def record(self, t: float, positions) -> None:
        """Note the command sent at `t` (positions in command order)."""
        commands = self._commands
        if commands and t < commands[-1][0]:
            commands.clear()        # time went back (a clock jump): the old ones mean nothing
        commands.append((t, list(positions)))
        while commands[0][0] < t - self.history_s:
            commands.popleft()

    def commanded_at(self, t: float) -> list[float] | None:
        """Return the command in force at `t` (the last one sent at or before it), or None."""
        for when, positions in reversed(self._commands):
            if when <= t:
                return positions
        return None

    def check(self, t: float, measured) -> FollowStatus:
        """
        Compare `measured` (J,) positions at time `t` with the command of ``t - delay_s``.

        Returns (and keeps in `status`) the new state: ``ok``, ``lagging`` (beyond the
        tolerance for less than `timeout_s`) or ``not_following``. Without a command that old
        (at start-up, after a reset) nothing changes.
        """
        command = self.commanded_at(t - self.delay_s)
        if command is None:
            return self.status
        errors = np.abs(np.asarray(measured, dtype=np.float64) - command)
        over = ~(errors <= self.tolerance)          # NaN counts as off
        since = self.status.since
        if not over.any():
            state, since = 'ok', math.nan
        else:
            if math.isnan(since):
                since = t
            state = 'not_following' if t - since >= self.timeout_s else 'lagging'
            if state == 'not_following' and self.status.state != 'not_following':
                self.episodes += 1
        self.status = FollowStatus(state, errors, since, t)
        return self.status

    def describe(self) -> str:
        """Say which joints are off by how much, for a log line ('' when following)."""
        status = self.status
        if status.state == 'ok':
            return ''
        off = [f'{name} {err:.3g}' for name, err, tol in
               zip(self.joint_names, status.errors, self.tolerance) if not err <= tol]
        verb = 'not following' if status.state == 'not_following' else 'lagging'
        return (f'{verb} the commands for {status.checked_at - status.since:.2f} s: '
                f'joint_states - command [rad or m]: {", ".join(off)} (follow_tolerance '
                f'{_short(self.tolerance)}, commands from {self.delay_s:g} s before); is the '
                'controller active and does it accept these commands?')


def _short(values: np.ndarray) -> str:
    return f'{values[0]:g}' if (values == values[0]).all() else str(values.tolist())
