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
Message time stamps <-> seconds and integer nanoseconds, without ROS.

Duck-typed on builtin_interfaces/Time and Duration (sec, nanosec). A float at
1.8e9 s is only good to about 0.2 us, so a stamp that has to be matched exactly (the chunk's
observation stamp) travels as integer nanoseconds.
"""

from __future__ import annotations

NS_PER_S = 1_000_000_000


def to_seconds(stamp) -> float:
    """Return a Time or Duration (sec, nanosec) as float seconds."""
    return float(stamp.sec) + 1e-9 * float(stamp.nanosec)


def to_nanoseconds(stamp) -> int:
    """Return a Time or Duration as integer nanoseconds (exact)."""
    return int(stamp.sec) * NS_PER_S + int(stamp.nanosec)


def split_seconds(t_s: float) -> tuple[int, int]:
    """Split seconds into (sec, nanosec) with 0 <= nanosec < 1e9 (negative-safe)."""
    return split_nanoseconds(int(round(t_s * 1e9)))


def split_nanoseconds(t_ns: int) -> tuple[int, int]:
    """Split integer nanoseconds into (sec, nanosec) with 0 <= nanosec < 1e9."""
    sec, nanosec = divmod(int(t_ns), NS_PER_S)
    return int(sec), int(nanosec)
