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
When the policy node starts an inference: horizon, fixed rate or on request.

``horizon`` is asynchronous inference (LeRobot's ``chunk_size_threshold``): the executor keeps
running the current chunk while the next one is computed, and the node starts that computation
when the executor reports less than ``trigger_horizon_s`` of chunk left. LeRobot's async client
also drops an observation whose joint state is close to the previous one; with a still arm
every observation looks alike, so it waits until the queue runs empty and async silently turns
synchronous (huggingface/lerobot#1557). There is no such filter here: the horizon alone decides.

One inference is in flight at a time: each ``on_*`` method that returns True has claimed the slot
(atomically, the executor state and the timer arrive on different threads) and the node must call
`finish` when the inference is over. After a chunk is published the executor's next reports may
still describe the old chunk, so the horizon trigger re-arms only once a report shows that the
executor took it (its newest chunk is stamped at or after ours, or the horizon is above the
threshold again) or ``rearm_s`` has passed since the publish (the chunk was rejected).
"""

from __future__ import annotations

import threading

MODES = ('horizon', 'rate', 'service')


class InferenceTrigger:
    """Decide whether an inference may start now; a True answer claims the one slot."""

    def __init__(self, mode: str, trigger_horizon_s: float, rearm_s: float = 0.5):
        if mode not in MODES:
            raise ValueError(f'trigger={mode!r}: must be one of ' + ', '.join(MODES))
        self.mode = mode
        self.trigger_horizon_s = trigger_horizon_s
        self.rearm_s = rearm_s
        self.busy = False
        self._published_at: float | None = None   # when the last chunk went out [s]
        self._published_t0 = float('-inf')        # its observation stamp [s]
        self._lock = threading.Lock()

    def on_horizon(self, remaining_s: float, now_s: float,
                   newest_t0: float = float('nan')) -> bool:
        """
        Claim the slot if the executor's `remaining_s` calls for an inference now.

        `newest_t0` is the stamp of the newest chunk the executor holds (NaN: unknown).
        """
        with self._lock:
            if self.mode != 'horizon' or self.busy:
                return False
            if self._published_at is not None:
                if (newest_t0 >= self._published_t0
                        or remaining_s >= self.trigger_horizon_s
                        or now_s - self._published_at >= self.rearm_s):
                    self._published_at = None
                else:
                    return False
            return self._claim(remaining_s < self.trigger_horizon_s)

    def on_tick(self) -> bool:
        """Claim the slot for the fixed-rate timer (only in rate mode)."""
        with self._lock:
            return self._claim(self.mode == 'rate' and not self.busy)

    def on_request(self) -> bool:
        """Claim the slot for a service request (any mode)."""
        with self._lock:
            return self._claim(not self.busy)

    def finish(self, published: bool, now_s: float, t0: float = float('-inf')) -> None:
        """Release the slot; `published` says whether a chunk (stamped `t0`) went out."""
        with self._lock:
            self.busy = False
            if published:
                self._published_at = now_s
                self._published_t0 = t0

    def reset(self) -> None:
        """Forget the last publish (the world was reset); an inference in flight stays claimed."""
        with self._lock:
            self._published_at = None
            self._published_t0 = float('-inf')

    def _claim(self, ok: bool) -> bool:
        if ok:
            self.busy = True
        return ok
