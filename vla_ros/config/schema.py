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
How a config dataclass is declared, filled and checked; the dataclasses themselves live beside.

Values reach a dataclass through one code path, `from_mapping`, whether they come from a ROS
parameter file (``<node_name>: ros__parameters: ...``), from ROS parameters
(`vla_ros.ros.params`), from a parameter change on a running node (`apply_change`) or from CLI
overrides (``--set chunk_executor.control_rate_hz=200``).

A bad value, key or file raises `ConfigError` with one line naming the file or section, the
field, the value and the rule: ``chunk_executor.control_rate_hz=0: must be > 0``.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from pathlib import Path
import typing
from typing import Any, Iterable, Mapping, Sequence

import yaml

# Parameters every ROS 2 node has (rclpy declares them; qos_overrides.<topic>... is a prefix).
# They are not config fields: files and changes may carry them, and they are ignored here.
ROS_STANDARD_PARAMETERS = frozenset({'use_sim_time', 'start_type_description_service',
                                     'qos_overrides'})

# Node-name tokens of a ROS parameter file that match any node: ``/**``, ``/ns/*``.
WILDCARD_SECTIONS = frozenset({'*', '**'})

READ_ONLY_NOTE = '(read-only at run time)'

# A bad value is quoted in an error up to this many characters: it may be a 400-digit number
# or a YAML alias bomb, and the error must stay one readable line.
_SHOWN_CHARS = 80

# ROS integer parameters are int64.
_INT64 = (-2 ** 63, 2 ** 63 - 1)


class ConfigError(ValueError):
    """A configuration value, key or file is invalid; the message is one line."""


def param(default: Any, help: str, read_only: bool = False) -> Any:  # noqa: A002 - as argparse
    """
    Declare a config field with its default and its help (the ROS parameter description).

    A `read_only` field cannot change on a running node (`apply_change` refuses it); its help
    ends with ``(read-only at run time)`` so that ``ros2 param describe`` says so.
    """
    if isinstance(default, list):
        default = tuple(default)
    text = f'{help} {READ_ONLY_NOTE}' if read_only else help
    return dataclasses.field(default=default, metadata={'help': text, 'read_only': read_only})


def show(value: Any, limit: int | None = None) -> str:
    """
    Format a parameter value as a user wrote it: ``0`` not ``0.0``, lists as YAML does.

    With `limit`, stop after about that many characters and end with ``...``.
    """
    out = []
    size = 0
    for piece in _pieces(value):
        out.append(piece)
        size += len(piece)
        if limit is not None and size > limit:
            return ''.join(out)[:limit] + '...'
    return ''.join(out)


def _pieces(value: Any) -> Iterable[str]:
    # Lazily, so that `show(..., limit)` of a huge or self-similar value stops early.
    if isinstance(value, (list, tuple)):
        yield '['
        for i, item in enumerate(value):
            yield ', ' if i else ''
            yield from _pieces(item)
        yield ']'
    elif isinstance(value, dict):
        yield '{'
        for i, (key, item) in enumerate(value.items()):
            yield ', ' if i else ''
            yield from _pieces(key)
            yield ': '
            yield from _pieces(item)
        yield '}'
    elif isinstance(value, float):
        yield f'{value:g}'
    elif isinstance(value, str):
        yield repr(value)
    elif isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        yield f'<a {value.bit_length()}-bit integer>'  # str() refuses one of 4300+ digits
    else:
        yield str(value)


def require(cfg: Any, name: str, ok: bool, rule: str) -> None:
    """Raise `ConfigError` naming ``section.name=value`` and `rule` unless `ok`."""
    if not ok:
        raise ConfigError(
            f'{cfg.SECTION}.{name}={show(getattr(cfg, name), _SHOWN_CHARS)}: {rule}')


def require_choice(cfg: Any, name: str, choices: Iterable[str]) -> None:
    """Require the string field `name` to be one of `choices`."""
    choices = tuple(choices)
    require(cfg, name, getattr(cfg, name) in choices, 'must be one of ' + ', '.join(choices))


def require_finite(cfg: Any, *names: str) -> None:
    """Require every listed numeric (or tuple of numbers) field to be finite."""
    for name in names:
        value = getattr(cfg, name)
        values = value if isinstance(value, tuple) else (value,)
        require(cfg, name, all(math.isfinite(v) for v in values), 'must be finite')


def field_help(cls: type) -> dict[str, str]:
    """Return ``{field name: help string}`` for a config dataclass."""
    return {f.name: f.metadata.get('help', '') for f in dataclasses.fields(cls)}


def read_only_fields(cls: type) -> frozenset[str]:
    """Return the names of the fields of `cls` that cannot change on a running node."""
    return frozenset(f.name for f in dataclasses.fields(cls) if f.metadata.get('read_only'))


def is_ros_standard_parameter(name: str) -> bool:
    """Tell whether `name` is one of `ROS_STANDARD_PARAMETERS` (or below qos_overrides)."""
    return name.split('.', 1)[0] in ROS_STANDARD_PARAMETERS


def _coerce(section: str, name: str, hint: Any, value: Any) -> Any:
    """Convert a YAML/ROS value to the field's declared type, or raise one clear line."""
    def fail(expected: str) -> ConfigError:
        return ConfigError(f'{section}.{name}={show(value, _SHOWN_CHARS)}: must be {expected}')

    if hint is bool:
        if isinstance(value, bool):
            return value
        raise fail('true or false')
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise fail('an integer')
        if not _INT64[0] <= value <= _INT64[1]:
            raise fail('a 64-bit integer')
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise fail('a number')
        try:
            return float(value)
        except OverflowError:  # an integer beyond 1.8e308
            raise fail('finite') from None
    if hint is str:
        if not isinstance(value, str):
            raise fail('a string')
        return value
    if typing.get_origin(hint) is tuple:
        (item,) = {a for a in typing.get_args(hint) if a is not Ellipsis}
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
            raise fail('a list')
        return tuple(_coerce(section, f'{name}[{i}]', item, v) for i, v in enumerate(value))
    raise TypeError(f'{section}.{name}: unsupported field type {hint!r}')


def _unknown(where: str, key: str, known: Iterable[str], what: str) -> ConfigError:
    close = difflib.get_close_matches(key, list(known), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ''
    return ConfigError(f'{where}{_cut(key)}: unknown {what}{hint}')


def from_mapping(cls: type, values: Mapping[str, Any], base: Any = None) -> Any:
    """
    Build `cls` from `values` over `base` (or the defaults); validate; one-line errors.

    The parameters every ROS node has (`ROS_STANDARD_PARAMETERS`) are ignored; any other key
    that is not a field is an error with a did-you-mean.
    """
    section = cls.SECTION
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs = dataclasses.asdict(base) if base is not None else {}
    for key, value in values.items():
        if not isinstance(key, str):
            raise ConfigError(f'{section}.{show(key, _SHOWN_CHARS)}: a parameter name must be '
                              'a string')
        if key in names:
            kwargs[key] = _coerce(section, key, hints[key], value)
        elif not is_ros_standard_parameter(key):
            raise _unknown(f'{section}.', key, names + sorted(ROS_STANDARD_PARAMETERS),
                           'parameter')
    return cls(**kwargs)


def apply_change(cfg: Any, changes: Mapping[str, Any]) -> Any:
    """
    Return `cfg` with `changes` applied, validated as a whole (for a running node).

    Raises `ConfigError` for a bad value, as `from_mapping` does, and for a change of a
    read-only field (`read_only_fields`); setting one to its current value is allowed.
    """
    cls = type(cfg)
    new = from_mapping(cls, changes, base=cfg)
    for name in sorted(read_only_fields(cls)):
        if getattr(new, name) != getattr(cfg, name):
            raise ConfigError(f'{cls.SECTION}.{name}: read-only at run time (restart the node '
                              'to change it)')
    return new


def _cut(text: str) -> str:
    """`text` on one line, cut to about `_SHOWN_CHARS` characters."""
    text = ' '.join(text.split())
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + '...'


def _parse_yaml(text: str, where: str) -> Any:
    """`yaml.safe_load`, with every way it can fail turned into one `ConfigError` line."""
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f' line {mark.line + 1}:' if mark is not None else ''
        problem = _cut(str(exc.problem or exc.context or 'not valid YAML'))
        raise ConfigError(f'{where}:{line} {problem}') from None
    except yaml.reader.ReaderError as exc:
        raise ConfigError(f'{where}: not YAML text (character {exc.position}: '
                          f'{exc.reason})') from None
    except RecursionError:
        raise ConfigError(f'{where}: nested too deeply') from None
    except Exception as exc:  # noqa: B902 - PyYAML's constructors raise ValueError, KeyError...
        reason = f'no such value {exc}' if isinstance(exc, KeyError) else str(exc)
        raise ConfigError(f'{where}: not valid YAML ({_cut(reason)})') from None


def load_yaml(path: str | Path) -> dict[str, dict[str, Any]]:
    """
    Read a parameter file into ``{section: {key: value}}``.

    Accepts the ROS 2 layout (``node: {ros__parameters: {...}}``, where the node key may carry a
    namespace such as ``/arm/chunk_executor`` or end in a wildcard, ``/**`` or ``/arm/*``, whose
    section is then ``**`` or ``*``) and the plain layout (``section: {key: value}``).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding='utf-8-sig')
    except FileNotFoundError:
        raise ConfigError(f'{path}: no such file') from None
    except UnicodeDecodeError:
        raise ConfigError(f'{path}: not UTF-8 text') from None
    except OSError as exc:
        raise ConfigError(f'{path}: cannot read ({exc.strerror})') from None
    data = _parse_yaml(text, str(path))
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f'{path}: top level must be a mapping of node names')
    sections: dict[str, dict[str, Any]] = {}
    for node, body in data.items():
        if not isinstance(node, str):
            raise ConfigError(f'{path}: {show(node, _SHOWN_CHARS)}: a node name must be a '
                              'string')
        name = node.rstrip('/').rsplit('/', 1)[-1]
        if isinstance(body, dict) and 'ros__parameters' in body:
            body = body['ros__parameters']
        if not isinstance(body, dict):
            raise ConfigError(f'{path}: {_cut(node)}: must be a mapping of parameters')
        for key in body:
            if not isinstance(key, str):
                raise ConfigError(f'{path}: {_cut(node)}: {show(key, _SHOWN_CHARS)}: a '
                                  'parameter name must be a string')
        sections.setdefault(name, {}).update(body)
    return sections


def parse_override(text: str) -> tuple[str, str, Any]:
    """Split ``section.key=value`` (value parsed as YAML) into its three parts."""
    target, sep, raw = text.partition('=')
    section, dot, key = target.strip().partition('.')
    where = f'--set {show(text, _SHOWN_CHARS)}'
    if not sep or not dot or not section or not key:
        raise ConfigError(f'{where}: expected section.key=value')
    return section, key, _parse_yaml(raw, where)


def _section_names(cls: type) -> set[str]:
    return {cls.SECTION, getattr(cls, 'ALIAS', cls.SECTION)}


def load_config(cls: type, files: Iterable[str | Path] = (),
                overrides: Iterable[str] = ()) -> Any:
    """
    Build `cls` from defaults, then each YAML file's section, then ``--set`` overrides.

    Sections for other components are ignored, so one file can configure several nodes; a
    section name is the node name (`cls.SECTION`), its short alias (`cls.ALIAS`) or a
    wildcard (``/**``, which applies to every section, as ROS applies it to every node).
    """
    names = _section_names(cls) | WILDCARD_SECTIONS
    values: dict[str, Any] = {}
    for path in files:
        for section, body in load_yaml(path).items():
            if section in names:
                values.update(body)
    for text in overrides:
        section, key, value = parse_override(text)
        if section in names:
            values[key] = value
    return from_mapping(cls, values)


def check_sections(classes: Sequence[type], files: Iterable[str | Path],
                   overrides: Iterable[str] = ()) -> list[Any]:
    """
    Validate every section of `files` and `overrides` against `classes`; return the built configs.

    An unknown section is an error with a did-you-mean, so a typo in a node name cannot silently
    leave a node on its defaults; so is a key of a wildcard section that no class has.
    """
    files = list(files)
    overrides = list(overrides)
    known = {name: cls for cls in classes for name in _section_names(cls)}
    fields = sorted({f.name for cls in classes for f in dataclasses.fields(cls)}
                    | ROS_STANDARD_PARAMETERS)
    seen = []
    for path in files:
        for section, body in load_yaml(path).items():
            seen.append((section, list(body), str(path)))
    for text in overrides:
        section, key, _ = parse_override(text)
        seen.append((section, [key], '--set'))
    built = {}
    for section, keys, where in seen:
        if section in WILDCARD_SECTIONS:
            for key in keys:
                if key not in fields and not is_ros_standard_parameter(key):
                    raise _unknown(f'{where}: {section}.', key, fields, 'parameter')
            continue
        if section not in known:
            raise _unknown(f'{where}: ', section, known, 'node or section')
        cls = known[section]
        if cls not in built:
            built[cls] = load_config(cls, files, overrides)
    return list(built.values())
