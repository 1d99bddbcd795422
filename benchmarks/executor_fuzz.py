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
Chunk executor fuzzing: random arms, chunk streams, clocks and pauses; every command checked.

    python benchmarks/executor_fuzz.py [--ticks 1000000] [--seed 0]

A scenario (`draw_scenario`) is an arm of 1-14 joints, bounded, half-bounded or continuous,
at 50-1000 Hz, with any blend mode and interpolation. Its stream (`run_scenario`) mixes a
policy's late, overlapping chunks with bad ones (future, stale, out of order, late, huge
values, absurd steps, wrong joints, reordered joints, single steps), starvation, pauses and
resumes in any state (measured far away or none), timer jitter, repeated and backward times
and clock jumps, and a caller scribbling on the commands it got. `CommandChecker` checks every
command against the limits at the nominal period. test/test_executor_fuzz.py drives the same
generator with hypothesis; this script runs it for many ticks and prints the tally.
"""

from __future__ import annotations

import argparse
from collections import Counter
from dataclasses import dataclass, field
import math
import random
import time
import traceback

import numpy as np

from vla_ros.control.action_chunk import ActionChunk
from vla_ros.control.executor import ChunkExecutor, CLOCK_JUMP_S
from vla_ros.control.limits import JointLimits

STOPS = ('stopping', 'pausing', 'holding', 'paused')
HOLDS = ('holding', 'paused')
BAD_KINDS = ('future', 'stale', 'out of order', 'late', 'huge', 'tiny dt', 'names',
             'reordered', 'one step')


@dataclass
class Scenario:
    """An arm, its executor settings and how wild its stream is."""

    joints: int
    rate_hz: float
    lower: list
    upper: list
    max_velocity: list
    max_acceleration: list
    stop_deceleration: list | None
    executor: dict                  # blend, interpolation and chunk-age keyword arguments
    jitter: float                   # timer jitter, fraction of the period
    p_repeat: float                 # per tick: same time again
    p_back: float                   # per tick: a little earlier (below the jump tolerance)
    p_jump: float                   # per tick: the clock jumps back seconds
    p_gap: float                    # per tick: the timer stalls (starvation)
    pauses_per_s: float
    p_bad: float                    # per chunk: a bad one comes along
    motion: float                   # scale of the policy's targets [rad]
    measured_every_tick: bool       # as the tests do; else only while waiting (as the node)
    pause_first: bool               # pause (and resume) before the first command
    start_time: float


def log_uniform(rnd, lo: float, hi: float) -> float:
    """Return a number between `lo` and `hi`, uniform in log scale."""
    return math.exp(rnd.uniform(math.log(lo), math.log(hi)))


def draw_scenario(rnd) -> Scenario:
    """Draw a scenario with `rnd` (a `random.Random`, or hypothesis' `st.randoms()`)."""
    joints = rnd.randint(1, 14)
    lower, upper = [], []
    for _ in range(joints):
        kind = rnd.choice(('both', 'both', 'none', 'lower', 'upper'))
        lower.append(rnd.uniform(-3.0, -0.05) if kind in ('both', 'lower') else -math.inf)
        upper.append(rnd.uniform(0.05, 3.0) if kind in ('both', 'upper') else math.inf)
    accel = [log_uniform(rnd, 0.5, 200.0) for _ in range(joints)]
    stop = None
    if rnd.random() < 0.5:
        stop = [log_uniform(rnd, 0.5, 500.0) for _ in range(rnd.choice((1, joints)))]
    executor = {
        'blend_mode': rnd.choice(('replace', 'crossfade', 'weighted_average')),
        'interpolation': rnd.choice(('linear', 'cubic', 'quintic')),
        'crossfade_s': rnd.uniform(0.0, 0.5), 'old_chunk_weight': rnd.uniform(0.0, 1.0),
        'max_chunk_age_s': rnd.uniform(0.1, 2.0), 'max_future_stamp_s': rnd.uniform(0.0, 0.5)}
    return Scenario(
        joints=joints, rate_hz=rnd.uniform(50.0, 1000.0), lower=lower, upper=upper,
        max_velocity=[log_uniform(rnd, 0.1, 5.0) for _ in range(joints)],
        max_acceleration=accel, stop_deceleration=stop, executor=executor,
        jitter=rnd.choice((0.0, rnd.uniform(0.0, 0.9))), p_repeat=rnd.choice((0.0, 0.03)),
        p_back=rnd.choice((0.0, 0.03)), p_jump=rnd.choice((0.0, 0.001, 0.005)),
        p_gap=rnd.choice((0.0, 0.002)), pauses_per_s=rnd.choice((0.0, 0.2, 2.0)),
        p_bad=rnd.choice((0.0, 0.2, 0.6)), motion=rnd.choice((0.02, 0.3, 3.0)),
        measured_every_tick=rnd.random() < 0.5, pause_first=rnd.random() < 0.1,
        start_time=rnd.choice((0.0, rnd.uniform(-10.0, 1e4), 1.7e9 + rnd.uniform(0, 1e6))))


@dataclass
class Tally:
    """What a fuzz run did and found."""

    scenarios: int = 0
    ticks: int = 0
    commands: int = 0
    offered: int = 0
    accepted: int = 0
    rejected: Counter = field(default_factory=Counter)
    bad_offered: Counter = field(default_factory=Counter)
    violations: Counter = field(default_factory=Counter)
    states: Counter = field(default_factory=Counter)
    clock_jumps: int = 0
    pauses: int = 0
    resumes: int = 0
    examples: dict = field(default_factory=dict)    # the first of each kind of violation

    def violation(self, kind: str, detail: str) -> None:
        """Count a violation; keep the details of the first of its kind."""
        self.violations[kind] += 1
        self.examples.setdefault(kind, detail)


class CommandChecker:
    """Checks each command against the one before, at the nominal period."""

    def __init__(self, limits: JointLimits, period: float, stop_deceleration: np.ndarray):
        """Prepare the per-tick bounds."""
        self.lower, self.upper = limits.lower, limits.upper
        self.period = period
        self.v_max = limits.max_velocity
        self.dp_max = limits.max_velocity * period
        self.dv_max = limits.max_acceleration * period
        # A pause brakes at stop_deceleration, which may exceed max_acceleration (an e-stop).
        self.dv_stop = np.maximum(limits.max_acceleration, stop_deceleration) * period
        self.p = self.v = None

    def check(self, p: np.ndarray, v: np.ndarray, state: str, measured) -> list[tuple[str, str]]:
        """Return the (kind, detail) of every rule the command breaks."""
        out = []
        if not (np.isfinite(p).all() and np.isfinite(v).all()):
            out.append(('not finite', f'{p.tolist()} {v.tolist()}'))
            self.p = None
            return out
        if self.p is None:
            self.p, self.v = p, v
            if measured is None or p.tolist() != list(measured) or v.any():
                out.append(('first command', f'{p.tolist()} != measured {measured}'))
            return out
        q, w = self.p, self.v
        ulp = 8 * np.spacing(np.maximum(np.abs(p), np.abs(q)))
        if ((p < np.minimum(self.lower, q) - ulp) | (p > np.maximum(self.upper, q) + ulp)).any():
            out.append(('position bound', f'{q.tolist()} -> {p.tolist()}'))
        dp = p - q
        if (np.abs(dp) > self.dp_max * (1 + 1e-9) + ulp).any():
            out.append(('velocity', f'step {dp.tolist()} > {self.dp_max.tolist()}'))
        if (np.abs(v - dp / self.period) > 1e-9 * self.v_max + ulp / self.period).any():
            out.append(('velocity sent', f'{v.tolist()} vs {(dp / self.period).tolist()}'))
        dv_max = self.dv_stop if state in ('stopping', 'pausing') else self.dv_max
        if (np.abs(v - w) > dv_max * (1 + 1e-6) + ulp / self.period).any():
            out.append(('acceleration', f'{state}: {w.tolist()} -> {v.tolist()}'))
        if state in STOPS and (np.abs(v) > np.abs(w) + 1e-12 + ulp / self.period).any():
            out.append(('stop speeds up', f'{state}: {w.tolist()} -> {v.tolist()}'))
        if state in HOLDS and (p.tolist() != q.tolist() or v.any()):
            out.append(('hold moved', f'{state}: {q.tolist()} -> {p.tolist()}'))
        self.p, self.v = p, v
        return out


def make_executor(sc: Scenario) -> tuple[ChunkExecutor, CommandChecker]:
    """Build the executor of a scenario and the checker of its commands."""
    limits = JointLimits(sc.lower, sc.upper, sc.max_velocity, sc.max_acceleration)
    names = tuple(f'j{i}' for i in range(sc.joints))
    ex = ChunkExecutor(names, limits, sc.rate_hz, stop_deceleration=sc.stop_deceleration,
                       **sc.executor)
    checker = CommandChecker(limits, 1.0 / sc.rate_hz, ex.stop_deceleration)
    return ex, checker


class Policy:
    """Late, overlapping chunks from the arm's state, and now and then a bad one."""

    def __init__(self, sc: Scenario, ex: ChunkExecutor, rng: random.Random,
                 nrng: np.random.Generator):
        """Aim around the bounds of `sc`; draw with `rng` (scalars) and `nrng` (arrays)."""
        self.sc, self.ex, self.rng, self.nrng = sc, ex, rng, nrng
        self.names = ex.joint_names
        lo, hi = np.array(sc.lower), np.array(sc.upper)
        lo_f, hi_f = np.isfinite(lo), np.isfinite(hi)
        lo0, hi0 = np.where(lo_f, lo, 0.0), np.where(hi_f, hi, 0.0)
        self.centre = np.where(lo_f & hi_f, (lo0 + hi0) / 2,
                               np.where(lo_f, lo0 + 1.0, np.where(hi_f, hi0 - 1.0, 0.0)))
        self.queue: list[tuple[float, ActionChunk, str]] = []    # (arrival, chunk, kind)
        self.next_obs = sc.start_time
        self.stall_until = -math.inf
        self.last_t0 = sc.start_time

    def chunk(self, t0: float, arm: np.ndarray, horizon: int | None = None,
              dt: float | None = None, velocities: bool = True) -> ActionChunk:
        """Return a chunk observed at `t0` from `arm`: a random walk around a target."""
        rng, nrng = self.rng, self.nrng
        dt = dt or rng.choice((0.01, 0.02, 1 / 30, 0.05, 0.1, rng.uniform(1e-4, 0.2)))
        # Mostly 0.2-2 s of steps, as policies send.
        horizon = horizon or (max(2, int(min(rng.uniform(0.2, 2.0) / dt, 200)))
                              if rng.random() < 0.9 else rng.randint(2, 10))
        scale = self.sc.motion
        start = arm
        if rng.random() < 0.3:      # somewhere else: far beyond the bounds when motion is 3
            start = self.centre + nrng.normal(scale=scale, size=len(arm))
        walk = np.cumsum(nrng.normal(scale=scale * math.sqrt(dt), size=(horizon, len(arm))),
                         axis=0)
        positions = start + nrng.normal(scale=0.1 * scale, size=len(arm)) + walk
        if velocities and rng.random() < 0.3:
            velocities = (np.gradient(positions, dt, axis=0) if horizon > 1 and
                          rng.random() < 0.7 else nrng.normal(scale=scale, size=positions.shape))
        else:
            velocities = None
        return ActionChunk(self.names, t0, dt, positions, velocities)

    def bad(self, now: float, arm: np.ndarray) -> tuple[ActionChunk, str]:
        """Return a chunk the executor should refuse (or, reordered / one step, take)."""
        rng, ex = self.rng, self.ex
        kind = rng.choice(BAD_KINDS)
        if kind == 'future':
            return self.chunk(now + ex.max_future_stamp_s + rng.uniform(1e-3, 2.0), arm), kind
        if kind == 'stale':
            return self.chunk(now - ex.max_chunk_age_s - rng.uniform(1e-3, 5.0), arm), kind
        if kind == 'out of order':
            return self.chunk(self.last_t0 - rng.uniform(0.0, 0.3), arm), kind
        if kind == 'late':
            return self.chunk(now - rng.uniform(0.5, 1.0) * ex.max_chunk_age_s, arm,
                              horizon=2, dt=1e-3), kind
        if kind == 'tiny dt':
            return self.chunk(now, arm, dt=rng.choice((1e-9, 5e-324, 1e6)),
                              velocities=False), kind
        chunk = self.chunk(now - rng.uniform(0.0, 0.2), arm,
                           horizon=1 if kind == 'one step' else None)
        if kind == 'huge':
            positions = chunk.positions.copy()
            i, j = rng.randrange(len(positions)), rng.randrange(len(arm))
            positions[i, j] = rng.choice((-1, 1)) * 10 ** rng.uniform(6.01, 307.9)
            return ActionChunk(chunk.joint_names, chunk.t0, chunk.dt, positions), kind
        if kind == 'names':
            names = list(chunk.joint_names)
            names[rng.randrange(len(names))] = 'nope'
            return ActionChunk(names, chunk.t0, chunk.dt, chunk.positions), kind
        if kind == 'reordered':
            order = list(range(len(arm)))
            rng.shuffle(order)
            return ActionChunk([chunk.joint_names[k] for k in order], chunk.t0, chunk.dt,
                               chunk.positions[:, order]), kind
        return chunk, kind

    def step(self, now: float, arm: np.ndarray) -> list[tuple[ActionChunk, str]]:
        """Chunks arriving at `now`; an observation taken now when one is due."""
        rng = self.rng
        if now >= self.next_obs and now >= self.stall_until:
            if rng.random() < 0.01:
                self.stall_until = now + rng.uniform(0.3, 3.0)      # inference hangs
            age = self.ex.max_chunk_age_s
            latency = rng.uniform(0.0, 0.8 * age if rng.random() < 0.9 else 1.5 * age)
            self.queue.append((now + latency, self.chunk(now, arm), 'good'))
            self.next_obs = now + rng.uniform(0.05, 0.6)
            if rng.random() < self.sc.p_bad:
                chunk, kind = self.bad(now, arm)
                self.queue.append((now + rng.uniform(0.0, 0.3), chunk, kind))
        due = [item for item in self.queue if item[0] <= now]
        self.queue = [item for item in self.queue if item[0] > now]
        rng.shuffle(due)                                            # out-of-order delivery
        return [(chunk, kind) for _, chunk, kind in due]

    def clock_jumped(self, now: float) -> None:
        """Note that the clock went back: in-flight chunks may be lost; observe again soon."""
        if self.rng.random() < 0.5:
            self.queue = []
        self.next_obs = now + self.rng.uniform(0.0, 0.3)
        self.stall_until = -math.inf


def run_scenario(sc: Scenario, seed: int, ticks: int, tally: Tally) -> None:
    """Run `ticks` ticks of scenario `sc` with stream `seed`; count into `tally`."""
    rng, nrng = random.Random(seed), np.random.default_rng(seed)
    ex, checker = make_executor(sc)
    policy = Policy(sc, ex, rng, nrng)
    period = 1.0 / sc.rate_hz
    now = sc.start_time
    arm = policy.centre + nrng.normal(scale=0.3, size=sc.joints)
    if rng.random() < 0.9:                  # mostly a start inside the bounds
        arm = np.clip(arm, np.array(sc.lower), np.array(sc.upper))
    paused_until = None
    tally.scenarios += 1

    def call(name, fn, *args):
        try:
            return fn(*args)
        except Exception as exc:            # any escape is a finding
            tally.violation(f'exception in {name}', ''.join(
                traceback.format_exception_only(type(exc), exc)).strip())
            return None

    def resume(measured):
        call('resume', ex.resume, measured)
        tally.resumes += 1
        if checker.p is None and measured is not None and ex.state == 'holding':
            # Resumed before the first command: the commands start from a hold there.
            checker.p, checker.v = measured, np.zeros(sc.joints)

    if sc.pause_first:
        call('pause', ex.pause, now)
        tally.pauses += 1
        resume(arm.copy() if rng.random() < 0.5 else None)
    for _ in range(ticks):
        for chunk, kind in policy.step(now, arm):
            tally.offered += 1
            tally.bad_offered[kind] += 1
            got = call('submit', ex.submit, chunk, now)
            if got is not None and got.accepted:
                tally.accepted += 1
                policy.last_t0 = max(policy.last_t0, chunk.t0)
        if paused_until is None and rng.random() < sc.pauses_per_s * period:
            call('pause', ex.pause, now)
            tally.pauses += 1
            # A quarter resume while the pause is still braking.
            paused_until = now + (rng.uniform(0, 0.05) if rng.random() < 0.25
                                  else rng.uniform(0.05, 1.5))
        elif paused_until is not None and now >= paused_until:
            choice = rng.random()
            measured = (None if choice < 0.3 else arm + nrng.normal(
                scale=1e-3 if choice < 0.7 else 1.0, size=sc.joints))
            resume(measured)
            paused_until = None
        waiting = ex.state == 'waiting'
        measured = arm.copy() if sc.measured_every_tick or waiting else None
        cmd = call('tick', ex.tick, now, measured)
        tally.ticks += 1
        if cmd is not None:
            tally.commands += 1
            tally.states[cmd.state] += 1
            p, v = cmd.positions.copy(), cmd.velocities.copy()
            for kind, detail in checker.check(p, v, cmd.state, measured):
                tally.violation(kind, f'seed {seed} t={now:.6f}: {detail}')
            if np.isfinite(p).all():        # the arm follows (a NaN command is a finding)
                arm = p + (nrng.normal(scale=1e-4, size=sc.joints) if rng.random() < 0.5
                           else 0.0)
            if rng.random() < 0.1:          # the caller owns what it got
                cmd.positions[:] = 1e9
                cmd.velocities[:] = -1e9
        later = advance(now, period, sc, rng)
        if later < now - CLOCK_JUMP_S:
            policy.clock_jumped(later)
            if paused_until is not None:
                paused_until = later + rng.uniform(0.0, 1.0)
        now = later
    tally.clock_jumps += ex.clock_jumps
    tally.rejected.update(ex.rejected)


def advance(now: float, period: float, sc: Scenario, rng: random.Random) -> float:
    """Return the time of the next tick: mostly a jittered period, sometimes anything."""
    u = rng.random()
    if u < sc.p_jump:
        return now - rng.uniform(2 * CLOCK_JUMP_S, 20.0)
    u -= sc.p_jump
    if u < sc.p_gap:
        return now + rng.uniform(0.05, 3.0)
    u -= sc.p_gap
    if u < sc.p_repeat:
        return now
    u -= sc.p_repeat
    if u < sc.p_back:
        return now - rng.uniform(0.0, 0.5 * CLOCK_JUMP_S)
    return now + period * (1.0 + sc.jitter * rng.uniform(-1.0, 1.0))


def fuzz(ticks: int, seed: int) -> tuple[Tally, float]:
    """Run scenarios until `ticks` ticks have run; return the tally and the wall time [s]."""
    tally = Tally()
    master = random.Random(seed)
    start = time.perf_counter()
    while tally.ticks < ticks:
        sc = draw_scenario(master)
        run_scenario(sc, master.getrandbits(63), min(master.randint(200, 5000),
                                                     ticks - tally.ticks), tally)
    return tally, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument('--ticks', type=int, default=1_000_000)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    from machine import cpu_model   # beside this script; the test imports it without that

    tally, wall = fuzz(args.ticks, args.seed)
    print(f'ticks {tally.ticks} in {tally.scenarios} scenarios, {tally.commands} commands '
          f'(seed {args.seed}); wall {wall:.1f} s on {cpu_model()}')
    print(f'states: {dict(sorted(tally.states.items()))}')
    print(f'clock jumps {tally.clock_jumps}, pauses {tally.pauses}, resumes {tally.resumes}')
    print(f'chunks offered {tally.offered} (by kind: {dict(sorted(tally.bad_offered.items()))})'
          f', accepted {tally.accepted}, rejected {sum(tally.rejected.values())}')
    for reason, n in sorted(tally.rejected.items()):
        print(f'  rejected {reason}: {n}')
    print(f'violations: {sum(tally.violations.values())}')
    for kind, n in sorted(tally.violations.items()):
        print(f'  {kind}: {n}, first: {tally.examples[kind]}')
    return 1 if tally.violations else 0


if __name__ == '__main__':
    raise SystemExit(main())
