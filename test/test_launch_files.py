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
Launch files and the Gazebo description: checked without ROS where possible, built with it.

Gazebo itself is not installed here: gazebo.launch.py is built (every action created) but never
run; the URDF it generates is checked with ``check_urdf`` (Debian's liburdfdom-tools).
"""

import ast
import importlib.util
from pathlib import Path
import shutil
import subprocess

import pytest

from vla_ros.sim.gazebo_description import CAMERAS, gazebo_description, JOINT_NAMES

ROOT = Path(__file__).resolve().parents[1]
LAUNCH_FILES = sorted((ROOT / 'launch').glob('*.launch.py'))
CONTROLLERS = ROOT / 'config' / 'gazebo_controllers.yaml'

# A stand-in with the simulated arm's link and joint names, for when models/ has no URDF yet.
MINI_ARM = """<?xml version="1.0"?>
<robot name="vla_arm">
  <link name="base_link"/>
  {links}
  {joints}
</robot>
"""


def mini_arm():
    chain = ['base_link', 'l0', 'l1', 'l2', 'l3', 'l4', 'gripper_link']
    links = ''.join(f'<link name="{n}"><inertial><mass value="1"/><inertia ixx="1" ixy="0" '
                    f'ixz="0" iyy="1" iyz="0" izz="1"/></inertial></link>'
                    for n in chain[1:] + ['finger'])
    joints = ''
    for parent, child, name in zip(chain, chain[1:], JOINT_NAMES[:-1]):
        joints += (f'<joint name="{name}" type="revolute"><parent link="{parent}"/>'
                   f'<child link="{child}"/><axis xyz="0 0 1"/>'
                   f'<limit lower="-2" upper="2" effort="10" velocity="3"/></joint>')
    joints += ('<joint name="gripper" type="prismatic"><parent link="gripper_link"/>'
               '<child link="finger"/><axis xyz="1 0 0"/>'
               '<limit lower="0" upper="0.04" effort="10" velocity="0.1"/></joint>')
    return MINI_ARM.format(links=links, joints=joints)


def arm_urdfs():
    urdfs = [('mini_arm', mini_arm())]
    shipped = ROOT / 'models' / 'vla_arm.urdf'
    if shipped.exists():
        urdfs.append(('models/vla_arm.urdf', shipped.read_text()))
    return urdfs


def check_urdf(path):
    if shutil.which('check_urdf') is None:
        pytest.skip('check_urdf not installed (apt install liburdfdom-tools)')
    return subprocess.run(['check_urdf', str(path)], capture_output=True, text=True, timeout=60)


# ---- without ROS -----------------------------------------------------------------------------

@pytest.mark.parametrize('name, urdf', arm_urdfs(), ids=lambda v: v if len(v) < 40 else '')
def test_gazebo_description_passes_check_urdf(tmp_path, name, urdf):
    path = tmp_path / 'gz.urdf'
    path.write_text(gazebo_description(urdf, str(CONTROLLERS)))
    proc = check_urdf(path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'Successfully Parsed XML' in proc.stdout
    assert 'world' in proc.stdout


def test_shipped_urdf_passes_check_urdf():
    shipped = ROOT / 'models' / 'vla_arm.urdf'
    if not shipped.exists():
        pytest.skip('models/vla_arm.urdf not shipped yet')
    proc = check_urdf(shipped)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_gazebo_description_has_ros2_control_cameras_and_plugins():
    from xml.etree import ElementTree
    robot = ElementTree.fromstring(gazebo_description(mini_arm(), '/c.yaml', image_size=64))
    control = robot.find('ros2_control')
    assert control.find('hardware/plugin').text == 'gz_ros2_control/GazeboSimSystem'
    joints = [j.get('name') for j in control.findall('joint')]
    assert joints == list(JOINT_NAMES)
    gripper = control.find("joint[@name='gripper']/command_interface")
    assert [p.text for p in gripper.findall('param')] == ['0', '0.04']
    sensors = {s.get('name'): s for s in robot.iter('sensor')}
    assert set(sensors) == set(CAMERAS)
    assert sensors['wrist'].find('topic').text == '/camera/wrist/image_raw'
    assert sensors['scene'].find('camera/image/width').text == '64'
    plugins = {p.get('filename'): p for p in robot.iter('plugin')}
    assert plugins['gz_ros2_control-system'].find('parameters').text == '/c.yaml'
    assert 'gz-sim-sensors-system' in plugins


def test_shipped_ros2_control_block_gets_the_gz_hardware():
    shipped = ROOT / 'models' / 'vla_arm.urdf'
    if not shipped.exists():
        pytest.skip('models/vla_arm.urdf not shipped yet')
    from xml.etree import ElementTree
    robot = ElementTree.fromstring(gazebo_description(shipped.read_text(), '/c.yaml'))
    controls = robot.findall('ros2_control')
    assert len(controls) == 1
    assert [p.text for p in controls[0].iter('plugin')] == ['gz_ros2_control/GazeboSimSystem']
    driven = [j.get('name') for j in controls[0].findall('joint')
              if j.find('command_interface') is not None]
    assert driven[:len(JOINT_NAMES)] == list(JOINT_NAMES)
    assert [link.get('name') for link in robot.findall('link')].count('world') == 1


def test_gazebo_description_names_what_is_missing():
    with pytest.raises(ValueError, match="ros2_control joint 'elbow' is not a joint"):
        gazebo_description(mini_arm(), 'c.yaml', joint_names=('elbow',))
    with pytest.raises(ValueError, match="camera 'top': parent link 'mast'"):
        cameras = {'top': ('mast', (0, 0, 0), (0, 0, 0))}
        gazebo_description(mini_arm(), 'c.yaml', cameras=cameras)


def test_controllers_yaml_commands_the_policy_joints():
    import yaml
    data = yaml.safe_load(CONTROLLERS.read_text())
    cm = data['controller_manager']['ros__parameters']
    assert cm['forward_position_controller']['type'] == \
        'forward_command_controller/ForwardCommandController'
    assert cm['joint_state_broadcaster']['type'] == \
        'joint_state_broadcaster/JointStateBroadcaster'
    forward = data['forward_position_controller']['ros__parameters']
    assert forward['joints'] == list(JOINT_NAMES) and forward['interface_name'] == 'position'


@pytest.mark.parametrize('path', LAUNCH_FILES, ids=lambda p: p.name)
def test_every_launch_argument_has_a_description(path):
    # Read the source, so this holds without ROS: ARGUMENTS = {name: (default, description)}.
    tree = ast.parse(path.read_text())
    found = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], 'id', '') == 'ARGUMENTS':
            arguments = ast.literal_eval(node.value)
            found = True
            for name, (default, description) in arguments.items():
                assert isinstance(default, str), name
                assert len(description.strip()) > 10, f'{path.name}: {name}'
        if isinstance(node, ast.Call) and getattr(node.func, 'id', '') == \
                'DeclareLaunchArgument':
            assert 'description' in {k.arg for k in node.keywords}, path.name
    assert found, f'{path.name}: no ARGUMENTS table'


# ---- with launch / launch_ros (a sourced ROS 2) ----------------------------------------------

def load_launch_file(path):
    pytest.importorskip('launch.actions')
    pytest.importorskip('launch_ros')
    spec = importlib.util.spec_from_file_location(path.stem.replace('.', '_'), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def launch_context(module, **values):
    from launch import LaunchContext
    from launch.actions import DeclareLaunchArgument
    context = LaunchContext()
    for action in module.generate_launch_description().entities:
        if isinstance(action, DeclareLaunchArgument):
            context.launch_configurations[action.name] = values.get(
                action.name, action.default_value[0].perform(context)
                if action.default_value else '')
    return context


@pytest.mark.parametrize('path', LAUNCH_FILES, ids=lambda p: p.name)
def test_generate_launch_description(path):
    module = load_launch_file(path)
    from launch.actions import DeclareLaunchArgument
    description = module.generate_launch_description()
    declared = [a for a in description.entities if isinstance(a, DeclareLaunchArgument)]
    assert declared
    for argument in declared:
        assert argument.description and argument.description != 'no description given'


def test_policy_launch_builds_both_nodes_with_overrides():
    module = load_launch_file(ROOT / 'launch' / 'policy.launch.py')
    from launch_ros.actions import LifecycleNode, Node
    context = launch_context(module, joint_names='a, b', device='cuda', checkpoint='/ckpt')
    actions = module.make_nodes(context)
    nodes = [a for a in actions if isinstance(a, Node)]
    assert {n.node_executable for n in nodes} == {'policy_node', 'chunk_executor_node'}
    policy = next(n for n in nodes if isinstance(n, LifecycleNode))
    assert policy.node_executable == 'policy_node'
    assert module.overrides(context, 'policy') == {
        'checkpoint_path': '/ckpt', 'joint_names': ['a', 'b'], 'device': 'cuda'}
    assert module.overrides(context, 'executor') == {'joint_names': ['a', 'b']}


def test_gazebo_launch_builds_every_action_without_gazebo(tmp_path):
    module = load_launch_file(ROOT / 'launch' / 'gazebo.launch.py')
    from launch_ros.actions import Node
    urdf = tmp_path / 'arm.urdf'
    urdf.write_text(mini_arm())
    context = launch_context(module, urdf=str(urdf), controllers=str(CONTROLLERS))
    actions = module.make_nodes(context)
    executables = sorted(a.node_executable for a in actions if isinstance(a, Node))
    assert executables == ['create', 'parameter_bridge', 'robot_state_publisher']
    bridge = next(a for a in actions if isinstance(a, Node)
                  and a.node_executable == 'parameter_bridge')
    arguments = [a[0].perform(context) for a in bridge.cmd[1:] if a]
    assert '/clock@rosgraph_msgs/msg/Clock[gz.msgs.Clock' in arguments
    assert '/camera/wrist/image_raw@sensor_msgs/msg/Image[gz.msgs.Image' in arguments
