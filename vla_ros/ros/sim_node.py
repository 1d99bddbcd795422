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
sim_node: the MuJoCo arm behind the interfaces of a ros2_control arm with cameras.

A thin shell around `vla_ros.sim.ArmEnv` (docs/simulation.md has the topic table):

- publishes ``joint_states`` (sensor_msgs/JointState, sensor QoS) at ``joint_state_rate_hz``,
  ``camera/<name>/image_raw`` (sensor_msgs/Image, rgb8, sensor QoS) at ``camera_rate_hz``,
  ``instruction`` (std_msgs/String, reliable + transient local; on each episode and at 1 Hz)
  and ``~/success`` (std_msgs/Bool, reliable) at ``camera_rate_hz``;
- follows ``/forward_position_controller/commands`` (std_msgs/Float64MultiArray, 7 targets in
  `JOINT_NAMES` order); a wrong length or a NaN is dropped with a throttled warning;
- ``~/reset`` (std_srvs/Trigger) starts the next episode; ``~/task`` (std_msgs/String, a task
  name or instruction) sets the task and starts an episode with it;
- at every episode start calls the chunk executor's ``~/resync`` (``executor_node``);
- episode ``k`` uses seed ``seed + k`` and the task of `vla_ros.evaluation.schedule` (as
  ``vla-ros eval``). With ``episodes`` > 0 it runs that many, counted from the first action
  chunk (the policy is loaded by then), keeps each one's outcome, chunk count and delays and the
  policy's and executor's /diagnostics (`vla_ros.evaluation.recorder`), then prints eval's
  success table, writes summary.json and table.md into ``out_dir`` and exits 0.

Time, two ways:

- ``use_sim_time`` true (sim.launch.py's default): the node is the clock. Each step advances
  physics by 1/``clock_rate_hz``, publishes ``/clock`` (rosgraph_msgs/Clock), then the joint
  states and camera frames that are due on sim time, stamped with it. Steps are paced by a
  steady wall-clock timer at ``clock_rate_hz * real_time_factor``; a late step is not made up,
  so a loaded machine slows sim time for every node instead of making the policy look late.
  Sim time starts at 0 and never goes back (an episode reset does not rewind it).
- ``use_sim_time`` false: physics runs against the wall clock; each joint-state tick advances
  it by the wall time since the last one (at most 0.1 s, so a stall slows the sim rather than
  making it jump), and stamps are the node's wall clock.
"""

from __future__ import annotations

import math
import os
import sys
import time

from diagnostic_msgs.msg import DiagnosticArray
from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.task import Future
from rosgraph_msgs.msg import Clock as ClockMsg
from sensor_msgs.msg import Image, JointState
from std_msgs.msg import Bool, Float64MultiArray, String
from std_srvs.srv import Trigger
from trajectory_msgs.msg import JointTrajectory

from vla_ros.config import SimConfig
from vla_ros.evaluation.recorder import EpisodeRecorder
from vla_ros.evaluation.schedule import episode_task
from vla_ros.messages.stamps import split_seconds, to_seconds
from vla_ros.ros.params import declare_config, run_node, watch_config
from vla_ros.ros.qos import RELIABLE_QOS, SENSOR_QOS
from vla_ros.sim import JOINT_NAMES, parse_task, TaskError
from vla_ros.sim.schedule import Periodic

COMMAND_TOPIC = '/forward_position_controller/commands'
WARN_PERIOD_S = 2.0
MAX_STEP_S = 0.1
# As rclcpp's ClockQoS: the newest time only; rclpy's time source subscribes best effort.
CLOCK_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT,
                       history=HistoryPolicy.KEEP_LAST)
INSTRUCTION_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             history=HistoryPolicy.KEEP_LAST,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)


class SimNode(Node):
    """Steps the simulated arm in real time and publishes what a real arm would."""

    def __init__(self):
        """Read the config (a bad value raises ConfigError), build the sim, wire the node."""
        super().__init__('sim_node')
        from vla_ros.sim.env import ArmEnv   # MuJoCo loads only once the config is valid

        cfg = self.cfg = declare_config(self, SimConfig)
        self.env = ArmEnv(cfg)
        self.task = cfg.task
        self.seed = cfg.seed
        # On sim time this node is the clock: steps counted, so sim time never drifts.
        self.sim_clock = bool(self.get_parameter('use_sim_time').value)
        self.steps = 0
        self.joint_states = Periodic(1.0 / cfg.joint_state_rate_hz)
        self.cameras = Periodic(1.0 / cfg.camera_rate_hz)
        self.clock_pub = (self.create_publisher(ClockMsg, '/clock', CLOCK_QOS)
                          if self.sim_clock else None)
        self.wall_clock = Clock(clock_type=ClockType.STEADY_TIME)
        self.js_pub = self.create_publisher(JointState, 'joint_states', SENSOR_QOS)
        self.image_pubs = {cam: self.create_publisher(Image, f'camera/{cam}/image_raw',
                                                      SENSOR_QOS) for cam in cfg.cameras}
        self.instruction_pub = self.create_publisher(String, 'instruction', INSTRUCTION_QOS)
        self.success_pub = self.create_publisher(Bool, '~/success', RELIABLE_QOS)
        self.create_subscription(Float64MultiArray, COMMAND_TOPIC, self.on_command, RELIABLE_QOS)
        self.create_subscription(String, '~/task', self.on_task, RELIABLE_QOS)
        self.create_service(Trigger, '~/reset', self.on_reset)
        self.executor_client = None
        self.connect_executor(cfg.executor_node)
        self._rate_timers = []
        # An episodes run: results per episode; the first starts once a chunk has arrived.
        self.done = Future()
        self.recorder = EpisodeRecorder() if cfg.episodes else None
        self.waiting_for_policy = self.recorder is not None
        self.run_started = None
        if self.recorder is not None:
            self.create_subscription(JointTrajectory, 'action_chunk', self.on_chunk,
                                     RELIABLE_QOS)
            self.create_subscription(DiagnosticArray, '/diagnostics', self.on_diagnostics,
                                     RELIABLE_QOS)
            self.get_logger().info(f'{cfg.episodes} episodes from seed {cfg.seed}, starting '
                                   'with the first action chunk')
        self.start_episode(self.seed)
        self.start_timers(cfg)
        self.create_timer(1.0, self.publish_instruction)
        watch_config(self, SimConfig, lambda: self.cfg, self.apply)

    def connect_executor(self, name: str) -> None:
        """Use the ``~/resync`` service of the executor node `name` (empty: none)."""
        if self.executor_client is not None:
            self.destroy_client(self.executor_client)
        name = name.strip().rstrip('/')
        self.executor_client = self.create_client(Trigger, f'{name}/resync') if name else None

    def start_timers(self, cfg: SimConfig) -> None:
        """(Re)create the timers: one sim-time step timer, or the physics and camera timers."""
        for timer in self._rate_timers:
            self.destroy_timer(timer)
        if self.sim_clock:
            self.joint_states.period_s = 1.0 / cfg.joint_state_rate_hz
            self.cameras.period_s = 1.0 / cfg.camera_rate_hz
            # A steady timer: the node's own clock follows /clock, which it publishes.
            self._rate_timers = [self.create_timer(
                1.0 / (cfg.clock_rate_hz * cfg.real_time_factor), self.on_sim_step,
                clock=self.wall_clock)]
            return
        self._rate_timers = [
            self.create_timer(1.0 / cfg.joint_state_rate_hz, self.on_physics_tick),
            self.create_timer(1.0 / cfg.camera_rate_hz, self.on_camera_tick)]

    def apply(self, cfg: SimConfig) -> None:
        """Take a validated parameter change; task and seed take effect at the next episode."""
        old, self.cfg = self.cfg, cfg
        self.env.config = cfg
        if cfg.task != old.task:
            self.task = cfg.task
        if cfg.seed != old.seed:
            self.seed = cfg.seed - 1       # the next episode uses the new seed
        rates = ('joint_state_rate_hz', 'camera_rate_hz', 'real_time_factor')
        if any(getattr(cfg, name) != getattr(old, name) for name in rates):
            self.start_timers(cfg)
        if cfg.executor_node != old.executor_node:
            self.connect_executor(cfg.executor_node)

    # ------------------------------------------------------------------ episodes
    def start_episode(self, seed: int) -> None:
        """Reset the sim to `seed` with its task and announce the instruction."""
        recorder = self.recorder
        if recorder is not None and recorder.current is not None:
            recorder.finish(False, self.env.time)   # cut short by ~/reset or ~/task
        if self.run_complete():
            return
        self.seed = seed
        # Episode k of the run has seed cfg.seed + k and the schedule's task k.
        self.env.reset(seed, episode_task(seed - self.cfg.seed, (self.task,) if self.task
                                          else ()))
        self.success_since = None
        self.last_wall = time.monotonic()
        count = ''
        if recorder is not None and not self.waiting_for_policy:
            recorder.start(seed, self.env.task, self.env.instruction, self.now())
            if self.run_started is None:
                self.run_started = time.monotonic()
            count = f'{len(recorder.results) + 1}/{self.cfg.episodes}, '
        self.get_logger().info(f'episode {count}seed {seed}: "{self.env.instruction}"')
        self.publish_instruction()
        self.publish_joint_state()
        self.resync_executor()
        # Fresh frames now, so no observation pairs the new joints with the last episode's
        # images for up to a camera period.
        self.on_camera_tick()
        now = self.now()
        self.joint_states.restart(now + self.joint_states.period_s)
        self.cameras.restart(now + self.cameras.period_s)

    def resync_executor(self) -> None:
        """
        Make the chunk executor hold the arm's new start pose (its ``~/resync``).

        A reset moves the simulated arm home in one step, which no real arm does; the executor
        would otherwise keep commanding the last episode's final targets, dragging the arm back
        there and showing the policy a start it never saw. The in-process loop calls the same
        `ExecutorRunner.resync` at every episode start. The joint state of the new pose was
        published just before, so the executor starts from it.
        """
        if self.executor_client is not None and self.executor_client.service_is_ready():
            self.executor_client.call_async(Trigger.Request())

    def publish_instruction(self) -> None:
        """Publish the current instruction."""
        self.instruction_pub.publish(String(data=self.env.instruction))

    def on_reset(self, request, response):
        """Start the next episode (seed + 1); reply with its instruction."""
        self.start_episode(self.seed + 1)
        response.success, response.message = True, self.env.instruction
        return response

    def on_task(self, msg: String) -> None:
        """Switch to the task or instruction in `msg` and start an episode."""
        try:
            parse_task(msg.data)
        except TaskError as exc:
            self.get_logger().warning(f'~/task: {exc}')
            return
        self.task = msg.data
        self.start_episode(self.seed + 1)

    def check_episode_end(self) -> None:
        """Start the next episode after success (plus a pause) or at the time limit."""
        cfg, env = self.cfg, self.env
        if self.waiting_for_policy:
            return
        if env.success():
            if self.success_since is None:
                self.success_since = env.time
                self.get_logger().info(f'success after {env.time:.1f} s: "{env.instruction}"')
                if self.record_end(True, env.time):
                    return
            if (cfg.reset_after_success_s > 0
                    and env.time - self.success_since >= cfg.reset_after_success_s):
                self.start_episode(self.seed + 1)
        elif env.time >= cfg.episode_time_s:
            self.get_logger().info(f'failed within {cfg.episode_time_s:g} s: '
                                   f'"{env.instruction}"')
            if not self.record_end(False, env.time):
                self.start_episode(self.seed + 1)

    # ------------------------------------------------------------------ an episodes run
    def run_complete(self) -> bool:
        """Tell whether an episodes run has all its episodes (and finish it if so)."""
        if self.recorder is None or len(self.recorder.results) < self.cfg.episodes:
            return False
        if not self.done.done():
            self.finish_run()
        return True

    def record_end(self, success: bool, duration_s: float) -> bool:
        """Close the recorded episode; return True once the run is complete."""
        if self.recorder is None:
            return False
        self.recorder.finish(success, duration_s)
        return self.run_complete()

    def finish_run(self) -> None:
        """Print the success table, write summary.json and table.md, let main() return 0."""
        cfg = self.cfg
        extra = {'source': 'sim.launch.py (sim_node, policy_node, chunk_executor)',
                 'seeds': [r.seed for r in self.recorder.results],
                 'wall_time_s': round(time.monotonic() - self.run_started, 1),
                 'episode_time_s': cfg.episode_time_s,
                 'reset_after_success_s': cfg.reset_after_success_s,
                 'runtime': self.recorder.policy_values}
        table = self.recorder.write(cfg.out_dir, extra)
        print(table, flush=True)   # the run's output, as `vla-ros eval` prints it
        self.get_logger().info(f'{len(self.recorder.results)} episodes done; summary.json and '
                               f'table.md in {os.path.abspath(cfg.out_dir)}')
        self.done.set_result(True)

    def on_chunk(self, msg: JointTrajectory) -> None:
        """Count a chunk for the episode it was planned in; the first one starts the run."""
        if self.waiting_for_policy:
            self.waiting_for_policy = False
            self.get_logger().info('first action chunk: the policy runs, episode 1 starts')
            self.start_episode(self.cfg.seed)
            return
        self.recorder.on_chunk(to_seconds(msg.header.stamp), self.now())

    def on_diagnostics(self, msg: DiagnosticArray) -> None:
        """Keep the policy node's and the executor's latest numbers for the episode record."""
        for status in msg.status:
            self.recorder.on_diagnostics({kv.key: kv.value for kv in status.values})

    def now(self) -> float:
        """Return the time [s] of every stamp sim_node publishes: sim time or the node clock."""
        if self.sim_clock:
            return self.steps / self.cfg.clock_rate_hz
        return self.get_clock().now().nanoseconds * 1e-9

    def stamp(self):
        """Return `now` as a builtin_interfaces/Time."""
        if not self.sim_clock:
            return self.get_clock().now().to_msg()
        msg = ClockMsg().clock
        msg.sec, msg.nanosec = split_seconds(self.now())
        return msg

    # ------------------------------------------------------------------ I/O
    def on_command(self, msg: Float64MultiArray) -> None:
        """Take 7 finite joint targets as the new command; drop anything else."""
        values = list(msg.data)
        if len(values) != len(JOINT_NAMES):
            self.get_logger().warning(
                f'{COMMAND_TOPIC}: {len(values)} values, need {len(JOINT_NAMES)} '
                f'({", ".join(JOINT_NAMES)}); dropped', throttle_duration_sec=WARN_PERIOD_S)
            return
        if not all(math.isfinite(v) for v in values):
            self.get_logger().warning(f'{COMMAND_TOPIC}: NaN or inf in {values}; dropped',
                                      throttle_duration_sec=WARN_PERIOD_S)
            return
        self.env.set_command(values)

    def on_sim_step(self) -> None:
        """Advance sim time one step: physics, /clock, then the sensors due at the new time."""
        if self.done.done():
            return
        self.env.advance(1.0 / self.cfg.clock_rate_hz)
        self.steps += 1
        now = self.now()
        self.clock_pub.publish(ClockMsg(clock=self.stamp()))
        if self.joint_states.due(now):
            self.publish_joint_state()
        if self.cameras.due(now):
            self.on_camera_tick()
        self.check_episode_end()

    def on_physics_tick(self) -> None:
        """Advance physics to the wall clock, publish joint states."""
        if self.done.done():
            return
        now = time.monotonic()
        self.env.advance(min(now - self.last_wall, MAX_STEP_S))
        self.last_wall = now
        self.publish_joint_state()
        self.check_episode_end()

    def publish_joint_state(self) -> None:
        """Publish the arm's joint positions and velocities, stamped now."""
        msg = JointState(name=list(JOINT_NAMES), position=self.env.joint_positions().tolist(),
                         velocity=self.env.joint_velocities().tolist())
        msg.header.stamp = self.stamp()
        self.js_pub.publish(msg)

    def on_camera_tick(self) -> None:
        """Render and publish every camera and the success flag."""
        images = self.env.render()
        if not self.context.ok():
            # SIGTERM shut rclpy down while we rendered; publishing now would raise.
            return
        stamp = self.stamp()
        for cam, image in images.items():
            msg = Image(height=image.shape[0], width=image.shape[1], encoding='rgb8',
                        is_bigendian=0, step=image.shape[1] * 3, data=image.tobytes())
            msg.header.stamp = stamp
            msg.header.frame_id = f'{cam}_camera'
            self.image_pubs[cam].publish(msg)
        self.success_pub.publish(Bool(data=self.env.success()))

    def destroy_node(self):
        """Free the renderer, then the node."""
        self.env.close()
        return super().destroy_node()


def spin(node: SimNode) -> None:
    """Spin until stopped or, with ``episodes`` > 0, until the last episode is written."""
    import rclpy

    rclpy.spin_until_future_complete(node, node.done)


def main(args=None) -> None:
    """Entry point of ``ros2 run vla_ros sim_node``."""
    sys.exit(run_node(SimNode, spin=spin, args=args))


if __name__ == '__main__':
    main()
