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
policy_node under a real rclpy (skipped without ROS 2): lifecycle, triggers, failures.

The node runs in this process on a MultiThreadedExecutor next to a helper node that plays the
robot (images, joint states, executor state) and listens for chunks and diagnostics.
"""

import math
import subprocess
import sys
import threading
import time

import pytest

try:
    from diagnostic_msgs.msg import DiagnosticArray  # noqa: I100 - only where ROS 2 is sourced
    from lifecycle_msgs.msg import State
    import numpy as np
    import rclpy
    from rclpy.duration import Duration
    from rclpy.executors import MultiThreadedExecutor
    from rclpy.lifecycle import TransitionCallbackReturn
    from rclpy.parameter import Parameter
    from sensor_msgs.msg import Image, JointState
    from std_msgs.msg import Float64MultiArray
    from std_srvs.srv import Trigger
    import torch  # noqa: F401 - the policy needs it
    from trajectory_msgs.msg import JointTrajectory

    from conftest import make_tiny_policy
    from vla_ros.control.executor import STATE_FIELDS
    from vla_ros.ros.policy_node import PolicyNode
    from vla_ros.ros.qos import SENSOR_QOS
except ImportError as exc:  # no ROS 2 sourced, or no torch
    pytest.skip(f'needs ROS 2 and torch ({exc})', allow_module_level=True)

JOINTS = ('j0', 'j1', 'j2')


@pytest.fixture(scope='module')
def tiny_dir(tmp_path_factory):
    return make_tiny_policy(tmp_path_factory.mktemp('tiny'), joints=JOINTS)


class Robot:
    """Helper node: publishes sensors, collects chunks and diagnostics."""

    def __init__(self):
        self.node = rclpy.create_node('fake_robot')
        n = self.node
        self.images = {c: n.create_publisher(Image, f'camera/{c}/image_raw', SENSOR_QOS)
                       for c in ('scene', 'wrist')}
        self.joints = n.create_publisher(JointState, 'joint_states', SENSOR_QOS)
        self.state = n.create_publisher(Float64MultiArray, 'chunk_executor/state', 10)
        self.chunks, self.diagnostics = [], []
        n.create_subscription(JointTrajectory, 'action_chunk', self.chunks.append, 10)
        n.create_subscription(DiagnosticArray, '/diagnostics', self.diagnostics.append, 10)
        self.infer = n.create_client(Trigger, 'policy_node/infer')

    def publish(self, age_s=0.0, joint_order=('j2', 'extra', 'j0', 'j1'), positions=None):
        stamp = self.node.get_clock().now() - Duration(seconds=age_s)
        for cam, pub in self.images.items():
            msg = Image(encoding='rgb8', height=24, width=32, step=32 * 3 + 4)
            msg.header.stamp = stamp.to_msg()
            msg.data = bytes(24 * (32 * 3 + 4))
            pub.publish(msg)
        js = JointState(name=list(joint_order),
                        position=positions or [0.1 * i for i in range(4)])
        js.header.stamp = stamp.to_msg()
        self.joints.publish(js)
        return stamp

    def call_infer(self, timeout_s=60.0):
        assert self.infer.wait_for_service(timeout_sec=10.0)
        future = self.infer.call_async(Trigger.Request())
        deadline = time.time() + timeout_s
        while not future.done() and time.time() < deadline:
            time.sleep(0.02)
        assert future.done(), 'infer service did not answer'
        return future.result()


def wait_for(predicate, timeout_s=20.0):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def system(tiny_dir):
    rclpy.init()
    node = PolicyNode(parameter_overrides=[
        Parameter('checkpoint_path', value=str(tiny_dir)),
        Parameter('trigger', value='horizon'),
        Parameter('diagnostics_period_s', value=0.2),
        Parameter('max_obs_age_s', value=1.0),
    ])
    robot = Robot()
    executor = MultiThreadedExecutor(num_threads=4)
    executor.add_node(node)
    executor.add_node(robot.node)
    thread = threading.Thread(target=executor.spin, daemon=True)
    thread.start()
    yield node, robot
    executor.shutdown()
    node.destroy_node()
    robot.node.destroy_node()
    rclpy.shutdown()
    thread.join(timeout=5)


def configure_and_activate(node):
    assert node.trigger_configure() == TransitionCallbackReturn.SUCCESS
    assert node.trigger_activate() == TransitionCallbackReturn.SUCCESS
    assert node._state_machine.current_state[0] == State.PRIMARY_STATE_ACTIVE


def test_service_trigger_publishes_a_chunk_in_robot_order(system):
    node, robot = system
    configure_and_activate(node)
    time.sleep(0.3)                       # discovery
    stamp = robot.publish()
    assert wait_for(lambda: node.runner.inputs._joint_state is not None)
    response = robot.call_infer()
    assert response.success, response.message
    assert wait_for(lambda: robot.chunks)
    msg = robot.chunks[-1]
    assert msg.joint_names == ['j2', 'j0', 'j1']
    assert (msg.header.stamp.sec, msg.header.stamp.nanosec) == \
        (stamp.to_msg().sec, stamp.to_msg().nanosec)
    steps = [p.time_from_start.sec + 1e-9 * p.time_from_start.nanosec for p in msg.points]
    np.testing.assert_allclose(steps, 0.1 * np.arange(len(msg.points)), atol=1e-9)
    assert wait_for(lambda: any(kv.key == 'chunks_total' and kv.value == '1'
                                for d in robot.diagnostics for s in d.status
                                for kv in s.values))


def test_horizon_trigger_from_executor_state(system):
    node, robot = system
    configure_and_activate(node)
    time.sleep(0.3)
    robot.publish()
    assert wait_for(lambda: node.runner.inputs._joint_state is not None)
    state = [0.0] * len(STATE_FIELDS)
    state[STATE_FIELDS.index('newest_chunk_t0')] = float('nan')
    robot.state.publish(Float64MultiArray(data=state))
    assert wait_for(lambda: robot.chunks), 'no chunk after remaining_s=0'


def test_stale_input_is_refused_and_counted(system):
    node, robot = system
    configure_and_activate(node)
    time.sleep(0.3)
    robot.publish(age_s=5.0)
    assert wait_for(lambda: node.runner.inputs._joint_state is not None)
    response = robot.call_infer()
    assert not response.success and 'stale' in response.message
    assert node.runner.stats.dropped['stale'] == 1 and not robot.chunks


def test_a_model_that_raises_does_not_kill_the_node(system):
    node, robot = system
    configure_and_activate(node)
    time.sleep(0.3)
    policy = node.runner.policy
    good = policy.predict_chunk

    def boom(obs, **kwargs):
        raise RuntimeError('CUDA out of memory (simulated)')
    policy.predict_chunk = boom
    robot.publish()
    assert wait_for(lambda: node.runner.inputs._joint_state is not None)
    response = robot.call_infer()
    assert not response.success and 'out of memory' in response.message
    assert not robot.chunks
    assert wait_for(lambda: any(s.level == b'\x02' and 'out of memory' in s.message
                                for d in robot.diagnostics for s in d.status))
    policy.predict_chunk = good
    robot.publish()
    response = robot.call_infer()
    assert response.success, response.message
    assert wait_for(lambda: robot.chunks)


def test_deactivate_stops_inference_and_cleanup_frees_the_model(system):
    node, robot = system
    configure_and_activate(node)
    assert node.trigger_deactivate() == TransitionCallbackReturn.SUCCESS
    robot.publish()
    response = robot.call_infer()
    assert not response.success and 'not active' in response.message
    assert node.trigger_cleanup() == TransitionCallbackReturn.SUCCESS
    assert node.runner is None
    configure_and_activate(node)      # and it comes back


def test_bad_parameter_exits_non_zero_with_one_line():
    proc = subprocess.run(
        [sys.executable, '-m', 'vla_ros.ros.policy_node', '--ros-args', '-p', 'trigger:=often'],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    fatal = [line for line in lines if 'FATAL' in line]
    assert len(fatal) == 1, lines
    assert "policy_node.trigger='often': must be one of horizon, rate, service" in fatal[0]


def test_nan_and_huge_joint_states_are_refused_or_reported_never_fatal(system):
    node, robot = system
    configure_and_activate(node)
    time.sleep(0.3)
    robot.publish(positions=[0.0, float('nan'), 0.0, 0.0])     # NaN on an unused joint: fine
    assert wait_for(lambda: node.runner.inputs._joint_state is not None)
    assert robot.call_infer().success
    robot.publish(positions=[float('nan'), 0.0, 0.0, 0.0])     # NaN on j2: refused
    response = robot.call_infer()
    assert not response.success and 'bad_input' in response.message
    robot.publish(positions=[1e305, 0.0, -1e305, 0.0])         # huge: no chunk, node up
    response = robot.call_infer()
    if response.success:       # a model may saturate; then every value must be finite
        assert all(math.isfinite(v) for pt in robot.chunks[-1].points for v in pt.positions)
    else:
        assert 'Error' in response.message
    robot.publish()
    response = robot.call_infer()
    assert response.success, response.message
