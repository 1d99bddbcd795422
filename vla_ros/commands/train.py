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
``vla-ros train``: train a small SmolVLA from scratch on expert demonstrations (CPU).

Demonstrations come from the scripted expert (``--episodes N``, recorded once and cached in
the run directory) or from a recorded dataset (``--dataset DIR``, ``vla-ros record``'s
output). Running the same command again on the same ``--out`` resumes from the newest
checkpoint. ``--set train.action_head=fast`` (or ``bins``) trains an autoregressive action head
on the same backbone and data instead of the flow-matching expert (docs/action_heads.md).
"""

from __future__ import annotations

import argparse
import logging

log = logging.getLogger(__name__)

# Training episodes use seeds from here up; evaluation uses HELD_OUT_SEED_START and above.
TRAIN_SEED_START = 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register this command's options."""
    parser.add_argument('--out', default='runs/demo_policy', metavar='DIR',
                        help='run directory: checkpoints, loss.csv, loss_curve.png, and the '
                        'final policy in DIR/policy (default runs/demo_policy)')
    parser.add_argument('--dataset', default='', metavar='DIR',
                        help='train on this recorded dataset instead of recording the expert')
    parser.add_argument('--episodes', type=int, default=150,
                        help='expert episodes to record when no --dataset (default 150)')
    parser.add_argument('--fps', type=float, default=10.0,
                        help='frame and action rate of recorded demonstrations (default 10; '
                        'a --dataset has its own)')
    parser.add_argument('--no-resume', action='store_true',
                        help='start over even if DIR has checkpoints')
    parser.add_argument('--init', default='', metavar='DIR',
                        help='fine-tune this policy (its weights, tokenizer and statistics) '
                        'instead of a new one, e.g. with train.rtc_max_delay_steps')
    parser.add_argument('--threads', type=int, default=0,
                        help="torch CPU threads (default: train.num_threads, else torch's)")
    parser.add_argument('--no-progress', action='store_true',
                        help='log lines instead of a progress bar')


def run(args: argparse.Namespace) -> int:
    """Record or load demonstrations, build the policy, train, write the final policy."""
    import dataclasses
    import json
    import shlex
    import shutil
    import sys
    from pathlib import Path

    from vla_ros.config import ConfigError, load_config, SimConfig
    from vla_ros.training.train_config import TrainConfig

    cfg = load_config(TrainConfig, args.config, args.overrides)
    if args.threads:
        cfg = dataclasses.replace(cfg, num_threads=args.threads)
    sim_cfg = load_config(SimConfig, args.config, args.overrides)
    if args.episodes < 1:
        raise ConfigError(f'--episodes={args.episodes}: must be >= 1')
    run_dir = Path(args.out)
    resume = not args.no_resume
    if not resume and run_dir.exists():
        shutil.rmtree(run_dir / 'checkpoints', ignore_errors=True)
    run_dir.mkdir(parents=True, exist_ok=True)

    import torch
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    from vla_ros.training.build import build_policy, load_or_record_episodes
    from vla_ros.training.data import ActionTokenBatches, ChunkSamples
    from vla_ros.training.trainer import train

    fps = args.fps
    if args.dataset:
        from vla_ros.training.dataset_episodes import dataset_fps
        fps = dataset_fps(args.dataset)
    episodes = load_or_record_episodes(run_dir, cfg, sim_cfg, args.dataset, args.episodes,
                                       TRAIN_SEED_START, fps)
    if args.init:
        policy = _initial_policy(args.init, cfg, fps)
    else:
        policy = build_policy(run_dir, cfg, episodes, action_dt_s=1.0 / fps)
    samples = ChunkSamples(episodes, policy, policy.model.config.chunk_size,
                           cfg.augment_shift_px, cfg.state_noise_std)
    if cfg.action_head != 'flow':
        # Autoregressive head: the same samples, plus their action-token targets.
        samples = ActionTokenBatches(samples, policy)
    if cfg.rtc_max_delay_steps:
        # Recorded in policy.json: a policy node runs it with rtc_guidance=trained.
        policy.training['rtc_max_delay_steps'] = cfg.rtc_max_delay_steps
    n_params = sum(p.numel() for p in policy.model.parameters())
    log.info('%d episodes, %d frames; model %.2f M parameters; %d steps of %d', len(episodes),
             len(samples), n_params / 1e6, cfg.steps, cfg.batch_size)
    info = {'command': 'vla-ros ' + ' '.join(shlex.quote(a) for a in sys.argv[1:]),
            'train_config': dataclasses.asdict(cfg), 'action_head': cfg.action_head,
            'episodes': len(episodes),
            'frames': len(samples), 'parameters': n_params,
            'seeds': 'dataset' if args.dataset else
            [TRAIN_SEED_START, TRAIN_SEED_START + args.episodes - 1]}

    def load_weights(path: Path) -> None:
        from safetensors.torch import load_file
        policy.model.load_state_dict(load_file(str(path / 'model.safetensors')))

    # SIGTERM (a job scheduler, `kill`) ends the run as Ctrl-C does: checkpoint, then exit.
    import signal
    signal.signal(signal.SIGTERM, _interrupt)
    result = train(policy.model, samples, cfg, run_dir, policy.save_pretrained, load_weights,
                   resume=resume, progress=not args.no_progress)
    final = run_dir / 'policy'
    if result.checkpoint is not None:
        shutil.rmtree(final, ignore_errors=True)
        shutil.copytree(result.checkpoint / 'policy', final)
    info.update(step=result.step, loss=result.loss, training_time_s=round(result.elapsed_s),
                stopped_early=result.stopped_early)
    (run_dir / 'train_info.json').write_text(json.dumps(info, indent=2) + '\n')
    state = 'stopped' if result.stopped_early else 'finished'
    print(f'{state} at step {result.step}/{cfg.steps}: loss {result.loss:.4f}, '
          f'{result.elapsed_s / 60:.1f} min of training; policy: {final}; '
          f'loss curve: {run_dir / "loss_curve.png"}')
    return 0


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _initial_policy(path, cfg, fps):
    """Load the policy to fine-tune; its tokenizer and statistics are kept as they are."""
    from vla_ros.config import ConfigError
    from vla_ros.policy.registry import load_policy
    from vla_ros.policy.smolvla import SmolVLAPolicy

    policy = load_policy(path)
    if not isinstance(policy, SmolVLAPolicy):
        raise ConfigError(f'--init={path}: a {type(policy).__name__} cannot be fine-tuned here')
    head = policy.head.kind if getattr(policy, 'head', None) is not None else 'flow'
    if head != cfg.action_head:
        raise ConfigError(f'train.action_head={cfg.action_head}: --init={path} has a {head} '
                          'head')
    model_cfg = policy.model.config
    for name, ours, theirs in (('train.chunk_size', cfg.chunk_size, model_cfg.chunk_size),
                               ('train.image_size', cfg.image_size,
                                model_cfg.resize_imgs_with_padding[0])):
        if ours != theirs:
            raise ConfigError(f'{name}={ours}: --init={path} was trained with {theirs}')
    if abs(policy.spec.action_dt_s - 1.0 / fps) > 1e-9:
        raise ConfigError(f'--fps={fps:g}: --init={path} acts every '
                          f'{policy.spec.action_dt_s:g} s')
    return policy
