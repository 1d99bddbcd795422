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
The chunk_executor node: action chunks in, limited joint commands at control rate out.

A thin shell around `vla_ros.runtime.execution.ExecutorRunner` (the ROS-free logic the
in-process loop runs too); see docs/executor.md for the topics, services, parameters and the
``~/state`` layout. Parameters can be changed at run time (``ros2 param set``): a valid change
is applied at once, an invalid or read-only one is refused with the rule that failed.
"""

from __future__ import annotations

import sys

from builtin_interfaces.msg import Duration
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.node import Node
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray, MultiArrayDimension
from std_srvs.srv import Trigger
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

from vla_ros.config import ExecutorConfig
from vla_ros.control.executor import STATE_FIELDS
from vla_ros.messages.stamps import to_seconds
from vla_ros.ros.conversions import diagnostics_msg
from vla_ros.ros.params import declare_config, run_node, watch_config
from vla_ros.ros.qos import RELIABLE_QOS, SENSOR_QOS
from vla_ros.runtime.execution import ExecutorRunner

COMMAND_TYPES = {'forward_position': Float64MultiArray, 'joint_trajectory': JointTrajectory,
                 'joint_state': JointState}
WARN_PERIOD_S = 2.0


class ChunkExecutorNode(Node):
    """Subscribes chunks and joint states; publishes commands, state and diagnostics."""

    def __init__(self):
        """Read the config (a bad value raises ConfigError) and wire the node."""
        super().__init__('chunk_executor')
        cfg = self.cfg = declare_config(self, ExecutorConfig)
        self.runner = ExecutorRunner(cfg)
        self.cmd_pub = self.create_publisher(COMMAND_TYPES[cfg.command_interface],
                                             cfg.command_topic, RELIABLE_QOS)
        self.state_pub = self.create_publisher(Float64MultiArray, '~/state', RELIABLE_QOS)
        self.diag_pub = self.create_publisher(DiagnosticArray, '/diagnostics', RELIABLE_QOS)
        self.create_subscription(JointTrajectory, 'action_chunk', self.on_chunk, RELIABLE_QOS)
        self.create_subscription(JointState, 'joint_states', self.on_joint_state, SENSOR_QOS)
        self.create_service(Trigger, '~/pause', self.on_pause)
        self.create_service(Trigger, '~/resume', self.on_resume)
        self.create_service(Trigger, '~/resync', self.on_resync)
        self._rate_timers = {}
        self.start_timers(cfg)
        watch_config(self, ExecutorConfig, lambda: self.cfg, self.apply)

    def start_timers(self, cfg: ExecutorConfig) -> None:
        """(Re)create the control, state and diagnostics timers at the configured rates."""
        for timer in self._rate_timers.values():
            self.destroy_timer(timer)
        self.period_s = 1.0 / cfg.control_rate_hz
        self._rate_timers = {
            'tick': self.create_timer(self.period_s, self.on_tick),
            'state': self.create_timer(1.0 / cfg.state_rate_hz, self.publish_state),
            'diagnostics': self.create_timer(cfg.diagnostics_period_s,
                                             self.publish_diagnostics)}

    def apply(self, cfg: ExecutorConfig) -> None:
        """Take a validated parameter change: the core first, then the timers if rates moved."""
        old, self.cfg = self.cfg, cfg
        self.runner.apply(cfg)
        rates = ('control_rate_hz', 'state_rate_hz', 'diagnostics_period_s')
        if any(getattr(old, name) != getattr(cfg, name) for name in rates):
            self.start_timers(cfg)

    def now(self) -> float:
        """Return the node clock now [s] (sim time when use_sim_time)."""
        return self.get_clock().now().nanoseconds * 1e-9

    def on_joint_state(self, msg: JointState) -> None:
        """Store the latest joint state."""
        self.runner.set_joint_state(msg.name, msg.position, to_seconds(msg.header.stamp))

    def on_chunk(self, msg: JointTrajectory) -> None:
        """Hand a chunk message to the runtime; warn on rejects, report a new horizon at once."""
        result, note = self.runner.offer_message(msg, self.now())
        if result.accepted:
            if note:
                self.get_logger().info(note)
            self.publish_state()    # the policy sees the new horizon without waiting
        else:
            self.get_logger().warn(note, throttle_duration_sec=WARN_PERIOD_S)

    def on_tick(self) -> None:
        """Compute and publish one command at control rate."""
        cmd = self.runner.tick(self.now())
        if cmd is None:
            if self.runner.waiting_for_joint_states():
                self.get_logger().warn('waiting for joint_states with every joint of '
                                       f'{list(self.runner.joint_names)}',
                                       throttle_duration_sec=WARN_PERIOD_S)
            return
        positions, velocities = cmd.positions.tolist(), cmd.velocities.tolist()
        kind = self.cfg.command_interface
        if kind == 'forward_position':
            msg = Float64MultiArray(data=positions)
        elif kind == 'joint_trajectory':
            # Stamp 0 means "start now"; one period ahead lets the controller interpolate.
            point = JointTrajectoryPoint(positions=positions, velocities=velocities,
                                         time_from_start=Duration(
                                             nanosec=int(self.period_s * 1e9)))
            msg = JointTrajectory(joint_names=list(self.runner.joint_names), points=[point])
        else:
            msg = JointState(name=list(self.runner.joint_names), position=positions,
                             velocity=velocities)
            msg.header.stamp = self.get_clock().now().to_msg()
        self.cmd_pub.publish(msg)

    def publish_state(self) -> None:
        """Publish the remaining horizon, mode and counters on ~/state."""
        msg = Float64MultiArray(data=self.runner.state_vector(self.now()))
        msg.layout.dim = [MultiArrayDimension(label=','.join(STATE_FIELDS),
                                              size=len(STATE_FIELDS), stride=len(STATE_FIELDS))]
        self.state_pub.publish(msg)

    def publish_diagnostics(self) -> None:
        """Publish the executor diagnostics."""
        level, message, values = self.runner.diagnostics()
        self.diag_pub.publish(diagnostics_msg(
            self.get_clock().now().to_msg(), f'{self.get_name()}: chunk executor', level,
            message, {k: str(v) for k, v in values.items()}, self.get_fully_qualified_name()))

    def on_pause(self, request, response):
        """Start an e-stop style stop on the next tick."""
        response.success, response.message = self.runner.pause(self.now())
        return response

    def on_resume(self, request, response):
        """Resume from the measured joint state."""
        response.success, response.message = self.runner.resume()
        return response

    def on_resync(self, request, response):
        """Start over from the measured state (after a simulation reset)."""
        response.success, response.message = self.runner.resync(self.now())
        return response


def main(args=None) -> None:
    """Entry point of ``ros2 run vla_ros chunk_executor_node``."""
    sys.exit(run_node(ChunkExecutorNode, args=args))


if __name__ == '__main__':
    main()
