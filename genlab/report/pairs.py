"""The notebooks' jupytext pairs: every ``notebooks/NN_name.ipynb`` has a ``NN_name.py`` in ``py:percent`` format.

The pairing is configured in ``jupytext.toml`` at the repository root (``formats = "ipynb,py:percent"``). Either
side may be edited: JupyterLab with jupytext writes both on save, and after a text edit ``jupytext --sync FILE``
brings the other side along (the newer file wins). The ``.ipynb`` keeps the outputs of checkpoint cells, which nbval
compares; the ``.py`` is what diffs, reviews and ``ruff`` read.

:func:`pair_problems` is the check CI runs: the two sides hold the same cells (type, source, tags), cell by cell.
:func:`write_pair` is how genlab's own tools (``series nav``, ``strip``, ``refresh``) keep a pair in sync when
they rewrite a notebook.
"""

from __future__ import annotations

from pathlib import Path

PAIR_FORMAT = "py:percent"
SYNC_HINT = "run `jupytext --sync {path}` (the newer side wins), or save it in JupyterLab with jupytext installed"


def pair_path(notebook: Path) -> Path:
    """The text side of ``notebook``: the same name with ``.py``."""
    return notebook.with_suffix(".py")


class PairConflict(RuntimeError):
    """The text side was edited after the ``.ipynb``: writing the ``.ipynb`` now would overwrite that edit."""


def check_not_behind(notebook: Path) -> None:
    """Raise :class:`PairConflict` when ``notebook``'s ``.py`` pair is newer and holds other cells, so a tool about
    to rewrite the ``.ipynb`` (and then the pair from it) would silently drop the text edit."""
    text = pair_path(notebook)
    if text.exists() and notebook.exists() and text.stat().st_mtime > notebook.stat().st_mtime:
        problems = pair_problems(notebook)
        if problems:
            raise PairConflict(f"{text.name} was edited after {notebook.name} and they differ ({problems[0]}). "
                               f"Nothing was written; first run `jupytext --sync notebooks/{text.name}`.")


def write_pair(notebook: Path) -> None:
    """Bring the text side of ``notebook`` in line with the ``.ipynb`` just written, as ``jupytext --sync`` does
    (the same code, so the same text and the filters of ``jupytext.toml``)."""
    from jupytext.cli import jupytext

    jupytext(["--sync", "--quiet", str(notebook)])


def _cells(nb) -> list[tuple[str, str, tuple[str, ...]]]:
    out = []
    for cell in nb["cells"]:
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else src
        tags = tuple(cell.get("metadata", {}).get("tags", []))
        out.append((cell["cell_type"], src.rstrip("\n"), tags))
    return out


def pair_problems(notebook: Path) -> list[str]:
    """Why ``notebook`` and its ``.py`` pair are not in sync (empty list: they hold the same cells).

    Compared: the number, order and type of the cells, their sources and their tags. Not compared: outputs and
    execution counts (only the ``.ipynb`` has them) and the notebook's metadata (kept in the ``.ipynb`` only).
    """
    import json

    import jupytext

    text = pair_path(notebook)
    hint = SYNC_HINT.format(path=f"notebooks/{notebook.name}")
    if not text.exists():
        return [f"{notebook.name} has no jupytext pair {text.name}: {hint}"]
    left = _cells(json.loads(notebook.read_text(encoding="utf-8")))
    right = _cells(jupytext.read(str(text), fmt=PAIR_FORMAT))
    problems = []
    for i, (a, b) in enumerate(zip(left, right, strict=False)):  # lengths compared below
        if a != b:
            what = "type" if a[0] != b[0] else "tags" if a[2] != b[2] else "source"
            first = a[1].split("\n")[0][:60]
            problems.append(f"{notebook.name} and {text.name} differ at cell {i} ({a[0]}: {first!r}): {what}; {hint}")
            break
    if not problems and len(left) != len(right):
        problems.append(f"{notebook.name} has {len(left)} cells, {text.name} has {len(right)}: {hint}")
    return problems
