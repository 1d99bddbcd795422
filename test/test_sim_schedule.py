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

"""`vla_ros.sim.schedule.Periodic`: the sensor schedule sim_node and the in-process loop share."""

import pytest

from vla_ros.sim.schedule import Periodic


def fire_times(periodic, times):
    return [t for t in times if periodic.due(t)]


def test_fires_every_period_on_a_finer_clock():
    # A 100 Hz sensor on a 500 Hz clock: every fifth tick, starting at once.
    ticks = [k / 500 for k in range(26)]
    assert fire_times(Periodic(0.01), ticks) == pytest.approx([0.0, 0.01, 0.02, 0.03, 0.04,
                                                               0.05])


def test_float_sums_of_steps_are_not_late():
    # 0.1 s as ten sums of 0.01 s is 0.09999999999999999: still due at that tick.
    t, ticks = 0.0, []
    for _ in range(21):
        ticks.append(t)
        t += 0.01
    assert len(fire_times(Periodic(0.1), ticks)) == 3


def test_a_jump_fires_once_and_does_not_burst():
    periodic = Periodic(0.1)
    assert periodic.due(0.0)
    assert periodic.due(0.55)          # five due times passed: one call
    assert not periodic.due(0.58)
    assert periodic.next_s == pytest.approx(0.6)
    assert periodic.due(0.6)


def test_restart_moves_the_next_due_time():
    periodic = Periodic(0.1)
    assert periodic.due(0.0)
    periodic.restart(0.33)
    assert not periodic.due(0.2)
    assert periodic.due(0.33)
    assert periodic.next_s == pytest.approx(0.43)


def test_period_must_be_positive():
    with pytest.raises(ValueError, match='period_s=0'):
        Periodic(0.0)
