"""The two QoS profiles vla_ros uses (REP-2003).

Sensors (images, joint states) are best effort, keep-last: a late frame is worth nothing, and a
best-effort subscription also matches a reliable publisher. Chunks, commands, the instruction
and the executor state are reliable: a lost chunk is a stall, a lost command a jerk.
"""

from rclpy.qos import HistoryPolicy, qos_profile_sensor_data, QoSProfile, ReliabilityPolicy

SENSOR_QOS = qos_profile_sensor_data

RELIABLE_QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE,
                          history=HistoryPolicy.KEEP_LAST)
