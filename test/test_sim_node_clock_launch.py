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
sim_node on sim time under launch_testing: /clock, and stamps on it.

It publishes /clock at real_time_factor x the wall clock, and its joint states and frames are
stamped with that clock at their sim-time rates.

Skips cleanly where ROS 2 (rclpy, launch_testing) is not installed.
"""

import os
import sys
import time
import unittest

import pytest

rclpy = pytest.importorskip('rclpy')
launch = pytest.importorskip('launch')
launch_testing = pytest.importorskip('launch_testing')
pytest.importorskip('launch_testing.actions')
pytest.importorskip('mujoco')

import launch_testing.actions  # noqa: E402, I100
from rclpy.qos import qos_profile_sensor_data  # noqa: E402
from rosgraph_msgs.msg import Clock  # noqa: E402
from sensor_msgs.msg import Image, JointState  # noqa: E402

CLOCK_RATE_HZ, JOINT_RATE_HZ, CAMERA_RATE_HZ, FACTOR = 100.0, 50.0, 5.0, 0.5


@pytest.mark.launch_test
def generate_test_description():
    env = dict(os.environ)
    env.setdefault('MUJOCO_GL', 'egl')
    node = launch.actions.ExecuteProcess(
        cmd=[sys.executable, '-m', 'vla_ros.ros.sim_node', '--ros-args',
             '-p', 'use_sim_time:=true', '-p', 'task:=touch', '-p', 'image_width:=32',
             '-p', 'image_height:=32', '-p', f'clock_rate_hz:={CLOCK_RATE_HZ}',
             '-p', f'real_time_factor:={FACTOR}', '-p', f'joint_state_rate_hz:={JOINT_RATE_HZ}',
             '-p', f'camera_rate_hz:={CAMERA_RATE_HZ}', '-p', "executor_node:=''"],
        env=env, output='screen')
    return launch.LaunchDescription([node, launch_testing.actions.ReadyToTest()]), {'node': node}


def seconds(stamp):
    return stamp.sec + 1e-9 * stamp.nanosec


class TestSimNodeClock(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        rclpy.init()

    @classmethod
    def tearDownClass(cls):
        rclpy.shutdown()

    def setUp(self):
        self.node = rclpy.create_node('sim_clock_test_driver')
        self.got = {'clock': [], 'joint_states': [], 'scene': []}

        def keep(key, stamp):
            return lambda msg: self.got[key].append((time.monotonic(), seconds(stamp(msg))))

        sensor = qos_profile_sensor_data
        self.node.create_subscription(Clock, '/clock', keep('clock', lambda m: m.clock), sensor)
        self.node.create_subscription(JointState, '/joint_states',
                                      keep('joint_states', lambda m: m.header.stamp), sensor)
        self.node.create_subscription(Image, '/camera/scene/image_raw',
                                      keep('scene', lambda m: m.header.stamp), sensor)

    def tearDown(self):
        self.node.destroy_node()

    def spin_for(self, seconds_):
        end = time.monotonic() + seconds_
        while time.monotonic() < end:
            rclpy.spin_once(self.node, timeout_sec=0.01)

    def test_clock_paces_sim_time_and_stamps_follow_it(self):
        end = time.monotonic() + 60.0
        while time.monotonic() < end and not all(self.got.values()):
            rclpy.spin_once(self.node, timeout_sec=0.1)
        self.assertTrue(all(self.got.values()), {k: len(v) for k, v in self.got.items()})
        for key in self.got:
            self.got[key].clear()
        self.spin_for(4.0)
        clock = self.got['clock']
        (w0, s0), (w1, s1) = clock[0], clock[-1]
        # Sim time runs at real_time_factor x the wall clock (loose: a loaded CI machine).
        self.assertAlmostEqual((s1 - s0) / (w1 - w0), FACTOR, delta=0.25 * FACTOR)
        # Every /clock message is one step later than the one before, none goes back.
        steps = [round((b - a) * CLOCK_RATE_HZ) for (_, a), (_, b) in zip(clock, clock[1:])]
        self.assertGreater(min(steps), 0)
        self.assertGreater(steps.count(1), 0.8 * len(steps))
        # Sensors are stamped on the step grid, at their rates in sim time.
        for key, rate in (('joint_states', JOINT_RATE_HZ), ('scene', CAMERA_RATE_HZ)):
            stamps = [s for _, s in self.got[key]]
            self.assertTrue(all(abs(s * CLOCK_RATE_HZ - round(s * CLOCK_RATE_HZ)) < 1e-6
                                for s in stamps), stamps[:5])
            gaps = [b - a for a, b in zip(stamps, stamps[1:])]
            self.assertAlmostEqual(sorted(gaps)[len(gaps) // 2], 1.0 / rate, delta=1e-6)
            self.assertLessEqual(stamps[-1], s1 + 1e-9)
