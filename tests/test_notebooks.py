"""Notebook hygiene: names, anatomy, navigation up to date, committed without stray outputs."""

from __future__ import annotations

import json

import pytest

from genlab.report import series

NOTEBOOKS = series.notebooks()


def test_there_is_a_series_with_an_index():
    names = [p.name for p in NOTEBOOKS]
    assert names[0] == "00_index.ipynb" and "01_data_and_pretraining.ipynb" in names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_anatomy(path):
    assert series.hygiene(path) == []


def test_navigation_and_index_are_current(tmp_path):
    import shutil

    for p in NOTEBOOKS:
        shutil.copy(p, tmp_path / p.name)
    assert series.update_navigation(tmp_path) == [], "run `python -m genlab.report.series nav`"


def test_every_notebook_is_in_the_index():
    index = "".join(series.source(c) for c in series.read(NOTEBOOKS[0])["cells"])
    for p in NOTEBOOKS[1:]:
        assert f"]({p.name})" in index


def test_hygiene_catches_problems(tmp_path):
    bad = tmp_path / "7_Bad Name.ipynb"
    bad.write_text(
        json.dumps(
            {
                "cells": [
                    {
                        "cell_type": "code",
                        "metadata": {},
                        "source": "1",
                        "outputs": [{"output_type": "stream", "name": "stdout", "text": "1"}],
                        "execution_count": 3,
                    }
                ],
                "metadata": {},
                "nbformat": 4,
                "nbformat_minor": 4,
            }
        )
    )
    problems = " ".join(series.hygiene(bad))
    for expected in ("NN_snake_case", "first cell", "navigation", "parameters", "execution count", "keep_output"):
        assert expected in problems


def test_a_notebook_cell_that_writes_unexplained_stderr_fails(tmp_path):
    """notebooks/conftest.py turns unexplained stderr of a cell into a failure under nbval."""
    import shutil
    import subprocess
    import sys

    shutil.copy(series.NOTEBOOK_DIR / "conftest.py", tmp_path / "conftest.py")
    cells = [
        {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
         "source": "import sys\nsys.stderr.write('WARNING a library line nobody can act on\\n')"},
        {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": "print('quiet')"},
    ]
    nb = {"cells": cells, "nbformat": 4, "nbformat_minor": 4,
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}}
    (tmp_path / "noisy.ipynb").write_text(json.dumps(nb))
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
                          "--nbval-lax", "--nbval-current-env", "noisy.ipynb"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stdout
    assert "WARNING a library line nobody can act on" in run.stdout and "1 failed, 1 passed" in run.stdout
