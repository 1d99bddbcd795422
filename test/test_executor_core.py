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

"""Chunk executor core: interpolation, blending, limits, URDF, messages and the executor."""

import dataclasses
from types import SimpleNamespace as NS  # noqa: N814 - short, like a message type

import numpy as np
import pytest

from vla_ros.config import ConfigError, ExecutorConfig
from vla_ros.control.action_chunk import ActionChunk
from vla_ros.control.blending import new_chunk_weight
from vla_ros.control.executor import ChunkExecutor, CLOCK_JUMP_S, resolve_limits
from vla_ros.control.executor import STATE_FIELDS, STATES
from vla_ros.control.interpolation import PiecewisePolynomial
from vla_ros.control.limits import braking_speed, CommandLimiter, JointLimits
from vla_ros.control.urdf_limits import read_urdf_limits, UrdfError
from vla_ros.messages.joint_state import joint_state_positions
from vla_ros.messages.trajectory import chunk_from_trajectory
from vla_ros.messages.trajectory import MalformedChunk

RATE = 500.0
T = 1.0 / RATE
NAMES = ('a', 'b', 'c')
LIMITS = JointLimits.uniform(3, 2.0, 20.0, -3.0, 3.0)


def sine_chunk(t0, dt=0.02, horizon=25, names=NAMES, phase=0.0, amp=0.4):
    times = t0 + dt * np.arange(horizon)
    pos = amp * np.sin(2.0 * times[:, None] + np.arange(len(names)) + phase)
    return ActionChunk(names, t0, dt, pos)


def run(ex, t_from, t_to, measured=None):
    out = []
    for k in range(int(round((t_to - t_from) / T))):
        out.append(ex.tick(t_from + k * T, measured))
    return out


def stack(cmds):
    return np.array([c.positions for c in cmds]), np.array([c.velocities for c in cmds])


def assert_within(p, v, limits=LIMITS, p0=None, v0=None, tol=1e-9):
    """Every command obeys bounds, velocity and acceleration at the nominal period."""
    if p0 is not None:
        p = np.vstack((p0, p))
        v = np.vstack((v0, v))
    assert np.isfinite(p).all() and np.isfinite(v).all()
    assert (p >= limits.lower - tol).all() and (p <= limits.upper + tol).all()
    steps = np.diff(p, axis=0)
    assert (np.abs(steps) <= limits.max_velocity * T + tol).all()
    assert np.allclose(steps / T, v[1:], atol=1e-6)
    assert (np.abs(np.diff(v, axis=0)) <= limits.max_acceleration * T + 1e-6).all()


# ------------------------------------------------------------------ interpolation


@pytest.mark.parametrize('order', [1, 3, 5])
def test_interpolation_passes_through_knots(order):
    rng = np.random.default_rng(order)
    q = rng.normal(size=(6, 2))
    plan = PiecewisePolynomial.through(1.0, 0.013, 0.02, q, order, np.zeros(2))
    times = [1.0, 1.013] + [1.013 + 0.02 * k for k in range(1, 5)]
    for t, want in zip(times, q):
        assert np.allclose(plan.evaluate(t)[0], want)
        assert np.allclose(plan.positions_at(t), want)
    assert plan.end_time == pytest.approx(times[-1])


def test_cubic_is_c1_and_quintic_is_c2():
    rng = np.random.default_rng(0)
    q = rng.normal(size=(8, 2))
    h = 0.02
    powers = h ** np.arange(6)
    dv, da = np.arange(6) * np.r_[0, powers[:-1]], np.arange(6) * np.arange(-1, 5) * np.r_[
        0, 0, powers[:-2]]
    for order in (3, 5):
        c = PiecewisePolynomial.through(0.0, h, h, q, order, np.zeros(2)).coef
        # End of segment i against start of segment i + 1.
        assert np.allclose(powers @ c[:-1], c[1:, 0])
        assert np.allclose(np.einsum('k,skj->sj', dv, c[:-1]), c[1:, 1])
        if order == 5:
            assert np.allclose(np.einsum('k,skj->sj', da, c[:-1]), 2 * c[1:, 2])


def test_cubic_uses_chunk_velocities_and_reproduces_a_cubic():
    times = 0.02 * np.arange(6)
    pos, vel = (times**3)[:, None], (3 * times**2)[:, None]
    plan = PiecewisePolynomial.through(0.0, 0.02, 0.02, pos, 3, vel[0], velocities=vel)
    for t in np.linspace(0, 0.1, 23):
        assert plan.evaluate(t)[0, 0] == pytest.approx(t**3, abs=1e-12)
        assert plan.evaluate(t)[1, 0] == pytest.approx(3 * t**2, abs=1e-10)


def test_linear_interpolation_constant_velocity_between_knots():
    q = np.array([[0.0], [1.0], [3.0]])
    plan = PiecewisePolynomial.through(0.0, 1.0, 1.0, q, 1, np.zeros(1))
    assert plan.evaluate(0.5)[:, 0] == pytest.approx([0.5, 1.0])
    assert plan.evaluate(1.5)[:, 0] == pytest.approx([2.0, 2.0])


# ------------------------------------------------------------------ blending


def test_blend_weights():
    times = np.linspace(0, 1, 11)
    w, dw = new_chunk_weight('replace', times, 0.0, 1.0, 0.2, 0.3)
    assert (w == 1).all() and (dw == 0).all()
    w, _ = new_chunk_weight('weighted_average', times, 0.0, 0.5, 0.2, 0.3)
    assert w[times <= 0.5] == pytest.approx(0.7) and (w[times > 0.5] == 1).all()
    w, dw = new_chunk_weight('crossfade', times, 0.0, 1.0, 0.4, 0.3)
    assert w[0] == 0 and dw[0] == 0 and (w[times >= 0.4] == 1).all()
    assert (np.diff(w) >= 0).all()
    # The window ends with the old trajectory.
    w, _ = new_chunk_weight('crossfade', times, 0.0, 0.2, 0.4, 0.3)
    assert (w[times >= 0.2] == 1).all()


# ------------------------------------------------------------------ limits


def test_limiter_follows_feasible_target_exactly_and_counts_nothing():
    lim = CommandLimiter(LIMITS, T)
    p, v = lim.track(np.array([0.001, 0, 0]), np.zeros(3), np.zeros(3), np.array([0.5, 0, 0]))
    assert p.tolist() == [0.001, 0, 0] and lim.clamped_ticks == 0


def test_limiter_target_beyond_bound_is_followed_up_to_it():
    lim = CommandLimiter(JointLimits.uniform(1, 2.0, 20.0, -1.0, 1.0), T)
    p, v = np.zeros(1), np.zeros(1)
    ps, vs = [], []
    for _ in range(1500):
        p, v = lim.track(np.array([5.0]), np.zeros(1), p, v)
        ps.append(p[0])
        vs.append(v[0])
    assert max(ps) <= 1.0 and ps[-1] == pytest.approx(1.0, abs=1e-6) and abs(vs[-1]) < 1e-6
    assert (np.abs(np.diff(vs)) <= 20.0 * T + 1e-9).all()
    assert lim.counts['position'] > 0


# ------------------------------------------------------------------ URDF


URDF = """<robot name="r">
  <joint name="a" type="revolute"><limit lower="-1" upper="1" velocity="0.5" effort="1"/></joint>
  <joint name="b" type="continuous"><limit velocity="3" effort="1"/></joint>
  <joint name="c" type="prismatic"><limit lower="0" upper="0.1" velocity="0" effort="1"/></joint>
  <joint name="f" type="fixed"/>
</robot>"""


def test_urdf_limits_tighten_the_parameters(tmp_path):
    limits = read_urdf_limits(URDF)
    assert set(limits) == {'a', 'b', 'c'}
    assert limits['b']['lower'] == -np.inf and limits['c']['velocity'] == np.inf
    path = tmp_path / 'r.urdf'
    path.write_text(URDF)
    cfg = ExecutorConfig(max_velocity=(1.0,), max_acceleration=(5.0,), urdf_path=str(path),
                         position_lower=(-2.0, -2.0, -2.0), position_upper=(0.5, 2.0, 2.0))
    got = resolve_limits(cfg, ('a', 'b', 'c'))
    assert got.lower.tolist() == [-1.0, -2.0, 0.0]
    assert got.upper.tolist() == [0.5, 2.0, 0.1]
    assert got.max_velocity.tolist() == [0.5, 1.0, 1.0]


def test_urdf_errors_are_one_line(tmp_path):
    with pytest.raises(UrdfError, match='not valid XML'):
        read_urdf_limits('<robot>')
    cfg = ExecutorConfig(urdf_path=str(tmp_path / 'none.urdf'))
    with pytest.raises(ConfigError, match=r'^chunk_executor.urdf_path=.*cannot read'):
        resolve_limits(cfg, ('a',))
    path = tmp_path / 'r.urdf'
    path.write_text(URDF)
    with pytest.raises(ConfigError, match='no joint x in the URDF'):
        resolve_limits(ExecutorConfig(urdf_path=str(path)), ('a', 'x'))


def test_config_rules():
    with pytest.raises(ConfigError, match=r'^chunk_executor.max_velocity=\[\]: needs'):
        ExecutorConfig(max_velocity=())
    with pytest.raises(ConfigError, match='needs one value or one per joint'):
        resolve_limits(ExecutorConfig(max_velocity=(1.0, 2.0)), NAMES)
    ex = ChunkExecutor.from_config(ExecutorConfig(stop_deceleration=(9.0,)), NAMES)
    assert ex.stop_deceleration.tolist() == [9.0] * 3


# ------------------------------------------------------------------ messages


def msg(names=NAMES, stamp=(10, 0), rows=None, tfs=None, vel=None):
    rows = rows if rows is not None else [[0.1 * k] * len(names) for k in range(5)]
    tfs = tfs if tfs is not None else [0.02 * k for k in range(len(rows))]
    pts = [NS(positions=r, velocities=(vel[i] if vel else []),
              time_from_start=NS(sec=int(t), nanosec=int(round((t % 1) * 1e9))))
           for i, (r, t) in enumerate(zip(rows, tfs))]
    return NS(header=NS(stamp=NS(sec=stamp[0], nanosec=stamp[1])), joint_names=list(names),
              points=pts)


def test_trajectory_to_chunk():
    chunk = chunk_from_trajectory(msg(names=('c', 'a', 'b'), tfs=[0.1 + 0.02 * k
                                                                  for k in range(5)]), NAMES)
    assert chunk.joint_names == ('c', 'a', 'b')
    assert chunk.t0 == pytest.approx(10.1) and chunk.dt == pytest.approx(0.02)
    assert chunk.velocities is None
    with_v = chunk_from_trajectory(msg(vel=[[1.0] * 3] * 5))
    assert with_v.velocities.shape == (5, 3)


@pytest.mark.parametrize('kind, bad', [
    ('empty', msg(rows=[])),
    ('empty', msg(names=())),
    ('empty', msg(rows=[[0, 0, 0]])),
    ('unknown joints', msg(names=('a', 'b', 'x'))),
    ('unknown joints', msg(names=('a', 'a', 'b'))),
    ('wrong sizes', msg(rows=[[0, 0, 0], [0, 0]])),
    ('wrong sizes', msg(rows=[[0, 0, 0]] * 2, vel=[[0, 0, 0], [0]])),
    ('not finite', msg(rows=[[0, 0, 0], [0, float('nan'), 0]])),
    ('not finite', msg(rows=[[0, 0, 0], [0, float('inf'), 0]])),
    ('non-increasing time', msg(tfs=[0, 0.02, 0.02, 0.04, 0.06])),
    ('non-increasing time', msg(tfs=[0, 0.02, 0.01, 0.04, 0.06])),
    ('uneven time', msg(tfs=[0, 0.02, 0.04, 0.08, 0.10])),
    ('unstamped', msg(stamp=(0, 0))),
    ('future stamp', msg(stamp=(20, 0))),
])
def test_malformed_chunks_name_the_problem(kind, bad):
    with pytest.raises(MalformedChunk) as info:
        chunk_from_trajectory(bad, NAMES, now=10.0, max_future_s=0.5)
    assert info.value.kind == kind and str(info.value).startswith(kind)


def test_joint_state_positions_maps_names():
    js = NS(name=['x', 'c', 'b', 'a'], position=[9.0, 3.0, 2.0, 1.0])
    assert joint_state_positions(js, NAMES).tolist() == [1.0, 2.0, 3.0]
    assert joint_state_positions(NS(name=['a'], position=[1.0]), NAMES) is None


# ------------------------------------------------------------------ executor


def make(**kw):
    kw.setdefault('interpolation', 'cubic')
    return ChunkExecutor(NAMES, kw.pop('limits', LIMITS), RATE, **kw)


def started(mode='crossfade', **kw):
    """Return an executor on a sine (chunk until 0.58 s), started on it at t=0, run until t=0.4."""
    ex = make(blend_mode=mode, **kw)
    assert ex.submit(sine_chunk(0.0, horizon=30), 0.0).accepted
    first = sine_chunk(0.0).positions[0]
    run(ex, 0.0, 0.4, first)
    return ex


def test_waits_for_a_chunk_and_a_measured_state():
    ex = make()
    assert ex.tick(0.0, np.zeros(3)) is None and ex.state == 'waiting'
    ex.submit(sine_chunk(0.0), 0.0)
    assert ex.tick(0.002) is None            # no measured state yet
    cmd = ex.tick(0.004, np.zeros(3))
    assert cmd.state == 'tracking'


def test_startup_ramps_from_the_measured_state_within_limits():
    ex = make(max_chunk_age_s=5.0)
    ex.submit(sine_chunk(0.0, horizon=100), 0.0)
    measured = np.array([1.0, -1.0, 0.5])
    cmds = run(ex, 0.0, 1.5, measured)
    p, v = stack(cmds)
    assert_within(p, v, p0=measured, v0=np.zeros(3))
    # It catches up with the chunk and then follows it exactly.
    plan_end = sine_chunk(0.0, horizon=100)
    t = 1.2
    k = int(round(t / T))
    want = 0.4 * np.sin(2.0 * t + np.arange(3))
    assert np.allclose(p[k], want, atol=2e-3)
    assert plan_end.horizon == 100


@pytest.mark.parametrize('mode', ['replace', 'crossfade', 'weighted_average'])
@pytest.mark.parametrize('interp', ['linear', 'cubic', 'quintic'])
def test_each_blend_mode_and_order_stays_within_limits(mode, interp):
    ex = make(blend_mode=mode, interpolation=interp)
    ex.submit(sine_chunk(0.0), 0.0)
    p0 = sine_chunk(0.0).positions[0]
    cmds = run(ex, 0.0, 0.2, p0)
    # Chunks that disagree with each other arrive late, every 0.2 s.
    for i, t in enumerate(np.arange(0.2, 2.0, 0.2)):
        assert ex.submit(sine_chunk(t - 0.1, phase=0.3 * (-1) ** i), t).accepted
        cmds += run(ex, t, t + 0.2)
    p, v = stack(cmds)
    assert_within(p, v, p0=p0, v0=np.zeros(3))
    assert ex.holds == 0


def switch_steps(mode):
    """Largest position and velocity step per tick around a switch to a disagreeing chunk."""
    ex = started(mode, limits=JointLimits.uniform(3, 50.0, 1e4))
    cmds = [ex.tick(0.4)]
    ex.submit(sine_chunk(0.3, phase=0.5), 0.4)
    cmds += run(ex, 0.402, 0.45)
    p, v = stack(cmds)
    # Velocity: over the first ticks after the switch, where a step would show.
    return np.abs(np.diff(p, axis=0)).max(), np.abs(np.diff(v[:4], axis=0)).max(), ex


def test_crossfade_is_continuous_in_position_and_velocity_at_the_switch():
    dp, dv, ex = switch_steps('crossfade')
    assert dp < 0.005                           # ~ 2.5 rad/s x T: no position jump
    assert dv < 0.02                            # ~ 10 rad/s^2 x T: no velocity step
    assert ex.limiter.clamped_ticks == 0
    # Replace joins the new chunk within one chunk step: as steep as the limits allow.
    dp_replace, dv_replace, _ = switch_steps('replace')
    assert dp_replace <= 50.0 * T + 1e-12 and dv_replace > 5 * dv


def test_replace_follows_the_new_chunk_exactly():
    # What a Real-Time-Chunking policy relies on: with replace the executed trajectory is the
    # new chunk itself once joined, so the policy's frozen prefix is what the arm does.
    ex = started('replace')
    new = sine_chunk(0.3, dt=0.02, horizon=30)
    ex.submit(new, 0.4)
    cmds = run(ex, 0.402, 0.8)
    t = 0.6
    assert np.allclose(cmds[int(round((t - 0.402) / T))].positions,
                       0.4 * np.sin(2.0 * t + np.arange(3)), atol=1e-9)


def test_weighted_average_mixes_the_overlap():
    ex = started('weighted_average', old_chunk_weight=0.3,
                 limits=JointLimits.uniform(3, 50.0, 1e4))
    old_at = 0.4 * np.sin(2.0 * 0.5 + np.arange(3))
    ex.submit(sine_chunk(0.3, amp=0.44), 0.4)
    cmds = run(ex, 0.402, 0.7)
    got = cmds[int(round((0.5 - 0.402) / T))].positions     # a step of the new chunk
    assert np.allclose(got, 0.3 * old_at + 0.7 * 1.1 * old_at, atol=1e-9)


def test_late_chunk_skips_its_past_steps():
    ex = started()
    late = sine_chunk(0.1, horizon=30)         # observation 0.3 s old on arrival
    assert ex.submit(late, 0.4).accepted
    assert ex.last_latency_s == pytest.approx(0.3)
    horizon = ex.remaining_horizon(0.4)
    assert horizon.seconds == pytest.approx(late.end_time - 0.4)
    assert horizon.steps == 14                 # steps 16..29 are still ahead
    assert ex.tick(0.402).state == 'tracking'


def test_rejections_name_the_reason_and_are_counted():
    ex = started()
    cases = [
        (sine_chunk(0.5, names=('a', 'b', 'x')), 0.4, 'unknown'),
        (sine_chunk(1.5), 0.4, 'in the future'),
        (sine_chunk(-1.0, horizon=100), 0.4, 'old'),
        (sine_chunk(0.0), 0.4, 'not newer'),
        (sine_chunk(0.1, horizon=5), 0.45, 'late'),
    ]
    for chunk, now, why in cases:
        got = ex.submit(chunk, now)
        assert not got.accepted and why in got.reason
    assert sum(ex.rejected.values()) == len(cases)


def test_joint_reordering():
    ex = started('replace')
    new = sine_chunk(0.3, horizon=30)
    order = [2, 0, 1]
    shuffled = ActionChunk(tuple(NAMES[i] for i in order), new.t0, new.dt,
                           new.positions[:, order])
    assert ex.submit(shuffled, 0.4).accepted
    cmds = run(ex, 0.402, 0.7)
    assert np.allclose(cmds[-1].positions, 0.4 * np.sin(2.0 * (0.7 - T) + np.arange(3)))


def assert_monotone_stop(cmds):
    p, v = stack(cmds)
    speed = np.abs(v)
    assert (np.diff(speed, axis=0) <= 1e-12).all()           # no joint ever speeds up
    return p, v


def test_starvation_stops_monotonically_then_holds_and_resumes():
    ex = started()
    end = sine_chunk(0.0, horizon=30).end_time               # 0.58 s
    cmds = run(ex, 0.4, 1.0)
    tail = [c for c in cmds if c.state in ('stopping', 'holding')]
    assert tail and ex.state == 'holding' and ex.holds == 1
    p, v = assert_monotone_stop(tail)
    assert (v[-1] == 0).all() and (p[-1] == p[-2]).all()     # an exact hold
    # It did not drive back to the chunk's last point: it kept going, then stopped.
    last = sine_chunk(0.0, horizon=30).positions[-1]
    assert not np.allclose(p[-1], last, atol=1e-4)
    assert end < 1.0
    # A fresh chunk resumes smoothly.
    ex.submit(sine_chunk(0.9), 1.0)
    more = run(ex, 1.0, 1.3)
    q, w = stack(more)
    assert_within(q, w, p0=p[-1], v0=v[-1])
    assert more[-1].state == 'tracking'


def test_stale_chunk_stops_even_with_steps_left():
    ex = started(max_chunk_age_s=0.5)
    ex.submit(sine_chunk(0.35, horizon=100), 0.4)            # runs to 2.3 s, stale at 0.85 s
    cmds = run(ex, 0.4, 1.5)
    states = [c.state for c in cmds]
    first_stop = states.index('stopping')
    assert (0.4 + first_stop * T) == pytest.approx(0.852, abs=2 * T)
    assert_monotone_stop(cmds[first_stop - 1:])
    assert states[-1] == 'holding'


def test_pause_stops_at_stop_deceleration_ignores_chunks_and_resumes_at_measured():
    ex = started(stop_deceleration=[200.0])
    v_before = np.abs(ex.tick(0.4).velocities)
    ex.pause(0.4)
    cmds = run(ex, 0.402, 0.5)
    assert cmds[0].state == 'pausing' and cmds[-1].state == 'paused'
    p, v = assert_monotone_stop(cmds)
    assert (np.abs(v[0]) < v_before).any()                   # slowing from the first tick
    ticks = next(i for i, c in enumerate(cmds) if c.state == 'paused')
    assert ticks <= np.ceil(v_before.max() / (200.0 * T)) + 1
    assert ex.submit(sine_chunk(0.45), 0.5).reason.startswith('paused')
    held = cmds[-1].positions
    assert (ex.tick(0.6).positions == held).all()
    measured = held + 0.01
    assert ex.resume(measured)
    # The command moves to the measured state within the limits, then holds it exactly.
    ramp = run(ex, 0.602, 0.8)
    assert ramp[0].state == 'resuming' and ramp[-1].state == 'holding'
    q, w = stack(ramp)
    assert_within(q, w, p0=held, v0=np.zeros(3))
    assert q[-1].tolist() == measured.tolist() and (w[-1] == 0).all()
    # A chunk in flight across the pause was planned from the world before it: refused.
    late = ex.submit(sine_chunk(0.39), 0.8)
    assert not late.accepted and 'before the last pause' in late.reason
    assert ex.rejected['before pause'] == 1
    assert ex.submit(sine_chunk(0.75), 0.8).accepted
    q, w = stack(run(ex, 0.8, 1.2))
    assert_within(q, w, p0=measured, v0=np.zeros(3))


def test_state_vector_layout():
    ex = started()
    vec = ex.state_vector(0.4)
    assert len(vec) == len(STATE_FIELDS)
    assert STATES[int(vec[STATE_FIELDS.index('state_code')])] == 'tracking'
    assert vec[STATE_FIELDS.index('remaining_s')] == pytest.approx(0.18)


# ------------------------------------------------------------------ regressions (fuzzing)

C, X, L, A = ActionChunk, ChunkExecutor, JointLimits, ('a',)
inf = np.inf


def ticks(ex, t_from, n, rate=100.0, measured=None):
    return [ex.tick(t_from + k / rate, measured) for k in range(n)]


def assert_sequence_within(cmds, limits, rate, p0, v0):
    """Commands (after p0, v0) within the limits at the nominal period."""
    p = np.array([p0] + [c.positions for c in cmds])
    v = np.array([v0] + [c.velocities for c in cmds])
    period = 1.0 / rate
    assert np.isfinite(p).all() and np.isfinite(v).all()
    assert (p >= limits.lower - 1e-12).all() and (p <= limits.upper + 1e-12).all()
    assert (np.abs(np.diff(p, axis=0)) <= limits.max_velocity * period + 1e-12).all()
    assert (np.abs(np.diff(v, axis=0)) <= limits.max_acceleration * period + 1e-9).all()
    return p, v


def test_bug1_continuous_joint_beside_a_bounded_one_commands_no_nan():
    ex = X(('w', 'e'), L([-inf, -2], [inf, 2], [1, 1], [4, 4]), 100)
    ex.submit(C(('w', 'e'), 0, .1, np.full((10, 2), .5)), 0)
    ex.tick(0, [0, 0])
    assert ex.tick(.01).positions == pytest.approx([.0004, .0004])
    # Root cause: braking for an infinite distance was inf / inf.
    assert np.isfinite(braking_speed(np.array([inf, 1e300]), np.full(2, .04), np.full(2, 5e3),
                                     100.0)).all()
    cmds = ticks(ex, .02, 30)
    ex.pause(.32)                                  # a later stop raised
    cmds += ticks(ex, .32, 30)
    assert cmds[-1].state == 'paused'
    assert_sequence_within(cmds, ex.limiter.limits, 100, [.0004, .0004], [.04, .04])


def ramp_then_pause():
    ex = X(A, L.uniform(1, 1, 4), 100)
    ex.submit(C(A, 0, .1, np.linspace([0], [2], 20)), 0)
    for k in range(50):
        ex.tick(k / 100, [0.])
    ex.pause(.5)
    cmd = ex.tick(.51)
    assert cmd.velocities[0] == pytest.approx(.96)
    return ex, cmd


def test_bug2_resume_while_braking_finishes_the_stop_within_limits():
    ex, last = ramp_then_pause()
    ex.resume()
    cmds = ticks(ex, .52, 40)
    assert cmds[0].velocities[0] == pytest.approx(.92)     # not 0: still braking
    assert cmds[0].state == 'stopping' and cmds[-1].state == 'holding'
    p, v = assert_sequence_within(cmds, ex.limiter.limits, 100, last.positions,
                                  last.velocities)
    assert (np.diff(np.abs(v[:, 0])) <= 0).all()
    assert (p[-5:] == p[-1]).all()


def test_bug2_resume_with_a_far_measured_state_ramps_to_it_within_limits():
    ex, last = ramp_then_pause()
    ex.resume([1.5])
    cmds = ticks(ex, .52, 300)
    states = [c.state for c in cmds]
    assert states[0] == 'stopping' and 'resuming' in states and states[-1] == 'holding'
    p, _ = assert_sequence_within(cmds, ex.limiter.limits, 100, last.positions,
                                  last.velocities)
    assert p[-1, 0] == 1.5 and p.max() <= 1.5       # arrives, never overshoots
    # A fresh chunk takes over at once, joined to the command, not to the measured state.
    ex2, last2 = ramp_then_pause()
    ex2.resume([1.5])
    assert ex2.submit(C(A, .52, .1, np.full((10, 1), .2)), .52).accepted
    cmds = ticks(ex2, .52, 100)
    assert_sequence_within(cmds, ex2.limiter.limits, 100, last2.positions, last2.velocities)


def test_bug3_resume_before_the_first_command_holds_measured_and_takes_a_chunk():
    ex = X(('a', 'b'), L.uniform(2, 1, 4), 100)
    ex.submit(C(('a', 'b'), 0, .1, np.zeros((10, 2))), 0)
    ex.pause(.05)
    ex.resume([0, 0])
    assert ex.state == 'holding'                # the command starts where the arm is
    assert ex.submit(C(('a', 'b'), .1, .1, np.ones((10, 2))), .1).accepted
    cmds = ticks(ex, .1, 100)
    assert cmds[0].state == 'tracking'
    assert_sequence_within(cmds, ex.limiter.limits, 100, [0, 0], [0, 0])
    # Without a measured state it waits for one, as at start-up.
    ex = X(('a', 'b'), L.uniform(2, 1, 4), 100)
    ex.pause(.05)
    ex.resume()
    assert ex.state == 'waiting' and ex.tick(.06) is None
    assert ex.submit(C(('a', 'b'), .1, .1, np.ones((10, 2))), .1).accepted
    assert ex.tick(.1, [0, 0]).positions.tolist() == [0, 0]


def test_bug4_one_segment_plan_ends_on_its_knot():
    plan = PiecewisePolynomial.through(1., .01, .05, np.array([[0.], [1.]]), 3, np.array([.5]))
    assert plan.positions_at(1.01) == pytest.approx([1.0])
    assert plan.evaluate(1.01)[0] == pytest.approx([1.0])
    assert plan.positions_at(2.0) == pytest.approx([1.0])       # clamped to the end
    # Seen from outside: a chunk with only its last step ahead, reached on a tick.
    for interp in ('linear', 'cubic', 'quintic'):
        ex = X(A, L.uniform(1, 100, 1e5), 100, interpolation=interp)
        ex.submit(C(A, 0, .05, np.array([[0.], [.1]])), .03)
        p = [c.positions[0] for c in ticks(ex, .03, 8, measured=[0.])]
        assert max(p) == pytest.approx(.1) and p[-1] == pytest.approx(.1)


def test_bug5_huge_values_are_refused_with_the_rule():
    ex = started()
    for value, dt in ((1e305, .02), (-2e6, .02), (.1, 1e-9), (.1, 5e-324)):
        chunk = sine_chunk(.39, dt=.02)
        positions = chunk.positions.copy()
        positions[3, 1] = value
        got = ex.submit(C(NAMES, chunk.t0, dt, positions), .4)
        assert not got.accepted
        assert ('|x| <= 1e+06 required' if value > 1 or value < -1 else 'dt=') in got.reason
    big = sine_chunk(.39)
    got = ex.submit(C(NAMES, .39, .02, big.positions, np.full_like(big.positions, 1e300)), .4)
    assert not got.accepted and got.reason.startswith('velocities up to 1e+300')
    assert ex.rejected['out of range'] == 5
    p, v = stack(run(ex, .4, .8))
    assert np.isfinite(p).all() and np.isfinite(v).all()
    fresh = make()
    fresh.submit(sine_chunk(0.0), 0.0)
    with pytest.raises(ValueError, match=r'measured=.*\|x\| <= 1e\+06'):
        fresh.tick(0.0, [1e300, 0, 0])


def test_bug6_first_command_is_the_measured_state_near_a_bound():
    ex = X(A, L.uniform(1, 1, 4, -1, 1), 100, interpolation='linear')
    ex.submit(C(A, 0, .1, np.full((10, 1), 0.)), 0)
    first = ex.tick(0, [.99])
    assert first.positions.tolist() == [.99] and first.velocities.tolist() == [0.0]
    assert_sequence_within(ticks(ex, .01, 50), ex.limiter.limits, 100, [.99], [0.])


def test_bug7_backward_clock_jump_stops_forgets_the_old_timeline_and_takes_fresh_chunks():
    ex = started(max_chunk_age_s=5.0)
    assert ex.submit(sine_chunk(.35, horizon=100), .4).accepted
    before = run(ex, .4, .6)
    # Jitter below the tolerance is not a jump.
    before.append(ex.tick(.6 - CLOCK_JUMP_S / 2))
    assert ex.clock_jumps == 0 and before[-1].state == 'tracking'
    # The clock is set back (a simulation reset): stop within the limits, then hold.
    after = run(ex, .1, .4)
    assert ex.clock_jumps == 1 and ex.stats()['clock_jumps'] == 1
    states = [c.state for c in after]
    assert states[0] == 'stopping' and states[-1] == 'holding'
    assert_monotone_stop(after)
    # A chunk stamped in the new timeline is taken (it was 'out of order' until 2 s).
    assert ex.submit(sine_chunk(.35), .4).accepted
    after += run(ex, .4, .8)
    assert after[-1].state == 'tracking'
    p, v = stack(before + after)
    assert_within(p[1:], v[1:], p0=p[0], v0=v[0])
    # A submit with a time far back is a jump too; its chunk is judged in the new timeline.
    assert ex.submit(sine_chunk(.01), .02).accepted and ex.clock_jumps == 2


@pytest.mark.parametrize('kw, match', [
    ({'control_rate_hz': 0}, 'control_rate_hz=0: must be finite and > 0'),
    ({'control_rate_hz': float('nan')}, 'control_rate_hz=nan'),
    ({'stop_deceleration': 0}, r'stop_deceleration=\[0.0, 0.0, 0.0\]: every value must be'),
    ({'stop_deceleration': [1, 2]}, 'stop_deceleration=.*one per joint'),
    ({'crossfade_s': -1}, 'crossfade_s=-1: must be finite and >= 0'),
    ({'old_chunk_weight': 2}, r'old_chunk_weight=2: must be finite and in \[0, 1\]'),
    ({'max_chunk_age_s': 0}, 'max_chunk_age_s=0: must be finite and > 0'),
    ({'max_future_stamp_s': -1}, 'max_future_stamp_s=-1: must be finite and >= 0'),
    ({'blend_mode': 'mix'}, "blend_mode='mix': must be one of"),
    ({'joint_names': ('a', 'a', 'b')}, 'joint_names=.*unique'),
])
def test_bug8_constructor_validates_like_the_config(kw, match):
    args = {'joint_names': NAMES, 'limits': LIMITS, 'control_rate_hz': 100.0, **kw}
    with pytest.raises(ValueError, match=match):
        X(args.pop('joint_names'), args.pop('limits'), args.pop('control_rate_hz'), **args)


def test_bug8_resume_refuses_nan_and_commands_are_not_internal_state():
    ex = started()
    ex.pause(.4)
    run(ex, .4, .6)
    with pytest.raises(ValueError, match=r'measured=\[nan, 0'):
        ex.resume([np.nan, 0, 0])
    assert ex.state == 'paused' and ex.resume()
    cmd = ex.tick(.6)
    held = cmd.positions.copy()
    cmd.positions[:] = 9.0                       # the caller owns what it got
    cmd.velocities[:] = 9.0
    assert ex.tick(.602).positions.tolist() == held.tolist()
    assert ex.submit(sine_chunk(.59), .604).accepted
    moving = ex.tick(.606)
    moving.positions[:] = 9.0
    assert np.abs(ex.tick(.608).positions - held).max() < .01


# ------------------------------------------------------------------ reconfigure


def cfg1(**kw):
    base = {'joint_names': ('a',), 'control_rate_hz': 100.0, 'max_velocity': (2.0,),
            'max_acceleration': (4.0,), 'interpolation': 'linear', 'max_chunk_age_s': 5.0}
    base.update(kw)
    return ExecutorConfig(**base)


def cruising(cfg):
    """Return an executor moving at 1 rad/s along a ramp at t = 0.99 s, and its last command."""
    ex = X.from_config(cfg)
    ex.submit(C(A, 0, .1, np.linspace([0], [4], 41)), 0)
    cmds = ticks(ex, 0, 100, measured=[0.])
    return ex, cmds[-1]


def test_reconfigure_applies_everything_in_place():
    cfg = cfg1()
    ex, last = cruising(cfg)
    counts = dict(ex.limiter.counts)
    new = dataclasses.replace(cfg, control_rate_hz=250.0, blend_mode='replace',
                              crossfade_s=.1, old_chunk_weight=.5, interpolation='quintic',
                              max_chunk_age_s=2.0, max_future_stamp_s=.2,
                              stop_deceleration=(8.0,), max_acceleration=(6.0,))
    ex.reconfigure(new)
    assert (ex.period, ex.blend_mode, ex.crossfade_s, ex.old_chunk_weight, ex.interpolation,
            ex.max_chunk_age_s, ex.max_future_stamp_s) == (
        1 / 250, 'replace', .1, .5, 'quintic', 2.0, .2)
    assert ex.stop_deceleration.tolist() == [8.0]
    assert ex.limiter.limits.max_acceleration.tolist() == [6.0]
    assert ex.limiter.counts == counts and ex.state == 'tracking'
    cmds = ticks(ex, .99 + 1 / 250, 250, rate=250)
    assert_sequence_within(cmds, ex.limiter.limits, 250, last.positions, last.velocities)
    with pytest.raises(ConfigError, match='joint_names=.*must stay'):
        ex.reconfigure(dataclasses.replace(cfg, joint_names=('b',)))


def test_reconfigure_tightened_velocity_slows_down_within_the_acceleration_limit():
    cfg = cfg1()
    ex, last = cruising(cfg)
    assert last.velocities[0] == pytest.approx(1.0)
    ex.reconfigure(dataclasses.replace(cfg, max_velocity=(.25,)))
    cmds = ticks(ex, 1.0, 100)
    v = np.array([last.velocities[0]] + [c.velocities[0] for c in cmds])
    p = np.array([last.positions[0]] + [c.positions[0] for c in cmds])
    assert (np.abs(np.diff(v)) <= 4.0 * .01 + 1e-9).all()        # no jump: a_max T
    assert (np.diff(v) <= 1e-12).all()                           # it only slows down
    assert np.allclose(np.diff(p) / .01, v[1:])
    slow = int(np.argmax(v <= .25 + 1e-9))
    assert slow <= int(np.ceil(.75 / .04)) + 1
    assert (np.abs(v[slow:]) <= .25 + 1e-9).all()


def test_reconfigure_keeps_a_stop_monotone_at_a_new_rate():
    cfg = cfg1()
    ex, last = cruising(cfg)
    ex.pause(1.0)
    first = ticks(ex, 1.0, 5)
    ex.reconfigure(dataclasses.replace(cfg, control_rate_hz=500.0, max_acceleration=(2.0,)))
    rest = ticks(ex, 1.05, 400, rate=500)
    speed = np.abs([c.velocities[0] for c in first + rest])
    assert (np.diff(speed) <= 1e-12).all() and rest[-1].state == 'paused'
    assert (np.abs(np.diff([c.velocities[0] for c in rest])) <= 4.0 / 500 + 1e-9).all()


def test_reconfigure_refuses_bounds_the_moving_arm_cannot_stop_inside():
    cfg = cfg1()
    ex, last = cruising(cfg)                     # at 0.99 m, 1 m/s, 4 m/s^2: 0.125 m to stop
    with pytest.raises(ConfigError, match='joint a at 0.99 moving at 1 could not stop inside'):
        ex.reconfigure(dataclasses.replace(cfg, position_lower=(-5.0,), position_upper=(1.05,)))
    assert ex.limiter.limits.upper.tolist() == [inf]             # nothing applied
    ex.reconfigure(dataclasses.replace(cfg, position_lower=(-5.0,), position_upper=(1.5,)))
    cmds = ticks(ex, 1.0, 200)
    p, _ = assert_sequence_within(cmds, ex.limiter.limits, 100, last.positions,
                                  last.velocities)
    assert p.max() <= 1.5


def test_planned_positions_preview_the_plan_and_hold_its_end():
    ex = ChunkExecutor(('a',), JointLimits.uniform(1, 10.0, 100.0), 100, interpolation='linear',
                       blend_mode='replace')
    assert ex.planned_positions([0.0]) is None, 'nothing commanded yet'
    ex.submit(ActionChunk(('a',), 0.0, 0.1, np.linspace([0.0], [0.9], 10)), 0.0)
    for k in range(11):
        ex.tick(k / 100, [0.0])
    times = np.array([0.2, 0.5, 0.9, 1.5])
    planned = ex.planned_positions(times)
    assert planned.shape == (4, 1)
    np.testing.assert_allclose(planned[:, 0], [0.2, 0.5, 0.9, 0.9], atol=1e-9)
    # What it previews is what it then commands (no limit binds on this slow ramp).
    for k in range(11, 51):
        cmd = ex.tick(k / 100)
    np.testing.assert_allclose(cmd.positions, ex.planned_positions([0.5])[0], atol=1e-9)
    ex.pause(0.5)
    held = ex.tick(0.51).positions
    assert ex.planned_positions([0.6, 2.0]).tolist() == [held.tolist()] * 2


def test_a_chunk_that_continues_the_plan_takes_over_without_a_jump():
    """Real-time chunking's contract: a new chunk whose frozen prefix is the executor's plan."""
    obs_t, arrival = 1.3, 1.5          # observed at 1.3 s, the chunk lands 0.2 s on

    def run(make_new):
        ex = ChunkExecutor(('a', 'b'), JointLimits.uniform(2, 1.0, 4.0), 100,
                           blend_mode='replace')
        ramp = np.linspace([0.0, 0.0], [1.45, -1.45], 30)           # 0.5 rad/s for 2.9 s
        ex.submit(ActionChunk(('a', 'b'), 0.0, 0.1, ramp), 0.0)
        commands = [ex.tick(k / 100, [0.0, 0.0]).positions for k in range(150)]
        new = make_new(ex.planned_positions(obs_t + 0.1 * np.arange(10)))
        clamps = ex.limiter.clamped_ticks
        if new is not None:
            assert ex.submit(ActionChunk(('a', 'b'), obs_t, 0.1, new), arrival).accepted
        commands += [ex.tick(k / 100).positions for k in range(150, 200)]
        return np.array(commands), ex.limiter.clamped_ticks - clamps

    base, _ = run(lambda prev: None)

    def rtc(prev):         # frozen prefix = the plan; then it bends away, gently
        new = prev.copy()
        new[2:] += 0.02 * np.arange(8)[:, None] ** 2 * np.array([1.0, 1.0]) / 49
        return new

    def stale(prev):       # planned from the observed state, blind to the motion since
        return np.tile(prev[0], (10, 1)) + 0.05 * np.arange(10)[:, None] * [1.0, -1.0]

    continued, clamps = run(rtc)
    assert clamps == 0, 'no limit had to step in'
    # Through the frozen prefix the arm does what it would have done without the new chunk.
    np.testing.assert_allclose(continued[150:152], base[150:152], atol=1e-3)
    jumped, stale_clamps = run(stale)
    assert stale_clamps > 0
    step = np.abs(np.diff(continued, axis=0))[149:155].max()
    assert step <= np.abs(np.diff(base, axis=0)).max() + 1e-3
    assert np.abs(np.diff(jumped, axis=0)[149:155] - np.diff(base, axis=0)[149:155]).max() > \
        10 * np.abs(np.diff(continued, axis=0)[149:155] - np.diff(base, axis=0)[149:155]).max()
