"""genlab: a notebook-first workbench for training and evaluating generative text models.

>>> import genlab
>>> genlab.is_offline()
True
"""

import os as _os

from genlab.offline import default_offline, forbid_network, is_offline, set_offline

default_offline()  # before transformers / datasets are imported anywhere
if _os.environ.get("GENLAB_FORBID_NETWORK") == "1":  # set by `make test` and `make report`
    forbid_network()

from genlab.models import DEFAULT_MODEL, Bundle, ModelLoadError, load_model  # noqa: E402
from genlab.world import generate_corpus, load_world  # noqa: E402

__version__ = "0.1.0"
__all__ = [
    "DEFAULT_MODEL", "Bundle", "ModelLoadError", "generate_corpus", "is_offline", "load_model", "load_world",
    "set_offline",
]
