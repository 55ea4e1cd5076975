"""Whether to show progress bars and live displays: on in an interactive session, off in CI and scripts.

>>> progress_enabled(False), progress_enabled(True)
(False, True)
"""

from __future__ import annotations

import os


def progress_enabled(progress: bool | None = None) -> bool:
    """``progress`` if given; otherwise True unless ``CI`` or ``TQDM_DISABLE`` is set in the environment."""
    if progress is not None:
        return progress
    return not (os.environ.get("CI") or os.environ.get("TQDM_DISABLE"))


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where display handles update in place)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None
