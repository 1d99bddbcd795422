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
SmolVLA in plain PyTorch: vision encoder, connector, language model, action expert.

`AutoregressiveVLA` is the same backbone with the language model's head decoding action tokens
instead of the flow-matching expert (pi0-FAST / OpenVLA style).
"""

from vla_ros.model.autoregressive import AutoregressiveVLA
from vla_ros.model.config import ModelConfigError, SmolVLAConfig
from vla_ros.model.rtc import RTCConfig
from vla_ros.model.smolvla import SmolVLA

__all__ = ['AutoregressiveVLA', 'ModelConfigError', 'RTCConfig', 'SmolVLA', 'SmolVLAConfig']
