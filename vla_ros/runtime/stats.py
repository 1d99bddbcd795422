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
Running numbers about the policy node: latency, observation age, chunk rate, drops, errors.

Plain Python so that the node only has to copy `InferenceStats.values` into a
``diagnostic_msgs/DiagnosticStatus`` and log `InferenceStats.summary`.
"""

from __future__ import annotations

import collections
import threading

import numpy as np

from vla_ros.runtime.observation import CAUSES


class InferenceStats:
    """Latency percentiles over the last `window` chunks; rates over `rate_window_s`."""

    def __init__(self, window: int = 100, rate_window_s: float = 10.0):
        self.rate_window_s = rate_window_s
        self._latency_s = collections.deque(maxlen=window)
        self._chunk_times = collections.deque()
        self.obs_age_s = float('nan')
        self.dropped = dict.fromkeys(CAUSES, 0)
        self.errors = 0
        self.invalid_decodes = 0        # autoregressive streams that were no chunk (in errors)
        self.last_error = ''
        self.chunks = 0
        self.rtc = {'applied': 0, 'no plan': 0, 'fallback': 0}
        self.rtc_delay_s = float('nan')
        self._lock = threading.Lock()

    def record_chunk(self, latency_s: float, obs_age_s: float, now_s: float) -> None:
        """Count a published chunk that took `latency_s` from an `obs_age_s`-old observation."""
        with self._lock:
            self._latency_s.append(latency_s)
            self._chunk_times.append(now_s)
            self.obs_age_s = obs_age_s
            self.chunks += 1

    def record_drop(self, cause: str) -> None:
        """Count an observation refused for `cause`."""
        with self._lock:
            self.dropped[cause] = self.dropped.get(cause, 0) + 1

    def record_error(self, message: str) -> None:
        """Count a failed inference (exception, NaN, wrong shape) and keep its message."""
        with self._lock:
            self.errors += 1
            self.last_error = message

    def record_invalid_decode(self, message: str) -> None:
        """Count a decode that gave no chunk (an error too) and keep its message."""
        with self._lock:
            self.errors += 1
            self.invalid_decodes += 1
            self.last_error = message

    def record_rtc(self, outcome: str, delay_s: float = float('nan')) -> None:
        """Count a real-time-chunking outcome (applied, no plan, fallback) and its delay."""
        with self._lock:
            self.rtc[outcome] = self.rtc.get(outcome, 0) + 1
            if outcome == 'applied':
                self.rtc_delay_s = delay_s

    def latency_percentile_s(self, percent: float) -> float:
        """Return the `percent` percentile of the recent latencies [s]; NaN before any."""
        with self._lock:
            values = list(self._latency_s)
        return float(np.percentile(values, percent)) if values else float('nan')

    def latency_percentiles_s(self) -> tuple[float, float]:
        """Return (p50, p95) inference latency [s]; NaN before the first chunk."""
        with self._lock:
            values = list(self._latency_s)
        if not values:
            return float('nan'), float('nan')
        p50, p95 = np.percentile(values, [50, 95])
        return float(p50), float(p95)

    def chunks_per_s(self, now_s: float) -> float:
        """Return the chunk rate over the last `rate_window_s` [1/s]."""
        with self._lock:
            while self._chunk_times and now_s - self._chunk_times[0] > self.rate_window_s:
                self._chunk_times.popleft()
            return len(self._chunk_times) / self.rate_window_s

    def values(self, now_s: float) -> dict[str, str]:
        """Return every number as ``{key: text}``, the diagnostics key-value layout."""
        p50, p95 = self.latency_percentiles_s()
        out = {
            'latency_p50_ms': f'{1e3 * p50:.1f}',
            'latency_p95_ms': f'{1e3 * p95:.1f}',
            'observation_age_ms': f'{1e3 * self.obs_age_s:.1f}',
            'chunks_per_s': f'{self.chunks_per_s(now_s):.2f}',
            'chunks_total': str(self.chunks),
            'model_errors': str(self.errors),
            'invalid_decodes': str(self.invalid_decodes),
        }
        for cause, count in self.dropped.items():
            out[f'dropped_{cause}'] = str(count)
        for outcome, count in self.rtc.items():
            out[f'rtc_{outcome.replace(" ", "_")}'] = str(count)
        out['rtc_delay_estimate_ms'] = f'{1e3 * self.rtc_delay_s:.1f}'
        out['last_error'] = self.last_error
        return out

    def summary(self, now_s: float) -> str:
        """Return one log line: rate, latency, age, drops and errors."""
        v = self.values(now_s)
        drops = ' '.join(f'{c}={n}' for c, n in self.dropped.items() if n)
        return (f"{v['chunks_per_s']} chunks/s, latency p50 {v['latency_p50_ms']} ms "
                f"p95 {v['latency_p95_ms']} ms, obs age {v['observation_age_ms']} ms, "
                f"dropped [{drops or 'none'}], errors {self.errors}"
                + (f' (invalid decodes {self.invalid_decodes})' if self.invalid_decodes else ''))
