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
ROS message <-> core conversions for the node shells; the logic itself is in `vla_ros.messages`.

Images are decoded by `vla_ros.messages.image` only, on every machine: its checks (field types,
sizes, buffer widths, decompression bombs) then hold for every message, and its result equals
cv_bridge's ``imgmsg_to_cv2(msg, 'rgb8')`` (``test_image_conversion`` checks it where cv_bridge is
installed). Compressed images are always decoded with Pillow, so a given message decodes the
same way on every machine.
"""

from __future__ import annotations

from typing import Callable, Mapping

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
import numpy as np
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

from vla_ros.control.action_chunk import ActionChunk
from vla_ros.control.executor import STATE_FIELDS
from vla_ros.messages.image import to_rgb
from vla_ros.messages.stamps import to_nanoseconds
from vla_ros.messages.trajectory import fill_joint_trajectory

LEVELS = {'ok': DiagnosticStatus.OK, 'warn': DiagnosticStatus.WARN,
          'error': DiagnosticStatus.ERROR}


def make_image_decoder() -> Callable[[object], np.ndarray]:
    """Return msg -> (H, W, 3) uint8 RGB for ``Image`` and ``CompressedImage`` messages."""
    return to_rgb


def chunk_to_msg(chunk: ActionChunk, stamp_ns: int | None = None) -> JointTrajectory:
    """Return `chunk` as a JointTrajectory (stamp = observation, exact with `stamp_ns`)."""
    return fill_joint_trajectory(JointTrajectory(), chunk, JointTrajectoryPoint,
                                 stamp_ns=stamp_ns)


def stamp_ns(msg) -> int:
    """Return a message's ``header.stamp`` as integer nanoseconds."""
    return to_nanoseconds(msg.header.stamp)


def diagnostics_msg(stamp, name: str, level: str, message: str,
                    values: Mapping[str, str], hardware_id: str = '') -> DiagnosticArray:
    """Return a one-status DiagnosticArray."""
    status = DiagnosticStatus(level=LEVELS[level], name=name, message=message,
                              hardware_id=hardware_id)
    status.values = [KeyValue(key=k, value=v) for k, v in values.items()]
    array = DiagnosticArray()
    array.header.stamp = stamp
    array.status = [status]
    return array


def executor_horizon(msg) -> tuple[float, float]:
    """Return (remaining_s, newest_chunk_t0) from the executor's ``~/state`` array."""
    data = msg.data
    remaining, newest = STATE_FIELDS.index('remaining_s'), STATE_FIELDS.index('newest_chunk_t0')
    # Only the fields read here are required: an executor with fewer fields appended (an
    # older release) still drives the trigger.
    if len(data) <= max(remaining, newest):
        return float('nan'), float('nan')
    return float(data[remaining]), float(data[newest])
