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
Action tokenizers for autoregressive VLAs: FAST (DCT + BPE) and OpenVLA-style binning.

numpy, scipy and HF ``tokenizers`` only; no torch.
"""

from .binning import BinTokenizer
from .dct import dct_compress, DctCompression
from .decoded import Decoded
from .fast import FastTokenizer
from .normalization import QuantileNormalizer

__all__ = [
    'BinTokenizer',
    'DctCompression',
    'Decoded',
    'FastTokenizer',
    'QuantileNormalizer',
    'dct_compress',
]
