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

"""When a periodic sensor of the simulated arm is due, on a clock that only moves forward."""

from __future__ import annotations

import math

# Times within this of a due time count as due: sim times are sums of float steps.
_EPS_S = 1e-9


class Periodic:
    """
    Due times ``t0, t0 + T, t0 + 2T, ...`` of something published every `period_s`.

    `due` is asked with the clock's current time; a due time that was skipped (the clock
    jumped over several) fires once, then the next due time lies ahead of the clock again, as a
    timer that does not catch up in a burst. The in-process loop (`evaluation.rollout`) and
    sim_node on sim time use it for joint states and camera frames, so both publish at the same
    instants.
    """

    def __init__(self, period_s: float, start_s: float = 0.0):
        """Fire first at `start_s`, then every `period_s` (> 0)."""
        if not period_s > 0:
            raise ValueError(f'period_s={period_s}: must be > 0')
        self.period_s = period_s
        self.next_s = start_s

    def due(self, now_s: float) -> bool:
        """Tell whether a due time has come by `now_s`; if so, move to the next one ahead."""
        if now_s < self.next_s - _EPS_S:
            return False
        missed = math.ceil((now_s - self.next_s) / self.period_s + _EPS_S)
        self.next_s += self.period_s * max(1, missed)
        return True

    def restart(self, start_s: float) -> None:
        """Fire next at `start_s` (an episode start publishes everything at once)."""
        self.next_s = start_s
