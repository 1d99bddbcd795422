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

"""Evaluate a policy on held-out episodes: rollouts, success table, video, joint plot."""

from __future__ import annotations

from dataclasses import replace
import logging
from pathlib import Path
import time
from typing import Sequence

from vla_ros.evaluation.report import (format_table, plot_joints, success_table,
                                       write_summary, write_video)
from vla_ros.evaluation.rollout import ClosedLoop, EpisodeResult, RolloutSettings
from vla_ros.evaluation.schedule import episode_task
from vla_ros.policy.registry import find_shipped_model  # noqa: F401 - where it was before

log = logging.getLogger(__name__)

# Training data is recorded from seeds below this; evaluation seeds start here, so an
# evaluation episode is never one the policy was trained on.
HELD_OUT_SEED_START = 100_000


def sim_executor_config(exec_cfg):
    """`exec_cfg` with the simulated arm's joint order and limits filled in where unset."""
    from vla_ros.sim.robot import JOINT_LIMITS, JOINT_NAMES

    def values(array):
        return tuple(float(v) for v in array)

    changes = {}
    if not exec_cfg.joint_names:
        changes['joint_names'] = JOINT_NAMES
    if not exec_cfg.position_lower and not exec_cfg.position_upper:
        changes['position_lower'] = values(JOINT_LIMITS.lower)
        changes['position_upper'] = values(JOINT_LIMITS.upper)
    if not exec_cfg.max_velocity:
        changes['max_velocity'] = values(JOINT_LIMITS.max_velocity)
    if not exec_cfg.max_acceleration:
        changes['max_acceleration'] = values(JOINT_LIMITS.max_acceleration)
    return replace(exec_cfg, **changes)


def in_process_runner(policy, node_cfg):
    """Return a `PolicyRunner` for the in-process loop: camera names stand in for topics."""
    from vla_ros.runtime.runner import PolicyRunner

    return PolicyRunner(policy, replace(node_cfg, camera_topics=tuple(policy.camera_names),
                                        camera_slots=(), compressed=()))


def evaluate(policy, sim_cfg, exec_cfg, node_cfg, seeds: Sequence[int], tasks: Sequence[str],
             settings: RolloutSettings, out_dir: str | Path, video: str | Path | None,
             progress: bool = True) -> list[EpisodeResult]:
    """
    Run one episode per seed, tasks as `vla_ros.evaluation.schedule`; write the reports.

    The policy runs inside the runtime the policy node uses, configured by `node_cfg` (a
    `PolicyNodeConfig`: trigger, observation checks), through the executor runtime configured
    by `exec_cfg`. Writes ``out_dir/summary.json``, ``out_dir/joints.png`` (commanded vs.
    measured joints of the first episode) and, if `video` is given, the first episode's video.
    """
    from tqdm import tqdm

    from vla_ros.config import ConfigError
    from vla_ros.runtime.execution import ExecutorRunner
    from vla_ros.sim import ArmEnv, JOINT_NAMES

    missing = [c for c in policy.camera_names if c not in sim_cfg.cameras]
    if missing:
        raise ConfigError(f'sim_node.cameras={list(sim_cfg.cameras)}: the policy needs camera(s) '
                          f'{missing}')
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    env = ArmEnv(sim_cfg)
    exec_cfg = sim_executor_config(exec_cfg)
    loop = ClosedLoop(env, in_process_runner(policy, node_cfg), ExecutorRunner(exec_cfg),
                      exec_cfg.control_rate_hz)
    results = []
    wall = time.monotonic()
    bar = tqdm(list(enumerate(seeds)), desc='eval', unit='episode', disable=not progress,
               dynamic_ncols=True)
    for i, seed in bar:
        first = i == 0
        episode_settings = replace(settings, trace=first,
                                   frame_period_s=settings.frame_period_s if first and video
                                   else 0.0)
        result = loop.run_episode(seed, episode_task(i, tasks), episode_settings)
        results.append(result)
        ok = sum(r.success for r in results)
        bar.set_postfix(success=f'{ok}/{len(results)}')
        log.debug('seed %d %s: %s in %.1f s', seed, result.task,
                  'success' if result.success else 'failure', result.duration_s)
        if first:
            if video:
                write_video(video, result.frames, fps=1.0 / settings.frame_period_s)
            plot_joints(out_dir / 'joints.png', result, JOINT_NAMES)
            result.frames = []
    bar.close()
    env.close()
    wall = time.monotonic() - wall
    write_summary(out_dir / 'summary.json', results,
                  {'source': 'vla-ros eval (in process, sim time)',
                   'seeds': list(seeds), 'wall_time_s': round(wall, 1),
                   'inference_delay_s': settings.inference_delay_s,
                   'trigger_horizon_s': node_cfg.trigger_horizon_s,
                   'control_rate_hz': exec_cfg.control_rate_hz,
                   'runtime': loop.runner.stats.values(loop.clock_s)})
    (out_dir / 'table.md').write_text(format_table(success_table(results)) + '\n')
    return results
