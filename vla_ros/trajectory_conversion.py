"""The model's chunk -> the robot's chunk -> ``trajectory_msgs/JointTrajectory`` fields.

Timing convention (the same as `vla_ros.control.chunk.ActionChunk` and the chunk executor):
``header.stamp`` is the observation stamp (the joint-state stamp the policy saw) and step ``k``
has ``time_from_start = k * dt``, so step 0 is *at* the observation time, not one ``dt`` later.
By the time the chunk arrives its first steps are in the past; the executor skips them.

The fill function is duck-typed on the message fields, so it is tested without ROS.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from vla_ros.control.chunk import ActionChunk, ChunkError

ACTION_MODES = ('absolute', 'delta')


def robot_chunk(chunk: ActionChunk, joint_names: Sequence[str], state: np.ndarray,
                action_mode: str, robot_order: Sequence[str]) -> ActionChunk:
    """Turn the policy's chunk into joint targets for the robot.

    `joint_names` are the robot's names for the model's joints (model order) and replace the
    chunk's own; `state` is the observation's joint positions in that order; ``delta`` actions
    are offsets from it. The result lists its joints in `robot_order` (``joint_states`` order).
    Raises `ChunkError` if the model returned the wrong number of joints.
    """
    if action_mode not in ACTION_MODES:
        raise ValueError(f'action_mode={action_mode!r}: must be one of ' + ', '.join(ACTION_MODES))
    positions = chunk.positions
    if positions.shape[1] != len(joint_names):
        raise ChunkError(f'the model returned {positions.shape[1]} joints per step, the robot '
                         f'has {len(joint_names)}')
    if action_mode == 'delta':
        positions = positions + np.asarray(state, dtype=np.float64)[None, :]
    named = ActionChunk(tuple(joint_names), chunk.t0, chunk.dt, positions, chunk.velocities)
    return named.reordered(robot_order)


def split_stamp(t_s: float) -> tuple[int, int]:
    """Split seconds into ``(sec, nanosec)`` with ``0 <= nanosec < 1e9`` (negative-safe)."""
    total_ns = int(round(t_s * 1e9))
    sec, nanosec = divmod(total_ns, 1_000_000_000)
    return int(sec), int(nanosec)


def fill_joint_trajectory(msg: Any, chunk: ActionChunk, make_point: Callable[[], Any],
                          frame_id: str = '') -> Any:
    """Write `chunk` into a JointTrajectory-like `msg`; `make_point` builds one point."""
    msg.header.stamp.sec, msg.header.stamp.nanosec = split_stamp(chunk.t0)
    msg.header.frame_id = frame_id
    msg.joint_names = list(chunk.joint_names)
    points = []
    for k in range(chunk.horizon):
        point = make_point()
        point.positions = chunk.positions[k].tolist()
        if chunk.velocities is not None:
            point.velocities = chunk.velocities[k].tolist()
        point.time_from_start.sec, point.time_from_start.nanosec = split_stamp(k * chunk.dt)
        points.append(point)
    msg.points = points
    return msg
