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
Joint limits from a URDF's ``<joint><limit lower upper velocity/></joint>`` tags.

URDF has no acceleration limits; those always come from the parameters. Continuous joints have
no position bounds; a ``<mimic>`` joint is driven by another one and is never commanded, but its
limits are read like any other.
"""

from __future__ import annotations

import math
from pathlib import Path
import xml.etree.ElementTree as ElementTree


class UrdfError(ValueError):
    """The URDF cannot be read; the message names the file and the problem."""


def read_urdf_limits(source: str | Path) -> dict[str, dict[str, float]]:
    """
    Return ``{joint: {'lower', 'upper', 'velocity'}}`` for every non-fixed joint.

    `source` is a path or the URDF text itself (what ``robot_description`` carries). Missing
    attributes are infinite: a continuous joint has ``lower=-inf, upper=inf``.
    """
    text = str(source)
    where = 'robot_description'
    if not text.lstrip().startswith('<'):
        where = text
        try:
            text = Path(text).read_text()
        except OSError as exc:
            raise UrdfError(f'{where}: cannot read ({exc.strerror})') from None
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        raise UrdfError(f'{where}: not valid XML ({exc})') from None
    limits = {}
    for joint in root.iter('joint'):
        kind, name = joint.get('type', ''), joint.get('name')
        if kind == 'fixed' or not name:
            continue
        tag = joint.find('limit')
        values = {'lower': -math.inf, 'upper': math.inf, 'velocity': math.inf}
        if tag is not None:
            for key in values:
                raw = tag.get(key)
                if raw is None:
                    continue
                try:
                    values[key] = float(raw)
                except ValueError:
                    raise UrdfError(f'{where}: joint {name}: limit {key}={raw!r} is not a '
                                    'number') from None
        if kind == 'continuous' or values['lower'] >= values['upper']:
            # lower == upper (both default to 0) means the writer gave no range.
            values['lower'], values['upper'] = -math.inf, math.inf
        if values['velocity'] <= 0:   # URDF writers use 0 for "not given"
            values['velocity'] = math.inf
        limits[name] = values
    return limits
