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
Does anybody follow? The executor runtime against simulated controllers, without ROS.

A 100 Hz controller takes the newest command at each update and reports it (as a mock
ros2_control system does) one update later; a rejecting one never moves. Also the
joint_trajectory_window look-ahead: limits, at-rest end, stop path, and a JTC-like sampler.
"""

import copy
import math

import numpy as np
import pytest

from vla_ros.config import ConfigError, ExecutorConfig
from vla_ros.control.action_chunk import ActionChunk
from vla_ros.control.command_window import WindowBuilder
from vla_ros.control.executor import ChunkExecutor, STATE_FIELDS
from vla_ros.control.follow import FOLLOW_STATES, FollowMonitor
from vla_ros.runtime.execution import ExecutorRunner

JOINTS = ('a', 'b', 'c')
RATE, CONTROLLER_HZ = 500.0, 100.0
START = np.array([0.1, -0.2, 0.0])


def wave(t):
    """Return the trajectory the chunks sample: from rest at START, in 1 rad/s, 4 rad/s^2."""
    t = np.maximum(np.asarray(t, dtype=np.float64)[..., None], 0.0)
    return START + np.array([0.3, -0.2, 0.25]) * (1.0 - np.cos(np.pi * t))


def chunk_at(now, latency=0.1, steps=50, dt=0.02):
    t0 = now - latency
    return ActionChunk(JOINTS, t0, dt, wave(t0 + dt * np.arange(steps)))


class MockController:
    """Takes the newest command at each update; the state shows it one update later."""

    def __init__(self, follows=True, lag_updates=1):
        self.follows, self.lag = follows, lag_updates
        self.applied = [START.copy()] * (lag_updates + 1)
        self.latest = None

    def command(self, positions):
        self.latest = np.array(positions)

    def update(self):
        if self.follows and self.latest is not None:
            self.applied.append(self.latest)
        else:
            self.applied.append(self.applied[-1])
        return self.applied[-1 - self.lag]


def run(runner, controller, seconds, t_start=0.0, chunk_every=0.3, on_tick=None):
    """Drive `runner` at RATE and `controller` at CONTROLLER_HZ; return per-tick records."""
    records, next_chunk, next_update = [], t_start, t_start
    runner.set_joint_state(JOINTS, START, t_start, t_start)
    for k in range(int(seconds * RATE)):
        now = t_start + k / RATE
        if chunk_every and now >= next_chunk - 1e-9:
            runner.offer(chunk_at(now), now)
            next_chunk += chunk_every
        if now >= next_update - 1e-9:
            state = controller.update()
            runner.set_joint_state(JOINTS, state, now, now + 0.0005)
            next_update += 1.0 / CONTROLLER_HZ
        cmd = runner.tick(now)
        if cmd is not None:
            controller.command(cmd.positions)
        records.append((now, runner.follow_report()[0], runner.state))
        if on_tick is not None:
            on_tick(now)
    return records


def follow_code(runner, now):
    return runner.state_vector(now)[STATE_FIELDS.index('follow_error')]


def config(**kw):
    base = {'joint_names': JOINTS, 'control_rate_hz': RATE, 'follow_tolerance': (0.05,),
            'follow_timeout_s': 0.25, 'follow_delay_s': 0.01}
    base.update(kw)
    return ExecutorConfig(**base)


def test_state_vector_gains_follow_error_at_the_end():
    assert STATE_FIELDS[-1] == 'follow_error' and len(STATE_FIELDS) == 9
    assert STATE_FIELDS[:8] == ('remaining_s', 'remaining_steps', 'state_code', 'clamp_count',
                                'accepted_count', 'rejected_count', 'last_latency_s',
                                'newest_chunk_t0')
    assert ExecutorRunner(ExecutorConfig()).state_vector(0.0)[-1] == 0.0   # no joints yet


def test_a_following_controller_stays_ok():
    runner = ExecutorRunner(config())
    records = run(runner, MockController(), 3.0)
    assert {r[1] for r in records} == {'ok'}
    assert follow_code(runner, records[-1][0]) == 0.0
    level, _, values = runner.diagnostics()
    assert level == 'ok' and values['follow'] == 'ok' and values['follow_errors'] == 0
    assert values['follow_max_error'] < 0.05


def test_a_rejecting_controller_is_reported_within_a_second():
    runner = ExecutorRunner(config())
    records = run(runner, MockController(follows=False), 1.5)
    bad = [t for t, follow, _ in records if follow == 'not_following']
    assert bad and bad[0] < 1.0, 'detected within a second'
    lagging = [t for t, follow, _ in records if follow == 'lagging']
    assert lagging and bad[0] - lagging[0] == pytest.approx(0.25, abs=0.011)
    now = records[-1][0]
    assert FOLLOW_STATES[int(follow_code(runner, now))] == 'not_following'
    level, message, values = runner.diagnostics()
    assert level == 'error' and values['follow'] == 'not_following'
    assert 'not following the commands' in message
    state, line = runner.follow_report()
    assert state == 'not_following' and 'a ' in line and 'follow_tolerance 0.05' in line
    assert runner.state == 'tracking', 'no pause unless pause_on_follow_error'


def test_pause_on_follow_error_pauses_and_resume_recovers():
    runner = ExecutorRunner(config(pause_on_follow_error=True))
    controller = MockController(follows=False)
    records = run(runner, controller, 1.5)
    first = next(t for t, follow, _ in records if follow == 'not_following')
    assert first < 1.0 and records[-1][2] == 'paused'
    assert 'Paused (pause_on_follow_error)' in runner.follow_report()[1]
    assert runner.diagnostics()[2]['follow_pauses'] == 1
    # Resumed: the command moves to the (unmoved) arm within the limits and holds there.
    assert runner.resume()[0]
    records = run(runner, controller, 1.0, t_start=1.5, chunk_every=None)
    assert records[-1][1] == 'ok' and records[-1][2] == 'holding'
    assert np.allclose(runner.last_command[1].positions, START)


def test_a_controller_that_stops_following_midway():
    runner = ExecutorRunner(config())
    controller = MockController()
    records = run(runner, controller, 1.0)
    assert {r[1] for r in records} == {'ok'}
    controller.follows = False          # deactivated while the arm moves
    records = run(runner, controller, 1.0, t_start=1.0)
    bad = [t for t, follow, _ in records if follow == 'not_following']
    assert bad and bad[0] < 1.8


def test_lag_of_two_updates_within_tolerance_is_not_an_error():
    runner = ExecutorRunner(config(follow_tolerance=(0.05,)))
    records = run(runner, MockController(lag_updates=2), 3.0)
    assert 'not_following' not in {r[1] for r in records}


def test_monitor_rules():
    mon = FollowMonitor(JOINTS, [0.1, 0.1, 0.5], timeout_s=0.2, delay_s=0.01)
    assert mon.check(0.0, [0, 0, 0]).state == 'ok', 'no command yet: nothing to compare'
    for k in range(100):
        mon.record(k * 0.01, [0.0, 0.0, 0.0])
    assert mon.check(0.5, [0.05, 0.0, 0.4]).state == 'ok', 'per-joint tolerance'
    assert mon.check(0.6, [0.0, 0.2, 0.0]).state == 'lagging'
    assert mon.check(0.79, [0.0, 0.2, 0.0]).state == 'lagging'
    status = mon.check(0.8, [0.0, 0.2, 0.0])
    assert status.state == 'not_following' and status.code == 2.0 and mon.episodes == 1
    assert 'b 0.2' in mon.describe() and 'a ' not in mon.describe()
    assert mon.check(0.85, [0.0, math.nan, 0.0]).state == 'not_following', 'NaN is off'
    assert mon.check(0.9, [0.0, 0.0, 0.0]).state == 'ok' and mon.describe() == ''
    # The command in force at t - delay is the last one sent at or before it.
    mon.record(1.0, [1.0, 1.0, 1.0])
    assert mon.commanded_at(1.005) == [1.0, 1.0, 1.0]
    assert mon.commanded_at(0.999) == [0.0, 0.0, 0.0]
    mon.record(0.5, [2.0, 2.0, 2.0])     # time went back: the old commands are dropped
    assert mon.commanded_at(0.4) is None and mon.commanded_at(0.9) == [2.0, 2.0, 2.0]
    with pytest.raises(ValueError, match='one per joint'):
        FollowMonitor(JOINTS, [0.1, 0.2], 0.2, 0.01)
    with pytest.raises(ConfigError, match='follow_tolerance'):
        ExecutorConfig(follow_tolerance=(0.0,))
    with pytest.raises(ConfigError, match='one per joint'):
        ExecutorConfig(joint_names=JOINTS, follow_tolerance=(0.1, 0.2))


# ---- joint_trajectory_window -------------------------------------------------------------

def tracking_executor(v_max=1.0, a_max=4.0):
    ex = ChunkExecutor.from_config(config(max_velocity=(v_max,), max_acceleration=(a_max,)))
    ex.submit(chunk_at(0.0), 0.0)
    ex.tick(0.0, START)
    cmd = None
    for k in range(1, 200):
        cmd = ex.tick(k / RATE)
    return ex, cmd, 199 / RATE


def test_window_starts_at_the_command_follows_the_plan_and_ends_at_rest():
    ex, cmd, now = tracking_executor()
    builder = WindowBuilder(0.2, 0.02)
    win = builder.build(ex, now, cmd.positions, cmd.velocities)
    assert win.t0 == now and win.dt == 0.02 and win.positions.shape == (11, 3)
    assert (win.positions[0] == cmd.positions).all()
    assert (win.velocities[-1] == 0).all() and (win.velocities[0] == cmd.velocities).all()
    plan = ex.planned_positions(now + 0.02 * np.arange(11))
    assert np.abs(win.positions - plan).max() < 1e-3, 'within limits: the plan itself'
    # Interior velocities are the slope of the window (what a spline through it needs).
    slope = (plan[2:] - plan[:-2]) / 0.04
    assert np.abs(win.velocities[1:-1] - slope).max() < 0.05
    # What the executor then commands, if no chunk arrives.
    future = copy.deepcopy(ex)
    ticks = [future.tick(now + k / RATE).positions for k in range(1, 101)]
    assert np.abs(win.positions[1:] - np.array(ticks[9::10])).max() < 1e-3


def test_window_of_a_far_chunk_stays_within_the_limits():
    ex, cmd, now = tracking_executor()
    far = ActionChunk(JOINTS, now - 0.05, 0.02, np.full((50, 3), 2.0))
    assert ex.submit(far, now).accepted
    builder = WindowBuilder(0.2, 0.02)
    win = builder.build(ex, now, cmd.positions, cmd.velocities)
    step = np.abs(np.diff(win.positions, axis=0))
    assert step.max() <= 1.0 * 0.02 + 1e-9, 'v_max dt per segment'
    v = np.diff(win.positions, axis=0) / 0.02
    v = np.vstack([cmd.velocities, v])
    assert np.abs(np.diff(v, axis=0)).max() <= 4.0 * 0.02 + 1e-9, 'a_max dt per segment'


def test_window_while_pausing_follows_the_stop_not_a_hold():
    ex, cmd, now = tracking_executor()
    ex.pause(now)
    cmd = ex.tick(now + 1 / RATE)
    assert ex.state == 'pausing'
    win = WindowBuilder(0.3, 0.02).build(ex, now + 1 / RATE, cmd.positions, cmd.velocities)
    moving = np.abs(cmd.velocities) > 0.1
    assert moving.any()
    # The stop keeps going the way it went, slowing down, then rests.
    travel = (win.positions[-1] - win.positions[0])[moving]
    assert (np.sign(travel) == np.sign(cmd.velocities[moving])).all()
    speeds = np.abs(np.diff(win.positions, axis=0))[:, moving]
    assert (np.diff(speeds, axis=0) <= 1e-9).all()
    # And it is what the executor then commands, to a tick's rounding.
    t, commands = now + 1 / RATE, {}
    for k in range(1, 151):
        commands[k] = ex.tick(t + k / RATE).positions
    assert np.abs(win.positions[5] - commands[50]).max() < 2e-3


def test_a_jtc_sampling_windows_reproduces_the_commands_without_aliasing():
    """Sample the newest window at 100 Hz (cubic Hermite, as a JTC): no repeated samples."""
    runner = ExecutorRunner(config(command_interface='joint_trajectory_window'))
    windows, commands = [], {}

    def on_tick(now):
        commands[round(now * RATE)] = runner.last_command[1].positions
        if round(now * RATE) % 10 == 0:        # window_rate_hz 50
            windows.append(runner.window())

    run(runner, MockController(), 2.0, on_tick=on_tick)
    sampled, errors = [], []
    for k in range(int(0.3 * CONTROLLER_HZ), int(1.9 * CONTROLLER_HZ)):
        t = k / CONTROLLER_HZ + 0.0037          # any phase
        win = [w for w in windows if w.t0 <= t - 0.001][-1]     # received 1 ms later
        i = int((t - win.t0) // win.dt)
        s = (t - win.t0 - i * win.dt) / win.dt
        p0, p1 = win.positions[i], win.positions[i + 1]
        m0, m1 = win.velocities[i] * win.dt, win.velocities[i + 1] * win.dt
        h = (2 * s**3 - 3 * s**2 + 1) * p0 + (s**3 - 2 * s**2 + s) * m0 + (
            -2 * s**3 + 3 * s**2) * p1 + (s**3 - s**2) * m1
        sampled.append(h)
        errors.append(np.abs(h - wave(t)).max())
    steps = np.abs(np.diff(np.array(sampled), axis=0)).max(axis=1)
    assert steps.min() > 0, 'no repeated sample while moving'
    assert max(errors) < 5e-3, 'the trajectory itself, at the controller times'


def test_apply_changes_the_follow_rules_or_nothing():
    runner = ExecutorRunner(config())
    run(runner, MockController(), 0.5)
    runner.apply(config(follow_tolerance=(0.2, 0.2, 0.3), follow_timeout_s=0.5))
    assert runner.follow.tolerance.tolist() == [0.2, 0.2, 0.3]
    assert runner.follow.timeout_s == 0.5
    # Without joint names in the config, a wrong length is found by the monitor: refused
    # before the core changed.
    loose = ExecutorRunner(config(joint_names=()))
    loose.offer(chunk_at(0.0), 0.0)
    with pytest.raises(ConfigError, match='one per joint'):
        loose.apply(config(joint_names=(), follow_tolerance=(0.1, 0.2), blend_mode='replace'))
    assert loose.core.blend_mode == 'crossfade' and loose.cfg.follow_tolerance == (0.05,)
