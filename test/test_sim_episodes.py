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

"""The episode schedule and recorder sim_node shares with ``vla-ros eval`` (no ROS needed)."""

import json
from types import SimpleNamespace

import pytest

from vla_ros.evaluation.recorder import EpisodeRecorder
from vla_ros.evaluation.report import format_table, read_summary, success_table, write_summary
from vla_ros.evaluation.rollout import EpisodeResult, executor_counts
from vla_ros.evaluation.schedule import episode_plan, episode_task, task_cycle
from vla_ros.sim.tasks import TASKS


def test_schedule_cycles_every_task_in_order_or_the_named_ones():
    assert task_cycle() == tuple(TASKS) == ('touch', 'push_left', 'pick')
    assert episode_plan(100, 4) == [(100, 'touch'), (101, 'push_left'), (102, 'pick'),
                                    (103, 'touch')]
    assert episode_plan(7, 3, ['pick', 'touch']) == [(7, 'pick'), (8, 'touch'), (9, 'pick')]
    assert episode_task(5, ('pick up the green cube',)) == 'pick up the green cube'


def test_eval_uses_the_shared_schedule(monkeypatch, tmp_path):
    pytest.importorskip('mujoco')
    pytest.importorskip('tqdm')
    from vla_ros.evaluation import evaluate as evaluate_module

    played = []

    class Loop:

        def __init__(self, env, runner, executor, rate):
            self.runner = SimpleNamespace(stats=SimpleNamespace(values=lambda now: {}))
            self.clock_s = 0.0

        def run_episode(self, seed, task, settings):
            played.append((seed, task))
            return EpisodeResult(seed, task, task, False, 1.0, 0)

    monkeypatch.setattr(evaluate_module, 'ClosedLoop', Loop)
    monkeypatch.setattr(evaluate_module, 'in_process_runner', lambda policy, cfg: None)
    monkeypatch.setattr(evaluate_module, 'plot_joints', lambda *args: None)
    from vla_ros.config import ExecutorConfig, PolicyNodeConfig, SimConfig
    from vla_ros.evaluation.rollout import RolloutSettings
    policy = SimpleNamespace(camera_names=('scene', 'wrist'))
    evaluate_module.evaluate(policy, SimConfig(), ExecutorConfig(), PolicyNodeConfig(),
                             [100, 101, 102, 103], task_cycle(), RolloutSettings(), tmp_path,
                             None, progress=False)
    assert played == episode_plan(100, 4)


def policy_diag(chunks, dropped, p50='20.0'):
    return {'latency_p50_ms': p50, 'latency_p95_ms': '40.0', 'observation_age_ms': '5.0',
            'chunks_total': str(chunks), 'dropped_stale': str(dropped), 'dropped_missing': '0',
            'last_error': ''}


def test_recorder_counts_chunks_by_stamp_and_diagnostics_per_episode(tmp_path):
    rec = EpisodeRecorder()
    rec.on_diagnostics(policy_diag(3, 1))
    rec.start(100, 'touch', 'touch the red cube', now_s=10.0)
    rec.on_chunk(stamp_s=9.5, now_s=10.1)         # planned in the last world: not counted
    rec.on_chunk(stamp_s=10.2, now_s=10.5)
    rec.on_chunk(stamp_s=10.6, now_s=10.8)
    rec.on_diagnostics(policy_diag(5, 3))
    rec.on_diagnostics({'state': 'tracking', 'accepted': '2', 'clamped_ticks': '4',
                        'holds': '0', 'clamps_velocity': '4', 'rejected_before_pause': '1',
                        'resyncs': '1', 'last_latency_s': '0.2'})
    first = rec.finish(True, 3.25)
    assert (first.inferences, first.success, first.duration_s, first.refused) == (2, True, 3.25, 2)
    assert first.chunk_delays_s == pytest.approx([0.3, 0.2])
    assert first.runtime == {'latency_p50_ms': 20.0, 'latency_p95_ms': 40.0,
                             'observation_age_ms': 5.0, 'chunks_total': 5.0}
    assert first.executor == {'accepted': 2, 'clamped_ticks': 4, 'holds': 0,
                              'rejected_before_pause': 1}
    rec.on_chunk(stamp_s=11.0, now_s=11.2)         # after success: the episode is closed
    rec.start(101, 'push_left', 'push the blue cube to the left', now_s=12.0)
    rec.start(102, 'pick', 'pick up the green cube', now_s=13.5)   # cut short: a failure
    rec.finish(False, 20.0)
    assert [(r.seed, r.success, r.inferences) for r in rec.results] == [
        (100, True, 2), (101, False, 0), (102, False, 0)]
    table = rec.write(tmp_path, {'seeds': [100, 101, 102]})
    assert table == (tmp_path / 'table.md').read_text().strip()
    extra, results = read_summary(tmp_path / 'summary.json')
    assert format_table(success_table(results)) == table
    assert extra['latency']['chunk_delay_p50_s'] == pytest.approx(0.25)
    assert extra['latency']['latency_p50_s'] is None     # not on the wire through ROS


def test_eval_and_ros_summaries_have_the_same_keys(tmp_path):
    in_process = EpisodeResult(1, 'touch', 'touch the red cube', True, 2.0, 3,
                               latencies_s=[0.1, 0.2, 0.1], obs_ages_s=[0.0, 0.05, 0.01],
                               chunk_delays_s=[0.1, 0.2, 0.1],
                               runtime={'latency_p50_ms': 100.0},
                               executor=executor_counts({'accepted': 3, 'clamped_ticks': 0,
                                                         'holds': 0, 'state': 'tracking'}))
    write_summary(tmp_path / 'eval.json', [in_process], {'seeds': [1]})
    rec = EpisodeRecorder()
    rec.start(1, 'touch', 'touch the red cube', 0.0)
    rec.finish(False, 20.0)
    rec.write(tmp_path / 'ros', {'seeds': [1]})
    eval_data = json.loads((tmp_path / 'eval.json').read_text())
    ros_data = json.loads((tmp_path / 'ros' / 'summary.json').read_text())
    assert set(eval_data) == set(ros_data)
    assert set(eval_data['latency']) == set(ros_data['latency'])
    assert set(eval_data['episodes'][0]) == set(ros_data['episodes'][0])
    assert eval_data['latency']['latency_p95_s'] == pytest.approx(0.19)
