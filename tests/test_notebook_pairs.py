"""The notebooks are the source: each ``.ipynb`` is paired with a jupytext ``py:percent`` file, and CI checks the pairs.

A notebook is edited in JupyterLab (or its ``.py`` in a text editor), the pair is synced with ``jupytext --sync``, and
CI accepts it: these tests make that round trip on copies of the real notebooks, and show that what CI checks (pairs
in sync, hygiene, navigation) catches a half-done edit and that no genlab tool overwrites a newer text edit.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import nbformat
import pytest
from jupytext.cli import jupytext

from genlab.core.paths import REPO_DIR
from genlab.report import series
from genlab.report.pairs import PairConflict, pair_path, pair_problems

NOTEBOOKS = series.notebooks()
NB = "20_decoding_and_repetition.ipynb"


def _sync(path: Path) -> None:
    jupytext(["--sync", "--quiet", str(path)])


def _ci_problems(directory: Path) -> list[str]:
    """What CI reports on a folder of notebooks: hygiene, pairs and stale navigation."""
    problems = [x for p in series.notebooks(directory) for x in series.hygiene(p) + pair_problems(p)]
    stale = series.update_navigation(directory)
    return problems + [f"{p.name}: navigation is stale" for p in stale]


@pytest.fixture
def copy(tmp_path) -> Path:
    """The notebooks and their pairs under tmp/notebooks, with the repository's jupytext.toml above them."""
    shutil.copy(REPO_DIR / "jupytext.toml", tmp_path / "jupytext.toml")
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for p in NOTEBOOKS:
        shutil.copy(p, folder / p.name)
        shutil.copy(pair_path(p), folder / pair_path(p).name)
    return folder


def _checkpoint_outputs(path: Path) -> list:
    nb = series.read(path)
    return [c.get("outputs") for c in nb["cells"] if series.KEEP_TAG in c.get("metadata", {}).get("tags", [])]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_and_its_pair_hold_the_same_cells(path):
    assert pair_problems(path) == []


def test_every_text_pair_has_its_notebook():
    texts = {p.stem for p in series.NOTEBOOK_DIR.glob("[0-9][0-9]_*.py")}
    assert texts == {p.stem for p in NOTEBOOKS}


def test_jupytext_pairs_the_notebooks_with_py_percent():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((REPO_DIR / "jupytext.toml").read_text(encoding="utf-8"))
    assert config["formats"] == "ipynb,py:percent" and config["cell_metadata_filter"] == "tags"


def test_the_committed_copy_passes_what_ci_checks(copy):
    assert _ci_problems(copy) == []


def test_a_cell_edited_in_jupyterlab_passes_ci_once_synced(copy):
    """JupyterLab saves through nbformat: cell ids, nbformat 4.5 and editor metadata; the .py is not touched (as
    without the jupytext extension). The pair check names the cell; after `jupytext --sync` CI accepts the edit and
    the checkpoint outputs nbval compares are untouched."""
    path = copy / NB
    before = _checkpoint_outputs(path)
    nb = nbformat.read(str(path), as_version=4)
    cell_index = next(i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and c.source.startswith("## "))
    nb.cells[cell_index].source += "\n\nA sentence added in JupyterLab."
    nb.cells[cell_index].metadata["editable"] = True
    nb.nbformat_minor = 5
    for cell in nb.cells:
        cell.setdefault("id", os.urandom(4).hex())
    time.sleep(0.01)
    nbformat.write(nb, str(path))

    problems = pair_problems(path)
    assert len(problems) == 1 and f"cell {cell_index}" in problems[0] and "jupytext --sync" in problems[0]

    _sync(path)
    assert "# A sentence added in JupyterLab." in pair_path(path).read_text(encoding="utf-8")
    assert _ci_problems(copy) == []
    assert _checkpoint_outputs(path) == before


def test_a_cell_run_in_jupyterlab_needs_strip_and_strip_keeps_the_pair(copy):
    """A cell run in JupyterLab keeps an output and an execution count: hygiene says to strip, and `series strip`
    removes them, keeps the checkpoints and writes the pair with the edit."""
    path = copy / NB
    before = _checkpoint_outputs(path)
    nb = nbformat.read(str(path), as_version=4)
    i = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and not c.metadata.get("tags"))
    nb.cells[i].source += "\n# checked in JupyterLab"
    nb.cells[i].execution_count = 7
    nb.cells[i].outputs = [nbformat.v4.new_output("stream", name="stdout", text="ran\n")]
    nb.cells[i].metadata["scrolled"] = True
    time.sleep(0.01)
    nbformat.write(nb, str(path))
    _sync(path)
    assert any("execution count" in p for p in _ci_problems(copy))

    assert series.main(["strip", "--dir", str(copy)]) == 0
    assert _ci_problems(copy) == []
    assert _checkpoint_outputs(path) == before
    assert "# checked in JupyterLab" in pair_path(path).read_text(encoding="utf-8")


def test_a_text_edit_synced_updates_the_notebook_and_keeps_checkpoint_outputs(copy):
    path = copy / NB
    before = _checkpoint_outputs(path)
    text = pair_path(path)
    time.sleep(0.01)
    source = text.read_text(encoding="utf-8")
    heading = re.search(r"^# %% \[markdown\]\n# ## .*$", source, flags=re.M).group(0)  # the first section heading
    text.write_text(source.replace(heading, heading + "\n# Edited as text.", 1), encoding="utf-8")
    assert pair_problems(path)
    _sync(text)
    assert "Edited as text." in "".join(series.source(c) for c in series.read(path)["cells"])
    assert _ci_problems(copy) == []
    assert _checkpoint_outputs(path) == before


def test_no_genlab_tool_overwrites_a_newer_text_edit(copy):
    """`series strip` / `nav` / `refresh` rewrite the .ipynb and then its pair; with an unsynced, newer .py that
    would drop the text edit, so they refuse and write nothing."""
    path = copy / NB
    text = pair_path(path)
    time.sleep(0.01)
    edited = text.read_text(encoding="utf-8") + "\n# %%\nprint('new cell, typed in an editor')\n"
    text.write_text(edited, encoding="utf-8")
    os.utime(text, (time.time() + 5, time.time() + 5))
    notebook_before = path.read_bytes()
    nb = series.read(path)
    nb["cells"][0]["source"] = ["# 20 · Decoding and repetition, retitled by a tool\n"]
    with pytest.raises(PairConflict, match="jupytext --sync"):
        series.write(path, nb)
    assert path.read_bytes() == notebook_before and text.read_text(encoding="utf-8") == edited
