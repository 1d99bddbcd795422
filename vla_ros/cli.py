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
The ``vla-ros`` command line: one sub-command per job, each in `vla_ros.commands`.

A command module is light to import (heavy imports live inside its ``run``) and provides
``add_arguments(parser)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from vla_ros.config import ConfigError

# name -> (module, one-line help). Order is the order of `vla-ros --help`.
COMMANDS = {
    'config': ('vla_ros.commands.config', 'validate parameter files and print the result'),
    'record': ('vla_ros.commands.record', 'record scripted-expert episodes as a LeRobot dataset'),
    'train': ('vla_ros.commands.train', 'train a small SmolVLA on expert demonstrations (CPU)'),
    'eval': ('vla_ros.commands.eval', 'success rate of a policy on held-out simulated episodes'),
    'demo': ('vla_ros.commands.demo', 'run the shipped policy on the simulated arm, no ROS'),
}


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with every sub-command registered."""
    parser = argparse.ArgumentParser(
        prog='vla-ros',
        description='Vision-Language-Action policies on robot arms, with or without ROS 2.')
    parser.add_argument('-v', '--verbose', action='store_true', help='debug logging')
    sub = parser.add_subparsers(dest='command', metavar='COMMAND')
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(module_name)
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        cmd.add_argument('--config', action='append', default=[], metavar='FILE',
                         help='parameter YAML (ROS layout or plain); repeatable, later wins')
        cmd.add_argument('--set', action='append', default=[], metavar='SECTION.KEY=VALUE',
                         dest='overrides', help='override one parameter; repeatable')
        module.add_arguments(cmd)
        cmd.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``vla-ros``; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format='%(levelname)s %(name)s: %(message)s')
    if not getattr(args, 'run', None):
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except ConfigError as exc:
        print(f'vla-ros {args.command}: {exc}', file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
