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

r"""
Run a VLA policy on a real arm: policy_node (managed) + chunk_executor.

    ros2 launch vla_ros policy.launch.py checkpoint:=/path/to/ckpt \\
        camera_topics:=/cam_high/image_raw,/cam_wrist/image_raw \\
        joint_names:=joint1,joint2,joint3,joint4,joint5,joint6,gripper device:=cuda

Parameters come from config/policy_node.yaml and config/chunk_executor.yaml, then from
`robot_config` (the arm: joint order and limits), then from `config_file` (one file may hold
both nodes' sections), then from the arguments given here; an argument left empty changes
nothing. policy_node is configured and activated on start unless
``autostart:=false`` (then: ``ros2 lifecycle set /policy_node configure`` / ``activate``).

A dry run before touching an arm: ``use_mock_hardware:=true`` also starts ros2_control
(``ros2_control_node`` with the URDF's ``<ros2_control>`` block on mock_components/
GenericSystem, robot_state_publisher, spawners for joint_state_broadcaster and `controller`,
the other command controller loaded inactive; config/controllers.yaml), and points the
executor at `controller` (``joint_trajectory_window`` for the joint_trajectory_controller,
``forward_position`` for the forward_position_controller) unless `command_interface` or
`command_topic` say otherwise. ``start_ros2_control:=true hardware_plugin:=<your driver>`` runs
the same stack on the arm. Laid out like ros2_control_demos' ``rrbot.launch.py``.
"""

from launch import LaunchDescription
from launch.actions import (DeclareLaunchArgument, EmitEvent, OpaqueFunction,
                            RegisterEventHandler)
from launch.conditions import IfCondition
from launch.event_handlers import OnProcessExit
from launch.events import matches_action
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution, PythonExpression
from launch_ros.actions import LifecycleNode, Node
from launch_ros.event_handlers import OnStateTransition
from launch_ros.events.lifecycle import ChangeState
from launch_ros.substitutions import FindPackageShare
from lifecycle_msgs.msg import Transition

ARGUMENTS = {
    'checkpoint': ('', 'Policy checkpoint directory (ours or a LeRobot SmolVLA one); empty: '
                       'the config file value, else the demo policy shipped in models/.'),
    'robot_config': ('', "The arm's parameter file (the executor's joint_names and limits, "
                         'e.g. config/sim_arm.yaml), applied over the package defaults and '
                         'under config_file; empty: none.'),
    'config_file': ('', 'Extra parameter file for policy_node and/or chunk_executor, applied '
                        'over the package defaults; empty: none.'),
    'camera_topics': ('', 'Comma-separated image topics, one per model camera; empty: as in the '
                          'config file.'),
    'camera_slots': ('', 'Comma-separated model camera name per topic; empty: the '
                         'model order.'),
    'joint_names': ('', 'Comma-separated robot joint names in the model state order; also '
                        'the command order of the executor. Empty: as in the config files.'),
    'command_interface': ('', 'Executor output: forward_position, joint_trajectory or '
                              'joint_state; empty: as in the config file.'),
    'command_topic': ('', 'Topic the executor commands; empty: as in the config file.'),
    'control_rate_hz': ('', 'Executor control rate [Hz] (on sim time: the rate of /clock '
                            'steps); empty: as in the config file.'),
    'device': ('', 'Torch device for the policy: cpu, cuda or cuda:N; empty: as in the '
                   'config file.'),
    'dtype': ('', 'Inference dtype: float32 or bfloat16; empty: as in the config file.'),
    'policy_threads': ('', 'Torch CPU threads of the policy (num_threads); empty: as in the '
                           'config file.'),
    'instruction': ('', 'Default instruction until one arrives on the instruction topic.'),
    'trigger': ('', 'When to infer: horizon, rate or service; empty: as in the config file.'),
    'autostart': ('true', 'Configure and activate policy_node on start.'),
    'start_executor': ('true', 'Start the chunk executor (false: bring your own).'),
    'use_sim_time': ('false', 'Use /clock (simulation) instead of the wall clock.'),
    'log_level': ('info', 'Log level of both nodes.'),
    'start_policy': ('true', 'Start policy_node (false: the executor, and ros2_control if asked, '
                             'only).'),
    'use_mock_hardware': ('false', 'Dry run: start ros2_control on mock_components/'
                                   'GenericSystem (commands become the joint states), '
                                   'robot_state_publisher and the controllers.'),
    'start_ros2_control': ('false', 'Start ros2_control as for use_mock_hardware, with '
                                    'hardware_plugin (your driver) instead of the mock.'),
    'hardware_plugin': ('', "ros2_control hardware plugin replacing the URDF's (e.g. "
                            "my_arm_driver/MyArmSystem); empty: the URDF's own. Ignored with "
                            'use_mock_hardware.'),
    'urdf': ('', 'Robot description with a <ros2_control> block (or none: one is added); '
                 'empty: models/vla_arm.urdf.'),
    'controllers': ('', 'ros2_control parameters; empty: config/controllers.yaml.'),
    'controller': ('joint_trajectory_controller',
                   'Command controller activated: joint_trajectory_controller (the executor '
                   'sends joint_trajectory_window) or forward_position_controller '
                   '(forward_position); the other is loaded inactive.'),
}

# Executor output for each command controller: (command_interface, command_topic).
CONTROLLER_INTERFACES = {
    'joint_trajectory_controller': ('joint_trajectory_window',
                                    '/joint_trajectory_controller/joint_trajectory'),
    'forward_position_controller': ('forward_position', '/forward_position_controller/commands'),
}

# Launch arguments copied into a node's parameters when not empty: (node, parameter, argument,
# kind): kind True for a comma-separated list, int or float for a number, False for text.
OVERRIDES = [
    ('policy', 'checkpoint_path', 'checkpoint', False),
    ('policy', 'camera_topics', 'camera_topics', True),
    ('policy', 'camera_slots', 'camera_slots', True),
    ('policy', 'joint_names', 'joint_names', True),
    ('policy', 'device', 'device', False),
    ('policy', 'dtype', 'dtype', False),
    ('policy', 'num_threads', 'policy_threads', int),
    ('policy', 'instruction', 'instruction', False),
    ('policy', 'trigger', 'trigger', False),
    ('executor', 'joint_names', 'joint_names', True),
    ('executor', 'command_interface', 'command_interface', False),
    ('executor', 'command_topic', 'command_topic', False),
    ('executor', 'control_rate_hz', 'control_rate_hz', float),
]


def overrides(context, node):
    """Return {parameter: value} for the non-empty launch arguments that target `node`."""
    values = {}
    for target, parameter, argument, is_list in OVERRIDES:
        text = LaunchConfiguration(argument).perform(context).strip()
        if target != node or not text:
            continue
        if is_list in (int, float):
            values[parameter] = is_list(text)
        elif is_list:
            values[parameter] = [v.strip() for v in text.split(',') if v.strip()]
        else:
            values[parameter] = text
    return values


def ros2_control_nodes(context, share):
    """Return controller_manager, robot_state_publisher and the spawners, or [] if not asked."""
    from vla_ros.sim.ros2_control_description import MOCK_HARDWARE, ros2_control_description

    def value(name):
        return LaunchConfiguration(name).perform(context).strip()

    mock = value('use_mock_hardware') == 'true'
    if not mock and value('start_ros2_control') != 'true':
        return []
    controller = value('controller')
    if controller not in CONTROLLER_INTERFACES:
        raise ValueError(f'controller={controller!r}: must be one of '
                         + ', '.join(CONTROLLER_INTERFACES))
    urdf = value('urdf') or PathJoinSubstitution([share, 'models', 'vla_arm.urdf']).perform(
        context)
    controllers = value('controllers') or PathJoinSubstitution(
        [share, 'config', 'controllers.yaml']).perform(context)
    with open(urdf) as f:
        description = ros2_control_description(
            f.read(), MOCK_HARDWARE if mock else value('hardware_plugin'))
    sim_time = {'use_sim_time': value('use_sim_time') == 'true'}
    state_publisher = Node(
        package='robot_state_publisher', executable='robot_state_publisher', output='screen',
        parameters=[{'robot_description': description}, sim_time])
    # controller_manager reads the description from robot_state_publisher's topic.
    manager = Node(
        package='controller_manager', executable='ros2_control_node', output='screen',
        parameters=[controllers, sim_time])
    other = next(c for c in CONTROLLER_INTERFACES if c != controller)

    def spawner(name, *extra):
        return Node(package='controller_manager', executable='spawner', output='screen',
                    arguments=[name, '--controller-manager', '/controller_manager', *extra])

    broadcaster = spawner('joint_state_broadcaster')
    return [state_publisher, manager, broadcaster, spawner(controller),
            # Loaded for a switch, inactive: both claim the position command interfaces.
            RegisterEventHandler(OnProcessExit(target_action=broadcaster,
                                               on_exit=[spawner(other, '--inactive')]))]


def make_nodes(context):
    share = FindPackageShare('vla_ros')
    files = [LaunchConfiguration(name).perform(context).strip()
             for name in ('robot_config', 'config_file')]
    extra = [path for path in files if path]
    common = {'use_sim_time': LaunchConfiguration('use_sim_time').perform(context) == 'true'}
    log_args = ['--log-level', LaunchConfiguration('log_level').perform(context)]

    control = ros2_control_nodes(context, share)
    executor_values = {}
    if control:
        # The executor drives the active controller unless told otherwise.
        interface, topic = CONTROLLER_INTERFACES[LaunchConfiguration('controller').perform(
            context).strip()]
        executor_values = {'command_interface': interface, 'command_topic': topic}

    def parameters(node, default_file):
        files = [PathJoinSubstitution([share, 'config', default_file])]
        given = overrides(context, node)
        if node == 'executor':
            given = {**executor_values, **given}
        return files + extra + [common, given]

    start_policy = IfCondition(LaunchConfiguration('start_policy'))
    policy = LifecycleNode(
        package='vla_ros', executable='policy_node', name='policy_node', namespace='',
        output='screen', parameters=parameters('policy', 'policy_node.yaml'),
        ros_arguments=log_args, condition=start_policy)
    executor = Node(
        package='vla_ros', executable='chunk_executor_node', name='chunk_executor',
        output='screen', parameters=parameters('executor', 'chunk_executor.yaml'),
        ros_arguments=log_args, condition=IfCondition(LaunchConfiguration('start_executor')))
    autostart = IfCondition(PythonExpression([
        "'", LaunchConfiguration('autostart'), "' == 'true' and '",
        LaunchConfiguration('start_policy'), "' == 'true'"]))
    configure = EmitEvent(condition=autostart, event=ChangeState(
        lifecycle_node_matcher=matches_action(policy),
        transition_id=Transition.TRANSITION_CONFIGURE))
    # Activate once configure (policy load + warm-up) has succeeded, whatever it took.
    activate = RegisterEventHandler(condition=autostart, event_handler=OnStateTransition(
        target_lifecycle_node=policy, start_state='configuring', goal_state='inactive',
        entities=[EmitEvent(event=ChangeState(
            lifecycle_node_matcher=matches_action(policy),
            transition_id=Transition.TRANSITION_ACTIVATE))]))
    return control + [executor, activate, policy, configure]


def generate_launch_description():
    """Declare the arguments; build the nodes once their values are known."""
    return LaunchDescription(
        [DeclareLaunchArgument(name, default_value=default, description=description)
         for name, (default, description) in ARGUMENTS.items()]
        + [OpaqueFunction(function=make_nodes)])
