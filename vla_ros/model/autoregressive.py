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
An autoregressive action head on SmolVLA's backbone: the language model decodes action tokens.

    images --SigLIP--> pixel shuffle --> n_img_tokens/camera --+
    instruction tokens --embedding------------------------------+ prefix: one bidirectional
    joint state --state_proj--> 1 token -------------------------+ block
    [begin] a_1 .. a_n --embedding--> causal suffix --> SmolLM2 layers --> lm_head --> a_1 .. end

Prefix-LM attention as in PaliGemma and pi0-FAST: every prefix token sees every real prefix
token, suffix token i sees the prefix and suffix tokens 0..i. Training is teacher forced, with
cross-entropy on the tokens after each suffix position: the action tokens and the end token,
never the prefix. Inference runs the prefix once into a key/value cache, then decodes greedily
one token per step until the end token or a maximum length.

The state enters as one projected token (SmolVLA's ``state_proj``), not as text as in
pi0-FAST, which writes each normalized state value as one of 256 bins in decimal
("State: 12 200 ...;"). Reasons: the prefix is then exactly the flow head's, so a comparison
of the heads changes the head only; the state is not quantized; a word-level instruction
tokenizer (the demo's) has no number words, and a BPE one spends 1-3 tokens per number.

The model knows token ids only. Which ids are actions, how a token stream maps to a chunk and
when it is malformed is `vla_ros.policy.action_vocabulary`'s business.
"""

from __future__ import annotations

from dataclasses import dataclass
import math
from pathlib import Path
from typing import Any

import torch
from torch import nn
import torch.nn.functional as F  # noqa: N812

from vla_ros.model.config import SmolVLAConfig
from vla_ros.model.connector import Connector
from vla_ros.model.language_model import KVCache, LanguageModel
from vla_ros.model.smolvla import block_attention, init_normal_, prefix_embeddings, SmolVLA
from vla_ros.model.vision import VisionEncoder

FORMAT = 'vla_ros.autoregressive'     # config.json "format" of a saved AutoregressiveVLA


@dataclass
class DecodeState:
    """What greedy decoding carries from one step to the next."""

    cache: KVCache                  # every layer's keys/values of the tokens so far
    pad: torch.Tensor               # (B, L) true for real tokens (prefix padding is false)
    next_position: torch.Tensor     # (B,) RoPE position of the next token


class AutoregressiveVLA(nn.Module):
    """
    SmolVLA's vision encoder, connector, language model and state token, plus an LM head.

    ``lm_head`` is a separate (untied) linear map, as in SmolVLM2 (``tie_word_embeddings``
    false), so that its weights keep the VLM's key name. The flow-matching expert does not
    exist here; of the config's fine-tuning switches only ``freeze_vision_encoder`` and
    ``train_state_proj`` apply (the language model and LM head always train).
    """

    def __init__(self, config: SmolVLAConfig):
        super().__init__()
        self.config = config
        width = config.text_hidden_size
        self.vision = VisionEncoder(config)
        self.connector = Connector(config)
        self.language_model = LanguageModel(config)
        self.state_proj = nn.Linear(config.max_state_dim, width)
        self.lm_head = nn.Linear(width, config.vocab_size, bias=False)
        self._init_backbone(std=0.02)
        self.set_requires_grad()

    def _init_backbone(self, std: float) -> None:
        # As SmolVLA: transformers' initialisation for the blocks, PyTorch's for state_proj.
        init_normal_((self.vision.layers, self.connector, self.language_model, self.lm_head),
                     std)

    def set_requires_grad(self) -> None:
        """Freeze the vision encoder and the state projection where the config says so."""
        c = self.config
        for part, frozen in ((self.vision, c.freeze_vision_encoder),
                             (self.state_proj, not c.train_state_proj)):
            for p in part.parameters():
                p.requires_grad_(not frozen)

    # All cameras through the vision encoder and connector in one pass, as SmolVLA.
    embed_images = SmolVLA.embed_images

    @property
    def dtype(self) -> torch.dtype:
        """Floating dtype of the weights."""
        return self.state_proj.weight.dtype

    @property
    def device(self) -> torch.device:
        """Device of the weights."""
        return self.state_proj.weight.device

    # ----------------------------------------------------------------------------------------
    # Embeddings and the prefix-LM mask.

    def embed_tokens(self, ids: torch.Tensor) -> torch.Tensor:
        """Token embeddings (B, n, D_vlm) scaled by sqrt(D_vlm), as SmolVLA scales language."""
        return self.language_model.embed_tokens(ids) * math.sqrt(self.config.text_hidden_size)

    def embed_prefix(self, images: list[torch.Tensor], img_masks: list[torch.Tensor],
                     lang_tokens: torch.Tensor, lang_masks: torch.Tensor,
                     state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """
        Return prefix embeddings (B, L, D_vlm) and padding (B, L), true for real tokens.

        Layout and scaling as `SmolVLA.embed_prefix`: [n_img_tokens per camera][language]
        [1 state token]; unlike it, all of them form one bidirectional block.
        """
        return prefix_embeddings(self, self.embed_images(images), img_masks, lang_tokens,
                                 lang_masks, state)

    @staticmethod
    def prefix_lm_blocks(prefix_len: int, suffix_len: int,
                         device: torch.device | None = None) -> torch.Tensor:
        """
        Attention blocks (L,) for `block_attention`: 0 for the prefix, 1..n for the suffix.

        One block per suffix token makes the suffix causal; the shared block 0 makes the
        prefix bidirectional (big_vision's ``mask_ar`` cumulative sum).
        """
        return torch.cat([torch.zeros(prefix_len, dtype=torch.long, device=device),
                          torch.arange(1, suffix_len + 1, device=device)])

    # ----------------------------------------------------------------------------------------
    # Teacher forcing (training, and the reference the cached decoder is tested against).

    def suffix_logits(self, images: list[torch.Tensor], img_masks: list[torch.Tensor],
                      lang_tokens: torch.Tensor, lang_masks: torch.Tensor, state: torch.Tensor,
                      input_ids: torch.Tensor,
                      input_mask: torch.Tensor | None = None) -> torch.Tensor:
        """
        Next-token logits (B, T, vocab_size), float32, at each of the T suffix inputs.

        One uncached pass over [prefix][input_ids] under the prefix-LM mask; `input_mask`
        (B, T) marks the real inputs (default: all), the rest is padding no token attends to.
        Logits at position t predict the token after ``input_ids[:, t]``.
        """
        prefix, prefix_pad = self.embed_prefix(images, img_masks, lang_tokens, lang_masks, state)
        if input_mask is None:
            input_mask = torch.ones_like(input_ids, dtype=torch.bool)
        embs = torch.cat([prefix, self.embed_tokens(input_ids).to(prefix.dtype)], dim=1)
        pad = torch.cat([prefix_pad, input_mask.bool()], dim=1)             # (B, L + T)
        blocks = self.prefix_lm_blocks(prefix.shape[1], input_ids.shape[1], pad.device)
        positions = pad.long().cumsum(dim=1) - 1
        _, hidden = self.language_model.prefill(embs, block_attention(pad, blocks), positions,
                                                return_hidden=True)
        return self.lm_head(hidden[:, prefix.shape[1]:]).float()          # (B, T, V)

    def compute_loss(self, batch: dict[str, Any], reduction: str = 'mean') -> torch.Tensor:
        """
        Cross-entropy of the action tokens and the end token (a scalar, or (B,) with 'none').

        `batch` as `SmolVLA.compute_loss` takes it for the prefix (``images``, ``img_masks``,
        ``lang_tokens``, ``lang_masks``, ``state``) plus ``action_input_ids`` (B, T: the begin
        token, then the action tokens), ``action_target_ids`` (B, T: the action tokens, then
        the end token) and ``action_loss_mask`` (B, T, true on those n + 1 positions), as
        `ActionVocabulary.training_arrays` makes them. Other keys (``actions``,
        ``action_is_pad``) are ignored: a token stream encodes the whole chunk.
        """
        mask = batch['action_loss_mask'].to(self.device).bool()
        logits = self.suffix_logits(batch['images'], batch['img_masks'], batch['lang_tokens'],
                                    batch['lang_masks'], batch['state'],
                                    batch['action_input_ids'].to(self.device), mask)
        targets = batch['action_target_ids'].to(self.device)
        losses = F.cross_entropy(logits.flatten(0, 1), targets.flatten(),
                                 reduction='none').view(targets.shape)       # (B, T)
        losses = losses * mask
        counts = mask.sum(dim=1)
        if reduction == 'none':
            return losses.sum(dim=1) / counts.clamp_min(1)
        if reduction != 'mean':
            raise ValueError(f"reduction={reduction!r}: must be 'mean' or 'none'")
        return losses.sum() / counts.sum().clamp_min(1)

    # ----------------------------------------------------------------------------------------
    # KV-cached greedy decoding.

    def encode_prefix(self, images: list[torch.Tensor], img_masks: list[torch.Tensor],
                      lang_tokens: torch.Tensor, lang_masks: torch.Tensor,
                      state: torch.Tensor) -> DecodeState:
        """Run the prefix once; return the cache every decoding step extends."""
        embs, pad = self.embed_prefix(images, img_masks, lang_tokens, lang_masks, state)
        blocks = self.prefix_lm_blocks(embs.shape[1], 0, pad.device)
        positions = pad.long().cumsum(dim=1) - 1
        cache, _ = self.language_model.prefill(embs, block_attention(pad, blocks), positions)
        return DecodeState(cache, pad, pad.long().sum(dim=1))

    def step(self, state: DecodeState, ids: torch.Tensor) -> torch.Tensor:
        """Feed one token per sample (B, 1); return next-token logits (B, vocab_size), float32."""
        pad = torch.cat([state.pad, state.pad.new_ones((ids.shape[0], 1))], dim=1)
        # The new token sees every real token before it and itself: (B, 1, L + 1).
        state.cache, hidden = self.language_model.extend(
            self.embed_tokens(ids).to(self.dtype), state.cache, pad[:, None, :],
            state.next_position[:, None])
        state.pad, state.next_position = pad, state.next_position + 1
        return self.lm_head(hidden[:, -1]).float()

    @torch.no_grad()
    def decode(self, state: DecodeState, begin_id: int, end_id: int, max_new_tokens: int,
               allowed_ids: torch.Tensor | None = None) -> torch.Tensor:
        """
        Greedy tokens (B, max_new_tokens) after `begin_id`; each row is `end_id` after its end.

        Stops when every row has produced `end_id`, or after `max_new_tokens`: a row that
        holds no `end_id` ran out of length. `allowed_ids` (vocab_size,) bool restricts the
        argmax to those ids (the action tokens and the end token).
        """
        batch = state.pad.shape[0]
        out = torch.full((batch, max_new_tokens), end_id, dtype=torch.long, device=self.device)
        token = torch.full((batch, 1), begin_id, dtype=torch.long, device=self.device)
        done = torch.zeros(batch, dtype=torch.bool, device=self.device)
        for t in range(max_new_tokens):
            logits = self.step(state, token)                               # (B, V)
            if allowed_ids is not None:
                logits = logits.masked_fill(~allowed_ids, float('-inf'))
            nxt = torch.where(done, end_id, logits.argmax(dim=-1))        # (B,)
            out[:, t] = nxt
            done |= nxt == end_id
            if bool(done.all()):
                break
            token = nxt[:, None]
        return out

    @torch.no_grad()
    def generate(self, images: list[torch.Tensor], img_masks: list[torch.Tensor],
                 lang_tokens: torch.Tensor, lang_masks: torch.Tensor, state: torch.Tensor, *,
                 begin_id: int, end_id: int, max_new_tokens: int,
                 allowed_ids: torch.Tensor | None = None) -> torch.Tensor:
        """Encode the prefix and `decode`; inputs as `SmolVLA.sample_actions` takes them."""
        ctx = self.encode_prefix(images, img_masks, lang_tokens, lang_masks, state)
        return self.decode(ctx, begin_id, end_id, max_new_tokens, allowed_ids)

    # ----------------------------------------------------------------------------------------
    # Checkpoints: config.json (format FORMAT) + model.safetensors, as SmolVLA's.

    @classmethod
    def from_pretrained(cls, path: str | Path) -> 'AutoregressiveVLA':
        """Load a directory written by `save_pretrained`."""
        from vla_ros.model.checkpoint import load_model
        return load_model(cls, path, FORMAT)

    def save_pretrained(self, path: str | Path) -> None:
        """Write config.json (format ``vla_ros.autoregressive``) and model.safetensors."""
        from vla_ros.model.checkpoint import save_model
        save_model(self, path, FORMAT)
