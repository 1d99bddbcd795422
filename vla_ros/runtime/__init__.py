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
The inference runtime without ROS: what the nodes and the in-process loop share.

``observation``: the latest inputs and the rules an observation must pass; ``trigger``: when
to infer; ``stats``: latency, ages, drops, errors; ``runner``: `PolicyRunner`, the policy
side; ``execution``: `ExecutorRunner`, the executor side.
"""
