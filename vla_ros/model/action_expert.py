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
The action expert: a narrower Llama decoder that reads the VLM's keys and values.

SmolVLA (arXiv 2506.01844, section 3.2) interleaves two kinds of layers. Every
`self_attn_every_n_layers`-th layer (0, 2, 4, ...) is self-attention over [prefix ; actions],
the prefix keys/values being the VLM's own from the same depth. The others are
cross-attention: the action queries read keys/values that the expert re-projects from the
VLM's (post-RoPE) cached keys/values, with query positions 0..chunk_size-1.

Everything the expert takes from the prefix is fixed for a chunk, so `ActionExpert.context`
computes it once (including the cross-attention re-projections) and every denoising step
reuses it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from vla_ros.model.config import SmolVLAConfig
from vla_ros.model.language_model import (
    additive_mask, apply_rotary, attend, DecoderLayer, KVCache, RMSNorm, rotary_tables)


@dataclass
class ExpertContext:
    """What the expert reads from one encoded prefix; built by `ActionExpert.context`."""

    kv: KVCache                    # per layer (B, n_kv_heads, L_prefix, head_dim) k and v
    self_mask: torch.Tensor        # (B, 1, chunk, L_prefix + chunk) additive
    cross_mask: torch.Tensor       # (B, 1, chunk, L_prefix) additive
    self_rope: tuple[torch.Tensor, torch.Tensor]     # positions after the valid prefix
    cross_rope: tuple[torch.Tensor, torch.Tensor]    # positions 0..chunk-1


class ActionExpert(nn.Module):
    """Decoder of width ``expert_hidden_size`` with the VLM's heads and head size."""

    def __init__(self, config: SmolVLAConfig):
        super().__init__()
        c = config
        self.chunk_size, self.rope_theta, self.head_dim = c.chunk_size, c.rope_theta, \
            c.text_head_dim
        vlm_kv_width = c.text_num_key_value_heads * c.text_head_dim
        self.is_cross = [i % c.self_attn_every_n_layers != 0 for i in range(c.num_vlm_layers)]
        self.layers = nn.ModuleList(
            DecoderLayer(c.expert_hidden_size, c.expert_intermediate_size,
                         c.text_num_attention_heads, c.text_num_key_value_heads,
                         c.text_head_dim, c.rms_norm_eps,
                         kv_in_features=vlm_kv_width if cross else None)
            for cross in self.is_cross)
        self.norm = RMSNorm(c.expert_hidden_size, c.rms_norm_eps)

    def context(self, vlm_kv: KVCache, prefix_pad: torch.Tensor) -> ExpertContext:
        """
        Prepare the per-chunk inputs of `forward` from the VLM cache and prefix padding.

        `prefix_pad` (B, L_prefix) is true for real prefix tokens. Action tokens see every
        real prefix token and, among themselves, only earlier ones (causal).
        """
        b, n_prefix = prefix_pad.shape
        n = self.chunk_size
        dtype, device = vlm_kv[0][0].dtype, prefix_pad.device
        causal = torch.ones(n, n, dtype=torch.bool, device=device).tril()
        allowed = torch.cat([prefix_pad[:, None, :].expand(b, n, n_prefix),
                             causal.expand(b, n, n)], dim=2)          # (B, chunk, L + chunk)
        steps = torch.arange(n, device=device)
        after_prefix = prefix_pad.sum(dim=1, keepdim=True) + steps     # (B, chunk)
        kv = []
        for layer, cross, (k, v) in zip(self.layers, self.is_cross, vlm_kv):
            if cross:
                # (B, n_kv, L, d) -> (B, L, n_kv * d): the VLM's heads side by side, as LeRobot.
                k = layer.split_heads(layer.k_proj(k.transpose(1, 2).flatten(2)), layer.kv_heads)
                v = layer.split_heads(layer.v_proj(v.transpose(1, 2).flatten(2)), layer.kv_heads)
            kv.append((k, v))
        return ExpertContext(
            kv=kv,
            self_mask=additive_mask(allowed, dtype),
            cross_mask=additive_mask(allowed[:, :, :n_prefix], dtype),
            self_rope=rotary_tables(after_prefix, self.head_dim, self.rope_theta, dtype),
            cross_rope=rotary_tables(steps.expand(b, n), self.head_dim, self.rope_theta, dtype))

    def forward(self, x: torch.Tensor, ctx: ExpertContext) -> torch.Tensor:
        """Map action tokens (B, chunk, D_exp) to normed output tokens (B, chunk, D_exp)."""
        for layer, cross, (k_prefix, v_prefix) in zip(self.layers, self.is_cross, ctx.kv):
            h = layer.input_layernorm(x)
            if cross:
                q = apply_rotary(layer.split_heads(layer.q_proj(h), layer.heads), ctx.cross_rope)
                attn = attend(q, k_prefix, v_prefix, ctx.cross_mask)     # (B, chunk, H * d)
            else:
                q, k, v = layer.qkv(h, ctx.self_rope)
                k = torch.cat([k_prefix, k], dim=2)                       # (B, n_kv, L + chunk, d)
                v = torch.cat([v_prefix, v], dim=2)
                attn = attend(q, k, v, ctx.self_mask)                     # (B, chunk, H * d)
            x = layer.finish(x, attn)
        return self.norm(x)
