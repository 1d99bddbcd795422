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
Messages to chunks and back, without ROS: duck-typed on the message fields.

`chunk_from_trajectory` reads anything shaped like ``trajectory_msgs/JointTrajectory``
(``header.stamp.sec/nanosec``, ``joint_names``, ``points[i].positions``, ``.velocities``,
``.time_from_start.sec/nanosec``), so the node stays thin and every malformed kind is tested on
plain objects.
"""

from __future__ import annotations

import math

import numpy as np

from vla_ros.control.action_chunk import ActionChunk, ChunkError

# Steps of a chunk must be evenly spaced to this fraction of dt (nanosecond rounding is far
# below it; a dropped or duplicated step is far above).
_UNEVEN_TOLERANCE = 0.01


class MalformedChunk(ChunkError):
    """A chunk message is malformed; `kind` names the rule, the message the details."""

    def __init__(self, kind: str, message: str):
        """Record the rule `kind` (a counter key) and the one-line `message`."""
        super().__init__(f'{kind}: {message}')
        self.kind = kind


def to_seconds(stamp) -> float:
    """``builtin_interfaces/Time`` or ``Duration`` (sec, nanosec) as float seconds."""
    return stamp.sec + stamp.nanosec * 1e-9


def chunk_from_trajectory(msg, known_joints=None, now: float | None = None,
                          max_future_s: float = math.inf) -> ActionChunk:
    """
    Convert a JointTrajectory whose header stamp is the observation time.

    Step k's absolute time is ``stamp + time_from_start[k]``; the chunk keeps the message's
    joint order. Raises `MalformedChunk` naming the problem: ``empty``, ``unknown joints``,
    ``wrong sizes``, ``not finite``, ``non-increasing time``, ``uneven time``, ``unstamped``
    or ``future stamp`` (the last needs `now`).
    """
    names = tuple(msg.joint_names)
    points = list(msg.points)
    if not names or not points:
        raise MalformedChunk('empty', f'{len(names)} joint names, {len(points)} points')
    if len(points) < 2:
        raise MalformedChunk('empty', 'one point: a chunk needs two to define its step')
    if len(set(names)) != len(names):
        raise MalformedChunk('unknown joints', f'joint names repeat: {list(names)}')
    if known_joints is not None:
        unknown = [n for n in names if n not in known_joints]
        missing = [n for n in known_joints if n not in names]
        if unknown or missing:
            raise MalformedChunk('unknown joints', f'unknown {unknown}, missing {missing}')
    n = len(names)
    bad = [i for i, pt in enumerate(points) if len(pt.positions) != n]
    if bad:
        raise MalformedChunk('wrong sizes', f'point {bad[0]} has {len(points[bad[0]].positions)}'
                             f' positions for {n} joints')
    has_v = [len(pt.velocities) for pt in points]
    if any(k not in (0, n) for k in has_v) or 0 < sum(k == n for k in has_v) < len(points):
        raise MalformedChunk('wrong sizes', f'velocities must be empty or {n} per point in '
                             'every point')
    positions = np.array([pt.positions for pt in points], dtype=np.float64)
    velocities = None
    if has_v[0]:
        velocities = np.array([pt.velocities for pt in points], dtype=np.float64)
    if not np.isfinite(positions).all() or (
            velocities is not None and not np.isfinite(velocities).all()):
        row = int(np.argwhere(~np.isfinite(positions if velocities is None else
                                           positions + velocities))[0, 0])
        raise MalformedChunk('not finite', f'point {row} has NaN or inf')
    times = np.array([to_seconds(pt.time_from_start) for pt in points])
    steps = np.diff(times)
    if (steps <= 0).any():
        i = int(np.argmax(steps <= 0)) + 1
        raise MalformedChunk('non-increasing time', f'point {i} time_from_start '
                             f'{times[i]:.6f} s <= previous {times[i - 1]:.6f} s')
    dt = (times[-1] - times[0]) / (len(times) - 1)
    error = np.abs(times - times[0] - dt * np.arange(len(times))).max()
    if error > _UNEVEN_TOLERANCE * dt:
        raise MalformedChunk('uneven time', f'time_from_start steps deviate {error:.6f} s from '
                             f'an even {dt:.6f} s')
    stamp = to_seconds(msg.header.stamp)
    if stamp == 0.0:
        raise MalformedChunk('unstamped', 'header.stamp is 0: set it to the observation time')
    if now is not None and stamp > now + max_future_s:
        raise MalformedChunk('future stamp', f'header.stamp is {stamp - now:.3f} s in the '
                             f'future (max {max_future_s:g} s)')
    return ActionChunk(names, stamp + times[0], dt, positions, velocities)


def joint_state_positions(msg, joint_names) -> np.ndarray | None:
    """Positions of `joint_names` from a JointState-shaped message; None if any is missing."""
    index = {name: i for i, name in enumerate(msg.name)}
    try:
        values = [msg.position[index[name]] for name in joint_names]
    except (KeyError, IndexError):
        return None
    out = np.array(values, dtype=np.float64)
    return out if np.isfinite(out).all() else None
