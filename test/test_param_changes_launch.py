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
launch_testing: ``ros2 param set`` on running nodes is applied or refused, never ignored.

Starts chunk_executor, policy_node (a tiny random policy, configured through its lifecycle)
and, where MuJoCo can render here, sim_node. For each node a valid change must take effect
(read back, and where it is a rate, seen on a topic), an invalid one must be refused with the
rule that failed and a read-only one refused while the node runs; the value stays as it was.
Parameters are set through each node's ``set_parameters`` service, what ``ros2 param set``
calls. Skipped cleanly without ROS 2.
"""

import tempfile
import threading
import time
import unittest

import pytest

try:
    from launch import LaunchDescription  # noqa: I100 - only where ROS 2 is sourced
    import launch_testing.actions
    from rcl_interfaces.msg import Parameter, ParameterType, ParameterValue
    from rcl_interfaces.srv import GetParameters, SetParameters
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from sensor_msgs.msg import Image
    from std_msgs.msg import Float64MultiArray
    import torch  # noqa: F401 - the policy needs it

    from conftest import make_tiny_policy
    from test_policy_node_launch import lifecycle_set, node_process, sim_node_usable
    from vla_ros.ros.qos import SENSOR_QOS
    from vla_ros.sim.robot import CAMERA_NAMES, JOINT_NAMES
except ImportError as exc:
    pytest.skip(f'needs ROS 2, launch_testing and torch ({exc})', allow_module_level=True)

USE_SIM = sim_node_usable()


@pytest.mark.launch_test
def generate_test_description():
    """Start the executor, the policy node and, if it can run, sim_node."""
    checkpoint = make_tiny_policy(tempfile.mkdtemp(prefix='tiny_policy_'),
                                  cameras=CAMERA_NAMES, joints=JOINT_NAMES, dt=0.1)
    joints = '[' + ','.join(JOINT_NAMES) + ']'
    actions = [
        node_process('vla_ros.ros.chunk_executor_node', 'chunk_executor',
                     f'joint_names:={joints}', 'control_rate_hz:=100.0', 'state_rate_hz:=20.0'),
        node_process('vla_ros.ros.policy_node', 'policy_node', f'checkpoint_path:={checkpoint}',
                     'warmup:=false', 'trigger:=service')]
    if USE_SIM:
        actions.append(node_process('vla_ros.ros.sim_node', 'sim_node', 'camera_rate_hz:=10.0',
                                    "executor_node:=''"))
    return LaunchDescription(actions + [launch_testing.actions.ReadyToTest()]), {}


def value(v):
    """Return a Python value as an rcl_interfaces ParameterValue."""
    if isinstance(v, bool):
        return ParameterValue(type=ParameterType.PARAMETER_BOOL, bool_value=v)
    if isinstance(v, float):
        return ParameterValue(type=ParameterType.PARAMETER_DOUBLE, double_value=v)
    if isinstance(v, int):
        return ParameterValue(type=ParameterType.PARAMETER_INTEGER, integer_value=v)
    if isinstance(v, str):
        return ParameterValue(type=ParameterType.PARAMETER_STRING, string_value=v)
    return ParameterValue(type=ParameterType.PARAMETER_STRING_ARRAY, string_array_value=list(v))


class TestParameterChanges(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        rclpy.init()
        cls.node = rclpy.create_node('param_probe')
        cls.executor = SingleThreadedExecutor()
        cls.executor.add_node(cls.node)
        cls.thread = threading.Thread(target=cls.executor.spin, daemon=True)
        cls.thread.start()

    @classmethod
    def tearDownClass(cls):
        cls.executor.shutdown()
        cls.node.destroy_node()
        rclpy.shutdown()

    def call(self, node_name, srv_type, suffix, request, timeout_s=60):
        client = self.node.create_client(srv_type, f'/{node_name}/{suffix}')
        self.assertTrue(client.wait_for_service(timeout_sec=timeout_s), f'{node_name} {suffix}')
        future = client.call_async(request)
        deadline = time.time() + timeout_s
        while not future.done() and time.time() < deadline:
            time.sleep(0.02)
        self.node.destroy_client(client)
        self.assertTrue(future.done(), f'{node_name}/{suffix} did not answer')
        return future.result()

    def set_param(self, node_name, name, v):
        """Return (successful, reason) of ``ros2 param set /node_name name v``."""
        request = SetParameters.Request(parameters=[Parameter(name=name, value=value(v))])
        result = self.call(node_name, SetParameters, 'set_parameters', request).results[0]
        return result.successful, result.reason

    def get_param(self, node_name, name):
        result = self.call(node_name, GetParameters, 'get_parameters',
                           GetParameters.Request(names=[name]))
        v = result.values[0]
        return {ParameterType.PARAMETER_DOUBLE: v.double_value,
                ParameterType.PARAMETER_STRING: v.string_value,
                ParameterType.PARAMETER_BOOL: v.bool_value,
                ParameterType.PARAMETER_INTEGER: v.integer_value}.get(v.type, v)

    def rate(self, msg_type, topic, qos, seconds=3.0):
        """Return the message rate on `topic` over `seconds` [Hz]."""
        stamps = []
        sub = self.node.create_subscription(msg_type, topic, lambda m: stamps.append(
            time.monotonic()), qos)
        time.sleep(seconds)
        self.node.destroy_subscription(sub)
        return (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 2 else 0.0

    def test_executor_applies_valid_changes_and_refuses_bad_ones(self):
        ok, reason = self.set_param('chunk_executor', 'control_rate_hz', 0.0)
        self.assertFalse(ok)
        self.assertIn('chunk_executor.control_rate_hz=0: must be > 0', reason)
        self.assertEqual(self.get_param('chunk_executor', 'control_rate_hz'), 100.0)
        ok, reason = self.set_param('chunk_executor', 'command_topic', '/elsewhere')
        self.assertFalse(ok)
        self.assertIn('read-only at run time', reason)
        ok, reason = self.set_param('chunk_executor', 'blend_mode', 'mix')
        self.assertFalse(ok)
        self.assertIn("blend_mode='mix': must be one of", reason)
        # A valid change is applied: the state topic follows its new rate.
        self.assertAlmostEqual(self.rate(Float64MultiArray, '/chunk_executor/state', 10), 20.0,
                               delta=4.0)
        ok, reason = self.set_param('chunk_executor', 'state_rate_hz', 5.0)
        self.assertTrue(ok, reason)
        self.assertEqual(self.get_param('chunk_executor', 'state_rate_hz'), 5.0)
        self.assertAlmostEqual(self.rate(Float64MultiArray, '/chunk_executor/state', 10), 5.0,
                               delta=1.5)
        for name, v in (('control_rate_hz', 250.0), ('blend_mode', 'replace'),
                        ('max_chunk_age_s', 0.8)):
            ok, reason = self.set_param('chunk_executor', name, v)
            self.assertTrue(ok, f'{name}: {reason}')
            self.assertEqual(self.get_param('chunk_executor', name), v)

    def test_policy_node_applies_valid_changes_and_refuses_bad_ones(self):
        ok, out = lifecycle_set(self.node, 'configure')
        self.assertTrue(ok, out)
        ok, reason = self.set_param('policy_node', 'trigger_horizon_s', -1.0)
        self.assertFalse(ok)
        self.assertIn('policy_node.trigger_horizon_s=-1: must be >= 0', reason)
        ok, reason = self.set_param('policy_node', 'checkpoint_path', '/tmp/other')
        self.assertFalse(ok)
        self.assertIn('read-only at run time', reason)
        self.assertNotEqual(self.get_param('policy_node', 'checkpoint_path'), '/tmp/other')
        for name, v in (('trigger_horizon_s', 0.3), ('max_obs_age_s', 2.0),
                        ('instruction', 'place it'), ('trigger', 'rate'),
                        ('trigger_rate_hz', 4.0)):
            ok, reason = self.set_param('policy_node', name, v)
            self.assertTrue(ok, f'{name}: {reason}')
            self.assertEqual(self.get_param('policy_node', name), v)
        ok, reason = self.set_param('policy_node', 'trigger', 'sometimes')
        self.assertFalse(ok)
        self.assertEqual(self.get_param('policy_node', 'trigger'), 'rate')

    @unittest.skipUnless(USE_SIM, 'sim_node needs MuJoCo with an offscreen GL')
    def test_sim_node_applies_valid_changes_and_refuses_bad_ones(self):
        topic = f'camera/{CAMERA_NAMES[0]}/image_raw'
        ok, reason = self.set_param('sim_node', 'image_width', 128)
        self.assertFalse(ok)
        self.assertIn('read-only at run time', reason)
        ok, reason = self.set_param('sim_node', 'camera_rate_hz', 0.0)
        self.assertFalse(ok)
        self.assertIn('sim_node.camera_rate_hz=0: must be > 0', reason)
        ok, reason = self.set_param('sim_node', 'camera_rate_hz', 4.0)
        self.assertTrue(ok, reason)
        self.assertAlmostEqual(self.rate(Image, topic, SENSOR_QOS, 5), 4.0, delta=1.0)
