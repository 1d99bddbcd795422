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
Loading and saving SmolVLA weights: our format, LeRobot checkpoints, SmolVLM2 backbones.

Every source is mapped tensor by tensor onto our parameter names by an explicit key map
(`lerobot_key_map`, `vlm_key_map`); a load uses every tensor of the map, and reports any that
is missing, unexpected or of the wrong shape in one `CheckpointError`. Weights are read from
safetensors only: pickles (``.bin``, ``.pt``, ``.pth``, ...) can run arbitrary code when
loaded and are refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

import torch

from vla_ros.model.config import ModelConfigError, SmolVLAConfig

FORMAT = 'vla_ros.smolvla'
FORMAT_VERSION = 1
PICKLE_SUFFIXES = ('.bin', '.pt', '.pth', '.pkl', '.pickle', '.ckpt')
SMOLVLM2_500M = 'HuggingFaceTB/SmolVLM2-500M-Video-Instruct'
LEROBOT_VLM = 'model.vlm_with_expert.vlm.model.'
LEROBOT_EXPERT = 'model.vlm_with_expert.lm_expert.'
HEADS = ('state_proj', 'action_in_proj', 'action_time_mlp_in', 'action_time_mlp_out',
         'action_out_proj')


class CheckpointError(ValueError):
    """A checkpoint file is missing, unreadable or does not fit the model; names the file."""


# --------------------------------------------------------------------------------------------
# Files.

def refuse_pickle(path: Path) -> None:
    """Raise if `path` is a pickle file, saying why it is never loaded."""
    if path.suffix in PICKLE_SUFFIXES:
        raise CheckpointError(
            f'{path}: is a pickle ({path.suffix}); vla_ros never unpickles weights because '
            'loading a pickle can run arbitrary code. Convert it to model.safetensors '
            '(safetensors.torch.save_file) and load that directory.')


def weights_file(directory: Path, name: str = 'model.safetensors') -> Path:
    """Return `directory`/`name`, or raise naming the pickle found instead or the absence."""
    refuse_pickle(directory)
    if not directory.is_dir():
        raise CheckpointError(f'{directory}: no such checkpoint directory')
    path = directory / name
    if path.is_file():
        return path
    pickles = sorted(p for p in directory.iterdir() if p.suffix in PICKLE_SUFFIXES)
    if pickles:
        refuse_pickle(pickles[0])
    raise CheckpointError(f'{path}: missing (a checkpoint holds its weights in {name})')


def read_json(path: Path) -> dict[str, Any]:
    """Read a JSON object, or raise one `CheckpointError` naming the file and the problem."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise CheckpointError(f'{path}: missing') from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f'{path}: not valid JSON ({exc})') from None
    if not isinstance(data, dict):
        raise CheckpointError(f'{path}: must hold a JSON object')
    return data


def read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    """Read every tensor of a safetensors file; a corrupt file is one clear error."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    refuse_pickle(path)
    try:
        return load_file(str(path))
    except FileNotFoundError:
        raise CheckpointError(f'{path}: missing') from None
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f'{path}: not a readable safetensors file ({exc})') from None


def load_mapped(model: torch.nn.Module, tensors: Mapping[str, torch.Tensor],
                key_map: Mapping[str, str], ignored: Mapping[str, str], source: Path) -> None:
    """
    Copy ``tensors[key_map[ours]]`` into each of our parameters, checking everything.

    `key_map` maps each of our state-dict keys to the source key; `ignored` maps source keys
    that are knowingly unused to the reason. Anything missing, unexpected or misshapen is
    reported, all at once, in one error that names `source`.
    """
    ours = model.state_dict()
    problems = []
    unmapped = sorted(set(ours) - set(key_map))
    if unmapped:    # a bug in a key map, not in the file
        raise RuntimeError(f'key map does not cover {unmapped[:3]}')
    missing = [src for src in key_map.values() if src not in tensors]
    expected = set(key_map.values()) | set(ignored)
    unexpected = sorted(k for k in tensors if k not in expected)
    if missing:
        problems.append(f'{len(missing)} missing tensor(s), e.g. {missing[:3]}')
    if unexpected:
        problems.append(f'{len(unexpected)} unexpected tensor(s), e.g. {unexpected[:3]}')
    for key, src in key_map.items():
        if src in tensors and tuple(tensors[src].shape) != tuple(ours[key].shape):
            problems.append(f'{src} has shape {tuple(tensors[src].shape)}, the config needs '
                            f'{tuple(ours[key].shape)}')
            break
    if problems:
        raise CheckpointError(f'{source}: does not fit the model: ' + '; '.join(problems))
    with torch.no_grad():
        for key, src in key_map.items():
            ours[key].copy_(tensors[src])


# --------------------------------------------------------------------------------------------
# Key maps: our parameter name -> name in the source file.

def backbone_key_map(config: SmolVLAConfig, vlm_prefix: str) -> dict[str, str]:
    """Vision, connector and text-model keys under SmolVLM's ``vision_model``/``text_model``."""
    v = vlm_prefix + 'vision_model.'
    keys = {
        'vision.patch_embedding.weight': v + 'embeddings.patch_embedding.weight',
        'vision.patch_embedding.bias': v + 'embeddings.patch_embedding.bias',
        'vision.position_embedding.weight': v + 'embeddings.position_embedding.weight',
        'vision.post_layernorm.weight': v + 'post_layernorm.weight',
        'vision.post_layernorm.bias': v + 'post_layernorm.bias',
        'connector.proj.weight': vlm_prefix + 'connector.modality_projection.proj.weight',
        'language_model.embed_tokens.weight': vlm_prefix + 'text_model.embed_tokens.weight',
        'language_model.norm.weight': vlm_prefix + 'text_model.norm.weight',
    }
    for i in range(config.vision_num_hidden_layers):
        ours, theirs = f'vision.layers.{i}.', f'{v}encoder.layers.{i}.'
        for sub, src in (('layer_norm1', 'layer_norm1'), ('layer_norm2', 'layer_norm2'),
                         ('self_attn.q_proj', 'self_attn.q_proj'),
                         ('self_attn.k_proj', 'self_attn.k_proj'),
                         ('self_attn.v_proj', 'self_attn.v_proj'),
                         ('self_attn.out_proj', 'self_attn.out_proj'),
                         ('fc1', 'mlp.fc1'), ('fc2', 'mlp.fc2')):
            for leaf in ('weight', 'bias'):
                keys[f'{ours}{sub}.{leaf}'] = f'{theirs}{src}.{leaf}'
    for i in range(config.num_vlm_layers):
        keys.update(decoder_layer_keys(f'language_model.layers.{i}.',
                                       f'{vlm_prefix}text_model.layers.{i}.'))
    return keys


def decoder_layer_keys(ours: str, theirs: str) -> dict[str, str]:
    """One Llama block: our flat `DecoderLayer` names -> transformers' nested names."""
    keys = {f'{ours}{norm}.weight': f'{theirs}{norm}.weight'
            for norm in ('input_layernorm', 'post_attention_layernorm')}
    keys.update({f'{ours}{p}.weight': f'{theirs}self_attn.{p}.weight'
                 for p in ('q_proj', 'k_proj', 'v_proj', 'o_proj')})
    keys.update({f'{ours}{p}.weight': f'{theirs}mlp.{p}.weight'
                 for p in ('gate_proj', 'up_proj', 'down_proj')})
    return keys


def lerobot_key_map(config: SmolVLAConfig) -> dict[str, str]:
    """Map every parameter of ``SmolVLA(config)`` to its key in a LeRobot SmolVLA file."""
    keys = backbone_key_map(config, LEROBOT_VLM)
    for i in range(config.num_vlm_layers):
        keys.update(decoder_layer_keys(f'expert.layers.{i}.', f'{LEROBOT_EXPERT}layers.{i}.'))
    keys['expert.norm.weight'] = LEROBOT_EXPERT + 'norm.weight'
    for head in HEADS:
        for leaf in ('weight', 'bias'):
            keys[f'{head}.{leaf}'] = f'model.{head}.{leaf}'
    return keys


LEROBOT_IGNORED = {
    'model.vlm_with_expert.vlm.lm_head.weight': 'the VLM text head: SmolVLA never decodes text',
}


def vlm_key_map(config: SmolVLAConfig) -> dict[str, str]:
    """Map our backbone parameters to a transformers SmolVLM2 ``model.safetensors``."""
    return backbone_key_map(config, 'model.')


def vlm_ignored(config: SmolVLAConfig, tensors: Mapping[str, torch.Tensor]) -> dict[str, str]:
    """SmolVLM2 tensors SmolVLA knowingly drops: the LM head and the layers past the cut."""
    ignored = {'lm_head.weight': 'the VLM text head: SmolVLA never decodes text'}
    for key in tensors:
        parts = key.split('.')
        if key.startswith('model.text_model.layers.') and int(parts[3]) >= config.num_vlm_layers:
            ignored[key] = f'text layer past num_vlm_layers={config.num_vlm_layers}'
    return ignored


# --------------------------------------------------------------------------------------------
# Configs.

VLM_CONFIG_FIELDS = {
    # our field: (sub-config, transformers name)
    'vision_hidden_size': ('vision_config', 'hidden_size'),
    'vision_intermediate_size': ('vision_config', 'intermediate_size'),
    'vision_num_hidden_layers': ('vision_config', 'num_hidden_layers'),
    'vision_num_attention_heads': ('vision_config', 'num_attention_heads'),
    'vision_patch_size': ('vision_config', 'patch_size'),
    'vision_image_size': ('vision_config', 'image_size'),
    'vision_layer_norm_eps': ('vision_config', 'layer_norm_eps'),
    'text_hidden_size': ('text_config', 'hidden_size'),
    'text_intermediate_size': ('text_config', 'intermediate_size'),
    'text_num_attention_heads': ('text_config', 'num_attention_heads'),
    'text_num_key_value_heads': ('text_config', 'num_key_value_heads'),
    'text_head_dim': ('text_config', 'head_dim'),
    'text_num_hidden_layers': ('text_config', 'num_hidden_layers'),
    'vocab_size': ('text_config', 'vocab_size'),
    'rms_norm_eps': ('text_config', 'rms_norm_eps'),
}

LEROBOT_FIELDS = (
    'chunk_size', 'n_action_steps', 'num_steps', 'max_state_dim', 'max_action_dim',
    'min_period', 'max_period', 'resize_imgs_with_padding', 'tokenizer_max_length',
    'pad_language_to', 'num_vlm_layers', 'num_expert_layers', 'self_attn_every_n_layers',
    'expert_width_multiplier', 'attention_mode', 'freeze_vision_encoder', 'train_expert_only',
    'train_state_proj', 'vlm_model_name')


def backbone_sizes(vlm_config: Mapping[str, Any], source: Path) -> dict[str, Any]:
    """Read our backbone fields from a SmolVLM2 ``config.json`` dict."""
    sizes: dict[str, Any] = {}
    for ours, (section, name) in VLM_CONFIG_FIELDS.items():
        sub = vlm_config.get(section, {})
        if name in sub:
            sizes[ours] = sub[name]
        elif name == 'head_dim' and 'hidden_size' in sub:
            sizes[ours] = sub['hidden_size'] // sub['num_attention_heads']
        elif name in ('layer_norm_eps', 'rms_norm_eps'):
            continue    # transformers' defaults equal ours
        else:
            raise CheckpointError(f'{source}: {section}.{name} missing')
    sizes['scale_factor'] = vlm_config.get('scale_factor', 2)
    return sizes


def find_vlm_dir(name: str, checkpoint: Path) -> Path | None:
    """
    Find the local directory of a LeRobot ``vlm_model_name``; never downloads.

    Tried in order: the name as a path, the name relative to each parent of the checkpoint
    directory (a repository-relative path), and a Hugging Face hub cache snapshot.
    """
    if not name:
        return None
    candidates = [Path(name)] + [parent / name for parent in checkpoint.resolve().parents]
    import os
    hub = Path(os.environ.get('HF_HUB_CACHE', Path(os.environ.get(
        'HF_HOME', Path.home() / '.cache' / 'huggingface')) / 'hub'))
    snapshots = hub / ('models--' + name.replace('/', '--')) / 'snapshots'
    if snapshots.is_dir():
        candidates += sorted(snapshots.iterdir())
    for path in candidates:
        if (path / 'config.json').is_file():
            return path
    return None


def lerobot_config(directory: Path, vlm_path: str | Path | None = None
                   ) -> tuple[SmolVLAConfig, dict[str, Any], Path | None]:
    """Return (our config, LeRobot's config.json dict, the local VLM dir or None)."""
    data = read_json(directory / 'config.json')
    if data.get('type') != 'smolvla':
        raise CheckpointError(f"{directory / 'config.json'}: type={data.get('type')!r}: "
                              "not a LeRobot SmolVLA checkpoint (needs 'smolvla')")
    for name, ok in (('add_image_special_tokens', False), ('adapt_to_pi_aloha', False),
                     ('use_delta_joint_actions_aloha', False)):
        if data.get(name, ok) != ok:
            raise CheckpointError(f"{directory / 'config.json'}: {name}={data[name]}: "
                                  'not supported by vla_ros')
    if data.get('prefix_length', -1) > 0:
        raise CheckpointError(f"{directory / 'config.json'}: prefix_length="
                              f"{data['prefix_length']}: only -1 (no prefix padding) is supported")
    fields = {name: data[name] for name in LEROBOT_FIELDS if name in data}
    features = data.get('input_features', {})
    if 'observation.state' in features:
        fields['state_dim'] = features['observation.state']['shape'][0]
    if 'action' in data.get('output_features', {}):
        fields['action_dim'] = data['output_features']['action']['shape'][0]
    if vlm_path:
        vlm_dir = Path(vlm_path)
    else:
        vlm_dir = find_vlm_dir(fields.get('vlm_model_name', ''), directory)
    if vlm_dir is not None:
        fields.update(backbone_sizes(read_json(vlm_dir / 'config.json'), vlm_dir))
    elif fields.get('vlm_model_name') != SMOLVLM2_500M:
        raise CheckpointError(
            f"{directory / 'config.json'}: vlm_model_name={fields.get('vlm_model_name')!r}: "
            'no local directory with its config.json; pass vlm_path= (nothing is downloaded)')
    try:
        return SmolVLAConfig(**fields), data, vlm_dir
    except ModelConfigError as exc:
        raise CheckpointError(f"{directory / 'config.json'}: {exc}") from None


# --------------------------------------------------------------------------------------------
# Entry points (called by the SmolVLA classmethods, which pass their class: this module never
# imports the model, so the two do not import each other).

def load_lerobot_model(model_cls, path: str | Path, vlm_path: str | Path | None = None):
    """Build a `model_cls` (our `SmolVLA`) from a LeRobot SmolVLA checkpoint directory."""
    directory = Path(path)
    weights = weights_file(directory)
    config, _, _ = lerobot_config(directory, vlm_path)
    model = model_cls(config)
    load_mapped(model, read_safetensors(weights), lerobot_key_map(config), LEROBOT_IGNORED,
                weights)
    return model.eval()


def load_vlm_model(model_cls, path: str | Path, **overrides: Any):
    """Build a `model_cls` from a local SmolVLM2 directory; the action expert is fresh."""
    directory = Path(path)
    weights = weights_file(directory)
    fields = backbone_sizes(read_json(directory / 'config.json'), directory)
    fields.update(vlm_model_name=str(directory), **overrides)
    try:
        config = SmolVLAConfig.smolvla_base(**fields)
    except ModelConfigError as exc:
        raise CheckpointError(f"{directory / 'config.json'}: {exc}") from None
    model = model_cls(config)
    tensors = read_safetensors(weights)
    key_map = vlm_key_map(config)
    fresh = {k: k for k in model.state_dict() if k not in key_map}   # expert and heads
    tensors = dict(tensors, **{k: v for k, v in model.state_dict().items() if k in fresh})
    load_mapped(model, tensors, {**key_map, **fresh}, vlm_ignored(config, tensors), weights)
    return model


def save_model(model, path: str | Path) -> None:
    """Write ``config.json`` and ``model.safetensors`` of `model` into `path`."""
    from safetensors.torch import save_file

    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    config = {'format': FORMAT, 'format_version': FORMAT_VERSION,
              'model': model.config.to_dict()}
    (directory / 'config.json').write_text(json.dumps(config, indent=2) + '\n')
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(directory / 'model.safetensors'), metadata={'format': FORMAT})


def read_config(directory: Path) -> SmolVLAConfig:
    """Read our ``config.json``; a foreign or corrupt file is one clear error."""
    path = directory / 'config.json'
    data = read_json(path)
    if data.get('format') != FORMAT:
        hint = ' (a LeRobot checkpoint: use from_lerobot)' if data.get('type') == 'smolvla' \
            else ''
        raise CheckpointError(f'{path}: format={data.get("format")!r}: expected {FORMAT!r}'
                              f'{hint}')
    if data.get('format_version', 0) > FORMAT_VERSION:
        raise CheckpointError(f"{path}: format_version={data['format_version']}: this "
                              f'vla_ros reads up to {FORMAT_VERSION}')
    try:
        return SmolVLAConfig.from_dict(data.get('model', {}))
    except (ModelConfigError, TypeError) as exc:
        raise CheckpointError(f'{path}: {exc}') from None


def load_model(model_cls, path: str | Path):
    """Load a directory written by `save_model` into a new `model_cls`."""
    directory = Path(path)
    weights = weights_file(directory)
    model = model_cls(read_config(directory))
    keys = {k: k for k in model.state_dict()}
    load_mapped(model, read_safetensors(weights), keys, {}, weights)
    return model.eval()


def is_lerobot_checkpoint(path: str | Path) -> bool:
    """Tell whether `path` holds a LeRobot SmolVLA ``config.json`` (``"type": "smolvla"``)."""
    try:
        return read_json(Path(path) / 'config.json').get('type') == 'smolvla'
    except CheckpointError:
        return False


def read_lerobot_stats(directory: str | Path) -> dict[str, Any]:
    """
    Mean/std of state and action from a LeRobot checkpoint's processor files.

    Returns ``{'state_mean', 'state_std', 'action_mean', 'action_std', 'eps'}``: the state
    statistics of the pre-processor's normalizer, the action statistics of the
    post-processor's unnormalizer (what LeRobot applies at inference).
    """
    directory = Path(directory)
    found: dict[str, Any] = {}
    for config_name, registry, feature, prefix in (
            ('policy_preprocessor.json', 'normalizer_processor', 'observation.state', 'state'),
            ('policy_postprocessor.json', 'unnormalizer_processor', 'action', 'action')):
        path = directory / config_name
        steps = [s for s in read_json(path).get('steps', [])
                 if s.get('registry_name') == registry]
        if not steps or 'state_file' not in steps[0]:
            raise CheckpointError(f'{path}: no {registry} step with a state_file')
        step = steps[0]
        mode = step.get('config', {}).get('norm_map', {}).get(prefix.upper(), 'MEAN_STD')
        if mode != 'MEAN_STD':
            raise CheckpointError(f'{path}: {prefix.upper()} normalization {mode!r}: only '
                                  'MEAN_STD is supported')
        tensors = read_safetensors(directory / step['state_file'])
        for stat in ('mean', 'std'):
            key = f'{feature}.{stat}'
            if key not in tensors:
                raise CheckpointError(f"{directory / step['state_file']}: {key} missing")
            found[f'{prefix}_{stat}'] = tensors[key].double().numpy()
        found['eps'] = float(step.get('config', {}).get('eps', 1e-8))
    return found
