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
The CPU-sized SmolVLA the demo policy is trained with.

Same architecture as ``lerobot/smolvla_base`` (SigLIP-style vision encoder, pixel-shuffle
connector, the first ``num_vlm_layers`` of a Llama-style decoder, an action expert at 0.75 of
its width interleaving cross- and self-attention, flow matching) with every size cut so that
training from scratch on two CPU cores takes tens of minutes: 64 px images in 8 px patches
(16 tokens per camera after the pixel shuffle), a 128-wide 4-layer decoder, a 96-wide expert.
"""

from __future__ import annotations


def demo_model_config(image_size: int = 64, chunk_size: int = 20, vocab_size: int = 64,
                      state_dim: int = 7, action_dim: int = 7, **overrides):
    """Return the ``SmolVLAConfig`` of the demo policy."""
    from vla_ros.model.config import SmolVLAConfig

    sizes = {
        'chunk_size': chunk_size, 'n_action_steps': chunk_size, 'num_steps': 10,
        'max_state_dim': 8, 'max_action_dim': 8, 'state_dim': state_dim, 'action_dim': action_dim,
        'resize_imgs_with_padding': (image_size, image_size), 'tokenizer_max_length': 16,
        'num_vlm_layers': 4, 'self_attn_every_n_layers': 2, 'expert_width_multiplier': 0.75,
        # Trained from scratch: a random backbone is useless frozen.
        'freeze_vision_encoder': False, 'train_expert_only': False,
        'vision_hidden_size': 96, 'vision_intermediate_size': 192, 'vision_num_hidden_layers': 3,
        'vision_num_attention_heads': 4, 'vision_patch_size': 8, 'vision_image_size': image_size,
        'scale_factor': 2, 'text_hidden_size': 128, 'text_intermediate_size': 256,
        'text_num_attention_heads': 4, 'text_num_key_value_heads': 2, 'text_head_dim': 32,
        'text_num_hidden_layers': 4, 'vocab_size': vocab_size, 'vlm_model_name': ''}
    sizes.update(overrides)
    return SmolVLAConfig.tiny(**sizes)
