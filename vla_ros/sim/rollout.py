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

"""Run the scripted expert through an episode and keep what a dataset records."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vla_ros.sim.expert import ScriptedExpert


@dataclass
class RecordedEpisode:
    """
    Frames of one expert episode at a fixed rate; arrays are indexed by frame.

    Frame ``k`` is at sim time ``k / fps``: ``images`` and ``state`` are observed then, and
    ``action`` is the expert's joint target for that same instant (the chunk executor's
    convention: step 0 of a chunk belongs to the observation time).
    """

    seed: int
    task: str
    instruction: str
    fps: int
    images: dict = field(repr=False)     # camera -> uint8 (T, H, W, 3)
    state: np.ndarray = field(repr=False)    # (T, 7) [rad, m]
    action: np.ndarray = field(repr=False)   # (T, 7) [rad, m]
    success: bool = False

    @property
    def length(self) -> int:
        """Return the number of frames."""
        return len(self.state)


def record_episode(env, seed: int, task: str | None = None, fps: int = 10,
                   control_rate_hz: float = 100.0, tail_s: float = 0.0) -> RecordedEpisode:
    """
    Reset `env` to `seed` (and `task`), run the expert, return the frames at `fps`.

    Between frames the expert's smooth trajectory is commanded at `control_rate_hz`, as a chunk
    executor would. Frames cover the plan and `tail_s` more of holding still.
    """
    env.reset(seed, task)
    expert = ScriptedExpert(env)
    n_frames = int(np.floor((expert.duration_s + tail_s) * fps + 1e-9)) + 1
    sub_steps = max(1, int(round(control_rate_hz / fps)))
    images = {cam: [] for cam in env.config.cameras}
    state, action = [], []
    for k in range(n_frames):
        obs = env.observe()
        for cam, image in obs.images.items():
            images[cam].append(image)
        state.append(obs.state)
        action.append(expert.target(k / fps))
        if k == n_frames - 1:
            break
        for i in range(sub_steps):
            env.set_command(expert.target(k / fps + i / (fps * sub_steps)))
            env.advance(1.0 / (fps * sub_steps))
    return RecordedEpisode(
        seed=seed, task=env.task, instruction=env.instruction, fps=fps,
        images={cam: np.stack(frames) for cam, frames in images.items()},
        state=np.array(state), action=np.array(action), success=env.success())
