"""The builders in tools/notebook_builders are the only source of the notebooks' cells.

The check builds every notebook in memory (no execution) and compares it with the committed file: cell order,
types, sources, tags, kernelspec and the navigation cells; not outputs or execution counts. A notebook edited by
hand, or a builder changed without a rebuild, fails here with the notebook, the cell and a diff.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

from genlab.report import series

BUILDERS = Path(__file__).resolve().parents[1] / "tools" / "notebook_builders"
HOW_TO_FIX = (
    "\n\nThe notebooks are written by tools/notebook_builders (see its README): make the change in the builder, "
    "run it, refresh changed checkpoints with `python -m genlab.report.series refresh notebooks/NB.ipynb`, and "
    "check with `python tools/notebook_builders/nbbuild.py --check`."
)


def _load_nbbuild():
    """tools/notebook_builders/nbbuild.py as the module `nbbuild`, the one the builders' `from nbbuild import *`
    finds."""
    if "nbbuild" in sys.modules:
        return sys.modules["nbbuild"]
    spec = importlib.util.spec_from_file_location("nbbuild", BUILDERS / "nbbuild.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["nbbuild"] = module
    spec.loader.exec_module(module)
    return module


nbbuild = _load_nbbuild()
NB = "20_decoding_and_repetition.ipynb"
CHECKPOINT = 6  # in NB: print(len(prefixes), "prompts; first:", repr(prefixes[0]))


def _edit(directory: Path, name: str, change) -> None:
    nb = series.read(directory / name)
    change(nb)
    series.write(directory / name, nb)


@pytest.fixture
def fresh(tmp_path):
    """Every notebook built into an empty folder (no outputs), navigation cells filled in."""
    nbbuild.build(tmp_path, quiet=True)
    return tmp_path


def test_committed_notebooks_are_what_their_builders_write():
    problems = nbbuild.check_sources(series.NOTEBOOK_DIR)
    assert not problems, "\n\n".join(problems) + HOW_TO_FIX


def test_every_committed_notebook_has_a_builder():
    built = set(nbbuild.expected())
    assert {p.name for p in series.notebooks()} == built


def test_rebuilding_over_the_committed_notebooks_changes_no_byte(tmp_path):
    """A rebuild keeps the committed checkpoint outputs, execution counts, navigation text and language_info."""
    for p in series.notebooks():
        shutil.copy(p, tmp_path / p.name)
    nbbuild.build(tmp_path, quiet=True)
    changed = [p.name for p in series.notebooks() if (tmp_path / p.name).read_bytes() != p.read_bytes()]
    assert changed == [], f"a rebuild would rewrite {changed}" + HOW_TO_FIX


def test_a_changed_checkpoint_loses_only_its_own_output(tmp_path):
    for p in series.notebooks():
        shutil.copy(p, tmp_path / p.name)
    built = nbbuild.expected()[NB][0]
    built["cells"][CHECKPOINT]["source"][0] = built["cells"][CHECKPOINT]["source"][0].replace("; first", ", first")
    notes = nbbuild.save(tmp_path / NB, built)
    assert len(notes) == 1 and notes[0].startswith(f"cell {CHECKPOINT} ") and "without output" in notes[0]
    old, new = series.read(series.NOTEBOOK_DIR / NB)["cells"], series.read(tmp_path / NB)["cells"]
    assert new[CHECKPOINT]["outputs"] == [] and new[CHECKPOINT]["execution_count"] is None
    kept = [i for i, c in enumerate(old) if series.KEEP_TAG in c["metadata"].get("tags", []) and i != CHECKPOINT]
    assert kept and all(new[i]["outputs"] == old[i]["outputs"] != [] for i in kept)
    assert all(new[i]["execution_count"] == old[i]["execution_count"] is not None for i in kept)


def test_a_fresh_build_passes_and_outputs_are_not_compared(fresh):
    assert nbbuild.check_sources(fresh) == []

    def execute(nb):  # what running a notebook in Jupyter adds: none of it comes from a builder
        nb["metadata"]["language_info"].update(version="3.99", mimetype="text/x-python")
        for i, c in enumerate(nb["cells"]):
            c["metadata"]["collapsed"] = False
            if c["cell_type"] == "code":
                c["execution_count"] = i
                c["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["anything\n"]}]

    for p in series.notebooks(fresh):
        _edit(fresh, p.name, execute)
    assert nbbuild.check_sources(fresh) == []


def _set_source(i, old, new):
    def change(nb):
        series.set_source(nb["cells"][i], series.source(nb["cells"][i]).replace(old, new))

    return change


def _untag(nb):
    nb["cells"][CHECKPOINT]["metadata"]["tags"].remove("nbval-check-output")


def _swap(nb):
    nb["cells"][3], nb["cells"][4] = nb["cells"][4], nb["cells"][3]


def _insert(nb):
    nb["cells"].insert(
        5, {"cell_type": "code", "metadata": {}, "source": ["x = 1"], "outputs": [], "execution_count": None}
    )


def _kernel(nb):
    nb["metadata"]["kernelspec"]["name"] = "genlab-env"


def _to_raw(nb):
    nb["cells"][4]["cell_type"] = "raw"


DRIFTS = {
    "checkpoint source": (
        _set_source(CHECKPOINT, '"prompts; first:"', '"prompts, first:"'),
        [
            f"{NB} differs",
            f"cell {CHECKPOINT} (code:",
            "source differs",
            '-print(len(prefixes), "prompts; first:"',
            '+print(len(prefixes), "prompts, first:"',
        ],
    ),
    "markdown line": (
        _set_source(4, "## Prompts and human continuations", "## Prompts and continuations"),
        [
            "cell 4 (markdown: '## Prompts and continuations')",
            "-## Prompts and human continuations",
            "+## Prompts and continuations",
        ],
    ),
    "tag removed": (_untag, [f"cell {CHECKPOINT} ", "metadata differs", "nbval-check-output"]),
    "cell deleted": (lambda nb: nb["cells"].pop(5), ["cell 5 of the build is missing from the committed notebook"]),
    "cell inserted": (_insert, ["committed cell 5 is not in the build", "'x = 1'"]),
    "cells swapped": (_swap, ["committed cell 3 is cell 4 in the build: moved"]),
    "cell type": (_to_raw, ["cell 4 ", "cell_type differs"]),
    "kernelspec": (_kernel, ["notebook kernelspec differs", "genlab-env"]),
    "navigation": (_set_source(1, "Contents", "Index"), ["cell 1 (markdown: '<!-- nav -->')", "series nav"]),
}


@pytest.mark.parametrize("drift", DRIFTS, ids=list(DRIFTS))
def test_the_check_reports_a_drift(fresh, drift, capsys):
    change, expected = DRIFTS[drift]
    _edit(fresh, NB, change)
    problems = nbbuild.check_sources(fresh)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{NB} differs from what tools/notebook_builders/nb20.py writes")
    for text in expected:
        assert text in problems[0], problems[0]
    assert nbbuild.main(["--check", "--dir", str(fresh)]) == 1
    assert problems[0] in capsys.readouterr().out


def test_the_check_reports_missing_and_unbuilt_notebooks(fresh):
    (fresh / NB).unlink()
    shutil.copy(fresh / "21_quality_and_factual_errors.ipynb", fresh / "30_hand_made.ipynb")
    problems = nbbuild.check_sources(fresh)
    assert any(p.startswith(f"{NB}: nb20.py writes it but") for p in problems), problems
    assert any(p.startswith("30_hand_made.ipynb: no builder") for p in problems), problems


def test_a_long_source_diff_is_cut_short(fresh):
    _edit(fresh, NB, lambda nb: series.set_source(nb["cells"][3], "\n".join(f"line {i}" for i in range(50))))
    (problem,) = nbbuild.check_sources(fresh)
    assert "more diff lines" in problem and len(problem.splitlines()) < 25


def test_builders_cells_are_not_shared_with_the_build():
    """write() copies the cells: building twice gives the same notebooks (a builder's lists are not mutated)."""
    a, b = nbbuild.expected(), nbbuild.expected()
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
