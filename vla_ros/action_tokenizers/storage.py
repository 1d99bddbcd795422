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

"""The JSON config file each tokenizer saves, with a format tag checked on load."""

import json


def write_config(path, fmt, version, fields):
    """Write `fields` to `path` as JSON under the ``format`` tag `fmt` at `version`."""
    config = {'format': fmt, 'format_version': version, **fields}
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(config, f, indent=2)


def read_config(path, fmt, version):
    """
    Return the JSON object at `path`, checked to carry ``format`` `fmt` at `version`.

    A missing, corrupt or foreign file raises ValueError naming the file and the problem.
    """
    try:
        with open(path, encoding='utf-8') as f:
            config = json.load(f)
    except FileNotFoundError:
        raise ValueError(f'{path}: no such file') from None
    except OSError as err:     # a directory, no permission, ...
        raise ValueError(f'{path}: unreadable ({err})') from None
    except (ValueError, RecursionError) as err:    # not JSON, not UTF-8, absurdly deep
        raise ValueError(f'{path}: not valid JSON ({err})') from None
    if not isinstance(config, dict) or config.get('format') != fmt \
            or config.get('format_version') != version:
        found = config if not isinstance(config, dict) else config.get('format')
        got_version = config.get('format_version') if isinstance(config, dict) else None
        raise ValueError(f'{path}: format={found!r} format_version={got_version!r}: '
                         f'expected {fmt!r} version {version}')
    return config
