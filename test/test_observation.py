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

from vla_ros.messages.joint_state import JointStateError, positions_by_name
from vla_ros.messages.stamps import split_nanoseconds, split_seconds, to_nanoseconds, to_seconds
from vla_ros.runtime.observation import (ObservationAssembler, Refusal, slot_mapping,
                                         WarningThrottle)


def joint_state(t, names=('a', 'b', 'c'), positions=(0.1, 0.2, 0.3)):
    """Return (stamp_ns, names, positions) as the node stores a JointState."""
    return int(round(t * 1e9)), list(names), list(positions)


def image(t, value=0):
    """Return (stamp_ns, payload) as the node stores an image message."""
    return int(round(t * 1e9)), SimpleNamespace(value=value)


def decode(msg):
    return np.full((2, 2, 3), msg.value, np.uint8)


def assembler(**kw):
    args = {'camera_slots': ('top', 'wrist'), 'joint_names': ('c', 'a'),
            'max_obs_age_s': 0.5, 'max_sync_skew_s': 0.1, 'instruction': 'pick'}
    args.update(kw)
    return ObservationAssembler(**args)


def fed(t=100.0, skew=0.0):
    obs = assembler()
    obs.set_joint_state(*joint_state(t))
    obs.set_image('top', *image(t, 1))
    obs.set_image('wrist', *image(t - skew, 2))
    return obs


def refusal(obs, now):
    with pytest.raises(Refusal) as info:
        obs.assemble(now, decode)
    return info.value


def test_assembles_in_model_order_with_joint_state_stamp():
    obs = fed()
    obs.set_joint_state(*joint_state(100.02))
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
    obs.set_joint_state(*joint_state(0.0))
    obs.set_image('top', *image(0.0))
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
    obs.set_joint_state(*joint_state(100.6))
    obs.set_image('top', *image(100.6))
    obs.set_image('wrist', *image(100.0))
    r = refusal(obs, 100.6 + 0.01)
    assert r.cause == 'stale' and "camera 'wrist'" in str(r)


def test_camera_skew():
    r = refusal(fed(skew=0.15), 100.0)
    assert r.cause == 'skew'
    assert "camera 'wrist' and camera 'top' are stamped 0.150 s apart" in str(r)
    fed(skew=0.1).assemble(100.0, decode)


def test_skew_ignores_the_joint_state():
    obs = fed()
    obs.set_joint_state(*joint_state(100.3))
    obs.assemble(100.3, decode)


def test_missing_joint_is_named_and_extra_joints_ignored():
    obs = fed()
    obs.set_joint_state(*joint_state(100.0, names=('a', 'b', 'x'), positions=(1, 2, 3)))
    r = refusal(obs, 100.0)
    assert r.cause == 'missing_joint' and "lacks joint 'c'" in str(r)


def test_joint_picking_rejects_nan_and_length_mismatch():
    with pytest.raises(JointStateError, match='NaN') as info:
        positions_by_name(['a'], [float('nan')], ['a'])
    assert info.value.kind == 'bad_input'
    with pytest.raises(JointStateError, match='2 names but 1 positions'):
        positions_by_name(['a', 'b'], [0.0], ['a'])
    with pytest.raises(ValueError, match='repeat'):
        assembler(joint_names=('a', 'a'))


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


def test_stamp_conversions():
    stamp = SimpleNamespace(sec=3, nanosec=500_000_000)
    assert to_seconds(stamp) == 3.5 and to_nanoseconds(stamp) == 3_500_000_000
    assert split_nanoseconds(to_nanoseconds(stamp)) == (3, 500_000_000)
    assert split_nanoseconds(1_800_000_000_123_456_789) == (1_800_000_000, 123_456_789)
    assert split_seconds(-0.25) == (-1, 750_000_000)


def test_clear_forgets_every_input():
    obs = fed()
    obs.clear()
    assert refusal(obs, 100.0).cause == 'missing'


def test_assembled_observation_carries_the_exact_stamp_and_robot_order():
    obs = assembler()
    obs.set_joint_state(1_800_000_000_123_456_789, ['a', 'b', 'c'], [0.1, 0.2, 0.3])
    obs.set_image('top', 1_800_000_000_100_000_000, SimpleNamespace(value=1))
    obs.set_image('wrist', 1_800_000_000_100_000_000, SimpleNamespace(value=2))
    out = obs.assemble(1_800_000_000.2, decode)
    assert out.stamp_ns == 1_800_000_000_123_456_789
    assert out.joint_order == ('a', 'b', 'c') and out.state.tolist() == [0.3, 0.1]


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
