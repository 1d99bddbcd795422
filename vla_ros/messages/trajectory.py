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
``trajectory_msgs/JointTrajectory`` <-> `ActionChunk`, both directions, without ROS.

Timing convention (the same as `ActionChunk` and the chunk executor): ``header.stamp`` is the
observation stamp (the joint-state stamp the policy saw) and step ``k`` has
``time_from_start = k * dt``, so step 0 is *at* the observation time, not one ``dt`` later. By
the time a chunk arrives its first steps are in the past; the executor skips them.

`chunk_from_trajectory` reads anything shaped like a JointTrajectory (``header.stamp``,
``joint_names``, ``points[i].positions``, ``.velocities``, ``.time_from_start``) and
`fill_joint_trajectory` writes one, so the nodes stay thin and every malformed kind is tested on
plain objects.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np

from vla_ros.control.action_chunk import ActionChunk, ChunkError
from vla_ros.messages.stamps import split_nanoseconds, split_seconds, to_seconds

# Steps of a chunk must be evenly spaced to this fraction of dt (nanosecond rounding is far
# below it; a dropped or duplicated step is far above).
_UNEVEN_TOLERANCE = 0.01


class MalformedChunk(ChunkError):
    """A chunk message is malformed; `kind` names the rule, the message the details."""

    def __init__(self, kind: str, message: str):
        """Record the rule `kind` (a counter key) and the one-line `message`."""
        super().__init__(f'{kind}: {message}')
        self.kind = kind


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


def fill_joint_trajectory(msg: Any, chunk: ActionChunk, make_point: Callable[[], Any],
                          frame_id: str = '', stamp_ns: int | None = None) -> Any:
    """
    Write `chunk` into a JointTrajectory-like `msg`; `make_point` builds one point.

    `stamp_ns`, the observation stamp in integer ns, replaces the stamp taken from the float
    ``chunk.t0``, so that the chunk carries its observation's stamp to the nanosecond.
    """
    stamp = split_seconds(chunk.t0) if stamp_ns is None else split_nanoseconds(stamp_ns)
    msg.header.stamp.sec, msg.header.stamp.nanosec = stamp
    msg.header.frame_id = frame_id
    msg.joint_names = list(chunk.joint_names)
    points = []
    for k in range(chunk.horizon):
        point = make_point()
        point.positions = chunk.positions[k].tolist()
        if chunk.velocities is not None:
            point.velocities = chunk.velocities[k].tolist()
        point.time_from_start.sec, point.time_from_start.nanosec = split_seconds(k * chunk.dt)
        points.append(point)
    msg.points = points
    return msg


def robot_order(chunk: ActionChunk, joint_order: Sequence[str]) -> ActionChunk:
    """
    Return `chunk` with its joints in the order the robot's ``joint_states`` lists them.

    Joints the message does not list keep their place after the listed ones, so the result
    always holds every joint of the chunk.
    """
    listed = [name for name in joint_order if name in chunk.joint_names]
    rest = [name for name in chunk.joint_names if name not in listed]
    return chunk.reordered(listed + rest)
