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

The rules applied before the policy sees anything, the same in the policy node and in the
in-process loop:

* every input has arrived (each camera slot and the joint state);
* none is older than ``max_obs_age_s`` (nor stamped that far in the future: a clock mismatch);
* the cameras were stamped at most ``max_sync_skew_s`` apart;
* every joint of the policy's state is in the joint state (extra joints are ignored).

A refused observation raises `Refusal` with a short ``cause`` (counted and warned about per
cause) and a message naming the input. The observation stamp is the joint-state stamp: the
state is what the actions are relative to, so it is the instant the chunk's step 0 belongs to.

Inputs are stored with their stamp in integer nanoseconds and an undecoded payload (a ROS image
message, or an RGB array in simulation); storing is one assignment, cheap enough for a sensor
callback, and decoding happens in `ObservationAssembler.assemble`.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np

from vla_ros.messages.joint_state import JointStateError, positions_by_name
from vla_ros.policy.interface import Observation

# Why an observation was refused; the runtime counts drops per cause.
CAUSES = ('missing', 'stale', 'skew', 'missing_joint', 'bad_input')


class Refusal(Exception):
    """An observation cannot be assembled; `cause` is one of `CAUSES`."""

    def __init__(self, cause: str, message: str):
        super().__init__(message)
        self.cause = cause


class ObservationAssembler:
    """Keep the latest input of each kind; assemble them into one observation on demand."""

    def __init__(self, camera_slots: Sequence[str], joint_names: Sequence[str],
                 max_obs_age_s: float, max_sync_skew_s: float, instruction: str = ''):
        self.camera_slots = tuple(camera_slots)
        self.joint_names = tuple(joint_names)
        if len(set(self.joint_names)) != len(self.joint_names):
            raise ValueError(f'joint names repeat: {list(self.joint_names)}')
        self.max_obs_age_s = max_obs_age_s
        self.max_sync_skew_s = max_sync_skew_s
        self.instruction = instruction
        self.clear()

    def clear(self) -> None:
        """Forget every stored input (after a reset of the world they describe)."""
        self._images: dict[str, tuple[int, Any]] = {}
        self._joint_state: tuple[int, Sequence[str], Sequence[float]] | None = None

    # Storing is a dict or attribute assignment: atomic under the GIL, safe from any thread.
    def set_image(self, slot: str, stamp_ns: int, payload: Any) -> None:
        """Store the latest frame of camera `slot` (decoded only when assembled)."""
        self._images[slot] = (stamp_ns, payload)

    def set_joint_state(self, stamp_ns: int, names: Sequence[str],
                        positions: Sequence[float]) -> None:
        """Store the latest joint state: names and positions in the robot's order."""
        self._joint_state = (stamp_ns, names, positions)

    def set_instruction(self, text: str) -> None:
        """Replace the instruction."""
        self.instruction = text

    def assemble(self, now_s: float, decode: Callable[[Any], np.ndarray]) -> Observation:
        """Check the rules at time `now_s`; decode the frames with `decode` (payload -> RGB)."""
        joint_state = self._joint_state
        images = dict(self._images)
        if joint_state is None:
            raise Refusal('missing', 'no joint_states received yet')
        for slot in self.camera_slots:
            if slot not in images:
                raise Refusal('missing', f'no image received yet for camera {slot!r}')
        stamps = {f'camera {slot!r}': 1e-9 * images[slot][0] for slot in self.camera_slots}
        stamp_ns, names, positions = joint_state
        stamp = 1e-9 * stamp_ns
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
        try:
            state = positions_by_name(names, positions, self.joint_names)
        except JointStateError as exc:
            raise Refusal(exc.kind, str(exc)) from None
        rgb = {}
        for slot in self.camera_slots:
            try:
                rgb[slot] = decode(images[slot][1])
            except ValueError as exc:
                raise Refusal('bad_input', f'camera {slot!r}: {exc}') from None
        return Observation(rgb, state, self.instruction, stamp, int(stamp_ns),
                           tuple(names), age_s)


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
