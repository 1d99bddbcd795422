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
The ROS nodes' configs: one frozen dataclass per node, validated in ``__post_init__``.

Every field has a default, a unit in its name where it has one, and a help string (the ROS
parameter description); a field marked read-only cannot change on a running node.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from vla_ros.config.schema import param, require, require_choice, require_finite


@dataclass(frozen=True)
class ExecutorConfig:
    """The chunk executor: action chunks in, joint commands at control rate out."""

    SECTION: ClassVar[str] = 'chunk_executor'
    ALIAS: ClassVar[str] = 'executor'

    joint_names: tuple[str, ...] = param(
        (), "Joints in command order (the controller's order). Empty: take the first "
        "chunk's order.", read_only=True)
    control_rate_hz: float = param(
        500.0, 'Rate of the control tick [Hz]: commands are published at it (forward_position, '
        'joint_trajectory, joint_state). A forward controller takes the newest command at '
        'each update: keep this a multiple (>= 2x) of its update rate, else commands are '
        'reused or skipped.')
    blend_mode: str = param(
        'crossfade', 'How a new chunk takes over from the one being executed: replace, '
        'crossfade or weighted_average.')
    crossfade_s: float = param(0.2, 'Overlap over which crossfade ramps old -> new [s].')
    old_chunk_weight: float = param(
        0.3, 'weighted_average: weight of the old chunk where chunks overlap (LeRobot: 0.3).')
    interpolation: str = param(
        'cubic', 'Interpolation between action steps: linear, cubic or quintic.')
    max_chunk_age_s: float = param(
        1.0, 'A chunk whose observation is older than this is rejected; when the newest '
        'chunk gets this old the arm stops and holds [s].')
    max_future_stamp_s: float = param(
        0.5, 'Chunks stamped further than this in the future are rejected [s].')
    position_lower: tuple[float, ...] = param(
        (), 'Lower position bound per joint, command order [rad or m]. Empty: none.')
    position_upper: tuple[float, ...] = param(
        (), 'Upper position bound per joint, command order [rad or m]. Empty: none.')
    max_velocity: tuple[float, ...] = param(
        (1.0,), 'Velocity limit per joint [rad/s or m/s]; one value applies to all joints.')
    max_acceleration: tuple[float, ...] = param(
        (4.0,), 'Acceleration limit per joint [rad/s^2 or m/s^2]; one value applies to all '
        'joints.')
    stop_deceleration: tuple[float, ...] = param(
        (), 'Deceleration of a pause (e-stop) [rad/s^2]; one value or one per joint; '
        'empty: max_acceleration.')
    urdf_path: str = param(
        '', 'Optional URDF file; its <limit> tags (lower, upper, velocity) tighten the limits '
        'above, joint by joint.', read_only=True)
    command_interface: str = param(
        'forward_position', 'Command message: forward_position (Float64MultiArray), '
        'joint_trajectory (single-point JointTrajectory), joint_trajectory_window (the next '
        'window_s of commands as a stamped JointTrajectory that a joint_trajectory_controller '
        'interpolates, at window_rate_hz) or joint_state (JointState).', read_only=True)
    command_topic: str = param(
        '/forward_position_controller/commands', 'Topic the commands are published on.',
        read_only=True)
    state_rate_hz: float = param(
        20.0, 'Rate of the executor state (~/state, read by the policy node) [Hz].')
    diagnostics_period_s: float = param(1.0, 'Period of /diagnostics [s].')
    plan_horizon_s: float = param(
        2.0, 'How far ahead ~/plan (what the executor will command if no chunk arrives, read '
        'for real-time chunking) reaches, published with ~/state; 0: not published [s].')
    plan_dt_s: float = param(0.02, 'Time between two points of ~/plan [s].')
    window_s: float = param(
        0.2, 'joint_trajectory_window: how far ahead each window reaches; its last point is '
        'at rest, so a controller left without windows stops there [s].')
    window_rate_hz: float = param(
        50.0, 'joint_trajectory_window: windows per second; also the spacing of their points '
        '(1/window_rate_hz) [Hz].')
    control_thread: bool = param(
        True, 'Tick in a dedicated thread that sleeps until each period on the monotonic clock '
        '(steadier than an rclpy timer); false, or use_sim_time: an rclpy timer on the node '
        'clock.', read_only=True)
    control_thread_priority: int = param(
        40, 'Real-time (SCHED_FIFO) priority of the control thread, 1-99 (the callbacks get one '
        'less), below the 50 of ros2_control_node; needs rtprio rights (else the node says so '
        'once and runs at normal priority); 0: normal priority.', read_only=True)
    follow_tolerance: tuple[float, ...] = param(
        (0.1,), 'Largest |joint_states - command| that counts as following; one value or one '
        'per joint [rad or m].')
    follow_timeout_s: float = param(
        0.25, 'A joint beyond follow_tolerance this long means the controller does not follow: '
        'ERROR in /diagnostics, an error log line, follow_error=2 in ~/state [s].')
    follow_delay_s: float = param(
        0.01, 'joint_states at time t are compared with the command of t - follow_delay_s '
        '(one controller period) [s].')
    pause_on_follow_error: bool = param(
        False, 'Pause (as ~/pause) when the controller does not follow; ~/resume continues.')

    def __post_init__(self):
        require_finite(self, 'window_s', 'window_rate_hz', 'follow_tolerance',
                       'follow_timeout_s', 'follow_delay_s')
        require(self, 'window_rate_hz', 1 <= self.window_rate_hz <= 1000, 'must be in [1, 1000]')
        require(self, 'window_s', 1.0 / self.window_rate_hz <= self.window_s <= 10,
                'must be in [1/window_rate_hz, 10]')
        require(self, 'follow_tolerance', len(self.follow_tolerance) > 0 and all(
            v > 0 for v in self.follow_tolerance), 'needs one value or one per joint, each > 0')
        require(self, 'control_thread_priority', 0 <= self.control_thread_priority <= 99,
                'must be in [0, 99]')
        require(self, 'follow_timeout_s', self.follow_timeout_s >= 0, 'must be >= 0')
        require(self, 'follow_delay_s', 0 <= self.follow_delay_s <= 1, 'must be in [0, 1]')
        require(self, 'follow_tolerance', len(self.follow_tolerance) == 1
                or not self.joint_names or len(self.follow_tolerance) == len(self.joint_names),
                f'needs one value or one per joint ({len(self.joint_names)})')
        require_finite(self, 'plan_horizon_s', 'plan_dt_s')
        require(self, 'plan_horizon_s', 0 <= self.plan_horizon_s <= 60, 'must be in [0, 60]')
        require(self, 'plan_dt_s', 1e-3 <= self.plan_dt_s <= 1, 'must be in [0.001, 1]')
        require_finite(self, 'control_rate_hz', 'crossfade_s', 'old_chunk_weight',
                       'max_chunk_age_s', 'max_future_stamp_s', 'position_lower',
                       'position_upper', 'max_velocity', 'max_acceleration',
                       'stop_deceleration', 'state_rate_hz', 'diagnostics_period_s')
        require(self, 'control_rate_hz', self.control_rate_hz > 0, 'must be > 0')
        require_choice(self, 'blend_mode', ('replace', 'crossfade', 'weighted_average'))
        require_choice(self, 'interpolation', ('linear', 'cubic', 'quintic'))
        require_choice(self, 'command_interface', ('forward_position', 'joint_trajectory',
                                                   'joint_trajectory_window', 'joint_state'))
        require(self, 'crossfade_s', self.crossfade_s >= 0, 'must be >= 0')
        require(self, 'old_chunk_weight', 0 <= self.old_chunk_weight <= 1,
                'must be in [0, 1]')
        require(self, 'max_chunk_age_s', self.max_chunk_age_s > 0, 'must be > 0')
        require(self, 'max_future_stamp_s', self.max_future_stamp_s >= 0, 'must be >= 0')
        require(self, 'state_rate_hz', self.state_rate_hz > 0, 'must be > 0')
        require(self, 'diagnostics_period_s', self.diagnostics_period_s > 0, 'must be > 0')
        require(self, 'command_topic', bool(self.command_topic), 'must not be empty')
        for name in ('max_velocity', 'max_acceleration'):
            require(self, name, len(getattr(self, name)) > 0,
                    'needs one value or one per joint (the executor must not run unlimited)')
        require(self, 'joint_names', len(set(self.joint_names)) == len(self.joint_names),
                'joint names must be unique')
        n = len(self.joint_names)
        for name in ('position_lower', 'position_upper'):
            value = getattr(self, name)
            require(self, name, not value or not n or len(value) == n,
                    f'needs one value per joint ({n})')
        for name in ('max_velocity', 'max_acceleration', 'stop_deceleration'):
            value = getattr(self, name)
            require(self, name, not value or len(value) == 1 or not n or len(value) == n,
                    f'needs one value or one per joint ({n})')
            require(self, name, all(v > 0 for v in value), 'every value must be > 0')
        if self.position_lower and self.position_upper:
            require(self, 'position_upper',
                    len(self.position_lower) == len(self.position_upper) and all(
                        lo < hi for lo, hi in zip(self.position_lower, self.position_upper)),
                    'must be above position_lower, joint by joint')


@dataclass(frozen=True)
class PolicyNodeConfig:
    """The policy node: cameras, joint states and an instruction in; action chunks out."""

    SECTION: ClassVar[str] = 'policy_node'
    ALIAS: ClassVar[str] = 'policy'

    checkpoint_path: str = param(
        '', 'Policy checkpoint directory: ours (config.json + model.safetensors) or a LeRobot '
        'SmolVLA one. Empty: the demo policy shipped in models/.', read_only=True)
    device: str = param('cpu', 'Torch device: cpu, cuda or cuda:N.', read_only=True)
    dtype: str = param('float32', 'Inference dtype: float32 or bfloat16.', read_only=True)
    num_threads: int = param(
        0, "Torch CPU threads for inference; 0: torch's default (all cores). On a machine "
        'shared with a simulator or other nodes, fewer threads can be faster.', read_only=True)
    camera_topics: tuple[str, ...] = param(
        ('camera/scene/image_raw', 'camera/wrist/image_raw'),
        "Image topics, one per camera slot of the model (default: the simulation's).",
        read_only=True)
    camera_slots: tuple[str, ...] = param(
        (), "Model camera name for each topic (same order). Empty: the model's own order.",
        read_only=True)
    compressed: tuple[bool, ...] = param(
        (), 'Per topic: true for sensor_msgs/CompressedImage. Empty: all raw Image.',
        read_only=True)
    joint_names: tuple[str, ...] = param(
        (), "The robot's names for the model's action joints, in the model's order; "
        'joint_states is read and chunks are published by these names. Empty: the '
        "checkpoint's names.", read_only=True)
    instruction: str = param('', 'Default instruction until one arrives on the topic.')
    trigger: str = param(
        'horizon', "When to infer: horizon (executor's remaining horizon below "
        'trigger_horizon_s), rate (fixed rate) or service (on request).')
    trigger_horizon_s: float = param(
        0.5, 'Start the next inference when the executor has less than this left [s].')
    trigger_rate_hz: float = param(2.0, 'Inference rate when trigger is rate [Hz].')
    horizon_rearm_s: float = param(
        0.5, 'After a chunk is published, the horizon trigger waits for the executor to report '
        'the new horizon, or this long [s].')
    executor_state_topic: str = param(
        'chunk_executor/state', 'Executor state topic whose remaining horizon drives the '
        'horizon trigger.', read_only=True)
    max_obs_age_s: float = param(0.5, 'Inputs older than this are not used [s].')
    max_sync_skew_s: float = param(0.1, 'Largest spread of camera stamps allowed [s].')
    action_mode: str = param(
        '', 'Model actions: absolute (joint targets) or delta (offsets from the observed '
        'state, added back before publishing). Empty: as the checkpoint says.', read_only=True)
    num_steps: int = param(0, "Flow-matching steps; 0: the checkpoint's value.")
    warmup: bool = param(
        True, 'Run one inference on configure so the first chunk is fast.', read_only=True)
    diagnostics_period_s: float = param(2.0, 'Period of diagnostics and the log summary [s].')
    warn_period_s: float = param(
        5.0, 'A refused observation is warned about at most once per cause per period [s].')
    rtc_guidance: str = param(
        '', 'Real-time chunking: the new chunk continues what the executor will command while '
        'the policy thinks. Empty: off; lerobot (guidance without the Jacobian, as LeRobot '
        "0.6.1), vjp (the paper's guidance, one backward pass per step) or trained (a "
        'policy trained with delayed prefixes: the prefix is clamped, no guidance).')
    rtc_schedule: str = param(
        'linear', 'Real-time chunking prefix weights over the overlap: zeros, ones, linear or '
        'exp.')
    rtc_max_guidance_weight: float = param(
        10.0, 'Real-time chunking: upper bound of the guidance weight (LeRobot 0.6.1: 10).')
    rtc_execution_horizon: int = param(
        0, 'Real-time chunking: steps of the previous chunk the new one is guided towards; '
        "0: the policy's chunk length.")
    rtc_delay_percentile: float = param(
        90.0, 'Real-time chunking: the frozen prefix covers this percentile of the recent '
        'inference latencies plus the observation age, in action steps rounded up [%].')
    executor_plan_topic: str = param(
        'chunk_executor/plan', "The executor's plan (what it will command), read for "
        'real-time chunking.', read_only=True)

    def __post_init__(self):
        require_finite(self, 'trigger_horizon_s', 'trigger_rate_hz', 'max_obs_age_s',
                       'max_sync_skew_s', 'diagnostics_period_s', 'horizon_rearm_s',
                       'warn_period_s', 'rtc_max_guidance_weight', 'rtc_delay_percentile')
        require_choice(self, 'rtc_guidance', ('', 'lerobot', 'vjp', 'trained'))
        require_choice(self, 'rtc_schedule', ('zeros', 'ones', 'linear', 'exp'))
        require(self, 'rtc_max_guidance_weight', self.rtc_max_guidance_weight > 0,
                'must be > 0')
        require(self, 'rtc_execution_horizon', self.rtc_execution_horizon >= 0, 'must be >= 0')
        require(self, 'rtc_delay_percentile', 0 < self.rtc_delay_percentile <= 100,
                'must be in (0, 100]')
        require(self, 'executor_plan_topic', not self.rtc_guidance
                or bool(self.executor_plan_topic), 'must be set when rtc_guidance is set')
        require(self, 'device', self.device == 'cpu' or self.device.startswith('cuda'),
                'must be cpu, cuda or cuda:N')
        require_choice(self, 'dtype', ('float32', 'bfloat16'))
        require_choice(self, 'trigger', ('horizon', 'rate', 'service'))
        require_choice(self, 'action_mode', ('', 'absolute', 'delta'))
        require(self, 'camera_topics', len(self.camera_topics) > 0, 'needs at least one topic')
        require(self, 'camera_slots', not self.camera_slots
                or len(self.camera_slots) == len(self.camera_topics),
                'needs one slot per camera topic')
        require(self, 'compressed', not self.compressed
                or len(self.compressed) == len(self.camera_topics),
                'needs one flag per camera topic')
        require(self, 'trigger_horizon_s', self.trigger_horizon_s >= 0, 'must be >= 0')
        require(self, 'trigger_rate_hz', self.trigger_rate_hz > 0, 'must be > 0')
        require(self, 'max_obs_age_s', self.max_obs_age_s > 0, 'must be > 0')
        require(self, 'max_sync_skew_s', self.max_sync_skew_s >= 0, 'must be >= 0')
        require(self, 'num_steps', self.num_steps >= 0, 'must be >= 0')
        require(self, 'num_threads', 0 <= self.num_threads <= 1024, 'must be in [0, 1024]')
        require(self, 'diagnostics_period_s', self.diagnostics_period_s > 0, 'must be > 0')
        require(self, 'horizon_rearm_s', self.horizon_rearm_s > 0, 'must be > 0')
        require(self, 'warn_period_s', self.warn_period_s >= 0, 'must be >= 0')
        require(self, 'joint_names', len(set(self.joint_names)) == len(self.joint_names),
                'joint names must be unique')
        require(self, 'camera_topics', len(set(self.camera_topics)) == len(self.camera_topics),
                'topics must be unique')
        require(self, 'executor_state_topic', self.trigger != 'horizon'
                or bool(self.executor_state_topic), 'must be set when trigger is horizon')


@dataclass(frozen=True)
class SimConfig:
    """The MuJoCo simulation: arm, table, cubes, cameras, tasks (see docs/simulation.md)."""

    SECTION: ClassVar[str] = 'sim_node'
    ALIAS: ClassVar[str] = 'sim'

    task: str = param(
        '', 'Task name (touch, push_left, pick) or instruction such as "pick up the green '
        'cube"; empty: every task in turn (touch, push_left, pick, touch, ...), as vla-ros eval.')
    seed: int = param(0, "Seed of the first episode's object poses; episode k uses seed + k.")
    random_target_color: bool = param(
        False, 'Draw the target cube colour per episode; false: each task has its fixed '
        'colour (touch red, push_left blue, pick green).')
    image_width: int = param(96, 'Rendered camera width [px].', read_only=True)
    image_height: int = param(96, 'Rendered camera height [px].', read_only=True)
    cameras: tuple[str, ...] = param(
        ('scene', 'wrist'), 'Cameras to render: any of scene (across the table) and wrist.',
        read_only=True)
    physics_rate_hz: float = param(500.0, 'Physics step rate [Hz].', read_only=True)
    init_joint_noise_rad: float = param(
        0.02, 'Uniform noise on the arm joints of the start pose, per episode [rad].')
    joint_state_rate_hz: float = param(100.0, 'Rate of published joint states [Hz].')
    camera_rate_hz: float = param(10.0, 'Rate of rendered and published images [Hz].')
    clock_rate_hz: float = param(
        100.0, 'With use_sim_time: sim-time steps per simulated second; each step advances '
        'physics by 1/clock_rate_hz, publishes /clock and lets the nodes on sim time tick, so a '
        'chunk executor on sim time should run at this control_rate_hz. Must divide '
        'physics_rate_hz.', read_only=True)
    real_time_factor: float = param(
        1.0, 'With use_sim_time: simulated seconds per wall second the sim aims for (1.0: '
        'lock-step with the wall clock; 0.5: half speed). A step that comes late is not made '
        'up, so a loaded machine slows sim time instead of making the policy look late.')
    episode_time_s: float = param(
        20.0, 'Episode length before it counts as failed and the node starts the next [s].')
    reset_after_success_s: float = param(
        2.0, 'The node starts the next episode this long after success; <= 0: never [s].')
    episodes: int = param(
        0, 'Run this many episodes (the first once a chunk has arrived), then print the '
        'success table, write summary.json and table.md into out_dir, and exit; 0: run until '
        'stopped.', read_only=True)
    out_dir: str = param('outputs/sim_launch', 'Where an episodes run writes summary.json and '
                         'table.md (relative: to the working directory).', read_only=True)
    executor_node: str = param(
        'chunk_executor', 'Chunk executor node re-synced at every episode start (its ~/pause '
        'then ~/resume), so it holds the new start pose instead of pulling the arm back to '
        'where the last episode ended; empty: none. Skipped while its services are absent.')

    def __post_init__(self):
        require_finite(self, 'physics_rate_hz', 'joint_state_rate_hz', 'camera_rate_hz',
                       'episode_time_s', 'init_joint_noise_rad', 'reset_after_success_s',
                       'clock_rate_hz', 'real_time_factor')
        for name in ('image_width', 'image_height'):
            require(self, name, 16 <= getattr(self, name) <= 4096, 'must be in [16, 4096]')
        require(self, 'physics_rate_hz', self.physics_rate_hz >= 500, 'must be >= 500')
        for name in ('joint_state_rate_hz', 'camera_rate_hz', 'episode_time_s'):
            require(self, name, getattr(self, name) > 0, 'must be > 0')
        require(self, 'clock_rate_hz', 10 <= self.clock_rate_hz <= self.physics_rate_hz,
                'must be in [10, physics_rate_hz]')
        steps = self.physics_rate_hz / self.clock_rate_hz
        require(self, 'clock_rate_hz', abs(steps - round(steps)) < 1e-9,
                f'must divide physics_rate_hz={self.physics_rate_hz:g} (a whole number of '
                'physics steps per sim-time step)')
        require(self, 'real_time_factor', 0.01 <= self.real_time_factor <= 100,
                'must be in [0.01, 100]')
        require(self, 'seed', self.seed >= 0, 'must be >= 0')
        require(self, 'episodes', self.episodes >= 0, 'must be >= 0')
        require(self, 'reset_after_success_s', self.episodes == 0
                or self.reset_after_success_s > 0, 'must be > 0 when episodes > 0')
        require(self, 'out_dir', self.episodes == 0 or bool(self.out_dir.strip()),
                'must be set when episodes > 0')
        require(self, 'init_joint_noise_rad', 0 <= self.init_joint_noise_rad <= 0.2,
                'must be in [0, 0.2]')
        require(self, 'cameras', len(self.cameras) > 0, 'needs at least one camera')
        require(self, 'cameras', len(set(self.cameras)) == len(self.cameras),
                'camera names must be unique')
        require(self, 'cameras', all(c in ('scene', 'wrist') for c in self.cameras),
                'each must be scene or wrist')
        if self.task:
            # Imported here: vla_ros.sim.tasks is numpy only, and config stays light.
            from vla_ros.sim.tasks import parse_task, TaskError
            try:
                parse_task(self.task)
            except TaskError:
                require(self, 'task', False, 'must be touch, push_left, pick or an '
                        'instruction such as "pick up the green cube"')
