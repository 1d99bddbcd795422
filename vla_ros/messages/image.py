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
Camera messages -> ``uint8`` RGB arrays ``(H, W, 3)``, without ROS or OpenCV.

Duck-typed on the fields of ``sensor_msgs/Image`` (``encoding``, ``height``, ``width``,
``step``, ``data``) and ``sensor_msgs/CompressedImage`` (``format``, ``data``), so the same code
converts real messages and the plain objects the tests build. The results equal cv_bridge's
``imgmsg_to_cv2(msg, desired_encoding='rgb8')``: gray is replicated into three channels, alpha
is dropped, and the padding a driver may add at the end of each row (``step > width * channels``)
is skipped.
"""

from __future__ import annotations

import io

import numpy as np

# encoding -> (channels, index of R, G, B in a pixel); mono8 repeats its one channel.
ENCODINGS = {
    'rgb8': (3, (0, 1, 2)),
    'bgr8': (3, (2, 1, 0)),
    'rgba8': (4, (0, 1, 2)),
    'bgra8': (4, (2, 1, 0)),
    'mono8': (1, (0, 0, 0)),
}

COMPRESSED_FORMATS = ('jpeg', 'jpg', 'png')


class ImageError(ValueError):
    """A camera message cannot be converted; the message names the field and the rule."""


def image_to_rgb(msg) -> np.ndarray:
    """Convert a ``sensor_msgs/Image`` (or look-alike) to a new ``(H, W, 3)`` uint8 RGB array."""
    encoding = str(msg.encoding).lower()
    if encoding not in ENCODINGS:
        raise ImageError(f'Image.encoding={msg.encoding!r}: must be one of '
                         + ', '.join(ENCODINGS))
    channels, rgb = ENCODINGS[encoding]
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    if height <= 0 or width <= 0:
        raise ImageError(f'Image.height x width={height}x{width}: must both be > 0')
    if step < width * channels:
        raise ImageError(f'Image.step={step}: must be >= width * channels = '
                         f'{width * channels} for {encoding}')
    data = np.frombuffer(_as_bytes(msg.data), dtype=np.uint8)
    # The last row may omit its padding; everything before it must be whole rows.
    needed = step * (height - 1) + width * channels
    if data.size < needed:
        raise ImageError(f'Image.data has {data.size} bytes: needs >= {needed} for '
                         f'{height} rows of step {step}')
    rows = np.lib.stride_tricks.as_strided(
        data, shape=(height, width, channels), strides=(step, channels, 1), writeable=False)
    return np.ascontiguousarray(rows[:, :, list(rgb)])


def compressed_to_rgb(msg) -> np.ndarray:
    """
    Decode a ``sensor_msgs/CompressedImage`` (jpeg or png) to ``(H, W, 3)`` uint8 RGB.

    ``format`` may be plain (``jpeg``) or image_transport's (``bgr8; jpeg compressed bgr8``);
    the compressed stream itself says how its colors are stored, so only the codec matters.
    """
    fmt = str(msg.format).lower()
    if not any(name in fmt for name in COMPRESSED_FORMATS):
        raise ImageError(f'CompressedImage.format={msg.format!r}: must name jpeg or png')
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is a dependency of the node
        raise ImageError('CompressedImage: decoding needs Pillow (pip install pillow)') from None
    try:
        with Image.open(io.BytesIO(_as_bytes(msg.data))) as image:
            return np.asarray(image.convert('RGB'), dtype=np.uint8).copy()
    except (OSError, ValueError) as exc:
        raise ImageError(f'CompressedImage.data: not a decodable {fmt} stream ({exc})') from None


def to_rgb(msg) -> np.ndarray:
    """Convert either message kind: a ``format`` field means CompressedImage."""
    if hasattr(msg, 'format') and not hasattr(msg, 'encoding'):
        return compressed_to_rgb(msg)
    return image_to_rgb(msg)


def _as_bytes(data) -> bytes | memoryview:
    # rclpy hands uint8[] fields over as array.array('B') or bytes; tests may pass lists.
    if isinstance(data, (bytes, bytearray, memoryview)):
        return data
    try:
        return memoryview(data).cast('B')
    except TypeError:
        return bytes(data)
