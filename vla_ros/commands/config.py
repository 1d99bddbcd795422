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

from vla_ros.config import check_sections, CONFIG_CLASSES, load_config
import yaml


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register this command's options."""
    parser.add_argument('--all', action='store_true',
                        help='print every component, not only those named in the files')


def run(args: argparse.Namespace) -> int:
    """Validate; print the effective parameters in the ROS parameter-file layout."""
    configs = check_sections(args.config, args.overrides)
    if args.all:
        configs = [load_config(cls, args.config, args.overrides) for cls in CONFIG_CLASSES]
    out = {cfg.SECTION: {'ros__parameters': _plain(dataclasses.asdict(cfg))} for cfg in configs}
    print(yaml.safe_dump(out, sort_keys=False), end='')
    return 0


def _plain(values: dict) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}
