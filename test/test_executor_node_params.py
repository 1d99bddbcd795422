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

"""A bad parameter makes the chunk_executor node exit 1 with one clear line (needs rclpy)."""

import subprocess
import sys

import pytest

pytest.importorskip('rclpy')


@pytest.mark.parametrize('arg, line', [
    ('control_rate_hz:=0.0', 'chunk_executor.control_rate_hz=0: must be > 0'),
    ('blend_mode:=mix', "chunk_executor.blend_mode='mix': must be one of"),
    ('max_velocity:=[1.0, 2.0]', None),
    ('max_velocit:=[1.0]', "unknown parameter (did you mean 'max_velocity'?)"),
])
def test_bad_parameter_exits_nonzero_with_one_line(arg, line):
    cmd = [sys.executable, '-m', 'vla_ros.ros.chunk_executor_node', '--ros-args', '-p', arg]
    if line is None:     # a per-joint list that does not match joint_names
        cmd += ['-p', 'joint_names:=[a, b, c]']
        line = 'chunk_executor.max_velocity=[1, 2]: needs one value or one per joint (3)'
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if 'FATAL' in ln]
    assert len(errors) == 1 and line in errors[0], proc.stderr
