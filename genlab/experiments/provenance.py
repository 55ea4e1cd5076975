"""What an experiment's committed results need beside them: the settings, the commit, wall time and machine.

>>> import json, tempfile, time
>>> from pathlib import Path
>>> out = Path(tempfile.mkdtemp())
>>> path = write_provenance(out, {"seeds": [0, 1, 2]}, started=time.time(), records=[])
>>> sorted(json.loads(path.read_text()))
['commit', 'machine', 'python', 'records', 'settings', 'torch', 'wall_s_this_invocation']
"""

from __future__ import annotations

import json
import platform
import subprocess
import time
from pathlib import Path

__all__ = ["write_provenance"]


def write_provenance(out_dir: str | Path, settings: dict, *, started: float, **extra) -> Path:
    """Write ``out_dir/provenance.json``: ``settings``, the repository's commit, the wall time since ``started``
    (a ``time.time()`` value), machine, Python and torch versions, plus any ``extra`` entries; returns its path."""
    from genlab.core.paths import REPO_DIR

    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=REPO_DIR).stdout.strip()
    provenance = {
        "settings": settings,
        "commit": commit,
        "wall_s_this_invocation": round(time.time() - started, 1),
        "machine": platform.platform(),
        "python": platform.python_version(),
        "torch": __import__("torch").__version__,
        **extra,
    }
    path = Path(out_dir) / "provenance.json"
    path.write_text(json.dumps(provenance, indent=1) + "\n", encoding="utf-8")
    return path
