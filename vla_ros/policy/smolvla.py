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
Observation -> action chunk: the one place that turns robot data into model tensors.

`SmolVLAPolicy` resizes and pads camera images, tokenizes the instruction, normalizes and pads
the joint state, samples the model, unnormalizes the actions and returns an `ActionChunk` in
the robot's joint order. Training uses the same `SmolVLAPolicy.prepare_batch` and
`SmolVLAPolicy.normalize_actions`, so train and inference preprocess identically.

The tokenizer is a ``transformers.PreTrainedTokenizerFast`` loaded from the checkpoint
directory (``tokenizer.json`` + ``tokenizer_config.json``; any tokenizer whose ``__call__``
accepts ``padding``/``truncation``/``max_length``/``padding_side``/``return_tensors='pt'``
works).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
import gc
import json
import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import torch

from vla_ros.control.action_chunk import ActionChunk
from vla_ros.model import RTCConfig, SmolVLA
from vla_ros.model.checkpoint import (
    CheckpointError, is_lerobot_checkpoint, is_number, json_object, lerobot_config, read_json,
    read_lerobot_stats, refuse_pickle)
from vla_ros.policy.interface import (Observation, PolicyError, PolicySpec, RTCInputError,
                                      VLAPolicy)
from vla_ros.policy.normalization import NormalizationStats
from vla_ros.policy.preprocessing import to_model_pixels

DTYPES = {'float32': torch.float32, 'bfloat16': torch.bfloat16, 'float16': torch.float16}
LEROBOT_CAMERA_PREFIX = 'observation.images.'


@dataclass
class SmolVLAPolicy(VLAPolicy):
    """A SmolVLA model with everything needed to run it on a robot (a flow-matching policy)."""

    model: SmolVLA
    tokenizer: Any
    stats: NormalizationStats | Mapping[str, Any]
    spec: PolicySpec
    _buffers: dict[str, torch.Tensor] = field(default_factory=dict, repr=False)
    rtc: RTCConfig | None = None        # real-time chunking; None: plain sampling
    training: dict[str, Any] = field(default_factory=dict)   # how it was trained (policy.json)

    def __post_init__(self):
        if not isinstance(self.stats, NormalizationStats):
            self.stats = NormalizationStats.from_dict(self.stats)
        c, s = self.model.config, self.stats
        n_joints, n_states = len(self.spec.joint_names), len(self.spec.states)
        checks = (
            (s.action_mean.size == n_joints, f'stats.action_mean: {s.action_mean.size} values '
                                             f'for {n_joints} joint_names'),
            (s.state_mean.size == n_states, f'stats.state_mean: {s.state_mean.size} values for '
                                            f'{n_states} state entries'),
            (n_joints <= c.max_action_dim, f'policy_spec.joint_names: {n_joints} joints, the '
                                           f'model has max_action_dim={c.max_action_dim}'),
            (n_states <= c.max_state_dim, f'policy_spec.state_names: {n_states} entries, the '
                                          f'model has max_state_dim={c.max_state_dim}'),
        )
        for ok, message in checks:
            if not ok:
                raise PolicyError(message)

    # ----------------------------------------------------------------------------------------
    # Pre- and post-processing.

    @property
    def device(self) -> torch.device:
        """Device of the model."""
        return self.model.device

    @property
    def dtype(self) -> torch.dtype:
        """Dtype of the model's weights."""
        return self.model.dtype

    @property
    def horizon(self) -> int:
        """Return the steps per chunk (``chunk_size``)."""
        return self.model.config.chunk_size

    def set_num_steps(self, num_steps: int) -> None:
        """Set the number of flow-matching (Euler) steps of `predict_chunk`."""
        self.model.config.num_steps = int(num_steps)

    def set_rtc(self, guidance: str, schedule: str = 'linear', max_guidance_weight: float = 10.0,
                execution_horizon: int = 0) -> None:
        """
        Turn real-time chunking on (`guidance`: lerobot, vjp or trained) or off ('').

        `execution_horizon` 0 means the whole chunk. ``trained`` expects a policy trained
        with delayed prefixes (``training['rtc_max_delay_steps']``); on another it runs but the
        model has never seen a clamped prefix.
        """
        if not guidance:
            self.rtc = None
            return
        horizon = execution_horizon or self.horizon
        if horizon > self.horizon:
            raise PolicyError(f'rtc_execution_horizon={execution_horizon}: must be <= the '
                              f'chunk length {self.horizon}')
        try:
            self.rtc = RTCConfig(schedule=schedule, max_guidance_weight=max_guidance_weight,
                                 execution_horizon=horizon, guidance=guidance)
        except ValueError as exc:
            raise PolicyError(str(exc)) from None

    def close(self) -> None:
        """Drop the model and give its accelerator memory back."""
        device = str(self.device)
        self.model = None
        gc.collect()
        if device.startswith('cuda'):
            torch.cuda.empty_cache()

    def tokenize(self, instructions: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Token ids (B, L) and mask (B, L) of instructions, newline-terminated as LeRobot."""
        c = self.model.config
        texts = [t if t.endswith('\n') else t + '\n' for t in instructions]
        out = self.tokenizer(texts, max_length=c.tokenizer_max_length, truncation=True,
                             padding=c.pad_language_to, padding_side='right',
                             return_tensors='pt')
        return (out['input_ids'].to(self.device),
                out['attention_mask'].to(self.device, torch.bool))

    def normalize_state(self, state: np.ndarray) -> torch.Tensor:
        """(B, S) raw state -> (B, max_state_dim) normalized, zero-padded float32 tensor."""
        state = np.asarray(state, dtype=np.float64)
        state = state[None] if state.ndim == 1 else state
        if state.ndim != 2 or state.shape[1] != self.stats.state_mean.size:
            raise PolicyError(f'state has shape {state.shape}: expected (B, '
                              f'{self.stats.state_mean.size}) in order {list(self.spec.states)}')
        norm = (state - self.stats.state_mean) / (self.stats.state_std + self.stats.eps)
        return self._pad(norm, self.model.config.max_state_dim)

    def normalize_actions(self, actions: np.ndarray,
                          state: np.ndarray | None = None) -> torch.Tensor:
        """
        (B, H, A) raw actions -> (B, H, max_action_dim) normalized, zero-padded tensor.

        With ``action_mode='delta'`` the (B, S) `state` is subtracted first.
        """
        actions = np.asarray(actions, dtype=np.float64)
        if actions.ndim != 3 or actions.shape[2] != len(self.spec.joint_names):
            raise PolicyError(f'actions have shape {actions.shape}: expected (B, H, '
                              f'{len(self.spec.joint_names)})')
        if self.spec.action_mode == 'delta':
            if state is None:
                raise PolicyError('normalize_actions: delta actions need the state')
            actions = actions - self._joint_state(np.asarray(state, np.float64))[:, None]
        norm = (actions - self.stats.action_mean) / (self.stats.action_std + self.stats.eps)
        return self._pad(norm, self.model.config.max_action_dim)

    def unnormalize_actions(self, actions: torch.Tensor) -> np.ndarray:
        """(B, H, max_action_dim) model output -> (B, H, A) float64 (LeRobot: x * std + mean)."""
        real = actions[..., :len(self.spec.joint_names)].double().cpu().numpy()
        return real * self.stats.action_std + self.stats.action_mean

    def prepare_batch(self, images: Mapping[str, np.ndarray], state: np.ndarray,
                      instructions: Sequence[str]) -> dict[str, Any]:
        """
        Model inputs from raw data: uint8 (B, H, W, 3) per camera, (B, S) state, B texts.

        Returns ``images``, ``img_masks``, ``lang_tokens``, ``lang_masks`` and ``state`` as
        `SmolVLA.sample_actions` and `SmolVLA.compute_loss` take them (add ``actions`` from
        `normalize_actions` to train).
        """
        c = self.model.config
        missing = [n for n in self.spec.camera_names if n not in images]
        if missing:
            raise PolicyError(f'images: camera(s) {missing} missing; the policy needs '
                              f'{list(self.spec.camera_names)}')
        height, width = c.image_hw
        pixels = [to_model_pixels(images[n], height, width, self.device)
                  for n in self.spec.camera_names]
        batch = pixels[0].shape[0]
        tokens, masks = self.tokenize(list(instructions))
        state_t = self.normalize_state(state)
        if {p.shape[0] for p in pixels} | {tokens.shape[0], state_t.shape[0]} != {batch}:
            raise PolicyError('prepare_batch: images, state and instructions must have the '
                              'same batch size')
        return {
            'images': pixels,
            'img_masks': [torch.ones(batch, dtype=torch.bool, device=self.device)] * len(pixels),
            'lang_tokens': tokens, 'lang_masks': masks, 'state': state_t,
        }

    @torch.no_grad()
    def predict_chunk(self, obs: Observation, *, noise: torch.Tensor | None = None,
                      prev_chunk: ActionChunk | None = None,
                      inference_delay_s: float = 0.0) -> ActionChunk:
        """
        Predict the action chunk for one observation (unnormalized, policy joint order).

        Step k of the chunk is the target for ``obs.stamp + k * spec.action_dt_s``. `noise`
        (1, chunk_size, max_action_dim) makes the sample deterministic. With real-time chunking
        on (`set_rtc`), `prev_chunk` (what the executor will command from ``obs.stamp`` on, in
        the policy's joints, on its action grid) is continued: its first
        ``ceil(inference_delay_s / action_dt_s)`` steps are frozen, the rest guided towards it;
        an unusable one raises `RTCInputError`.
        """
        self.model.eval()
        state = np.asarray(obs.state, dtype=np.float64).reshape(1, -1)
        batch = self.prepare_batch({n: np.asarray(img)[None] for n, img in obs.images.items()},
                                   state, [obs.instruction])
        if self.rtc is not None and prev_chunk is not None:
            batch.update(self._rtc_inputs(prev_chunk, inference_delay_s, state))
        try:
            actions = self.model.sample_actions(**batch, noise=noise)  # (1, chunk, A_max)
        except ValueError as exc:
            if 'prev_chunk' not in batch:
                raise
            raise RTCInputError(str(exc)) from None
        positions = self.unnormalize_actions(actions)[0]                # (chunk, A)
        if self.spec.action_mode == 'delta':
            positions = positions + self._joint_state(state)[0]
        return ActionChunk(self.spec.joint_names, float(obs.stamp), self.spec.action_dt_s,
                           positions)

    def _rtc_inputs(self, prev: ActionChunk, delay_s: float, state: np.ndarray) -> dict:
        """Return the previous chunk in model space (normalized, padded), the delay in steps."""
        if tuple(prev.joint_names) != self.spec.joint_names:
            raise RTCInputError(f'prev_chunk joints {list(prev.joint_names)}: must be '
                                f'{list(self.spec.joint_names)}')
        if abs(prev.dt - self.spec.action_dt_s) > 1e-9 * self.spec.action_dt_s:
            raise RTCInputError(f'prev_chunk.dt={prev.dt:g}: must be the action dt '
                                f'{self.spec.action_dt_s:g}')
        if not (np.isfinite(delay_s) and delay_s >= 0):
            raise RTCInputError(f'inference_delay_s={delay_s}: must be finite and >= 0')
        steps = prev.positions[:self.horizon]
        try:
            normalized = self.normalize_actions(steps[None], state)      # (1, T_prev, A_max)
        except PolicyError as exc:
            raise RTCInputError(f'prev_chunk: {exc}') from None
        delay = min(math.ceil(delay_s / self.spec.action_dt_s - 1e-9), len(steps))
        return {'prev_chunk': normalized, 'inference_delay': delay, 'rtc': self.rtc}

    def _joint_state(self, state: np.ndarray) -> np.ndarray:
        index = [self.spec.states.index(j) for j in self.spec.joint_names]
        return state.reshape(-1, len(self.spec.states))[:, index]

    def _pad(self, values: np.ndarray, size: int) -> torch.Tensor:
        out = torch.zeros(*values.shape[:-1], size, dtype=torch.float32, device=self.device)
        out[..., :values.shape[-1]] = torch.as_tensor(values, dtype=torch.float32)
        return out

    # ----------------------------------------------------------------------------------------
    # Devices and checkpoints.

    def to(self, device: str | torch.device = 'cpu',
           dtype: str | torch.dtype = 'float32') -> 'SmolVLAPolicy':
        """Move the model (in place) to `device` and `dtype` ('float32' or 'bfloat16')."""
        if isinstance(dtype, str):
            if dtype not in DTYPES:
                raise PolicyError(f'dtype={dtype!r}: must be one of ' + ', '.join(DTYPES))
            dtype = DTYPES[dtype]
        self.model.to(device=device, dtype=dtype)
        return self

    def save_pretrained(self, path: str | Path) -> None:
        """Write model, ``policy.json`` (spec + stats) and tokenizer files into `path`."""
        directory = Path(path)
        self.model.save_pretrained(directory)
        spec = dataclasses.asdict(self.spec)
        data = {'spec': {k: list(v) if isinstance(v, tuple) else v for k, v in spec.items()},
                'stats': self.stats.to_dict()}
        if self.training:
            data['training'] = self.training
        (directory / 'policy.json').write_text(json.dumps(data, indent=2) + '\n')
        self.tokenizer.save_pretrained(str(directory))

    @classmethod
    def from_pretrained(cls, path: str | Path, device: str = 'cpu', dtype: str = 'float32',
                        vlm_path: str | Path | None = None,
                        **spec_overrides: Any) -> 'SmolVLAPolicy':
        """
        Load our checkpoint directory or, detected by its config.json, a LeRobot one.

        For a LeRobot checkpoint the cameras are its ``observation.images.*`` features (the
        prefix dropped), the joints ``joint_0..`` unless `spec_overrides` names them, and the
        tokenizer comes from the local SmolVLM2 directory (`vlm_path` or the config's
        ``vlm_model_name``). `spec_overrides` replace `PolicySpec` fields in either case.
        """
        directory = Path(path)
        refuse_pickle(directory)
        if is_lerobot_checkpoint(directory):
            policy = cls._from_lerobot(directory, vlm_path, spec_overrides)
        else:
            policy_json = directory / 'policy.json'
            data = read_json(policy_json)
            spec_data = spec_from_json(json_object(data, 'spec', policy_json), policy_json)
            stats_data = json_object(data, 'stats', policy_json)
            try:
                spec = PolicySpec(**{**spec_data, **spec_overrides})
                stats = NormalizationStats.from_dict(stats_data)
            except PolicyError as exc:
                raise CheckpointError(f'{policy_json}: {exc}') from None
            model = SmolVLA.from_pretrained(directory)
            training = data.get('training', {})
            if not isinstance(training, dict):
                raise CheckpointError(f'{policy_json}: training={training!r}: must be an object')
            try:
                policy = cls(model, load_tokenizer(directory), stats, spec, training=training)
            except PolicyError as exc:
                raise CheckpointError(f'{policy_json}: does not fit the model in '
                                      f"{directory / 'config.json'}: {exc}") from None
        return policy.to(device, dtype)

    @classmethod
    def _from_lerobot(cls, directory: Path, vlm_path: str | Path | None,
                      spec_overrides: Mapping[str, Any]) -> 'SmolVLAPolicy':
        # lerobot_config checks every field it reads, input_features included.
        _, lerobot, vlm_dir = lerobot_config(directory, vlm_path)
        config_json = directory / 'config.json'
        empty = lerobot.get('empty_cameras', 0)
        if empty != 0 or isinstance(empty, bool):
            raise CheckpointError(f'{config_json}: empty_cameras={empty!r}: only 0 is '
                                  'supported by vla_ros')
        model = SmolVLA.from_lerobot(directory, vlm_dir)
        try:
            stats = NormalizationStats(**read_lerobot_stats(directory))
        except PolicyError as exc:
            raise CheckpointError(f'{directory}: normalization statistics: {exc}') from None
        cameras = [name[len(LEROBOT_CAMERA_PREFIX):] if name.startswith(LEROBOT_CAMERA_PREFIX)
                   else name for name, feature in lerobot.get('input_features', {}).items()
                   if feature.get('type') == 'VISUAL']
        try:
            spec = PolicySpec(**{'camera_names': cameras, 'joint_names': [
                f'joint_{i}' for i in range(stats.action_mean.size)], **spec_overrides})
            tokenizer_dir = vlm_dir if vlm_dir is not None else directory
            return cls(model, load_tokenizer(tokenizer_dir), stats, spec)
        except PolicyError as exc:
            raise CheckpointError(f'{config_json}: {exc}') from None


def spec_from_json(data: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """
    Check the types of ``policy.json``'s ``spec`` object and return it.

    `PolicySpec` checks the values; this catches what it would misread, such as a camera
    name string taken for a list of one-letter names.
    """
    fields = {f.name for f in dataclasses.fields(PolicySpec)}
    unknown = sorted(set(data) - fields)
    if unknown:
        raise CheckpointError(f'{path}: spec.{unknown[0]}: unknown field (known: '
                              + ', '.join(sorted(fields)) + ')')
    for name in ('camera_names', 'joint_names'):
        if name not in data:
            raise CheckpointError(f'{path}: spec.{name}: missing')
    for name in ('camera_names', 'joint_names', 'state_names'):
        value = data.get(name, [])
        if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise CheckpointError(f'{path}: spec.{name}={value!r}: must be a list of strings')
    if 'action_dt_s' in data and not is_number(data['action_dt_s']):
        raise CheckpointError(f"{path}: spec.action_dt_s={data['action_dt_s']!r}: must be a "
                              'number')
    if not isinstance(data.get('action_mode', ''), str):
        raise CheckpointError(f"{path}: spec.action_mode={data['action_mode']!r}: must be a "
                              'string')
    return dict(data)


def load_tokenizer(directory: str | Path):
    """Load the ``PreTrainedTokenizerFast`` saved in `directory` (never downloads)."""
    from transformers import PreTrainedTokenizerFast

    directory = Path(directory)
    if not (directory / 'tokenizer.json').is_file():
        raise CheckpointError(f"{directory / 'tokenizer.json'}: missing (the language "
                              'tokenizer; for a LeRobot checkpoint pass vlm_path= a local '
                              'SmolVLM2 directory)')
    try:
        return PreTrainedTokenizerFast.from_pretrained(str(directory), local_files_only=True)
    # The Rust tokenizers library raises a bare Exception for a file it cannot parse.
    except Exception as exc:  # noqa: BLE001
        raise CheckpointError(f'{directory}: tokenizer.json or tokenizer_config.json unreadable '
                              f'({type(exc).__name__}: {exc})') from None


# The name this class had before a second policy kind was possible; kept for existing code.
Policy = SmolVLAPolicy
