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
SmolVLA (Shukor et al., arXiv 2506.01844): SmolVLM2 prefix + flow-matching action expert.

    images --SigLIP--> pixel shuffle --> 64 tokens/camera --+
    instruction tokens --embedding--------------------------+--> SmolLM2 layers --> KV cache
    joint state --state_proj--> 1 token ---------------------+                          |
    x_t, t --action_in_proj + time MLP--> chunk tokens --> action expert <-------------+
                                                                |
                                               action_out_proj --> velocity v(x_t, t)

The prefix runs once per chunk; `num_steps` Euler steps of the expert integrate the velocity
from noise (t = 1) to normalized actions (t = 0). Tensors in and out follow LeRobot's
``VLAFlowMatching``: images in [-1, 1] at model resolution, zero-padded normalized state and
actions.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
from torch import nn
import torch.nn.functional as F  # noqa: N812

from vla_ros.model.action_expert import ActionExpert, ExpertContext
from vla_ros.model.config import SmolVLAConfig
from vla_ros.model.connector import Connector
from vla_ros.model.flow_matching import euler_sample, interpolate, sample_time
from vla_ros.model.language_model import LanguageModel
from vla_ros.model.rtc import check_rtc_arguments, rtc_sample, RTCConfig, training_prefix
from vla_ros.model.vision import VisionEncoder


def block_attention(pad: torch.Tensor, blocks: torch.Tensor) -> torch.Tensor:
    """
    Boolean (B, L, L) mask: query i sees key j iff both are real and block_j <= block_i.

    `pad` (B, L) is true for real tokens; `blocks` (L,) is non-decreasing. Tokens in one block
    attend bidirectionally, later blocks see earlier ones (big_vision's ``mask_ar`` cumsum).
    """
    causal = blocks[None, None, :] <= blocks[None, :, None]              # (1, L, L)
    return causal & pad[:, None, :] & pad[:, :, None]


@torch.no_grad()
def init_normal_(parts, std: float) -> None:
    """Draw every Linear and Embedding weight in `parts` from N(0, std^2), zero their biases."""
    for part in parts:
        for module in part.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                module.weight.normal_(0.0, std)
                if getattr(module, 'bias', None) is not None:
                    module.bias.zero_()


def prefix_embeddings(model, img_tokens: list[torch.Tensor], img_masks: list[torch.Tensor],
                      lang_tokens: torch.Tensor, lang_masks: torch.Tensor,
                      state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """
    Return the prefix embeddings (B, L, D_vlm) and padding (B, L, true for real tokens).

    Layout [n_img_tokens per camera][language][1 state token]; image and language embeddings
    scaled by sqrt(D_vlm) (the Gemma/PaliGemma habit SmolVLA keeps). `model` has the
    ``language_model``, ``state_proj``, ``config`` and ``dtype`` of `SmolVLA` (the
    autoregressive head shares them); `img_tokens` are its ``embed_images``.
    """
    scale = math.sqrt(model.config.text_hidden_size)
    lang = model.language_model.embed_tokens(lang_tokens) * scale      # (B, L_lang, D_vlm)
    state_tok = model.state_proj(state.to(model.dtype))[:, None]       # (B, 1, D_vlm)
    embs = torch.cat([t * scale for t in img_tokens] + [lang, state_tok], dim=1)
    n_img = img_tokens[0].shape[1]
    # new_ones, not ones_like(lang_masks[:, :1]): an empty instruction has L_lang = 0.
    state_mask = lang_masks.new_ones((lang_masks.shape[0], 1))
    pad = torch.cat([m[:, None].expand(-1, n_img) for m in img_masks]
                    + [lang_masks, state_mask], dim=1)                  # (B, L)
    return embs, pad.bool()


class SmolVLA(nn.Module):
    """
    The SmolVLA network: `sample_actions` for inference, `compute_loss` for training.

    ``SmolVLA(config)`` has random weights; `from_lerobot`, `from_pretrained` and `from_vlm`
    load them. Parameter groups are frozen as LeRobot does from ``freeze_vision_encoder``,
    ``train_expert_only`` and ``train_state_proj``.
    """

    def __init__(self, config: SmolVLAConfig):
        super().__init__()
        self.config = config
        width, expert_width = config.text_hidden_size, config.expert_hidden_size
        self.vision = VisionEncoder(config)
        self.connector = Connector(config)
        self.language_model = LanguageModel(config)
        self.expert = ActionExpert(config)
        self.state_proj = nn.Linear(config.max_state_dim, width)
        self.action_in_proj = nn.Linear(config.max_action_dim, expert_width)
        self.action_time_mlp_in = nn.Linear(2 * expert_width, expert_width)
        self.action_time_mlp_out = nn.Linear(expert_width, expert_width)
        self.action_out_proj = nn.Linear(expert_width, config.max_action_dim)
        self._init_backbone(std=0.02)
        self.set_requires_grad()

    def _init_backbone(self, std: float) -> None:
        # Transformers' initialisation for the Llama/SigLIP blocks; the projection heads
        # keep PyTorch's default, as in LeRobot.
        init_normal_((self.vision.layers, self.connector, self.language_model, self.expert), std)

    def set_requires_grad(self) -> None:
        """Freeze what the config's fine-tuning switches say (LeRobot's rules)."""
        c = self.config
        frozen_vlm = c.train_expert_only
        for part, frozen in ((self.vision, c.freeze_vision_encoder or frozen_vlm),
                             (self.connector, frozen_vlm), (self.language_model, frozen_vlm),
                             (self.state_proj, not c.train_state_proj)):
            for p in part.parameters():
                p.requires_grad_(not frozen)

    @property
    def dtype(self) -> torch.dtype:
        """Floating dtype of the weights."""
        return self.state_proj.weight.dtype

    @property
    def device(self) -> torch.device:
        """Device of the weights."""
        return self.state_proj.weight.device

    # ----------------------------------------------------------------------------------------
    # Prefix: images, language, state -> VLM key/value cache.

    def embed_images(self, images: list[torch.Tensor]) -> list[torch.Tensor]:
        """Image tokens (B, n_img_tokens, D_vlm) per camera; all cameras in one encoder pass."""
        batch = images[0].shape[0]
        pixels = torch.cat(list(images), dim=0).to(self.dtype)    # (n_cam * B, 3, S, S)
        tokens = self.connector(self.vision(pixels))              # (n_cam * B, n_img_tokens, D)
        return list(tokens.split(batch, dim=0))

    def embed_prefix(self, images: list[torch.Tensor], img_masks: list[torch.Tensor],
                     lang_tokens: torch.Tensor, lang_masks: torch.Tensor,
                     state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """
        Return prefix embeddings (B, L, D_vlm), padding (B, L) and attention (B, L, L).

        Layout: [n_img_tokens per camera][language][1 state token]. Image and language
        embeddings are scaled by sqrt(D_vlm) (Gemma/PaliGemma habit kept by SmolVLA); images
        and language attend to each other bidirectionally, the state token sees them all and
        is seen by none of them.
        """
        embs, pad = prefix_embeddings(self, self.embed_images(images), img_masks, lang_tokens,
                                      lang_masks, state)
        blocks = torch.zeros(pad.shape[1], dtype=torch.long, device=pad.device)
        blocks[-1] = 1                                                   # the state token
        return embs, pad, block_attention(pad, blocks)

    def encode_prefix(self, images: list[torch.Tensor], img_masks: list[torch.Tensor],
                      lang_tokens: torch.Tensor, lang_masks: torch.Tensor,
                      state: torch.Tensor) -> ExpertContext:
        """Run the VLM over the prefix once; return what every denoising step reuses."""
        embs, pad, allowed = self.embed_prefix(images, img_masks, lang_tokens, lang_masks, state)
        positions = pad.long().cumsum(dim=1) - 1                          # (B, L)
        kv, _ = self.language_model.prefill(embs, allowed, positions)
        return self.expert.context(kv, pad)

    # ----------------------------------------------------------------------------------------
    # Suffix: noisy actions and time -> velocity.

    def time_embedding(self, time: torch.Tensor) -> torch.Tensor:
        """Sine-cosine embedding (..., D_exp) of times (...,), periods min_period..max_period."""
        half = self.config.expert_hidden_size // 2
        f64 = torch.float32 if time.device.type == 'mps' else torch.float64
        fraction = torch.linspace(0.0, 1.0, half, dtype=f64, device=time.device)
        period = self.config.min_period * (
            self.config.max_period / self.config.min_period) ** fraction
        angle = (2 * math.pi / period) * time[..., None]                 # (..., D_exp / 2)
        return torch.cat([angle.sin(), angle.cos()], dim=-1).to(self.dtype)

    def embed_suffix(self, x_t: torch.Tensor, time: torch.Tensor) -> torch.Tensor:
        """
        Embed x_t and t as action tokens (B, chunk, D_exp): action_in_proj + time MLP.

        `time` is (B,), one flow time per sample, or (B, chunk), one per action: training-time
        RTC gives the actions already executing time 0.
        """
        actions = self.action_in_proj(x_t.to(self.dtype))                 # (B, chunk, D_exp)
        t = self.time_embedding(time)                                     # (B, [chunk,] D_exp)
        t = t[:, None].expand_as(actions) if time.ndim == 1 else t        # (B, chunk, D_exp)
        h = F.silu(self.action_time_mlp_in(torch.cat([actions, t], dim=2)))
        return self.action_time_mlp_out(h)

    def velocity(self, x_t: torch.Tensor, time: torch.Tensor,
                 ctx: ExpertContext) -> torch.Tensor:
        """
        Predict the flow (B, chunk, max_action_dim), float32, at x_t (B, chunk, A).

        `time` is (B,) or (B, chunk), as for `embed_suffix`.
        """
        out = self.expert(self.embed_suffix(x_t, time), ctx)              # (B, chunk, D_exp)
        return self.action_out_proj(out).float()

    # ----------------------------------------------------------------------------------------
    # Inference and training.

    @torch.no_grad()
    def sample_actions(self, images: list[torch.Tensor], img_masks: list[torch.Tensor],
                       lang_tokens: torch.Tensor, lang_masks: torch.Tensor,
                       state: torch.Tensor, noise: torch.Tensor | None = None,
                       num_steps: int | None = None, *,
                       prev_chunk: torch.Tensor | None = None,
                       inference_delay: int | None = None,
                       rtc: RTCConfig | None = None) -> torch.Tensor:
        """
        Sample a chunk of normalized, padded actions (B, chunk_size, max_action_dim).

        Same contract as LeRobot's ``VLAFlowMatching.sample_actions``: `images` is a list per
        camera of (B, 3, S, S) in [-1, 1] at model resolution, `img_masks` a list of (B,)
        bools, `lang_tokens`/`lang_masks` (B, L_lang), `state` (B, max_state_dim) normalized
        and zero-padded. `noise` (B, chunk_size, max_action_dim) defaults to N(0, 1).

        Real-Time Chunking (`vla_ros.model.rtc`) when both `rtc` and `prev_chunk` are given:
        `prev_chunk` (B, T_prev, A) is what remains of the previous chunk from the step this
        observation was taken at, normalized like the actions (T_prev <= chunk_size and
        A <= max_action_dim; shorter is zero-padded), and `inference_delay` the number of its
        steps that will have executed before this chunk arrives. Bad RTC arguments raise
        ValueError naming the argument before any computation.
        """
        c = self.config
        if noise is None:
            noise = torch.randn(state.shape[0], c.chunk_size, c.max_action_dim,
                                device=state.device)
        guided = rtc is not None and prev_chunk is not None
        if guided:
            check_rtc_arguments(prev_chunk, inference_delay, rtc, c.chunk_size,
                                c.max_action_dim, state.shape[0])
        ctx = self.encode_prefix(images, img_masks, lang_tokens, lang_masks, state)
        if guided:
            return rtc_sample(lambda x, t: self.velocity(x, t, ctx), noise.float(),
                              num_steps or c.num_steps, prev_chunk, inference_delay, rtc)
        return euler_sample(lambda x, t: self.velocity(x, t, ctx), noise.float(),
                            num_steps or c.num_steps)

    def flow_losses(self, batch: dict[str, Any]) -> torch.Tensor:
        """
        Squared velocity errors (B, chunk_size, max_action_dim), float32, unreduced.

        `batch` as for `compute_loss`; ``noise`` and ``time`` are drawn when absent. With
        ``rtc_delay`` the first steps of each sample are clean actions at time 0: their
        entries here are not part of the loss (`compute_loss` leaves them out).
        """
        actions = batch['actions'].float()
        noise = batch.get('noise')
        if noise is None:
            noise = torch.randn_like(actions)
        time = batch.get('time')
        if time is None:
            time = sample_time(actions.shape[0], actions.device)
        delay = batch.get('rtc_delay')
        if delay is not None:
            # Training-time RTC (arXiv 2512.05964): the executing prefix is given, not noised.
            prefix = training_prefix(delay.to(actions.device), actions.shape[1])    # (B, chunk)
            time = torch.where(prefix, torch.zeros_like(time)[:, None], time[:, None])
        x_t, target = interpolate(actions, noise.float(), time.float())
        ctx = self.encode_prefix(batch['images'], batch['img_masks'], batch['lang_tokens'],
                                 batch['lang_masks'], batch['state'])
        return (self.velocity(x_t, time, ctx) - target).pow(2)

    def compute_loss(self, batch: dict[str, Any], reduction: str = 'mean') -> torch.Tensor:
        """
        Flow-matching loss of a training batch (a scalar, or (B,) with reduction='none').

        Keys: ``images`` (list per camera of (B, 3, S, S) in [-1, 1]), ``img_masks`` (list
        of (B,) bool), ``lang_tokens`` (B, L) long, ``lang_masks`` (B, L) bool, ``state``
        (B, max_state_dim), ``actions`` (B, chunk_size, max_action_dim), both normalized and
        zero-padded; optional ``action_is_pad`` (B, chunk_size) bool, ``noise`` (like
        actions), ``time`` (B,) and ``rtc_delay`` (B,) integers in [0, chunk_size): that
        many first steps are given clean at time 0 and left out of the loss (training-time
        RTC). As LeRobot: the mean over steps that are not padding and over the robot's
        ``action_dim`` real action entries.
        """
        losses = self.flow_losses(batch)[:, :, :self.config.real_action_dim]
        is_pad = batch.get('action_is_pad')
        if is_pad is None:
            valid = torch.ones(losses.shape[:2], device=losses.device)
        else:
            valid = (~is_pad.bool()).float()                              # (B, chunk)
        delay = batch.get('rtc_delay')
        if delay is not None:
            valid = valid * ~training_prefix(delay.to(losses.device), losses.shape[1])
        per_sample = (losses * valid[:, :, None]).sum(dim=(1, 2))
        counts = valid.sum(dim=1) * losses.shape[-1]
        if reduction == 'none':
            return per_sample / counts.clamp_min(1)
        if reduction != 'mean':
            raise ValueError(f"reduction={reduction!r}: must be 'mean' or 'none'")
        return per_sample.sum() / counts.sum().clamp_min(1)

    # ----------------------------------------------------------------------------------------
    # Checkpoints (see vla_ros.model.checkpoint).

    @classmethod
    def from_lerobot(cls, path: str | Path, vlm_path: str | Path | None = None) -> 'SmolVLA':
        """
        Load a LeRobot SmolVLA checkpoint directory (config.json + model.safetensors).

        The backbone's sizes come from `vlm_path`, else the checkpoint's ``vlm_model_name``
        when it is a local directory, else the SmolVLM2-500M sizes; all are checked against
        the tensors.
        """
        from vla_ros.model.checkpoint import load_lerobot_model
        return load_lerobot_model(cls, path, vlm_path)

    @classmethod
    def from_vlm(cls, path: str | Path, **overrides: Any) -> 'SmolVLA':
        """Build from a local SmolVLM2 directory: its VLM weights, a fresh action expert."""
        from vla_ros.model.checkpoint import load_vlm_model
        return load_vlm_model(cls, path, **overrides)

    @classmethod
    def from_pretrained(cls, path: str | Path) -> 'SmolVLA':
        """Load a directory written by `save_pretrained` (config.json + model.safetensors)."""
        from vla_ros.model.checkpoint import load_model
        return load_model(cls, path)

    def save_pretrained(self, path: str | Path) -> None:
        """Write config.json and model.safetensors (weights as they are, no pickle)."""
        from vla_ros.model.checkpoint import save_model
        save_model(self, path)
