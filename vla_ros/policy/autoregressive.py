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
An autoregressive-token policy (pi0-FAST or OpenVLA style) behind the same `VLAPolicy` interface.

`AutoregressivePolicy` shares `SmolVLAPolicy`'s preprocessing (images, instruction, state and
action normalization), so both heads see identical inputs; it decodes action tokens greedily
with `AutoregressiveVLA` and turns them into a chunk with its `ActionVocabulary`. A stream
that is not one whole chunk raises `InvalidDecode`: the runtime counts it and publishes
nothing.

Checkpoint directory: ``config.json`` (format ``vla_ros.autoregressive``) and
``model.safetensors``; ``policy.json`` (spec, statistics and the ``action_head`` fields);
the instruction tokenizer (``tokenizer.json``, ``tokenizer_config.json``); the action
tokenizer's files in ``action_tokenizer/``. No pickle anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
import json
from pathlib import Path
import time
from typing import Any

import numpy as np
import torch

from vla_ros.control.action_chunk import ActionChunk
from vla_ros.model.autoregressive import AutoregressiveVLA
from vla_ros.model.checkpoint import CheckpointError, json_object, read_json, refuse_pickle
from vla_ros.policy.action_vocabulary import ActionVocabulary
from vla_ros.policy.interface import Observation, PolicyError, PolicySpec
from vla_ros.policy.normalization import NormalizationStats
from vla_ros.policy.smolvla import load_tokenizer, SmolVLAPolicy, spec_from_json


@dataclass
class AutoregressivePolicy(SmolVLAPolicy):
    """
    SmolVLA's backbone with an autoregressive action head (``head.kind``: fast or bins).

    Greedy decoding is deterministic: `predict_chunk` ignores ``noise``. There is no
    real-time chunking (a token stream cannot be guided towards the previous chunk the way a
    flow is): ``prev_chunk`` and ``inference_delay_s`` are ignored, `set_rtc` with a
    guidance refuses with `PolicyError`, and `set_num_steps` does nothing.
    """

    head: ActionVocabulary | None = None

    def __post_init__(self):
        super().__post_init__()
        c, head = self.model.config, self.head
        if not isinstance(head, ActionVocabulary):
            raise PolicyError('action_head: an AutoregressivePolicy needs an ActionVocabulary')
        checks = (
            ('horizon', head.horizon == c.chunk_size, f'the model has chunk_size={c.chunk_size}'),
            ('action_dim', head.action_dim == len(self.spec.joint_names),
             f'the policy has {len(self.spec.joint_names)} joint_names'),
            ('vocab_size', head.vocab_size == c.vocab_size,
             f'the model has vocab_size={c.vocab_size}'),
        )
        for name, ok, rule in checks:
            if not ok:
                raise PolicyError(f'action_head.{name}={getattr(head, name)}: must match: '
                                  f'{rule}')

    def set_num_steps(self, num_steps: int) -> None:
        """Do nothing: greedy decoding has no sampling steps."""

    def set_rtc(self, guidance: str, schedule: str = 'linear', max_guidance_weight: float = 10.0,
                execution_horizon: int = 0) -> None:
        """Accept only `guidance` '' (off): an autoregressive head has no real-time chunking."""
        if guidance:
            raise PolicyError(f'rtc_guidance={guidance!r}: the {self.head.kind} head decodes '
                              "tokens and has no real-time chunking; use rtc_guidance=''")
        self.rtc = None

    def _allowed_ids(self) -> torch.Tensor:
        allowed = self._buffers.get('allowed_ids')
        if allowed is None or allowed.device != self.device:
            allowed = torch.from_numpy(self.head.allowed_ids()).to(self.device)
            self._buffers['allowed_ids'] = allowed
        return allowed

    def action_token_batch(self, actions: torch.Tensor) -> dict[str, torch.Tensor]:
        """
        Token inputs, targets and loss mask for normalized, padded actions (B, H, A_max).

        What `AutoregressiveVLA.compute_loss` needs beside the prefix; a training batch from
        `prepare_batch` + `normalize_actions` gets these keys added.
        """
        real = actions[..., :len(self.spec.joint_names)].detach().double().cpu().numpy()
        inputs, targets, mask = self.head.training_arrays(real)
        return {'action_input_ids': torch.from_numpy(inputs).to(self.device),
                'action_target_ids': torch.from_numpy(targets).to(self.device),
                'action_loss_mask': torch.from_numpy(mask).to(self.device)}

    @torch.no_grad()
    def decode_tokens(self, obs: Observation) -> np.ndarray:
        """Return the greedy token stream (max_decode_tokens,) for `obs`, end-padded."""
        self.model.eval()
        state = np.asarray(obs.state, dtype=np.float64).reshape(1, -1)
        batch = self.prepare_batch({n: np.asarray(img)[None] for n, img in obs.images.items()},
                                   state, [obs.instruction])
        ids = self.model.generate(**batch, begin_id=self.head.begin_id,
                                  end_id=self.head.end_id,
                                  max_new_tokens=self.head.max_decode_tokens,
                                  allowed_ids=self._allowed_ids())
        return ids[0].cpu().numpy()

    def warm_up(self, instruction: str = '') -> float:
        """
        Decode once on blank inputs and return seconds; the stream is not parsed.

        Blank images are no scene a trained model knows, so its stream need not be a chunk:
        a warm-up must not fail a node's start on an `InvalidDecode`.
        """
        obs = self.blank_observation(instruction)
        start = time.perf_counter()
        self.decode_tokens(obs)
        return time.perf_counter() - start

    def predict_chunk(self, obs: Observation, *, noise: Any = None,
                      prev_chunk: ActionChunk | None = None,
                      inference_delay_s: float = 0.0) -> ActionChunk:
        """
        Decode the action chunk for one observation (unnormalized, policy joint order).

        Raises `InvalidDecode` when the tokens are not one whole chunk (no chunk, never a
        padded or zero one). `noise`, `prev_chunk` and `inference_delay_s` are ignored.
        """
        normalized = self.head.parse(self.decode_tokens(obs))          # (H, A)
        positions = self.unnormalize_actions(torch.from_numpy(normalized)[None])[0]
        if self.spec.action_mode == 'delta':
            state = np.asarray(obs.state, dtype=np.float64).reshape(1, -1)
            positions = positions + self._joint_state(state)[0]
        return ActionChunk(self.spec.joint_names, float(obs.stamp), self.spec.action_dt_s,
                           positions)

    # ----------------------------------------------------------------------------------------
    # Checkpoints.

    def save_pretrained(self, path: str | Path) -> None:
        """Write model, policy.json (spec, stats, action_head), both tokenizers into `path`."""
        directory = Path(path)
        super().save_pretrained(directory)     # the model saves itself in its own format
        policy_json = directory / 'policy.json'
        data = json.loads(policy_json.read_text())
        data['action_head'] = self.head.to_dict()
        policy_json.write_text(json.dumps(data, indent=2) + '\n')
        self.head.save_tokenizer(directory / data['action_head']['tokenizer_dir'])

    @classmethod
    def from_pretrained(cls, path: str | Path, device: str = 'cpu', dtype: str = 'float32',
                        **spec_overrides: Any) -> 'AutoregressivePolicy':
        """Load a directory written by `save_pretrained`; `spec_overrides` as SmolVLAPolicy."""
        directory = Path(path)
        refuse_pickle(directory)
        policy_json = directory / 'policy.json'
        data = read_json(policy_json)
        spec_data = spec_from_json(json_object(data, 'spec', policy_json), policy_json)
        training = data.get('training', {})
        if not isinstance(training, dict):
            raise CheckpointError(f'{policy_json}: training={training!r}: must be an object')
        try:
            spec = PolicySpec(**{**spec_data, **spec_overrides})
            stats = NormalizationStats.from_dict(json_object(data, 'stats', policy_json))
            head = ActionVocabulary.from_dict(json_object(data, 'action_head', policy_json),
                                              directory)
        except PolicyError as exc:
            raise CheckpointError(f'{policy_json}: {exc}') from None
        model = AutoregressiveVLA.from_pretrained(directory)
        try:
            policy = cls(model, load_tokenizer(directory), stats, spec, training=training,
                         head=head)
        except PolicyError as exc:
            raise CheckpointError(f'{policy_json}: does not fit the model in '
                                  f"{directory / 'config.json'}: {exc}") from None
        return policy.to(device, dtype)
