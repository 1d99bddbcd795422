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
The whole loop in simulation: MuJoCo sim_node + policy_node + chunk_executor.

    ros2 launch vla_ros sim.launch.py                      # the demo policy, a random task
    ros2 launch vla_ros sim.launch.py task:=pick checkpoint:=/path/to/ckpt

sim_node publishes ``joint_states``, ``camera/<name>/image_raw`` (rgb8) and ``instruction`` and
follows ``/forward_position_controller/commands``, the same interfaces as a ros2_control arm, so
the policy and the executor run exactly as they do in policy.launch.py.
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription, OpaqueFunction
from launch.conditions import IfCondition
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

ARGUMENTS = {
    'checkpoint': ('', 'Policy checkpoint directory; empty: the demo policy in models/.'),
    'config_file': ('', 'Extra parameter file for sim_node, policy_node and/or chunk_executor; '
                        'empty: none.'),
    'task': ('', 'Task name (touch, push_left, pick) or instruction; empty: a task per '
                 'episode.'),
    'seed': ('0', 'Seed of the first episode.'),
    'camera_topics': ('camera/scene/image_raw,camera/wrist/image_raw',
                      'Comma-separated camera topics fed to the policy, one per model camera.'),
    'device': ('', 'Torch device for the policy; empty: as in the config file.'),
    'trigger': ('', 'horizon, rate or service; empty: as in the config file.'),
    'start_sim': ('true', 'Start sim_node (false: the sim runs elsewhere).'),
    'autostart': ('true', 'Configure and activate policy_node on start.'),
    'log_level': ('info', 'Log level of the nodes.'),
}


def make_sim(context):
    """Build sim_node; `task` and `config_file` are passed only when given."""
    share = FindPackageShare('vla_ros')
    parameters = [PathJoinSubstitution([share, 'config', 'sim_node.yaml'])]
    extra = LaunchConfiguration('config_file').perform(context).strip()
    if extra:
        parameters.append(extra)
    overrides = {'seed': int(LaunchConfiguration('seed').perform(context))}
    task = LaunchConfiguration('task').perform(context).strip()
    if task:
        overrides['task'] = task
    return [Node(
        package='vla_ros', executable='sim_node', name='sim_node', output='screen',
        parameters=parameters + [overrides],
        ros_arguments=['--log-level', LaunchConfiguration('log_level')],
        condition=IfCondition(LaunchConfiguration('start_sim')))]


def generate_launch_description():
    """Start sim_node and include policy.launch.py pointed at the simulated arm."""
    share = FindPackageShare('vla_ros')
    policy = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(PathJoinSubstitution([share, 'launch',
                                                            'policy.launch.py'])),
        launch_arguments={name: LaunchConfiguration(name) for name in (
            'checkpoint', 'config_file', 'camera_topics', 'device', 'trigger', 'autostart',
            'log_level')}.items())
    return LaunchDescription(
        [DeclareLaunchArgument(name, default_value=default, description=description)
         for name, (default, description) in ARGUMENTS.items()]
        + [OpaqueFunction(function=make_sim), policy])
