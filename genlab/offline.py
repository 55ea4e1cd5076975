"""genlab runs offline by default: the hub variables are set before transformers or datasets load.

Call ``set_offline(False)`` to reach the Hugging Face hub (e.g. to load ``gpt2``); models you load then are
cached and work offline afterwards. The variables are only *defaulted*: a value you exported wins.
"""

from __future__ import annotations

import os

OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "HF_EVALUATE_OFFLINE", "TRANSFORMERS_OFFLINE")
QUIET_VARIABLES = {"TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "", "HF_HUB_DISABLE_TELEMETRY": "1",
                   "TOKENIZERS_PARALLELISM": "false"}


def default_offline() -> None:
    """Set the offline variables unless the user already chose a value."""
    for var in OFFLINE_VARIABLES:
        os.environ.setdefault(var, "1")
    for var, value in QUIET_VARIABLES.items():
        os.environ.setdefault(var, value)


def set_offline(offline: bool = True) -> None:
    """Switch the hub on or off for this process (takes effect for models and data sets loaded afterwards)."""
    for var in OFFLINE_VARIABLES:
        os.environ[var] = "1" if offline else "0"
    try:  # huggingface_hub reads the variable once at import; keep its constant in step
        import huggingface_hub.constants as hub_constants

        hub_constants.HF_HUB_OFFLINE = offline
    except ImportError:  # pragma: no cover - huggingface_hub is a transformers dependency
        pass


def is_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes")
