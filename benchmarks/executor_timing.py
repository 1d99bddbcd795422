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
Period of the chunk_executor's control tick: an rclpy timer against the dedicated thread.

    python benchmarks/executor_timing.py --rate 500 --seconds 20

Runs the real node in this process, spun by the thread that built it (as ``ros2 run`` does),
with ``control_thread`` false (an rclpy timer), then true at normal priority, then at the
node's default SCHED_FIFO priority (``control_thread_priority``, 40), while a feeder process
publishes joint states at 100 Hz and a 50-point chunk every 0.3 s, so the callbacks compete
with the tick as they do in service.
Every tick's ``time.monotonic()`` is recorded; the table gives the period error |dt - T|
(p50, p99, max) and the gaps longer than 3 T. Needs a sourced ROS 2.
"""

import argparse
import math
import os
import subprocess
import sys
import time

import numpy as np

JOINTS = [f'joint{j}' for j in range(7)]


def feed() -> None:
    """Publish joint states at 100 Hz and a 50-point chunk every 0.3 s, until killed."""
    import rclpy
    from sensor_msgs.msg import JointState
    from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

    from vla_ros.messages.stamps import split_seconds

    rclpy.init()
    node = rclpy.create_node('timing_feeder')
    js_pub = node.create_publisher(JointState, 'joint_states', 10)
    chunk_pub = node.create_publisher(JointTrajectory, 'action_chunk', 10)
    last = [0.0] * len(JOINTS)

    def wave(t):
        return [0.3 * math.sin(math.pi * t + j) for j in range(len(JOINTS))]

    def publish_js():
        msg = JointState(name=JOINTS, position=last)
        msg.header.stamp = node.get_clock().now().to_msg()
        js_pub.publish(msg)

    def publish_chunk():
        t0 = node.get_clock().now().nanoseconds * 1e-9 - 0.1
        msg = JointTrajectory(joint_names=JOINTS)
        msg.header.stamp.sec, msg.header.stamp.nanosec = split_seconds(t0)
        for k in range(50):
            point = JointTrajectoryPoint(positions=wave(t0 + 0.02 * k))
            point.time_from_start.nanosec = int(0.02 * k * 1e9)
            msg.points.append(point)
        chunk_pub.publish(msg)

    def follow(msg):        # a controller that follows (the executor stays out of ERROR)
        last[:] = list(msg.data)

    from std_msgs.msg import Float64MultiArray
    node.create_subscription(Float64MultiArray, '/forward_position_controller/commands',
                             follow, 10)
    node.create_timer(0.01, publish_js)
    node.create_timer(0.3, publish_chunk)
    try:
        rclpy.spin(node)
    except BaseException:   # noqa: B902 - killed by the benchmark
        pass


def measure(control_thread: bool, rate_hz: float, seconds: float, priority: int) -> dict:
    """Run the node for `seconds` (feeder in a subprocess); return the tick period stats."""
    import rclpy

    from vla_ros.ros.chunk_executor_node import ChunkExecutorNode

    rclpy.init(args=['--ros-args', '-p', f'control_rate_hz:={rate_hz}',
                     '-p', f'control_thread:={str(control_thread).lower()}',
                     '-p', f'control_thread_priority:={priority}',
                     '-p', 'joint_names:=[' + ','.join(JOINTS) + ']', '-p', 'max_velocity:=[2.0]',
                     '-p', 'max_acceleration:=[20.0]'])
    node = ChunkExecutorNode()
    ticks = []
    tick = node.runner.tick

    def timed_tick(now):
        ticks.append(time.monotonic())
        return tick(now)

    node.runner.tick = timed_tick
    feeder = subprocess.Popen([sys.executable, __file__, '--feed'])
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:     # spun by this (the constructing) thread, as in main
            rclpy.spin_once(node, timeout_sec=0.1)
    finally:
        feeder.terminate()
        feeder.wait()
        node.destroy_node()
        rclpy.try_shutdown()
    t = np.array(ticks[int(rate_hz):])          # the first second: start-up
    period = 1.0 / rate_hz
    dt = np.diff(t)
    err = np.abs(dt - period)
    return {'mode': ('thread' + (f', SCHED_FIFO {priority}' if priority else ''))
            if control_thread else 'rclpy timer', 'ticks': len(t),
            'rate_hz': (len(t) - 1) / (t[-1] - t[0]),
            'p50_ms': 1e3 * np.percentile(err, 50), 'p99_ms': 1e3 * np.percentile(err, 99),
            'max_ms': 1e3 * err.max(), 'gaps_3T': int((dt > 3 * period).sum()),
            'max_gap_T': dt.max() / period}


def main() -> None:
    """Measure both tick sources and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('--rate', type=float, default=500.0, help='control_rate_hz')
    parser.add_argument('--seconds', type=float, default=20.0, help='per mode')
    from vla_ros.config import ExecutorConfig

    default = f'thread{ExecutorConfig().control_thread_priority}'
    parser.add_argument('--modes', nargs='+', default=['timer', 'thread0', default],
                        help=f'timer, threadP (P: control_thread_priority); default: timer '
                        f'thread0 {default}')
    parser.add_argument('--feed', action='store_true', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.feed:
        return feed()
    from machine import cpu_model   # beside this script

    print(f'{cpu_model()}; load average {os.getloadavg()[0]:.2f}; control_rate_hz '
          f'{args.rate:g}, {args.seconds:g} s per mode')
    print('| tick source | ticks | rate [Hz] | period error p50 [ms] | p99 [ms] | max [ms] '
          '| gaps > 3T | longest gap [T] |')
    print('|---|---:|---:|---:|---:|---:|---:|---:|')
    for mode in args.modes:
        thread = mode.startswith('thread')
        r = measure(thread, args.rate, args.seconds, int(mode[6:] or 0) if thread else 0)
        print(f"| {r['mode']} | {r['ticks']} | {r['rate_hz']:.1f} | {r['p50_ms']:.3f} | "
              f"{r['p99_ms']:.3f} | {r['max_ms']:.2f} | {r['gaps_3T']} | "
              f"{r['max_gap_T']:.1f} |", flush=True)


if __name__ == '__main__':
    main()
