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

    ros2 launch vla_ros sim.launch.py                      # the demo policy, every task in turn
    ros2 launch vla_ros sim.launch.py task:=pick checkpoint:=/path/to/ckpt
    ros2 launch vla_ros sim.launch.py episodes:=100 seed:=100000   # as vla-ros eval, then exit

sim_node publishes ``joint_states``, ``camera/<name>/image_raw`` (rgb8) and ``instruction`` and
follows ``/forward_position_controller/commands``, the same interfaces as a ros2_control arm, so
the policy and the executor run exactly as they do in policy.launch.py. By default every node
runs on sim time: sim_node publishes ``/clock`` in steps of 1/``clock_rate_hz``, paced at
``real_time_factor`` times the wall clock, and the executor ticks once per step (its
``control_rate_hz`` is set to ``clock_rate_hz``), so a loaded machine slows the whole loop.
``use_sim_time:=false`` runs everything on the wall clock instead (the executor at its config
rate, in its real-time thread). With ``episodes:=N``
sim_node plays the episodes ``vla-ros eval --seed-start <seed> --episodes N`` plays, prints the
same success table, writes the same summary.json into ``out`` and exits; the launch then shuts
down and ``ros2 launch`` returns 0 (1 if sim_node failed).
"""

from launch import LaunchDescription
from launch.actions import (DeclareLaunchArgument, IncludeLaunchDescription, OpaqueFunction,
                            RegisterEventHandler, Shutdown)
from launch.conditions import IfCondition
from launch.event_handlers import OnProcessExit
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution, PythonExpression
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

ARGUMENTS = {
    'checkpoint': ('', 'Policy checkpoint directory; empty: the demo policy in models/.'),
    'config_file': ('', 'Extra parameter file for sim_node, policy_node and/or chunk_executor; '
                        'empty: none.'),
    'task': ('', 'Task name (touch, push_left, pick) or instruction; empty: a task per '
                 'episode.'),
    'seed': ('0', 'Seed of the first episode; episode k uses seed + k.'),
    'episodes': ('0', 'Run this many episodes (as vla-ros eval), print the success table, write '
                      'summary.json and table.md into out, and shut the launch down; 0: run '
                      'until stopped.'),
    'out': ('outputs/sim_launch', 'Where an episodes run writes summary.json and table.md.'),
    'episode_time_s': ('', 'Episode time limit [s]; empty: as in the config file.'),
    'camera_topics': ('camera/scene/image_raw,camera/wrist/image_raw',
                      'Comma-separated camera topics fed to the policy, one per model camera.'),
    'device': ('', 'Torch device for the policy; empty: as in the config file.'),
    'trigger': ('', 'horizon, rate or service; empty: as in the config file.'),
    'start_sim': ('true', 'Start sim_node (false: the sim runs elsewhere).'),
    'autostart': ('true', 'Configure and activate policy_node on start.'),
    'policy_threads': ('1', 'Torch CPU threads of the policy: it shares the machine with the '
                            'simulator and the executor, which more threads slow down (the '
                            'in-process eval uses 1 too); empty: torch decides.'),
    'log_level': ('info', 'Log level of the nodes.'),
    'use_sim_time': ('true', 'Run every node on the /clock sim_node publishes (false: the wall '
                             'clock).'),
    'clock_rate_hz': ('100', "Sim-time steps per simulated second (sim_node's clock_rate_hz), "
                             "and the executor's control_rate_hz on sim time; must divide the "
                             'physics rate (500 Hz).'),
    'real_time_factor': ('1.0', 'Simulated seconds per wall second on sim time (1.0: as fast as '
                                'the wall clock; less on a slow or busy machine).'),
}


def make_sim(context):
    """Build sim_node (`task`, `config_file` passed only when given), and its episodes' end."""
    def argument(name):
        return LaunchConfiguration(name).perform(context).strip()

    share = FindPackageShare('vla_ros')
    parameters = [PathJoinSubstitution([share, 'config', 'sim_node.yaml'])]
    if argument('config_file'):
        parameters.append(argument('config_file'))
    episodes = int(argument('episodes'))
    overrides = {'seed': int(argument('seed')), 'episodes': episodes,
                 'out_dir': argument('out'),
                 'use_sim_time': argument('use_sim_time') == 'true',
                 'clock_rate_hz': float(argument('clock_rate_hz')),
                 'real_time_factor': float(argument('real_time_factor'))}
    if argument('task'):
        overrides['task'] = argument('task')
    if argument('episode_time_s'):
        overrides['episode_time_s'] = float(argument('episode_time_s'))
    sim = Node(
        package='vla_ros', executable='sim_node', name='sim_node', output='screen',
        parameters=parameters + [overrides],
        ros_arguments=['--log-level', LaunchConfiguration('log_level')],
        condition=IfCondition(LaunchConfiguration('start_sim')))
    if episodes <= 0:
        return [sim]
    return [sim, RegisterEventHandler(OnProcessExit(target_action=sim, on_exit=end_of_run))]


def end_of_run(event, context):
    """Shut the launch down when sim_node has run its episodes; fail if sim_node failed."""
    if event.returncode != 0 and not context.is_shutdown:
        # An exception here makes `ros2 launch` shut down and return 1.
        raise RuntimeError(f'sim_node exited with {event.returncode} before its episodes '
                           'were done')
    return [Shutdown(reason='sim_node ran its episodes')]


def generate_launch_description():
    """Start sim_node and include policy.launch.py pointed at the simulated arm."""
    share = FindPackageShare('vla_ros')
    # On sim time the executor ticks once per /clock step, so its rate is the clock's.
    control_rate = PythonExpression([
        "'", LaunchConfiguration('clock_rate_hz'), "' if '", LaunchConfiguration('use_sim_time'),
        "' == 'true' else ''"])
    policy = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(PathJoinSubstitution([share, 'launch',
                                                            'policy.launch.py'])),
        launch_arguments=[(name, LaunchConfiguration(name)) for name in (
            'checkpoint', 'config_file', 'camera_topics', 'device', 'trigger', 'autostart',
            'log_level', 'policy_threads', 'use_sim_time')]
        + [('control_rate_hz', control_rate),
           # The executor knows the arm's joints and position bounds, as vla-ros eval's does.
           ('robot_config', PathJoinSubstitution([share, 'config', 'sim_arm.yaml']))])
    return LaunchDescription(
        [DeclareLaunchArgument(name, default_value=default, description=description)
         for name, (default, description) in ARGUMENTS.items()]
        + [OpaqueFunction(function=make_sim), policy])
