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

"""SigLIP vision encoder of SmolVLM2: patches -> contextual patch features."""

from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F  # noqa: N812

from vla_ros.model.config import SmolVLAConfig


def patch_position_ids(patches_per_side: int) -> torch.Tensor:
    """
    Position-embedding row of each patch of a full (unmasked) image, row-major.

    SmolVLM (NaViT-style) buckets each patch's fractional coordinate into the position grid.
    For a full image that is the identity for most sizes (32, 12) but float rounding shifts a
    few buckets for others (19, 25, ...), so we reproduce the bucketing rather than assume it.
    """
    n = patches_per_side
    boundaries = torch.arange(1 / n, 1.0, 1 / n)
    coords = (torch.arange(n, dtype=torch.float32) * (1.0 / torch.tensor(float(n))))
    buckets = torch.bucketize(coords.clamp(max=1.0 - 1e-6), boundaries, right=True)
    return (buckets[:, None] * n + buckets[None, :]).reshape(-1)   # (n * n,)


class VisionAttention(nn.Module):
    """Multi-head self-attention over all patches (no mask: every patch is real)."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.q_proj = nn.Linear(width, width)
        self.k_proj = nn.Linear(width, width)
        self.v_proj = nn.Linear(width, width)
        self.out_proj = nn.Linear(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Attend (N, n_patches, D_vis) -> (N, n_patches, D_vis)."""
        b, n, d = x.shape
        shape = (b, n, self.heads, d // self.heads)
        q = self.q_proj(x).view(shape).transpose(1, 2)    # (B, heads, N, d_head)
        k = self.k_proj(x).view(shape).transpose(1, 2)
        v = self.v_proj(x).view(shape).transpose(1, 2)
        out = F.scaled_dot_product_attention(q, k, v)    # (B, heads, N, d_head)
        return self.out_proj(out.transpose(1, 2).reshape(b, n, d))


class VisionLayer(nn.Module):
    """Pre-LayerNorm transformer block with a tanh-GELU MLP."""

    def __init__(self, config: SmolVLAConfig):
        super().__init__()
        width, eps = config.vision_hidden_size, config.vision_layer_norm_eps
        self.layer_norm1 = nn.LayerNorm(width, eps=eps)
        self.self_attn = VisionAttention(width, config.vision_num_attention_heads)
        self.layer_norm2 = nn.LayerNorm(width, eps=eps)
        self.fc1 = nn.Linear(width, config.vision_intermediate_size)
        self.fc2 = nn.Linear(config.vision_intermediate_size, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the block to (N, n_patches, D_vis)."""
        x = x + self.self_attn(self.layer_norm1(x))
        return x + self.fc2(F.gelu(self.fc1(self.layer_norm2(x)), approximate='tanh'))


class VisionEncoder(nn.Module):
    """SigLIP ViT: conv patch embedding + learned positions, pre-LN blocks, final LayerNorm."""

    def __init__(self, config: SmolVLAConfig):
        super().__init__()
        width, patch = config.vision_hidden_size, config.vision_patch_size
        side = config.vision_image_size // patch
        self.image_size = config.vision_image_size
        self.patch_embedding = nn.Conv2d(3, width, kernel_size=patch, stride=patch)
        self.position_embedding = nn.Embedding(side * side, width)
        self.register_buffer('position_ids', patch_position_ids(side), persistent=False)
        self.layers = nn.ModuleList(
            VisionLayer(config) for _ in range(config.vision_num_hidden_layers))
        self.post_layernorm = nn.LayerNorm(width, eps=config.vision_layer_norm_eps)

    def embed(self, pixels: torch.Tensor) -> torch.Tensor:
        """Patch + position embeddings of (N, 3, S, S) images in [-1, 1]."""
        x = self.patch_embedding(pixels).flatten(2).transpose(1, 2)   # (N, n_patches, D_vis)
        return x + self.position_embedding(self.position_ids)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        """Return the patch features (N, n_patches, D_vis) of (N, 3, S, S) images in [-1, 1]."""
        if pixels.shape[-2:] != (self.image_size, self.image_size):
            raise ValueError(f'images are {tuple(pixels.shape[-2:])}: the vision encoder needs '
                             f'{self.image_size}x{self.image_size} (resize with padding first)')
        x = self.embed(pixels)                                        # (N, n_patches, D_vis)
        for layer in self.layers:
            x = layer(x)
        return self.post_layernorm(x)
