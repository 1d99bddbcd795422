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
Camera images -> SmolVLA pixels: resize keeping the aspect ratio, pad, scale to [-1, 1].

Follows LeRobot's SmolVLA preprocessing exactly: uint8 / 255, bilinear resize (no
antialiasing) so that the image fits, black padding on the LEFT and TOP, then ``2x - 1``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812


def resize_with_pad(images: torch.Tensor, height: int, width: int,
                    pad_value: float = 0.0) -> torch.Tensor:
    """
    Resize float (B, C, H, W) to fit (height, width) keeping aspect; pad left and top.

    The scaled side is truncated (``int``), as LeRobot does, so a portrait 160x100 image
    fitted to 192x192 becomes 192x120 plus 72 padded columns on the left.
    """
    if images.ndim != 4:
        raise ValueError(f'images have shape {tuple(images.shape)}: expected (B, C, H, W)')
    h, w = images.shape[-2:]
    if (h, w) == (height, width):
        return images
    ratio = max(w / width, h / height)
    new_h, new_w = int(h / ratio), int(w / ratio)
    resized = F.interpolate(images, size=(new_h, new_w), mode='bilinear', align_corners=False)
    return F.pad(resized, (width - new_w, 0, height - new_h, 0), value=pad_value)


def to_model_pixels(images: np.ndarray | torch.Tensor, height: int, width: int,
                    device: torch.device | str = 'cpu') -> torch.Tensor:
    """uint8 (B, H, W, 3) camera images -> float32 (B, 3, height, width) in [-1, 1]."""
    images = torch.as_tensor(np.asarray(images) if not torch.is_tensor(images) else images)
    if images.ndim == 3:
        images = images[None]
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != torch.uint8:
        raise ValueError(f'image has shape {tuple(images.shape)} and dtype {images.dtype}: '
                         'expected uint8 (H, W, 3) or (B, H, W, 3)')
    pixels = images.to(device).permute(0, 3, 1, 2).float() / 255       # (B, 3, H, W) in [0, 1]
    return resize_with_pad(pixels, height, width, pad_value=0.0) * 2.0 - 1.0
