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
The chunk_executor node under launch_testing: real chunks in, limited commands out.

Skips cleanly where ROS 2 (rclpy, launch_testing) is not installed.
"""

import math
import os
import random
import sys
import time
import unittest

import pytest

rclpy = pytest.importorskip('rclpy')
launch = pytest.importorskip('launch')
launch_testing = pytest.importorskip('launch_testing')
pytest.importorskip('launch_testing.actions')

from builtin_interfaces.msg import Duration  # noqa: E402, I100
import launch_testing.actions  # noqa: E402
import launch_testing.asserts  # noqa: E402
from sensor_msgs.msg import JointState  # noqa: E402
from std_msgs.msg import Float64MultiArray  # noqa: E402
from std_srvs.srv import Trigger  # noqa: E402
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint  # noqa: E402

from vla_ros.control.executor import STATE_FIELDS  # noqa: E402

JOINTS = ['a', 'b', 'c']
RATE, V_MAX, A_MAX, BOUND = 200.0, 1.0, 5.0, 1.0


@pytest.mark.launch_test
def generate_test_description():
    node = launch.actions.ExecuteProcess(
        cmd=[sys.executable, '-m', 'vla_ros.ros.chunk_executor_node', '--ros-args',
             '-p', f'joint_names:={JOINTS}'.replace("'", ''),
             '-p', f'control_rate_hz:={RATE}', '-p', f'max_velocity:=[{V_MAX}]',
             '-p', f'max_acceleration:=[{A_MAX}]',
             '-p', f'position_lower:=[{-BOUND}, {-BOUND}, {-BOUND}]',
             '-p', f'position_upper:=[{BOUND}, {BOUND}, {BOUND}]'],
        env=dict(os.environ), output='screen')
    return launch.LaunchDescription([node, launch_testing.actions.ReadyToTest()]), {'node': node}


class TestChunkExecutorNode(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        rclpy.init()

    @classmethod
    def tearDownClass(cls):
        rclpy.shutdown()

    def setUp(self):
        self.node = rclpy.create_node('executor_test_driver')
        self.commands, self.states = [], []
        self.node.create_subscription(Float64MultiArray, '/forward_position_controller/commands',
                                      lambda m: self.commands.append(list(m.data)), 10)
        self.node.create_subscription(Float64MultiArray, '/chunk_executor/state',
                                      lambda m: self.states.append(m), 10)
        self.chunk_pub = self.node.create_publisher(JointTrajectory, '/action_chunk', 10)
        self.js_pub = self.node.create_publisher(JointState, '/joint_states', 10)

    def tearDown(self):
        self.node.destroy_node()

    def now(self):
        return self.node.get_clock().now()

    def spin_for(self, seconds, chunks=False):
        end = time.monotonic() + seconds
        next_chunk = time.monotonic()
        while time.monotonic() < end:
            self.js_pub.publish(JointState(name=JOINTS, position=[0.1, -0.1, 0.0]))
            if chunks and time.monotonic() >= next_chunk:
                self.publish_chunk(latency=random.uniform(0.0, 0.3))
                next_chunk += random.uniform(0.2, 0.5)
            rclpy.spin_once(self.node, timeout_sec=0.01)

    def publish_chunk(self, latency, order=(0, 1, 2), corrupt=None):
        stamp = self.now().nanoseconds * 1e-9 - latency
        msg = JointTrajectory(joint_names=[JOINTS[i] for i in order])
        msg.header.stamp.sec, msg.header.stamp.nanosec = int(stamp), int(stamp % 1 * 1e9)
        for k in range(30):
            t = stamp + 0.05 * k
            pos = [0.5 * math.sin(t + j) for j in range(3)]
            msg.points.append(JointTrajectoryPoint(
                positions=[pos[i] for i in order],
                time_from_start=Duration(sec=0, nanosec=int(0.05 * k * 1e9))))
        if corrupt == 'nan':
            msg.points[3].positions[1] = float('nan')
        elif corrupt == 'unknown':
            msg.joint_names[0] = 'z'
        elif corrupt == 'time':
            msg.points[5].time_from_start = msg.points[4].time_from_start
        self.chunk_pub.publish(msg)

    def call(self, name):
        client = self.node.create_client(Trigger, f'/chunk_executor/{name}')
        self.assertTrue(client.wait_for_service(timeout_sec=10.0))
        future = client.call_async(Trigger.Request())
        rclpy.spin_until_future_complete(self.node, future, timeout_sec=10.0)
        return future.result()

    def test_commands_respect_limits_and_survive_bad_chunks(self):
        self.spin_for(1.0)
        random.seed(0)
        self.spin_for(4.0, chunks=True)
        for kind in ('nan', 'unknown', 'time'):
            self.publish_chunk(0.1, corrupt=kind)
        self.publish_chunk(0.1, order=(2, 0, 1))      # reordered: valid
        self.spin_for(2.0, chunks=True)
        self.assertGreater(len(self.commands), 0.5 * RATE * 6)
        period = 1.0 / RATE
        for prev, cur in zip(self.commands, self.commands[1:]):
            for p, q in zip(prev, cur):
                self.assertTrue(math.isfinite(q))
                self.assertLessEqual(abs(q), BOUND + 1e-9)
                self.assertLessEqual(abs(q - p), V_MAX * period + 1e-9)
        self.assertTrue(self.states)
        last = self.states[-1]
        self.assertEqual(last.layout.dim[0].label, ','.join(STATE_FIELDS))
        self.assertGreater(last.data[STATE_FIELDS.index('accepted_count')], 5)

    def test_pause_holds_and_resume_accepts_again(self):
        self.spin_for(0.5, chunks=True)
        self.assertTrue(self.call('pause').success)
        self.spin_for(1.5, chunks=True)               # chunks ignored while paused
        held = self.commands[-1]
        self.commands.clear()
        self.spin_for(0.3, chunks=True)
        self.assertTrue(all(c == held for c in self.commands))
        self.assertTrue(self.call('resume').success)
        self.commands.clear()
        self.spin_for(1.0, chunks=True)
        self.assertNotEqual(self.commands[-1], held)


@launch_testing.post_shutdown_test()
class TestShutdown(unittest.TestCase):

    def test_exit_code(self, proc_info):
        launch_testing.asserts.assertExitCodes(proc_info, allowable_exit_codes=[0, -2, -15])
