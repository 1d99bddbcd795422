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

"""Typed config: every shipped YAML validates; bad values and keys give one clear line."""

from pathlib import Path
import subprocess
import sys

import pytest

from vla_ros.config import (check_sections, CONFIG_CLASSES, ConfigError, ExecutorConfig,
                            field_help, load_config, load_yaml, parse_override, PolicyNodeConfig)

CONFIG_DIR = Path(__file__).resolve().parents[1] / 'config'


def write(tmp_path, text, name='params.yaml'):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize('path', sorted(CONFIG_DIR.glob('*.yaml')), ids=lambda p: p.name)
def test_every_shipped_yaml_validates(path):
    sections = load_yaml(path)
    known = {c.SECTION for c in CONFIG_CLASSES}
    ours = [s for s in sections if s in known]
    if not ours:
        pytest.skip(f'{path.name} configures no vla_ros node (e.g. ros2_control)')
    built = check_sections(CONFIG_CLASSES, [path])
    assert {cfg.SECTION for cfg in built} == set(ours)


@pytest.mark.parametrize('cls', CONFIG_CLASSES, ids=lambda c: c.SECTION)
def test_every_field_has_help_and_the_defaults_validate(cls):
    assert all(text.strip() for text in field_help(cls).values())
    cls()  # the defaults satisfy their own rules


def test_zero_rate_names_node_parameter_value_and_rule(tmp_path):
    path = write(tmp_path, 'chunk_executor:\n  ros__parameters:\n    control_rate_hz: 0\n')
    with pytest.raises(ConfigError) as err:
        load_config(ExecutorConfig, [path])
    assert str(err.value) == 'chunk_executor.control_rate_hz=0: must be > 0'


def test_unknown_key_suggests_the_right_one(tmp_path):
    path = write(tmp_path, 'chunk_executor:\n  ros__parameters:\n    control_rate: 100\n')
    with pytest.raises(ConfigError) as err:
        load_config(ExecutorConfig, [path])
    assert str(err.value) == ('chunk_executor.control_rate: unknown parameter '
                              "(did you mean 'control_rate_hz'?)")


def test_unknown_section_is_an_error(tmp_path):
    path = write(tmp_path, 'chunk_exector:\n  ros__parameters:\n    control_rate_hz: 100\n')
    with pytest.raises(ConfigError, match="did you mean 'chunk_executor'"):
        check_sections(CONFIG_CLASSES, [path])


def test_wrong_type_and_choice_are_named(tmp_path):
    path = write(tmp_path, 'chunk_executor:\n  ros__parameters:\n    blend_mode: smooth\n')
    with pytest.raises(ConfigError, match=r"^chunk_executor.blend_mode='smooth': must be one of"):
        load_config(ExecutorConfig, [path])
    with pytest.raises(ConfigError, match=r"^policy_node.max_obs_age_s='fast': must be a number$"):
        load_config(PolicyNodeConfig, overrides=['policy.max_obs_age_s=fast'])
    with pytest.raises(ConfigError, match=r'^policy_node.warmup=1: must be true or false$'):
        load_config(PolicyNodeConfig, overrides=['policy_node.warmup=1'])
    with pytest.raises(ConfigError, match=r'must be finite'):
        load_config(ExecutorConfig, overrides=['executor.crossfade_s=.nan'])


def test_files_then_overrides_later_wins_and_namespaces_and_wildcards_apply(tmp_path):
    first = write(tmp_path, '/arm/chunk_executor:\n  ros__parameters:\n'
                  '    control_rate_hz: 100\n    blend_mode: replace\n', 'a.yaml')
    second = write(tmp_path, '/**:\n  ros__parameters:\n    interpolation: linear\n'
                   'chunk_executor:\n  ros__parameters:\n    control_rate_hz: 250\n', 'b.yaml')
    cfg = load_config(ExecutorConfig, [first, second], ['executor.crossfade_s=0.05'])
    assert (cfg.control_rate_hz, cfg.blend_mode, cfg.interpolation, cfg.crossfade_s) == (
        250.0, 'replace', 'linear', 0.05)
    assert isinstance(cfg.control_rate_hz, float)  # an int in YAML is a valid float


def test_lists_become_tuples_and_are_checked_per_joint():
    cfg = load_config(ExecutorConfig, overrides=[
        'executor.joint_names=[a, b]', 'executor.max_velocity=[1.0, 2]'])
    assert cfg.joint_names == ('a', 'b') and cfg.max_velocity == (1.0, 2.0)
    with pytest.raises(ConfigError, match=r'^chunk_executor.max_velocity=\[1, 2, 3\]: needs'):
        load_config(ExecutorConfig, overrides=[
            'executor.joint_names=[a, b]', 'executor.max_velocity=[1, 2, 3]'])
    with pytest.raises(ConfigError, match=r'joint_names\[1\]=2: must be a string'):
        load_config(ExecutorConfig, overrides=['executor.joint_names=[a, 2]'])


def test_bad_yaml_names_the_file_and_line(tmp_path):
    path = write(tmp_path, 'chunk_executor:\n  ros__parameters:\n    control_rate_hz: [1\n')
    with pytest.raises(ConfigError, match=r'params.yaml: line \d+'):
        load_yaml(path)
    with pytest.raises(ConfigError, match='no such file'):
        load_yaml(tmp_path / 'missing.yaml')
    with pytest.raises(ConfigError, match='top level must be a mapping'):
        load_yaml(write(tmp_path, '- 1\n- 2\n', 'list.yaml'))


def test_override_syntax():
    assert parse_override('executor.control_rate_hz=200') == ('executor', 'control_rate_hz', 200)
    for bad in ('control_rate_hz=200', 'executor.control_rate_hz', '=1'):
        with pytest.raises(ConfigError, match='expected section.key=value'):
            parse_override(bad)


def test_cli_reports_one_line_and_exits_nonzero(tmp_path):
    path = write(tmp_path, 'chunk_executor:\n  ros__parameters:\n    control_rate_hz: 0\n')
    proc = subprocess.run([sys.executable, '-m', 'vla_ros.cli', 'config', '--config', str(path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        'vla-ros config: chunk_executor.control_rate_hz=0: must be > 0']


def test_cli_prints_effective_parameters_in_ros_layout(tmp_path):
    proc = subprocess.run(
        [sys.executable, '-m', 'vla_ros.cli', 'config', '--config',
         str(CONFIG_DIR / 'chunk_executor.yaml'), '--set', 'executor.control_rate_hz=321'],
        capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / 'out.yaml'
    out.write_text(proc.stdout)
    assert load_config(ExecutorConfig, [out]).control_rate_hz == 321.0
