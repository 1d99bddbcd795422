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

"""``vla-ros eval``: closed-loop success rate of a policy on held-out simulated episodes."""

from __future__ import annotations

import argparse
import logging

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register this command's options."""
    add_eval_arguments(parser, episodes=50, out='outputs/eval')


def add_eval_arguments(parser: argparse.ArgumentParser, episodes: int, out: str) -> None:
    """Options shared by ``eval`` and ``demo``."""
    from vla_ros.evaluation.evaluate import HELD_OUT_SEED_START

    parser.add_argument('--policy', default='', metavar='DIR',
                        help='policy directory (default: the demo policy shipped in models/)')
    parser.add_argument('--episodes', type=int, default=episodes,
                        help=f'number of episodes (default {episodes})')
    parser.add_argument('--seed-start', type=int, default=HELD_OUT_SEED_START,
                        help='first episode seed; training data uses seeds below '
                        f'{HELD_OUT_SEED_START} (default {HELD_OUT_SEED_START})')
    parser.add_argument('--task', action='append', default=[], metavar='NAME',
                        help='task(s) to cycle through (default: every task)')
    parser.add_argument('--inference-delay-s', type=float, default=-1.0,
                        help='sim-time latency of each chunk; < 0: the measured wall-clock '
                        'latency of that inference (default -1)')
    parser.add_argument('--control-rate-hz', type=float, default=100.0,
                        help="executor rate in simulated time; replaces the parameter files' "
                        'chunk_executor.control_rate_hz; should divide sim.physics_rate_hz '
                        '(default 100)')
    parser.add_argument('--out', default=out, metavar='DIR',
                        help=f'where summary.json, table.md and joints.png go (default {out})')
    parser.add_argument('--video', default='', metavar='FILE',
                        help='rollout video of the first episode, .mp4 or .gif '
                        '(default OUT/rollout.mp4; "none" to skip)')
    # One thread: the model is small, and extra threads contending with the simulator (or
    # other work) raised the measured latency from ~0.2 s to ~1 s, past the 0.5 s trigger
    # horizon, so the arm stalled between chunks and episodes failed.
    parser.add_argument('--threads', type=int, default=1,
                        help="torch CPU threads (default 1; 0: torch's choice)")


def run(args: argparse.Namespace) -> int:
    """Evaluate; print the per-task success table."""
    print(evaluate_from_args(args)[1])
    return 0


def evaluate_from_args(args: argparse.Namespace):
    """Load everything the arguments name, evaluate; return (results, table text, video)."""
    from pathlib import Path

    import torch

    from vla_ros.config import ConfigError, ExecutorConfig, load_config, PolicyNodeConfig, \
        SimConfig
    from vla_ros.evaluation.evaluate import evaluate
    from vla_ros.evaluation.report import format_table, success_table
    from vla_ros.evaluation.rollout import RolloutSettings
    from vla_ros.evaluation.schedule import task_cycle
    from vla_ros.policy.registry import find_shipped_model, load_policy

    if args.episodes < 1:
        raise ConfigError(f'--episodes={args.episodes}: must be >= 1')
    if args.threads:
        torch.set_num_threads(args.threads)
    sim_cfg = load_config(SimConfig, args.config, args.overrides)
    exec_cfg = load_config(ExecutorConfig, args.config,
                           [f'executor.control_rate_hz={args.control_rate_hz}']
                           + list(args.overrides))
    node_cfg = load_config(PolicyNodeConfig, args.config, args.overrides)
    path = Path(args.policy or node_cfg.checkpoint_path or find_shipped_model())
    policy = load_policy(path)
    task_names = task_cycle()
    for task in args.task:
        if task not in task_names:
            raise ConfigError(f'--task={task!r}: must be one of ' + ', '.join(task_names))
    tasks = task_cycle(args.task)
    settings = RolloutSettings(inference_delay_s=args.inference_delay_s,
                               episode_time_s=sim_cfg.episode_time_s,
                               frame_period_s=1.0 / sim_cfg.camera_rate_hz)
    video = None if args.video == 'none' else Path(args.video or Path(args.out) / 'rollout.mp4')
    seeds = list(range(args.seed_start, args.seed_start + args.episodes))
    log.info('evaluating %s on %d episodes (seeds %d-%d), tasks %s', path, len(seeds),
             seeds[0], seeds[-1], ', '.join(tasks))
    results = evaluate(policy, sim_cfg, exec_cfg, node_cfg, seeds, tasks, settings, args.out,
                       video)
    return results, format_table(success_table(results)), video
