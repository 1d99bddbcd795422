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
Loaders fed bad input fail with their one documented error, naming the file or field.

Checkpoints raise `CheckpointError`, action tokenizers `ValueError`, camera messages
`ImageError`: never a raw TypeError/KeyError from deep inside, never a value silently misread.
Regression tests for each fuzzing find, then one hypothesis fuzz per loader.
"""

import array
import functools
import io
import json
import math
from pathlib import Path
import re
import shutil
import struct
import tempfile
from types import SimpleNamespace
import zlib

from hypothesis import given, HealthCheck, settings, strategies as st
import numpy as np
import pytest

from vla_ros.action_tokenizers import BinTokenizer, FastTokenizer
from vla_ros.messages.image import (compressed_to_rgb, ENCODINGS, image_to_rgb, ImageError,
                                    MAX_PIXELS, to_rgb)

FIXTURE = Path(__file__).parent / 'fixtures' / 'lerobot_smolvla'


def fuzz(examples):
    """Hypothesis settings of a fuzz test: no deadline (loading varies), fixtures allowed."""
    return settings(max_examples=examples, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


def edited_copy(source, target, file_name, edit):
    """Copy the checkpoint `source` to `target` with `edit` applied to its JSON `file_name`."""
    shutil.copytree(source, target)
    path = target / file_name
    data = json.loads(path.read_text())
    result = edit(data)
    path.write_text(json.dumps(data if result is None else result))
    return target


def assign(path, value):
    """Return an edit that sets the (nested) key `path` of a JSON document to `value`."""
    def edit(data):
        *parents, last = path
        for key in parents:
            data = data[key]
        data[last] = value
    return edit


# --------------------------------------------------------------------------------------------
# Checkpoints.

@pytest.fixture(scope='module')
def checkpoint(tiny_policy_dir):
    """Return the session's tiny policy directory; tests edit copies, never the original."""
    pytest.importorskip('torch').set_num_threads(2)
    return tiny_policy_dir


def load(directory, **kwargs):
    from vla_ros.policy.smolvla import SmolVLAPolicy

    return SmolVLAPolicy.from_pretrained(directory, **kwargs)


@pytest.mark.parametrize('file_name, path, value, words', [
    ('config.json', ['format_version'], None,
     'config.json: format_version=None: must be an integer in [1, 1]'),
    ('config.json', ['format_version'], 2, 'config.json: format_version=2: must be an integer'),
    ('config.json', ['model'], [], 'config.json: model=[]: must be a JSON object'),
    ('config.json', ['model', 'chunk_size'], '10',
     "config.json: model.chunk_size='10': must be an integer"),
    ('config.json', ['model', 'chunk_size'], 10.5,
     'config.json: model.chunk_size=10.5: must be an integer'),
    ('config.json', ['model', 'num_steps'], 2.5,
     'config.json: model.num_steps=2.5: must be an integer'),
    ('config.json', ['model', 'freeze_vision_encoder'], 'no',
     "config.json: model.freeze_vision_encoder='no': must be a boolean"),
    ('config.json', ['model', 'vocab_size'], 1e11,
     'config.json: model.vocab_size=100000000000.0: must be an integer'),
    ('config.json', ['model', 'vocab_size'], 10 ** 11,
     'config.json: model.vocab_size=100000000000: must be <= 2097152'),
    ('config.json', ['model', 'num_vlm_layers'], 10 ** 6,
     'config.json: model.num_vlm_layers=1000000: must be <= 256'),
    ('config.json', ['model', 'min_period'], 'x',
     "config.json: model.min_period='x': must be a finite number"),
    ('config.json', ['model', 'resize_imgs_with_padding'], [16, 16],
     'config.json: model.resize_imgs_with_padding=(16, 16): must be [32, 32]'),
    ('config.json', ['model', 'bogus'], 1, 'config.json: model.bogus: unknown config field'),
    # Values that loaded but made the first prediction NaN (refused by ActionChunk).
    ('config.json', ['model', 'rope_theta'], 5e-324,
     'config.json: model.rope_theta=5e-324: must be >= 1'),
    ('config.json', ['model', 'min_period'], 5e-324,
     'config.json: model.min_period=5e-324: must be >= 1e-9'),
    ('policy.json', ['stats', 'action_std'], [1e308] * 3,
     'policy.json: stats.action_std: holds .*: every value must be within +-1e+12'),
    ('policy.json', ['stats', 'state_mean'], 'abc',
     "policy.json: stats.state_mean='abc': must be a list of numbers"),
    ('policy.json', ['stats', 'action_std'], [1, 'x', 1],
     "policy.json: stats.action_std=[1, 'x', 1]: must be a list of numbers"),
    ('policy.json', ['stats', 'eps'], '1e-8',
     "policy.json: stats.eps='1e-8': must be a number in [0, 1e+12]"),
    ('policy.json', ['stats', 'state_std'], [0, 1, 1],
     'policy.json: stats.state_std[0]=0 with eps=0.0: std + eps must be > 0'),
    ('policy.json', ['stats'], [], 'policy.json: stats=[]: must be a JSON object'),
    ('policy.json', ['spec', 'camera_names'], 'scene',
     "policy.json: spec.camera_names='scene': must be a list of strings"),
    ('policy.json', ['spec', 'action_dt_s'], '0.1',
     "policy.json: spec.action_dt_s='0.1': must be a number"),
    ('policy.json', ['spec', 'bogus'], 1, 'policy.json: spec.bogus: unknown field'),
    ('policy.json', ['spec', 'joint_names'], ['a'],
     'policy.json: does not fit the model .*stats.action_mean: 3 values for 1 joint_names'),
])
def test_bad_checkpoint_values_name_file_and_field(checkpoint, tmp_path, file_name, path,
                                                   value, words):
    from vla_ros.model.checkpoint import CheckpointError

    directory = edited_copy(checkpoint, tmp_path / 'c', file_name, assign(path, value))
    pattern = re.escape(words).replace(r'\.\*', '.*')     # '.*': any text
    with pytest.raises(CheckpointError, match=pattern):
        load(directory)


@pytest.mark.parametrize('damage, words', [
    (lambda d: (d / 'model.safetensors').write_bytes(
        (d / 'model.safetensors').read_bytes()[:5000]), 'model.safetensors: not a readable'),
    (lambda d: (d / 'policy.json').write_text('[1, 2]'), 'policy.json: must hold a JSON object'),
    (lambda d: (d / 'tokenizer.json').unlink(), 'tokenizer.json: missing'),
    (lambda d: (d / 'tokenizer.json').write_text('{"version": 1}'),
     'tokenizer.json or tokenizer_config.json unreadable'),
    (lambda d: (d / 'config.json').write_text('[' * 100000), 'config.json: not valid JSON'),
])
def test_damaged_checkpoint_files_are_one_clear_error(checkpoint, tmp_path, damage, words):
    from vla_ros.model.checkpoint import CheckpointError

    directory = tmp_path / 'c'
    shutil.copytree(checkpoint, directory)
    damage(directory)
    with pytest.raises(CheckpointError, match=words):
        load(directory)


def test_integer_weights_are_refused(checkpoint, tmp_path):
    import torch
    from safetensors.torch import load_file, save_file

    from vla_ros.model.checkpoint import CheckpointError

    directory = tmp_path / 'c'
    shutil.copytree(checkpoint, directory)
    tensors = load_file(str(directory / 'model.safetensors'))
    tensors['state_proj.weight'] = tensors['state_proj.weight'].to(torch.int64)
    save_file(tensors, str(directory / 'model.safetensors'))
    with pytest.raises(CheckpointError, match='state_proj.weight has dtype I64: weights must be '
                                              'floating point'):
        load(directory)


def test_sizes_are_checked_against_the_file_before_allocating(checkpoint, tmp_path,
                                                              monkeypatch):
    import torch

    from vla_ros.model import SmolVLA
    from vla_ros.model.checkpoint import CheckpointError

    built = []
    init = SmolVLA.__init__

    def spy(self, config):
        built.append(torch.empty(0).device.type)    # the device a new tensor would go to
        init(self, config)

    monkeypatch.setattr(SmolVLA, '__init__', spy)
    # 2e6 x 64 float32 embeddings: 512 MB if built for real before the check.
    directory = edited_copy(checkpoint, tmp_path / 'c', 'config.json',
                            assign(['model', 'vocab_size'], 2_000_000))
    with pytest.raises(CheckpointError, match=r'model.safetensors: does not fit the model: '
                                              r'language_model.embed_tokens.weight has shape '
                                              r'\(\d+, 64\), the config needs \(2000000, 64\)'):
        load(directory)
    assert built == ['meta']


@pytest.fixture(scope='module')
def lerobot():
    pytest.importorskip('torch')
    pytest.importorskip('transformers')
    if not (FIXTURE / 'checkpoint' / 'model.safetensors').is_file():
        pytest.skip('LeRobot fixture missing')
    return FIXTURE / 'checkpoint', FIXTURE / 'vlm'


@pytest.mark.parametrize('file_name, path, value, words', [
    ('config.json', ['input_features', 'observation.state'], {'type': 'STATE'},
     'config.json: input_features.observation.state.shape=None: must be a non-empty list'),
    ('config.json', ['output_features', 'action', 'shape'], ['6'],
     "config.json: output_features.action.shape=['6']: must be a non-empty list"),
    ('config.json', ['input_features'], 'x', "config.json: input_features='x': must be a JSON"),
    ('config.json', ['chunk_size'], '10', "config.json: chunk_size='10': must be an integer"),
    ('config.json', ['num_steps'], 2.5, 'config.json: num_steps=2.5: must be an integer'),
    ('config.json', ['freeze_vision_encoder'], 'no',
     "config.json: freeze_vision_encoder='no': must be a boolean"),
    ('config.json', ['prefix_length'], '3', "config.json: prefix_length='3': only -1"),
    ('config.json', ['empty_cameras'], '0', "config.json: empty_cameras='0': only 0"),
    ('config.json', ['vlm_model_name'], 5, 'config.json: vlm_model_name=5: must be a string'),
    ('policy_preprocessor.json', ['steps'], {}, 'policy_preprocessor.json: steps: must be a list'),
])
def test_bad_lerobot_values_name_file_and_field(lerobot, tmp_path, file_name, path, value,
                                                words):
    from vla_ros.model.checkpoint import CheckpointError

    source, vlm = lerobot
    directory = edited_copy(source, tmp_path / 'c', file_name, assign(path, value))
    pattern = re.escape(words).replace(r'\.\*', '.*')     # '.*': any text
    with pytest.raises(CheckpointError, match=pattern):
        load(directory, vlm_path=vlm)


@pytest.mark.parametrize('field, value, words', [
    ('eps', 'x', "normalizer_processor.config.eps='x': must be a finite number"),
    ('state_file', '../../x.safetensors', "state_file='../../x.safetensors': must be a file "
                                          'name inside the checkpoint directory'),
    ('state_file', 5, 'state_file=5: must be a file name'),
])
def test_bad_lerobot_processor_steps_are_named(lerobot, tmp_path, field, value, words):
    from vla_ros.model.checkpoint import CheckpointError

    def edit(data):
        step = next(s for s in data['steps'] if 'state_file' in s)
        (step.setdefault('config', {}) if field == 'eps' else step)[field] = value

    source, vlm = lerobot
    directory = edited_copy(source, tmp_path / 'c', 'policy_preprocessor.json', edit)
    with pytest.raises(CheckpointError, match=words.replace('.', r'\.')):
        load(directory, vlm_path=vlm)


def test_bad_vlm_config_value_names_the_vlm_file(lerobot, tmp_path):
    from vla_ros.model.checkpoint import CheckpointError

    source, vlm = lerobot
    vlm_copy = edited_copy(vlm, tmp_path / 'vlm', 'config.json',
                           assign(['text_config', 'hidden_size'], '64'))
    with pytest.raises(CheckpointError, match=r"vlm/config.json: text_config.hidden_size='64': "
                                              'must be an integer'):
        load(source, vlm_path=vlm_copy)


# --------------------------------------------------------------------------------------------
# Action tokenizers.

@pytest.fixture(scope='module')
def tokenizers():
    rng = np.random.default_rng(0)
    chunks = np.cumsum(rng.standard_normal((64, 20, 3)) * 0.05, axis=1)
    return BinTokenizer().fit(chunks), FastTokenizer(vocab_size=256).fit(chunks), chunks


@pytest.mark.parametrize('kind', [0, 1])
def test_decode_of_an_empty_batch_is_empty(tokenizers, kind):
    decoded = tokenizers[kind].decode([], 20, 3)
    assert decoded.actions.shape == (0, 20, 3)
    assert decoded.valid.shape == (0,) and decoded.reasons == []


@pytest.mark.parametrize('kind', [0, 1])
@pytest.mark.parametrize('horizon', [math.inf, -math.inf, math.nan, None, '5', True, 0, -1,
                                     2.5, 10 ** 12, 1e300])
def test_bad_horizon_is_a_value_error_naming_it(tokenizers, kind, horizon):
    with pytest.raises(ValueError, match=r'decode horizon=.*: must be an integer in '
                                         r'\[1, 100000\]'):
        tokenizers[kind].decode([[1, 2]], horizon, 3)


@pytest.mark.parametrize('kind', [0, 1])
@pytest.mark.parametrize('action_dim', [None, '3', 2, 3.5, math.nan, np.array([3, 3])])
def test_bad_action_dim_is_a_value_error_naming_it(tokenizers, kind, action_dim):
    with pytest.raises(ValueError, match=r'decode action_dim=.*: must equal the fitted '
                                         'action_dim=3'):
        tokenizers[kind].decode([[1, 2]], 20, action_dim)


@pytest.mark.parametrize('kind', [0, 1])
@pytest.mark.parametrize('tokens', [None, 5, 'abc', iter([[1]]), np.int64(3)])
def test_tokens_that_are_no_batch_are_a_value_error(tokenizers, kind, tokens):
    with pytest.raises(ValueError, match='decode tokens=.*: must be a list of token-id'):
        tokenizers[kind].decode(tokens, 20, 3)


def test_fast_encode_of_huge_values_clips_to_the_right_end(tokenizers):
    _, fast, chunks = tokenizers
    for sign in (1, -1):
        huge, large = chunks[:1].copy(), chunks[:1].copy()
        huge[0, :, 0] = sign * 1e19     # wrapped around in int64 before the fix
        large[0, :, 0] = sign * 1e6
        assert np.sign(fast.dct_codes(huge)[0, 0]) == sign
        assert fast.encode(huge) == fast.encode(large)
    extreme = chunks[:1].copy()
    extreme[0, ::2, 0], extreme[0, 1::2, 0] = 1e300, -1e300   # inf - inf in the DCT before
    decoded = fast.decode(fast.encode(extreme), 20, 3)
    assert decoded.valid.all() and np.isfinite(decoded.actions).all()


@pytest.mark.parametrize('make, words', [
    (lambda: FastTokenizer(scale='x'), "FastTokenizer.scale='x': must be finite and > 0"),
    (lambda: FastTokenizer(scale=True), 'FastTokenizer.scale=True: must be finite'),
    (lambda: FastTokenizer(vocab_size='x'), "FastTokenizer.vocab_size='x': must be an integer"),
    (lambda: FastTokenizer(vocab_size=math.inf), 'FastTokenizer.vocab_size=inf: must be an'),
    (lambda: FastTokenizer(vocab_size=1e30), 'FastTokenizer.vocab_size=1e+30: must be an'),
    (lambda: FastTokenizer(cache_chunks=None), 'FastTokenizer.cache_chunks=None: must be an'),
    (lambda: FastTokenizer(cache_chunks=1.5), 'FastTokenizer.cache_chunks=1.5: must be an'),
    (lambda: BinTokenizer(n_bins='x'), "BinTokenizer.n_bins='x': must be an integer"),
    (lambda: BinTokenizer(n_bins=math.nan), 'BinTokenizer.n_bins=nan: must be an integer'),
    (lambda: BinTokenizer(vocab_size=math.inf), 'BinTokenizer.vocab_size=inf: must be None'),
])
def test_bad_constructor_arguments_are_named(make, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        make()


@pytest.mark.parametrize('kind', [0, 1])
def test_save_and_load_need_a_path(tokenizers, kind):
    tokenizer = tokenizers[kind]
    with pytest.raises(ValueError, match=r'\.save directory=None: must be a path'):
        tokenizer.save(None)
    with pytest.raises(ValueError, match=r'\.load directory=3: must be a path'):
        type(tokenizer).load(3)


@pytest.mark.parametrize('kind, field, value, words', [
    (1, 'min_code', 'x', "min_code='x': must be an integer"),
    (1, 'max_code', -10 ** 9, 'max_code=-1000000000: must be an integer'),
    (1, 'horizon', -1, 'horizon=-1: must be an integer'),
    (1, 'scale', None, 'FastTokenizer.scale=None: must be finite'),
    (1, 'normalizer', {'low': 'x', 'high': [1]}, "QuantileNormalizer.low='x': must be a list"),
    (0, 'n_bins', '256', "BinTokenizer.n_bins='256': must be an integer"),
    (0, 'normalizer', None, 'QuantileNormalizer: None: must be an object with low and high'),
])
def test_bad_saved_settings_name_the_file_and_field(tokenizers, tmp_path, kind, field, value,
                                                    words):
    tokenizer = tokenizers[kind]
    tokenizer.save(tmp_path)
    config = next(p for p in tmp_path.glob('*.json') if p.name != 'tokenizer.json')
    data = json.loads(config.read_text())
    data[field] = value
    config.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=f'{config.name}: {words}'):
        type(tokenizer).load(tmp_path)


def test_fast_load_refuses_a_bpe_that_cannot_encode_every_code(tokenizers, tmp_path):
    fast = tokenizers[1]
    fast.save(tmp_path)
    config = tmp_path / 'fast_tokenizer.json'
    data = json.loads(config.read_text())
    data['max_code'] = data['min_code'] + 2000      # codes past the vocabulary's symbols
    config.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=r'tokenizer.json: has no token for \d+ byte symbol'):
        FastTokenizer.load(tmp_path)
    (tmp_path / 'tokenizer.json').write_text('{"model": 1}')
    with pytest.raises(ValueError, match='tokenizer.json: not a readable tokenizer file'):
        FastTokenizer.load(tmp_path)


# --------------------------------------------------------------------------------------------
# Camera messages.

def raw_image(**fields):
    msg = {'encoding': 'rgb8', 'height': 2, 'width': 2, 'step': 6, 'data': bytes(range(12))}
    msg.update(fields)
    return SimpleNamespace(**msg)


def png_bytes(width, height, depth, color_type, rows=b''):
    """Return a PNG stream written by hand, so that its header may claim anything."""
    def chunk(kind, body):
        return (struct.pack('>I', len(body)) + kind + body
                + struct.pack('>I', zlib.crc32(kind + body)))
    header = struct.pack('>IIBBBBB', width, height, depth, color_type, 0, 0, 0)
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', header) + chunk(b'IDAT', zlib.compress(rows))
            + chunk(b'IEND', b''))


@pytest.mark.parametrize('fields, words', [
    ({'data': np.arange(12, dtype=np.int64)}, "Image.data: a buffer of 'l' items"),
    ({'data': np.zeros(12, np.float32)}, "Image.data: a buffer of 'f' items"),
    ({'data': array.array('H', range(12))}, "Image.data: a buffer of 'H' items"),
    ({'data': np.zeros(12, bool)}, "Image.data: a buffer of '?' items"),
    ({'data': None}, 'Image.data: a NoneType: must be bytes'),
    ({'data': 'abcdefghijkl'}, 'Image.data: a str: must be bytes'),
    ({'data': [300] * 12}, 'Image.data: holds 300..300: values must be bytes, 0..255'),
    ({'data': [-1] * 12}, 'Image.data: holds -1..-1: values must be bytes'),
    ({'data': [1.5] * 12}, 'Image.data: a list must hold integers 0..255'),
    ({'height': 'x'}, "Image.height='x': must be an integer"),
    ({'width': 2.0}, 'Image.width=2.0: must be an integer'),
    ({'step': None}, 'Image.step=None: must be an integer'),
    ({'encoding': None}, 'Image.encoding=None: must be one of'),
    ({'height': 10 ** 5, 'width': 10 ** 5, 'step': 3 * 10 ** 5},
     'Image size 100000x100000: must be at most 67108864 pixels'),
])
def test_bad_image_fields_are_named(fields, words):
    with pytest.raises(ImageError, match=re.escape(words)):
        image_to_rgb(raw_image(**fields))


def test_missing_field_is_named():
    msg = raw_image()
    del msg.data
    with pytest.raises(ImageError, match="Image: has no field 'data'"):
        image_to_rgb(msg)


def test_uint8_arrays_of_any_layout_are_read_by_value():
    rgb = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    for data in (rgb.reshape(2, 6), np.repeat(rgb.reshape(-1), 2)[::2], memoryview(rgb.tobytes())):
        np.testing.assert_array_equal(image_to_rgb(raw_image(data=data)), rgb)


@pytest.mark.parametrize('width, height, words', [
    (100_000, 100_000, 'CompressedImage.data: header claims too many pixels'),
    (9000, 9000, 'CompressedImage size 9000x9000: must be at most 67108864 pixels'),
])
def test_huge_compressed_images_are_refused_before_decoding(width, height, words):
    pytest.importorskip('PIL')
    msg = SimpleNamespace(format='png', data=png_bytes(width, height, 8, 2))
    with pytest.raises(ImageError, match=words):
        compressed_to_rgb(msg)
    assert MAX_PIXELS == 8192 * 8192


def test_16_bit_pngs_keep_their_high_byte():
    pytest.importorskip('PIL')
    gray = np.array([[0, 255, 256, 1000], [32768, 40000, 65280, 65535]], '>u2')
    rows = b''.join(b'\0' + row.tobytes() for row in gray)
    out = compressed_to_rgb(SimpleNamespace(format='png', data=png_bytes(4, 2, 16, 0, rows)))
    expected = (gray.astype(np.int64) >> 8).astype(np.uint8)     # [[0, 0, 1, 3], [128, ...]]
    np.testing.assert_array_equal(out, np.repeat(expected[:, :, None], 3, axis=2))
    color = np.array([[[0, 256, 65535], [1000, 30000, 50000]]], '>u2')
    rows = b''.join(b'\0' + row.tobytes() for row in color)
    out = compressed_to_rgb(SimpleNamespace(format='png', data=png_bytes(2, 1, 16, 2, rows)))
    np.testing.assert_array_equal(out, (color.astype(np.int64) >> 8).astype(np.uint8))


def test_other_codecs_are_not_decoded_under_a_png_name():
    pil = pytest.importorskip('PIL.Image')
    buffer = io.BytesIO()
    pil.fromarray(np.zeros((4, 4, 3), np.uint8)).save(buffer, format='BMP')
    with pytest.raises(ImageError, match='CompressedImage.data: not a decodable png stream'):
        compressed_to_rgb(SimpleNamespace(format='png', data=buffer.getvalue()))


# --------------------------------------------------------------------------------------------
# Fuzz: random edits, only the documented error escapes.

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3)
    | st.sampled_from([10 ** 11, 2 ** 63, -2 ** 63, 10 ** 30, 0.5, 1e308, 'x', ''])
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=3),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=3), children, max_size=2),
    max_leaves=4)
DELETE = object()


def json_paths(data, prefix=()):
    """Every key path of a JSON document (objects and list items), parents first."""
    items = data.items() if isinstance(data, dict) else enumerate(data)
    for key, value in items:
        yield prefix + (key,)
        if isinstance(value, (dict, list)) and len(prefix) < 4:
            yield from json_paths(value, prefix + (key,))


@pytest.fixture(scope='module')
def fuzz_targets(checkpoint, lerobot):
    """(checkpoint dir, file name, key path, load kwargs) of every value a fuzz may edit."""
    targets = []
    for directory, files, kwargs in (
            (checkpoint, ('config.json', 'policy.json'), {}),
            (lerobot[0], ('config.json', 'policy_preprocessor.json',
                          'policy_postprocessor.json'), {'vlm_path': lerobot[1]})):
        for name in files:
            data = json.loads((directory / name).read_text())
            targets += [(directory, name, path, kwargs) for path in json_paths(data)]
    return targets


@fuzz(50)
@given(data=st.data(), value=JSON_VALUES | st.just(DELETE))
def test_fuzz_checkpoint_edits_raise_only_checkpoint_errors(fuzz_targets, data, value):
    from vla_ros.model.checkpoint import CheckpointError
    from vla_ros.policy.interface import Observation

    source, name, path, kwargs = data.draw(st.sampled_from(fuzz_targets))

    def edit(document):
        *parents, last = path
        for key in parents:
            document = document[key]
        if value is DELETE:
            del document[last]
        else:
            document[last] = value

    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / 'c'
        directory.mkdir()
        for item in source.iterdir():      # link everything but the edited file
            if item.name != name:
                (directory / item.name).symlink_to(item.resolve())
        document = json.loads((source / name).read_text())
        edit(document)
        (directory / name).write_text(json.dumps(document))
        try:
            policy = load(directory, **kwargs)
        except CheckpointError:
            return
    # What loads must run: no failure deferred to the first prediction. num_steps was checked
    # at load; one Euler step keeps the fuzz fast.
    policy.set_num_steps(1)
    obs = Observation(images={c: np.zeros((24, 24, 3), np.uint8) for c in policy.camera_names},
                      state=np.zeros(len(policy.state_names)), instruction='pick up the cube')
    chunk = policy.predict_chunk(obs)
    assert chunk.positions.shape == (policy.horizon, len(policy.joint_names))


TOKEN = st.one_of(st.integers(-3, 300), st.integers(-2 ** 70, 2 ** 70), st.floats(),
                  st.none(), st.text(max_size=2), st.booleans())
SEQUENCE = st.one_of(st.lists(st.integers(0, 260), max_size=70), st.lists(TOKEN, max_size=6),
                     TOKEN, st.lists(st.lists(st.integers(0, 5), max_size=3), max_size=3))


@fuzz(150)
@given(kind=st.sampled_from([0, 1]),
       tokens=st.lists(SEQUENCE, max_size=4) | st.sampled_from([None, 3, 'ab', {}]),
       horizon=st.one_of(st.integers(-2, 25), st.integers(-2 ** 64, 2 ** 64), st.floats(),
                         st.none(), st.text(max_size=2)),
       action_dim=st.one_of(st.just(3), st.integers(-1, 5), st.floats(), st.none()))
def test_fuzz_tokenizer_decode_raises_only_value_errors(tokenizers, kind, tokens, horizon,
                                                        action_dim):
    try:
        decoded = tokenizers[kind].decode(tokens, horizon, action_dim)
    except ValueError:
        return
    assert decoded.actions.shape == (len(tokens), int(horizon), 3)
    assert np.isfinite(decoded.actions[decoded.valid]).all()
    assert np.isnan(decoded.actions[~decoded.valid]).all()
    assert [r is None for r in decoded.reasons] == decoded.valid.tolist()


@functools.lru_cache(maxsize=1)
def valid_streams():
    from PIL import Image

    rgb = np.random.default_rng(0).integers(0, 256, (6, 5, 3), dtype=np.uint8)
    streams = []
    for fmt in ('PNG', 'JPEG'):
        buffer = io.BytesIO()
        Image.fromarray(rgb).save(buffer, format=fmt)
        streams.append(buffer.getvalue())
    return streams


@st.composite
def compressed_data(draw):
    """Return a real PNG/JPEG stream, truncated, bit-flipped or spliced, or something else."""
    pytest.importorskip('PIL')
    stream = bytearray(draw(st.sampled_from(valid_streams())))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(stream) - 1))
        stream[at] = draw(st.integers(0, 255))
    stream = bytes(stream[:draw(st.integers(0, len(stream)))])
    return draw(st.sampled_from([stream, array.array('B', stream), np.frombuffer(stream, np.uint8),
                                 list(stream), None, 'png', np.zeros(3, np.int32)]))


FIELD_VALUE = st.one_of(st.integers(-2, 8), st.integers(-2 ** 64, 2 ** 64), st.floats(),
                        st.none(), st.text(max_size=3), st.booleans())
RAW_DATA = st.one_of(st.binary(max_size=200), st.lists(st.integers(-5, 300), max_size=60),
                     st.none(), st.text(max_size=5),
                     st.sampled_from([np.zeros(48, np.uint8), np.zeros(48, np.int64),
                                      np.zeros(12, np.float32), array.array('H', range(24)),
                                      array.array('B', range(48)), np.zeros((4, 12), np.uint8)]))


@fuzz(200)
@given(compressed=st.booleans(),
       encoding=st.sampled_from(sorted(ENCODINGS) + ['16UC1', '', None, 3]),
       fmt=st.sampled_from(['png', 'jpeg', 'rgb8; jpeg compressed bgr8', 'tiff', None]),
       height=FIELD_VALUE, width=FIELD_VALUE, step=FIELD_VALUE,
       raw=RAW_DATA, data=st.data())
def test_fuzz_image_messages_raise_only_image_errors(compressed, encoding, fmt, height, width,
                                                     step, raw, data):
    if compressed:
        msg = SimpleNamespace(format=fmt, data=data.draw(compressed_data()))
    else:
        msg = SimpleNamespace(encoding=encoding, height=height, width=width, step=step,
                              data=raw)
    try:
        out = to_rgb(msg)
    except ImageError:
        return
    assert out.dtype == np.uint8 and out.ndim == 3 and out.shape[2] == 3
