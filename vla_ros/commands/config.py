"""``vla-ros config``: validate parameter files and print every section as it will be used."""

from __future__ import annotations

import argparse
import dataclasses

import yaml

from vla_ros.config import check_sections, CONFIG_CLASSES, load_config


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
