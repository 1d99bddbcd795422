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
Messages <-> core types, without ROS: duck-typed on the message fields.

``trajectory``: ``trajectory_msgs/JointTrajectory`` <-> `ActionChunk`, both directions;
``joint_state``: ``sensor_msgs/JointState`` -> positions by name; ``image``:
``sensor_msgs/Image`` and ``CompressedImage`` -> RGB arrays; ``stamps``: stamps <-> seconds and
nanoseconds. The ROS nodes and the tests use the same functions, the tests on plain objects.
"""
