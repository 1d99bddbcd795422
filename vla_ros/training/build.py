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
Assembling a training run: its demonstrations, tokenizer, statistics and fresh policy.

Everything a resumed run must see exactly as the interrupted one saw it (the episodes, the
tokenizer vocabulary) is written to the run directory the first time and read back after.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from vla_ros.training.data import EpisodeArrays

log = logging.getLogger(__name__)

EPISODE_CACHE = 'episodes.npz'


def load_or_record_episodes(run_dir: Path, cfg, sim_cfg, dataset: str, n_episodes: int,
                            seed_start: int, fps: float) -> list[EpisodeArrays]:
    """
    Return the run's demonstrations: its cache, else `dataset`, else freshly recorded.

    The cache is only reused for the same source, image size, frame rate and recording
    settings (kept beside it in ``episodes.json``): a resumed run must see the episodes the
    interrupted one saw, and a changed command must not silently train on stale ones.
    """
    import json

    from vla_ros.config import ConfigError
    from vla_ros.training.expert_data import record_expert_episodes

    cache = run_dir / EPISODE_CACHE
    meta_path = cache.with_suffix('.json')
    hw = (cfg.image_size, cfg.image_size)
    meta = {'source': f'dataset {dataset}' if dataset else 'scripted expert',
            'image_size': list(hw), 'fps': float(fps)}
    if not dataset:
        meta.update(episodes=int(n_episodes), seed_start=int(seed_start),
                    perturb_rad=float(cfg.record_perturb_rad),
                    sim_image_size=[sim_cfg.image_height, sim_cfg.image_width],
                    random_target_color=bool(sim_cfg.random_target_color))
    if cache.is_file():
        stored = json.loads(meta_path.read_text()) if meta_path.is_file() else None
        if stored is None:
            log.warning('%s has no %s: cannot check it matches this command; using it',
                        cache, meta_path.name)
        elif stored != meta:
            changed = ', '.join(f'{k}: cached {stored.get(k)!r}, now {meta.get(k)!r}'
                                for k in sorted(set(stored) | set(meta))
                                if stored.get(k) != meta.get(k))
            raise ConfigError(f'{cache}: recorded with other settings ({changed}); use a new '
                              '--out, or delete the cache to record again')
        episodes = read_episodes(cache)
        log.info('read %d cached episodes from %s', len(episodes), cache)
        return episodes
    if dataset:
        from vla_ros.training.dataset_episodes import read_dataset
        episodes = read_dataset(dataset, hw)
    else:
        from vla_ros.sim import TASKS
        seeds = range(seed_start, seed_start + n_episodes)
        episodes = record_expert_episodes(sim_cfg, list(seeds), hw, fps, tasks=list(TASKS),
                                          perturb_rad=cfg.record_perturb_rad,
                                          workers=cfg.record_workers)
    write_episodes(cache, episodes)
    meta_path.write_text(json.dumps(meta, indent=2) + '\n')
    return episodes


def write_episodes(path: Path, episodes: list[EpisodeArrays]) -> None:
    """Store episodes in one uncompressed .npz (fast to read back; images stay uint8)."""
    arrays = {}
    for i, e in enumerate(episodes):
        arrays[f'{i}/state'] = e.state
        arrays[f'{i}/action'] = e.action
        arrays[f'{i}/instruction'] = np.array(e.instruction)
        for name, images in e.images.items():
            arrays[f'{i}/images/{name}'] = images
    tmp = path.with_suffix('.tmp.npz')
    np.savez(tmp, **arrays)
    tmp.rename(path)


def read_episodes(path: Path) -> list[EpisodeArrays]:
    """Inverse of `write_episodes`."""
    data = np.load(path)
    count = 1 + max(int(k.split('/')[0]) for k in data.files)
    episodes = []
    for i in range(count):
        images = {k.split('/')[-1]: data[k] for k in data.files
                  if k.startswith(f'{i}/images/')}
        episodes.append(EpisodeArrays(images=images, state=data[f'{i}/state'],
                                      action=data[f'{i}/action'],
                                      instruction=str(data[f'{i}/instruction'])))
    return episodes


def build_policy(run_dir: Path, cfg, episodes: list[EpisodeArrays], action_dt_s: float):
    """
    Return a freshly initialised policy for this run (weights load later on resume).

    ``cfg.action_head`` flow gives a `SmolVLAPolicy`, fast or bins an `AutoregressivePolicy`
    whose vocabulary is the instruction tokenizer's plus the action tokens.
    """
    import torch

    from vla_ros.model import SmolVLA
    from vla_ros.model.config import SmolVLAConfig
    from vla_ros.policy import NormalizationStats, Policy, PolicySpec
    from vla_ros.sim import COLORS, JOINT_NAMES, TASKS
    from vla_ros.training.demo_model import demo_model_config
    from vla_ros.training.instruction_tokenizer import (load_instruction_tokenizer,
                                                        save_instruction_tokenizer,
                                                        train_instruction_tokenizer)

    tok_dir = run_dir / 'tokenizer'
    if (tok_dir / 'tokenizer.json').is_file():
        tokenizer = load_instruction_tokenizer(tok_dir)
    else:
        # Every colour of every template is in the vocabulary, so random_target_color
        # instructions are known words even if the demonstrations never used them.
        words = [t.format(color=c) for spec in TASKS.values() for t in spec.templates
                 for c in COLORS]
        tokenizer = train_instruction_tokenizer([e.instruction for e in episodes], words)
        save_instruction_tokenizer(tokenizer, tok_dir)
    state = np.concatenate([e.state for e in episodes])
    action = np.concatenate([e.action for e in episodes])
    stats = NormalizationStats(state.mean(0), state.std(0), action.mean(0), action.std(0),
                               eps=1e-6)
    vocabulary = None if cfg.action_head == 'flow' else action_vocabulary(
        run_dir, cfg, episodes, stats, tokenizer)
    vocab_size = len(tokenizer) if vocabulary is None else vocabulary.vocab_size
    dims = {'state_dim': state.shape[1], 'action_dim': action.shape[1]}
    if cfg.model_preset == 'demo':
        config = demo_model_config(cfg.image_size, cfg.chunk_size, vocab_size, **dims)
    elif cfg.model_preset == 'tiny':
        config = SmolVLAConfig.tiny(
            chunk_size=cfg.chunk_size, n_action_steps=cfg.chunk_size,
            resize_imgs_with_padding=(cfg.image_size, cfg.image_size),
            vision_image_size=cfg.image_size, vocab_size=vocab_size, **dims)
    else:
        config = SmolVLAConfig.smolvla_base(
            chunk_size=cfg.chunk_size, n_action_steps=cfg.chunk_size,
            vocab_size=vocab_size, freeze_vision_encoder=False, train_expert_only=False,
            **dims)
    torch.manual_seed(cfg.seed)
    spec = PolicySpec(camera_names=tuple(sorted(episodes[0].images)),
                      joint_names=tuple(JOINT_NAMES)[:action.shape[1]],
                      action_dt_s=action_dt_s)
    if vocabulary is None:
        return Policy(SmolVLA(config), tokenizer, stats, spec)
    from vla_ros.model.autoregressive import AutoregressiveVLA
    from vla_ros.policy.autoregressive import AutoregressivePolicy
    return AutoregressivePolicy(AutoregressiveVLA(config), tokenizer, stats, spec,
                                head=vocabulary)


def action_vocabulary(run_dir: Path, cfg, episodes: list[EpisodeArrays], stats, tokenizer):
    """
    Return the run's `ActionVocabulary`: read back from the run directory, else fitted.

    Fitted once on every training chunk, normalized as the policy normalizes actions, and
    written to ``run_dir/action_head.json`` + ``run_dir/action_tokenizer/`` so that a
    resumed run keeps the token ids it started with. The begin and end tokens are the
    instruction tokenizer's BOS and EOS, never part of an instruction.
    """
    import json

    from vla_ros.config import ConfigError
    from vla_ros.policy.action_vocabulary import ActionVocabulary, TOKENIZER_DIR
    from vla_ros.policy.interface import PolicyError
    from vla_ros.training.data import training_chunks

    path = run_dir / 'action_head.json'
    if path.is_file():
        try:
            vocabulary = ActionVocabulary.from_dict(json.loads(path.read_text()), run_dir)
        except (PolicyError, ValueError) as exc:
            raise ConfigError(f'{path}: {exc} (delete it and {TOKENIZER_DIR}/ to fit the '
                              'action tokenizer again)') from None
        if vocabulary.kind != cfg.action_head:
            raise ConfigError(f'train.action_head={cfg.action_head}: {run_dir} was started '
                              f'with {vocabulary.kind}; use a new --out or the same head')
        return vocabulary
    if tokenizer.bos_token_id is None or tokenizer.eos_token_id is None:
        raise ConfigError(f'train.action_head={cfg.action_head}: the instruction tokenizer '
                          'needs BOS and EOS tokens (to begin and end the action tokens)')
    chunks = training_chunks(episodes, cfg.chunk_size)
    # As SmolVLAPolicy.normalize_actions: the tokens encode the model's own action units.
    normalized = (chunks - stats.action_mean) / (stats.action_std + stats.eps)
    try:
        vocabulary = ActionVocabulary.fit(
            cfg.action_head, normalized, text_vocab_size=len(tokenizer),
            begin_id=tokenizer.bos_token_id, end_id=tokenizer.eos_token_id,
            fast_scale=cfg.fast_scale, fast_vocab_size=cfg.fast_vocab_size,
            n_bins=cfg.action_bins)
    except PolicyError as exc:      # e.g. a FAST vocabulary smaller than its code range
        raise ConfigError(f'train.action_head={cfg.action_head}: {exc}') from None
    log.info('%s head: %d action tokens (language-model ids %d..%d), at most %d per chunk',
             vocabulary.kind, vocabulary.n_action_tokens, vocabulary.first_action_id,
             vocabulary.last_action_id, vocabulary.max_decode_tokens - 1)
    vocabulary.save_tokenizer(run_dir / TOKENIZER_DIR)
    path.write_text(json.dumps(vocabulary.to_dict(), indent=2) + '\n')
    return vocabulary
