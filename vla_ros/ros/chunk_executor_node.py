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

A thin shell around `vla_ros.control.executor.ChunkExecutor`; see docs/executor.md for the
topics, services, parameters and the ``~/state`` layout.
"""

from __future__ import annotations

import math
import sys

from builtin_interfaces.msg import Duration
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.node import Node
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray, MultiArrayDimension
from std_srvs.srv import Trigger
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

from vla_ros.config import ExecutorConfig
from vla_ros.control.executor import ChunkExecutor, STATE_FIELDS, STATES
from vla_ros.control.messages import chunk_from_trajectory, joint_state_positions
from vla_ros.control.messages import MalformedChunk
from vla_ros.ros.params import declare_config, run_node
from vla_ros.ros.qos import RELIABLE_QOS, SENSOR_QOS

COMMAND_TYPES = {'forward_position': Float64MultiArray, 'joint_trajectory': JointTrajectory,
                 'joint_state': JointState}
WARN_PERIOD_S = 2.0


class ChunkExecutorNode(Node):
    """Subscribes chunks and joint states; publishes commands, state and diagnostics."""

    def __init__(self):
        """Read the config (a bad value raises ConfigError) and wire the node."""
        super().__init__('chunk_executor')
        cfg = self.cfg = declare_config(self, ExecutorConfig)
        # Without configured joint names the first chunk's order becomes the command order.
        self.core = ChunkExecutor.from_config(cfg) if cfg.joint_names else None
        self.joint_state = None
        self.malformed: dict[str, int] = {}
        self.cmd_pub = self.create_publisher(COMMAND_TYPES[cfg.command_interface],
                                             cfg.command_topic, RELIABLE_QOS)
        self.state_pub = self.create_publisher(Float64MultiArray, '~/state', RELIABLE_QOS)
        self.diag_pub = self.create_publisher(DiagnosticArray, '/diagnostics', RELIABLE_QOS)
        self.create_subscription(JointTrajectory, 'action_chunk', self.on_chunk, RELIABLE_QOS)
        self.create_subscription(JointState, 'joint_states', self.on_joint_state, SENSOR_QOS)
        self.create_service(Trigger, '~/pause', self.on_pause)
        self.create_service(Trigger, '~/resume', self.on_resume)
        self.period_s = 1.0 / cfg.control_rate_hz
        self.create_timer(self.period_s, self.on_tick)
        self.create_timer(1.0 / cfg.state_rate_hz, self.publish_state)
        self.create_timer(cfg.diagnostics_period_s, self.publish_diagnostics)

    def now(self) -> float:
        """Return the node clock now [s] (sim time when use_sim_time)."""
        return self.get_clock().now().nanoseconds * 1e-9

    def measured(self):
        """Return the latest measured joint positions in command order, or None."""
        if self.joint_state is None or self.core is None:
            return None
        return joint_state_positions(self.joint_state, self.core.joint_names)

    def on_joint_state(self, msg: JointState) -> None:
        """Store the latest joint state."""
        self.joint_state = msg

    def on_chunk(self, msg: JointTrajectory) -> None:
        """Validate a chunk message and hand it to the executor; count and warn on rejects."""
        now = self.now()
        known = self.core.joint_names if self.core is not None else None
        try:
            chunk = chunk_from_trajectory(msg, known, now, self.cfg.max_future_stamp_s)
        except MalformedChunk as exc:
            self.malformed[exc.kind] = self.malformed.get(exc.kind, 0) + 1
            self.get_logger().warn(f'chunk rejected: {exc}', throttle_duration_sec=WARN_PERIOD_S)
            return
        if self.core is None:
            self.core = ChunkExecutor.from_config(self.cfg, chunk.joint_names)
            self.get_logger().info(f'command order from the first chunk: {chunk.joint_names}')
        result = self.core.submit(chunk, now)
        if result.accepted:
            self.publish_state()    # the policy sees the new horizon without waiting
        else:
            self.get_logger().warn(f'chunk rejected: {result.reason}',
                                   throttle_duration_sec=WARN_PERIOD_S)

    def on_tick(self) -> None:
        """Compute and publish one command at control rate."""
        if self.core is None:
            return
        measured = self.measured() if self.core.state == 'waiting' else None
        cmd = self.core.tick(self.now(), measured)
        if cmd is None:
            if self.core.state == 'waiting' and measured is None:
                self.get_logger().warn('waiting for joint_states with every joint of '
                                       f'{list(self.core.joint_names)}',
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
            msg = JointTrajectory(joint_names=list(self.core.joint_names), points=[point])
        else:
            msg = JointState(name=list(self.core.joint_names), position=positions,
                             velocity=velocities)
            msg.header.stamp = self.get_clock().now().to_msg()
        self.cmd_pub.publish(msg)

    def publish_state(self) -> None:
        """Publish the remaining horizon, mode and counters on ~/state."""
        if self.core is not None:
            data = self.core.state_vector(self.now())
        else:
            # No joint order yet: say "nothing queued" so a horizon-triggered policy sends the
            # first chunk; staying silent here would leave both nodes waiting for each other.
            data = dict.fromkeys(STATE_FIELDS, 0.0)
            data.update(state_code=float(STATES.index('waiting')),
                        rejected_count=float(sum(self.malformed.values())),
                        last_latency_s=math.nan, newest_chunk_t0=math.nan)
            data = list(data.values())
        msg = Float64MultiArray(data=data)
        msg.layout.dim = [MultiArrayDimension(label=','.join(STATE_FIELDS),
                                              size=len(STATE_FIELDS), stride=len(STATE_FIELDS))]
        self.state_pub.publish(msg)

    def publish_diagnostics(self) -> None:
        """Publish the executor diagnostics."""
        stats = self.core.stats() if self.core is not None else {'state': 'waiting'}
        stats.update({f'malformed_{k.replace(" ", "_")}': n for k, n in self.malformed.items()})
        state = stats['state']
        level = DiagnosticStatus.OK if state in ('tracking', 'waiting') else DiagnosticStatus.WARN
        status = DiagnosticStatus(level=level, name=f'{self.get_name()}: chunk executor',
                                  message=state, hardware_id=self.get_fully_qualified_name(),
                                  values=[KeyValue(key=k, value=str(v)) for k, v in stats.items()])
        msg = DiagnosticArray(status=[status])
        msg.header.stamp = self.get_clock().now().to_msg()
        self.diag_pub.publish(msg)

    def on_pause(self, request, response):
        """Start an e-stop style stop on the next tick."""
        if self.core is None:
            response.success, response.message = False, 'no joint order yet: nothing to pause'
            return response
        self.core.pause(self.now())
        response.success, response.message = True, 'stopping; chunks ignored until resume'
        return response

    def on_resume(self, request, response):
        """Resume from the measured joint state."""
        if self.core is None or not self.core.resume(self.measured()):
            response.success, response.message = False, 'not paused'
            return response
        response.success, response.message = True, 'holding; the next fresh chunk moves the arm'
        return response


def main(args=None) -> None:
    """Entry point of ``ros2 run vla_ros chunk_executor_node``."""
    sys.exit(run_node(ChunkExecutorNode, args=args))


if __name__ == '__main__':
    main()
