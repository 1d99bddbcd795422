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
One chunk stream through the mock ros2_control arm, by each way of commanding it.

    source install/setup.bash      # a colcon workspace with vla_ros and ros2_control
    python benchmarks/ros2_control_stream.py --seconds 20

For each mode, ``ros2 launch vla_ros policy.launch.py use_mock_hardware:=true
start_policy:=false`` brings up controller_manager (config/controllers.yaml, 100 Hz, mock
hardware: a position command becomes the joint state one update later) and the executor; this
script publishes the same chunks (50 points 0.02 s apart, every 0.3 s, stamped 0.1 s in the
past, sampling ``start + A (1 - cos(pi t))`` on six joints, within 1 rad/s and 4 rad/s^2) and
records /joint_states (one message per controller update) and the command topic. Modes:

- ``forward``: executor forward_position -> forward_position_controller;
- ``jtc_single``: executor joint_trajectory (one point that moves) -> JTC with
  ``allow_nonzero_velocity_at_trajectory_end: true`` (else it rejects every point);
- ``jtc_window``: executor joint_trajectory_window -> JTC (stock parameters);
- ``raw_chunks``: no executor, the chunks straight to the JTC.

Columns: command messages per second; the controller's update rate (/joint_states); the mean
and 99th percentile of |joint_state - command|, the command being the message in force one
update earlier by its arrival here (evaluated at the joint state's time for a trajectory; a
stall of this recorder inflates the largest, so it is not shown); lag of the joint states
behind the chunks' trajectory (the time shift that fits best); the share of updates that repeat
the last position while the trajectory moves (a command reused); max |dv| per update and RMS
jerk of /joint_states (differences over the updates' stamps); joint states more than 1.5
periods apart (an update late, or its message dropped by the broadcaster's realtime
publisher).
"""

import argparse
import os
from pathlib import Path
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
JOINTS = ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'forearm_roll', 'wrist_flex',
          'wrist_roll', 'gripper']
START = np.array([0.0, 0.15, 1.75, 0.0, 1.24, 0.0, 0.04])
AMPLITUDE = np.array([0.25, 0.2, -0.2, 0.25, 0.2, 0.25, 0.0])
MOVING = AMPLITUDE != 0
JTC_TOPIC = '/joint_trajectory_controller/joint_trajectory'
MODES = {    # launch arguments, command topic
    'forward': ({'controller': 'forward_position_controller'},
                '/forward_position_controller/commands'),
    'jtc_single': ({'controller': 'joint_trajectory_controller',
                    'command_interface': 'joint_trajectory'}, JTC_TOPIC),
    'jtc_window': ({'controller': 'joint_trajectory_controller'}, JTC_TOPIC),
    'raw_chunks': ({'controller': 'joint_trajectory_controller', 'start_executor': 'false'},
                   JTC_TOPIC),
}


def wave(t):
    """Return the trajectory the chunks sample, (..., J), from rest at START at t = 0."""
    t = np.maximum(np.asarray(t, dtype=np.float64), 0.0)[..., None]
    return START + AMPLITUDE * (1.0 - np.cos(np.pi * t))


def hermite(points, t):
    """Evaluate a JointTrajectory-like (t0, dt_list, P, V or None) at absolute time `t`."""
    t0, offsets, p, v = points
    if t <= t0 + offsets[0]:
        return p[0]
    if t >= t0 + offsets[-1]:
        return p[-1]
    i = int(np.searchsorted(t0 + offsets, t, side='right')) - 1
    h = offsets[i + 1] - offsets[i]
    s = (t - t0 - offsets[i]) / h
    if v is None:
        return p[i] + s * (p[i + 1] - p[i])
    return ((2 * s**3 - 3 * s**2 + 1) * p[i] + (s**3 - 2 * s**2 + s) * h * v[i]
            + (-2 * s**3 + 3 * s**2) * p[i + 1] + (s**3 - s**2) * h * v[i + 1])


def run_mode(name, seconds, settle_s, controllers, disagree_rad, log_dir, config_file=''):
    """Launch the stack for mode `name`, stream chunks, record; return the metrics."""
    import rclpy
    from controller_manager_msgs.srv import ListControllers
    from sensor_msgs.msg import JointState
    from std_msgs.msg import Float64MultiArray
    from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

    from vla_ros.messages.stamps import split_seconds

    launch_args, topic = MODES[name]
    args = {'use_mock_hardware': 'true', 'start_policy': 'false', 'log_level': 'warn',
            'joint_names': ','.join(JOINTS), **launch_args}
    if name == 'jtc_single':
        args['controllers'] = controllers
    if config_file:
        args['config_file'] = config_file
    log = open(Path(log_dir) / f'{name}.log', 'w')
    launch = subprocess.Popen(['ros2', 'launch', 'vla_ros', 'policy.launch.py']
                              + [f'{k}:={v}' for k, v in args.items()],
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    rclpy.init()
    node = rclpy.create_node('stream_benchmark')
    js, commands = [], []
    chunk_pub = node.create_publisher(
        JointTrajectory, JTC_TOPIC if name == 'raw_chunks' else '/action_chunk', 10)

    def on_js(msg):
        js.append(msg)      # converted after the run: the callbacks must keep up

    def on_command(msg):
        commands.append((node.get_clock().now().nanoseconds * 1e-9, msg))

    node.create_subscription(JointState, '/joint_states', on_js, 100)
    node.create_subscription(Float64MultiArray if name == 'forward' else JointTrajectory, topic,
                             on_command, 100)
    client = node.create_client(ListControllers, '/controller_manager/list_controllers')
    wanted = launch_args['controller']
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if client.wait_for_service(timeout_sec=1.0):
            future = client.call_async(ListControllers.Request())
            rclpy.spin_until_future_complete(node, future, timeout_sec=5.0)
            if future.result() and any(c.name == wanted and c.state == 'active'
                                       for c in future.result().controller):
                break
        rclpy.spin_once(node, timeout_sec=0.2)
    else:
        raise RuntimeError(f'{name}: {wanted} never became active; see {log.name}')
    rclpy.spin_once(node, timeout_sec=2.0)  # the executor's first joint states
    rng = np.random.default_rng(0)
    t_start = node.get_clock().now().nanoseconds * 1e-9
    next_chunk, end = time.monotonic(), time.monotonic() + settle_s + seconds
    while time.monotonic() < end:
        if time.monotonic() >= next_chunk:
            t0 = node.get_clock().now().nanoseconds * 1e-9 - 0.1
            offset = rng.normal(0.0, disagree_rad, len(JOINTS)) * MOVING
            msg = JointTrajectory(joint_names=JOINTS)
            msg.header.stamp.sec, msg.header.stamp.nanosec = split_seconds(t0)
            for k in range(50):
                point = JointTrajectoryPoint(
                    positions=(wave(t0 + 0.02 * k - t_start) + offset).tolist())
                point.time_from_start.sec, point.time_from_start.nanosec = split_seconds(
                    0.02 * k)
                msg.points.append(point)
            chunk_pub.publish(msg)
            next_chunk += 0.3
        rclpy.spin_once(node, timeout_sec=0.002)
    node.destroy_node()
    rclpy.try_shutdown()
    os.killpg(launch.pid, signal.SIGINT)
    try:
        launch.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(launch.pid, signal.SIGKILL)
    log.close()
    return metrics(*convert(js, commands), t_start, settle_s, seconds)


def convert(js_msgs, command_msgs):
    """Return [(stamp, positions)] and [(arrival, (t0, offsets, P, V or None))]."""
    from std_msgs.msg import Float64MultiArray

    from vla_ros.messages.stamps import to_seconds

    js = []
    for msg in js_msgs:
        index = {n: i for i, n in enumerate(msg.name)}
        if all(n in index for n in JOINTS):
            js.append((to_seconds(msg.header.stamp), [msg.position[index[n]] for n in JOINTS]))
    commands = []
    for now, msg in command_msgs:
        if isinstance(msg, Float64MultiArray):
            commands.append((now, (now, np.zeros(1), np.array([msg.data]), None)))
            continue
        index = [list(msg.joint_names).index(n) for n in JOINTS]
        p = np.array([[pt.positions[i] for i in index] for pt in msg.points])
        v = None
        if all(len(pt.velocities) for pt in msg.points):
            v = np.array([[pt.velocities[i] for i in index] for pt in msg.points])
        offsets = np.array([pt.time_from_start.sec + 1e-9 * pt.time_from_start.nanosec
                            for pt in msg.points])
        stamp = to_seconds(msg.header.stamp)
        commands.append((now, (stamp if stamp > 0 else now, offsets, p, v)))
    return js, commands


def metrics(js, commands, t_start, settle_s, seconds):
    """Compute the table's columns from the recorded messages."""
    since = t_start + settle_s
    times = np.array([t for t, _ in js])
    positions = np.array([p for _, p in js])
    keep = times >= since
    times, positions = times[keep], positions[keep]
    period = float(np.median(np.diff(times)))
    cmd_times = np.array([t for t, _ in commands])
    errors = []
    for t, p in zip(times, positions):
        i = int(np.searchsorted(cmd_times, t - period, side='right')) - 1
        if i >= 0:
            errors.append(np.abs(p - hermite(commands[i][1], t))[MOVING].max())
    lag, repeated, dv, jerk, late = smoothness(times, positions, t_start, period)
    return {'cmd_hz': np.sum((cmd_times >= since) & (cmd_times < since + seconds)) / seconds,
            'update_hz': (len(times) - 1) / (times[-1] - times[0]),
            'err_mean': float(np.mean(errors)), 'err_p99': float(np.percentile(errors, 99)),
            'lag': lag, 'repeated': repeated, 'dv': dv, 'jerk': jerk, 'late': late}


def smoothness(times, positions, t_start, period):
    """Lag [s], repeated share, max |dv| [rad/s], RMS jerk [rad/s^3], late updates."""
    p = positions[:, MOVING]
    taus = np.arange(-0.05, 0.1, 1e-4)
    rms = [np.sqrt(np.mean((p - wave(times - t_start - tau)[:, MOVING]) ** 2)) for tau in taus]
    lag = float(taus[int(np.argmin(rms))])
    # Differences over the updates' own times: a late update is not a speed-up.
    dt = np.diff(times)[:, None]
    v = np.diff(p, axis=0) / dt
    moving = np.abs(np.diff(wave(times - t_start)[:, MOVING], axis=0)).max(axis=1) > 1e-3
    repeated = float(np.mean(np.all(np.diff(p, axis=0) == 0, axis=1)[moving]))
    dv = np.abs(np.diff(v, axis=0)).max()
    a = np.diff(v, axis=0) / (0.5 * (dt[1:] + dt[:-1]))
    jerk = np.diff(a, axis=0) / dt[1:-1]
    late = int(np.sum(dt > 1.5 * period))
    return lag, repeated, float(dv), float(np.sqrt(np.mean(jerk**2))), late


def main() -> None:
    """Run every mode and print the markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('--seconds', type=float, default=20.0, help='measured per mode')
    parser.add_argument('--settle-s', type=float, default=2.0, help='not measured, per mode')
    parser.add_argument('--modes', nargs='+', default=list(MODES), choices=list(MODES))
    parser.add_argument('--disagree-rad', type=float, default=0.0,
                        help='per-chunk random offset (policies disagree), std [rad]')
    parser.add_argument('--control-rate-hz', type=float, default=0.0,
                        help="the executor's control_rate_hz; 0: its default")
    args = parser.parse_args()
    log_dir = tempfile.mkdtemp(prefix='ros2_control_stream_')
    import yaml
    config_file = ''
    if args.control_rate_hz:
        config_file = str(Path(log_dir) / 'executor.yaml')
        Path(config_file).write_text(yaml.safe_dump({'chunk_executor': {'ros__parameters': {
            'control_rate_hz': args.control_rate_hz}}}))
    data = yaml.safe_load((ROOT / 'config' / 'controllers.yaml').read_text())
    data['joint_trajectory_controller']['ros__parameters'][
        'allow_nonzero_velocity_at_trajectory_end'] = True
    controllers = Path(log_dir) / 'controllers_nonzero_end.yaml'
    controllers.write_text(yaml.safe_dump(data))
    print(f'{args.seconds:g} s per mode after {args.settle_s:g} s; chunk disagreement '
          f'{args.disagree_rad:g} rad; control_rate_hz {args.control_rate_hz or "default"}; '
          f'logs in {log_dir}')
    print('| mode | commands [1/s] | controller updates [Hz] | mean / p99 |js - cmd| [mrad] '
          '| lag behind trajectory [ms] | repeated updates | max abs(dv) [rad/s] '
          '| RMS jerk [rad/s^3] | late updates |')
    print('|---|---:|---:|---:|---:|---:|---:|---:|---:|')
    for name in args.modes:
        m = run_mode(name, args.seconds, args.settle_s, str(controllers), args.disagree_rad,
                     log_dir, config_file)
        print(f"| {name} | {m['cmd_hz']:.1f} | {m['update_hz']:.1f} | "
              f"{1e3 * m['err_mean']:.2f} / {1e3 * m['err_p99']:.2f} | {1e3 * m['lag']:.1f} | "
              f"{100 * m['repeated']:.1f} % | {m['dv']:.3f} | {m['jerk']:.3g} | {m['late']} |",
              flush=True)


if __name__ == '__main__':
    sys.exit(main())
