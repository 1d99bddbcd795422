"""What decoding a batch of action token sequences returns."""

from typing import NamedTuple

import numpy as np


class Decoded(NamedTuple):
    """Result of decoding a batch of token sequences.

    Attributes:
        actions: (B, horizon, action_dim) float64 actions in the original units. Rows whose
            sequence is invalid are all NaN, so they cannot be mistaken for a motion.
        valid: (B,) bool, False where the sequence is not a well-formed encoding of one
            (horizon, action_dim) chunk; the caller must then refuse to execute that row.
        reasons: per sequence, None when valid, else a sentence saying what is wrong.

    """

    actions: np.ndarray
    valid: np.ndarray
    reasons: list
