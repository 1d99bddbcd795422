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

import subprocess
import sys

SCRIPT = r"""
import importlib, pkgutil, sys
sys.modules['rclpy'] = None          # any 'import rclpy' now raises ImportError
import vla_ros
names = [m.name for m in pkgutil.walk_packages(vla_ros.__path__, 'vla_ros.')
         if not m.name.startswith('vla_ros.ros')]
for name in names:
    importlib.import_module(name)
leaked = sorted(n for n, m in sys.modules.items()
                if m is not None and n.split('.')[0] in ('rclpy', 'rcl_interfaces'))
assert not leaked, leaked
print(len(names))
"""


def test_core_imports_with_rclpy_blocked():
    proc = subprocess.run([sys.executable, '-c', SCRIPT], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert int(proc.stdout.strip()) >= 4


def test_cli_help_works_without_ros():
    proc = subprocess.run([sys.executable, '-c',
                           "import sys; sys.modules['rclpy'] = None; "
                           "from vla_ros.cli import main; sys.exit(main(['--help']))"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert 'config' in proc.stdout
