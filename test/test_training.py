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
Training machinery: instruction tokenizer, schedule, checkpoints, resume, loss log.

These use a two-parameter stand-in for the model so they run in a second; the real SmolVLA
is trained in test_training_smoke.py.
"""

import numpy as np
import pytest

torch = pytest.importorskip('torch')
pytest.importorskip('safetensors')
pytest.importorskip('tokenizers')
pytest.importorskip('transformers')

from vla_ros.config import ConfigError, load_config  # noqa: E402
from vla_ros.training.checkpoint import checkpoint_dirs, latest_checkpoint  # noqa: E402
from vla_ros.training.instruction_tokenizer import (  # noqa: E402
    load_instruction_tokenizer, save_instruction_tokenizer, train_instruction_tokenizer)
from vla_ros.training.loss_log import LossLog  # noqa: E402
from vla_ros.training.train_config import TrainConfig  # noqa: E402
from vla_ros.training.trainer import learning_rate, train  # noqa: E402


class LineFit(torch.nn.Module):
    """Fits y = 3x - 1 from noisy samples; the loss falls fast and deterministically."""

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1, 1))
        self.bias = torch.nn.Parameter(torch.zeros(1))

    def compute_loss(self, batch):
        pred = batch['x'] @ self.weight.T + self.bias
        return torch.nn.functional.mse_loss(pred, batch['y'])


class LineBatches:

    def sample(self, rng, batch_size):
        x = rng.uniform(-1, 1, size=(batch_size, 1)).astype(np.float32)
        y = 3 * x - 1 + rng.normal(0, 0.01, size=x.shape).astype(np.float32)
        return {'x': torch.from_numpy(x), 'y': torch.from_numpy(y)}


class InterruptedBatches(LineBatches):

    def __init__(self, after):
        self.left = after

    def sample(self, rng, batch_size):
        if self.left == 0:
            raise KeyboardInterrupt
        self.left -= 1
        return super().sample(rng, batch_size)


def _hooks(model):
    from safetensors.torch import load_file, save_file

    def save(path):
        path.mkdir(parents=True, exist_ok=True)
        save_file(model.state_dict(), str(path / 'model.safetensors'))

    def load(path):
        model.load_state_dict(load_file(str(path / 'model.safetensors')))

    return save, load


def _cfg(**kw):
    base = {'steps': 60, 'batch_size': 16, 'learning_rate': 0.1, 'min_learning_rate': 0.01,
            'warmup_steps': 5, 'log_every_steps': 10, 'save_every_steps': 20,
            'keep_checkpoints': 2}
    base.update(kw)
    return TrainConfig(**base)


def test_instruction_tokenizer_round_trips(tmp_path):
    texts = ['Pick up the red cube.', 'put the blue cube on the green cube']
    tok = train_instruction_tokenizer(texts)
    save_instruction_tokenizer(tok, tmp_path)
    loaded = load_instruction_tokenizer(tmp_path)
    for text in texts:
        ids = loaded(text)['input_ids']
        assert ids == tok(text)['input_ids']
        assert loaded.unk_token_id not in ids
        assert loaded.decode(ids) == text.lower().replace('.', ' .')
    assert loaded('pick up the purple cube')['input_ids'][3] == loaded.unk_token_id
    padded = loaded(['red cube'], padding='max_length', max_length=6)
    assert padded['attention_mask'][0] == [1, 1, 0, 0, 0, 0]
    assert padded['input_ids'][0][2:] == [loaded.pad_token_id] * 4


def test_learning_rate_warms_up_then_decays_to_the_floor():
    cfg = _cfg(steps=100, warmup_steps=10, learning_rate=1.0, min_learning_rate=0.1)
    lrs = [learning_rate(cfg, s) for s in range(100)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(lrs[9:], lrs[10:]))
    assert learning_rate(cfg, 100) == pytest.approx(0.1)


def test_train_config_errors_name_field_value_and_rule():
    with pytest.raises(ConfigError, match=r'^train\.warmup_steps=500: must be in \[0, steps\)$'):
        TrainConfig(steps=100, warmup_steps=500)
    with pytest.raises(ConfigError, match=r'train\.image_size=60: must be a multiple of 16'):
        load_config(TrainConfig, overrides=['train.image_size=60'])


def test_training_lowers_the_loss_and_writes_csv_png_checkpoints(tmp_path):
    model = LineFit()
    save, load = _hooks(model)
    result = train(model, LineBatches(), _cfg(), tmp_path, save, load, progress=False)
    assert result.step == 60 and not result.stopped_early
    assert result.loss < 0.05 * result.first_loss
    rows = LossLog.read(tmp_path / 'loss.csv')
    assert [r['step'] for r in rows] == [10, 20, 30, 40, 50, 60]
    assert (tmp_path / 'loss_curve.png').stat().st_size > 1000
    assert [p.name for p in checkpoint_dirs(tmp_path)] == ['step_000040', 'step_000060']
    assert (latest_checkpoint(tmp_path) / 'policy' / 'model.safetensors').is_file()


def test_interrupted_run_resumes_from_its_checkpoint_and_matches_an_uninterrupted_one(
        tmp_path):
    straight = LineFit()
    save, load = _hooks(straight)
    train(straight, LineBatches(), _cfg(), tmp_path / 'straight', save, load, progress=False)

    # Ctrl-C during step 41 (the trainer checkpoints step 40 on its way out), then continue
    # with fresh objects, as a new process would, on the same run directory.
    first = LineFit()
    save, load = _hooks(first)
    part = train(first, InterruptedBatches(after=40), _cfg(), tmp_path / 'resumed', save, load,
                 progress=False)
    assert part.step == 40 and part.stopped_early
    second = LineFit()
    save, load = _hooks(second)
    result = train(second, LineBatches(), _cfg(), tmp_path / 'resumed', save, load,
                   progress=False)
    assert result.step == 60
    rows = LossLog.read(tmp_path / 'resumed' / 'loss.csv')
    assert [r['step'] for r in rows] == [10, 20, 30, 40, 50, 60]
    for a, b in zip(straight.parameters(), second.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_max_time_stops_early_with_a_checkpoint(tmp_path):
    model = LineFit()
    save, load = _hooks(model)
    result = train(model, LineBatches(), _cfg(steps=10_000_000, max_time_s=0.5), tmp_path,
                   save, load, progress=False)
    assert result.stopped_early and 0 < result.step < 10_000_000
    assert latest_checkpoint(tmp_path).name == f'step_{result.step:06d}'
