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
A URDF ready for controller_manager: its ``<ros2_control>`` block with the hardware you choose.

`ros2_control_description` is what launch/policy.launch.py hands robot_state_publisher and,
through it, ``ros2_control_node``. A URDF that has a ``<ros2_control>`` block keeps it with its
hardware plugin swapped (``mock_components/GenericSystem`` for a dry run, where each position
command becomes the joint state on the next update; your driver's plugin for the arm); one
without gets a block with a position command interface (bounded by the joint's ``<limit>``) and
position and velocity state interfaces per joint. Plain XML, checked without ROS, like
`vla_ros.sim.gazebo_description`.
"""

from __future__ import annotations

from typing import Mapping
from xml.etree import ElementTree

from vla_ros.sim.robot import JOINT_NAMES

MOCK_HARDWARE = 'mock_components/GenericSystem'


def _sub(parent, tag, text=None, **attrib):
    element = ElementTree.SubElement(parent, tag, {k: str(v) for k, v in attrib.items()})
    if text is not None:
        element.text = str(text)
    return element


def ros2_control_description(urdf_text: str, hardware_plugin: str = '',
                             hardware_parameters: Mapping[str, object] | None = None,
                             joint_names=JOINT_NAMES,
                             initial_positions: Mapping[str, float] | None = None) -> str:
    """
    Return `urdf_text` with a ``<ros2_control>`` block driving `joint_names`.

    `hardware_plugin` replaces the block's plugin (empty: keep the URDF's, or
    `MOCK_HARDWARE` for a new block); `hardware_parameters` become ``<param>`` tags of its
    ``<hardware>`` (replacing those of the same name); `initial_positions` set the
    ``initial_value`` of the position state interfaces (what a mock starts from). Raises
    ValueError naming a joint the URDF lacks.
    """
    robot = ElementTree.fromstring(urdf_text)
    joints = {joint.get('name'): joint for joint in robot.findall('joint')}
    for name in list(joint_names) + list(initial_positions or {}):
        if name not in joints:
            raise ValueError(f'ros2_control joint {name!r} is not a joint of the URDF')
    controls = robot.findall('ros2_control')
    if not controls:
        control = _sub(robot, 'ros2_control', name=robot.get('name') or 'robot', type='system')
        _sub(control, 'hardware')
        for name in joint_names:
            joint = _sub(control, 'joint', name=name)
            command = _sub(joint, 'command_interface', name='position')
            limit = joints[name].find('limit')
            if limit is not None and joints[name].get('type') != 'continuous':
                _sub(command, 'param', limit.get('lower'), name='min')
                _sub(command, 'param', limit.get('upper'), name='max')
            _sub(joint, 'state_interface', name='position')
            _sub(joint, 'state_interface', name='velocity')
        controls = [control]
        hardware_plugin = hardware_plugin or MOCK_HARDWARE
    for control in controls:
        hardware = control.find('hardware')
        if hardware is None:
            hardware = _sub(control, 'hardware')
        plugin = hardware.find('plugin')
        if plugin is None:
            plugin = ElementTree.Element('plugin')
            hardware.insert(0, plugin)
        if hardware_plugin:
            plugin.text = hardware_plugin
        for key, value in (hardware_parameters or {}).items():
            for old in [p for p in hardware.findall('param') if p.get('name') == key]:
                hardware.remove(old)
            _sub(hardware, 'param', _text(value), name=key)
        for name, value in (initial_positions or {}).items():
            for joint in control.findall('joint'):
                if joint.get('name') != name:
                    continue
                for state in joint.findall('state_interface'):
                    if state.get('name') == 'position':
                        for old in [p for p in state.findall('param')
                                    if p.get('name') == 'initial_value']:
                            state.remove(old)
                        _sub(state, 'param', _text(value), name='initial_value')
    return ElementTree.tostring(robot, encoding='unicode')


def _text(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
