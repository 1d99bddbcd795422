"""``vla-ros demo``: the shipped policy drives the simulated arm through the chunk executor.

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
