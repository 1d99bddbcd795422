"""Action tokenizers for autoregressive VLAs: FAST (DCT + BPE) and OpenVLA-style binning.

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
