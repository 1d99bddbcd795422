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

"""``vla-ros record``: scripted-expert episodes in simulation -> a LeRobot v3.0 dataset."""

from __future__ import annotations

import argparse
import logging

log = logging.getLogger('vla_ros.record')


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register this command's options."""
    parser.add_argument('--episodes', type=int, required=True, metavar='N',
                        help='number of successful episodes to write')
    parser.add_argument('--out', required=True, metavar='DIR',
                        help='dataset root; must be empty or absent')
    parser.add_argument('--seed', type=int, default=None, metavar='S',
                        help='seed of the first episode; episode k tries seed S + k '
                        '(default: sim.seed)')
    parser.add_argument('--tasks', nargs='+', default=None, metavar='TASK',
                        help='task names or instructions, taken in turn per episode '
                        '(default: sim.task if set, else every task in turn)')
    parser.add_argument('--image-size', default=None, metavar='HxW',
                        help='rendered image size, e.g. 96 or 96x128 (default: sim.image_height '
                        'x sim.image_width)')
    parser.add_argument('--fps', type=int, default=10,
                        help='frames (observations and actions) per second [Hz]')
    parser.add_argument('--control-rate-hz', type=float, default=100.0,
                        help='rate at which the expert updates joint targets between frames')
    parser.add_argument('--tail-s', type=float, default=0.5,
                        help='seconds of holding still recorded after the expert finishes')
    parser.add_argument('--workers', type=int, default=1,
                        help='parallel simulation processes (output is identical)')
    parser.add_argument('--perturb-rad', type=float, default=0.0, metavar='RAD',
                        help='DART-style recording: add smooth noise of up to this standard '
                        'deviation to the commanded arm joints while recording the '
                        "expert's unperturbed plan as the action (default 0: off)")
    parser.add_argument('--no-video', action='store_true',
                        help='skip the mp4 files (only the lossless frames/ cache; LeRobot '
                        'cannot read the result)')
    parser.add_argument('--no-frame-cache', action='store_true',
                        help='skip the lossless frames/ cache (readers then decode the mp4)')
    parser.add_argument('--keep-failures', action='store_true',
                        help='also write episodes the expert failed (default: skip them)')


def run(args: argparse.Namespace) -> int:
    """Record the episodes; print a one-line summary."""
    from contextlib import closing
    import dataclasses
    import sys

    from tqdm import tqdm

    from vla_ros.config import ConfigError, load_config, SimConfig
    from vla_ros.sim.dataset import DatasetError, DatasetWriter
    from vla_ros.sim.rollout import record_episodes
    from vla_ros.sim.tasks import parse_task, TaskError, TASKS

    sim = load_config(SimConfig, args.config, args.overrides)
    if args.image_size:
        height, width = _parse_size(args.image_size)
        sim = dataclasses.replace(sim, image_height=height, image_width=width)
    for name, value, ok, rule in (
            ('--episodes', args.episodes, args.episodes > 0, '> 0'),
            ('--fps', args.fps, args.fps > 0, '> 0'),
            ('--workers', args.workers, args.workers > 0, '> 0'),
            ('--perturb-rad', args.perturb_rad, 0 <= args.perturb_rad <= 0.5, 'in [0, 0.5]'),
            ('--control-rate-hz', args.control_rate_hz, args.control_rate_hz >= args.fps,
             '>= --fps'),
            ('--tail-s', args.tail_s, args.tail_s >= 0, '>= 0')):
        if not ok:
            raise ConfigError(f'{name}={value}: must be {rule}')
    tasks = args.tasks or ([sim.task] if sim.task else list(TASKS))
    for task in tasks:
        try:
            parse_task(task)
        except TaskError as exc:
            raise ConfigError(f'--tasks: {exc}') from None
    seed0 = sim.seed if args.seed is None else args.seed
    # Try at most twice as many seeds as episodes wanted: the expert fails almost never.
    jobs = [(seed0 + k, tasks[k % len(tasks)]) for k in range(2 * args.episodes)]
    try:
        writer = DatasetWriter(args.out, fps=args.fps, cameras=sim.cameras,
                               image_size=(sim.image_height, sim.image_width),
                               video=not args.no_video, frame_cache=not args.no_frame_cache)
    except DatasetError as exc:
        raise ConfigError(str(exc)) from None
    failures = 0
    results = record_episodes(sim, jobs, args.workers, fps=args.fps,
                              control_rate_hz=args.control_rate_hz, tail_s=args.tail_s,
                              perturb_rad=args.perturb_rad)
    # closing(): the workers stop when we have enough episodes, or on an error.
    with writer, closing(results), tqdm(total=args.episodes, unit='ep', desc='record') as bar:
        for episode in results:
            if not episode.success:
                failures += 1
                log.warning('seed %d (%s): the expert failed', episode.seed, episode.task)
                if not args.keep_failures:
                    continue
            writer.add_episode(episode.images, episode.state, episode.action,
                               episode.instruction, extras={'seed': episode.seed,
                                                            'task': episode.task,
                                                            'success': episode.success})
            bar.update()
            if writer.num_episodes == args.episodes:
                break
    if writer.num_episodes < args.episodes:
        print(f'vla-ros record: only {writer.num_episodes} of {args.episodes} episodes '
              f'succeeded', file=sys.stderr)
        return 1
    print(f'wrote {writer.num_episodes} episodes ({failures} expert failures skipped) '
          f'to {args.out}')
    return 0


def _parse_size(text: str) -> tuple[int, int]:
    from vla_ros.config import ConfigError

    parts = text.lower().split('x')
    try:
        sizes = [int(p) for p in parts]
    except ValueError:
        sizes = []
    if len(sizes) not in (1, 2) or min(sizes) < 16:
        raise ConfigError(f'--image-size={text}: must be N or HxW with sizes >= 16')
    return (sizes[0], sizes[-1])
