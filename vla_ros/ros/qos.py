"""The two QoS profiles vla_ros uses (REP-2003).

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
