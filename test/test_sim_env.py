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

"""ArmEnv: reset, observation, control, success checks; the sim core imports without ROS."""

import subprocess
import sys

import numpy as np
import pytest

from vla_ros.config import ConfigError, SimConfig
from vla_ros.sim import (ArmEnv, CAMERA_NAMES, HOME_POSITIONS, JOINT_LIMITS, JOINT_NAMES,
                         parse_task, TaskError, TASKS)


@pytest.fixture(scope='module')
def env():
    env = ArmEnv(SimConfig(image_width=64, image_height=48))
    yield env
    env.close()


def test_api_constants():
    assert JOINT_NAMES == ('shoulder_pan', 'shoulder_lift', 'elbow_flex', 'forearm_roll',
                           'wrist_flex', 'wrist_roll', 'gripper')
    assert CAMERA_NAMES == ('scene', 'wrist')
    for name in ('lower', 'upper', 'max_velocity', 'max_acceleration'):
        assert getattr(JOINT_LIMITS, name).shape == (7,)
    assert np.all(JOINT_LIMITS.lower < JOINT_LIMITS.upper)
    assert np.all((HOME_POSITIONS >= JOINT_LIMITS.lower) & (HOME_POSITIONS <= JOINT_LIMITS.upper))
    assert set(TASKS) == {'touch', 'push_left', 'pick'}


def test_mjcf_matches_joint_limits(env):
    for i, name in enumerate(JOINT_NAMES):
        lo, hi = env.model.joint(name).range
        assert (lo, hi) == pytest.approx((JOINT_LIMITS.lower[i], JOINT_LIMITS.upper[i]))
    assert env.model.opt.timestep == pytest.approx(1 / 500)


def test_reset_observation(env):
    obs = env.reset(seed=1, task='pick')
    assert set(obs.images) == {'scene', 'wrist'}
    for image in obs.images.values():
        assert image.shape == (48, 64, 3) and image.dtype == np.uint8
        assert image.std() > 5           # something was drawn
    assert obs.state.shape == (7,) and obs.state.dtype == np.float64
    assert obs.instruction == 'pick up the green cube' == env.instruction
    assert obs.stamp == 0.0 == env.time
    assert env.task == 'pick'
    assert np.abs(obs.state - HOME_POSITIONS).max() <= 0.02 + 1e-9
    assert env.observe(render=False).images == {}


def test_reset_is_deterministic_per_seed(env):
    first = env.reset(seed=7)
    layout, task = env.episode.layout, env.task
    again = env.reset(seed=7)
    assert env.episode.layout == layout and env.task == task
    np.testing.assert_array_equal(first.state, again.state)
    np.testing.assert_array_equal(first.images['scene'], again.images['scene'])
    env.reset(seed=8)
    assert env.episode.layout != layout


def test_seeds_cover_every_task(env):
    tasks = set()
    for seed in range(30):
        env.reset(seed)
        tasks.add(env.task)
    assert tasks == set(TASKS)


def test_instruction_selects_task_and_colour(env):
    env.reset(seed=2, task='Touch the blue cube.')
    assert (env.task, env.episode.color) == ('touch', 'blue')
    assert parse_task('push the red cube to the left') == ('push_left', 'red')
    assert parse_task('pick') == ('pick', None)
    with pytest.raises(TaskError, match="task='dance'"):
        parse_task('dance')


def test_random_target_colour():
    env = ArmEnv(SimConfig(random_target_color=True, cameras=('scene',)))
    colors = set()
    for seed in range(20):
        env.reset(seed, 'pick')
        colors.add(env.episode.color)
        assert env.instruction == f'pick up the {env.episode.color} cube'
    assert colors == {'red', 'green', 'blue'}


def test_cubes_apart_and_in_workspace(env):
    for seed in range(40):
        env.reset(seed)
        xy = np.array([p[:2] for p in env.episode.layout.values()])
        gaps = np.linalg.norm(xy[:, None] - xy[None], axis=-1)[np.triu_indices(3, 1)]
        assert gaps.min() >= 0.09
        assert np.all((xy[:, 0] >= 0.27) & (xy[:, 0] <= 0.43))


def test_position_control_tracks_targets(env):
    env.reset(seed=0, task='touch')
    target = HOME_POSITIONS + np.array([0.3, -0.2, 0.2, 0.1, -0.1, 0.4, -0.02])
    env.set_command(target)
    env.advance(1.5)
    assert env.time == pytest.approx(1.5)
    np.testing.assert_allclose(env.joint_positions(), target, atol=0.01)
    np.testing.assert_allclose(env.command(), target)


def test_commands_are_clipped_and_validated(env):
    env.reset(seed=0)
    env.set_command(JOINT_LIMITS.upper + 1.0)
    np.testing.assert_allclose(env.command(), JOINT_LIMITS.upper)
    with pytest.raises(ValueError, match=r'shape \(6,\)'):
        env.set_command(np.zeros(6))
    bad = HOME_POSITIONS.copy()
    bad[2] = np.nan
    with pytest.raises(ValueError, match='finite'):
        env.set_command(bad)


@pytest.mark.parametrize('task', list(TASKS))
def test_no_success_when_the_arm_stays_home(env, task):
    env.reset(seed=4, task=task)
    env.set_command(env.joint_positions())
    env.advance(2.0)
    assert not env.success()


def _move_cube(env, color, dxyz):
    adr = env.model.joint(f'{color}_cube').qposadr[0]
    env.data.qpos[adr:adr + 3] += dxyz
    env.data.qvel[:] = 0


def test_push_success_needs_five_cm_left_on_the_table(env):
    env.reset(seed=5, task='push_left')
    env.set_command(env.joint_positions())
    _move_cube(env, 'blue', (0, 0.06, 0))          # right, not left
    env.advance(0.1)
    assert not env.success()
    _move_cube(env, 'blue', (0, -0.06 - 0.04, 0))  # 4 cm left: not enough
    env.advance(0.1)
    assert not env.success()
    _move_cube(env, 'blue', (0, -0.02, 0))         # 6 cm left
    env.advance(0.1)
    assert env.success()
    _move_cube(env, 'blue', (0, 0.06, 0))          # latched: stays achieved
    env.advance(0.1)
    assert env.success()


def test_pick_success_needs_the_gripper(env):
    env.reset(seed=6, task='pick')
    env.set_command(env.joint_positions())
    # A cube flung up without the gripper touching it is not picked.
    adr = env.model.joint('green_cube').dofadr[0]
    env.data.qvel[adr + 2] = 1.5
    env.advance(0.3)
    assert not env.success()


def test_touch_success_on_contact(env):
    env.reset(seed=3, task='touch')
    assert not env.success()
    # Put the red cube between the open fingers, its top 1 mm into the palm (5 cm above the
    # fingertips): in contact from the first step on.
    tcp = env.data.site('tcp').xpos.copy()
    adr = env.model.joint('red_cube').qposadr[0]
    env.data.qpos[adr:adr + 3] = tcp + (0, 0, 0.05 - 0.02 + 0.001)
    env.data.qpos[adr + 3:adr + 7] = (1, 0, 0, 0)
    env.set_command(env.joint_positions())
    env.advance(0.01)
    assert env.success()


def test_sim_config_rules():
    with pytest.raises(ConfigError, match=r"sim_node.task='dance': must be"):
        SimConfig(task='dance')
    with pytest.raises(ConfigError, match=r'sim_node.cameras=\[.top.\]: each must be'):
        SimConfig(cameras=('top',))
    with pytest.raises(ConfigError, match='sim_node.physics_rate_hz=100: must be >= 500'):
        SimConfig(physics_rate_hz=100)
    assert SimConfig(task='pick up the red cube').task == 'pick up the red cube'


def test_sim_core_imports_without_ros():
    code = ("import sys; sys.modules['rclpy'] = None; "
            'import vla_ros.sim, vla_ros.sim.env, vla_ros.sim.expert, vla_ros.sim.dataset')
    subprocess.run([sys.executable, '-c', code], check=True)


def test_robot_and_tasks_import_without_mujoco():
    code = ("import sys; sys.modules['mujoco'] = None; sys.modules['scipy'] = None; "
            'from vla_ros.sim import JOINT_NAMES, TASKS, JOINT_LIMITS')
    subprocess.run([sys.executable, '-c', code], check=True)
