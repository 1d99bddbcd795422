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

"""models/vla_arm.urdf matches the MJCF arm: joints, axes, offsets, limits, ros2_control."""

from pathlib import Path
import shutil
import subprocess
from xml.etree import ElementTree

import numpy as np
import pytest

from vla_ros.sim import HOME_POSITIONS, JOINT_LIMITS, JOINT_NAMES
from vla_ros.sim.robot import ASSETS_DIR

URDF = Path(__file__).resolve().parents[1] / 'models' / 'vla_arm.urdf'


def vec(text):
    return np.array([float(v) for v in text.split()])


@pytest.fixture(scope='module')
def urdf():
    return ElementTree.parse(URDF).getroot()


@pytest.fixture(scope='module')
def mjcf_joints():
    """Joint name -> (parent body, child body, body offset, axis, range, type) from the MJCF."""
    root = ElementTree.parse(ASSETS_DIR / 'vla_arm.xml').getroot()
    joints = {}

    def walk(body, parent):
        for child in body.findall('body'):
            for joint in child.findall('joint'):
                kind = joint.get('type') or ('slide' if joint.get('class') == 'finger'
                                             else 'hinge')
                rng = joint.get('range') or '0 0.04'     # the finger class default
                joints[joint.get('name')] = (parent, child.get('name'), vec(child.get('pos')),
                                             vec(joint.get('axis')), vec(rng), kind)
            walk(child, child.get('name'))

    walk(root.find('worldbody'), 'world')
    return joints


def test_driven_joints_match_the_mjcf(urdf, mjcf_joints):
    urdf_joints = {j.get('name'): j for j in urdf.findall('joint')}
    for i, name in enumerate(JOINT_NAMES + ('gripper_mirror',)):
        joint = urdf_joints[name]
        parent, child, offset, axis, rng, kind = mjcf_joints[name]
        assert joint.find('parent').get('link') == parent
        assert joint.find('child').get('link') == child
        assert joint.get('type') == {'hinge': 'revolute', 'slide': 'prismatic'}[kind]
        np.testing.assert_allclose(vec(joint.find('origin').get('xyz')), offset)
        np.testing.assert_allclose(vec(joint.find('axis').get('xyz')), axis)
        limit = joint.find('limit')
        np.testing.assert_allclose([float(limit.get('lower')), float(limit.get('upper'))], rng)
        k = min(i, 6)
        assert float(limit.get('lower')) == pytest.approx(JOINT_LIMITS.lower[k])
        assert float(limit.get('upper')) == pytest.approx(JOINT_LIMITS.upper[k])
        assert float(limit.get('velocity')) == pytest.approx(JOINT_LIMITS.max_velocity[k])
        assert float(limit.get('effort')) > 0
    assert urdf_joints['gripper_mirror'].find('mimic').get('joint') == 'gripper'


def test_tcp_offset_matches_the_mjcf_site(urdf):
    site = ElementTree.parse(ASSETS_DIR / 'vla_arm.xml').getroot().find(".//site[@name='tcp']")
    joint = urdf.find("joint[@name='tcp_joint']")
    np.testing.assert_allclose(vec(joint.find('origin').get('xyz')), vec(site.get('pos')))


def test_ros2_control_block(urdf):
    block = urdf.find('ros2_control')
    assert block.find('hardware/plugin').text.strip() in (
        'mock_components/GenericSystem', 'gz_ros2_control/GazeboSimSystem')
    joints = block.findall('joint')
    assert tuple(j.get('name') for j in joints) == JOINT_NAMES
    for i, joint in enumerate(joints):
        assert [c.get('name') for c in joint.findall('command_interface')] == ['position']
        initial = joint.find("state_interface[@name='position']/param[@name='initial_value']")
        assert float(initial.text) == pytest.approx(HOME_POSITIONS[i])


@pytest.mark.skipif(shutil.which('check_urdf') is None, reason='check_urdf not installed '
                    '(apt-get install liburdfdom-tools)')
def test_check_urdf_accepts_it():
    out = subprocess.run(['check_urdf', str(URDF)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert 'Successfully Parsed XML' in out.stdout
