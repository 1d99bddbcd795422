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
LeRobot 0.6.1's SmolVLA built from our `SmolVLAConfig`: the reference we are measured against.

The parity fixture (``test/fixtures/make_lerobot_smolvla_fixture.py``) and the latency benchmark
(``benchmarks/policy_latency.py --lerobot``) build LeRobot's ``SmolVLAPolicy`` offline, with
seeded random weights, at sizes given as our config; both go through this module:

- `smolvlm_config`: the SmolVLM2-style backbone ``config.json`` that LeRobot reads from the
  folder its ``vlm_model_name`` names (the caller adds the tokenizer and processor files);
- `lerobot_policy_config`: our config mapped onto LeRobot's ``SmolVLAConfig``, the inverse of
  what ``SmolVLA.from_lerobot`` reads back;
- `build_lerobot_policy`: the policy in fp32 with `randomize_weights` applied;
- `lerobot_rtc_config`: our `RTCConfig` as LeRobot's ``rtc_config`` (the RTC fixture);
- `use_offline_hub`: nothing is ever downloaded.

Importing this module needs torch only: transformers and lerobot are imported inside the
functions that use them, which run in LeRobot's own venv (Python >= 3.12).
"""

from __future__ import annotations

import os
from typing import Any, Mapping

import torch

from vla_ros.model.config import SmolVLAConfig
from vla_ros.model.rtc import RTCConfig


def use_offline_hub() -> None:
    """Keep transformers and huggingface_hub offline; call before either is imported."""
    os.environ['HF_HUB_OFFLINE'] = '1'
    os.environ['TRANSFORMERS_OFFLINE'] = '1'
    os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')


@torch.no_grad()
def randomize_weights(module: torch.nn.Module, seed: int) -> None:
    """
    Overwrite every parameter from `seed`, so activations stay O(1) at any depth.

    One N(0, 1) draw per parameter, by name in sorted order (the same model always gets the
    same weights), then scaled: matrices N(0, 1/fan_in) (a 0.02 init fades out with depth);
    norm weights 1 + 0.1 N; every bias a nonzero 0.1 N, so a test exercises it; token
    embeddings N(0, 1/D) (they are multiplied by sqrt(D)); position embeddings N(0, 0.25).
    """
    generator = torch.Generator().manual_seed(seed)
    for name, param in sorted(module.named_parameters()):
        noise = torch.randn(param.shape, generator=generator)
        if 'norm' in name and name.endswith('.weight'):
            param.copy_(1.0 + 0.1 * noise)
        elif name.endswith('.bias'):
            param.copy_(0.1 * noise)
        elif 'embed_tokens' in name:
            param.copy_(noise * param.shape[-1] ** -0.5)
        elif 'position_embedding' in name:
            param.copy_(0.5 * noise)
        else:
            param.copy_(noise * param[0].numel() ** -0.5)


def smolvlm_config(c: SmolVLAConfig, *, pad_token_id: int, bos_token_id: int,
                   eos_token_id: int, image_token_id: int,
                   max_position_embeddings: int = 8192) -> Any:
    """
    Return the transformers ``SmolVLMConfig`` of `c`'s backbone (to ``save_pretrained``).

    The token ids are those of the tokenizer saved beside it. The text decoder gets
    ``text_num_hidden_layers`` layers, of which LeRobot runs the first ``num_vlm_layers``.
    """
    from transformers import SmolVLMConfig

    return SmolVLMConfig(
        vision_config={
            'hidden_size': c.vision_hidden_size, 'intermediate_size': c.vision_intermediate_size,
            'num_hidden_layers': c.vision_num_hidden_layers,
            'num_attention_heads': c.vision_num_attention_heads,
            'image_size': c.vision_image_size, 'patch_size': c.vision_patch_size,
            'layer_norm_eps': c.vision_layer_norm_eps,
        },
        text_config={
            'model_type': 'llama', 'hidden_size': c.text_hidden_size,
            'intermediate_size': c.text_intermediate_size,
            'num_hidden_layers': c.text_num_hidden_layers,
            'num_attention_heads': c.text_num_attention_heads,
            'num_key_value_heads': c.text_num_key_value_heads, 'head_dim': c.text_head_dim,
            'vocab_size': c.vocab_size, 'rms_norm_eps': c.rms_norm_eps,
            # The real SmolVLM2's value: LeRobot ignores it and uses 10000 for RoPE.
            'rope_theta': 100000.0, 'max_position_embeddings': max_position_embeddings,
            'pad_token_id': pad_token_id, 'bos_token_id': bos_token_id,
            'eos_token_id': eos_token_id,
        },
        scale_factor=c.scale_factor, image_token_id=image_token_id, pad_token_id=pad_token_id,
        tie_word_embeddings=False, dtype='float32',
    )


def lerobot_policy_config(c: SmolVLAConfig, cameras: Mapping[str, tuple[int, int]]) -> Any:
    """
    Map `c` onto LeRobot's ``SmolVLAConfig`` (what ``SmolVLA.from_lerobot`` reads back).

    `cameras` maps each image feature name, in order, to the (height, width) of its raw
    images; the state and action features have ``c.real_state_dim`` and
    ``c.real_action_dim`` entries. ``c.vlm_model_name`` must name a local backbone folder
    (see `smolvlm_config`), built with random weights. The training switches keep LeRobot's
    defaults; LeRobot's options that vla_ros does not support keep the values it does.
    """
    from lerobot.configs import FeatureType, PolicyFeature
    from lerobot.policies.smolvla.configuration_smolvla import SmolVLAConfig as LeRobotConfig

    input_features = {
        name: PolicyFeature(type=FeatureType.VISUAL, shape=(3, height, width))
        for name, (height, width) in cameras.items()
    }
    input_features['observation.state'] = PolicyFeature(
        type=FeatureType.STATE, shape=(c.real_state_dim,))
    output_features = {
        'action': PolicyFeature(type=FeatureType.ACTION, shape=(c.real_action_dim,))}
    return LeRobotConfig(
        input_features=input_features, output_features=output_features,
        device='cpu', push_to_hub=False, chunk_size=c.chunk_size,
        n_action_steps=c.n_action_steps, num_steps=c.num_steps,
        max_state_dim=c.max_state_dim, max_action_dim=c.max_action_dim,
        resize_imgs_with_padding=c.resize_imgs_with_padding,        # (width, height)
        tokenizer_max_length=c.tokenizer_max_length,
        vlm_model_name=c.vlm_model_name, load_vlm_weights=False,
        num_vlm_layers=c.num_vlm_layers, num_expert_layers=c.num_expert_layers,
        self_attn_every_n_layers=c.self_attn_every_n_layers,
        expert_width_multiplier=c.expert_width_multiplier, attention_mode=c.attention_mode,
        add_image_special_tokens=False, prefix_length=-1, pad_language_to=c.pad_language_to,
        use_cache=True, min_period=c.min_period, max_period=c.max_period)


def build_lerobot_policy(config: Any, seed: int) -> Any:
    """Build LeRobot's ``SmolVLAPolicy`` from its `config` in fp32, weights from `seed`."""
    from lerobot.policies.smolvla.modeling_smolvla import SmolVLAPolicy

    policy = SmolVLAPolicy(config).to(torch.float32)
    randomize_weights(policy, seed)
    return policy


def lerobot_rtc_config(rtc: RTCConfig) -> Any:
    """
    Map `rtc` onto LeRobot's ``RTCConfig`` (``SmolVLAConfig.rtc_config``).

    Only ``guidance='lerobot'`` exists in LeRobot 0.6.1 (no Jacobian term, no trained mode).
    """
    from lerobot.configs import RTCAttentionSchedule
    from lerobot.policies.rtc.configuration_rtc import RTCConfig as LeRobotRTCConfig

    if rtc.guidance != 'lerobot':
        raise ValueError(f"rtc.guidance={rtc.guidance!r}: LeRobot 0.6.1 only has 'lerobot'")
    return LeRobotRTCConfig(
        enabled=True, prefix_attention_schedule=RTCAttentionSchedule[rtc.schedule.upper()],
        max_guidance_weight=float(rtc.max_guidance_weight),
        execution_horizon=int(rtc.execution_horizon))
