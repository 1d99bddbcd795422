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

"""The core must import, and the CLI must run, with rclpy unavailable."""

import json
from pathlib import Path
import re
import subprocess
import sys

PACKAGE = Path(__file__).resolve().parents[1] / 'vla_ros'

SCRIPT = r"""
import importlib, json, sys
sys.modules['rclpy'] = None          # any 'import rclpy' now raises ImportError
names = json.loads(sys.argv[1])
for name in names:
    importlib.import_module(name)
leaked = sorted(n for n, m in sys.modules.items()
                if m is not None and n.split('.')[0] in ('rclpy', 'rcl_interfaces'))
assert not leaked, leaked
print(len(names))
"""


def core_modules() -> list[str]:
    """Every module file of the package outside vla_ros/ros, as dotted names."""
    names = []
    for path in sorted(PACKAGE.rglob('*.py')):
        parts = path.relative_to(PACKAGE.parent).with_suffix('').parts
        if parts[1] == 'ros':
            continue
        names.append('.'.join(parts[:-1] if parts[-1] == '__init__' else parts))
    return names


def test_every_core_module_imports_with_rclpy_blocked():
    names = core_modules()
    # The walk itself must see the whole package: each layer of the layout is in it.
    for layer in ('config', 'control', 'messages', 'model', 'policy', 'runtime', 'sim',
                  'evaluation', 'training', 'action_tokenizers', 'commands'):
        assert f'vla_ros.{layer}' in names, layer
    proc = subprocess.run([sys.executable, '-c', SCRIPT, json.dumps(names)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert int(proc.stdout.strip()) == len(names)


def test_no_core_source_names_rclpy():
    # Also an import inside a function, which importing the module would not execute.
    pattern = re.compile(r'^\s*(import|from) (rclpy|rcl_interfaces)\b', re.MULTILINE)
    offenders = [str(path) for path in PACKAGE.rglob('*.py')
                 if path.relative_to(PACKAGE).parts[0] != 'ros'
                 and pattern.search(path.read_text())]
    assert not offenders


def test_cli_help_works_without_ros():
    proc = subprocess.run([sys.executable, '-c',
                           "import sys; sys.modules['rclpy'] = None; "
                           "from vla_ros.cli import main; sys.exit(main(['--help']))"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert 'config' in proc.stdout
