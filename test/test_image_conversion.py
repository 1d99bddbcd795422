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

"""Camera message -> RGB conversion on plain objects that mirror sensor_msgs fields."""

import array
import io
from types import SimpleNamespace

from hypothesis import given, settings, strategies as st
import numpy as np
import pytest

from vla_ros.messages.image import (compressed_to_rgb, ENCODINGS, image_to_rgb, ImageError,
                                    to_rgb)


def encode(rgb, encoding, padding=0, alpha=77):
    """Build an Image-like object holding `rgb` in `encoding`, rows padded by `padding` bytes."""
    h, w, _ = rgb.shape
    if encoding == 'mono8':
        pixels = rgb[:, :, :1]
    else:
        pixels = rgb[:, :, ::-1] if encoding.startswith('bgr') else rgb
        if encoding.endswith('a8'):
            pixels = np.concatenate([pixels, np.full((h, w, 1), alpha, np.uint8)], axis=2)
    c = pixels.shape[2]
    step = w * c + padding
    rows = np.full((h, step), 0xEE, np.uint8)        # padding bytes are garbage on purpose
    rows[:, :w * c] = pixels.reshape(h, w * c)
    return SimpleNamespace(encoding=encoding, height=h, width=w, step=step,
                           is_bigendian=0, data=array.array('B', rows.tobytes()))


def expected(rgb, encoding):
    return np.repeat(rgb[:, :, :1], 3, axis=2) if encoding == 'mono8' else rgb


@pytest.mark.parametrize('encoding', sorted(ENCODINGS))
@pytest.mark.parametrize('padding', [0, 3, 64])
def test_every_encoding_with_padded_rows(encoding, padding):
    rgb = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    out = image_to_rgb(encode(rgb, encoding, padding))
    assert out.dtype == np.uint8 and out.shape == (5, 7, 3)
    assert out.flags.c_contiguous
    np.testing.assert_array_equal(out, expected(rgb, encoding))


@settings(max_examples=60, deadline=None)
@given(h=st.integers(1, 9), w=st.integers(1, 9), padding=st.integers(0, 9),
       encoding=st.sampled_from(sorted(ENCODINGS)), seed=st.integers(0, 2**16))
def test_any_size_and_padding_round_trips(h, w, padding, encoding, seed):
    rgb = np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)
    np.testing.assert_array_equal(image_to_rgb(encode(rgb, encoding, padding)),
                                  expected(rgb, encoding))


def test_last_row_may_omit_its_padding():
    rgb = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    msg = encode(rgb, 'rgb8', padding=4)
    msg.data = msg.data[:-4]
    np.testing.assert_array_equal(image_to_rgb(msg), rgb)


def test_result_does_not_alias_the_message_buffer():
    rgb = np.zeros((2, 2, 3), np.uint8)
    msg = encode(rgb, 'rgb8')
    out = image_to_rgb(msg)
    msg.data[0] = 255
    assert out[0, 0, 0] == 0


def test_bytes_and_list_data_are_accepted():
    rgb = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    msg = encode(rgb, 'rgb8')
    msg.data = bytes(msg.data)
    np.testing.assert_array_equal(image_to_rgb(msg), rgb)
    msg.data = list(msg.data)
    np.testing.assert_array_equal(image_to_rgb(msg), rgb)


@pytest.mark.parametrize('change, words', [
    ({'encoding': '16UC1'}, "Image.encoding='16UC1'"),
    ({'step': 5}, 'Image.step=5: must be >= width * channels = 6'),
    ({'height': 0}, 'must both be > 0'),
    ({'data': b'\0' * 5}, 'Image.data has 5 bytes'),
])
def test_bad_fields_are_named(change, words):
    msg = encode(np.zeros((2, 2, 3), np.uint8), 'rgb8')
    for key, value in change.items():
        setattr(msg, key, value)
    with pytest.raises(ImageError, match=words.replace('(', r'\(').replace('*', r'\*')):
        image_to_rgb(msg)


def compress(rgb, fmt):
    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format={'png': 'PNG', 'jpeg': 'JPEG'}[fmt], quality=95)
    return SimpleNamespace(format=fmt, data=array.array('B', buf.getvalue()))


def test_png_is_lossless():
    pytest.importorskip('PIL')
    rgb = np.random.default_rng(1).integers(0, 256, (6, 5, 3), dtype=np.uint8)
    np.testing.assert_array_equal(compressed_to_rgb(compress(rgb, 'png')), rgb)


@pytest.mark.parametrize('fmt', ['jpeg', 'rgb8; jpeg compressed bgr8'])
def test_jpeg_decodes_close_to_the_source(fmt):
    pytest.importorskip('PIL')
    yy, xx = np.mgrid[0:32, 0:32]
    rgb = np.stack([yy * 8, xx * 8, np.full_like(yy, 128)], axis=2).astype(np.uint8)
    msg = compress(rgb, 'jpeg')
    msg.format = fmt
    out = compressed_to_rgb(msg)
    assert out.shape == (32, 32, 3) and out.dtype == np.uint8
    assert np.abs(out.astype(int) - rgb).mean() < 4


def test_compressed_errors_name_the_field():
    with pytest.raises(ImageError, match="CompressedImage.format='tiff'"):
        compressed_to_rgb(SimpleNamespace(format='tiff', data=b''))
    with pytest.raises(ImageError, match='CompressedImage.data: not a decodable png'):
        compressed_to_rgb(SimpleNamespace(format='png', data=b'not a png'))


def test_to_rgb_dispatches_on_the_fields():
    rgb = np.random.default_rng(2).integers(0, 256, (3, 4, 3), dtype=np.uint8)
    np.testing.assert_array_equal(to_rgb(encode(rgb, 'bgr8')), rgb)
    pytest.importorskip('PIL')
    np.testing.assert_array_equal(to_rgb(compress(rgb, 'png')), rgb)


def test_matches_cv_bridge_when_it_is_installed():
    cv_bridge = pytest.importorskip('cv_bridge')
    pytest.importorskip('sensor_msgs')
    from sensor_msgs.msg import Image
    bridge = cv_bridge.CvBridge()
    rgb = np.random.default_rng(3).integers(0, 256, (4, 6, 3), dtype=np.uint8)
    for encoding in sorted(ENCODINGS):
        # cv_bridge reads a padded row correctly only when the padding is whole pixels (it
        # slices columns); ours also takes byte padding, tested above without cv_bridge.
        plain = encode(rgb, encoding, padding=2 * ENCODINGS[encoding][0])
        msg = Image(encoding=encoding, height=plain.height, width=plain.width,
                    step=plain.step, data=bytes(plain.data))
        np.testing.assert_array_equal(
            image_to_rgb(msg), bridge.imgmsg_to_cv2(msg, desired_encoding='rgb8'))
