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

The control tick runs in a dedicated thread that sleeps until each period on the monotonic
clock (``control_thread``; an rclpy timer under ``use_sim_time``), since an rclpy timer at
500 Hz misses its period by milliseconds (docs/ros.md has the numbers). The runner is then
shared with the subscription and service callbacks, so every call into it holds `_lock`;
messages are built and published outside it.
"""

from __future__ import annotations

import os
import sys
import threading
import time

from builtin_interfaces.msg import Duration
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.node import Node
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray, MultiArrayDimension
from std_srvs.srv import Trigger
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

from vla_ros.config import ExecutorConfig
from vla_ros.control.executor import STATE_FIELDS
from vla_ros.messages.stamps import split_seconds, to_seconds
from vla_ros.ros.conversions import chunk_to_msg, diagnostics_msg
from vla_ros.ros.params import declare_config, run_node, watch_config
from vla_ros.ros.qos import RELIABLE_QOS, SENSOR_QOS
from vla_ros.runtime.execution import ExecutorRunner

COMMAND_TYPES = {'forward_position': Float64MultiArray, 'joint_trajectory': JointTrajectory,
                 'joint_trajectory_window': JointTrajectory, 'joint_state': JointState}
WARN_PERIOD_S = 2.0
# With the control thread, the GIL must come back to it well within a period: CPython's
# default switch interval (5 ms) would let a long callback delay a 2 ms tick by that much.
SWITCH_INTERVAL_S = 2e-4


class ChunkExecutorNode(Node):
    """Subscribes chunks and joint states; publishes commands, state and diagnostics."""

    def __init__(self):
        """Read the config (a bad value raises ConfigError) and wire the node."""
        super().__init__('chunk_executor')
        cfg = self.cfg = declare_config(self, ExecutorConfig)
        self.runner = ExecutorRunner(cfg)
        self._lock = threading.Lock()
        self.cmd_pub = self.create_publisher(COMMAND_TYPES[cfg.command_interface],
                                             cfg.command_topic, RELIABLE_QOS)
        self.state_pub = self.create_publisher(Float64MultiArray, '~/state', RELIABLE_QOS)
        self.plan_pub = self.create_publisher(JointTrajectory, '~/plan', RELIABLE_QOS)
        self.diag_pub = self.create_publisher(DiagnosticArray, '/diagnostics', RELIABLE_QOS)
        self.create_subscription(JointTrajectory, 'action_chunk', self.on_chunk, RELIABLE_QOS)
        self.create_subscription(JointState, 'joint_states', self.on_joint_state, SENSOR_QOS)
        self.create_service(Trigger, '~/pause', self.on_pause)
        self.create_service(Trigger, '~/resume', self.on_resume)
        self.create_service(Trigger, '~/resync', self.on_resync)
        self._follow_state, self._follow_logged = 'ok', -float('inf')
        self._next_window = -float('inf')
        self._thread, self._stop = None, threading.Event()
        self._thread_error = None
        # A failure in the control thread is raised in the spin, as a timer's would be.
        self._failed = self.create_guard_condition(self._raise_thread_error)
        self.use_thread = cfg.control_thread and not self.get_parameter('use_sim_time').value
        self._rate_timers = {}
        self.start_timers(cfg)
        watch_config(self, ExecutorConfig, lambda: self.cfg, self.apply)

    def start_timers(self, cfg: ExecutorConfig) -> None:
        """(Re)create the control, state and diagnostics timers at the configured rates."""
        for timer in self._rate_timers.values():
            self.destroy_timer(timer)
        self.period_s = 1.0 / cfg.control_rate_hz
        self._rate_timers = {
            'state': self.create_timer(1.0 / cfg.state_rate_hz, self.publish_state),
            'diagnostics': self.create_timer(cfg.diagnostics_period_s,
                                             self.publish_diagnostics)}
        if not self.use_thread:
            self._rate_timers['tick'] = self.create_timer(self.period_s, self.on_tick)
        elif self._thread is None:
            sys.setswitchinterval(SWITCH_INTERVAL_S)
            priority = cfg.control_thread_priority
            if priority > 1:
                # This thread spins the callbacks. Holding the GIL, it must not be preempted
                # by other programs while the control thread waits for it (measured at load
                # 2-5 on 2 cores: gaps of 20-90 ms without this, a few of <= 10 ms with it).
                set_fifo_priority(priority - 1)
            self._thread = threading.Thread(target=self._control_loop, name='control',
                                            daemon=True)
            self._thread.start()

    def _control_loop(self) -> None:
        """Tick every period_s: sleep until the next deadline, never catch up in a burst."""
        priority = self.cfg.control_thread_priority
        refused = set_fifo_priority(priority) if priority else ''
        if refused:
            self.get_logger().warn(
                f'control thread at normal priority: SCHED_FIFO {priority} refused ({refused}); '
                'ticks may come late on a loaded machine (grant rtprio, as for '
                'ros2_control_node, or set control_thread_priority: 0 to silence this)')
        deadline = time.monotonic()
        try:
            while not self._stop.is_set():
                deadline += self.period_s           # read each time: a rate change applies
                delay = deadline - time.monotonic()
                while delay > 0 and not self._stop.is_set():
                    time.sleep(min(delay, 0.1))
                    delay = deadline - time.monotonic()
                if delay < -self.period_s:
                    deadline = time.monotonic()     # late by more than a period: skip
                self.on_tick()
        except Exception as exc:  # noqa: B902 - handed to the spinning thread
            self._thread_error = exc
            self._failed.trigger()

    def _raise_thread_error(self) -> None:
        if self._thread_error is not None:
            raise self._thread_error

    def destroy_node(self) -> None:
        """Stop the control thread, then the node."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=1.0)
        super().destroy_node()

    def apply(self, cfg: ExecutorConfig) -> None:
        """Take a validated parameter change: the core first, then the timers if rates moved."""
        with self._lock:
            self.runner.apply(cfg)      # raises ConfigError (refused) before anything changed
        old, self.cfg = self.cfg, cfg
        rates = ('control_rate_hz', 'state_rate_hz', 'diagnostics_period_s')
        if any(getattr(old, name) != getattr(cfg, name) for name in rates):
            self.start_timers(cfg)

    def now(self) -> float:
        """Return the node clock now [s] (sim time when use_sim_time)."""
        return self.get_clock().now().nanoseconds * 1e-9

    def on_joint_state(self, msg: JointState) -> None:
        """Store the latest joint state."""
        now = self.now()
        with self._lock:
            self.runner.set_joint_state(msg.name, msg.position, to_seconds(msg.header.stamp),
                                        now)

    def on_chunk(self, msg: JointTrajectory) -> None:
        """Hand a chunk message to the runtime; warn on rejects, report a new horizon at once."""
        with self._lock:
            result, note = self.runner.offer_message(msg, self.now())
        if result.accepted:
            if note:
                self.get_logger().info(note)
            self.publish_state()    # the policy sees the new horizon without waiting
        else:
            self.get_logger().warn(note, throttle_duration_sec=WARN_PERIOD_S)

    def on_tick(self) -> None:
        """Compute one command at control rate; publish it (or, at window_rate_hz, a window)."""
        now = self.now()
        kind = self.cfg.command_interface
        window = None
        with self._lock:
            cmd = self.runner.tick(now)
            if cmd is not None and kind == 'joint_trajectory_window' and (
                    now >= self._next_window):
                self._next_window = max(self._next_window + 1.0 / self.cfg.window_rate_hz,
                                        now - 0.5 * self.period_s)
                window = self.runner.window()
            follow = self.runner.follow_state
            waiting = cmd is None and self.runner.waiting_for_joint_states()
        if follow != self._follow_state or follow == 'not_following':
            self.report_follow(follow)
        if cmd is None:
            if waiting:
                self.get_logger().warn('waiting for joint_states with every joint of '
                                       f'{list(self.runner.joint_names)}',
                                       throttle_duration_sec=WARN_PERIOD_S)
            return
        names = list(self.runner.joint_names)
        if kind == 'forward_position':
            msg = Float64MultiArray(data=cmd.positions.tolist())
        elif kind == 'joint_trajectory_window':
            if window is None:
                return
            msg = window_msg(names, window)
        elif kind == 'joint_trajectory':
            # Stamp 0 means "start now"; one period ahead lets the controller interpolate.
            point = JointTrajectoryPoint(positions=cmd.positions.tolist(),
                                         velocities=cmd.velocities.tolist(),
                                         time_from_start=Duration(
                                             nanosec=int(self.period_s * 1e9)))
            msg = JointTrajectory(joint_names=names, points=[point])
        else:
            msg = JointState(name=names, position=cmd.positions.tolist(),
                             velocity=cmd.velocities.tolist())
            msg.header.stamp = self.get_clock().now().to_msg()
        self.cmd_pub.publish(msg)

    def report_follow(self, follow: str) -> None:
        """Log and publish a change of the follow state; repeat the error every few seconds."""
        changed, self._follow_state = follow != self._follow_state, follow
        if changed:
            self.publish_diagnostics()
            self.publish_state()
        if follow == 'not_following':
            if changed or time.monotonic() - self._follow_logged >= WARN_PERIOD_S:
                self._follow_logged = time.monotonic()
                with self._lock:
                    line = self.runner.follow_report()[1]
                self.get_logger().error(line)
        elif changed and follow == 'ok':
            self.get_logger().info('the joint states follow the commands again')

    def publish_state(self) -> None:
        """Publish the remaining horizon, mode and counters on ~/state, the plan on ~/plan."""
        now = self.now()
        with self._lock:
            data = self.runner.state_vector(now)
            plan = self.runner.plan(now)
        msg = Float64MultiArray(data=data)
        msg.layout.dim = [MultiArrayDimension(label=','.join(STATE_FIELDS),
                                              size=len(STATE_FIELDS), stride=len(STATE_FIELDS))]
        self.state_pub.publish(msg)
        if plan is not None:
            self.plan_pub.publish(chunk_to_msg(plan))

    def publish_diagnostics(self) -> None:
        """Publish the executor diagnostics."""
        with self._lock:
            level, message, values = self.runner.diagnostics()
        self.diag_pub.publish(diagnostics_msg(
            self.get_clock().now().to_msg(), f'{self.get_name()}: chunk executor', level,
            message, {k: str(v) for k, v in values.items()}, self.get_fully_qualified_name()))

    def on_pause(self, request, response):
        """Start an e-stop style stop on the next tick."""
        with self._lock:
            response.success, response.message = self.runner.pause(self.now())
        return response

    def on_resume(self, request, response):
        """Resume from the measured joint state."""
        with self._lock:
            response.success, response.message = self.runner.resume()
        return response

    def on_resync(self, request, response):
        """Start over from the measured state (after a simulation reset)."""
        with self._lock:
            response.success, response.message = self.runner.resync(self.now())
        return response


def set_fifo_priority(priority: int) -> str:
    """Put the calling thread under SCHED_FIFO at `priority`; return why not, or ''."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
    except (AttributeError, OSError) as exc:
        return str(exc)
    return ''


def window_msg(joint_names, window) -> JointTrajectory:
    """Return a `CommandWindow` as a JointTrajectory stamped with its first point's time."""
    msg = JointTrajectory(joint_names=joint_names)
    msg.header.stamp.sec, msg.header.stamp.nanosec = split_seconds(window.t0)
    for k, (p, v) in enumerate(zip(window.positions.tolist(), window.velocities.tolist())):
        sec, nanosec = split_seconds(k * window.dt)
        msg.points.append(JointTrajectoryPoint(
            positions=p, velocities=v, time_from_start=Duration(sec=sec, nanosec=nanosec)))
    return msg


def main(args=None) -> None:
    """Entry point of ``ros2 run vla_ros chunk_executor_node``."""
    sys.exit(run_node(ChunkExecutorNode, args=args))


if __name__ == '__main__':
    main()
