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


"""config/<node>.yaml is its node's dataclass; `vla-ros config` takes what the commands read."""

import ast
import dataclasses
from pathlib import Path

import pytest
from vla_ros.cli import main
from vla_ros.commands.config import commented_yaml
from vla_ros.config import (CONFIG_CLASSES, ExecutorConfig, field_help, load_config,
                            PolicyNodeConfig, SimConfig, TrainConfig)
import yaml

ROOT = Path(__file__).resolve().parents[1]
NODE_FILES = {'chunk_executor.yaml': ExecutorConfig, 'policy_node.yaml': PolicyNodeConfig,
              'sim_node.yaml': SimConfig}
OTHER_FILES = {'gazebo_controllers.yaml', 'controllers.yaml'}  # ros2_control's, not ours
ROBOT_FILES = {'sim_arm.yaml'}   # policy.launch.py's robot_config: a robot's joints and bounds


def test_every_config_file_is_a_node_file_or_known_to_be_another_tool_s():
    assert {p.name for p in (ROOT / 'config').glob('*.yaml')} == (
        set(NODE_FILES) | OTHER_FILES | ROBOT_FILES)


def test_sim_arm_file_is_the_simulated_arm_and_a_valid_executor_config():
    from vla_ros.sim.robot import JOINT_LIMITS, JOINT_NAMES

    path = ROOT / 'config' / 'sim_arm.yaml'
    cfg = load_config(ExecutorConfig, [path])
    assert cfg.joint_names == JOINT_NAMES
    assert cfg.position_lower == pytest.approx(JOINT_LIMITS.lower)
    assert cfg.position_upper == pytest.approx(JOINT_LIMITS.upper)
    assert set(yaml.safe_load(path.read_text())['chunk_executor']['ros__parameters']) == {
        'joint_names', 'position_lower', 'position_upper'}


def commented_keys(text: str) -> dict[str, str]:
    """``{key: the comment lines right above it, joined}`` for the keys of ros__parameters."""
    out, comment = {}, []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith('#'):
            comment.append(stripped[1:].strip())
            continue
        if line.startswith('    ') and ':' in stripped:
            out[stripped.split(':', 1)[0]] = ' '.join(comment)
        comment = []
    return out


@pytest.mark.parametrize('name, cls', NODE_FILES.items(), ids=list(NODE_FILES))
def test_node_file_lists_every_field_once_with_its_default_and_no_other_key(name, cls):
    text = (ROOT / 'config' / name).read_text()
    data = yaml.safe_load(text)
    assert list(data) == [cls.SECTION] and list(data[cls.SECTION]) == ['ros__parameters']
    body = data[cls.SECTION]['ros__parameters']
    assert list(body) == [f.name for f in dataclasses.fields(cls)]
    for f in dataclasses.fields(cls):
        value = tuple(body[f.name]) if isinstance(body[f.name], list) else body[f.name]
        assert value == f.default, f.name
        # 200 where the field is a float would reach a ROS node as an integer parameter.
        assert [type(v) for v in (value if isinstance(value, tuple) else [value])] == [
            type(v) for v in (f.default if isinstance(f.default, tuple) else [f.default])], f.name


@pytest.mark.parametrize('name, cls', NODE_FILES.items(), ids=list(NODE_FILES))
def test_node_file_comments_are_the_field_help(name, cls):
    comments = commented_keys((ROOT / 'config' / name).read_text())
    assert comments == field_help(cls)


@pytest.mark.parametrize('name, cls', NODE_FILES.items(), ids=list(NODE_FILES))
def test_node_file_is_what_vla_ros_config_writes(name, cls, capsys):
    text = (ROOT / 'config' / name).read_text()
    assert text == commented_yaml([cls()]), (
        f'regenerate: vla-ros config --comments {cls.SECTION} > config/{name}')
    assert main(['config', '--comments', cls.SECTION]) == 0
    assert capsys.readouterr().out == text


def sections_read_by_commands() -> set[str]:
    """Names of the classes that vla_ros/commands/*.py pass to load_config."""
    names = set()
    for path in (ROOT / 'vla_ros' / 'commands').glob('*.py'):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, 'id', None) == 'load_config':
                first = node.args[0]
                names.add(first.id if isinstance(first, ast.Name) else ast.unparse(first))
    return names


def test_vla_ros_config_knows_exactly_the_sections_the_commands_read():
    # commands/config.py itself loads `cls` from CONFIG_CLASSES.
    assert sections_read_by_commands() - {'cls'} == {c.__name__ for c in CONFIG_CLASSES}


def test_train_section_of_vla_ros_train_is_accepted_and_printed(tmp_path, capsys):
    path = tmp_path / 'train.yaml'
    path.write_text('train:\n  steps: 10\n  warmup_steps: 2\n')
    assert main(['config', '--config', str(path), '--set', 'training.batch_size=4']) == 0
    out = tmp_path / 'out.yaml'
    out.write_text(capsys.readouterr().out)
    assert list(yaml.safe_load(out.read_text())) == ['train']
    cfg = load_config(TrainConfig, [out])
    assert (cfg.steps, cfg.warmup_steps, cfg.batch_size) == (10, 2, 4)
    assert main(['config', '--set', 'train.steps=0']) == 2
    assert capsys.readouterr().err.splitlines() == [
        'vla-ros config: train.steps=0: must be >= 1']


def test_all_and_named_sections_print_defaults(capsys):
    assert main(['config', '--all']) == 0
    assert list(yaml.safe_load(capsys.readouterr().out)) == [c.SECTION for c in CONFIG_CLASSES]
    assert main(['config', 'train', 'executor']) == 0
    assert list(yaml.safe_load(capsys.readouterr().out)) == ['chunk_executor', 'train']
    assert main(['config', 'trian']) == 2
    assert capsys.readouterr().err.startswith('vla-ros config: trian: unknown section; one of ')
