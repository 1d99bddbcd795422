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
Expert episodes on disk in LeRobot's dataset format v3.0, and a reader for training.

Layout under the dataset root (LeRobot 0.6 reads it as a local ``LeRobotDataset``)::

    meta/info.json                         codebase_version "v3.0", fps, features, totals
    meta/stats.json                        min/max/mean/std/count/quantiles per feature
    meta/tasks.parquet                     instruction (index "task") -> task_index
    meta/episodes/chunk-000/file-000.parquet   one row per episode: length, data and video
                                           locations, from/to timestamps, per-episode stats
    data/chunk-000/file-000.parquet        one row per frame: observation.state, action,
                                           timestamp, frame_index, episode_index, index,
                                           task_index
    videos/observation.images.<cam>/chunk-000/file-000.mp4   all episodes back to back
                                           (H.264, yuv420p, a keyframe every 2 frames)
    frames/episode-000000.npz              ours, ignored by LeRobot: the exact rendered frames

Why the ``frames/`` cache: H.264 in yuv420p is lossy (chroma at half resolution), so decoded
frames differ slightly from what the simulator renders at evaluation time. Training on the
lossless frames avoids that mismatch, and loading an npz is much faster than decoding video.
`EpisodeDataset` reads the cache when present and decodes the mp4 files otherwise (datasets
written without the cache, or by LeRobot).

Our extra per-episode columns (``vla_ros/seed``, ``vla_ros/task``, ``vla_ros/success``) sit in
the episodes parquet next to LeRobot's; LeRobot ignores them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from vla_ros.sim.robot import JOINT_NAMES

CODEBASE_VERSION = 'v3.0'
ROBOT_TYPE = 'vla_arm'
DATA_PATH = 'data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet'
VIDEO_PATH = 'videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4'
EPISODES_PATH = 'meta/episodes/chunk-000/file-000.parquet'
FRAMES_PATH = 'frames/episode-{episode_index:06d}.npz'
QUANTILES = (0.01, 0.10, 0.50, 0.90, 0.99)
"""LeRobot's stats carry q01, q10, q50, q90 and q99 besides min/max/mean/std."""


class DatasetError(ValueError):
    """A dataset on disk or an episode given to the writer is not valid."""


def image_key(camera: str) -> str:
    """Feature name of a camera: ``observation.images.<camera>``."""
    return f'observation.images.{camera}'


# -------------------------------------------------------------------------------- statistics
def _array_stats(values: np.ndarray) -> dict:
    """Stats over axis 0 of (N, D) values, LeRobot's keys."""
    values = values.astype(np.float64)
    stats = {'min': values.min(0), 'max': values.max(0), 'mean': values.mean(0),
             'std': values.std(0), 'count': np.array([len(values)])}
    for q in QUANTILES:
        stats[f'q{int(round(q * 100)):02d}'] = np.quantile(values, q, axis=0)
    return stats


def _image_stats(frames: np.ndarray) -> dict:
    """Per-channel stats of uint8 (T, H, W, 3) frames in [0, 1], shaped (3, 1, 1) as LeRobot."""
    pixels = frames.reshape(-1, frames.shape[-1])
    # Subsample pixels: stats of a million pixels are as good as of all of them.
    step = max(1, len(pixels) // 1_000_000)
    stats = _array_stats(pixels[::step] / 255.0)
    stats['count'] = np.array([len(frames)])
    return {k: (v if k == 'count' else v.reshape(-1, 1, 1)) for k, v in stats.items()}


def _merge_stats(parts: list[dict]) -> dict:
    """Dataset stats from per-episode stats: exact min/max/mean/std, count-weighted quantiles."""
    counts = np.array([p['count'][0] for p in parts], dtype=np.float64)
    weights = counts / counts.sum()
    mean = sum(w * p['mean'] for w, p in zip(weights, parts))
    # Parallel-axis rule: total variance = mean of variances + variance of the means.
    var = sum(w * (p['std'] ** 2 + (p['mean'] - mean) ** 2) for w, p in zip(weights, parts))
    merged = {'min': np.min([p['min'] for p in parts], 0),
              'max': np.max([p['max'] for p in parts], 0),
              'mean': mean, 'std': np.sqrt(var), 'count': np.array([int(counts.sum())])}
    for key in parts[0]:
        if key.startswith('q'):
            # As LeRobot's aggregate_stats: a count-weighted mean of per-episode quantiles.
            merged[key] = sum(w * p[key] for w, p in zip(weights, parts))
    return merged


def _jsonable(stats: dict) -> dict:
    return {feature: {k: np.asarray(v).tolist() for k, v in values.items()}
            for feature, values in stats.items()}


# -------------------------------------------------------------------------------- writing
class DatasetWriter:
    """
    Write episodes one at a time; ``finalize()`` writes the tables and metadata.

    ``with DatasetWriter(root, fps=10, cameras=('scene', 'wrist'), image_size=(96, 96)) as w:
    w.add_episode(images, state, action, instruction)``. Videos stream to disk as episodes
    arrive; the per-frame table is small and is written at the end.
    """

    def __init__(self, root: str | Path, fps: int, cameras: tuple[str, ...],
                 image_size: tuple[int, int], video: bool = True, frame_cache: bool = True,
                 crf: int = 18):
        self.root = Path(root)
        if self.root.exists() and any(self.root.iterdir()):
            raise DatasetError(f'root={str(self.root)!r}: must be empty or absent')
        if int(fps) != fps or fps <= 0:
            raise DatasetError(f'fps={fps}: must be a positive integer')
        height, width = image_size
        if video and (height % 2 or width % 2):
            raise DatasetError(f'image_size={height}x{width}: must be even for yuv420p video')
        if not (video or frame_cache):
            raise DatasetError('video=False, frame_cache=False: images must go somewhere')
        self.fps = int(fps)
        self.cameras = tuple(cameras)
        self.image_size = (int(height), int(width))
        self.video = video
        self.frame_cache = frame_cache
        self.crf = int(crf)
        self._writers = {}
        self._tasks: dict[str, int] = {}
        self._frames: list[dict] = []
        self._episodes: list[dict] = []
        self._episode_stats: list[dict] = []
        self._total = 0
        self.root.mkdir(parents=True, exist_ok=True)

    def __enter__(self) -> 'DatasetWriter':
        return self

    def __exit__(self, exc_type, *_):
        if exc_type is None:
            self.finalize()
        else:
            self._close_videos()

    @property
    def num_episodes(self) -> int:
        """Episodes added so far."""
        return len(self._episodes)

    def add_episode(self, images: dict, state: np.ndarray, action: np.ndarray,
                    instruction: str, extras: dict | None = None) -> int:
        """
        Append one episode; returns its episode index.

        `images` maps every camera to uint8 (T, H, W, 3); `state` and `action` are (T, 7) in
        `JOINT_NAMES` order; `extras` become ``vla_ros/<key>`` columns of the episode row.
        """
        state = np.asarray(state, dtype=np.float32)
        action = np.asarray(action, dtype=np.float32)
        length = len(state)
        dims = len(JOINT_NAMES)
        if state.shape != (length, dims) or action.shape != (length, dims) or length == 0:
            raise DatasetError(f'state {state.shape} and action {action.shape}: must both be '
                               f'(T, {dims}) with T > 0')
        if set(images) != set(self.cameras):
            raise DatasetError(f'images cameras {sorted(images)}: must be {list(self.cameras)}')
        for cam, frames in images.items():
            expected = (length,) + self.image_size + (3,)
            if frames.shape != expected or frames.dtype != np.uint8:
                raise DatasetError(f'images[{cam!r}] {frames.dtype} {frames.shape}: must be '
                                   f'uint8 {expected}')
        if not instruction:
            raise DatasetError('instruction: must not be empty')
        index = len(self._episodes)
        task_index = self._tasks.setdefault(instruction, len(self._tasks))
        timestamps = np.arange(length, dtype=np.float32) / self.fps
        frame_index = np.arange(length, dtype=np.int64)
        self._frames.append({
            'observation.state': state, 'action': action, 'timestamp': timestamps,
            'frame_index': frame_index, 'episode_index': np.full(length, index, np.int64),
            'index': self._total + frame_index,
            'task_index': np.full(length, task_index, np.int64)})
        stats = {'observation.state': _array_stats(state), 'action': _array_stats(action),
                 'timestamp': _array_stats(timestamps[:, None]),
                 'frame_index': _array_stats(frame_index[:, None]),
                 'episode_index': _array_stats(np.full((length, 1), index)),
                 'index': _array_stats((self._total + frame_index)[:, None]),
                 'task_index': _array_stats(np.full((length, 1), task_index))}
        row = {'episode_index': index, 'tasks': [instruction], 'length': length,
               'data/chunk_index': 0, 'data/file_index': 0,
               'dataset_from_index': self._total, 'dataset_to_index': self._total + length}
        start_s = self._total / self.fps
        for cam in self.cameras:
            key = image_key(cam)
            stats[key] = _image_stats(images[cam])
            if self.video:
                self._video_writer(key).send(images[cam])
                row.update({f'videos/{key}/chunk_index': 0, f'videos/{key}/file_index': 0,
                            f'videos/{key}/from_timestamp': start_s,
                            f'videos/{key}/to_timestamp': start_s + length / self.fps})
        if self.frame_cache:
            path = self.root / FRAMES_PATH.format(episode_index=index)
            path.parent.mkdir(parents=True, exist_ok=True)
            np.savez_compressed(path, **{cam: images[cam] for cam in self.cameras})
        for feature, values in stats.items():
            for name, value in values.items():
                row[f'stats/{feature}/{name}'] = np.asarray(value).tolist()
        row['meta/episodes/chunk_index'] = 0
        row['meta/episodes/file_index'] = 0
        for key, value in (extras or {}).items():
            row[f'vla_ros/{key}'] = value
        self._episodes.append(row)
        self._episode_stats.append(stats)
        self._total += length
        return index

    def _video_writer(self, key: str):
        if key not in self._writers:
            import imageio_ffmpeg

            path = self.root / VIDEO_PATH.format(video_key=key, chunk_index=0, file_index=0)
            path.parent.mkdir(parents=True, exist_ok=True)
            height, width = self.image_size
            # -g 2: a keyframe every other frame, as LeRobot encodes, so random access into
            # the concatenated file decodes at most one extra frame.
            writer = imageio_ffmpeg.write_frames(
                str(path), (width, height), fps=self.fps, codec='libx264',
                pix_fmt_in='rgb24', pix_fmt_out='yuv420p', macro_block_size=1, quality=None,
                output_params=['-crf', str(self.crf), '-g', '2', '-preset', 'veryfast'])
            writer.send(None)
            self._writers[key] = writer
        return self._writers[key]

    def _close_videos(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def finalize(self) -> None:
        """Close the videos and write data, episodes, tasks, stats and info."""
        if not self._episodes:
            raise DatasetError('no episodes: add at least one before finalize()')
        self._close_videos()
        dims = len(JOINT_NAMES)
        columns = {}
        for name in self._frames[0]:
            values = np.concatenate([f[name] for f in self._frames])
            if values.ndim == 2:
                columns[name] = pa.FixedSizeListArray.from_arrays(
                    pa.array(values.reshape(-1)), dims)
            else:
                columns[name] = pa.array(values)
        # The schema note HF `datasets` (LeRobot's loader) writes, so it reads back our types.
        hf_features = {name: ({'feature': {'dtype': 'float32', '_type': 'Value'}, 'length': dims,
                               '_type': 'List'} if name in ('observation.state', 'action')
                              else {'dtype': str(columns[name].type).replace('float', 'float32')
                                    if name == 'timestamp' else 'int64', '_type': 'Value'})
                       for name in columns}
        table = pa.table(columns).replace_schema_metadata(
            {b'huggingface': json.dumps({'info': {'features': hf_features}}).encode()})
        self._write_parquet(table, DATA_PATH.format(chunk_index=0, file_index=0))
        self._write_parquet(pa.Table.from_pylist(self._episodes), EPISODES_PATH)
        tasks = sorted(self._tasks, key=self._tasks.get)
        self._write_parquet(pa.table({'task_index': pa.array([self._tasks[t] for t in tasks],
                                                             pa.int64()),
                                      'task': pa.array(tasks)}), 'meta/tasks.parquet',
                            index='task')
        stats = {feature: _merge_stats([s[feature] for s in self._episode_stats])
                 for feature in self._episode_stats[0]}
        self._write_json(_jsonable(stats), 'meta/stats.json')
        self._write_json(self._info(), 'meta/info.json')

    def _info(self) -> dict:
        names = list(JOINT_NAMES)
        features = {
            'observation.state': {'dtype': 'float32', 'shape': [len(names)], 'names': names},
            'action': {'dtype': 'float32', 'shape': [len(names)], 'names': names},
        }
        height, width = self.image_size
        for cam in self.cameras:
            feature = {'dtype': 'video' if self.video else 'image',
                       'shape': [height, width, 3], 'names': ['height', 'width', 'channels']}
            if self.video:
                feature['info'] = {
                    'video.height': height, 'video.width': width, 'video.codec': 'h264',
                    'video.pix_fmt': 'yuv420p', 'video.fps': self.fps, 'video.channels': 3,
                    'has_audio': False, 'is_depth_map': False}
            features[image_key(cam)] = feature
        for name, dtype in (('timestamp', 'float32'), ('frame_index', 'int64'),
                            ('episode_index', 'int64'), ('index', 'int64'),
                            ('task_index', 'int64')):
            features[name] = {'dtype': dtype, 'shape': [1], 'names': None}
        return {
            'codebase_version': CODEBASE_VERSION, 'robot_type': ROBOT_TYPE,
            'total_episodes': len(self._episodes), 'total_frames': self._total,
            'total_tasks': len(self._tasks), 'chunks_size': 1000,
            'data_files_size_in_mb': 100, 'video_files_size_in_mb': 200, 'fps': self.fps,
            'splits': {'train': f'0:{len(self._episodes)}'}, 'data_path': DATA_PATH,
            'video_path': VIDEO_PATH if self.video else None, 'features': features,
        }

    def _write_parquet(self, table: pa.Table, relative: str, index: str | None = None) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if index is not None:
            # What pandas writes for a DataFrame indexed by `index`, so pd.read_parquet gives
            # LeRobot the tasks indexed by instruction.
            pandas_meta = {'index_columns': [index], 'column_indexes': [], 'columns': [
                {'name': n, 'field_name': n, 'pandas_type': 'unicode' if n == index else 'int64',
                 'numpy_type': 'object' if n == index else 'int64', 'metadata': None}
                for n in table.column_names], 'creator': {'library': 'pyarrow'},
                'pandas_version': '2.2.0'}
            table = table.replace_schema_metadata({b'pandas': json.dumps(pandas_meta).encode()})
        pq.write_table(table, path)

    def _write_json(self, data: dict, relative: str) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2) + '\n')


# -------------------------------------------------------------------------------- reading
@dataclass
class DatasetEpisode:
    """One episode as arrays; ``images`` loads on first access (npz cache, else video)."""

    index: int
    instruction: str
    task: str              # task name (a key of vla_ros.sim.TASKS), '' if not one of ours
    fps: int
    state: np.ndarray      # (T, 7) float32
    action: np.ndarray     # (T, 7) float32
    timestamp: np.ndarray  # (T,) float32 [s]
    meta: dict             # the episode's row of meta/episodes (our extras under vla_ros/)
    _dataset: 'EpisodeDataset'

    @property
    def length(self) -> int:
        """Return the number of frames."""
        return len(self.state)

    @cached_property
    def images(self) -> dict:
        """Camera -> uint8 (T, H, W, 3)."""
        return self._dataset._load_images(self)


class EpisodeDataset:
    """
    Read a dataset written by `DatasetWriter` (or a LeRobot v3.0 one with our features).

    ``ds = EpisodeDataset(path)``; ``ds.episodes[i].images['scene']``, ``.state``,
    ``.action``, ``.instruction``, ``.task``; ``ds.stats[feature][stat]`` as numpy arrays;
    ``ds.fps``, ``ds.cameras``, ``ds.info``.
    """

    def __init__(self, root: str | Path):
        from vla_ros.sim.tasks import parse_task, TaskError

        self.root = Path(root)
        info_path = self.root / 'meta' / 'info.json'
        if not info_path.exists():
            raise DatasetError(f'{self.root}: no meta/info.json, not a LeRobot dataset')
        self.info = json.loads(info_path.read_text())
        version = self.info.get('codebase_version')
        if version != CODEBASE_VERSION:
            raise DatasetError(f'{info_path}: codebase_version={version!r}: must be '
                               f'{CODEBASE_VERSION!r}')
        self.fps = int(self.info['fps'])
        prefix = 'observation.images.'
        self.cameras = tuple(k[len(prefix):] for k in self.info['features']
                             if k.startswith(prefix))
        stats = json.loads((self.root / 'meta' / 'stats.json').read_text())
        self.stats = {f: {k: np.asarray(v) for k, v in s.items()} for f, s in stats.items()}
        episodes = pq.read_table(self.root / EPISODES_PATH).to_pylist()
        frames = pq.read_table(self.root / DATA_PATH.format(chunk_index=0, file_index=0))
        state = _matrix(frames.column('observation.state'))
        action = _matrix(frames.column('action'))
        timestamp = frames.column('timestamp').to_numpy()
        self.episodes = []
        for row in sorted(episodes, key=lambda r: r['episode_index']):
            lo, hi = row['dataset_from_index'], row['dataset_to_index']
            instruction = row['tasks'][0]
            try:
                task = parse_task(instruction)[0]
            except TaskError:
                task = ''
            self.episodes.append(DatasetEpisode(
                index=row['episode_index'], instruction=instruction, task=task, fps=self.fps,
                state=state[lo:hi], action=action[lo:hi], timestamp=timestamp[lo:hi],
                meta=row, _dataset=self))

    def __len__(self) -> int:
        return len(self.episodes)

    def __getitem__(self, index: int) -> DatasetEpisode:
        return self.episodes[index]

    @property
    def num_frames(self) -> int:
        """Frames over all episodes."""
        return int(self.info['total_frames'])

    def _load_images(self, episode: DatasetEpisode) -> dict:
        path = self.root / FRAMES_PATH.format(episode_index=episode.index)
        if path.exists():
            with np.load(path) as data:
                return {cam: data[cam] for cam in self.cameras}
        return self.decode_video(episode)

    def decode_video(self, episode: DatasetEpisode) -> dict:
        """Decode the episode's frames from the mp4 files (lossy): camera -> (T, H, W, 3)."""
        import imageio_ffmpeg

        images = {}
        for cam in self.cameras:
            key = image_key(cam)
            path = self.root / self.info['video_path'].format(
                video_key=key, chunk_index=episode.meta[f'videos/{key}/chunk_index'],
                file_index=episode.meta[f'videos/{key}/file_index'])
            first = int(round(episode.meta[f'videos/{key}/from_timestamp'] * self.fps))
            reader = imageio_ffmpeg.read_frames(str(path), pix_fmt='rgb24')
            meta = next(reader)
            width, height = meta['size']
            frames = []
            try:
                for i, buffer in enumerate(reader):
                    if i >= first + episode.length:
                        break
                    if i >= first:
                        frames.append(np.frombuffer(buffer, np.uint8).reshape(height, width, 3))
            finally:
                reader.close()
            if len(frames) != episode.length:
                raise DatasetError(f'{path}: episode {episode.index} has {len(frames)} frames '
                                   f'in the video, {episode.length} in the data')
            images[cam] = np.stack(frames)
        return images


def _matrix(column: pa.ChunkedArray) -> np.ndarray:
    """(N, D) float32 from a list / fixed-size-list column."""
    array = column.combine_chunks()
    width = len(array[0]) if len(array) else 0
    return np.asarray(array.flatten().to_numpy(zero_copy_only=False),
                      dtype=np.float32).reshape(-1, width)
