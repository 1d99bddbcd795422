"""vla_ros: Vision-Language-Action policies on ROS 2 robot arms.

The core (model, policy, action tokenizers, chunk executor, simulation) needs no ROS; only
`vla_ros.ros` imports rclpy.
"""

__version__ = '0.1.0'
