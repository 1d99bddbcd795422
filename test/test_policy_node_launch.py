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
launch_testing: chunk_executor + policy_node (tiny random policy) + a robot; chunks flow.

The robot is sim_node (MuJoCo) when it can run here, else a publisher in this test process
playing the same topics (``camera/<name>/image_raw``, ``joint_states``). policy_node is driven
through its lifecycle with ``ros2 lifecycle set`` (or the change_state service where the ros2
CLI is missing), then chunks (``action_chunk``) and executor commands
(``/forward_position_controller/commands``) must flow; after ``deactivate`` chunks stop.
Skipped cleanly without ROS 2.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import pytest

try:
    from launch import LaunchDescription  # noqa: I100 - only where ROS 2 is sourced
    from launch.actions import ExecuteProcess
    import launch_testing.actions
    import launch_testing.asserts
    from lifecycle_msgs.srv import ChangeState
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from sensor_msgs.msg import Image, JointState
    from std_msgs.msg import Float64MultiArray
    import torch  # noqa: F401 - the policy needs it
    from trajectory_msgs.msg import JointTrajectory

    from conftest import make_tiny_policy
    from vla_ros.ros.qos import SENSOR_QOS
    from vla_ros.sim.robot import CAMERA_NAMES, JOINT_NAMES
except ImportError as exc:
    pytest.skip(f'needs ROS 2, launch_testing and torch ({exc})', allow_module_level=True)


def sim_node_usable():
    """sim_node needs mujoco with an offscreen GL; probe in a subprocess."""
    try:
        import importlib.util
        if importlib.util.find_spec('vla_ros.ros.sim_node') is None:
            return False
        probe = ('import mujoco; m = mujoco.MjModel.from_xml_string("<mujoco/>"); '
                 'mujoco.Renderer(m, 16, 16)')
        return subprocess.run([sys.executable, '-c', probe], timeout=60,
                              capture_output=True).returncode == 0
    except Exception:  # noqa: BLE001 - any failure means: use the fake robot
        return False


USE_SIM = sim_node_usable()


def node_process(module, name, *params):
    cmd = [sys.executable, '-m', module, '--ros-args']
    for param in params:
        cmd += ['-p', param]
    return ExecuteProcess(cmd=cmd, name=name, output='screen',
                          additional_env={'MUJOCO_GL': os.environ.get('MUJOCO_GL', 'egl')})


@pytest.mark.launch_test
def generate_test_description():
    """Start the executor, the (unconfigured) policy node and, if it can run, sim_node."""
    checkpoint = make_tiny_policy(tempfile.mkdtemp(prefix='tiny_policy_'),
                                  cameras=CAMERA_NAMES, joints=JOINT_NAMES, dt=0.1)
    joints = '[' + ','.join(JOINT_NAMES) + ']'
    executor = node_process('vla_ros.ros.chunk_executor_node', 'chunk_executor',
                            f'joint_names:={joints}', 'control_rate_hz:=100.0')
    policy = node_process('vla_ros.ros.policy_node', 'policy_node',
                          f'checkpoint_path:={checkpoint}', 'trigger:=horizon',
                          'trigger_horizon_s:=0.5', 'max_obs_age_s:=1.0',
                          'max_sync_skew_s:=0.2', 'instruction:=pick up the cube')
    actions = [executor, policy]
    if USE_SIM:
        actions.append(node_process('vla_ros.ros.sim_node', 'sim_node',
                                    'camera_rate_hz:=10.0'))
    return (LaunchDescription(actions + [launch_testing.actions.ReadyToTest()]),
            {'policy': policy, 'executor': executor})


class FakeRobot:
    """Publishes images and joint states at sensor rates from this process."""

    def __init__(self, node):
        self.node = node
        self.cams = {c: node.create_publisher(Image, f'camera/{c}/image_raw', SENSOR_QOS)
                     for c in CAMERA_NAMES}
        self.joints = node.create_publisher(JointState, 'joint_states', SENSOR_QOS)
        node.create_timer(0.02, self.tick)
        self.count = 0

    def tick(self):
        stamp = self.node.get_clock().now().to_msg()
        self.count += 1
        if self.count % 5 == 0:
            for pub in self.cams.values():
                msg = Image(encoding='rgb8', height=32, width=32, step=96, data=bytes(3072))
                msg.header.stamp = stamp
                pub.publish(msg)
        js = JointState(name=list(JOINT_NAMES), position=[0.0] * len(JOINT_NAMES))
        js.header.stamp = stamp
        self.joints.publish(js)


def lifecycle_set(node, transition):
    """``ros2 lifecycle set /policy_node <transition>``, or the service where no CLI exists."""
    if shutil.which('ros2'):
        # The ros2 daemon caches the graph: an earlier launch test's /policy_node (same name,
        # same domain, gone now) can still be in it and take the call; start it afresh.
        subprocess.run(['ros2', 'daemon', 'stop'], capture_output=True, timeout=60)
        proc = subprocess.run(['ros2', 'lifecycle', 'set', '/policy_node', transition],
                              capture_output=True, text=True, timeout=180)
        return (proc.returncode == 0 and 'successful' in proc.stdout.lower(),
                proc.stdout + proc.stderr)
    ids = {'configure': 1, 'cleanup': 2, 'activate': 3, 'deactivate': 4}
    client = node.create_client(ChangeState, '/policy_node/change_state')
    if not client.wait_for_service(timeout_sec=60):
        return False, 'no change_state service'
    request = ChangeState.Request()
    request.transition.id = ids[transition]
    future = client.call_async(request)
    deadline = time.time() + 180
    while not future.done() and time.time() < deadline:
        time.sleep(0.05)
    return bool(future.done() and future.result().success), 'service'


class TestChunksFlow(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        rclpy.init()
        cls.node = rclpy.create_node('launch_probe')
        cls.chunks, cls.commands = [], []
        cls.node.create_subscription(JointTrajectory, 'action_chunk', cls.chunks.append, 10)
        cls.node.create_subscription(Float64MultiArray, '/forward_position_controller/commands',
                                     cls.commands.append, 10)
        if not USE_SIM:
            cls.robot = FakeRobot(cls.node)
        cls.executor = SingleThreadedExecutor()
        cls.executor.add_node(cls.node)
        cls.thread = threading.Thread(target=cls.executor.spin, daemon=True)
        cls.thread.start()

    @classmethod
    def tearDownClass(cls):
        cls.executor.shutdown()
        cls.node.destroy_node()
        rclpy.shutdown()

    def wait_for(self, predicate, timeout_s):
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        return False

    def test_lifecycle_chunks_and_commands(self):
        ok, out = lifecycle_set(self.node, 'configure')
        self.assertTrue(ok, out)
        ok, out = lifecycle_set(self.node, 'activate')
        self.assertTrue(ok, out)
        self.assertTrue(self.wait_for(lambda: len(self.chunks) >= 2, 120),
                        f'{len(self.chunks)} chunks')
        self.assertTrue(self.wait_for(lambda: len(self.commands) >= 20, 60),
                        f'{len(self.commands)} commands')
        chunk = self.chunks[-1]
        self.assertEqual(list(chunk.joint_names), list(JOINT_NAMES))
        self.assertEqual(len(self.commands[-1].data), len(JOINT_NAMES))
        ok, out = lifecycle_set(self.node, 'deactivate')
        self.assertTrue(ok, out)
        time.sleep(1.0)                       # an inference in flight may still finish
        before = len(self.chunks)
        time.sleep(2.0)
        self.assertEqual(len(self.chunks), before, 'chunks kept coming after deactivate')
        ok, out = lifecycle_set(self.node, 'cleanup')
        self.assertTrue(ok, out)


@launch_testing.post_shutdown_test()
class TestShutdown(unittest.TestCase):

    def test_exit_codes(self, proc_info):
        # SIGINT from launch at the end: 0, or -2 / -15 if a process was killed on the way.
        launch_testing.asserts.assertExitCodes(proc_info, allowable_exit_codes=[0, -2, -15])
