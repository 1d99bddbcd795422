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

"""Dataset: write -> read round trip, LeRobot v3.0 layout, and (if installed) LeRobot reads it."""

import json
import os
from pathlib import Path
import subprocess

import numpy as np
import pyarrow.parquet as pq
import pytest

from vla_ros.config import SimConfig
from vla_ros.sim import ArmEnv, JOINT_NAMES
from vla_ros.sim.dataset import DatasetError, DatasetWriter, EpisodeDataset
from vla_ros.sim.rollout import record_episode

LEROBOT_PYTHON = os.environ.get('VLA_ROS_LEROBOT_PYTHON', '/opt/venvs/lerobot/bin/python')


def synthetic_episode(length, seed, size=(16, 24)):
    rng = np.random.default_rng(seed)
    # Smooth images (video-friendly) with per-episode colour so episodes are told apart.
    base = rng.integers(0, 255, 3)
    ramp = np.linspace(0, 60, length)[:, None, None, None]
    frame = np.broadcast_to(base, size + (3,))
    images = {cam: np.clip(frame[None] + ramp + 40 * k, 0, 255).astype(np.uint8)
              for k, cam in enumerate(('scene', 'wrist'))}
    state = rng.normal(size=(length, 7)).astype(np.float32)
    action = rng.normal(size=(length, 7)).astype(np.float32)
    return images, state, action


@pytest.fixture(scope='module')
def written(tmp_path_factory):
    root = tmp_path_factory.mktemp('ds') / 'demo'
    episodes = [synthetic_episode(n, seed) for seed, n in enumerate((5, 9, 7))]
    instructions = ['touch the red cube', 'pick up the green cube', 'touch the red cube']
    with DatasetWriter(root, fps=10, cameras=('scene', 'wrist'), image_size=(16, 24)) as w:
        for (images, state, action), text in zip(episodes, instructions):
            w.add_episode(images, state, action, text, extras={'seed': 3})
    return root, episodes, instructions


def test_round_trip(written):
    root, episodes, instructions = written
    ds = EpisodeDataset(root)
    assert len(ds) == 3 and ds.fps == 10 and ds.cameras == ('scene', 'wrist')
    assert ds.num_frames == 21
    for got, (images, state, action), text in zip(ds.episodes, episodes, instructions):
        assert got.instruction == text
        assert got.task == ('touch' if 'touch' in text else 'pick')
        np.testing.assert_array_equal(got.state, state)
        np.testing.assert_array_equal(got.action, action)
        np.testing.assert_allclose(got.timestamp, np.arange(len(state)) / 10, atol=1e-6)
        for cam in ds.cameras:
            np.testing.assert_array_equal(got.images[cam], images[cam])   # npz: exact
        assert got.meta['vla_ros/seed'] == 3


def test_video_decodes_close_to_the_frames(written):
    root, episodes, _ = written
    ds = EpisodeDataset(root)
    for got, (images, _, _) in zip(ds.episodes, episodes):
        decoded = ds.decode_video(got)
        for cam in ds.cameras:
            assert decoded[cam].shape == images[cam].shape
            # H.264 is lossy; the right frame is within a few grey levels on average.
            assert np.abs(decoded[cam].astype(int) - images[cam]).mean() < 4


def test_without_frame_cache_reader_decodes_video(written):
    root, episodes, _ = written
    ds = EpisodeDataset(root)
    ds.root = Path(root)
    episode = ds.episodes[1]
    (Path(root) / 'frames' / 'episode-000001.npz').rename(Path(root) / 'moved.npz')
    try:
        assert episode.images['scene'].shape == episodes[1][0]['scene'].shape
    finally:
        (Path(root) / 'moved.npz').rename(Path(root) / 'frames' / 'episode-000001.npz')


def test_lerobot_v3_layout(written):
    root, episodes, _ = written
    info = json.loads((root / 'meta' / 'info.json').read_text())
    assert info['codebase_version'] == 'v3.0'
    assert info['total_episodes'] == 3 and info['total_frames'] == 21
    assert info['total_tasks'] == 2 and info['splits'] == {'train': '0:3'}
    assert info['features']['action']['names'] == list(JOINT_NAMES)
    assert info['features']['observation.images.scene']['dtype'] == 'video'
    assert info['features']['observation.images.scene']['shape'] == [16, 24, 3]
    data = pq.read_table(root / 'data' / 'chunk-000' / 'file-000.parquet')
    assert data.column_names == ['observation.state', 'action', 'timestamp', 'frame_index',
                                 'episode_index', 'index', 'task_index']
    assert data.column('index').to_pylist() == list(range(21))
    assert data.column('task_index').to_pylist() == [0] * 5 + [1] * 9 + [0] * 7
    tasks = pq.read_table(root / 'meta' / 'tasks.parquet').to_pylist()
    assert tasks == [{'task_index': 0, 'task': 'touch the red cube'},
                     {'task_index': 1, 'task': 'pick up the green cube'}]
    rows = pq.read_table(root / 'meta' / 'episodes' / 'chunk-000' / 'file-000.parquet')
    row = rows.to_pylist()[1]
    assert (row['dataset_from_index'], row['dataset_to_index'], row['length']) == (5, 14, 9)
    assert row['videos/observation.images.wrist/from_timestamp'] == pytest.approx(0.5)
    assert row['videos/observation.images.wrist/to_timestamp'] == pytest.approx(1.4)
    for cam in ('scene', 'wrist'):
        assert (root / f'videos/observation.images.{cam}/chunk-000/file-000.mp4').stat().st_size
    stats = json.loads((root / 'meta' / 'stats.json').read_text())
    state = np.concatenate([e[1] for e in episodes])
    np.testing.assert_allclose(stats['observation.state']['mean'], state.mean(0), rtol=1e-5)
    np.testing.assert_allclose(stats['observation.state']['std'], state.std(0), rtol=1e-5)
    assert stats['observation.state']['count'] == [21]
    assert np.array(stats['observation.images.scene']['mean']).shape == (3, 1, 1)
    assert set(stats['action']) >= {'min', 'max', 'mean', 'std', 'count', 'q01', 'q99'}


def test_writer_rejects_bad_input(tmp_path):
    images, state, action = synthetic_episode(4, 0)
    with pytest.raises(DatasetError, match='must be even'):
        DatasetWriter(tmp_path / 'a', fps=10, cameras=('scene',), image_size=(15, 24))
    writer = DatasetWriter(tmp_path / 'b', fps=10, cameras=('scene', 'wrist'),
                           image_size=(16, 24))
    with pytest.raises(DatasetError, match=r'state \(4, 6\)'):
        writer.add_episode(images, state[:, :6], action, 'x')
    with pytest.raises(DatasetError, match='cameras'):
        writer.add_episode({'scene': images['scene']}, state, action, 'x')
    with pytest.raises(DatasetError, match='no episodes'):
        writer.finalize()
    (tmp_path / 'c').mkdir()
    (tmp_path / 'c' / 'old.txt').write_text('x')
    with pytest.raises(DatasetError, match='must be empty'):
        DatasetWriter(tmp_path / 'c', fps=10, cameras=('scene',), image_size=(16, 24))


def test_expert_episode_round_trip(tmp_path):
    env = ArmEnv(SimConfig(image_width=32, image_height=32))
    episode = record_episode(env, seed=4, task='touch', fps=10)
    env.close()
    assert episode.success
    assert episode.length == len(episode.action) == len(episode.images['wrist'])
    np.testing.assert_allclose(episode.action[0], episode.state[0], atol=1e-9)
    with DatasetWriter(tmp_path / 'ds', fps=10, cameras=('scene', 'wrist'),
                       image_size=(32, 32)) as writer:
        writer.add_episode(episode.images, episode.state, episode.action, episode.instruction)
    got = EpisodeDataset(tmp_path / 'ds').episodes[0]
    assert got.instruction == 'touch the red cube' and got.task == 'touch'
    np.testing.assert_allclose(got.action, episode.action, atol=1e-6)
    np.testing.assert_array_equal(got.images['scene'], episode.images['scene'])


def _lerobot_usable():
    if not Path(LEROBOT_PYTHON).exists():
        return False
    probe = subprocess.run([LEROBOT_PYTHON, '-c',
                            'import lerobot.datasets.lerobot_dataset'], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _lerobot_usable(), reason='no python with lerobot[dataset] (set '
                    'VLA_ROS_LEROBOT_PYTHON)')
def test_lerobot_reads_our_dataset(written):
    root, episodes, _ = written
    code = (
        'import sys\n'
        'from lerobot.datasets.lerobot_dataset import LeRobotDataset\n'
        "ds = LeRobotDataset('local/vla_arm_sim', root=sys.argv[1], video_backend='pyav')\n"
        'item = ds[7]\n'
        "print(len(ds), ds.meta.total_episodes, item['task'], int(item['episode_index']),\n"
        "      int(item['frame_index']), tuple(item['observation.images.wrist'].shape))\n")
    out = subprocess.run([LEROBOT_PYTHON, '-c', code, str(root)], capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split('\n')[-2] == '21 3 pick up the green cube 1 2 (3, 16, 24)'


def test_record_command(tmp_path, capsys):
    from vla_ros.cli import main

    out = tmp_path / 'rec'
    assert main(['record', '--episodes', '2', '--out', str(out), '--image-size', '32x48',
                 '--tasks', 'touch', 'pick up the red cube', '--seed', '9']) == 0
    assert 'wrote 2 episodes' in capsys.readouterr().out
    ds = EpisodeDataset(out)
    assert [e.instruction for e in ds.episodes] == ['touch the red cube', 'pick up the red cube']
    assert [e.meta['vla_ros/seed'] for e in ds.episodes] == [9, 10]
    assert all(e.meta['vla_ros/success'] for e in ds.episodes)
    assert ds.episodes[1].images['wrist'].shape[1:] == (32, 48, 3)
    assert main(['record', '--episodes', '1', '--out', str(out)]) == 2   # not empty
    assert main(['record', '--episodes', '1', '--out', str(tmp_path / 'x'),
                 '--tasks', 'dance']) == 2
