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
Observation assembly: the latest camera frames, joint state and instruction -> one input.

The rules the policy node applies before it lets the model see anything:

* every input has arrived (each camera slot and ``joint_states``);
* none is older than ``max_obs_age_s`` (nor stamped that far in the future: a clock mismatch);
* the cameras were stamped at most ``max_sync_skew_s`` apart;
* every joint of the model's state is in ``joint_states`` (extra joints are ignored).

A refused observation raises `Refusal` with a short ``cause`` (counted and warned about per
cause) and a message naming the input. The observation stamp is the joint-state stamp: the
state is what the actions are relative to, so it is the instant the chunk's step 0 belongs to.

Messages are duck-typed (``header.stamp.sec``/``nanosec``, ``name``, ``position``), so the
rules are tested on plain objects; storing a message is one assignment, cheap enough for a
sensor callback, and all conversion happens in `ObservationAssembler.assemble`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

# Why an observation was refused; the node counts drops per cause.
CAUSES = ('missing', 'stale', 'skew', 'missing_joint', 'bad_input')


class Refusal(Exception):
    """An observation cannot be assembled; `cause` is one of `CAUSES`."""

    def __init__(self, cause: str, message: str):
        super().__init__(message)
        self.cause = cause


def stamp_to_s(stamp) -> float:
    """Convert a ``builtin_interfaces/Time`` (``sec``, ``nanosec``) to seconds."""
    return float(stamp.sec) + 1e-9 * float(stamp.nanosec)


@dataclass(frozen=True)
class AssembledObservation:
    """What the policy gets, plus what the node needs to publish the chunk."""

    images: dict[str, np.ndarray]        # slot -> (H, W, 3) uint8 RGB
    state: np.ndarray                    # (J,) positions in the model's joint order
    instruction: str
    stamp: float                         # joint-state stamp [s]
    joint_order: tuple[str, ...]         # every joint name of joint_states, in its order
    age_s: float                         # age of the oldest input at assembly [s]
    # The joint-state stamp as integer ns: a float at 1.8e9 s is only good to ~0.2 us, and the
    # chunk must carry the observation's stamp exactly so it can be matched to its inputs.
    stamp_ns: int | None = None


class JointMap:
    """Pick the model's joints, by name, out of a ``sensor_msgs/JointState``."""

    def __init__(self, joint_names: Sequence[str]):
        self.joint_names = tuple(joint_names)
        if len(set(self.joint_names)) != len(self.joint_names):
            raise ValueError(f'joint names repeat: {list(self.joint_names)}')

    def state(self, names: Sequence[str], positions: Sequence[float]) -> np.ndarray:
        """Return the positions of `joint_names`, in that order; raise `Refusal` if one lacks."""
        names = list(names)
        if len(positions) != len(names):
            raise Refusal('bad_input', f'joint_states has {len(names)} names but '
                                       f'{len(positions)} positions')
        index = {name: i for i, name in enumerate(names)}
        missing = [n for n in self.joint_names if n not in index]
        if missing:
            raise Refusal('missing_joint', f'joint_states lacks joint {missing[0]!r} '
                                           f'(has {names})')
        state = np.array([positions[index[n]] for n in self.joint_names], dtype=np.float64)
        if not np.isfinite(state).all():
            raise Refusal('bad_input', 'joint_states has a NaN or inf position')
        return state


class ObservationAssembler:
    """Keep the latest message per input; assemble them into one observation on demand."""

    def __init__(self, camera_slots: Sequence[str], joint_names: Sequence[str],
                 max_obs_age_s: float, max_sync_skew_s: float, instruction: str = ''):
        self.camera_slots = tuple(camera_slots)
        self.joints = JointMap(joint_names)
        self.max_obs_age_s = max_obs_age_s
        self.max_sync_skew_s = max_sync_skew_s
        self.instruction = instruction
        self._images: dict[str, Any] = {}
        self._joint_state: Any = None

    # Storing is a dict or attribute assignment: atomic under the GIL, safe from any thread.
    def set_image(self, slot: str, msg) -> None:
        """Store the latest frame of camera `slot`."""
        self._images[slot] = msg

    def set_joint_state(self, msg) -> None:
        """Store the latest ``sensor_msgs/JointState``."""
        self._joint_state = msg

    def set_instruction(self, text: str) -> None:
        """Replace the instruction (from the topic)."""
        self.instruction = text

    def assemble(self, now_s: float,
                 decode: Callable[[Any], np.ndarray]) -> AssembledObservation:
        """Check the rules at time `now_s`; decode the frames with `decode` (msg -> RGB)."""
        joint_state = self._joint_state
        images = dict(self._images)
        if joint_state is None:
            raise Refusal('missing', 'no joint_states received yet')
        for slot in self.camera_slots:
            if slot not in images:
                raise Refusal('missing', f'no image received yet for camera {slot!r}')
        stamps = {f'camera {slot!r}': stamp_to_s(images[slot].header.stamp)
                  for slot in self.camera_slots}
        stamp = stamp_to_s(joint_state.header.stamp)
        age_s = 0.0
        for name, t in [('joint_states', stamp)] + list(stamps.items()):
            age = now_s - t
            if abs(age) > self.max_obs_age_s:
                when = 'old' if age > 0 else 'in the future'
                raise Refusal('stale', f'{name} is {abs(age):.3f} s {when}: max_obs_age_s='
                                       f'{self.max_obs_age_s:g}')
            age_s = max(age_s, age)
        skew = max(stamps.values()) - min(stamps.values())
        if skew > self.max_sync_skew_s:
            first = min(stamps, key=stamps.get)
            last = max(stamps, key=stamps.get)
            raise Refusal('skew', f'{first} and {last} are stamped {skew:.3f} s apart: '
                                  f'max_sync_skew_s={self.max_sync_skew_s:g}')
        state = self.joints.state(joint_state.name, joint_state.position)
        rgb = {}
        for slot in self.camera_slots:
            try:
                rgb[slot] = decode(images[slot])
            except ValueError as exc:
                raise Refusal('bad_input', f'camera {slot!r}: {exc}') from None
        js_stamp = joint_state.header.stamp
        stamp_ns = int(js_stamp.sec) * 10**9 + int(js_stamp.nanosec)
        return AssembledObservation(rgb, state, self.instruction, stamp,
                                    tuple(joint_state.name), age_s, stamp_ns)


class WarningThrottle:
    """
    Let one warning per cause through every `period_s` (a per-call-site throttle is not).

    rclpy's ``throttle_duration_sec`` throttles by call site, so a single refusal site would
    hide a second cause behind the first; this keys on the cause instead.
    """

    def __init__(self, period_s: float):
        self.period_s = period_s
        self._last: dict[str, float] = {}

    def allow(self, cause: str, now_s: float) -> bool:
        """Return True if a warning for `cause` may be logged now (and remember it)."""
        last = self._last.get(cause)
        if last is not None and now_s - last < self.period_s:
            return False
        self._last[cause] = now_s
        return True


def slot_mapping(topics: Sequence[str], slots: Sequence[str],
                 model_cameras: Sequence[str]) -> Mapping[str, str]:
    """
    Map each camera topic to a model camera slot; raise ValueError naming the problem.

    Empty `slots` takes the model's cameras in order. Every model camera needs exactly one
    topic: a slot the model lacks, a repeated slot or an unfed model camera is an error.
    """
    if not slots:
        if len(topics) != len(model_cameras):
            raise ValueError(f'policy_node.camera_topics has {len(topics)} topics but the '
                             f'model has {len(model_cameras)} cameras {list(model_cameras)}: '
                             f'give one topic per camera or set camera_slots')
        slots = model_cameras
    unknown = [s for s in slots if s not in model_cameras]
    if unknown:
        raise ValueError(f'policy_node.camera_slots: {unknown[0]!r} is not a camera of the '
                         f'model (it has {list(model_cameras)})')
    if len(set(slots)) != len(slots):
        raise ValueError(f'policy_node.camera_slots={list(slots)}: a slot is used twice')
    unfed = [c for c in model_cameras if c not in slots]
    if unfed:
        raise ValueError(f'policy_node.camera_slots: model camera {unfed[0]!r} has no topic')
    return dict(zip(topics, slots))
