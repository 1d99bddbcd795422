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
SmolLM2 (Llama) decoder blocks and the VLM text model that encodes the prefix.

The prefix (images, language, state) runs once per action chunk; what the action expert needs
from it is every layer's post-RoPE keys and values, which `LanguageModel.prefill` returns as a
`KVCache`.
"""

from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F  # noqa: N812

from vla_ros.model.config import SmolVLAConfig

KVCache = list[tuple[torch.Tensor, torch.Tensor]]
"""Per layer (keys, values), each (B, n_kv_heads, L_prefix, head_dim), keys after RoPE."""


class RMSNorm(nn.Module):
    """Llama RMSNorm: normalise in float32, scale in the input dtype."""

    def __init__(self, width: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise the last dimension of `x`."""
        x32 = x.float()
        x32 = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x32.to(x.dtype)


def rotary_tables(positions: torch.Tensor, head_dim: int, theta: float,
                  dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """
    Return RoPE (cos, sin), each (B, 1, L, head_dim / 2), for integer positions (B, L).

    RoFormer (arXiv 2104.09864) with the half-split layout of Llama: frequency i is
    theta^(-2i / head_dim). Computed in float32, then cast to the activations' dtype.
    """
    exponents = torch.arange(head_dim // 2, dtype=torch.float32, device=positions.device)
    inv_freq = theta ** (-2.0 * exponents / head_dim)                  # (head_dim / 2,)
    angles = positions.float()[:, None, :, None] * inv_freq           # (B, 1, L, head_dim / 2)
    return angles.cos().to(dtype), angles.sin().to(dtype)


def apply_rotary(x: torch.Tensor, rope: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """Rotate (B, heads, L, head_dim) by the tables of `rotary_tables`."""
    cos, sin = rope
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)


def additive_mask(allowed: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """
    Turn a boolean (B, Lq, Lk) mask into the additive (B, 1, Lq, Lk) mask of `attend`.

    A blocked score gets the dtype's most negative value added, which swamps it, so a fully
    blocked row (a padding query) softmaxes to uniform weights instead of NaN, as in LeRobot.
    """
    blocked = torch.finfo(dtype).min
    return torch.zeros(allowed.shape, dtype=dtype, device=allowed.device).masked_fill_(
        ~allowed, blocked)[:, None]


def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
           mask: torch.Tensor) -> torch.Tensor:
    """
    Grouped-query attention: q (B, H, Lq, d), k/v (B, H_kv, Lk, d) -> (B, Lq, H * d).

    Query head h reads key/value head h // (H / H_kv). `mask` comes from `additive_mask`.
    """
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask,
                                         enable_gqa=q.shape[1] != k.shape[1])
    b, h, lq, d = out.shape
    return out.transpose(1, 2).reshape(b, lq, h * d)                # (B, Lq, H * d)


class DecoderLayer(nn.Module):
    """
    Llama block: RMSNorm -> attention projections; RMSNorm -> SwiGLU MLP.

    The attention itself is run by the caller (`LanguageModel`, `ActionExpert`), because the
    expert's queries attend to keys that partly come from the VLM.
    """

    def __init__(self, width: int, intermediate: int, heads: int, kv_heads: int,
                 head_dim: int, eps: float, kv_in_features: int | None = None):
        super().__init__()
        self.heads, self.kv_heads, self.head_dim = heads, kv_heads, head_dim
        kv_in = width if kv_in_features is None else kv_in_features
        self.input_layernorm = RMSNorm(width, eps)
        self.q_proj = nn.Linear(width, heads * head_dim, bias=False)
        self.k_proj = nn.Linear(kv_in, kv_heads * head_dim, bias=False)
        self.v_proj = nn.Linear(kv_in, kv_heads * head_dim, bias=False)
        self.o_proj = nn.Linear(heads * head_dim, width, bias=False)
        self.post_attention_layernorm = RMSNorm(width, eps)
        self.gate_proj = nn.Linear(width, intermediate, bias=False)
        self.up_proj = nn.Linear(width, intermediate, bias=False)
        self.down_proj = nn.Linear(intermediate, width, bias=False)

    def split_heads(self, x: torch.Tensor, heads: int) -> torch.Tensor:
        """(B, L, heads * head_dim) -> (B, heads, L, head_dim)."""
        b, n, _ = x.shape
        return x.view(b, n, heads, self.head_dim).transpose(1, 2)

    def qkv(self, h: torch.Tensor, rope) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Project normed hidden states (B, L, D) to RoPE'd q (B, H, L, d) and k, v."""
        q = apply_rotary(self.split_heads(self.q_proj(h), self.heads), rope)
        k = apply_rotary(self.split_heads(self.k_proj(h), self.kv_heads), rope)
        v = self.split_heads(self.v_proj(h), self.kv_heads)
        return q, k, v

    def finish(self, x: torch.Tensor, attn: torch.Tensor) -> torch.Tensor:
        """Residual after attention output (B, L, H * d), then the MLP with its residual."""
        x = x + self.o_proj(attn)
        h = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))


class LanguageModel(nn.Module):
    """The first `num_vlm_layers` layers of the SmolLM2 decoder, run over the prefix."""

    def __init__(self, config: SmolVLAConfig):
        super().__init__()
        c = config
        self.head_dim, self.rope_theta = c.text_head_dim, c.rope_theta
        self.embed_tokens = nn.Embedding(c.vocab_size, c.text_hidden_size)
        self.layers = nn.ModuleList(
            DecoderLayer(c.text_hidden_size, c.text_intermediate_size,
                         c.text_num_attention_heads, c.text_num_key_value_heads,
                         c.text_head_dim, c.rms_norm_eps)
            for _ in range(c.num_vlm_layers))
        self.norm = RMSNorm(c.text_hidden_size, c.rms_norm_eps)

    def prefill(self, embs: torch.Tensor, allowed: torch.Tensor, positions: torch.Tensor,
                return_hidden: bool = False) -> tuple[KVCache, torch.Tensor | None]:
        """
        Run the prefix (B, L, D_vlm) and return its key/value cache.

        `allowed` (B, L, L) says which key each query may attend to; `positions` (B, L) are
        the RoPE positions. The last layer's attention output and MLP only matter for the
        final hidden states, so they run only when `return_hidden` is true (then the normed
        hidden states (B, L, D_vlm) come back as the second value, else None).
        """
        rope = rotary_tables(positions, self.head_dim, self.rope_theta, embs.dtype)
        mask = additive_mask(allowed, embs.dtype)                     # (B, 1, L, L)
        cache: KVCache = []
        x = embs
        for i, layer in enumerate(self.layers):
            q, k, v = layer.qkv(layer.input_layernorm(x), rope)      # (B, H, L, d) ...
            cache.append((k, v))
            if i == len(self.layers) - 1 and not return_hidden:
                break
            x = layer.finish(x, attend(q, k, v, mask))                # (B, L, D_vlm)
        return cache, (self.norm(x) if return_hidden else None)

    def extend(self, embs: torch.Tensor, cache: KVCache, allowed: torch.Tensor,
               positions: torch.Tensor) -> tuple[KVCache, torch.Tensor]:
        """
        Run new tokens (B, n, D_vlm) after the cached ones; return the longer cache, hidden.

        `cache` holds every layer's keys and values of the L_past tokens before (as `prefill`
        or an earlier `extend` returns it); `allowed` (B, n, L_past + n) says which of those
        and of the new keys each new token sees, `positions` (B, n) are the new tokens' RoPE
        positions. Returns the cache with the new keys and values appended and the normed
        hidden states (B, n, D_vlm) of the new tokens: one step of KV-cached decoding.
        """
        rope = rotary_tables(positions, self.head_dim, self.rope_theta, embs.dtype)
        mask = additive_mask(allowed, embs.dtype)                     # (B, 1, n, L_past + n)
        grown: KVCache = []
        x = embs
        for layer, (past_k, past_v) in zip(self.layers, cache):
            q, k, v = layer.qkv(layer.input_layernorm(x), rope)      # (B, H, n, d) ...
            k, v = torch.cat([past_k, k], dim=2), torch.cat([past_v, v], dim=2)
            grown.append((k, v))
            x = layer.finish(x, attend(q, k, v, mask))                # (B, n, D_vlm)
        return grown, self.norm(x)
