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

"""Recording expert demonstrations: DART-style perturbation, parallel workers, the cache."""

from dataclasses import replace

import numpy as np
import pytest

from vla_ros.config import ConfigError, SimConfig
from vla_ros.sim import JOINT_LIMITS
from vla_ros.sim.rollout import record_episodes, SmoothNoise

SMALL = SimConfig(image_width=32, image_height=32)


def test_smooth_noise_fades_in_is_smooth_and_leaves_the_gripper_alone():
    noise = SmoothNoise(np.random.default_rng(3), perturb_rad=0.1)
    t = np.arange(0.0, 30.0, 0.01)
    offsets = np.array([noise(s) for s in t])
    assert np.all(offsets[0] == 0.0)
    assert np.all(offsets[:, -1] == 0.0)
    steady = offsets[t >= SmoothNoise.FADE_IN_S, :-1]
    # The standard deviation is the drawn fraction of perturb_rad, the same for every joint.
    std = steady.std(0)
    assert 0.0 < std.max() <= 0.1 * 1.15
    np.testing.assert_allclose(std, std.mean(), rtol=0.35)
    # Three waves below 1 Hz with amplitudes summing to at most sqrt(6) * 0.1 (plus the
    # fade-in ramp): 10 ms apart, no jump larger than that allows (white noise: ~0.14).
    peak = np.sqrt(6) * 0.1
    bound = (2 * np.pi * 1.0 * peak + peak / SmoothNoise.FADE_IN_S) * 0.01
    assert np.abs(np.diff(offsets, axis=0)).max() <= bound
    again = SmoothNoise(np.random.default_rng(3), perturb_rad=0.1)
    np.testing.assert_array_equal(again(7.3), noise(7.3))


def test_perturbed_recording_labels_the_plan_while_the_arm_is_pushed_off_it():
    clean, = record_episodes(SMALL, [(4, 'touch')], fps=10)
    pushed, = record_episodes(SMALL, [(4, 'touch')], fps=10, perturb_rad=0.1)
    # Same seed, same plan: the labels are identical; what was measured is not.
    np.testing.assert_array_equal(pushed.action, clean.action)
    gap = np.abs(pushed.state[:, :6] - clean.state[:, :6]).max()
    assert gap > 0.02, gap
    assert np.all(pushed.state[:, :6] >= JOINT_LIMITS.lower[:6] - 1e-3)
    assert np.all(pushed.state[:, :6] <= JOINT_LIMITS.upper[:6] + 1e-3)


def test_parallel_recording_gives_the_serial_episodes_in_order():
    jobs = [(7, 'pick'), (8, 'touch'), (9, 'push_left')]
    serial = list(record_episodes(SMALL, jobs, workers=1, fps=10, perturb_rad=0.05))
    parallel = list(record_episodes(SMALL, jobs, workers=2, fps=10, perturb_rad=0.05))
    assert [e.seed for e in parallel] == [7, 8, 9]
    for a, b in zip(serial, parallel):
        assert (a.task, a.success) == (b.task, b.success)
        np.testing.assert_array_equal(a.state, b.state)
        np.testing.assert_array_equal(a.images['wrist'], b.images['wrist'])


def test_training_episode_cache_is_reused_only_for_the_same_settings(tmp_path):
    pytest.importorskip('torch')
    from vla_ros.training.build import EPISODE_CACHE, load_or_record_episodes
    from vla_ros.training.train_config import TrainConfig

    cfg = TrainConfig(image_size=16)
    sim = replace(SMALL, cameras=('scene',))
    first = load_or_record_episodes(tmp_path, cfg, sim, '', 1, 0, 10.0)
    assert (tmp_path / EPISODE_CACHE).is_file()
    again = load_or_record_episodes(tmp_path, cfg, sim, '', 1, 0, 10.0)
    np.testing.assert_array_equal(again[0].images['scene'], first[0].images['scene'])
    with pytest.raises(ConfigError, match=r'image_size: cached \[16, 16\], now \[32, 32\]'):
        load_or_record_episodes(tmp_path, replace(cfg, image_size=32), sim, '', 1, 0, 10.0)
    with pytest.raises(ConfigError, match='perturb_rad'):
        load_or_record_episodes(tmp_path, replace(cfg, record_perturb_rad=0.05), sim, '', 1,
                                0, 10.0)
