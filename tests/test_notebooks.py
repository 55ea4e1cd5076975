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
