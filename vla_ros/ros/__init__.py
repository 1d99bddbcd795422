"""ROS 2 shells around the core: the only part of vla_ros that imports rclpy."""
