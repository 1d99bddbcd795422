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

"""Hyper-parameters of a training run (``--set train.<field>=...`` on ``vla-ros train``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from vla_ros.config.schema import param, require, require_choice, require_finite


@dataclass(frozen=True)
class TrainConfig:
    """One training run: data, optimisation, checkpointing."""

    SECTION: ClassVar[str] = 'train'
    ALIAS: ClassVar[str] = 'training'

    model_preset: str = param(
        'demo', 'SmolVLAConfig preset: demo (the CPU-sized one shipped in models/), tiny '
        '(tests) or smolvla_base (the real size).')
    image_size: int = param(64, 'Side of the square model input image [px] (demo preset).')
    chunk_size: int = param(20, 'Action steps predicted per chunk (demo preset).')
    steps: int = param(6000, 'Optimizer steps in total (a resumed run continues to this).')
    batch_size: int = param(32, 'Samples per optimizer step.')
    learning_rate: float = param(1e-3, 'Peak AdamW learning rate.')
    min_learning_rate: float = param(5e-5, 'Learning rate at the end of the cosine decay.')
    warmup_steps: int = param(200, 'Linear learning-rate warm-up [steps].')
    weight_decay: float = param(1e-4, 'AdamW weight decay.')
    grad_clip_norm: float = param(1.0, 'Clip the global gradient norm to this; 0: no clip.')
    log_every_steps: int = param(50, 'Steps between loss log lines and CSV rows.')
    save_every_steps: int = param(500, 'Steps between checkpoints (also saved at the end).')
    keep_checkpoints: int = param(2, 'Newest step checkpoints kept on disk.')
    augment_shift_px: int = param(
        4, 'Random image translation for augmentation, at model resolution [px]; 0: off.')
    state_noise_std: float = param(
        0.0, 'Gaussian noise added to the normalized joint state of each sample (in state '
        'standard deviations): the expert never leaves its path, so without it a policy can '
        'learn to extrapolate the state and ignore the images; 0: off.')
    record_perturb_rad: float = param(
        0.0, 'DART-style expert demonstrations (recorded by vla-ros train without --dataset): '
        'smooth noise of up to this standard deviation is added to the commanded arm joints '
        "while the expert's plan stays the action label, so the demonstrations show the way "
        'back from states beside the plan [rad]; 0: clean demonstrations.')
    record_workers: int = param(
        1, 'Processes recording the expert demonstrations in parallel (rendering is '
        'single-threaded; one per core is about linear).')
    seed: int = param(0, 'Seed of initialisation, sampling and augmentation.')
    num_threads: int = param(0, "torch CPU threads; 0: torch's default.")
    max_time_s: float = param(
        0.0, 'Stop (and checkpoint) after this much wall time; 0: no limit [s].')
    action_mode: str = param('absolute', 'absolute joint targets (the only mode trained).')
    action_head: str = param(
        'flow', 'How the model outputs a chunk: flow (the flow-matching action expert of '
        'SmolVLA), fast (pi0-FAST style: the language model decodes FAST tokens, DCT + BPE '
        'fitted on the training chunks) or bins (OpenVLA style: one of action_bins tokens per '
        'joint and step); see docs/action_heads.md.')
    fast_scale: float = param(
        10.0, 'FAST quantization scale (action_head=fast): DCT coefficients of the normalized '
        'chunk are multiplied by this and rounded; higher is finer and longer.')
    fast_vocab_size: int = param(
        1024, 'FAST BPE vocabulary size (action_head=fast): action tokens the language model '
        'gets.')
    action_bins: int = param(
        256, 'Uniform bins per value between the 1st and 99th percentile of the normalized '
        'training actions (action_head=bins; OpenVLA uses 256).')
    rtc_max_delay_steps: int = param(
        0, 'Training-time real-time chunking (Black et al. 2025, arXiv 2512.05964): each '
        'sample gets an inference delay d drawn uniformly from 0..this; its first d actions '
        'are given clean (flow time 0) and left out of the loss, so the policy can continue a '
        "chunk with RTCConfig(guidance='trained'); 0: off [action steps].")

    def __post_init__(self):
        require_finite(self, 'learning_rate', 'min_learning_rate', 'weight_decay',
                       'grad_clip_norm', 'max_time_s', 'state_noise_std',
                       'record_perturb_rad', 'fast_scale')
        require_choice(self, 'model_preset', ('demo', 'tiny', 'smolvla_base'))
        require_choice(self, 'action_mode', ('absolute',))
        require_choice(self, 'action_head', ('flow', 'fast', 'bins'))
        require(self, 'fast_scale', self.fast_scale > 0, 'must be > 0')
        require(self, 'fast_vocab_size', 2 <= self.fast_vocab_size <= 1 << 16,
                'must be in [2, 65536]')
        require(self, 'action_bins', 2 <= self.action_bins <= 1 << 16, 'must be in [2, 65536]')
        require(self, 'image_size', 16 <= self.image_size <= 1024, 'must be in [16, 1024]')
        require(self, 'image_size', self.image_size % 16 == 0, 'must be a multiple of 16')
        require(self, 'chunk_size', self.chunk_size >= 1, 'must be >= 1')
        for name in ('steps', 'batch_size', 'log_every_steps', 'save_every_steps',
                     'keep_checkpoints'):
            require(self, name, getattr(self, name) >= 1, 'must be >= 1')
        require(self, 'learning_rate', self.learning_rate > 0, 'must be > 0')
        require(self, 'min_learning_rate', 0 <= self.min_learning_rate <= self.learning_rate,
                'must be in [0, learning_rate]')
        require(self, 'warmup_steps', 0 <= self.warmup_steps < self.steps,
                'must be in [0, steps)')
        require(self, 'weight_decay', self.weight_decay >= 0, 'must be >= 0')
        require(self, 'grad_clip_norm', self.grad_clip_norm >= 0, 'must be >= 0')
        require(self, 'augment_shift_px', self.augment_shift_px >= 0, 'must be >= 0')
        require(self, 'state_noise_std', self.state_noise_std >= 0, 'must be >= 0')
        require(self, 'num_threads', self.num_threads >= 0, 'must be >= 0')
        require(self, 'record_perturb_rad', 0 <= self.record_perturb_rad <= 0.5,
                'must be in [0, 0.5]')
        require(self, 'record_workers', self.record_workers >= 1, 'must be >= 1')
        require(self, 'max_time_s', self.max_time_s >= 0, 'must be >= 0')
        require(self, 'rtc_max_delay_steps', 0 <= self.rtc_max_delay_steps < self.chunk_size,
                'must be in [0, chunk_size)')
        require(self, 'rtc_max_delay_steps', not self.rtc_max_delay_steps
                or self.action_head == 'flow', 'must be 0 unless action_head is flow (token '
                'heads have no real-time chunking)')
