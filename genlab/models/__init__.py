"""Models: loading (local or hub, safetensors only), the GPT-2 shape genlab trains, the tiny model for examples and
tests, prompt- and prefix-tuning prefixes, and scoring of sequences and continuations.

>>> from genlab.models import load_model
>>> load_model().kind
'causal'
"""

from genlab.models.common import ModelLoadError, resolve_device, resolve_dtype
from genlab.models.loading import DEFAULT_MODEL, Bundle, load_model

__all__ = [
    "DEFAULT_MODEL",
    "Bundle",
    "ModelLoadError",
    "load_model",
    "resolve_device",
    "resolve_dtype",
]
