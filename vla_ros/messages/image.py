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

Every field is checked before it is used: ``data`` must hold bytes (``bytes``, a uint8 array,
``array('B')`` or a list of ints 0..255; wider items are never reinterpreted byte by byte),
sizes must be integers, and an image may have at most `MAX_PIXELS` pixels, checked on the
header of a compressed stream before it is decompressed. 16-bit PNGs are reduced to 8 bits by
their high byte (``v >> 8``), as Pillow does for 16-bit colour PNGs. Anything else is one
`ImageError` naming the field and the rule.
"""

from __future__ import annotations

import array
import io
import numbers

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
# Pillow's decoders that may run: a stream is never handed to TIFF, BMP, ... parsers.
PIL_FORMATS = ('JPEG', 'PNG')
# 8192 x 8192: far above any camera a policy runs on, and 200 MB as RGB; checked before a
# compressed stream is decompressed (Pillow's own bomb check starts at 4x more).
MAX_PIXELS = 8192 * 8192
# Pillow modes of 16-bit (and 32-bit integer) gray: convert('RGB') would clamp them at 255.
WIDE_GRAY_MODES = ('I;16', 'I;16B', 'I;16L', 'I;16N', 'I')


class ImageError(ValueError):
    """A camera message cannot be converted; the message names the field and the rule."""


def image_to_rgb(msg) -> np.ndarray:
    """Convert a ``sensor_msgs/Image`` (or look-alike) to a new ``(H, W, 3)`` uint8 RGB array."""
    raw_encoding = _field(msg, 'Image', 'encoding')
    encoding = raw_encoding.lower() if isinstance(raw_encoding, str) else None
    if encoding not in ENCODINGS:
        raise ImageError(f'Image.encoding={raw_encoding!r}: must be one of '
                         + ', '.join(ENCODINGS))
    channels, rgb = ENCODINGS[encoding]
    height, width, step = (_int_field(msg, name) for name in ('height', 'width', 'step'))
    if height <= 0 or width <= 0:
        raise ImageError(f'Image.height x width={height}x{width}: must both be > 0')
    _check_pixels('Image', width, height)
    if step < width * channels:
        raise ImageError(f'Image.step={step}: must be >= width * channels = '
                         f'{width * channels} for {encoding}')
    data = _as_bytes(_field(msg, 'Image', 'data'), 'Image.data')
    # The last row may omit its padding; everything before it must be whole rows.
    needed = step * (height - 1) + width * channels
    if data.size < needed:
        raise ImageError(f'Image.data has {data.size} bytes: needs >= {needed} for '
                         f'{height} rows of step {step}')
    # One row has no row stride to speak of, and `step` may then exceed any array index.
    row_stride = step if height > 1 else width * channels
    rows = np.lib.stride_tricks.as_strided(
        data, shape=(height, width, channels), strides=(row_stride, channels, 1),
        writeable=False)
    return np.ascontiguousarray(rows[:, :, list(rgb)])


def compressed_to_rgb(msg) -> np.ndarray:
    """
    Decode a ``sensor_msgs/CompressedImage`` (jpeg or png) to ``(H, W, 3)`` uint8 RGB.

    ``format`` may be plain (``jpeg``) or image_transport's (``bgr8; jpeg compressed bgr8``);
    the compressed stream itself says how its colors are stored, so only the codec matters.
    """
    raw_format = _field(msg, 'CompressedImage', 'format')
    fmt = raw_format.lower() if isinstance(raw_format, str) else ''
    if not any(name in fmt for name in COMPRESSED_FORMATS):
        raise ImageError(f'CompressedImage.format={raw_format!r}: must name jpeg or png')
    data = _as_bytes(_field(msg, 'CompressedImage', 'data'), 'CompressedImage.data')
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is a dependency of the node
        raise ImageError('CompressedImage: decoding needs Pillow (pip install pillow)') from None
    try:
        # open() reads the header only: the size is checked before anything is decompressed.
        with Image.open(io.BytesIO(data), formats=PIL_FORMATS) as image:
            _check_pixels('CompressedImage', *image.size)
            if image.mode in WIDE_GRAY_MODES:
                # Clip: mode 'I' is 32-bit, but a PNG puts at most 16 bits in it.
                gray = np.clip(np.asarray(image, dtype=np.int64), 0, 0xFFFF)
                return np.repeat((gray >> 8).astype(np.uint8)[:, :, None], 3, axis=2)
            return np.asarray(image.convert('RGB'), dtype=np.uint8).copy()
    except ImageError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageError(f'CompressedImage.data: header claims too many pixels '
                         f'({str(exc).rstrip(".")}): must be at most {MAX_PIXELS} pixels '
                         '(8192 x 8192)') from None
    # Pillow's decoders raise OSError for most damage, and SyntaxError, EOFError, struct.error,
    # ... for some: whatever a broken stream makes them raise, it is a broken stream.
    except Exception as exc:  # noqa: BLE001
        raise ImageError(f'CompressedImage.data: not a decodable {fmt} stream '
                         f'({type(exc).__name__}: {exc})') from None


def to_rgb(msg) -> np.ndarray:
    """Convert either message kind: a ``format`` field means CompressedImage."""
    if hasattr(msg, 'format') and not hasattr(msg, 'encoding'):
        return compressed_to_rgb(msg)
    return image_to_rgb(msg)


def _field(msg, kind: str, name: str):
    try:
        return getattr(msg, name)
    except AttributeError:
        raise ImageError(f'{kind}: has no field {name!r} (not a sensor_msgs/{kind})') from None


def _int_field(msg, name: str) -> int:
    value = _field(msg, 'Image', name)
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise ImageError(f'Image.{name}={value!r}: must be an integer')
    return int(value)


def _check_pixels(kind: str, width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise ImageError(f'{kind} size {width}x{height}: must be at most {MAX_PIXELS} pixels '
                         '(8192 x 8192)')


def _as_bytes(data, where: str) -> np.ndarray:
    """
    Return `data` as a flat uint8 array, without copying a byte buffer.

    rclpy hands uint8[] fields over as array.array('B') or bytes; tests may pass lists. A
    buffer of wider items (int64, float32, array('H')) is refused, not read byte by byte.
    """
    if isinstance(data, (bytes, bytearray)):
        return np.frombuffer(data, dtype=np.uint8)
    if isinstance(data, (memoryview, array.array, np.ndarray)):
        view = memoryview(data)
        if view.format not in ('B', 'c') or view.itemsize != 1:
            raise ImageError(f'{where}: a buffer of {view.format!r} items ({view.itemsize} '
                             'bytes each): must be bytes or uint8')
        if not view.contiguous:
            view = memoryview(view.tobytes())
        return np.frombuffer(view.cast('B'), dtype=np.uint8)
    if isinstance(data, (list, tuple)):
        try:
            values = np.asarray(data)
        except (TypeError, ValueError):
            values = None
        if values is None or values.ndim != 1 or (values.size and values.dtype.kind not in 'iu'):
            raise ImageError(f'{where}: a list must hold integers 0..255')
        if values.size and (values.min() < 0 or values.max() > 255):
            raise ImageError(f'{where}: holds {values.min()}..{values.max()}: values must be '
                             'bytes, 0..255')
        return values.astype(np.uint8)
    raise ImageError(f'{where}: a {type(data).__name__}: must be bytes, a uint8 array or a '
                     'list of ints 0..255')
