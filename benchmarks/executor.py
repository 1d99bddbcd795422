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
Chunk executor benchmark: per-tick cost and a replay of late, disagreeing chunks.

    python benchmarks/executor.py [--ticks 10000] [--plot docs/executor_boundaries.png]

1. Per-tick cost at J = 7, H = 50, 500 Hz while tracking (median and p99), and the cost of
   accepting a chunk.
2. A replay of `--ticks` control ticks at 500 Hz: a policy observes a smooth reference motion,
   and after a random inference latency delivers a 50-step chunk at 30 Hz that disagrees with
   the previous one (a per-chunk offset, as real policies do). Per blend mode: largest position
   step, largest velocity and acceleration against the limits, RMS jerk, ticks clamped, holds.
   The first row is what the anchors do without interpolation or limits: the newest chunk's
   step held for one chunk step (LeRobot's 30 Hz queue, replace).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from vla_ros.control.action_chunk import ActionChunk
from vla_ros.control.executor import ChunkExecutor
from vla_ros.control.limits import JointLimits

J, H, RATE, CHUNK_DT = 7, 50, 500.0, 1.0 / 30
V_MAX, A_MAX = 2.0, 20.0
NAMES = tuple(f'joint{i + 1}' for i in range(J))


def reference(t):
    """Return the motion the policy is after, (..., J)."""
    t = np.asarray(t)[..., None]
    k = np.arange(J)
    return 0.6 * np.sin(0.9 * t + k) + 0.2 * np.sin(2.3 * t + 0.5 * k)


def make_chunk(t0, rng):
    offset = rng.normal(scale=0.03, size=J)      # chunks disagree a little
    return ActionChunk(NAMES, t0, CHUNK_DT, reference(t0 + CHUNK_DT * np.arange(H)) + offset)


def stream(ticks, seed=0):
    """(arrival time, chunk) pairs: inference every 0.25-0.45 s, latency 0.05-0.3 s."""
    rng = np.random.default_rng(seed)
    out, t = [], 0.0
    while t < ticks / RATE:
        latency = rng.uniform(0.05, 0.3)
        out.append((t + latency, make_chunk(t, rng)))
        t += rng.uniform(0.25, 0.45)
    return out


def replay(mode, ticks, seed=0):
    limits = JointLimits.uniform(J, V_MAX, A_MAX)
    ex = ChunkExecutor(NAMES, limits, RATE, blend_mode=mode, interpolation='cubic',
                       crossfade_s=0.2, old_chunk_weight=0.3)
    chunks = stream(ticks, seed)
    positions, i = [], 0
    start = reference(0.0)
    for k in range(ticks):
        now = k / RATE
        while i < len(chunks) and chunks[i][0] <= now:
            ex.submit(chunks[i][1], now)
            i += 1
        cmd = ex.tick(now, start)
        positions.append(start if cmd is None else cmd.positions)
    return np.array(positions), ex, chunks


def replay_zero_order_hold(ticks, seed=0):
    chunks = stream(ticks, seed)
    positions, newest, i = [], None, 0
    for k in range(ticks):
        now = k / RATE
        while i < len(chunks) and chunks[i][0] <= now:
            newest = chunks[i][1]
            i += 1
        if newest is None:
            positions.append(reference(0.0))
            continue
        step = min(int((now - newest.t0) / newest.dt), newest.horizon - 1)
        positions.append(newest.positions[step])
    return np.array(positions)


def metrics(p):
    period = 1.0 / RATE
    v = np.diff(p, axis=0) / period
    a = np.diff(v, axis=0) / period
    jerk = np.diff(a, axis=0) / period
    return {'max_step': np.abs(np.diff(p, axis=0)).max(), 'max_v': np.abs(v).max() / V_MAX,
            'max_a': np.abs(a).max() / A_MAX, 'rms_jerk': float(np.sqrt((jerk**2).mean()))}


def tick_cost(n=20000, seed=0):
    rng = np.random.default_rng(seed)
    ex = ChunkExecutor(NAMES, JointLimits.uniform(J, V_MAX, A_MAX, -3.0, 3.0), RATE)
    ex.submit(make_chunk(0.0, rng), 0.0)
    ex.tick(0.0, reference(0.0))
    samples, submits, k = [], [], 1
    while len(samples) < n:
        now = k / RATE
        if k % 150 == 0:   # a new chunk every 0.3 s, 0.1 s late
            chunk = make_chunk(now - 0.1, rng)
            start = time.perf_counter()
            ex.submit(chunk, now)
            submits.append(time.perf_counter() - start)
        start = time.perf_counter()
        ex.tick(now)
        samples.append(time.perf_counter() - start)
        k += 1
    a = np.ones(J)
    ref = []
    for _ in range(n):
        start = time.perf_counter()
        a + a
        ref.append(time.perf_counter() - start)
    us = np.array(samples) * 1e6
    return (np.median(us), np.percentile(us, 99), np.median(submits) * 1e6,
            np.median(ref) * 1e6, ex.limiter.clamped_ticks)


def plot(path, ticks=1500, seed=0):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    for ax, mode in zip(axes, ('replace', 'crossfade')):
        p, _, chunks = replay(mode, ticks, seed)
        t = np.arange(ticks) / RATE
        window = (t > 1.3) & (t < 2.9)
        for (arrival, chunk), (next_arrival, _) in zip(chunks, chunks[1:]):
            keep = (chunk.times >= arrival) & (chunk.times <= next_arrival + 0.15)
            ax.plot(chunk.times[keep], chunk.positions[keep, 0], 'o', ms=3, alpha=0.7)
            ax.axvline(arrival, color='0.8', lw=0.8)
        ax.plot(t, p[:, 0], 'k', lw=1.4, label=f'command ({mode})')
        ax.set_ylabel('joint1 [rad]')
        ax.legend(loc='upper right')
        ax.set_xlim(1.3, 2.9)
        lo, hi = p[window, 0].min(), p[window, 0].max()
        ax.set_ylim(lo - 0.05, hi + 0.05)
    axes[1].set_xlabel('time [s]   dots: steps of each chunk from its arrival; grey lines: '
                       'arrivals')
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--ticks', type=int, default=10000)
    parser.add_argument('--plot', default='')
    args = parser.parse_args()
    median, p99, submit, ref, _ = tick_cost()
    print(f'tick (J={J}, H={H}, {RATE:g} Hz): median {median:.1f} us, p99 {p99:.1f} us; '
          f'submit median {submit:.0f} us; numpy a+a on this machine {ref:.2f} us')
    print(f'\nreplay: {args.ticks} ticks at {RATE:g} Hz, v_max {V_MAX} rad/s, '
          f'a_max {A_MAX} rad/s^2; max v and a as a fraction of the limit')
    print('| mode | max step [rad] | max v / v_max | max a / a_max | RMS jerk [rad/s^3] '
          '| clamped ticks | holds |')
    print('|---|---|---|---|---|---|---|')
    m = metrics(replay_zero_order_hold(args.ticks))
    print(f"| raw chunk steps, held (LeRobot-style queue) | {m['max_step']:.4f} | "
          f"{m['max_v']:.1f} | {m['max_a']:.0f} | {m['rms_jerk']:.3g} | - | - |")
    for mode in ('replace', 'crossfade', 'weighted_average'):
        p, ex, _ = replay(mode, args.ticks)
        m = metrics(p)
        print(f"| {mode} | {m['max_step']:.4f} | {m['max_v']:.2f} | {m['max_a']:.2f} | "
              f"{m['rms_jerk']:.3g} | {ex.limiter.clamped_ticks} | {ex.holds} |")
    if args.plot:
        plot(args.plot)
        print(f'\nplot: {args.plot}')


if __name__ == '__main__':
    main()
