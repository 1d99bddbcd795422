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

configure loads the policy and runs a warm-up inference, activate starts the trigger, deactivate
stops inferring (the executor then holds the arm), cleanup frees the model. Sensor callbacks only
store the latest message; inference runs in its own mutually exclusive callback group under a
MultiThreadedExecutor, so one is in flight at a time and the subscriptions never wait for it.
"""

from __future__ import annotations

from pathlib import Path
import time
import traceback

from diagnostic_msgs.msg import DiagnosticArray
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup, ReentrantCallbackGroup
from rclpy.executors import MultiThreadedExecutor
from rclpy.lifecycle import LifecycleNode, TransitionCallbackReturn
from sensor_msgs.msg import CompressedImage, Image, JointState
from std_msgs.msg import Float64MultiArray, String
from std_srvs.srv import Trigger
from trajectory_msgs.msg import JointTrajectory

from vla_ros.config import PolicyNodeConfig
from vla_ros.inference_stats import InferenceStats
from vla_ros.inference_trigger import InferenceTrigger
from vla_ros.observation import ObservationAssembler, Refusal, slot_mapping, WarningThrottle
from vla_ros.policy_runner import PolicyRunner
from vla_ros.ros.params import declare_config, read_config, run_node
from vla_ros.ros.policy_conversions import (chunk_to_msg, diagnostics_msg, executor_horizon,
                                            make_image_decoder)
from vla_ros.ros.qos import LATCHED_QOS, RELIABLE_QOS, SENSOR_QOS

SUCCESS, FAILURE = TransitionCallbackReturn.SUCCESS, TransitionCallbackReturn.FAILURE


class PolicyNode(LifecycleNode):
    """The ROS shell around `PolicyRunner`: subscriptions, triggers, chunk publisher."""

    def __init__(self, **kwargs):
        super().__init__('policy_node', **kwargs)
        self.cfg = declare_config(self, PolicyNodeConfig)   # a bad value exits before spinning
        self._infer_group = MutuallyExclusiveCallbackGroup()
        self._io_group = ReentrantCallbackGroup()
        self._decode, backend = make_image_decoder()
        self.get_logger().info(f'raw images decoded with {backend}')
        self.runner = None
        self._handles = []
        self._active = False

    # ---- lifecycle ---------------------------------------------------------------------------
    def on_configure(self, state) -> TransitionCallbackReturn:
        """Load the policy, warm it up, create the subscriptions and publishers."""
        try:
            self.cfg = cfg = read_config(self, PolicyNodeConfig)
            self.runner = PolicyRunner.load(cfg, log=self.get_logger().info)
            slots = slot_mapping(cfg.camera_topics, cfg.camera_slots, self.runner.camera_names)
        except Exception as exc:  # noqa: BLE001 - a failed configure must leave the node up
            self.get_logger().error(f'configure failed: {type(exc).__name__}: {exc}')
            self.runner = None
            return FAILURE
        self.assembler = ObservationAssembler(slots.values(), self.runner.state_names,
                                              cfg.max_obs_age_s, cfg.max_sync_skew_s,
                                              cfg.instruction)
        self.trigger = InferenceTrigger(cfg.trigger, cfg.trigger_horizon_s, cfg.horizon_rearm_s)
        self.stats = InferenceStats()
        self.throttle = WarningThrottle(cfg.warn_period_s)
        self._chunk_pub = self.create_lifecycle_publisher(JointTrajectory, 'action_chunk',
                                                          RELIABLE_QOS)
        self._diag_pub = self.create_publisher(DiagnosticArray, '/diagnostics', RELIABLE_QOS)
        self._handles += [(self.destroy_lifecycle_publisher, self._chunk_pub),
                          (self.destroy_publisher, self._diag_pub)]
        for topic, slot in slots.items():
            compressed = cfg.compressed and cfg.compressed[cfg.camera_topics.index(topic)]
            self._sub(CompressedImage if compressed else Image, topic, SENSOR_QOS,
                      lambda msg, slot=slot: self.assembler.set_image(slot, msg))
        self._sub(JointState, 'joint_states', SENSOR_QOS, self.assembler.set_joint_state)
        for qos in (RELIABLE_QOS, LATCHED_QOS):   # live, and the latest latched one
            self._sub(String, 'instruction', qos,
                      lambda msg: self.assembler.set_instruction(msg.data))
        self._sub(Float64MultiArray, cfg.executor_state_topic, RELIABLE_QOS,
                  self._on_executor_state)
        self._guard = self.create_guard_condition(lambda: self._run('horizon'),
                                                  self._infer_group)
        self._handles += [
            (self.destroy_guard_condition, self._guard),
            (self.destroy_service, self.create_service(Trigger, '~/infer', self._on_service,
                                                       callback_group=self._infer_group)),
            (self.destroy_timer, self.create_timer(cfg.diagnostics_period_s, self._report,
                                                   callback_group=self._io_group))]
        self.get_logger().info(f'configured: cameras {slots}, joints '
                               f'{list(self.runner.joint_names)}, trigger {cfg.trigger}')
        return SUCCESS

    def on_activate(self, state) -> TransitionCallbackReturn:
        """Start triggering inferences and publishing chunks."""
        if self.cfg.trigger == 'rate':
            self._rate_timer = self.create_timer(1.0 / self.cfg.trigger_rate_hz, self._on_tick,
                                                 callback_group=self._infer_group)
        self._active = True
        return super().on_activate(state)

    def on_deactivate(self, state) -> TransitionCallbackReturn:
        """Stop inferring; the executor finishes its chunk and holds."""
        self._active = False
        if getattr(self, '_rate_timer', None) is not None:
            self.destroy_timer(self._rate_timer)
            self._rate_timer = None
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

    # ---- triggers ----------------------------------------------------------------------------
    def _on_executor_state(self, msg) -> None:
        remaining, newest_t0 = executor_horizon(msg)
        if self._active and self.trigger.on_horizon(remaining, self._now(), newest_t0):
            self._guard.trigger()

    def _on_tick(self) -> None:
        if self._active and self.trigger.on_tick():
            self._run('rate')

    def _on_service(self, request, response):
        if not self._active:
            response.success, response.message = False, 'policy_node is not active'
        elif not self.trigger.on_request():
            response.success, response.message = False, 'an inference is already in flight'
        else:
            response.success, response.message = self._run('service')
        return response

    # ---- one inference: assemble, predict, publish -------------------------------------------
    def _run(self, source: str) -> tuple[bool, str]:
        published, text, t0 = False, '', float('-inf')
        try:
            now = self._now()
            obs = self.assembler.assemble(now, self._decode)
            start = time.perf_counter()
            chunk = self.runner.predict(obs)
            latency = time.perf_counter() - start
            if self._active:
                self._chunk_pub.publish(chunk_to_msg(chunk, obs.stamp_ns))
                self.stats.record_chunk(latency, now - obs.stamp, self._now())
                published, t0 = True, chunk.t0
            text = f'{source}: chunk of {chunk.horizon} steps in {1e3 * latency:.0f} ms'
        except Refusal as refusal:
            self.stats.record_drop(refusal.cause)
            text = f'observation refused ({refusal.cause}): {refusal}'
            if self.throttle.allow(refusal.cause, self._now()):
                self.get_logger().warning(text)
        except Exception as exc:  # noqa: BLE001 - a model failure must not kill the node
            text = f'{type(exc).__name__}: {exc}'
            self.stats.record_error(text)
            # Where it was raised, so a model error can be told from bad input at a glance;
            # the whole traceback at debug level.
            where = traceback.extract_tb(exc.__traceback__)[-1]
            self.get_logger().error(f'inference failed, no chunk published: {text} (at '
                                    f'{Path(where.filename).name}:{where.lineno} in '
                                    f'{where.name})')
            self.get_logger().debug(''.join(traceback.format_exception(exc)))
        finally:
            self.trigger.finish(published, self._now(), t0)
        return published, text

    def _report(self) -> None:
        now = self._now()
        level, message = 'ok', 'active' if self._active else 'inactive'
        if self.stats.last_error and self.stats.errors != getattr(self, '_errors_seen', 0):
            level, message = 'error', f'inference failed: {self.stats.last_error}'
        self._errors_seen = self.stats.errors
        self._diag_pub.publish(diagnostics_msg(self.get_clock().now().to_msg(),
                                               'policy_node: inference', level, message,
                                               self.stats.values(now)))
        if self._active:
            self.get_logger().info(self.stats.summary(now))

    # ---- helpers -----------------------------------------------------------------------------
    def _sub(self, msg_type, topic, qos, callback) -> None:
        self._handles.append((self.destroy_subscription, self.create_subscription(
            msg_type, topic, callback, qos, callback_group=self._io_group)))

    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _release(self) -> None:
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
