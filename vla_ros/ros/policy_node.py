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
policy_node: cameras, joint states and an instruction in; action chunks out (a managed node).

A thin shell around `vla_ros.runtime.runner.PolicyRunner`, the ROS-free runtime the in-process
loop runs too: configure loads the policy and runs a warm-up inference, activate starts the
trigger, deactivate stops inferring (the executor then holds the arm), cleanup frees the model.
Sensor callbacks only store the latest message; inference runs in its own mutually exclusive
callback group under a MultiThreadedExecutor, so one is in flight at a time and the
subscriptions never wait for it. ``ros2 param set`` applies a valid change at once (trigger,
rates, observation checks, instruction, num_steps) and refuses an invalid one, or one of a
read-only parameter while configured, with the rule that failed.
"""

from __future__ import annotations

from diagnostic_msgs.msg import DiagnosticArray
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup, ReentrantCallbackGroup
from rclpy.executors import MultiThreadedExecutor
from rclpy.lifecycle import LifecycleNode, TransitionCallbackReturn
from sensor_msgs.msg import CompressedImage, Image, JointState
from std_msgs.msg import Float64MultiArray, String
from std_srvs.srv import Trigger
from trajectory_msgs.msg import JointTrajectory

from vla_ros.config import PolicyNodeConfig
from vla_ros.messages.trajectory import chunk_from_trajectory, MalformedChunk
from vla_ros.ros.conversions import (chunk_to_msg, diagnostics_msg, executor_horizon,
                                     make_image_decoder, stamp_ns)
from vla_ros.ros.params import declare_config, read_config, run_node, watch_config
from vla_ros.ros.qos import LATCHED_QOS, RELIABLE_QOS, SENSOR_QOS
from vla_ros.runtime.runner import PolicyRunner

SUCCESS, FAILURE = TransitionCallbackReturn.SUCCESS, TransitionCallbackReturn.FAILURE


class PolicyNode(LifecycleNode):
    """The ROS shell around `PolicyRunner`: subscriptions, triggers, chunk publisher."""

    def __init__(self, **kwargs):
        super().__init__('policy_node', **kwargs)
        self.cfg = declare_config(self, PolicyNodeConfig)   # a bad value exits before spinning
        self._infer_group = MutuallyExclusiveCallbackGroup()
        self._io_group = ReentrantCallbackGroup()
        self._decode = make_image_decoder()
        self.runner = None
        self._handles = []
        self._owned_timers = {}
        self._active = False
        watch_config(self, PolicyNodeConfig, lambda: self.cfg, self._apply,
                     read_only_active=lambda: self.runner is not None)

    # ---- lifecycle ---------------------------------------------------------------------------
    def on_configure(self, state) -> TransitionCallbackReturn:
        """Load the policy, warm it up, create the subscriptions and publishers."""
        try:
            self.cfg = cfg = read_config(self, PolicyNodeConfig)
            self.runner = PolicyRunner.load(cfg, self._decode, log=self.get_logger().info)
        except Exception as exc:  # noqa: BLE001 - a failed configure must leave the node up
            self.get_logger().error(f'configure failed: {type(exc).__name__}: {exc}')
            self.runner = None
            return FAILURE
        inputs = self.runner.inputs
        self._chunk_pub = self.create_lifecycle_publisher(JointTrajectory, 'action_chunk',
                                                          RELIABLE_QOS)
        self._diag_pub = self.create_publisher(DiagnosticArray, '/diagnostics', RELIABLE_QOS)
        self._handles += [(self.destroy_lifecycle_publisher, self._chunk_pub),
                          (self.destroy_publisher, self._diag_pub)]
        for topic, slot in self.runner.camera_topics.items():
            compressed = cfg.compressed and cfg.compressed[cfg.camera_topics.index(topic)]
            self._sub(CompressedImage if compressed else Image, topic, SENSOR_QOS,
                      lambda msg, slot=slot: inputs.set_image(slot, stamp_ns(msg), msg))
        self._sub(JointState, 'joint_states', SENSOR_QOS,
                  lambda msg: inputs.set_joint_state(stamp_ns(msg), msg.name, msg.position))
        for qos in (RELIABLE_QOS, LATCHED_QOS):   # live, and the latest latched one
            self._sub(String, 'instruction', qos, lambda msg: inputs.set_instruction(msg.data))
        self._sub(Float64MultiArray, cfg.executor_state_topic, RELIABLE_QOS,
                  self._on_executor_state)
        self._sub(JointTrajectory, cfg.executor_plan_topic, RELIABLE_QOS, self._on_plan)
        self._guard = self.create_guard_condition(lambda: self._run('horizon'),
                                                  self._infer_group)
        self._handles += [
            (self.destroy_guard_condition, self._guard),
            (self.destroy_service, self.create_service(Trigger, '~/infer', self._on_service,
                                                       callback_group=self._infer_group))]
        self._start_timers()
        self.get_logger().info(f'configured: cameras {dict(self.runner.camera_topics)}, joints '
                               f'{list(self.runner.joint_names)}, trigger {cfg.trigger}')
        return SUCCESS

    def on_activate(self, state) -> TransitionCallbackReturn:
        """Start triggering inferences and publishing chunks."""
        self._active = True
        self._start_timers()
        return super().on_activate(state)

    def on_deactivate(self, state) -> TransitionCallbackReturn:
        """Stop inferring; the executor finishes its chunk and holds."""
        self._active = False
        self._start_timers()
        return super().on_deactivate(state)

    def on_cleanup(self, state) -> TransitionCallbackReturn:
        """Drop the model and every subscription, publisher and timer."""
        self._release()
        return SUCCESS

    def on_shutdown(self, state) -> TransitionCallbackReturn:
        """Release everything on the way out."""
        self._active = False
        self._release()
        return SUCCESS

    def _apply(self, cfg: PolicyNodeConfig) -> None:
        """Take a validated parameter change (read by the next configure if unconfigured)."""
        self.cfg = cfg
        if self.runner is not None:
            self.runner.apply(cfg)
            self._start_timers()

    def _start_timers(self) -> None:
        """(Re)create the diagnostics timer and, when active in rate mode, the rate timer."""
        for timer in self._owned_timers.values():
            self.destroy_timer(timer)
        self._owned_timers = {}
        if self.runner is None:
            return
        self._owned_timers['diagnostics'] = self.create_timer(
            self.cfg.diagnostics_period_s, self._report, callback_group=self._io_group)
        if self._active and self.cfg.trigger == 'rate':
            self._owned_timers['rate'] = self.create_timer(
                1.0 / self.cfg.trigger_rate_hz, self._on_tick, callback_group=self._infer_group)

    # ---- triggers ----------------------------------------------------------------------------
    def _on_executor_state(self, msg) -> None:
        remaining, newest_t0 = executor_horizon(msg)
        if self._active and self.runner.trigger.on_horizon(remaining, self._now(), newest_t0):
            self._guard.trigger()

    def _on_plan(self, msg) -> None:
        try:
            self.runner.set_plan(chunk_from_trajectory(msg))
        except MalformedChunk:
            self.runner.set_plan(None)      # real-time chunking then samples without it

    def _on_tick(self) -> None:
        if self._active and self.runner.trigger.on_tick():
            self._run('rate')

    def _on_service(self, request, response):
        if not self._active:
            response.success, response.message = False, 'policy_node is not active'
        elif not self.runner.trigger.on_request():
            response.success, response.message = False, 'an inference is already in flight'
        else:
            response.success, response.message = self._run('service')
        return response

    # ---- one inference: the runtime infers, the node publishes -------------------------------
    def _run(self, source: str) -> tuple[bool, str]:
        runner = self.runner
        inference = runner.infer(self._now(), source)
        published = False
        try:
            if inference.chunk is not None and self._active:
                self._chunk_pub.publish(chunk_to_msg(inference.chunk,
                                                     inference.observation.stamp_ns))
                published = True
        finally:
            runner.complete(inference, published, self._now())
        if inference.level == 'warn':
            self.get_logger().warning(inference.message)
        elif inference.level == 'error':
            self.get_logger().error(inference.message)
            self.get_logger().debug(inference.detail)
        return published, inference.message

    def _report(self) -> None:
        now = self._now()
        stats = self.runner.stats
        level, message = 'ok', 'active' if self._active else 'inactive'
        if stats.last_error and stats.errors != getattr(self, '_errors_seen', 0):
            level, message = 'error', f'inference failed: {stats.last_error}'
        self._errors_seen = stats.errors
        self._diag_pub.publish(diagnostics_msg(self.get_clock().now().to_msg(),
                                               'policy_node: inference', level, message,
                                               stats.values(now), 'policy'))
        if self._active:
            self.get_logger().info(stats.summary(now))

    # ---- helpers -----------------------------------------------------------------------------
    def _sub(self, msg_type, topic, qos, callback) -> None:
        self._handles.append((self.destroy_subscription, self.create_subscription(
            msg_type, topic, callback, qos, callback_group=self._io_group)))

    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _release(self) -> None:
        for timer in self._owned_timers.values():
            self.destroy_timer(timer)
        self._owned_timers = {}
        for destroy, handle in self._handles:
            destroy(handle)
        self._handles = []
        if self.runner is not None:
            self.runner.close()
        self.runner = None


def spin(node: PolicyNode) -> None:
    """Spin `node` on a MultiThreadedExecutor (inference and I/O in separate groups)."""
    executor = MultiThreadedExecutor(num_threads=4)
    executor.add_node(node)
    executor.spin()


def main(args=None) -> int:
    """Entry point of ``ros2 run vla_ros policy_node``."""
    return run_node(PolicyNode, spin=spin, args=args)


if __name__ == '__main__':
    raise SystemExit(main())
