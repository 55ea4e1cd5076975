"""genlab: a notebook-first workbench for training and evaluating generative text models.

>>> import genlab
>>> genlab.is_offline()
True
"""

from genlab.offline import default_offline, is_offline, set_offline

default_offline()  # before transformers / datasets are imported anywhere

from genlab.models import DEFAULT_MODEL, Bundle, ModelLoadError, load_model  # noqa: E402
from genlab.world import generate_corpus, load_world  # noqa: E402

__version__ = "0.1.0"
__all__ = [
    "DEFAULT_MODEL", "Bundle", "ModelLoadError", "generate_corpus", "is_offline", "load_model", "load_world",
    "set_offline",
]
