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
Per-episode results of a run driven through ROS, counted from what sim_node sees.

sim_node (``episodes:=N``) feeds an `EpisodeRecorder` and gets the `EpisodeResult` list that
``vla-ros eval`` builds in process, so both write the same summary.json and table:

* chunks (``action_chunk``): counted per episode by their observation stamp, and their delay
  (arrival - observation stamp: observation age + inference + transport) kept per chunk, exactly;
* the policy node's /diagnostics (`InferenceStats.values`): its rolling latency p50 / p95 and
  observation age as of the episode's end, and its refused observations (the counters' growth
  over the episode; they are published every ``diagnostics_period_s``, so up to one period
  late);
* the executor's /diagnostics: its counters as of the episode's end (accepted, clamped ticks,
  rejections by kind). sim_node re-syncs the executor at every episode start, which restarts
  them, so they are this episode's, up to one diagnostics period late.

The inference latency of each single chunk is not on the wire, so ``latencies_s`` and
``obs_ages_s`` stay empty here; the chunk delay is the exact number both paths share.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from vla_ros.evaluation.report import format_table, success_table, write_summary
from vla_ros.evaluation.rollout import EpisodeResult, executor_counts, runtime_numbers


class EpisodeRecorder:
    """Collect `EpisodeResult`s from episode starts and ends, chunks and diagnostics."""

    def __init__(self):
        self.results: list[EpisodeResult] = []
        self.current: EpisodeResult | None = None    # open: counting chunks
        self._start_s = 0.0
        self._policy: dict = {}        # latest policy-node diagnostics values
        self._executor: dict = {}      # latest executor diagnostics values
        self._dropped_at_start = 0

    def start(self, seed: int, task: str, instruction: str, now_s: float) -> None:
        """Open the episode that starts at `now_s`; an open one is closed as failed first."""
        if self.current is not None:
            self.finish(False, now_s - self._start_s)
        self.current = EpisodeResult(seed=seed, task=task, instruction=instruction,
                                     success=False, duration_s=0.0, inferences=0)
        self._start_s = now_s
        self._dropped_at_start = _dropped(self._policy)

    @property
    def policy_values(self) -> dict:
        """Return the policy node's latest diagnostics values (empty before the first)."""
        return dict(self._policy)

    def on_chunk(self, stamp_s: float, now_s: float) -> None:
        """Count a chunk observed at `stamp_s`, received at `now_s` (older worlds ignored)."""
        if self.current is not None and stamp_s >= self._start_s:
            self.current.inferences += 1
            self.current.chunk_delays_s.append(now_s - stamp_s)

    def on_diagnostics(self, values: Mapping[str, str]) -> None:
        """Keep a policy-node or executor diagnostics status (told apart by its keys)."""
        if 'latency_p50_ms' in values:
            self._policy = dict(values)
        elif 'clamped_ticks' in values:
            self._executor = dict(values)

    def finish(self, success: bool, duration_s: float) -> EpisodeResult | None:
        """Close the open episode with its outcome; return it (None if none was open)."""
        result, self.current = self.current, None
        if result is None:
            return None
        result.success, result.duration_s = success, duration_s
        result.runtime = runtime_numbers(self._policy)
        result.executor = executor_counts(self._executor)
        result.refused = max(0, _dropped(self._policy) - self._dropped_at_start)
        self.results.append(result)
        return result

    def write(self, out_dir: str | Path, extra: dict) -> str:
        """Write ``summary.json`` and ``table.md`` into `out_dir`; return the table."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        write_summary(out_dir / 'summary.json', self.results, extra)
        table = format_table(success_table(self.results))
        (out_dir / 'table.md').write_text(table + '\n')
        return table


def _dropped(values: Mapping[str, str]) -> int:
    return sum(int(float(v)) for k, v in values.items() if k.startswith('dropped_'))
