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
``vla-ros demo``: the shipped policy drives the simulated arm through the chunk executor.

Simulation, policy and executor run in one process without ROS, on held-out seeds; the
command prints the success rate per task and writes a video of the first rollout.
"""

from __future__ import annotations

import argparse

from vla_ros.commands import eval as eval_command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register this command's options (those of ``eval``, with demo-sized defaults)."""
    eval_command.add_eval_arguments(parser, episodes=9, out='outputs/demo')


def run(args: argparse.Namespace) -> int:
    """Run the demo; print the table, the success rate and where the video is."""
    import time

    start = time.monotonic()
    results, table, video = eval_command.evaluate_from_args(args)
    ok = sum(r.success for r in results)
    print(table)
    print(f'success rate: {ok}/{len(results)} = {100 * ok / len(results):.0f} % '
          f'({time.monotonic() - start:.0f} s)')
    if video:
        print(f'video: {video}')
    print(f'commanded vs. measured joints: {args.out}/joints.png')
    return 0
