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

Every JSON value is checked for type and range when read, and the tensor shapes in the
safetensors header are checked against the config before any weight is allocated, so a bad
file is one `CheckpointError` naming the file and the field, never a failure at the first
prediction or an allocation sized by a typo.
"""

from __future__ import annotations

import json
import math
import numbers
from pathlib import Path, PurePosixPath
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
    except OSError as exc:     # a directory, no permission, ...
        raise CheckpointError(f'{path}: unreadable ({exc})') from None
    # ValueError: also integers too long to convert; RecursionError: absurdly deep nesting.
    except (ValueError, RecursionError) as exc:
        raise CheckpointError(f'{path}: not valid JSON ({exc})') from None
    if not isinstance(data, dict):
        raise CheckpointError(f'{path}: must hold a JSON object')
    return data


def is_integer(value: Any) -> bool:
    """Whether `value` is an integer (JSON's ``true``/``false`` are not)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """Whether `value` is a finite real number (not a boolean)."""
    return (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and math.isfinite(value))


def json_object(data: Mapping[str, Any], key: str, path: Path, name: str | None = None,
                default: Any = None) -> dict[str, Any]:
    """Return ``data[key]``, which must be a JSON object (`default` if absent, when given)."""
    if key not in data and default is not None:
        return default
    value = data.get(key)
    if not isinstance(value, dict):
        raise CheckpointError(f'{path}: {name or key}={value!r}: must be a JSON object')
    return value


def read_safetensors_header(path: Path) -> dict[str, tuple[tuple[int, ...], str]]:
    """
    Shape and dtype of every tensor of a safetensors file, read from its header only.

    Nothing is allocated, so a config can be checked against the file before the model is
    built; a truncated or corrupt file is one clear error.
    """
    from safetensors import safe_open, SafetensorError

    refuse_pickle(path)
    try:
        with safe_open(str(path), framework='pt') as f:
            return {key: (tuple(f.get_slice(key).get_shape()), f.get_slice(key).get_dtype())
                    for key in f.keys()}
    except FileNotFoundError:
        raise CheckpointError(f'{path}: missing') from None
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f'{path}: not a readable safetensors file ({exc})') from None


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


def expected_shapes(model_cls, config: SmolVLAConfig) -> dict[str, tuple[int, ...]]:
    """State-dict shapes of ``model_cls(config)``, built on the meta device (no memory)."""
    with torch.device('meta'):
        model = model_cls(config)
    return {key: tuple(value.shape) for key, value in model.state_dict().items()}


def check_fit(ours: Mapping[str, tuple[int, ...]], theirs: Mapping[str, tuple[Any, str]],
              key_map: Mapping[str, str], ignored: Mapping[str, str], source: Path) -> None:
    """
    Raise one `CheckpointError` listing every way the source tensors miss our parameters.

    `ours` maps our keys to shapes, `theirs` source keys to (shape, dtype name); missing,
    unexpected, misshapen and non-floating tensors are reported at once, naming `source`.
    """
    problems = []
    missing = [src for src in key_map.values() if src not in theirs]
    expected = set(key_map.values()) | set(ignored)
    unexpected = sorted(k for k in theirs if k not in expected)
    if missing:
        problems.append(f'{len(missing)} missing tensor(s), e.g. {missing[:3]}')
    if unexpected:
        problems.append(f'{len(unexpected)} unexpected tensor(s), e.g. {unexpected[:3]}')
    for key, src in key_map.items():
        if key in ours and src in theirs and tuple(theirs[src][0]) != tuple(ours[key]):
            problems.append(f'{src} has shape {tuple(theirs[src][0])}, the config needs '
                            f'{tuple(ours[key])}')
            break
    for key, src in key_map.items():
        dtype = str(theirs[src][1]) if src in theirs else 'F32'
        if not dtype.replace('torch.', '').upper().startswith(('F', 'BF')):
            problems.append(f'{src} has dtype {dtype}: weights must be floating point')
            break
    if problems:
        raise CheckpointError(f'{source}: does not fit the model: ' + '; '.join(problems))


def load_mapped(model: torch.nn.Module, tensors: Mapping[str, torch.Tensor],
                key_map: Mapping[str, str], ignored: Mapping[str, str], source: Path) -> None:
    """
    Copy ``tensors[key_map[ours]]`` into each of our parameters, checking everything.

    `key_map` maps each of our state-dict keys to the source key; `ignored` maps source keys
    that are knowingly unused to the reason. Anything missing, unexpected or misshapen is
    reported, all at once, in one error that names `source`.
    """
    ours = model.state_dict()
    unmapped = sorted(set(ours) - set(key_map))
    if unmapped:    # a bug in a key map, not in the file
        raise RuntimeError(f'key map does not cover {unmapped[:3]}')
    check_fit({k: tuple(v.shape) for k, v in ours.items()},
              {k: (tuple(v.shape), str(v.dtype)) for k, v in tensors.items()},
              key_map, ignored, source)
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


def vlm_ignored(config: SmolVLAConfig, tensors: Mapping[str, Any]) -> dict[str, str]:
    """SmolVLM2 tensors SmolVLA knowingly drops: the LM head and the layers past the cut."""
    ignored = {'lm_head.weight': 'the VLM text head: SmolVLA never decodes text'}
    for key in tensors:
        parts = key.split('.')
        if (key.startswith('model.text_model.layers.') and parts[3].isdecimal()
                and int(parts[3]) >= config.num_vlm_layers):
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
    """Read our backbone fields from a SmolVLM2 ``config.json`` dict (`source` names it)."""
    sizes: dict[str, Any] = {}
    for ours, (section, name) in VLM_CONFIG_FIELDS.items():
        sub = json_object(vlm_config, section, source, default={})
        if name in sub:
            sizes[ours] = sub[name]
        elif name == 'head_dim' and 'hidden_size' in sub:
            width, heads = sub['hidden_size'], sub.get('num_attention_heads')
            if not (is_integer(width) and is_integer(heads) and heads > 0):
                raise CheckpointError(
                    f'{source}: {section}.hidden_size={width!r}, num_attention_heads='
                    f'{heads!r}: must be integers, heads > 0 (head_dim is derived from them)')
            sizes[ours] = width // heads
        elif name in ('layer_norm_eps', 'rms_norm_eps'):
            continue    # transformers' defaults equal ours
        else:
            raise CheckpointError(f'{source}: {section}.{name} missing')
    sizes['scale_factor'] = vlm_config.get('scale_factor', 2)
    return sizes


def config_error(exc: ModelConfigError, origins: Mapping[str, tuple[Path, str]],
                 default: Path) -> CheckpointError:
    """
    Turn a `ModelConfigError` into a `CheckpointError` naming the file and key it came from.

    `origins` maps our field names to (file, JSON key); a field not in it (a preset value)
    is named ``smolvla.<field>`` in `default`.
    """
    if exc.field in origins:
        path, key = origins[exc.field]
        return CheckpointError(f'{path}: {exc.describe(prefix="", name=key)}')
    return CheckpointError(f'{default}: {exc}')


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
        try:
            if (path / 'config.json').is_file():
                return path
        except (OSError, ValueError):   # a name no file system accepts
            continue
    return None


def lerobot_config(directory: Path, vlm_path: str | Path | None = None
                   ) -> tuple[SmolVLAConfig, dict[str, Any], Path | None]:
    """Return (our config, LeRobot's config.json dict, the local VLM dir or None)."""
    path = directory / 'config.json'
    data = read_json(path)
    if data.get('type') != 'smolvla':
        raise CheckpointError(f"{path}: type={data.get('type')!r}: "
                              "not a LeRobot SmolVLA checkpoint (needs 'smolvla')")
    for name, ok in (('add_image_special_tokens', False), ('adapt_to_pi_aloha', False),
                     ('use_delta_joint_actions_aloha', False)):
        if data.get(name, ok) is not ok:
            raise CheckpointError(f'{path}: {name}={data[name]!r}: not supported by vla_ros '
                                  f'(must be {str(ok).lower()})')
    prefix_length = data.get('prefix_length', -1)
    if not is_integer(prefix_length) or prefix_length > 0:
        raise CheckpointError(f'{path}: prefix_length={prefix_length!r}: only -1 (no prefix '
                              'padding) is supported')
    fields = {name: data[name] for name in LEROBOT_FIELDS if name in data}
    origins = {name: (path, name) for name in fields}
    for section, feature, ours in (('input_features', 'observation.state', 'state_dim'),
                                   ('output_features', 'action', 'action_dim')):
        features = lerobot_features(data, section, path)
        if feature in features:
            fields[ours] = features[feature]['shape'][0]
            origins[ours] = (path, f'{section}.{feature}.shape[0]')
    name = fields.get('vlm_model_name', '')
    if not isinstance(name, str):
        raise CheckpointError(f'{path}: vlm_model_name={name!r}: must be a string')
    if vlm_path:
        vlm_dir = Path(vlm_path)
    else:
        vlm_dir = find_vlm_dir(name, directory)
    if vlm_dir is not None:
        vlm_json = vlm_dir / 'config.json'
        sizes = backbone_sizes(read_json(vlm_json), vlm_json)
        fields.update(sizes)
        origins.update({ours: (vlm_json, '.'.join(VLM_CONFIG_FIELDS.get(ours, (ours,))))
                        for ours in sizes})
    elif name != SMOLVLM2_500M:
        raise CheckpointError(
            f'{path}: vlm_model_name={name!r}: no local directory with its config.json; pass '
            'vlm_path= (nothing is downloaded)')
    try:
        config = SmolVLAConfig(**fields)
        config.check_runnable()
    except ModelConfigError as exc:
        raise config_error(exc, origins, path) from None
    return config, data, vlm_dir


def lerobot_features(data: Mapping[str, Any], section: str,
                     path: Path) -> dict[str, dict[str, Any]]:
    """
    ``input_features`` or ``output_features`` of a LeRobot config, checked.

    Each feature must be an object with a string ``type`` and a ``shape`` of positive
    integers, the form LeRobot writes.
    """
    features = json_object(data, section, path, default={})
    for name, feature in features.items():
        where = f'{path}: {section}.{name}'
        if not isinstance(feature, dict):
            raise CheckpointError(f'{where}={feature!r}: must be a JSON object with type and '
                                  'shape')
        if not isinstance(feature.get('type'), str):
            raise CheckpointError(f"{where}.type={feature.get('type')!r}: must be a string")
        shape = feature.get('shape')
        if not (isinstance(shape, list) and shape
                and all(is_integer(v) and v > 0 for v in shape)):
            raise CheckpointError(f'{where}.shape={shape!r}: must be a non-empty list of '
                                  'positive integers')
    return features


# --------------------------------------------------------------------------------------------
# Entry points (called by the SmolVLA classmethods, which pass their class: this module never
# imports the model, so the two do not import each other).

def load_lerobot_model(model_cls, path: str | Path, vlm_path: str | Path | None = None):
    """Build a `model_cls` (our `SmolVLA`) from a LeRobot SmolVLA checkpoint directory."""
    directory = Path(path)
    weights = weights_file(directory)
    config, _, _ = lerobot_config(directory, vlm_path)
    key_map = lerobot_key_map(config)
    check_fit(expected_shapes(model_cls, config), read_safetensors_header(weights), key_map,
              LEROBOT_IGNORED, weights)
    model = model_cls(config)
    load_mapped(model, read_safetensors(weights), key_map, LEROBOT_IGNORED, weights)
    return model.eval()


def load_vlm_model(model_cls, path: str | Path, **overrides: Any):
    """Build a `model_cls` from a local SmolVLM2 directory; the action expert is fresh."""
    directory = Path(path)
    weights = weights_file(directory)
    vlm_json = directory / 'config.json'
    fields = backbone_sizes(read_json(vlm_json), vlm_json)
    origins = {ours: (vlm_json, '.'.join(VLM_CONFIG_FIELDS.get(ours, (ours,))))
               for ours in fields}
    if is_integer(fields['vision_image_size']):    # else the config names the bad value
        fields['resize_imgs_with_padding'] = (fields['vision_image_size'],) * 2
    fields.update(vlm_model_name=str(directory), **overrides)
    try:
        config = SmolVLAConfig.smolvla_base(**fields)
        config.check_runnable()
    except ModelConfigError as exc:
        if exc.field in overrides:   # the caller's argument, not the file
            raise
        raise config_error(exc, origins, vlm_json) from None
    key_map = vlm_key_map(config)
    header = read_safetensors_header(weights)
    ours = expected_shapes(model_cls, config)
    check_fit({k: ours[k] for k in key_map}, header, key_map, vlm_ignored(config, header),
              weights)
    model = model_cls(config)
    tensors = read_safetensors(weights)
    fresh = {k: k for k in model.state_dict() if k not in key_map}   # expert and heads
    tensors = dict(tensors, **{k: v for k, v in model.state_dict().items() if k in fresh})
    load_mapped(model, tensors, {**key_map, **fresh}, vlm_ignored(config, tensors), weights)
    return model


def save_model(model, path: str | Path, fmt: str = FORMAT) -> None:
    """
    Write ``config.json`` and ``model.safetensors`` of `model` into `path`.

    `fmt` is the ``format`` tag of config.json: what reads the directory back (the
    autoregressive head's model writes its own, so that no flow loader takes it).
    """
    from safetensors.torch import save_file

    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    config = {'format': fmt, 'format_version': FORMAT_VERSION,
              'model': model.config.to_dict()}
    (directory / 'config.json').write_text(json.dumps(config, indent=2) + '\n')
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(directory / 'model.safetensors'), metadata={'format': fmt})


def read_config(directory: Path, fmt: str = FORMAT) -> SmolVLAConfig:
    """Read our ``config.json`` of format `fmt`; a foreign or corrupt file is one clear error."""
    path = directory / 'config.json'
    data = read_json(path)
    if data.get('format') != fmt:
        hint = ' (a LeRobot checkpoint: use from_lerobot)' if data.get('type') == 'smolvla' \
            else ''
        raise CheckpointError(f'{path}: format={data.get("format")!r}: expected {fmt!r}'
                              f'{hint}')
    version = data.get('format_version', FORMAT_VERSION)
    if not is_integer(version) or not 1 <= version <= FORMAT_VERSION:
        raise CheckpointError(f'{path}: format_version={version!r}: must be an integer in '
                              f'[1, {FORMAT_VERSION}] (this vla_ros reads up to '
                              f'{FORMAT_VERSION})')
    try:
        config = SmolVLAConfig.from_dict(json_object(data, 'model', path))
        config.check_runnable()
        return config
    except ModelConfigError as exc:
        raise CheckpointError(f'{path}: {exc.describe(prefix="model.")}') from None


def load_model(model_cls, path: str | Path, fmt: str = FORMAT):
    """Load a directory written by `save_model` (format tag `fmt`) into a new `model_cls`."""
    directory = Path(path)
    weights = weights_file(directory)
    config = read_config(directory, fmt)
    ours = expected_shapes(model_cls, config)
    keys = {k: k for k in ours}
    check_fit(ours, read_safetensors_header(weights), keys, {}, weights)
    model = model_cls(config)
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
        steps = read_json(path).get('steps', [])
        if not isinstance(steps, list) or not all(isinstance(s, dict) for s in steps):
            raise CheckpointError(f'{path}: steps: must be a list of JSON objects')
        steps = [s for s in steps if s.get('registry_name') == registry]
        if not steps or 'state_file' not in steps[0]:
            raise CheckpointError(f'{path}: no {registry} step with a state_file')
        step = steps[0]
        config = json_object(step, 'config', path, f'{registry}.config', default={})
        norm_map = json_object(config, 'norm_map', path, f'{registry}.config.norm_map',
                               default={})
        mode = norm_map.get(prefix.upper(), 'MEAN_STD')
        if mode != 'MEAN_STD':
            raise CheckpointError(f'{path}: {prefix.upper()} normalization {mode!r}: only '
                                  'MEAN_STD is supported')
        eps = config.get('eps', 1e-8)
        if not is_number(eps) or eps < 0:
            raise CheckpointError(f'{path}: {registry}.config.eps={eps!r}: must be a finite '
                                  'number >= 0')
        state_file = stats_file(step['state_file'], directory, path, registry)
        tensors = read_safetensors(state_file)
        for stat in ('mean', 'std'):
            key = f'{feature}.{stat}'
            if key not in tensors:
                raise CheckpointError(f'{state_file}: {key} missing')
            tensor = tensors[key]
            if not tensor.is_floating_point() or tensor.dim() != 1 or tensor.numel() == 0:
                raise CheckpointError(f'{state_file}: {key} has dtype {tensor.dtype} and shape '
                                      f'{tuple(tensor.shape)}: must be a non-empty 1-D float '
                                      'tensor')
            found[f'{prefix}_{stat}'] = tensor.double().numpy()
        found['eps'] = float(eps)
    return found


def stats_file(name: Any, directory: Path, path: Path, registry: str) -> Path:
    """Return the ``state_file`` of a processor step, checked to lie in the directory."""
    parts = PurePosixPath(name).parts if isinstance(name, str) else ()
    if not parts or parts[0] == '/' or '..' in parts or '\\' in name:
        raise CheckpointError(f'{path}: {registry}.state_file={name!r}: must be a file name '
                              'inside the checkpoint directory')
    return directory / name
