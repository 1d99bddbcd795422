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

"""The README's and docs/ros.md's parameter tables name every parameter each node has."""

import dataclasses
from pathlib import Path
import re

import pytest

from vla_ros.config import ExecutorConfig, PolicyNodeConfig, SimConfig

ROOT = Path(__file__).resolve().parents[1]
NODES = {'policy_node': PolicyNodeConfig, 'chunk_executor': ExecutorConfig,
         'sim_node': SimConfig}


@pytest.mark.parametrize('node', NODES)
def test_readme_parameter_row_names_every_field(node):
    rows = [line for line in (ROOT / 'README.md').read_text().splitlines()
            if line.startswith(f'| `{node}` |') and '`' in line.split('|')[2]]
    named = set(re.findall(r'`(\w+)`', rows[-1].split('|', 2)[2]))
    fields = {f.name for f in dataclasses.fields(NODES[node])}
    assert fields <= named, f'README misses {sorted(fields - named)}'


@pytest.mark.parametrize('node', NODES)
def test_ros_doc_parameter_table_has_every_field(node):
    text = (ROOT / 'docs' / 'ros.md').read_text()
    start = text.index(f'### `{node}` parameters')
    end = text.find('\n#', start + 1)
    table = text[start:end if end > 0 else None]
    named = set(re.findall(r'^\| `(\w+)` \|', table, re.MULTILINE))
    fields = {f.name for f in dataclasses.fields(NODES[node])}
    assert fields == named, (f'docs/ros.md misses {sorted(fields - named)}, has unknown '
                             f'{sorted(named - fields)}')
