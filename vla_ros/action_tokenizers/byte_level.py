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

"""GPT-2's byte-level alphabet (as HF tokenizers' ByteLevel uses it) and FAST's code strings."""

import numpy as np


def _byte_to_symbol():
    """
    Return GPT-2's byte-level alphabet, one character per byte value.

    Printable Latin-1 bytes stand for themselves; the rest are shifted to 256, 257, ... in
    byte order (Radford et al. 2019, as HF tokenizers' ByteLevel does).
    """
    printable = set(range(0x21, 0x7F)) | set(range(0xA1, 0xAD)) | set(range(0xAE, 0x100))
    table, shifted = [], 0
    for byte in range(256):
        if byte in printable:
            table.append(chr(byte))
        else:
            table.append(chr(256 + shifted))
            shifted += 1
    return table


BYTE_TO_SYMBOL = _byte_to_symbol()
"""The symbol of each byte value 0..255."""
SYMBOL_TO_BYTE = {symbol: byte for byte, symbol in enumerate(BYTE_TO_SYMBOL)}
"""Inverse of `BYTE_TO_SYMBOL`."""


def codes_to_text(codes):
    """One string per row of non-negative integer codes, character i = chr(code i)."""
    codes = np.ascontiguousarray(codes, dtype='<u4')
    text = codes.tobytes().decode('utf-32-le')
    width = codes.shape[1]
    return [text[i * width:(i + 1) * width] for i in range(codes.shape[0])]
