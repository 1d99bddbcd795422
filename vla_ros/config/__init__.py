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
Typed configuration: one frozen dataclass per node or command, and the rules that fill them.

`schema` declares, loads and checks (``param``, ``load_config``, ``ConfigError``...); `nodes`
holds the ROS nodes' configs and `train` the training run's. Every section that a ``vla-ros``
command reads is in `CONFIG_CLASSES`, so ``vla-ros config`` accepts exactly those.
"""

from vla_ros.config.nodes import ExecutorConfig, PolicyNodeConfig, SimConfig
from vla_ros.config.schema import (apply_change, check_sections, ConfigError, field_help,
                                   from_mapping, is_ros_standard_parameter, load_config,
                                   load_yaml, param, parse_override, read_only_fields,
                                   READ_ONLY_NOTE, require, require_choice, require_finite,
                                   ROS_STANDARD_PARAMETERS, show, WILDCARD_SECTIONS)
from vla_ros.config.train import TrainConfig

CONFIG_CLASSES = (ExecutorConfig, PolicyNodeConfig, SimConfig, TrainConfig)

__all__ = [
    'apply_change', 'check_sections', 'CONFIG_CLASSES', 'ConfigError', 'ExecutorConfig',
    'field_help', 'from_mapping', 'is_ros_standard_parameter', 'load_config', 'load_yaml',
    'param', 'parse_override', 'PolicyNodeConfig', 'read_only_fields', 'READ_ONLY_NOTE',
    'require', 'require_choice', 'require_finite', 'ROS_STANDARD_PARAMETERS', 'show',
    'SimConfig', 'TrainConfig', 'WILDCARD_SECTIONS',
]
