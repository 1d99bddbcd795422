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

"""What decoding a batch of action token sequences returns."""

from typing import NamedTuple

import numpy as np


class Decoded(NamedTuple):
    """
    Result of decoding a batch of token sequences.

    Fields:
        actions: (B, horizon, action_dim) float64 actions in the original units. Rows whose
            sequence is invalid are all NaN, so they cannot be mistaken for a motion.
        valid: (B,) bool, False where the sequence is not a well-formed encoding of one
            (horizon, action_dim) chunk; the caller must then refuse to execute that row.
        reasons: per sequence, None when valid, else a sentence saying what is wrong.

    """

    actions: np.ndarray
    valid: np.ndarray
    reasons: list
