"""Where genlab finds its own files: the repository's ``data/`` folder and the embedded default model."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # genlab/
REPO_DIR = PACKAGE_DIR.parent


def data_dir() -> Path:
    """The project's ``data/`` folder (override with ``GENLAB_DATA_DIR``)."""
    path = Path(os.environ.get("GENLAB_DATA_DIR", REPO_DIR / "data"))
    if not (path / "world" / "lexicon.json").is_file():
        raise FileNotFoundError(
            f"genlab's data folder was not found at {path}. Install genlab from a checkout with "
            "`pip install -e .` (the data/ folder stays beside the package), or set GENLAB_DATA_DIR."
        )
    return path


def default_model_dir() -> Path:
    """The embedded default model: ``data/models/genlab-tiny-world``."""
    return data_dir() / "models" / "genlab-tiny-world"


def cache_dir() -> Path:
    """A per-user cache for derived artefacts (``GENLAB_CACHE_DIR``, else ``~/.cache/genlab``)."""
    path = Path(os.environ.get("GENLAB_CACHE_DIR", Path.home() / ".cache" / "genlab"))
    path.mkdir(parents=True, exist_ok=True)
    return path
