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


def test_pages_need_no_network_and_parameters_go_through_papermill(tmp_path):
    """``series report -p NAME=VALUE`` injects through papermill (its ``injected-parameters`` cell); the notebook's
    page loads nothing from another machine (no require.js, MathJax or CDN plotly) and inlines plotly.js once."""
    from html.parser import HTMLParser

    from genlab.report.results import load_results

    nbs = tmp_path / "nbs"
    nbs.mkdir()
    _notebook(nbs / "01_fig.ipynb", "import plotly.graph_objects as go\nfrom genlab.report import record\n"
              "record('bars', go.Figure(go.Bar(y=[N, 1])).update_layout(title='Bars'))\nrecord('n', N)")
    assert series.main(["report", "--dir", str(nbs), "--out", str(tmp_path / "out"), "-p", "N=7", "-p", "X=1"]) == 0
    nb = load_results(tmp_path / "out").notebook("01")
    assert nb.parameters == {"N": 7} and nb.numbers[0]["value"] == 7 and nb.figures[0]["name"] == "bars"
    executed = json.loads((tmp_path / "out" / "executed" / "01_fig.ipynb").read_text())
    assert [c["metadata"].get("tags") for c in executed["cells"]][2:4] == [["parameters"], ["injected-parameters"]]

    class Links(HTMLParser):
        found: list[str] = []

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag in ("script", "link", "img", "iframe") and (a.get("src") or a.get("href")):
                self.found.append(f"{tag} {a.get('src') or a.get('href')}")

    for page in ("01_fig.html", "report.html"):
        text = (tmp_path / "out" / page).read_text()
        links = Links()
        links.feed(text)
        assert links.found == [], (page, links.found)
        assert text.count("Plotly.newPlot(div") == 1 and text.count("plotly.js v") == 1  # drawn; the library once
