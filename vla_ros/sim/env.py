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
`ArmEnv`: the MuJoCo arm, table and cubes, driven by joint position targets.

The caller owns time: ``set_command`` sets the 7 position targets (6 arm joints [rad] and the
gripper [m per finger]) and ``advance`` steps physics at ``physics_rate_hz`` for a duration. A
chunk executor calls both at its control rate; the ROS node calls them against the wall clock.
"""

from __future__ import annotations


import mujoco
import numpy as np

from vla_ros.config import SimConfig
from vla_ros.policy.interface import Observation
from vla_ros.sim.robot import HOME_POSITIONS, JOINT_LIMITS, JOINT_NAMES, SCENE_XML
from vla_ros.sim.tasks import (COLORS, CUBE_HALF_SIZE_M, Episode, parse_task, sample_layout,
                               task_achieved, TASKS)

_SUCCESS_CHECK_PERIOD_S = 0.01
"""Success is evaluated this often while advancing: short touches still count."""


class ArmEnv:
    """
    The simulated arm with its tasks; see docs/simulation.md.

    ``env = ArmEnv(SimConfig())``; ``obs = env.reset(seed=3, task='pick')``; then repeatedly
    ``env.set_command(targets)`` and ``env.advance(dt)``; ``env.success()`` tells whether the
    task has been achieved at any moment since the reset.
    """

    def __init__(self, config: SimConfig | None = None):
        self.config = config if config is not None else SimConfig()
        self.model = mujoco.MjModel.from_xml_path(str(SCENE_XML))
        self.model.opt.timestep = 1.0 / self.config.physics_rate_hz
        # The offscreen buffer must hold the largest image we render.
        self.model.vis.global_.offwidth = max(self.config.image_width, 64)
        self.model.vis.global_.offheight = max(self.config.image_height, 64)
        self.data = mujoco.MjData(self.model)
        model = self.model
        self._qpos = np.array([model.joint(n).qposadr[0] for n in JOINT_NAMES])
        self._mirror_qpos = model.joint('gripper_mirror').qposadr[0]
        self._actuators = np.array([model.actuator(n).id for n in JOINT_NAMES])
        self._cube_body = {c: model.body(f'{c}_cube').id for c in COLORS}
        self._cube_geom = {c: model.geom(f'{c}_cube').id for c in COLORS}
        self._cube_qpos = {c: model.joint(f'{c}_cube').qposadr[0] for c in COLORS}
        gripper_bodies = {model.body(n).id for n in
                          ('hand_link', 'gripper_link', 'finger_left', 'finger_right')}
        self._gripper_geoms = {g for g in range(model.ngeom)
                               if model.geom_bodyid[g] in gripper_bodies}
        self._renderer = None
        self._episode: Episode | None = None
        self._start_xyz = np.zeros(3)
        self._success = False
        self._next_check_s = 0.0

    # ---------------------------------------------------------------- episode
    def reset(self, seed: int, task: str | None = None) -> Observation:
        """
        Start an episode: arm at home (plus seeded noise), cubes placed from `seed`.

        `task` is a task name, an instruction (which also fixes the colour), or None / empty
        for ``config.task``, and if that is empty too, a task drawn from `seed`.
        """
        rng = np.random.default_rng(seed)
        task = task or self.config.task
        name, color = parse_task(task) if task else (None, None)
        if name is None:
            name = list(TASKS)[rng.integers(len(TASKS))]
        if color is None:
            color = (COLORS[rng.integers(len(COLORS))] if self.config.random_target_color
                     else TASKS[name].default_color)
        layout = sample_layout(rng, name, color)
        self._episode = Episode(seed=int(seed), task=name, color=color,
                                instruction=TASKS[name].instruction(color), layout=layout)

        mujoco.mj_resetData(self.model, self.data)
        noise = self.config.init_joint_noise_rad
        q = HOME_POSITIONS.copy()
        q[:6] += rng.uniform(-noise, noise, 6)
        self.data.qpos[self._qpos] = q
        self.data.qpos[self._mirror_qpos] = q[6]
        self.data.ctrl[self._actuators] = q
        for c, (x, y, yaw) in layout.items():
            adr = self._cube_qpos[c]
            self.data.qpos[adr:adr + 3] = (x, y, CUBE_HALF_SIZE_M)
            self.data.qpos[adr + 3:adr + 7] = (np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2))
        mujoco.mj_forward(self.model, self.data)
        self._start_xyz = self.object_position(color)
        self._success = False
        self._next_check_s = 0.0
        return self.observe()

    @property
    def episode(self) -> Episode:
        """Return the current episode's seed, task, target colour, instruction and cube layout."""
        if self._episode is None:
            raise RuntimeError('ArmEnv: call reset() before using the episode')
        return self._episode

    @property
    def task(self) -> str:
        """Return the current task name, a key of `TASKS`."""
        return self.episode.task

    @property
    def instruction(self) -> str:
        """Return the current instruction."""
        return self.episode.instruction

    @property
    def time(self) -> float:
        """Return the simulation time since the reset [s]."""
        return float(self.data.time)

    # ---------------------------------------------------------------- control
    def set_command(self, targets) -> None:
        """
        Set the 7 joint position targets (`JOINT_NAMES` order), clipped to the limits.

        Raises ValueError for a wrong shape or a non-finite value.
        """
        targets = np.asarray(targets, dtype=np.float64)
        if targets.shape != (len(JOINT_NAMES),):
            raise ValueError(f'targets shape {targets.shape}: must be ({len(JOINT_NAMES)},)')
        if not np.isfinite(targets).all():
            raise ValueError('targets: must be finite (got NaN or inf)')
        self.data.ctrl[self._actuators] = JOINT_LIMITS.clip(targets)

    def command(self) -> np.ndarray:
        """Return the position targets in force, (7,)."""
        return self.data.ctrl[self._actuators].copy()

    def advance(self, duration_s: float) -> None:
        """Step physics for `duration_s` (rounded to whole physics steps)."""
        dt = self.model.opt.timestep
        steps = int(round(duration_s / dt))
        while steps > 0:
            # Step in blocks up to the next success check; one C call per block is cheap.
            block = max(1, min(steps, int(round((self._next_check_s - self.data.time) / dt))))
            mujoco.mj_step(self.model, self.data, block)
            steps -= block
            if self.data.time >= self._next_check_s - 0.5 * dt:
                self._check_success()
                self._next_check_s = self.data.time + _SUCCESS_CHECK_PERIOD_S

    # ---------------------------------------------------------------- sensing
    def joint_positions(self) -> np.ndarray:
        """Joint positions (7,) in `JOINT_NAMES` order [rad, m]."""
        return self.data.qpos[self._qpos].copy()

    def joint_velocities(self) -> np.ndarray:
        """Joint velocities (7,) in `JOINT_NAMES` order [rad/s, m/s]."""
        dof = [self.model.jnt_dofadr[self.model.joint(n).id] for n in JOINT_NAMES]
        return self.data.qvel[dof].copy()

    def observe(self, render: bool = True) -> Observation:
        """Return the current observation; ``render=False`` skips the cameras (no images)."""
        images = self.render() if render else {}
        return Observation(images=images, state=self.joint_positions(),
                           instruction=self.episode.instruction, stamp=self.time)

    def render(self) -> dict:
        """Render every configured camera: ``{name: uint8 (H, W, 3)}``."""
        if self._renderer is None:
            self._renderer = mujoco.Renderer(self.model, self.config.image_height,
                                             self.config.image_width)
        images = {}
        for cam in self.config.cameras:
            self._renderer.update_scene(self.data, camera=cam)
            images[cam] = self._renderer.render().copy()
        return images

    def object_position(self, color: str) -> np.ndarray:
        """Centre of the `color` cube in the world [m], (3,)."""
        return self.data.xpos[self._cube_body[color]].copy()

    def object_yaw(self, color: str) -> float:
        """Yaw of the `color` cube about the vertical [rad]."""
        rot = self.data.xmat[self._cube_body[color]].reshape(3, 3)
        return float(np.arctan2(rot[1, 0], rot[0, 0]))

    def gripper_touches(self, color: str) -> bool:
        """Whether any gripper geom is in contact with the `color` cube now."""
        cube = self._cube_geom[color]
        for i in range(self.data.ncon):
            contact = self.data.contact[i]
            pair = (contact.geom1, contact.geom2)
            if cube in pair and (pair[0] in self._gripper_geoms
                                 or pair[1] in self._gripper_geoms):
                return True
        return False

    # ---------------------------------------------------------------- success
    def success(self) -> bool:
        """Whether the task has been achieved at any check since the reset (latched)."""
        self._check_success()
        return self._success

    def _check_success(self) -> None:
        if self._success or self._episode is None:
            return
        color = self._episode.color
        self._success = task_achieved(self._episode.task, self._start_xyz,
                                      self.object_position(color), self.gripper_touches(color))

    def close(self) -> None:
        """Free the renderer's GL context."""
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
