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

"""SmolVLA hyper-parameters: one dataclass, LeRobot's field names, two presets."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
import math
import numbers
from typing import Any, Mapping

_NO_VALUE = object()

# Upper bounds: far above any SmolVLA/SmolVLM size, low enough that a typo (a vocabulary of
# 1e11) is refused before a tensor of that size is allocated.
MAX_WIDTH = 1 << 16         # hidden and MLP sizes
MAX_LAYERS = 256
MAX_HEADS = 1024
MAX_VOCAB_SIZE = 1 << 21
MAX_CHUNK_SIZE = 4096       # chunk_size, n_action_steps
MAX_NUM_STEPS = 1000
MAX_DIM = 4096              # state/action dimensions
MAX_TOKENS = 1 << 16        # tokenizer_max_length
MAX_IMAGE_SIZE = 8192       # vision_image_size, resize_imgs_with_padding
MAX_PATCHES_PER_SIDE = 1024
LIMITS = {
    'chunk_size': MAX_CHUNK_SIZE, 'n_action_steps': MAX_CHUNK_SIZE, 'num_steps': MAX_NUM_STEPS,
    'max_state_dim': MAX_DIM, 'max_action_dim': MAX_DIM, 'tokenizer_max_length': MAX_TOKENS,
    'num_vlm_layers': MAX_LAYERS, 'num_expert_layers': MAX_LAYERS,
    'self_attn_every_n_layers': MAX_LAYERS, 'vision_hidden_size': MAX_WIDTH,
    'vision_intermediate_size': MAX_WIDTH, 'vision_num_hidden_layers': MAX_LAYERS,
    'vision_num_attention_heads': MAX_HEADS, 'vision_patch_size': MAX_IMAGE_SIZE,
    'vision_image_size': MAX_IMAGE_SIZE, 'scale_factor': MAX_PATCHES_PER_SIDE,
    'text_hidden_size': MAX_WIDTH, 'text_intermediate_size': MAX_WIDTH,
    'text_num_attention_heads': MAX_HEADS, 'text_num_key_value_heads': MAX_HEADS,
    'text_head_dim': MAX_WIDTH, 'text_num_hidden_layers': MAX_LAYERS,
    'vocab_size': MAX_VOCAB_SIZE, 'expert_width_multiplier': 16.0,
}


class ModelConfigError(ValueError):
    """
    A model configuration value is invalid; the message names field, value and rule.

    ``field``, ``value`` and ``rule`` are kept apart so that a checkpoint loader can name
    the file and the JSON key the value came from instead of ``smolvla.<field>``.
    """

    def __init__(self, field: str, rule: str | None = None, value: Any = _NO_VALUE):
        # One argument: a whole message (as pickling re-creates an exception from its args).
        self.field, self.rule, self.value = field, rule, value
        super().__init__(field if rule is None else self.describe())

    def describe(self, prefix: str = 'smolvla.', name: str | None = None) -> str:
        """
        Return ``<prefix><field>=<value>: <rule>`` (no ``=value`` for an unknown field).

        `name` replaces the field's name, for a value read from a key of another name.
        """
        if self.rule is None:
            return self.field
        shown = '' if self.value is _NO_VALUE else f'={self.value!r}'
        return f'{prefix}{name or self.field}{shown}: {self.rule}'


def expert_intermediate_size(width: int, multiplier: int = 4, multiple_of: int = 256) -> int:
    """
    MLP width of the action expert, as LeRobot derives it from the expert width.

    Llama's 2/3 * 4 * width rounded up to a multiple of 256: 720 -> 2048, 480 -> 1280.
    """
    hidden = int(multiplier * int(2 * width / 3))
    return multiple_of * ((hidden + multiple_of - 1) // multiple_of)


@dataclass
class SmolVLAConfig:
    """
    Every SmolVLA hyper-parameter.

    Policy fields keep LeRobot's ``SmolVLAConfig`` names; backbone fields are the SmolVLM2
    vision (``vision_*``) and text (``text_*``) sizes that LeRobot reads from the VLM's own
    ``config.json``. ``SmolVLAConfig.smolvla_base()`` is ``lerobot/smolvla_base``;
    ``SmolVLAConfig.tiny()`` is a few-kilobyte model for tests and demos.
    """

    # Action chunk and flow matching.
    chunk_size: int = 50
    n_action_steps: int = 50
    num_steps: int = 10
    max_state_dim: int = 32
    max_action_dim: int = 32
    state_dim: int = 0            # the robot's real state size; 0: max_state_dim
    action_dim: int = 0           # the robot's real action size; 0: max_action_dim
    min_period: float = 4e-3      # sinusoidal time embedding periods
    max_period: float = 4.0
    # Images and language.
    resize_imgs_with_padding: tuple[int, int] = (512, 512)   # (width, height), as LeRobot
    tokenizer_max_length: int = 48
    pad_language_to: str = 'longest'
    # Backbone depth and action expert.
    num_vlm_layers: int = 16
    num_expert_layers: int = -1   # <= 0: as many as num_vlm_layers (the only layout supported)
    self_attn_every_n_layers: int = 2
    expert_width_multiplier: float = 0.75
    attention_mode: str = 'cross_attn'
    # Fine-tuning switches (LeRobot's meaning).
    freeze_vision_encoder: bool = True
    train_expert_only: bool = True
    train_state_proj: bool = True
    # SigLIP vision encoder of SmolVLM2.
    vision_hidden_size: int = 768
    vision_intermediate_size: int = 3072
    vision_num_hidden_layers: int = 12
    vision_num_attention_heads: int = 12
    vision_patch_size: int = 16
    vision_image_size: int = 512
    vision_layer_norm_eps: float = 1e-6
    scale_factor: int = 4         # pixel-shuffle factor of the connector
    # SmolLM2 text decoder of SmolVLM2.
    text_hidden_size: int = 960
    text_intermediate_size: int = 2560
    text_num_attention_heads: int = 15
    text_num_key_value_heads: int = 5
    text_head_dim: int = 64
    text_num_hidden_layers: int = 32    # depth of the source VLM; the first num_vlm_layers run
    vocab_size: int = 49280
    rms_norm_eps: float = 1e-5
    # LeRobot's RoPE ignores the VLM's rope_theta (100000) and always uses 10000.
    rope_theta: float = 10000.0
    vlm_model_name: str = 'HuggingFaceTB/SmolVLM2-500M-Video-Instruct'

    def __post_init__(self):
        for f in dataclasses.fields(self):
            setattr(self, f.name, _checked_type(f.name, f.type, getattr(self, f.name)))
        for name, limit in LIMITS.items():
            self._require(name, getattr(self, name) <= limit, f'must be <= {limit}')
        positive = ('chunk_size', 'n_action_steps', 'num_steps', 'max_state_dim',
                    'max_action_dim', 'tokenizer_max_length', 'num_vlm_layers',
                    'vision_hidden_size', 'vision_intermediate_size',
                    'vision_num_hidden_layers', 'vision_num_attention_heads',
                    'vision_patch_size', 'vision_image_size', 'scale_factor',
                    'text_hidden_size', 'text_intermediate_size', 'text_num_attention_heads',
                    'text_num_key_value_heads', 'text_head_dim', 'vocab_size')
        for name in positive:
            self._require(name, getattr(self, name) > 0, 'must be > 0')
        self._require('n_action_steps', self.n_action_steps <= self.chunk_size,
                      f'must be <= chunk_size ({self.chunk_size})')
        self._require('state_dim', 0 <= self.state_dim <= self.max_state_dim,
                      f'must be in [0, max_state_dim={self.max_state_dim}]')
        self._require('action_dim', 0 <= self.action_dim <= self.max_action_dim,
                      f'must be in [0, max_action_dim={self.max_action_dim}]')
        self._require('num_vlm_layers', self.num_vlm_layers <= self.text_num_hidden_layers,
                      f'must be <= text_num_hidden_layers ({self.text_num_hidden_layers})')
        self._require('num_expert_layers', self.num_expert_layers <= 0
                      or self.num_expert_layers == self.num_vlm_layers,
                      'must be <= 0 or equal num_vlm_layers (fewer expert layers is not '
                      'supported)')
        self._require('self_attn_every_n_layers', self.self_attn_every_n_layers > 0,
                      'must be > 0')
        self._require('attention_mode', self.attention_mode == 'cross_attn',
                      "must be 'cross_attn' (the only mode SmolVLA checkpoints use)")
        self._require('pad_language_to', self.pad_language_to in ('longest', 'max_length'),
                      "must be 'longest' or 'max_length'")
        self._require('expert_width_multiplier', self.expert_width_multiplier > 0,
                      'must be > 0')
        self._require('min_period', 0 < self.min_period < self.max_period,
                      f'must be in (0, max_period={self.max_period})')
        # 2 pi / period and (max / min) ** f must stay finite, in float32 too (mps).
        self._require('min_period', self.min_period >= 1e-9, 'must be >= 1e-9')
        self._require('max_period', self.max_period <= 1e9, 'must be <= 1e9')
        for name in ('vision_layer_norm_eps', 'rms_norm_eps'):
            self._require(name, getattr(self, name) > 0, 'must be > 0')
        # A base below 1 makes the rotary frequencies overflow to inf (NaN actions).
        self._require('rope_theta', self.rope_theta >= 1, 'must be >= 1')
        self._require('text_num_attention_heads',
                      self.text_num_attention_heads % self.text_num_key_value_heads == 0,
                      f'must be a multiple of text_num_key_value_heads '
                      f'({self.text_num_key_value_heads})')
        self._require('vision_hidden_size',
                      self.vision_hidden_size % self.vision_num_attention_heads == 0,
                      f'must be a multiple of vision_num_attention_heads '
                      f'({self.vision_num_attention_heads})')
        self._require('vision_image_size', self.vision_image_size % self.vision_patch_size == 0,
                      f'must be a multiple of vision_patch_size ({self.vision_patch_size})')
        side = self.vision_image_size // self.vision_patch_size
        self._require('vision_image_size', side <= MAX_PATCHES_PER_SIDE,
                      f'gives {side} patches per side of {self.vision_patch_size} pixels: must '
                      f'be <= {MAX_PATCHES_PER_SIDE}')
        self._require('scale_factor', side % self.scale_factor == 0,
                      f'must divide the {side} patches per side')
        self._require('expert_width_multiplier', self.expert_hidden_size > 0
                      and self.expert_hidden_size % 2 == 0,
                      f'gives expert width {self.expert_hidden_size}: must be even and > 0')
        self._require('resize_imgs_with_padding',
                      0 < min(self.resize_imgs_with_padding)
                      and max(self.resize_imgs_with_padding) <= MAX_IMAGE_SIZE,
                      f'must be (width, height), each in [1, {MAX_IMAGE_SIZE}]')

    def _require(self, name: str, ok: bool, rule: str) -> None:
        if not ok:
            raise ModelConfigError(name, rule, getattr(self, name))

    def check_runnable(self) -> None:
        """
        Raise `ModelConfigError` for a config that builds but cannot predict.

        Not part of construction, so that tests may build parts (a connector) at other
        sizes; checkpoint loaders call it so that such a file fails at load.
        """
        side = self.vision_image_size
        self._require('resize_imgs_with_padding', self.resize_imgs_with_padding == (side, side),
                      f'must be [{side}, {side}]: the vision encoder takes square images of '
                      f'vision_image_size={side}')

    # ----------------------------------------------------------------------------------------
    # Derived sizes.

    @property
    def expert_hidden_size(self) -> int:
        """Width of the action expert: ``int(text_hidden_size * expert_width_multiplier)``."""
        return int(self.text_hidden_size * self.expert_width_multiplier)

    @property
    def expert_intermediate_size(self) -> int:
        """MLP width of the action expert (LeRobot's rounding rule)."""
        return expert_intermediate_size(self.expert_hidden_size)

    @property
    def n_img_tokens(self) -> int:
        """Tokens per camera after the pixel shuffle: (image / patch / scale)^2."""
        side = self.vision_image_size // self.vision_patch_size // self.scale_factor
        return side * side

    @property
    def image_hw(self) -> tuple[int, int]:
        """(height, width) images are resized and padded to."""
        width, height = self.resize_imgs_with_padding
        return height, width

    @property
    def real_state_dim(self) -> int:
        """State entries that carry data (the rest is zero padding)."""
        return self.state_dim or self.max_state_dim

    @property
    def real_action_dim(self) -> int:
        """Return the action entries that carry data (the rest is zero padding)."""
        return self.action_dim or self.max_action_dim

    # ----------------------------------------------------------------------------------------
    # Presets and (de)serialisation.

    @classmethod
    def smolvla_base(cls, **overrides: Any) -> 'SmolVLAConfig':
        """Return the sizes of ``lerobot/smolvla_base`` (SmolVLM2-500M, 16 layers, 720 expert)."""
        return dataclasses.replace(cls(), **overrides)

    @classmethod
    def tiny(cls, **overrides: Any) -> 'SmolVLAConfig':
        """
        Return a model of a few hundred kilobytes for tests and from-scratch demos.

        Everything trains (no frozen backbone): a random backbone is of no use frozen.
        """
        base = {
            'chunk_size': 8, 'n_action_steps': 8, 'num_steps': 4, 'max_state_dim': 8,
            'max_action_dim': 8, 'resize_imgs_with_padding': (32, 32),
            'tokenizer_max_length': 16, 'num_vlm_layers': 2, 'self_attn_every_n_layers': 2,
            'expert_width_multiplier': 0.75, 'freeze_vision_encoder': False,
            'train_expert_only': False, 'vision_hidden_size': 32,
            'vision_intermediate_size': 64, 'vision_num_hidden_layers': 1,
            'vision_num_attention_heads': 2, 'vision_patch_size': 8, 'vision_image_size': 32,
            'scale_factor': 2, 'text_hidden_size': 64, 'text_intermediate_size': 128,
            'text_num_attention_heads': 4, 'text_num_key_value_heads': 2, 'text_head_dim': 16,
            'text_num_hidden_layers': 2, 'vocab_size': 128, 'vlm_model_name': ''}
        base.update(overrides)
        return cls(**base)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict of every field."""
        data = dataclasses.asdict(self)
        data['resize_imgs_with_padding'] = list(self.resize_imgs_with_padding)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> 'SmolVLAConfig':
        """Build from `to_dict` output; an unknown field is an error naming it."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names, key=str)
        if unknown:
            raise ModelConfigError(str(unknown[0]), 'unknown config field')
        return cls(**dict(data))


def _checked_type(name: str, kind: str, value: Any) -> Any:
    """
    Return `value` as the field's type, or raise `ModelConfigError` naming the field.

    Values from JSON are checked, not coerced: ``"10"`` is no integer, ``10.5`` no integer
    either (it would fail deep in torch at the first prediction), ``"no"`` no boolean.
    """
    if kind == 'int':
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            return int(value)
        raise ModelConfigError(name, 'must be an integer', value)
    if kind == 'float':
        if (isinstance(value, numbers.Real) and not isinstance(value, bool)
                and math.isfinite(value)):
            return float(value)
        raise ModelConfigError(name, 'must be a finite number', value)
    if kind == 'bool':
        if isinstance(value, bool):
            return value
        raise ModelConfigError(name, 'must be a boolean (true or false)', value)
    if kind == 'str':
        if isinstance(value, str):
            return value
        raise ModelConfigError(name, 'must be a string', value)
    # tuple[int, int]: (width, height)
    if (isinstance(value, (list, tuple)) and len(value) == 2
            and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value)):
        return tuple(int(v) for v in value)
    raise ModelConfigError(name, 'must be [width, height], two integers', value)
