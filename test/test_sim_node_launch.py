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
sim_node under launch_testing: topic types and rates, commands move the arm, reset works.

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
from sensor_msgs.msg import Image, JointState  # noqa: E402
from std_msgs.msg import Bool, Float64MultiArray, String  # noqa: E402
from std_srvs.srv import Trigger  # noqa: E402

from vla_ros.sim import HOME_POSITIONS, JOINT_NAMES  # noqa: E402

JOINT_RATE_HZ, CAMERA_RATE_HZ, SIZE = 50.0, 5.0, 32


@pytest.mark.launch_test
def generate_test_description():
    env = dict(os.environ)
    env.setdefault('MUJOCO_GL', 'egl')
    node = launch.actions.ExecuteProcess(
        cmd=[sys.executable, '-m', 'vla_ros.ros.sim_node', '--ros-args',
             '-p', 'task:=pick', '-p', 'seed:=3',
             '-p', f'image_width:={SIZE}', '-p', f'image_height:={SIZE}',
             '-p', f'joint_state_rate_hz:={JOINT_RATE_HZ}',
             '-p', f'camera_rate_hz:={CAMERA_RATE_HZ}'],
        env=env, output='screen')
    return launch.LaunchDescription([node, launch_testing.actions.ReadyToTest()]), {'node': node}


class TestSimNode(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        rclpy.init()

    @classmethod
    def tearDownClass(cls):
        rclpy.shutdown()

    def setUp(self):
        self.node = rclpy.create_node('sim_test_driver')
        self.got = {'joint_states': [], 'scene': [], 'wrist': [], 'instruction': [],
                    'success': []}

        def keep(key):
            return lambda msg: self.got[key].append((time.monotonic(), msg))

        sensor = qos_profile_sensor_data
        self.node.create_subscription(JointState, '/joint_states', keep('joint_states'), sensor)
        for cam in ('scene', 'wrist'):
            self.node.create_subscription(Image, f'/camera/{cam}/image_raw', keep(cam), sensor)
        self.node.create_subscription(String, '/instruction', keep('instruction'), 10)
        self.node.create_subscription(Bool, '/sim_node/success', keep('success'), 10)
        self.cmd_pub = self.node.create_publisher(Float64MultiArray,
                                                  '/forward_position_controller/commands', 10)

    def tearDown(self):
        self.node.destroy_node()

    def spin_for(self, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            rclpy.spin_once(self.node, timeout_sec=0.02)

    def wait_for_first_messages(self, timeout_s=60.0):
        end = time.monotonic() + timeout_s
        while time.monotonic() < end and not all(self.got.values()):
            rclpy.spin_once(self.node, timeout_sec=0.1)
        self.assertTrue(all(self.got.values()),
                        {k: len(v) for k, v in self.got.items()})

    def rate(self, key, since):
        stamps = [t for t, _ in self.got[key] if t >= since]
        return (len(stamps) - 1) / (stamps[-1] - stamps[0])

    def test_topics_types_and_rates(self):
        self.wait_for_first_messages()
        types = dict(self.node.get_topic_names_and_types())
        self.assertEqual(types['/joint_states'], ['sensor_msgs/msg/JointState'])
        self.assertEqual(types['/camera/scene/image_raw'], ['sensor_msgs/msg/Image'])
        self.assertEqual(types['/camera/wrist/image_raw'], ['sensor_msgs/msg/Image'])
        self.assertEqual(types['/instruction'], ['std_msgs/msg/String'])
        self.assertEqual(types['/sim_node/success'], ['std_msgs/msg/Bool'])
        self.assertEqual(types['/forward_position_controller/commands'],
                         ['std_msgs/msg/Float64MultiArray'])
        start = time.monotonic()
        self.spin_for(4.0)
        self.assertAlmostEqual(self.rate('joint_states', start), JOINT_RATE_HZ,
                               delta=0.3 * JOINT_RATE_HZ)
        self.assertAlmostEqual(self.rate('scene', start), CAMERA_RATE_HZ,
                               delta=0.3 * CAMERA_RATE_HZ)
        js = self.got['joint_states'][-1][1]
        self.assertEqual(list(js.name), list(JOINT_NAMES))
        self.assertEqual(len(js.position), 7)
        image = self.got['scene'][-1][1]
        self.assertEqual((image.encoding, image.height, image.width, image.step),
                         ('rgb8', SIZE, SIZE, 3 * SIZE))
        self.assertEqual(self.got['instruction'][-1][1].data, 'pick up the green cube')
        self.assertFalse(self.got['success'][-1][1].data)

    def test_commands_move_the_arm_and_bad_ones_are_dropped(self):
        self.wait_for_first_messages()
        target = list(HOME_POSITIONS)
        target[0] += 0.4
        bad = Float64MultiArray(data=[0.0, 1.0, 2.0])
        nan = Float64MultiArray(data=[float('nan')] * 7)
        end = time.monotonic() + 3.0
        while time.monotonic() < end:
            self.cmd_pub.publish(bad)
            self.cmd_pub.publish(nan)
            self.cmd_pub.publish(Float64MultiArray(data=target))
            self.spin_for(0.05)
        position = self.got['joint_states'][-1][1].position
        self.assertAlmostEqual(position[0], target[0], delta=0.02)

    def test_reset_service_starts_the_next_episode(self):
        client = self.node.create_client(Trigger, '/sim_node/reset')
        self.assertTrue(client.wait_for_service(timeout_sec=30.0))
        future = client.call_async(Trigger.Request())
        rclpy.spin_until_future_complete(self.node, future, timeout_sec=30.0)
        self.assertTrue(future.result().success)
        self.assertEqual(future.result().message, 'pick up the green cube')
