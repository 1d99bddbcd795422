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
Autoregressive policies behind the one interface: load_policy, PolicyRunner, vla-ros train.

A malformed token stream gives no chunk and a counted ``invalid_decodes``; a saved policy
loads back through the same registry the nodes use; ``vla-ros train --set
train.action_head=bins`` trains and writes such a policy.
"""

from dataclasses import replace
import json

from conftest import CAMERAS, JOINTS
import numpy as np
import pytest

torch = pytest.importorskip('torch')
pytest.importorskip('transformers')

from vla_ros.config import PolicyNodeConfig  # noqa: E402
from vla_ros.model.autoregressive import AutoregressiveVLA  # noqa: E402
from vla_ros.model.config import SmolVLAConfig  # noqa: E402
from vla_ros.policy import (InvalidDecode, load_policy, NormalizationStats,  # noqa: E402
                            PolicyError, PolicySpec)
from vla_ros.policy.action_vocabulary import ActionVocabulary  # noqa: E402
from vla_ros.policy.autoregressive import AutoregressivePolicy  # noqa: E402
from vla_ros.policy.interface import Observation  # noqa: E402
from vla_ros.runtime.runner import PolicyRunner  # noqa: E402
from vla_ros.training.instruction_tokenizer import train_instruction_tokenizer  # noqa: E402


def make_ar_policy(kind='bins', horizon=4, seed=0, **fit):
    """Return a random-weight tiny autoregressive policy (cameras scene/wrist, joints j0-j2)."""
    rng = np.random.default_rng(seed)
    start, end = rng.uniform(-1, 1, (2, 64, 1, len(JOINTS)))
    chunks = start + (end - start) * np.linspace(0, 1, horizon)[None, :, None]
    tokenizer = train_instruction_tokenizer(['pick up the cube', 'warm up'])
    vocab = ActionVocabulary.fit(kind, chunks, text_vocab_size=len(tokenizer),
                                 begin_id=tokenizer.bos_token_id,
                                 end_id=tokenizer.eos_token_id, **fit)
    torch.manual_seed(seed)
    config = SmolVLAConfig.tiny(chunk_size=horizon, n_action_steps=horizon,
                                vocab_size=vocab.vocab_size)
    stats = NormalizationStats(np.zeros(3), np.ones(3), np.array([1.0, 2.0, 3.0]),
                               np.array([0.5, 0.5, 2.0]), eps=0.0)
    spec = PolicySpec(camera_names=CAMERAS, joint_names=JOINTS, action_dt_s=0.1)
    return AutoregressivePolicy(AutoregressiveVLA(config), tokenizer, stats, spec, head=vocab)


def observation(stamp=7.5):
    return Observation(images={c: np.full((20, 30, 3), 100, np.uint8) for c in CAMERAS},
                       state=np.array([0.1, 0.2, 0.3]), instruction='pick up the cube',
                       stamp=stamp, joint_order=JOINTS)


def feed(runner, t_s):
    """Store every input of `runner` at `t_s`."""
    runner.inputs.set_joint_state(int(t_s * 1e9), list(JOINTS), [0.1, 0.2, 0.3])
    for cam in CAMERAS:
        runner.inputs.set_image(cam, int(t_s * 1e9), np.zeros((20, 30, 3), np.uint8))


def test_a_well_formed_stream_is_unnormalized_into_the_chunk():
    policy = make_ar_policy('bins')
    target = np.linspace(-0.5, 0.5, 12).reshape(4, 3)
    stream = np.r_[policy.head.encode(target[None])[0], policy.head.end_id, 0, 0]
    policy.decode_tokens = lambda obs: stream
    chunk = policy.predict_chunk(observation(), noise=object(), prev_chunk=None)
    expected = policy.head.parse(stream) * policy.stats.action_std + policy.stats.action_mean
    np.testing.assert_allclose(chunk.positions, expected)
    assert chunk.t0 == 7.5 and chunk.dt == 0.1 and chunk.joint_names == JOINTS


@pytest.mark.parametrize('kind', ['bins', 'fast'])
def test_malformed_stream_gives_no_chunk_and_a_counted_invalid_decode(kind):
    policy = make_ar_policy(kind, **({'fast_vocab_size': 128} if kind == 'fast' else {}))
    good = list(policy.head.encode(np.zeros((1, 4, 3)))[0])
    runner = PolicyRunner(policy, PolicyNodeConfig(warmup=False, warn_period_s=0.0))
    streams = [good[:-1] + [policy.head.end_id],            # too short
               good + good,                                   # no end token
               [policy.head.begin_id] + good + [policy.head.end_id]]   # a foreign id
    for i, stream in enumerate(streams):
        policy.decode_tokens = lambda obs, s=stream: np.asarray(s)
        feed(runner, 10.0 + i)
        assert runner.trigger.on_request()
        inference = runner.infer(10.05 + i, 'service')
        assert inference.chunk is None, 'never a padded or zero chunk'
        assert (inference.level, inference.message.split(':')[0]) == (
            'warn', 'invalid decode, no chunk published')
        runner.complete(inference, published=False, now_s=10.1 + i)
    values = runner.stats.values(20.0)
    assert values['invalid_decodes'] == '3' and values['model_errors'] == '3'
    assert values['chunks_total'] == '0' and 'InvalidDecode' in values['last_error']
    assert 'invalid decodes 3' in runner.stats.summary(20.0)
    with pytest.raises(InvalidDecode):
        runner.predict(observation())
    # The real model: a random tiny one rarely ends its stream in time; either way the
    # runner returns a chunk or counts the decode, never raises.
    del policy.decode_tokens
    feed(runner, 15.0)
    assert runner.trigger.on_request()
    inference = runner.infer(15.0, 'service')
    assert inference.chunk is not None or runner.stats.invalid_decodes == 4


def test_rtc_is_refused_and_num_steps_ignored():
    policy = make_ar_policy('bins')
    with pytest.raises(PolicyError, match='no real-time chunking'):
        policy.set_rtc('lerobot')
    policy.set_rtc('')
    policy.set_num_steps(3)
    with pytest.raises(PolicyError, match='no real-time chunking'):
        PolicyRunner(policy, PolicyNodeConfig(warmup=False, rtc_guidance='vjp',
                                              executor_plan_topic='plan'))


@pytest.mark.parametrize('kind', ['fast', 'bins'])
def test_save_and_load_policy_round_trip(tmp_path, kind):
    policy = make_ar_policy(kind, **({'fast_vocab_size': 128} if kind == 'fast' else {}))
    policy.training['note'] = 'kept'
    policy.save_pretrained(tmp_path)
    files = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob('*') if p.is_file()}
    tok_files = ({'action_tokenizer/fast_tokenizer.json', 'action_tokenizer/tokenizer.json'}
                 if kind == 'fast' else {'action_tokenizer/bin_tokenizer.json'})
    assert files == {'config.json', 'model.safetensors', 'policy.json', 'tokenizer.json',
                     'tokenizer_config.json'} | tok_files
    assert json.loads((tmp_path / 'config.json').read_text())['format'] == \
        'vla_ros.autoregressive'
    head = json.loads((tmp_path / 'policy.json').read_text())['action_head']
    assert head['kind'] == kind and head == policy.head.to_dict()

    loaded = load_policy(tmp_path)
    assert isinstance(loaded, AutoregressivePolicy)
    assert loaded.format_name == 'vla_ros.autoregressive'
    assert loaded.training == {'note': 'kept'} and loaded.head.to_dict() == head
    for key, value in policy.model.state_dict().items():
        assert torch.equal(value, loaded.model.state_dict()[key]), key
    chunks = np.random.default_rng(3).uniform(-1, 1, (5, 4, 3))
    assert [list(a) for a in loaded.head.encode(chunks)] == \
        [list(a) for a in policy.head.encode(chunks)]
    np.testing.assert_array_equal(loaded.decode_tokens(observation()),
                                  policy.decode_tokens(observation()))
    renamed = load_policy(tmp_path, joint_names=('a', 'b', 'c'))
    assert renamed.joint_names == ('a', 'b', 'c')


def test_policy_runner_loads_and_warms_up_a_checkpoint_whose_stream_is_no_chunk(tmp_path):
    policy = make_ar_policy('bins')
    policy.save_pretrained(tmp_path)
    with pytest.raises(InvalidDecode):       # random weights: the end token never comes
        policy.predict_chunk(observation())
    logs = []
    runner = PolicyRunner.load(PolicyNodeConfig(checkpoint_path=str(tmp_path)),
                               log=logs.append)
    assert runner.policy.format_name == 'vla_ros.autoregressive'
    assert any('warm-up inference took' in line for line in logs)


def test_flow_checkpoints_are_not_taken_for_autoregressive_ones(tiny_policy_dir, tmp_path):
    from vla_ros.policy.registry import detect_format
    assert detect_format(tiny_policy_dir).name == 'vla_ros.smolvla'
    make_ar_policy('bins').save_pretrained(tmp_path)
    assert detect_format(tmp_path).name == 'vla_ros.autoregressive'
    from vla_ros.model.checkpoint import CheckpointError
    from vla_ros.model.smolvla import SmolVLA
    with pytest.raises(CheckpointError, match='vla_ros.autoregressive'):
        SmolVLA.from_pretrained(tmp_path)


def test_a_mismatched_head_is_a_clear_error():
    policy = make_ar_policy('bins')
    with pytest.raises(PolicyError, match='action_head.horizon'):
        replace(policy, head=make_ar_policy('bins', horizon=5).head)


def synthetic_episodes(n=6, length=12, size=32, seed=0):
    from vla_ros.training.data import EpisodeArrays

    rng = np.random.default_rng(seed)
    episodes = []
    for _ in range(n):
        x, y = rng.integers(4, size - 12, size=2)
        images = np.zeros((length, size, size, 3), np.uint8)
        images[:, y:y + 8, x:x + 8] = (220, 40, 40)
        goal = np.array([x, y, 0, 0, 0, 0, 0], float) / size
        action = np.linspace(0, 1, length)[:, None] * goal + rng.normal(0, 1e-3, (length, 7))
        state = np.vstack([action[:1], action[:-1]])
        episodes.append(EpisodeArrays({'scene': images, 'wrist': images[:, ::-1].copy()},
                                      state, action, 'touch the red cube'))
    return episodes


def test_vla_ros_train_with_a_bins_head_writes_a_loadable_policy(tmp_path):
    from vla_ros.cli import main
    from vla_ros.training.build import write_episodes

    out = tmp_path / 'run'
    out.mkdir()
    write_episodes(out / 'episodes.npz', synthetic_episodes())    # no recording (no MuJoCo)
    args = ['train', '--out', str(out), '--episodes', '6', '--no-progress', '--threads', '1']
    settings = ['action_head=bins', 'action_bins=64', 'model_preset=tiny', 'image_size=32',
                'chunk_size=3', 'batch_size=4', 'warmup_steps=2', 'log_every_steps=5',
                'save_every_steps=10', 'learning_rate=0.003']
    for setting in settings + ['steps=12']:
        args += ['--set', f'train.{setting}']
    assert main(args) == 0
    info = json.loads((out / 'train_info.json').read_text())
    assert info['action_head'] == 'bins' and info['step'] == 12
    head = json.loads((out / 'action_head.json').read_text())
    assert head['kind'] == 'bins' and head['max_decode_tokens'] == 3 * 7 + 1
    policy = load_policy(out / 'policy')
    assert isinstance(policy, AutoregressivePolicy) and policy.head.kind == 'bins'
    assert policy.head.to_dict() == head
    # Resuming keeps the fitted vocabulary and continues to the new step count.
    args[args.index('train.steps=12')] = 'train.steps=14'
    assert main(args) == 0
    assert json.loads((out / 'train_info.json').read_text())['step'] == 14
    assert load_policy(out / 'policy').head.to_dict() == head
    # Another head on the same run directory is refused with the reason.
    args[args.index('train.action_head=bins')] = 'train.action_head=fast'
    assert main(args) == 2
