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

"""Run the scripted expert through an episode and keep what a dataset records."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
import multiprocessing
from typing import Iterable, Iterator

import numpy as np

from vla_ros.sim.expert import ScriptedExpert
from vla_ros.sim.robot import JOINT_LIMITS


@dataclass
class RecordedEpisode:
    """
    Frames of one expert episode at a fixed rate; arrays are indexed by frame.

    Frame ``k`` is at sim time ``k / fps``: ``images`` and ``state`` are observed then, and
    ``action`` is the expert's joint target for that same instant (the chunk executor's
    convention: step 0 of a chunk belongs to the observation time).
    """

    seed: int
    task: str
    instruction: str
    fps: float
    images: dict = field(repr=False)     # camera -> uint8 (T, H, W, 3)
    state: np.ndarray = field(repr=False)    # (T, 7) [rad, m]
    action: np.ndarray = field(repr=False)   # (T, 7) [rad, m]
    success: bool = False

    @property
    def length(self) -> int:
        """Return the number of frames."""
        return len(self.state)


def record_episode(env, seed: int, task: str | None = None, fps: float = 10,
                   control_rate_hz: float = 100.0, tail_s: float = 0.0,
                   perturb_rad: float = 0.0) -> RecordedEpisode:
    """
    Reset `env` to `seed` (and `task`), run the expert, return the frames at `fps`.

    Between frames the expert's smooth trajectory is commanded at `control_rate_hz`, as a chunk
    executor would. Frames cover the plan and `tail_s` more of holding still.

    `perturb_rad` > 0 records DART-style demonstrations: smooth noise (`SmoothNoise`, standard
    deviation up to `perturb_rad` per arm joint, drawn from `seed`) is added to what is
    *commanded*, while ``action`` stays the expert's plan. The arm then visits states beside
    the plan, each labelled with the way back to it: the states a learned policy drifts into,
    which clean demonstrations never show.
    """
    env.reset(seed, task)
    expert = ScriptedExpert(env)
    noise = (SmoothNoise(np.random.default_rng([seed, 0x0DA27]), perturb_rad)
             if perturb_rad > 0 else None)
    n_frames = int(np.floor((expert.duration_s + tail_s) * fps + 1e-9)) + 1
    sub_steps = max(1, int(round(control_rate_hz / fps)))
    images = {cam: [] for cam in env.config.cameras}
    state, action = [], []
    for k in range(n_frames):
        obs = env.observe()
        for cam, image in obs.images.items():
            images[cam].append(image)
        state.append(obs.state)
        action.append(expert.target(k / fps))
        if k == n_frames - 1:
            break
        for i in range(sub_steps):
            t = k / fps + i / (fps * sub_steps)
            target = expert.target(t)
            if noise is not None:
                target = JOINT_LIMITS.clip(target + noise(t))
            env.set_command(target)
            env.advance(1.0 / (fps * sub_steps))
    return RecordedEpisode(
        seed=seed, task=env.task, instruction=env.instruction, fps=fps,
        images={cam: np.stack(frames) for cam, frames in images.items()},
        state=np.array(state), action=np.array(action), success=env.success())


class SmoothNoise:
    """
    A smooth random offset of the arm joints over time: ``noise(t)`` -> (7,) [rad].

    Each arm joint gets three sinusoids of random frequency (0.2-1 Hz), phase and weight,
    normalised so the joint's offset has standard deviation ``scale * perturb_rad``, where
    ``scale`` is drawn once in [0, 1] (some episodes stay almost clean, some wander). The
    gripper (last entry) is left alone: its timing is the task. The offset fades in over the
    first 0.5 s, so every episode starts where the expert does.
    """

    FREQUENCIES_HZ = (0.2, 1.0)
    FADE_IN_S = 0.5

    def __init__(self, rng: np.random.Generator, perturb_rad: float, n_joints: int = 7,
                 n_waves: int = 3):
        arm = n_joints - 1
        self.freq = rng.uniform(*self.FREQUENCIES_HZ, size=(arm, n_waves))
        self.phase = rng.uniform(0.0, 2 * np.pi, size=(arm, n_waves))
        weights = rng.uniform(0.2, 1.0, size=(arm, n_waves))
        # A sum of sinusoids with amplitudes a_i has variance sum(a_i^2) / 2.
        scale = rng.uniform(0.0, 1.0) * perturb_rad
        self.amplitude = scale * weights * np.sqrt(2.0 / (weights ** 2).sum(-1, keepdims=True))
        self.n_joints = n_joints

    def __call__(self, t: float) -> np.ndarray:
        """Return the offset (7,) at time `t` since the reset [s]."""
        waves = self.amplitude * np.sin(2 * np.pi * self.freq * t + self.phase)
        offset = np.zeros(self.n_joints)
        offset[:-1] = waves.sum(-1) * min(1.0, max(0.0, t) / self.FADE_IN_S)
        return offset


def record_episodes(sim_cfg, jobs: Iterable[tuple[int, str | None]], workers: int = 1,
                    **kwargs) -> Iterator[RecordedEpisode]:
    """
    Record ``(seed, task)`` `jobs` with `record_episode` (`kwargs` passed on), in job order.

    ``workers > 1`` records in that many processes (spawned, each with its own `ArmEnv` and
    GL context): rendering dominates and is single-threaded, so two workers on two cores take
    about half the time. A consumer may stop early; the workers are then terminated.
    """
    jobs = list(jobs)
    if workers <= 1:
        from vla_ros.sim.env import ArmEnv

        env = ArmEnv(sim_cfg)
        try:
            for seed, task in jobs:
                yield record_episode(env, seed, task, **kwargs)
        finally:
            env.close()
        return
    pool = multiprocessing.get_context('spawn').Pool(workers, _init_worker, (sim_cfg,))
    try:
        yield from pool.imap(partial(_record_job, **kwargs), jobs)
    finally:
        pool.terminate()
        pool.join()


_ENV = None   # a pool worker's own simulation


def _init_worker(sim_cfg) -> None:
    global _ENV
    from vla_ros.sim.env import ArmEnv

    _ENV = ArmEnv(sim_cfg)


def _record_job(job, **kwargs) -> RecordedEpisode:
    seed, task = job
    return record_episode(_ENV, seed, task, **kwargs)
