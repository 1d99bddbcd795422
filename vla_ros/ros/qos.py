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
The two QoS profiles vla_ros uses (REP-2003).

Sensors (images, joint states) are best effort, keep-last: a late frame is worth nothing, and a
best-effort subscription also matches a reliable publisher. Chunks, commands, the instruction
and the executor state are reliable: a lost chunk is a stall, a lost command a jerk.
"""

from rclpy.qos import (DurabilityPolicy, HistoryPolicy, qos_profile_sensor_data, QoSProfile,
                       ReliabilityPolicy)

SENSOR_QOS = qos_profile_sensor_data

RELIABLE_QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE,
                          history=HistoryPolicy.KEEP_LAST)

# For a latched topic (the instruction): a late subscriber still gets the last message. Such a
# subscription does not match a volatile publisher, so a node that wants both subscribes twice.
LATCHED_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                         history=HistoryPolicy.KEEP_LAST,
                         durability=DurabilityPolicy.TRANSIENT_LOCAL)
