"""`make report`'s engine: executes notebooks into HTML pages and an index, escaping what they print."""

from __future__ import annotations

import json

from genlab.report import series


def _notebook(path, code: str, title: str = "Demo") -> None:
    path.write_text(
        json.dumps(
            {
                "cells": [
                    {
                        "cell_type": "markdown",
                        "metadata": {},
                        "source": f"# {path.name[:2]} · {title}\nA <b>summary</b>.",
                    },
                    {"cell_type": "markdown", "metadata": {}, "source": "<!-- nav -->"},
                    {
                        "cell_type": "code",
                        "metadata": {"tags": ["parameters"]},
                        "source": "N = 2",
                        "outputs": [],
                        "execution_count": None,
                    },
                    {"cell_type": "code", "metadata": {}, "source": code, "outputs": [], "execution_count": None},
                ],
                "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
                "nbformat": 4,
                "nbformat_minor": 4,
            }
        )
    )


def test_report_writes_pages_and_an_index_and_escapes_output(tmp_path):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    _notebook(nbs / "01_ok.ipynb", "print('<script>alert(1)</script>' * N)")
    _notebook(nbs / "02_broken.ipynb", "raise RuntimeError('boom')", title="Broken")
    failed = series.report(tmp_path / "out", directory=nbs)
    assert failed == 1
    page = (tmp_path / "out" / "01_ok.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)</script>" not in page
    index = (tmp_path / "out" / "index.html").read_text()
    assert (
        'href="01_ok.html"' in index
        and "failed: " in index
        and "&lt;b&gt;summary&lt;/b&gt;" in index
        and "<b>summary</b>" not in index
    )
    assert (tmp_path / "out" / "02_broken.html").exists()


def test_navigation_links_neighbours(tmp_path):
    for name in ("01_a.ipynb", "02_b.ipynb", "03_c.ipynb"):
        _notebook(tmp_path / name, "1")
    series.update_navigation(tmp_path)
    nav = series.source(series.read(tmp_path / "02_b.ipynb")["cells"][1])
    assert "(01_a.ipynb)" in nav and "(03_c.ipynb)" in nav and "(00_index.ipynb)" in nav
