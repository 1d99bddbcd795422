"""SmolVLA in plain PyTorch: vision encoder, connector, language model, action expert."""

from vla_ros.model.config import ModelConfigError, SmolVLAConfig
from vla_ros.model.smolvla import SmolVLA

__all__ = ['ModelConfigError', 'SmolVLA', 'SmolVLAConfig']
