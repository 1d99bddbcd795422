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

"""SmolVLM connector: pixel shuffle (space-to-depth) then a linear map to the LM width."""

from __future__ import annotations

import torch
from torch import nn

from vla_ros.model.config import SmolVLAConfig


def pixel_shuffle(x: torch.Tensor, scale_factor: int) -> torch.Tensor:
    """
    Fold each r x r block of the patch grid into one token with r^2 times the features.

    (B, n*n, D) -> (B, (n/r)^2, D*r^2). The feature order within a token is Idefics3's: the
    r column-neighbours of a row are contiguous, then the next row of the block.
    """
    b, seq, d = x.shape
    n = int(seq ** 0.5)
    r = scale_factor
    if n * n != seq or n % r:
        raise ValueError(f'pixel_shuffle: {seq} tokens is not a square grid divisible by {r}')
    x = x.view(b, n // r, r, n // r, r, d)        # (B, row blocks, r rows, col blocks, r cols, D)
    x = x.permute(0, 1, 3, 2, 4, 5)               # (B, row blocks, col blocks, r rows, r cols, D)
    return x.reshape(b, (n // r) ** 2, r * r * d)   # (B, n_img_tokens, D * r^2)


class Connector(nn.Module):
    """Pixel shuffle + bias-free projection from the vision width to the LM width."""

    def __init__(self, config: SmolVLAConfig):
        super().__init__()
        self.scale_factor = config.scale_factor
        in_features = config.vision_hidden_size * config.scale_factor ** 2
        self.proj = nn.Linear(in_features, config.text_hidden_size, bias=False)

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        """(N, n_patches, D_vis) -> (N, n_img_tokens, D_vlm)."""
        return self.proj(pixel_shuffle(patches, self.scale_factor))
