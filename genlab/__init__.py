"""genlab: a notebook-first workbench for training and evaluating generative text models.

>>> import genlab
>>> genlab.is_offline()
True
"""

import os as _os
import sys as _sys
import types as _types

from genlab.offline import default_offline, forbid_network, is_offline, set_offline

default_offline()  # before transformers / datasets are imported anywhere
if _os.environ.get("GENLAB_FORBID_NETWORK") == "1":  # set by `make test` and `make report`
    forbid_network()

from genlab.models import DEFAULT_MODEL, Bundle, ModelLoadError, load_model  # noqa: E402
from genlab.world import generate_corpus, load_world  # noqa: E402

__version__ = "0.1.0"

# The workbench's entry points, imported on first use so that `import genlab` stays quick (peft and the Trainer
# take seconds to import). Some share their submodule's name: genlab.generate is the function in genlab/generate.py.
_LAZY = {
    "generate": "genlab.generate",
    "DecodingConfig": "genlab.generate",
    "finetune": "genlab.finetune",
    "load_finetuned": "genlab.finetune",
    "merge": "genlab.finetune",
    "build_task": "genlab.tasks",
    "perplexity": "genlab.metrics.perplexity",
    "decoding_study": "genlab.evaluation",
    "compare_systems": "genlab.evaluation",
}

__all__ = [
    "DEFAULT_MODEL",
    "Bundle",
    "ModelLoadError",
    "generate_corpus",
    "is_offline",
    "load_model",
    "load_world",
    "set_offline",
    *_LAZY,
]


def __getattr__(name: str):
    """``genlab.generate``, ``genlab.finetune``, ...: the submodules' entry points, loaded on first use.

    >>> import genlab.generate  # the submodule, imported first, does not hide the function of the same name
    >>> genlab.generate.__module__, genlab.DecodingConfig.__name__
    ('genlab.generate', 'DecodingConfig')
    >>> callable(genlab.generate)
    True
    """
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'genlab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


class _Package(_types.ModuleType):
    """The genlab module, except that importing a submodule does not overwrite the entry point it is named after.

    Python's import system sets ``genlab.generate = <module genlab.generate>`` when the submodule first loads;
    skipping that keeps ``genlab.generate(...)`` the function however the submodule was reached.
    ``from genlab.generate import PRESETS`` still finds the submodule in ``sys.modules``."""

    def __setattr__(self, name: str, value) -> None:
        if name in _LAZY and isinstance(value, _types.ModuleType):
            return
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Package
