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

"""``vla-ros config``: validate parameter files and print every section as it will be used."""

from __future__ import annotations

import argparse
import dataclasses
import textwrap
from typing import Any, Iterable

from vla_ros.config import check_sections, CONFIG_CLASSES, ConfigError, field_help, load_config
import yaml


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register this command's options."""
    parser.add_argument('sections', nargs='*', metavar='SECTION',
                        help='print these sections too (node name or alias): '
                        + ', '.join(sorted(_by_name())))
    parser.add_argument('--all', action='store_true',
                        help='print every section, not only those named in the files')
    parser.add_argument('--comments', action='store_true',
                        help="print each parameter's help above it (the layout of "
                        'config/*.yaml)')


def run(args: argparse.Namespace) -> int:
    """Validate; print the effective parameters in the ROS parameter-file layout."""
    by_name = _by_name()
    for name in args.sections:
        if name not in by_name:
            raise ConfigError(f'{name}: unknown section; one of ' + ', '.join(sorted(by_name)))
    built = {type(cfg): cfg for cfg in check_sections(CONFIG_CLASSES, args.config,
                                                      args.overrides)}
    wanted = set(CONFIG_CLASSES) if args.all else (
        set(built) | {by_name[name] for name in args.sections})
    configs = [built.get(cls) or load_config(cls, args.config, args.overrides)
               for cls in CONFIG_CLASSES if cls in wanted]
    if args.comments:
        print(commented_yaml(configs), end='')
    else:
        out = {cfg.SECTION: {'ros__parameters': _plain(dataclasses.asdict(cfg))}
               for cfg in configs}
        print(yaml.safe_dump(out, sort_keys=False), end='')
    return 0


def commented_yaml(configs: Iterable[Any]) -> str:
    """
    Return `configs` as a ROS parameter file with each field's help as a comment above it.

    ``config/<node>.yaml`` is this text for the node's defaults (test/test_config_files.py).
    """
    lines = []
    for cfg in configs:
        lines += [f'# {type(cfg).__doc__.strip().splitlines()[0]}',
                  '# Every parameter with its help (`ros2 param describe` shows the same help).',
                  f'# Written by: vla-ros config --comments {cfg.SECTION}',
                  f'{cfg.SECTION}:', '  ros__parameters:']
        helps = field_help(type(cfg))
        for name, value in _plain(dataclasses.asdict(cfg)).items():
            lines += textwrap.wrap(helps[name], 99, initial_indent='    # ',
                                   subsequent_indent='    # ', break_on_hyphens=False)
            # Dumped inside a list: a scalar alone would end with YAML's '...' document end.
            text = yaml.safe_dump([value], default_flow_style=True, width=float('inf'))
            lines.append(f'    {name}: {text.strip()[1:-1]}')
        lines.append('')
    return '\n'.join(lines)


def _by_name() -> dict[str, type]:
    return {name: cls for cls in CONFIG_CLASSES for name in (cls.SECTION, cls.ALIAS)}


def _plain(values: dict) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}
