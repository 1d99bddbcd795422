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


"""Whatever a parameter file or ``--set`` holds, the loader answers with one `ConfigError` line."""

import string

from hypothesis import given, HealthCheck, settings, strategies as st
import pytest
from vla_ros.cli import main
from vla_ros.config import (check_sections, CONFIG_CLASSES, ConfigError, ExecutorConfig,
                            from_mapping, load_config, load_yaml, parse_override,
                            ROS_STANDARD_PARAMETERS, SimConfig)
import yaml

BIG = '9' * 400


def write(tmp_path, data, name='params.yaml'):
    path = tmp_path / name
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding='utf-8')
    return path


def error_of(call, *args):
    with pytest.raises(ConfigError) as err:
        call(*args)
    message = str(err.value)
    assert '\n' not in message and len(message) < 300, message
    return message


def test_a_400_digit_number_is_a_config_error(tmp_path):
    assert error_of(load_config, ExecutorConfig, (), [f'executor.control_rate_hz={BIG}']) == (
        'chunk_executor.control_rate_hz=<a 1329-bit integer>: must be finite')
    assert error_of(load_config, ExecutorConfig, (), [f'executor.max_velocity=[1, {BIG}]']) == (
        'chunk_executor.max_velocity[1]=<a 1329-bit integer>: must be finite')
    path = write(tmp_path, f'sim_node:\n  ros__parameters:\n    seed: {BIG}\n')
    assert error_of(load_config, SimConfig, [path]) == (
        'sim_node.seed=<a 1329-bit integer>: must be a 64-bit integer')
    # Beyond Python's 4300-digit int-to-str limit, which PyYAML's int() also meets.
    assert 'not valid YAML' in error_of(parse_override, 'executor.control_rate_hz=' + '9' * 5000)


@pytest.mark.parametrize('data, rule', [
    (bytes(range(256)), 'not UTF-8 text'),
    ('chunk_executor:\n  control_rate_hz: 1\n'.encode('utf-16'), 'not UTF-8 text'),
    ('chunk_executor:\n  control_rate_hz: 1\n'.encode('utf-16-le'), 'not YAML text'),
    ('[' * 10000, 'nested too deeply'),
    ('{1: 2}', '1: a node name must be a string'),
    ('chunk_executor:\n  ros__parameters:\n    ~: 2\n',
     'chunk_executor: None: a parameter name must be a string'),
    ('? [a]\n: 1\n', 'line 1: found unhashable key'),
    ('chunk_executor: [{a: 1}]\n', 'chunk_executor: must be a mapping of parameters'),
    ('chunk_executor:\n  ros__parameters: [{a: 1}, {b: 2}]\n',
     'chunk_executor: must be a mapping of parameters'),
    ('chunk_executor:\n  urdf_path: 2020-13-45\n', 'not valid YAML (month must be in 1..12)'),
    ('chunk_executor:\n  urdf_path: !!bool x\n', 'not valid YAML ('),
    ('chunk_executor:\n  urdf_path: !!float x\n', 'not valid YAML ('),
    ('"chunk\\nexecutor": 1\n', ': chunk executor: must be a mapping'),
], ids=['binary', 'utf-16', 'utf-16-no-bom', 'deep', 'int-node', 'null-key', 'list-key',
        'list-body', 'list-of-mappings-params', 'bad-date', 'bad-bool', 'bad-float', 'newline'])
def test_a_bad_file_names_the_file_and_the_rule(tmp_path, data, rule):
    path = write(tmp_path, data)
    message = error_of(load_yaml, path)
    assert message.startswith(f'{path}:') and rule in message, message


def test_a_directory_or_unreadable_path_names_it(tmp_path):
    assert error_of(load_yaml, tmp_path) == f'{tmp_path}: cannot read (Is a directory)'
    assert error_of(load_config, ExecutorConfig, [tmp_path / 'missing.yaml']) == (
        f'{tmp_path / "missing.yaml"}: no such file')


def test_a_utf8_byte_order_mark_is_fine(tmp_path):
    path = write(tmp_path, '\ufeffchunk_executor:\n  control_rate_hz: 100\n')
    assert load_config(ExecutorConfig, [path]).control_rate_hz == 100.0


def test_values_of_the_wrong_shape_name_the_field(tmp_path):
    path = write(tmp_path, 'chunk_executor:\n  ros__parameters:\n    joint_names: [{a: 1}]\n'
                 '    control_rate_hz: [{a: 1}, {b: 2}]\n')
    assert error_of(load_config, ExecutorConfig, [path]) == (
        "chunk_executor.joint_names[0]={'a': 1}: must be a string")
    assert error_of(load_config, ExecutorConfig, (), ['executor.control_rate_hz={a: [1, 2]}']) == (
        "chunk_executor.control_rate_hz={'a': [1, 2]}: must be a number")
    assert error_of(parse_override, 'executor.x=' + '[' * 10000) == (
        "--set 'executor.x=" + '[' * 68 + '...: nested too deeply')
    # A YAML alias bomb is not expanded into the message.
    bomb = 'a: &a [x, x, x, x, x, x, x, x, x]\n' + ''.join(
        f'{b}: &{b} [*{a}, *{a}, *{a}, *{a}, *{a}, *{a}, *{a}, *{a}, *{a}]\n'
        for a, b in zip('abcdefgh', 'bcdefghi'))
    values = yaml.safe_load(bomb)
    assert error_of(from_mapping, ExecutorConfig, {'urdf_path': values['i']}).endswith(
        '...: must be a string')


ROS_FILE = """\
/**:
  ros__parameters:
    use_sim_time: true
    start_type_description_service: false
    qos_overrides:
      /chunk_executor/state:
        publisher: {reliability: reliable, depth: 5}
/**/chunk_executor:
  ros__parameters:
    control_rate_hz: 100
/arm/chunk_executor:
  ros__parameters:
    use_sim_time: true
    blend_mode: replace
/arm/*:
  ros__parameters:
    qos_overrides./joint_states.subscription.depth: 10
"""


def test_a_standard_ros_parameter_file_is_accepted(tmp_path, capsys):
    path = write(tmp_path, ROS_FILE)
    assert set(load_yaml(path)) == {'**', '*', 'chunk_executor'}
    cfg = load_config(ExecutorConfig, [path])
    assert (cfg.control_rate_hz, cfg.blend_mode) == (100.0, 'replace')
    assert check_sections(CONFIG_CLASSES, [path]) == [cfg]
    only_ros = write(tmp_path, '/**: {ros__parameters: {use_sim_time: true}}\n', 'sim_time.yaml')
    assert [load_config(c, [only_ros]) for c in CONFIG_CLASSES] == [c() for c in CONFIG_CLASSES]
    assert check_sections(CONFIG_CLASSES, [only_ros]) == []
    assert main(['config', '--all', '--config', str(only_ros), '--config', str(path)]) == 0
    assert capsys.readouterr().out.startswith('chunk_executor:\n  ros__parameters:\n')


def test_a_typo_of_a_ros_parameter_is_still_an_error(tmp_path, capsys):
    wildcard = write(tmp_path, '/**: {ros__parameters: {use_sim_tim: true}}\n', 'a.yaml')
    assert error_of(check_sections, CONFIG_CLASSES, [wildcard]) == (
        f"{wildcard}: **.use_sim_tim: unknown parameter (did you mean 'use_sim_time'?)")
    assert error_of(load_config, SimConfig, [wildcard]) == (
        "sim_node.use_sim_tim: unknown parameter (did you mean 'use_sim_time'?)")
    node = write(tmp_path, 'chunk_executor: {ros__parameters: {use_sim_tim: true}}\n', 'b.yaml')
    assert main(['config', '--config', str(node)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        'vla-ros config: chunk_executor.use_sim_tim: unknown parameter '
        "(did you mean 'use_sim_time'?)"]
    # A wildcard section may hold any node's parameters, not made-up ones.
    assert check_sections(CONFIG_CLASSES, (), ['**.diagnostics_period_s=3']) == []
    assert 'unknown parameter' in error_of(check_sections, CONFIG_CLASSES, (), ['**.rate=3'])


def test_ros_standard_parameters_are_the_ones_rclpy_declares():
    assert ROS_STANDARD_PARAMETERS == {'use_sim_time', 'start_type_description_service',
                                       'qos_overrides'}


# ---- fuzz: only ConfigError may escape ---------------------------------------------------------

YAML_PIECES = st.sampled_from([
    '[', ']', '{', '}', ':', ': ', ', ', ' ', '  ', '\n', '- ', '? ', '#', '"', "'", '&a ', '*a',
    '!!binary ', '!!set ', '!!omap ', '!!bool ', '!!int ', '!!float ', '!!timestamp ', '<<: ',
    '~', 'null', 'true', '1', '-0', '1e999', '.nan', BIG, '0x1f', '2020-13-45', '1:2:3', '\t',
    '\x00', '\ufeff', 'é', '"a\\nb"', '/**', '/ns/chunk_executor', 'chunk_executor', 'policy',
    'train', 'ros__parameters', 'control_rate_hz', 'joint_names', 'use_sim_time',
    'qos_overrides.x', 'seed', 'cameras', 'warmup', '---', '...', '%YAML 1.1\n'])
YAML_TEXTS = st.one_of(st.text(max_size=200), st.lists(YAML_PIECES, max_size=40).map(''.join))
VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20),
              st.binary(max_size=8), st.integers(min_value=10 ** 300, max_value=10 ** 400)),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.one_of(st.text(max_size=8), st.integers()),
                                            inner, max_size=4)),
    max_leaves=12)
KEYS = st.one_of(st.sampled_from(['control_rate_hz', 'joint_names', 'seed', 'cameras',
                                  'warmup', 'use_sim_time', 'steps', 'device']),
                 st.text(alphabet=string.ascii_lowercase + '_.\n ', max_size=12))
FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


def only_config_errors(call, *args):
    try:
        call(*args)
    except ConfigError as exc:
        assert '\n' not in str(exc)


@FUZZ
@given(text=YAML_TEXTS)
def test_fuzz_parameter_file_text(tmp_path, text):
    path = write(tmp_path, text)
    only_config_errors(load_yaml, path)
    only_config_errors(check_sections, CONFIG_CLASSES, [path])


@FUZZ
@given(data=st.binary(max_size=200))
def test_fuzz_parameter_file_bytes(tmp_path, data):
    only_config_errors(load_yaml, write(tmp_path, data))


@FUZZ
@given(section=st.sampled_from(['chunk_executor', 'policy_node', 'sim', 'train', '/**']),
       params=st.dictionaries(KEYS, VALUES, max_size=4), ros=st.booleans())
def test_fuzz_parameter_values(tmp_path, section, params, ros):
    body = {'ros__parameters': params} if ros else params
    path = write(tmp_path, yaml.safe_dump({section: body}))
    for cls in CONFIG_CLASSES:
        only_config_errors(load_config, cls, [path])
        only_config_errors(from_mapping, cls, params)


@FUZZ
@given(text=st.one_of(st.text(max_size=80),
                      st.tuples(st.sampled_from(['executor.', 'train.', 'sim.seed', '.']),
                                KEYS, st.just('='), YAML_TEXTS).map(''.join)))
def test_fuzz_overrides(text):
    only_config_errors(parse_override, text)
    for cls in CONFIG_CLASSES:
        only_config_errors(load_config, cls, (), [text])
