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
The arm in Gazebo (Harmonic) under ros2_control, driven by policy_node + chunk_executor.

    ros2 launch vla_ros gazebo.launch.py instruction:="pick up the green cube"

Laid out like gz_ros2_control_demos (``cart_example_position.launch.py``): gz sim from
ros_gz_sim, robot_state_publisher with the description, ``ros_gz_sim create`` to spawn it,
ros_gz_bridge for ``/clock`` and the camera images, and controller_manager spawners for
joint_state_broadcaster then forward_position_controller (config/gazebo_controllers.yaml), whose
``/forward_position_controller/commands`` the chunk executor drives. Every node uses sim time.

The description is models/vla_arm.urdf (the MuJoCo arm's kinematics) with the Gazebo parts
added by `vla_ros.sim.gazebo_description`: a ``world`` anchor, one camera link and sensor per
model camera, the ``<ros2_control>`` block and the gz_ros2_control plugin. Gazebo is not
installed where this package is tested: the generated URDF is checked with ``check_urdf`` and
this file's actions are built in tests, but a gz session has not been run (see docs/ros.md).
"""

from launch import LaunchDescription
from launch.actions import (DeclareLaunchArgument, IncludeLaunchDescription, OpaqueFunction,
                            RegisterEventHandler)
from launch.conditions import IfCondition
from launch.event_handlers import OnProcessExit
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

from vla_ros.sim.gazebo_description import CAMERAS, gazebo_description, JOINT_NAMES

ARGUMENTS = {
    'checkpoint': ('', 'Policy checkpoint directory; empty: the demo policy in models/.'),
    'config_file': ('', 'Extra parameter file for policy_node and/or chunk_executor.'),
    'device': ('', 'Torch device for the policy; empty: as in the config file.'),
    'instruction': ('pick up the green cube', 'Instruction given to the policy.'),
    'urdf': ('', 'Robot description (URDF) to extend for Gazebo; empty: models/vla_arm.urdf.'),
    'controllers': ('', 'ros2_control parameters; empty: config/gazebo_controllers.yaml.'),
    'world': ('empty.sdf', 'Gazebo world file.'),
    'headless': ('false', 'Run the gz server only (no GUI).'),
    'image_size': ('96', 'Width and height of the simulated cameras [px].'),
    'camera_rate_hz': ('10', 'Update rate of the simulated cameras [Hz].'),
    'start_policy': ('true', 'Start policy_node and chunk_executor (false: controllers only).'),
    'autostart': ('true', 'Configure and activate policy_node on start.'),
}


def make_nodes(context):
    """Read the URDF, extend it for gz, and build every node of the Gazebo session."""
    def value(name):
        return LaunchConfiguration(name).perform(context).strip()

    share = FindPackageShare('vla_ros')
    urdf = value('urdf') or PathJoinSubstitution([share, 'models', 'vla_arm.urdf']).perform(
        context)
    controllers = value('controllers') or PathJoinSubstitution(
        [share, 'config', 'gazebo_controllers.yaml']).perform(context)
    with open(urdf) as f:
        description = gazebo_description(f.read(), controllers,
                                         image_size=int(value('image_size')),
                                         camera_rate_hz=float(value('camera_rate_hz')))
    sim_time = {'use_sim_time': True}
    gz_args = f"-r -v 1 {value('world')}" + (' -s' if value('headless') == 'true' else '')
    gazebo = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(PathJoinSubstitution(
            [FindPackageShare('ros_gz_sim'), 'launch', 'gz_sim.launch.py'])),
        launch_arguments=[('gz_args', gz_args)])
    state_publisher = Node(
        package='robot_state_publisher', executable='robot_state_publisher', output='screen',
        parameters=[{'robot_description': description}, sim_time])
    spawn = Node(
        package='ros_gz_sim', executable='create', output='screen',
        arguments=['-topic', 'robot_description', '-name', 'vla_arm', '-allow_renaming', 'true'])
    bridge = Node(
        package='ros_gz_bridge', executable='parameter_bridge', output='screen',
        arguments=['/clock@rosgraph_msgs/msg/Clock[gz.msgs.Clock'] + [
            f'/camera/{name}/image_raw@sensor_msgs/msg/Image[gz.msgs.Image'
            for name in CAMERAS],
        parameters=[sim_time])
    broadcaster = Node(package='controller_manager', executable='spawner',
                       arguments=['joint_state_broadcaster'], parameters=[sim_time])
    forward = Node(package='controller_manager', executable='spawner',
                   arguments=['forward_position_controller', '--param-file', controllers],
                   parameters=[sim_time])
    policy = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(PathJoinSubstitution([share, 'launch',
                                                            'policy.launch.py'])),
        launch_arguments={
            'checkpoint': value('checkpoint'), 'config_file': value('config_file'),
            'device': value('device'), 'instruction': value('instruction'),
            'autostart': value('autostart'), 'use_sim_time': 'true',
            'joint_names': ','.join(JOINT_NAMES),
            'camera_topics': ','.join(f'/camera/{name}/image_raw' for name in CAMERAS),
            'camera_slots': ','.join(CAMERAS),
        }.items(),
        condition=IfCondition(LaunchConfiguration('start_policy')))
    actions = [
        gazebo, state_publisher, spawn, bridge,
        # Controllers load once the robot (and with it gz_ros2_control) exists, one by one.
        RegisterEventHandler(OnProcessExit(target_action=spawn, on_exit=[broadcaster])),
        RegisterEventHandler(OnProcessExit(target_action=broadcaster, on_exit=[forward])),
    ]
    return actions + [policy]


def generate_launch_description():
    """Declare the arguments; build the session once their values are known."""
    return LaunchDescription(
        [DeclareLaunchArgument(name, default_value=default, description=description)
         for name, (default, description) in ARGUMENTS.items()]
        + [OpaqueFunction(function=make_nodes)])
