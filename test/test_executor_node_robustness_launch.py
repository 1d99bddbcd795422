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
launch_testing: the executor node stays up and safe through the inputs fuzzing found hard.

chunk_executor runs on simulated time (``use_sim_time``) fed by this test's ``/clock``, so the
clock can be set back as a bag replay or a simulator reset does. Fed chunks with huge values,
joint states with NaN and a backward clock jump, the node must keep running, never command a
non-finite value or a position outside its bounds or faster than its velocity limit, refuse
the bad chunks, and after the jump accept chunks stamped in the new timeline. Skipped cleanly
without ROS 2.
"""

import math
import sys
import time
import unittest

import pytest

try:
    from builtin_interfaces.msg import Duration, Time  # noqa: I100 - only where ROS 2 is sourced
    from launch import LaunchDescription
    from launch.actions import ExecuteProcess
    import launch_testing.actions
    import launch_testing.asserts
    from rosgraph_msgs.msg import Clock
    import rclpy
    from sensor_msgs.msg import JointState
    from std_msgs.msg import Float64MultiArray
    from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

    from vla_ros.control.executor import STATE_FIELDS, STATES
except ImportError as exc:
    pytest.skip(f'needs ROS 2 and launch_testing ({exc})', allow_module_level=True)

JOINTS = ['a', 'b']
RATE, V_MAX, BOUND = 100.0, 1.0, 1.0


@pytest.mark.launch_test
def generate_test_description():
    """Start chunk_executor on sim time."""
    node = ExecuteProcess(
        cmd=[sys.executable, '-m', 'vla_ros.ros.chunk_executor_node', '--ros-args',
             '-p', 'use_sim_time:=true', '-p', 'joint_names:=[a, b]',
             '-p', f'control_rate_hz:={RATE}', '-p', f'max_velocity:=[{V_MAX}]',
             '-p', f'position_lower:=[{-BOUND}, {-BOUND}]',
             '-p', f'position_upper:=[{BOUND}, {BOUND}]', '-p', 'state_rate_hz:=20.0'],
        name='chunk_executor', output='screen')
    return LaunchDescription([node, launch_testing.actions.ReadyToTest()]), {'node': node}


def stamp(t):
    return Time(sec=int(t), nanosec=int(round(t % 1 * 1e9)) % 1_000_000_000)


class TestExecutorRobustness(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        rclpy.init()

    @classmethod
    def tearDownClass(cls):
        rclpy.shutdown()

    def setUp(self):
        self.node = rclpy.create_node('robustness_driver')
        self.commands, self.states = [], []
        self.node.create_subscription(Float64MultiArray, '/forward_position_controller/commands',
                                      lambda m: self.commands.append(list(m.data)), 1000)
        self.node.create_subscription(Float64MultiArray, '/chunk_executor/state',
                                      lambda m: self.states.append(list(m.data)), 100)
        self.clock_pub = self.node.create_publisher(Clock, '/clock', 10)
        self.chunk_pub = self.node.create_publisher(JointTrajectory, '/action_chunk', 10)
        self.js_pub = self.node.create_publisher(JointState, '/joint_states', 10)
        self.t = 100.0

    def tearDown(self):
        self.node.destroy_node()

    def run_clock(self, seconds, joint=(0.1, -0.1)):
        """Advance sim time in 10 ms steps (about real time), publishing joint states."""
        for _ in range(int(round(seconds / 0.01))):
            self.t += 0.01
            self.clock_pub.publish(Clock(clock=stamp(self.t)))
            js = JointState(name=JOINTS, position=list(joint))
            js.header.stamp = stamp(self.t)
            self.js_pub.publish(js)
            end = time.monotonic() + 0.01
            while time.monotonic() < end:     # drain: commands arrive at 100 Hz, states too
                rclpy.spin_once(self.node, timeout_sec=0.002)

    def chunk(self, t0, value=lambda k: 0.02 * k, steps=20):
        msg = JointTrajectory(joint_names=JOINTS)
        msg.header.stamp = stamp(t0)
        for k in range(steps):
            msg.points.append(JointTrajectoryPoint(
                positions=[value(k), -value(k)],
                time_from_start=Duration(sec=0, nanosec=int(0.05 * k * 1e9))))
        self.chunk_pub.publish(msg)

    def state(self, name):
        return self.states[-1][STATE_FIELDS.index(name)]

    def check_commands(self):
        period = 1.0 / RATE
        self.assertGreater(len(self.commands), 10)
        for prev, cur in zip(self.commands, self.commands[1:]):
            for p, q in zip(prev, cur):
                self.assertTrue(math.isfinite(q), cur)
                self.assertLessEqual(abs(q), BOUND + 1e-9)
                # Under sim time a late tick may see two clock steps; the limiter works at
                # the nominal period, so the step per command is still bounded by v_max T.
                self.assertLessEqual(abs(q - p), V_MAX * period + 1e-9)

    def test_huge_values_nan_state_and_a_backward_clock(self):
        self.run_clock(1.0)
        self.chunk(self.t - 0.05)
        self.run_clock(0.5)
        accepted = self.state('accepted_count')
        self.assertGreaterEqual(accepted, 1)
        # Huge but finite values and a NaN measured state: refused, node up, commands safe.
        self.chunk(self.t - 0.05, value=lambda k: 1e305)
        self.run_clock(0.3, joint=(float('nan'), 0.0))
        self.assertEqual(self.state('accepted_count'), accepted)
        self.assertGreater(self.state('rejected_count'), 0)
        self.chunk(self.t - 0.05)
        self.run_clock(0.5)
        self.assertGreater(self.state('accepted_count'), accepted)
        # The clock goes back 60 s (a bag replayed from its start, a simulator reset).
        self.t -= 60.0
        self.run_clock(0.5)
        self.assertIn(STATES[int(self.state('state_code'))], ('stopping', 'holding'))
        before = self.state('accepted_count')
        self.chunk(self.t - 0.05)
        self.run_clock(0.5)
        self.assertGreater(self.state('accepted_count'), before,
                           'a chunk stamped in the new timeline is taken')
        self.assertEqual(STATES[int(self.state('state_code'))], 'tracking')
        self.check_commands()


@launch_testing.post_shutdown_test()
class TestShutdown(unittest.TestCase):

    def test_exit_code(self, proc_info):
        launch_testing.asserts.assertExitCodes(proc_info, allowable_exit_codes=[0, -2, -15])
