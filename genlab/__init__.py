"""genlab: a notebook-first workbench for training and evaluating generative text models.

>>> import genlab
>>> genlab.is_offline()
True

Layout. One subpackage per layer; a module imports only from its own layer and the layers below it, which
``tests/test_layout.py`` enforces:

====================  ==============================================================================================
``genlab.stats``      intervals, tests, multiplicity corrections, power: pure numpy/scipy/pandas, nothing of genlab
``genlab.core``       paths, the offline switch, progress settings, sharding over processes
``genlab.worlds``     the planted-truth worlds (text, drawn, spoken); they import nothing of genlab but ``core``
``genlab.data``       tokenizer, readers, augmentation, perturbation, cleaning
``genlab.models``     loading, the GPT-2 shape, the tiny model, virtual prefixes, sequence and continuation scoring
``genlab.generation`` batched decoding, the one greedy decoder
``genlab.metrics``    metrics, listed in one lazy table (``registry``: a metric's function loads on first use)
``genlab.training``   pretraining, fine-tuning, adapters, adversarial training, fine-tuning tasks
``genlab.widgets``    the interactive prompt explorer, a thin view over plain functions
``genlab.report``     the notebook series, the HTML report, plot helpers
``genlab.recipes``    the shipped models' recipes (build, check, load, card, command line); the library never imports
                      them
====================  ==============================================================================================

Naming convention, in every table genlab returns:

- a quantity ``x`` with an interval has columns ``x``, ``x_low`` and ``x_high``; the interval's kind and level are
  in the function's docstring (result objects such as ``BootstrapCI`` carry ``estimate``, ``low`` and ``high``);
- a p-value is ``p_value``; which test produced it is said in the docstring or in a ``test`` column;
- ``n`` counts the items a value rests on, and ``k`` the successes among them.
"""

import os as _os

from genlab.core.offline import default_offline, forbid_network, is_offline, set_offline

default_offline()  # before transformers / datasets are imported anywhere
if _os.environ.get("GENLAB_FORBID_NETWORK") == "1":  # set by `make test` and `make report`
    forbid_network()

from genlab.models import DEFAULT_MODEL, Bundle, ModelLoadError, load_model  # noqa: E402
from genlab.worlds.text import generate_corpus, load_world  # noqa: E402

__version__ = "0.1.0"

# The workbench's entry points, imported on first use so that `import genlab` stays quick (peft and the Trainer
# take seconds to import). No module is named after them: genlab.generate is always the function.
_LAZY = {
    "generate": "genlab.generation.decoder",
    "DecodingConfig": "genlab.generation.decoder",
    "finetune": "genlab.training.finetuning",
    "load_finetuned": "genlab.training.finetuning",
    "merge": "genlab.training.finetuning",
    "build_task": "genlab.training.tasks",
    "perplexity": "genlab.metrics.perplexity",
    "compare_systems": "genlab.stats.systems",
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
    """``genlab.generate``, ``genlab.finetune``, ...: the entry points, loaded on first use.

    >>> import genlab
    >>> genlab.generate.__module__, genlab.DecodingConfig.__name__
    ('genlab.generation.decoder', 'DecodingConfig')
    """
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'genlab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
