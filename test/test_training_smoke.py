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
A short training run of the real SmolVLA code (tiny preset) lowers the loss.

Synthetic demonstrations keep it independent of MuJoCo: the image shows a bright square whose
position sets the action, so the loss can only fall far by reading the image.
"""

import numpy as np
import pytest

torch = pytest.importorskip('torch')
pytest.importorskip('safetensors')
pytest.importorskip('transformers')

from vla_ros.policy import Policy  # noqa: E402
from vla_ros.training.build import build_policy, read_episodes, write_episodes  # noqa: E402
from vla_ros.training.data import ChunkSamples, EpisodeArrays  # noqa: E402
from vla_ros.training.train_config import TrainConfig  # noqa: E402
from vla_ros.training.trainer import train  # noqa: E402


def synthetic_episodes(n=12, length=20, size=32, seed=0):
    rng = np.random.default_rng(seed)
    episodes = []
    for i in range(n):
        x, y = rng.integers(4, size - 12, size=2)
        images = np.zeros((length, size, size, 3), np.uint8)
        images[:, y:y + 8, x:x + 8] = (220, 40, 40)
        goal = np.array([x, y, 0, 0, 0, 0, 0], float) / size
        ramp = np.linspace(0, 1, length)[:, None]
        action = ramp * goal                                  # (T, 7) moves towards the goal
        state = np.vstack([action[:1], action[:-1]])         # lags one frame behind
        episodes.append(EpisodeArrays({'scene': images, 'wrist': images[:, ::-1].copy()},
                                      state, action, 'touch the red cube'))
    return episodes


def test_short_training_run_lowers_the_loss_and_saves_a_loadable_policy(tmp_path):
    torch.manual_seed(0)
    cfg = TrainConfig(model_preset='tiny', image_size=32, chunk_size=8, steps=120,
                      batch_size=16, learning_rate=2e-3, warmup_steps=10,
                      log_every_steps=20, save_every_steps=60, augment_shift_px=1,
                      num_threads=1)
    episodes = synthetic_episodes()
    write_episodes(tmp_path / 'episodes.npz', episodes)
    episodes = read_episodes(tmp_path / 'episodes.npz')
    policy = build_policy(tmp_path, cfg, episodes, action_dt_s=0.1)
    samples = ChunkSamples(episodes, policy, cfg.chunk_size, cfg.augment_shift_px)

    def load(path):
        from safetensors.torch import load_file
        policy.model.load_state_dict(load_file(str(path / 'model.safetensors')))

    result = train(policy.model, samples, cfg, tmp_path, policy.save_pretrained, load,
                   progress=False)
    assert result.step == 120
    assert result.loss < 0.7 * result.first_loss, (result.first_loss, result.loss)

    loaded = Policy.from_pretrained(result.checkpoint / 'policy')
    from vla_ros.policy import Observation
    obs = Observation({'scene': episodes[0].images['scene'][0],
                       'wrist': episodes[0].images['wrist'][0]},
                      episodes[0].state[0], episodes[0].instruction, stamp=2.0)
    chunk = loaded.predict_chunk(obs)
    assert chunk.positions.shape == (8, 7) and chunk.t0 == 2.0 and chunk.dt == 0.1


def test_chunks_past_the_episode_end_are_padded_and_flagged():
    episodes = synthetic_episodes(n=2, length=5)

    class Identity:

        def prepare_batch(self, images, state, instructions):
            return {'state': torch.as_tensor(state)}

        def normalize_actions(self, actions):
            return torch.as_tensor(np.asarray(actions))

    samples = ChunkSamples(episodes, Identity(), chunk_size=4)
    rng = np.random.default_rng(1)
    for _ in range(20):
        batch = samples.sample(rng, 8)
        for b in range(8):
            pad = batch['action_is_pad'][b].numpy()
            # Padding only at the end; padded steps repeat the episode's last action.
            assert (np.diff(pad.astype(int)) >= 0).all()
            if pad.any():
                first = int(np.argmax(pad))
                torch.testing.assert_close(batch['actions'][b, first:],
                                           batch['actions'][b, first - 1:first].expand(
                                               4 - first, -1))
