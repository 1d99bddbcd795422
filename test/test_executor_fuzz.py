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
Fuzzing the chunk executor: the generator and checker of benchmarks/executor_fuzz.py.

Hypothesis draws the scenario (arm, rates, modes, how wild the stream is) and the stream's seed;
every command must be finite, inside the bounds, within v_max T and a_max T of the one before,
slowing down while stopping, exactly still while holding; nothing may raise.
"""

import importlib.util
from pathlib import Path
import sys

from hypothesis import given, HealthCheck, settings, strategies as st

from vla_ros.control.executor import STATES


def _load_fuzz():
    # One generator for the test and the script; benchmarks/ is not a package.
    path = Path(__file__).resolve().parents[1] / 'benchmarks' / 'executor_fuzz.py'
    spec = importlib.util.spec_from_file_location('executor_fuzz', path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module     # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


fuzz = _load_fuzz()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False), st.integers(0, 2**63 - 1), st.integers(200, 1500))
def test_every_command_obeys_the_limits(rnd, seed, ticks):
    tally = fuzz.Tally()
    fuzz.run_scenario(fuzz.draw_scenario(rnd), seed, ticks, tally)
    assert not tally.violations, '\n'.join(f'{k}: {v}' for k, v in tally.examples.items())


def test_the_generator_covers_what_it_claims():
    tally, _ = fuzz.fuzz(20000, seed=1)
    assert not tally.violations, '\n'.join(f'{k}: {v}' for k, v in tally.examples.items())
    assert set(tally.states) == set(STATES) - {'waiting'}    # waiting commands nothing
    assert set(tally.bad_offered) == {'good', *fuzz.BAD_KINDS}
    assert {'out of range', 'before pause', 'paused', 'late', 'too old', 'future stamp',
            'out of order', 'joint names'} <= set(tally.rejected)
    assert tally.clock_jumps > 0 and tally.resumes > 0 and tally.accepted > 0
