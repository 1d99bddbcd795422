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
A URDF made ready for Gazebo (Harmonic) + gz_ros2_control, for launch/gazebo.launch.py.

`gazebo_description` adds to the arm's URDF what Gazebo needs and a kinematic description does
not carry: a ``world`` link the arm is fixed to, a link and a camera sensor per model camera
(publishing ``/camera/<name>/image_raw``, bridged to ROS by ros_gz_bridge), a
``<ros2_control>`` block with a position command interface per joint (or, where the URDF has
its own, that block with its hardware swapped for gz_ros2_control's), and the gz_ros2_control
and sensors system plugins. Plain XML, so it is checked without Gazebo.
"""

from __future__ import annotations

from xml.etree import ElementTree

from vla_ros.sim.robot import JOINT_NAMES

GZ_HARDWARE = 'gz_ros2_control/GazeboSimSystem'

# camera -> (parent link, xyz [m], rpy [rad]); a gz camera looks along its link's +x.
CAMERAS = {
    'scene': ('world', (0.9, 0.0, 0.55), (0.0, 0.45, 3.14159)),
    'wrist': ('gripper_link', (0.0, -0.04, 0.0), (0.0, -1.5708, 0.0)),
}


def _sub(parent, tag, text=None, **attrib):
    element = ElementTree.SubElement(parent, tag, {k: str(v) for k, v in attrib.items()})
    if text is not None:
        element.text = str(text)
    return element


def _fixed_link(robot, name, parent, xyz, rpy):
    link = _sub(robot, 'link', name=name)
    inertial = _sub(link, 'inertial')
    _sub(inertial, 'mass', value='0.01')
    _sub(inertial, 'inertia', ixx='1e-6', ixy='0', ixz='0', iyy='1e-6', iyz='0', izz='1e-6')
    joint = _sub(robot, 'joint', name=f'{name}_joint', type='fixed')
    _sub(joint, 'parent', link=parent)
    _sub(joint, 'child', link=name)
    _sub(joint, 'origin', xyz=' '.join(map(str, xyz)), rpy=' '.join(map(str, rpy)))


def gazebo_description(urdf_text: str, controllers_path: str, joint_names=JOINT_NAMES,
                       cameras=CAMERAS, image_size: int = 96,
                       camera_rate_hz: float = 10.0) -> str:
    """
    Return `urdf_text` extended with a world anchor, cameras and ros2_control for gz.

    Raises ValueError naming a joint or camera parent link the URDF lacks.
    """
    robot = ElementTree.fromstring(urdf_text)
    links = {link.get('name') for link in robot.findall('link')}
    joints = {joint.get('name'): joint for joint in robot.findall('joint')}
    if 'world' not in links:
        children = {j.find('child').get('link') for j in joints.values()}
        roots = sorted(links - children)
        if len(roots) != 1:
            raise ValueError(f'URDF: expected one root link, found {roots}')
        _sub(robot, 'link', name='world')
        anchor = _sub(robot, 'joint', name='world_to_' + roots[0], type='fixed')
        _sub(anchor, 'parent', link='world')
        _sub(anchor, 'child', link=roots[0])
        links.add('world')
    for name, (parent, xyz, rpy) in cameras.items():
        if parent not in links:
            raise ValueError(f'camera {name!r}: parent link {parent!r} is not in the URDF')
        link = f'{name}_camera_link'
        _fixed_link(robot, link, parent, xyz, rpy)
        sensor = _sub(_sub(robot, 'gazebo', reference=link), 'sensor', name=name, type='camera')
        _sub(sensor, 'always_on', 1)
        _sub(sensor, 'update_rate', camera_rate_hz)
        _sub(sensor, 'topic', f'/camera/{name}/image_raw')
        camera = _sub(sensor, 'camera')
        _sub(camera, 'horizontal_fov', 1.0)
        image = _sub(camera, 'image')
        _sub(image, 'width', image_size)
        _sub(image, 'height', image_size)
        _sub(image, 'format', 'R8G8B8')
        clip = _sub(camera, 'clip')
        _sub(clip, 'near', 0.02)
        _sub(clip, 'far', 10.0)
    for name in joint_names:
        if name not in joints:
            raise ValueError(f'ros2_control joint {name!r} is not a joint of the URDF')
    controls = robot.findall('ros2_control')
    if controls:
        # The URDF's own block (e.g. mock_components for RViz): keep it, swap the hardware.
        for control in controls:
            hardware = control.find('hardware')
            if hardware is None:
                hardware = _sub(control, 'hardware')
            plugin = hardware.find('plugin')
            if plugin is None:
                plugin = _sub(hardware, 'plugin')
            plugin.text = GZ_HARDWARE
    else:
        control = _sub(robot, 'ros2_control', name='GazeboSimSystem', type='system')
        _sub(_sub(control, 'hardware'), 'plugin', GZ_HARDWARE)
        for name in joint_names:
            joint = _sub(control, 'joint', name=name)
            command = _sub(joint, 'command_interface', name='position')
            limit = joints[name].find('limit')
            if limit is not None:
                _sub(command, 'param', limit.get('lower'), name='min')
                _sub(command, 'param', limit.get('upper'), name='max')
            _sub(joint, 'state_interface', name='position')
            _sub(joint, 'state_interface', name='velocity')
    plugins = _sub(robot, 'gazebo')
    control_plugin = _sub(plugins, 'plugin', filename='gz_ros2_control-system',
                          name='gz_ros2_control::GazeboSimROS2ControlPlugin')
    _sub(control_plugin, 'parameters', controllers_path)
    sensors = _sub(plugins, 'plugin', filename='gz-sim-sensors-system',
                   name='gz::sim::systems::Sensors')
    _sub(sensors, 'render_engine', 'ogre2')
    return ElementTree.tostring(robot, encoding='unicode')
