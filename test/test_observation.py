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

"""Observation assembly rules on plain objects that mirror the ROS message fields."""

from types import SimpleNamespace

import numpy as np
import pytest

from vla_ros.observation import (JointMap, ObservationAssembler, Refusal, slot_mapping,
                                 stamp_to_s, WarningThrottle)


def stamp(t):
    sec = int(np.floor(t))
    return SimpleNamespace(sec=sec, nanosec=int(round((t - sec) * 1e9)))


def joint_state(t, names=('a', 'b', 'c'), positions=(0.1, 0.2, 0.3)):
    return SimpleNamespace(header=SimpleNamespace(stamp=stamp(t)), name=list(names),
                           position=list(positions))


def image(t, value=0):
    return SimpleNamespace(header=SimpleNamespace(stamp=stamp(t)), value=value)


def decode(msg):
    return np.full((2, 2, 3), msg.value, np.uint8)


def assembler(**kw):
    args = {'camera_slots': ('top', 'wrist'), 'joint_names': ('c', 'a'),
            'max_obs_age_s': 0.5, 'max_sync_skew_s': 0.1, 'instruction': 'pick'}
    args.update(kw)
    return ObservationAssembler(**args)


def fed(t=100.0, skew=0.0):
    obs = assembler()
    obs.set_joint_state(joint_state(t))
    obs.set_image('top', image(t, 1))
    obs.set_image('wrist', image(t - skew, 2))
    return obs


def refusal(obs, now):
    with pytest.raises(Refusal) as info:
        obs.assemble(now, decode)
    return info.value


def test_assembles_in_model_order_with_joint_state_stamp():
    obs = fed()
    obs.set_joint_state(joint_state(100.02))
    out = obs.assemble(100.1, decode)
    np.testing.assert_allclose(out.state, [0.3, 0.1])
    assert out.stamp == pytest.approx(100.02)
    assert out.joint_order == ('a', 'b', 'c')
    assert out.instruction == 'pick'
    assert out.images['wrist'][0, 0, 0] == 2 and set(out.images) == {'top', 'wrist'}
    assert out.age_s == pytest.approx(0.1)


def test_missing_inputs_are_named():
    obs = assembler()
    r = refusal(obs, 0.0)
    assert r.cause == 'missing' and 'joint_states' in str(r)
    obs.set_joint_state(joint_state(0.0))
    obs.set_image('top', image(0.0))
    r = refusal(obs, 0.0)
    assert r.cause == 'missing' and "'wrist'" in str(r)


@pytest.mark.parametrize('now, cause, words', [
    (100.6, 'stale', 'joint_states is 0.600 s old: max_obs_age_s=0.5'),
    (99.4, 'stale', 'in the future'),
    (100.5, None, None),
])
def test_staleness_bound_is_inclusive(now, cause, words):
    obs = fed()
    if cause is None:
        obs.assemble(now, decode)
        return
    r = refusal(obs, now)
    assert r.cause == cause and words in str(r)


def test_stale_camera_is_named():
    obs = fed()
    obs.set_joint_state(joint_state(100.6))
    obs.set_image('top', image(100.6))
    obs.set_image('wrist', image(100.0))
    r = refusal(obs, 100.6 + 0.01)
    assert r.cause == 'stale' and "camera 'wrist'" in str(r)


def test_camera_skew():
    r = refusal(fed(skew=0.15), 100.0)
    assert r.cause == 'skew'
    assert "camera 'wrist' and camera 'top' are stamped 0.150 s apart" in str(r)
    fed(skew=0.1).assemble(100.0, decode)


def test_skew_ignores_the_joint_state():
    obs = fed()
    obs.set_joint_state(joint_state(100.3))
    obs.assemble(100.3, decode)


def test_missing_joint_is_named_and_extra_joints_ignored():
    obs = fed()
    obs.set_joint_state(joint_state(100.0, names=('a', 'b', 'x'), positions=(1, 2, 3)))
    r = refusal(obs, 100.0)
    assert r.cause == 'missing_joint' and "lacks joint 'c'" in str(r)


def test_joint_map_rejects_nan_and_length_mismatch():
    m = JointMap(['a'])
    with pytest.raises(Refusal, match='NaN'):
        m.state(['a'], [float('nan')])
    with pytest.raises(Refusal, match='2 names but 1 positions'):
        m.state(['a', 'b'], [0.0])
    with pytest.raises(ValueError, match='repeat'):
        JointMap(['a', 'a'])


def test_undecodable_image_is_a_bad_input():
    def bad(msg):
        raise ValueError("Image.encoding='yuv': must be ...")
    obs = fed()
    with pytest.raises(Refusal) as info:
        obs.assemble(100.0, bad)
    r = info.value
    assert r.cause == 'bad_input' and "camera 'top'" in str(r)


def test_instruction_topic_replaces_the_default():
    obs = fed()
    obs.set_instruction('place')
    assert obs.assemble(100.0, decode).instruction == 'place'


def test_stamp_to_s():
    assert stamp_to_s(SimpleNamespace(sec=3, nanosec=500_000_000)) == 3.5


def test_warning_throttle_is_per_cause():
    throttle = WarningThrottle(5.0)
    assert throttle.allow('stale', 0.0)
    assert not throttle.allow('stale', 4.9)
    assert throttle.allow('skew', 4.9)
    assert throttle.allow('stale', 5.0)


def test_slot_mapping():
    assert slot_mapping(['/a', '/b'], [], ['top', 'wrist']) == {'/a': 'top', '/b': 'wrist'}
    assert slot_mapping(['/a', '/b'], ['wrist', 'top'], ['top', 'wrist']) == {
        '/a': 'wrist', '/b': 'top'}
    with pytest.raises(ValueError, match='has 1 topics but the model has 2 cameras'):
        slot_mapping(['/a'], [], ['top', 'wrist'])
    with pytest.raises(ValueError, match="'side' is not a camera of the model"):
        slot_mapping(['/a', '/b'], ['top', 'side'], ['top', 'wrist'])
    with pytest.raises(ValueError, match='used twice'):
        slot_mapping(['/a', '/b'], ['top', 'top'], ['top', 'wrist'])
