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


"""Which fields a running node may change; `apply_change`, its parameter callback's check."""

import dataclasses

import pytest
from vla_ros.config import (apply_change, CONFIG_CLASSES, ConfigError, ExecutorConfig,
                            field_help, param, PolicyNodeConfig, read_only_fields, READ_ONLY_NOTE,
                            SimConfig, TrainConfig)

READ_ONLY = {
    ExecutorConfig: {'joint_names', 'command_interface', 'command_topic', 'urdf_path',
                     'control_thread', 'control_thread_priority'},
    PolicyNodeConfig: {'checkpoint_path', 'device', 'dtype', 'camera_topics', 'camera_slots',
                       'compressed', 'joint_names', 'action_mode', 'executor_state_topic',
                       'executor_plan_topic', 'num_threads',
                       'warmup'},
    SimConfig: {'image_width', 'image_height', 'cameras', 'physics_rate_hz', 'clock_rate_hz',
                'episodes', 'out_dir'},
    TrainConfig: set(),
}


def test_param_stores_read_only_and_says_so_in_the_help():
    @dataclasses.dataclass(frozen=True)
    class Example:
        SECTION = 'example'
        fixed: int = param(1, 'Fixed.', read_only=True)
        free: int = param(2, 'Free.')

    assert read_only_fields(Example) == frozenset({'fixed'})
    assert field_help(Example) == {'fixed': f'Fixed. {READ_ONLY_NOTE}', 'free': 'Free.'}


@pytest.mark.parametrize('cls', CONFIG_CLASSES, ids=lambda c: c.SECTION)
def test_read_only_fields_and_their_help(cls):
    assert read_only_fields(cls) == READ_ONLY[cls]
    for name, text in field_help(cls).items():
        assert text.endswith(' (read-only at run time)') == (name in READ_ONLY[cls]), name
        assert text.count(READ_ONLY_NOTE) <= 1


def test_apply_change_returns_a_new_validated_config():
    cfg = ExecutorConfig(joint_names=('a', 'b'))
    new = apply_change(cfg, {'control_rate_hz': 100, 'max_velocity': [1, 2]})
    assert (new.control_rate_hz, new.max_velocity, new.joint_names) == (100.0, (1.0, 2.0),
                                                                        ('a', 'b'))
    assert cfg.control_rate_hz == 500.0  # the running config is untouched
    assert apply_change(cfg, {}) == cfg


def test_apply_change_errors_are_from_mappings_one_liners():
    cfg = ExecutorConfig(joint_names=('a', 'b'))
    for changes, message in (
            ({'control_rate_hz': 0}, 'chunk_executor.control_rate_hz=0: must be > 0'),
            ({'control_rate_hz': 'fast'},
             "chunk_executor.control_rate_hz='fast': must be a number"),
            ({'control_rate': 1.0},
             "chunk_executor.control_rate: unknown parameter (did you mean 'control_rate_hz'?)"),
            # Checked against the other values in force: two joints, so one or two limits.
            ({'max_velocity': [1, 2, 3]},
             'chunk_executor.max_velocity=[1, 2, 3]: needs one value or one per joint (2)')):
        with pytest.raises(ConfigError) as err:
            apply_change(cfg, changes)
        assert str(err.value) == message


@pytest.mark.parametrize('cfg, name, value', [
    (ExecutorConfig(), 'command_topic', '/other'),
    (ExecutorConfig(), 'joint_names', ['a']),
    (PolicyNodeConfig(), 'device', 'cuda'),
    (PolicyNodeConfig(), 'warmup', False),
    (SimConfig(), 'cameras', ['scene']),
    (SimConfig(), 'physics_rate_hz', 1000),
], ids=lambda v: v if isinstance(v, str) else None)
def test_changing_a_read_only_field_is_refused(cfg, name, value):
    with pytest.raises(ConfigError) as err:
        apply_change(cfg, {name: value})
    assert str(err.value) == (f'{cfg.SECTION}.{name}: read-only at run time '
                              '(restart the node to change it)')


def test_setting_a_read_only_field_to_its_value_and_ros_own_parameters_pass():
    cfg = PolicyNodeConfig()
    new = apply_change(cfg, {'camera_topics': list(cfg.camera_topics), 'device': 'cpu',
                             'use_sim_time': True, 'trigger': 'rate'})
    assert new == dataclasses.replace(cfg, trigger='rate')
