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
The ros2_control dry-run launch test itself.

`test_ros2_control_launch` loads it where ros2_control is installed: a module-level skip inside
a launch test file would end the whole pytest session under launch_testing's collector, so the
skip happens in that wrapper.
"""

import importlib.util
import math
from pathlib import Path
import sys
import time
import unittest

from builtin_interfaces.msg import Duration
from controller_manager_msgs.srv import ListControllers, SwitchController
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from launch import LaunchContext, LaunchDescription
from launch.actions import ExecuteProcess
import launch_testing.actions
import pytest
import rclpy
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

from vla_ros.control.executor import STATE_FIELDS
from vla_ros.messages.stamps import split_seconds, to_seconds
from vla_ros.sim import JOINT_NAMES

ROOT = Path(__file__).resolve().parents[1]
# The mock's start: the initial_value of each position state in models/vla_arm.urdf.
START = [0.0, 0.15, 1.75, 0.0, 1.24, 0.0, 0.04]
AMPLITUDE = [0.2, 0.15, -0.15, 0.2, 0.15, 0.2, 0.0]
EXECUTORS = {
    'fwd': ('forward_position', '/forward_position_controller/commands'),
    'win': ('joint_trajectory_window', '/joint_trajectory_controller/joint_trajectory'),
    'single': ('joint_trajectory', '/joint_trajectory_controller/joint_trajectory'),
}


def control_nodes():
    """policy.launch.py's ros2_control actions for the mock arm and the forward controller."""
    spec = importlib.util.spec_from_file_location('policy_launch',
                                                  ROOT / 'launch' / 'policy.launch.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    context = LaunchContext()
    values = {'use_mock_hardware': 'true', 'controller': 'forward_position_controller',
              'urdf': str(ROOT / 'models' / 'vla_arm.urdf'),
              'controllers': str(ROOT / 'config' / 'controllers.yaml')}
    for name, (default, _) in module.ARGUMENTS.items():
        context.launch_configurations[name] = values.get(name, default)
    return module.ros2_control_nodes(context, None)


def executor(namespace, interface, topic):
    joints = '[' + ','.join(JOINT_NAMES) + ']'
    cmd = [sys.executable, '-m', 'vla_ros.ros.chunk_executor_node', '--ros-args',
           '-r', f'__ns:=/{namespace}', '-r', 'joint_states:=/joint_states',
           '-p', f'joint_names:={joints}', '-p', f'command_interface:={interface}',
           '-p', f'command_topic:={topic}', '-p', 'diagnostics_period_s:=0.5']
    return ExecuteProcess(cmd=cmd, name=f'executor_{namespace}', output='screen')


@pytest.mark.launch_test
def generate_test_description():
    actions = control_nodes() + [executor(ns, *out) for ns, out in EXECUTORS.items()]
    return LaunchDescription(actions + [launch_testing.actions.ReadyToTest()]), {}


def wave(t, t_start, origin):
    """Return the trajectory the chunks sample: from rest at `origin` at `t_start`."""
    s = 1.0 - math.cos(math.pi * max(t - t_start, 0.0))
    return [p + a * s for p, a in zip(origin, AMPLITUDE)]


class TestRos2ControlDryRun(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        rclpy.init()
        cls.node = rclpy.create_node('ros2_control_dry_run_test')
        cls.joint_states, cls.states, cls.errors = [], {ns: [] for ns in EXECUTORS}, {}
        cls.node.create_subscription(JointState, '/joint_states', cls.on_joint_state, 50)
        cls.node.create_subscription(DiagnosticArray, '/diagnostics', cls.on_diagnostics, 50)
        cls.chunk_pubs = {}
        for ns in EXECUTORS:
            cls.chunk_pubs[ns] = cls.node.create_publisher(JointTrajectory,
                                                           f'/{ns}/action_chunk', 10)
            cls.node.create_subscription(
                Float64MultiArray, f'/{ns}/chunk_executor/state',
                lambda msg, ns=ns: cls.states[ns].append((time.monotonic(), list(msg.data))),
                10)
        cls.t_start, cls.origin = cls.now(), START

    @classmethod
    def tearDownClass(cls):
        cls.node.destroy_node()
        rclpy.shutdown()

    @classmethod
    def now(cls):
        return cls.node.get_clock().now().nanoseconds * 1e-9

    @classmethod
    def on_joint_state(cls, msg):
        index = {n: i for i, n in enumerate(msg.name)}
        if all(n in index for n in JOINT_NAMES):
            cls.joint_states.append((to_seconds(msg.header.stamp),
                                     [msg.position[index[n]] for n in JOINT_NAMES]))

    @classmethod
    def on_diagnostics(cls, msg):
        for status in msg.status:
            if status.level == DiagnosticStatus.ERROR:
                cls.errors.setdefault(status.hardware_id, time.monotonic())

    def spin_for(self, seconds, chunks_to=None):
        end = time.monotonic() + seconds
        next_chunk = time.monotonic()
        while time.monotonic() < end:
            if chunks_to and time.monotonic() >= next_chunk:
                self.publish_chunk(chunks_to)
                next_chunk += 0.3
            rclpy.spin_once(self.node, timeout_sec=0.005)

    def publish_chunk(self, ns, latency=0.1, steps=50, dt=0.02):
        t0 = self.now() - latency
        msg = JointTrajectory(joint_names=list(JOINT_NAMES))
        msg.header.stamp.sec, msg.header.stamp.nanosec = split_seconds(t0)
        for k in range(steps):
            sec, nanosec = split_seconds(k * dt)
            msg.points.append(JointTrajectoryPoint(
                positions=wave(t0 + k * dt, self.t_start, self.origin),
                time_from_start=Duration(sec=sec, nanosec=nanosec)))
        self.chunk_pubs[ns].publish(msg)

    def call(self, srv_type, name, request, timeout=20.0):
        client = self.node.create_client(srv_type, name)
        self.assertTrue(client.wait_for_service(timeout_sec=timeout), name)
        future = client.call_async(request)
        rclpy.spin_until_future_complete(self.node, future, timeout_sec=timeout)
        self.assertIsNotNone(future.result(), name)
        return future.result()

    def wait_for_controllers(self, active, timeout=60.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            result = self.call(ListControllers, '/controller_manager/list_controllers',
                               ListControllers.Request())
            states = {c.name: c.state for c in result.controller}
            if all(states.get(name) == 'active' for name in active):
                return states
            self.spin_for(0.5)
        self.fail(f'controllers {active} not active: {states}')

    def start_wave(self):
        """Start the chunks' wave where the arm is now."""
        self.spin_for(0.2)
        type(self).t_start, type(self).origin = self.now(), self.joint_states[-1][1]
        return self.t_start

    def check_following(self, ns, since):
        """/joint_states since `since` track the wave; the executor saw no follow error."""
        recent = [(t, p) for t, p in self.joint_states if t >= since + 0.5]
        self.assertGreater(len(recent), 100, 'joint_states from the broadcaster')
        moved = max(p[0] for _, p in recent) - min(p[0] for _, p in recent)
        self.assertGreater(moved, 0.3, 'the arm moved')
        errors = [max(abs(a - b) for a, b in zip(p, wave(t, self.t_start, self.origin)))
                  for t, p in recent]
        worst = max(errors)
        if worst >= 0.05:
            trace = [(round(t - self.t_start, 3), round(e, 4))
                     for (t, _), e in zip(recent, errors)]
            print('t - t_start, error:', trace[::10])
        self.assertLess(worst, 0.05, 'joint_states follow the chunks, one period behind')
        codes = [d[STATE_FIELDS.index('follow_error')] for _, d in self.states[ns][-20:]]
        self.assertTrue(codes and set(codes) == {0.0}, codes)

    def test_1_forward_controller_follows_the_executor(self):
        self.wait_for_controllers(['joint_state_broadcaster', 'forward_position_controller'])
        since = self.start_wave()
        self.spin_for(3.0, chunks_to='fwd')
        self.check_following('fwd', since)

    def test_2_jtc_follows_the_window(self):
        request = SwitchController.Request(
            activate_controllers=['joint_trajectory_controller'],
            deactivate_controllers=['forward_position_controller'],
            strictness=SwitchController.Request.STRICT)
        self.assertTrue(self.call(SwitchController, '/controller_manager/switch_controller',
                                  request).ok)
        self.wait_for_controllers(['joint_trajectory_controller'])
        since = self.start_wave()
        self.spin_for(3.0, chunks_to='win')
        self.check_following('win', since)

    def test_3_rejected_single_points_are_an_error_within_a_second(self):
        self.spin_for(1.0)      # /win holds its last chunk's end; the JTC keeps it there
        self.start_wave()
        first_chunk = time.monotonic()
        self.spin_for(2.0, chunks_to='single')
        reported = self.errors.get('/single/chunk_executor')
        self.assertIsNotNone(reported, 'ERROR in /diagnostics')
        self.assertLess(reported - first_chunk, 1.0)
        codes = [d[STATE_FIELDS.index('follow_error')] for t, d in self.states['single']
                 if t > first_chunk]
        self.assertIn(2.0, codes)
        self.assertNotIn('/win/chunk_executor', self.errors)
