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
Which policy class loads a checkpoint directory: a registry keyed by what the directory holds.

Each `CheckpointFormat` has a cheap, never-failing test on the directory (``matches``) and a
loader. `load_policy` picks the one format that matches; a directory that matches none is one
error naming every known format and what it expects, so a wrong path or a half-copied
checkpoint is obvious. A new policy kind registers its format with `register_format`.
"""

from __future__ import annotations

from dataclasses import dataclass
import json
from pathlib import Path
import sys
from typing import Any, Callable

from vla_ros.policy.interface import PolicyError, VLAPolicy


SHIPPED_MODEL = 'demo_policy'   # models/<this>: the demo policy trained here


class UnknownCheckpointFormat(PolicyError):
    """No registered format matches a checkpoint directory."""


@dataclass(frozen=True)
class CheckpointFormat:
    """A kind of checkpoint directory and how to load it."""

    name: str                                   # registry key, e.g. 'vla_ros.smolvla'
    expects: str                                # what the directory holds, for error messages
    matches: Callable[[Path], bool]             # cheap test; must not raise
    load: Callable[..., VLAPolicy]              # (directory, device, dtype, **overrides)


_FORMATS: dict[str, CheckpointFormat] = {}


def register_format(fmt: CheckpointFormat) -> None:
    """Add `fmt`; a second format of the same name is an error."""
    if fmt.name in _FORMATS:
        raise ValueError(f'checkpoint format {fmt.name!r} is already registered')
    _FORMATS[fmt.name] = fmt


def known_formats() -> tuple[CheckpointFormat, ...]:
    """Return the registered formats, in registration order."""
    return tuple(_FORMATS.values())


def detect_format(path: str | Path) -> CheckpointFormat:
    """Return the format of the directory `path`; raise `UnknownCheckpointFormat` if none."""
    directory = Path(path)
    if not directory.is_dir():
        raise UnknownCheckpointFormat(f'{directory}: not a directory (a checkpoint is a '
                                      'directory)')
    found = [fmt for fmt in _FORMATS.values() if fmt.matches(directory)]
    if not found:
        known = '; '.join(f'{fmt.name} ({fmt.expects})' for fmt in _FORMATS.values())
        raise UnknownCheckpointFormat(f'{directory}: matches no known checkpoint format. '
                                      f'Known: {known}')
    if len(found) > 1:
        raise UnknownCheckpointFormat(f'{directory}: matches several checkpoint formats: '
                                      + ', '.join(fmt.name for fmt in found))
    return found[0]


def load_policy(path: str | Path, device: str = 'cpu', dtype: str = 'float32',
                **overrides: Any) -> VLAPolicy:
    """
    Load the policy in the checkpoint directory `path`, whatever its format.

    `overrides` go to the format's loader (for the SmolVLA formats: `PolicySpec` fields such
    as ``joint_names`` and ``action_mode``, and ``vlm_path`` for a LeRobot checkpoint).
    """
    fmt = detect_format(path)
    policy = fmt.load(Path(path), device=device, dtype=dtype, **overrides)
    policy.format_name = fmt.name
    return policy


def _config_json(directory: Path) -> dict:
    try:
        data = json.loads((directory / 'config.json').read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _is_ours(directory: Path) -> bool:
    from vla_ros.model.checkpoint import FORMAT

    return (_config_json(directory).get('format') == FORMAT
            and (directory / 'policy.json').is_file())


def _is_lerobot_smolvla(directory: Path) -> bool:
    return _config_json(directory).get('type') == 'smolvla'


def _is_autoregressive(directory: Path) -> bool:
    from vla_ros.model.autoregressive import FORMAT

    return (_config_json(directory).get('format') == FORMAT
            and (directory / 'policy.json').is_file())


def _load_smolvla(directory: Path, **kwargs: Any) -> VLAPolicy:
    from vla_ros.policy.smolvla import SmolVLAPolicy

    return SmolVLAPolicy.from_pretrained(directory, **kwargs)


def _load_autoregressive(directory: Path, **kwargs: Any) -> VLAPolicy:
    from vla_ros.policy.autoregressive import AutoregressivePolicy

    return AutoregressivePolicy.from_pretrained(directory, **kwargs)


register_format(CheckpointFormat(
    'vla_ros.smolvla', 'config.json with "format": "vla_ros.smolvla", policy.json, '
    'model.safetensors, tokenizer.json', _is_ours, _load_smolvla))
register_format(CheckpointFormat(
    'lerobot.smolvla', 'a LeRobot SmolVLA directory: config.json with "type": "smolvla", '
    'model.safetensors, normalization statistics', _is_lerobot_smolvla, _load_smolvla))
register_format(CheckpointFormat(
    'vla_ros.autoregressive', 'config.json with "format": "vla_ros.autoregressive", '
    'policy.json with "action_head", model.safetensors, tokenizer.json, action_tokenizer/',
    _is_autoregressive, _load_autoregressive))


def find_shipped_model() -> Path:
    """Return the demo policy's directory: the repository's models/ or the installed share."""
    candidates = [Path(__file__).resolve().parents[2] / 'models' / SHIPPED_MODEL]
    try:
        from ament_index_python.packages import get_package_share_directory
        candidates.append(Path(get_package_share_directory('vla_ros')) / 'models'
                          / SHIPPED_MODEL)
    except Exception:  # noqa: BLE001 - no ROS or package not installed: fall through
        pass
    candidates.append(Path(sys.prefix) / 'share' / 'vla_ros' / 'models' / SHIPPED_MODEL)
    for path in candidates:
        if (path / 'config.json').is_file():
            return path
    raise FileNotFoundError('demo policy not found in ' + ', '.join(map(str, candidates)))
