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

"""The policy node's pure parts: trigger logic, statistics, chunk -> JointTrajectory fields."""

from types import SimpleNamespace

import numpy as np
import pytest

from vla_ros.control.action_chunk import ActionChunk, ChunkError
from vla_ros.messages.stamps import split_seconds as split_stamp
from vla_ros.messages.trajectory import fill_joint_trajectory, robot_order
from vla_ros.runtime.stats import InferenceStats
from vla_ros.runtime.trigger import InferenceTrigger


# ---- trigger ---------------------------------------------------------------------------------

def test_horizon_trigger_fires_below_threshold_once_in_flight():
    trig = InferenceTrigger('horizon', 0.5)
    assert not trig.on_horizon(0.6, 0.0)
    assert trig.on_horizon(0.4, 0.0)
    assert not trig.on_horizon(0.3, 0.01), 'one inference in flight at a time'
    assert not trig.on_tick() and not trig.on_request()
    trig.finish(published=False, now_s=0.2)
    assert trig.on_horizon(0.3, 0.21), 'a failed inference retries on the next report'


def test_horizon_trigger_waits_for_the_executor_to_take_the_chunk():
    trig = InferenceTrigger('horizon', 0.5, rearm_s=0.5)
    assert trig.on_horizon(0.0, 0.0)
    trig.finish(published=True, now_s=1.0)
    # Reports that still describe the old chunk must not start a second inference.
    assert not trig.on_horizon(0.1, 1.05)
    # The executor took the chunk: the horizon rose, then fell below the threshold again.
    assert not trig.on_horizon(0.9, 1.1)
    assert trig.on_horizon(0.45, 1.5)


def test_horizon_trigger_rearms_when_the_executor_reports_our_chunk():
    trig = InferenceTrigger('horizon', 0.5, rearm_s=5.0)
    assert trig.on_horizon(0.0, 0.0)
    trig.finish(published=True, now_s=1.0, t0=0.9)
    assert not trig.on_horizon(0.1, 1.02, newest_t0=0.4), 'still the old chunk'
    assert trig.on_horizon(0.1, 1.04, newest_t0=0.9), 'taken, and already short'


def test_horizon_trigger_rearms_after_a_timeout():
    # A chunk that is already short on arrival never lifts the horizon above the threshold.
    trig = InferenceTrigger('horizon', 0.5, rearm_s=0.5)
    assert trig.on_horizon(0.0, 0.0)
    trig.finish(published=True, now_s=1.0)
    assert not trig.on_horizon(0.2, 1.4)
    assert trig.on_horizon(0.2, 1.5)


def test_no_similarity_filter_with_a_still_arm():
    # LeRobot #1557: identical observations must not stall async inference.
    trig = InferenceTrigger('horizon', 0.5, rearm_s=0.2)
    fired = 0
    for i in range(100):
        now = 0.05 * i
        if trig.on_horizon(0.3, now):
            fired += 1
            trig.finish(published=True, now_s=now)
    assert fired >= 10


def test_rate_and_service_modes():
    rate = InferenceTrigger('rate', 0.5)
    assert not rate.on_horizon(0.0, 0.0)
    assert rate.on_tick()
    assert not rate.on_tick()
    rate.finish(True, 0.0)
    assert rate.on_tick()
    service = InferenceTrigger('service', 0.5)
    assert not service.on_tick() and not service.on_horizon(0.0, 0.0)
    assert service.on_request()
    assert not service.on_request()
    with pytest.raises(ValueError, match="trigger='often'"):
        InferenceTrigger('often', 0.5)


# ---- statistics ------------------------------------------------------------------------------

def test_stats_percentiles_rates_and_drops():
    stats = InferenceStats(window=100, rate_window_s=10.0)
    assert stats.values(0.0)['latency_p50_ms'] == 'nan'
    for i in range(100):
        stats.record_chunk(latency_s=(i + 1) / 1000, obs_age_s=0.02, now_s=i * 0.1)
    stats.record_drop('stale')
    stats.record_drop('stale')
    stats.record_error('RuntimeError: CUDA out of memory')
    v = stats.values(9.9)
    assert float(v['latency_p50_ms']) == pytest.approx(50.5)
    assert float(v['latency_p95_ms']) == pytest.approx(95.05, abs=0.06)
    assert v['chunks_per_s'] == '10.00'
    assert v['dropped_stale'] == '2' and v['dropped_skew'] == '0'
    assert v['model_errors'] == '1' and 'out of memory' in v['last_error']
    assert float(stats.values(30.0)['chunks_per_s']) == 0.0
    line = stats.summary(30.0)
    assert 'stale=2' in line and 'errors 1' in line and '\n' not in line


# ---- chunk -> message ------------------------------------------------------------------------

def model_chunk(positions, t0=12.25, dt=0.1):
    return ActionChunk(('m0', 'm1'), t0, dt, np.asarray(positions, float))


def test_robot_order_follows_joint_states_and_keeps_unlisted_joints():
    chunk = model_chunk([[1.0, 2.0], [3.0, 4.0]])
    out = robot_order(chunk, ('x', 'm1', 'y', 'm0'))
    assert out.joint_names == ('m1', 'm0')
    np.testing.assert_allclose(out.positions, [[2, 1], [4, 3]])
    assert out.t0 == 12.25 and out.dt == 0.1
    assert robot_order(chunk, ('m1',)).joint_names == ('m1', 'm0')


def test_nan_output_is_a_chunk_error():
    with pytest.raises(ChunkError, match='NaN'):
        model_chunk([[np.nan, 0.0]])


def test_split_stamp():
    assert split_stamp(12.25) == (12, 250_000_000)
    assert split_stamp(0.3) == (0, 300_000_000)
    assert split_stamp(-0.25) == (-1, 750_000_000)
    assert split_stamp(1.9999999999) == (2, 0)


def plain_trajectory():
    return SimpleNamespace(header=SimpleNamespace(stamp=SimpleNamespace(sec=0, nanosec=0),
                                                  frame_id=''),
                           joint_names=[], points=[])


def plain_point():
    return SimpleNamespace(positions=[], velocities=[],
                           time_from_start=SimpleNamespace(sec=0, nanosec=0))


def test_fill_joint_trajectory_step_zero_is_at_the_observation_time():
    chunk = model_chunk([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], t0=12.25, dt=0.1)
    msg = fill_joint_trajectory(plain_trajectory(), chunk, plain_point)
    assert (msg.header.stamp.sec, msg.header.stamp.nanosec) == (12, 250_000_000)
    assert msg.joint_names == ['m0', 'm1']
    assert [p.positions for p in msg.points] == [[1, 2], [3, 4], [5, 6]]
    assert [(p.time_from_start.sec, p.time_from_start.nanosec) for p in msg.points] == [
        (0, 0), (0, 100_000_000), (0, 200_000_000)]
    assert msg.points[0].velocities == []


def test_fill_joint_trajectory_copies_velocities():
    chunk = ActionChunk(('a',), 0.0, 0.5, np.array([[0.0], [1.0]]), np.array([[2.0], [2.0]]))
    msg = fill_joint_trajectory(plain_trajectory(), chunk, plain_point)
    assert [p.velocities for p in msg.points] == [[2.0], [2.0]]
    assert msg.points[1].time_from_start.nanosec == 500_000_000
