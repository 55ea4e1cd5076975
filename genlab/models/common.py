"""What every model loader shares (language models, speech, text-to-image): the error that says why a model could not
be loaded and what to do, the device and dtype a model runs in, and whether the hub is offline.

Its own module so that :mod:`genlab.models.loading` can hand speech and image models to their loaders
(:mod:`genlab.models.speech`, :mod:`genlab.models.diffusion`) while those use these helpers: the imports point one way.

>>> resolve_device("cpu"), resolve_dtype("auto", resolve_device("cpu"))
(device(type='cpu'), torch.float32)
"""

from __future__ import annotations

import os

import torch

__all__ = ["ModelLoadError", "hub_offline", "resolve_device", "resolve_dtype"]


class ModelLoadError(RuntimeError):
    """A model could not be loaded; the message says why and what to do."""


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    return torch.device(device)


def resolve_dtype(dtype: str | torch.dtype, device: torch.device) -> torch.dtype:
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype == "auto":
        if device.type == "cuda" and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return torch.float32
    try:
        return {
            "float32": torch.float32,
            "fp32": torch.float32,
            "float16": torch.float16,
            "fp16": torch.float16,
            "bfloat16": torch.bfloat16,
            "bf16": torch.bfloat16,
        }[dtype]
    except KeyError:
        raise ValueError(f"unknown dtype {dtype!r}; use 'auto', 'float32', 'float16' or 'bfloat16'") from None


def hub_offline() -> bool:
    """Whether the hub is switched off for transformers (``HF_HUB_OFFLINE`` or ``TRANSFORMERS_OFFLINE``)."""
    return any(
        os.environ.get(v, "").lower() in ("1", "true", "yes") for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )
