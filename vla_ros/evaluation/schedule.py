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
Which seed and task each episode of a run gets: one schedule for ``vla-ros eval`` and sim_node.

Episode ``i`` of a run that starts at seed ``S`` uses seed ``S + i`` and task
``tasks[i % len(tasks)]``, where ``tasks`` is what the user named or, if nothing, every task in
`vla_ros.sim.tasks.TASKS` order. So ``vla-ros eval --seed-start S`` and
``ros2 launch vla_ros sim.launch.py seed:=S episodes:=N`` play the same episodes.
"""

from __future__ import annotations

from typing import Sequence


def task_cycle(tasks: Sequence[str] = ()) -> tuple[str, ...]:
    """Return the tasks episodes cycle through: `tasks`, or every task name in order."""
    from vla_ros.sim.tasks import TASKS   # numpy only; keeps this module importable cheaply

    return tuple(tasks) if tasks else tuple(TASKS)


def episode_task(index: int, tasks: Sequence[str] = ()) -> str:
    """Return the task (name or instruction) of episode `index` (0-based) of a run."""
    cycle = task_cycle(tasks)
    return cycle[index % len(cycle)]


def episode_plan(seed_start: int, episodes: int,
                 tasks: Sequence[str] = ()) -> list[tuple[int, str]]:
    """Return ``[(seed, task), ...]`` for the `episodes` episodes of a run from `seed_start`."""
    return [(seed_start + i, episode_task(i, tasks)) for i in range(episodes)]
