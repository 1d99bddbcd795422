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
An action chunk -> the robot's joint order -> ``trajectory_msgs/JointTrajectory`` fields.

Timing convention (the same as `vla_ros.control.action_chunk.ActionChunk` and the chunk executor):
``header.stamp`` is the observation stamp (the joint-state stamp the policy saw) and step ``k``
has ``time_from_start = k * dt``, so step 0 is *at* the observation time, not one ``dt`` later.
By the time the chunk arrives its first steps are in the past; the executor skips them.

The fill function is duck-typed on the message fields, so it is tested without ROS.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from vla_ros.control.action_chunk import ActionChunk


def robot_order(chunk: ActionChunk, joint_order: Sequence[str]) -> ActionChunk:
    """
    Return `chunk` with its joints in the order the robot's ``joint_states`` lists them.

    Joints the message does not list keep their place after the listed ones, so the result
    always holds every joint of the chunk.
    """
    listed = [name for name in joint_order if name in chunk.joint_names]
    rest = [name for name in chunk.joint_names if name not in listed]
    return chunk.reordered(listed + rest)


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
