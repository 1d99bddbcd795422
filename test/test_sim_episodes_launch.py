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
``ros2 launch vla_ros sim.launch.py episodes:=2``: two episodes, eval's table, exit code 0.

The real launch file runs, with a tiny random-weight policy, through ``ros2 launch``. The
package is made findable without a colcon build: a throw-away prefix on AMENT_PREFIX_PATH holds
the ament index entry, links to launch/ and config/, and one-line scripts that start each node
from this checkout. Skipped cleanly without ROS 2 or an offscreen GL for MuJoCo.
"""

import json
import os
from pathlib import Path
import shutil
import signal
import subprocess
import sys

import pytest

pytest.importorskip('rclpy')
pytest.importorskip('launch_ros')
pytest.importorskip('torch')
pytest.importorskip('mujoco')

from conftest import make_tiny_policy  # noqa: E402, I100
from vla_ros.evaluation.report import format_table, read_summary, success_table  # noqa: E402
from vla_ros.evaluation.schedule import episode_plan  # noqa: E402
from vla_ros.sim.robot import CAMERA_NAMES, JOINT_NAMES  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NODES = {'sim_node': 'vla_ros.ros.sim_node', 'policy_node': 'vla_ros.ros.policy_node',
         'chunk_executor_node': 'vla_ros.ros.chunk_executor_node'}
TIMEOUT_S = 180


def offscreen_gl_works():
    probe = ('import mujoco; m = mujoco.MjModel.from_xml_string("<mujoco/>"); '
             'mujoco.Renderer(m, 16, 16)')
    env = dict(os.environ, MUJOCO_GL=os.environ.get('MUJOCO_GL', 'egl'))
    return subprocess.run([sys.executable, '-c', probe], env=env, capture_output=True,
                          timeout=60).returncode == 0


def package_prefix(root: Path) -> Path:
    """Install vla_ros into `root` the way colcon would, as links and start scripts."""
    (root / 'share' / 'ament_index' / 'resource_index' / 'packages').mkdir(parents=True)
    (root / 'share' / 'ament_index' / 'resource_index' / 'packages' / 'vla_ros').touch()
    share = root / 'share' / 'vla_ros'
    share.mkdir()
    for name in ('config', 'package.xml'):
        (share / name).symlink_to(ROOT / name)
    (share / 'launch').mkdir()     # ros2 launch looks for the file without following links
    for path in (ROOT / 'launch').glob('*.launch.py'):
        (share / 'launch' / path.name).symlink_to(path)
    lib = root / 'lib' / 'vla_ros'
    lib.mkdir(parents=True)
    for executable, module in NODES.items():
        script = lib / executable
        script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m {module} "$@"\n')
        script.chmod(0o755)
    return root


def test_two_episodes_print_the_table_write_the_summary_and_exit_0(tmp_path):
    if shutil.which('ros2') is None:
        pytest.skip('ros2 CLI not on PATH (source ROS 2)')
    if not offscreen_gl_works():
        pytest.skip('MuJoCo cannot render offscreen here')
    checkpoint = make_tiny_policy(tmp_path / 'policy', cameras=CAMERA_NAMES,
                                  joints=JOINT_NAMES, dt=0.1)
    prefix = package_prefix(tmp_path / 'prefix')
    env = dict(os.environ, MUJOCO_GL=os.environ.get('MUJOCO_GL', 'egl'),
               AMENT_PREFIX_PATH=os.pathsep.join(
                   [str(prefix)] + [p for p in [os.environ.get('AMENT_PREFIX_PATH')] if p]),
               PYTHONPATH=os.pathsep.join(
                   [str(ROOT)] + [p for p in [os.environ.get('PYTHONPATH')] if p]),
               # A DDS domain of its own: nodes of the same names from other tests in this
               # session (a policy_node's lifecycle services above all) must not answer.
               ROS_DOMAIN_ID=str(150 + (int(os.environ.get('ROS_DOMAIN_ID', '0')) + 1) % 80))
    out = tmp_path / 'out'
    proc = subprocess.Popen(
        ['ros2', 'launch', 'vla_ros', 'sim.launch.py', 'episodes:=2', 'seed:=7',
         'episode_time_s:=2.0', f'checkpoint:={checkpoint}', f'out:={out}'],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)
    try:
        log, _ = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            log, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            log, _ = proc.communicate()
        pytest.fail(f'the launch did not end within {TIMEOUT_S} s:\n{log[-4000:]}')
    assert proc.returncode == 0, log[-4000:]

    extra, results = read_summary(out / 'summary.json')
    assert [(r.seed, r.task) for r in results] == episode_plan(7, 2)
    assert extra['seeds'] == [7, 8]
    table = format_table(success_table(results))
    assert table == (out / 'table.md').read_text().strip()
    printed = [line.split('] ', 1)[1] for line in log.splitlines()
               if line.startswith('[sim_node-1] |')]
    assert printed == table.splitlines(), log[-4000:]
    assert all(r.inferences > 0 for r in results), log[-4000:]
    data = json.loads((out / 'summary.json').read_text())
    assert data['latency']['chunks'] == sum(r.inferences for r in results)
    assert data['latency']['chunk_delay_p50_s'] > 0
    assert 'process has finished cleanly' in log
