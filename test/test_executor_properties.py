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

"""Property tests: random chunk streams, latencies, overlaps, ticks and pauses."""

from hypothesis import given, settings, strategies as st
import numpy as np

from vla_ros.control.action_chunk import ActionChunk
from vla_ros.control.executor import ChunkExecutor
from vla_ros.control.limits import JointLimits

J = 3
NAMES = tuple(f'j{i}' for i in range(J))


@st.composite
def scenarios(draw):
    rate = draw(st.sampled_from([100.0, 200.0, 500.0]))
    limits = JointLimits(
        np.array(draw(st.lists(st.floats(-3, -0.5), min_size=J, max_size=J))),
        np.array(draw(st.lists(st.floats(0.5, 3), min_size=J, max_size=J))),
        np.array(draw(st.lists(st.floats(0.2, 3), min_size=J, max_size=J))),
        np.array(draw(st.lists(st.floats(1, 50), min_size=J, max_size=J))))
    kw = {'blend_mode': draw(st.sampled_from(['replace', 'crossfade', 'weighted_average'])),
          'interpolation': draw(st.sampled_from(['linear', 'cubic', 'quintic'])),
          'crossfade_s': draw(st.floats(0, 0.5)), 'old_chunk_weight': draw(st.floats(0, 1)),
          'max_chunk_age_s': draw(st.floats(0.2, 2.0))}
    chunks = []
    t = 0.0
    for _ in range(draw(st.integers(1, 8))):
        t += draw(st.floats(0.02, 0.6))                     # observation time
        latency = draw(st.floats(0.0, 0.5))
        horizon = draw(st.integers(2, 40))
        dt = draw(st.sampled_from([0.01, 0.02, 1 / 30, 0.05]))
        seed = draw(st.integers(0, 2**31))
        scale = draw(st.sampled_from([0.05, 0.5, 5.0]))     # 5.0: far beyond the bounds
        chunks.append((t + latency, t, dt, horizon, seed, scale))
    chunks.sort()
    pause = draw(st.one_of(st.none(), st.floats(0, 3)))
    jitter = draw(st.floats(0, 0.9))
    measured = np.array(draw(st.lists(st.floats(-1, 1), min_size=J, max_size=J)))
    return rate, limits, kw, chunks, pause, jitter, measured


def random_chunk(t0, dt, horizon, seed, scale):
    rng = np.random.default_rng(seed)
    walk = np.cumsum(rng.normal(scale=scale * dt, size=(horizon, J)), axis=0)
    return ActionChunk(NAMES, t0, dt, rng.normal(scale=0.3 * scale, size=J) + walk)


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_every_command_respects_the_limits(scenario):
    rate, limits, kw, chunks, pause, jitter, measured = scenario
    ex = ChunkExecutor(NAMES, limits, rate, **kw)
    period = 1.0 / rate
    rng = np.random.default_rng(0)
    now, queue, cmds, paused = 0.0, list(chunks), [], False
    while now < 3.0:
        while queue and queue[0][0] <= now:
            arrival, t0, dt, horizon, seed, scale = queue.pop(0)
            ex.submit(random_chunk(t0, dt, horizon, seed, scale), now)
        if pause is not None and not paused and now >= pause:
            ex.pause(now)
            paused = True
        cmd = ex.tick(now, measured)
        if cmd is not None:
            cmds.append((cmd.positions.copy(), cmd.velocities.copy(), cmd.state))
        # Timer jitter must not change the per-command limits.
        now += period * (1 + jitter * rng.uniform(-1, 1))
    if not cmds:
        return
    p = np.array([measured] + [c[0] for c in cmds])
    v = np.array([np.zeros(J)] + [c[1] for c in cmds])
    tol = 1e-9
    assert np.isfinite(p).all() and np.isfinite(v).all()
    lo = np.minimum(limits.lower, measured)                 # a start outside stays put
    hi = np.maximum(limits.upper, measured)
    assert (p >= lo - tol).all() and (p <= hi + tol).all()
    assert (np.abs(np.diff(p, axis=0)) <= limits.max_velocity * period + tol).all()
    assert (np.abs(v) <= limits.max_velocity + tol).all()
    assert (np.abs(np.diff(v, axis=0)) <= limits.max_acceleration * period + 1e-6).all()
    # Stops and pauses only ever slow down.
    states = [c[2] for c in cmds]
    for k in range(1, len(cmds)):
        if states[k] in ('stopping', 'pausing', 'holding', 'paused'):
            assert (np.abs(v[k + 1]) <= np.abs(v[k]) + 1e-12).all()
    if paused and states[-1] == 'paused':
        assert (v[-1] == 0).all()
