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
Bridge between ROS parameters and the typed config dataclasses of `vla_ros.config`.

Every field is declared with its help string as the description, so ``ros2 param describe``
documents it. Values go through `vla_ros.config.from_mapping`, the same path YAML files and CLI
overrides take, so the rules and the one-line errors are identical everywhere.
"""

from __future__ import annotations

import array
import dataclasses
import difflib
from typing import Any, Callable

from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node

from vla_ros.config import (apply_change, ConfigError, field_help, from_mapping,
                            is_ros_standard_parameter)


def declare_config(node: Node, cls: type) -> Any:
    """
    Declare every field of `cls` on `node`, read the values back and build the config.

    Raises `ConfigError` for a bad value, and for a parameter given to the node (in its
    parameter file or on the command line) that `cls` does not have.
    """
    helps = field_help(cls)
    declared = []
    for f in dataclasses.fields(cls):
        default = f.default
        value = list(default) if isinstance(default, tuple) else default
        # An empty list has no ROS type; leave it unset and let the dataclass default apply.
        descriptor = ParameterDescriptor(description=helps[f.name], dynamic_typing=True)
        node.declare_parameter(f.name, None if value == [] else value, descriptor)
        declared.append(f.name)
    _reject_unknown(node, cls, declared)
    return read_config(node, cls)


def read_config(node: Node, cls: type) -> Any:
    """
    Build `cls` from the node's current values of its (already declared) parameters.

    A lifecycle node calls this again in ``on_configure`` so that ``ros2 param set`` between a
    cleanup and the next configure takes effect; a bad value raises `ConfigError`.
    """
    values = {}
    for f in dataclasses.fields(cls):
        value = node.get_parameter(f.name).value
        if value is None:
            continue
        values[f.name] = _plain(value)
    return from_mapping(cls, values)


def watch_config(node: Node, cls: type, current: Callable[[], Any],
                 apply: Callable[[Any], None], read_only_active: Callable[[], bool] = lambda: True
                 ) -> None:
    """
    Apply ``ros2 param set`` on `node` at run time, or refuse it with the rule that failed.

    The changed values are validated on top of ``current()`` by the same code as files and
    CLI overrides; a valid change is handed to `apply` (the new config) before the parameter
    is stored, so the node never holds a value it does not use. A read-only field (``param(...,
    read_only=True)``) is refused while ``read_only_active()`` (a lifecycle node allows it
    while unconfigured, since the next configure reads it). Parameters that are not fields of
    `cls` (use_sim_time, ...) pass through to rclpy.
    """
    from rcl_interfaces.msg import SetParametersResult

    names = {f.name for f in dataclasses.fields(cls)}

    def on_set(params) -> SetParametersResult:
        changes = {p.name: _plain(p.value) for p in params if p.name in names}
        if not changes:
            return SetParametersResult(successful=True)
        try:
            base = current()
            cfg = (apply_change(base, changes) if read_only_active()
                   else from_mapping(type(base), changes, base=base))
            apply(cfg)
        except ConfigError as exc:
            node.get_logger().warning(f'parameter change refused: {exc}')
            return SetParametersResult(successful=False, reason=str(exc))
        except Exception as exc:  # noqa: BLE001 - a failed apply must not take the node down
            node.get_logger().error(f'parameter change failed: {type(exc).__name__}: {exc}')
            return SetParametersResult(successful=False, reason=f'{type(exc).__name__}: {exc}')
        return SetParametersResult(successful=True)

    node.add_on_set_parameters_callback(on_set)


def _plain(value: Any) -> Any:
    # rclpy gives array parameters as lists or array.array, depending on where they came from.
    return list(value) if isinstance(value, (list, tuple, array.array)) else value


def _reject_unknown(node: Node, cls: type, declared: list[str]) -> None:
    # rclpy keeps the overrides it was given but exposes them only privately.
    overrides = getattr(node, '_parameter_overrides', {}) or {}
    for name in overrides:
        root = name.split('.', 1)[0]
        if name in declared or is_ros_standard_parameter(root):
            continue
        close = difflib.get_close_matches(name, declared, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ''
        raise ConfigError(f'{cls.SECTION}.{name}: unknown parameter{hint}')


def run_node(make_node: Callable[[], Node], spin: Callable[[Node], None] | None = None,
             args: list[str] | None = None) -> int:
    """Init rclpy, build the node, spin it; a config error logs one line and exits 1."""
    import rclpy
    from rclpy.executors import ExternalShutdownException

    rclpy.init(args=args)
    node = None
    code = 0
    try:
        node = make_node()
        if spin is None:
            rclpy.spin(node)
        else:
            spin(node)
    except ConfigError as exc:
        name = node.get_name() if node is not None else 'vla_ros'
        rclpy.logging.get_logger(name).fatal(str(exc))
        code = 1
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except Exception:  # noqa: B902 - rclpy raises its own errors once a signal shut it down
        if rclpy.ok():
            raise
    finally:
        if node is not None:
            node.destroy_node()
        if rclpy.ok():
            rclpy.try_shutdown()
    return code
