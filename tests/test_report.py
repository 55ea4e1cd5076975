"""The evaluation report, end to end: notebooks executed once per module by the report's own executor, then the
page, results.json and the noise check are read back.

Executed here (one fresh kernel each, about 45 s in all on 2 cores):
- a demo notebook written for these tests, with everything the report must handle: a plotly figure whose title and
  hover text try to close the script block, a DataFrame and a Series of paired results, a checkpoint that prints
  markup and a canary secret, library-style noise on stderr, a Limitations section with raw HTML;
- the two cheapest notebooks of the series, ``00_index`` and ``40_evaluation_report``: the noise test runs on what
  the series really prints (40 loads the model, fine-tunes with LoRA, generates, tests and builds a report).
  ``make report`` applies the same check to every notebook and fails on unexpected stderr.
"""

from __future__ import annotations

import json
import re

import pytest

from genlab.report import build, extract, series
from genlab.report.compare import compare_runs
from genlab.report.mask import CANARY_MASK
from genlab.report.render import inspect_report
from genlab.report.results import JSON_SCHEMA, SCHEMA_VERSION, load_results
from genlab.worlds.text import load_world

SECRET = load_world().canaries[0].secret  # a real canary secret: the report must never show it
REAL = ["00_index.ipynb", "40_evaluation_report.ipynb"]  # the series' two cheapest notebooks


def _cell(kind: str, source: str, tags: tuple[str, ...] = ()) -> dict:
    c = {"cell_type": kind, "metadata": {"tags": list(tags)} if tags else {}, "source": source}
    if kind == "code":
        c.update(outputs=[], execution_count=None)
    return c


def write_notebook(path, cells: list[dict]) -> None:
    nb = {
        "cells": cells,
        "nbformat": 4,
        "nbformat_minor": 4,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    }
    path.write_text(json.dumps(nb), encoding="utf-8")


DEMO_CELLS = [
    _cell("markdown", "# 07 · Demo <b>report</b>\nEverything the report must handle."),
    _cell("markdown", "<!-- nav -->"),
    _cell("code", f'N = 2  # realistic: 1_000\nSECRET = "{SECRET}"\nSEED = 0', ("parameters",)),
    _cell(
        "code",
        "import sys\nimport warnings\n\nimport pandas as pd\nimport plotly.graph_objects as go\n\n"
        "from genlab.report import record",
    ),
    _cell("markdown", "## A figure"),
    _cell(
        "code",
        'fig = go.Figure(go.Scatter(x=[1, 2], y=[3, N], text=[SECRET, "</script><b>hover</b>"]))\n'
        'fig.update_layout(title="Loss </script><script>alert(1)</script> by step")\nrecord("loss", fig)',
    ),
    _cell("code", 'record("second", go.Figure(go.Bar(x=["a"], y=[1])).update_layout(title={"text": "Second figure"}))'),
    _cell("markdown", "## Paired results"),
    _cell(
        "code",
        'record("paired", pd.DataFrame({"metric": ["coverage", "rep"], "difference": [0.2, -0.01], '
        '"difference_low": [0.1, -0.05], "difference_high": [0.3, 0.02], "p_value": [0.001, 0.6], '
        '"note": ["<i>model output</i>", SECRET]}))',

    ),
    _cell(
        "code",
        'record("rate", pd.Series({"metric": "rate", "difference": -0.05, "difference_low": -0.1, '
        '"difference_high": 0.01, "p_value": 0.3}))\nrecord("n_twice", 2 * N)',
    ),
    _cell(
        "code",
        'print("<script>alert(1)</script> the secret is", SECRET)\nprint("n =", N)',
        ("keep_output", "nbval-check-output"),
    ),
    _cell("code", 'print("library noise", file=sys.stderr)\nwarnings.warn("careful")'),
    _cell("markdown", "## Limitations\n- **Demo.** <b>raw html</b> stays text.\n\n## Next\nNothing."),
]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The demo notebook (with N injected) and the two cheapest notebooks of the series, executed once, and the
    report built from them."""
    tmp = tmp_path_factory.mktemp("report")
    demo = tmp / "07_demo.ipynb"
    write_notebook(demo, DEMO_CELLS)
    executed = build.run_series([demo], parameters={"N": 5, "NOT_A_PARAMETER": 1})
    executed += build.run_series([series.NOTEBOOK_DIR / name for name in REAL])
    report = build.build_report(executed, tmp / "out")
    return {
        "executed": executed,
        "report": report,
        "page": report.html_path.read_text(encoding="utf-8"),
        "json": json.loads(report.json_path.read_text(encoding="utf-8")),
        "tmp": tmp,
    }


# --- the page --------------------------------------------------------------------------------------------------
def test_every_figure_of_every_notebook_is_in_the_page_in_order(run):
    expected = build.expected_figure_titles(run["executed"])
    page = inspect_report(run["page"])
    assert len(expected) >= 3  # the demo's two and notebook 40's paired plot
    assert page.figure_titles == [title for _, title in expected]
    assert len(page.figure_data) == len(expected)
    # an independent count: one figure <div> and one JSON block per figure
    assert len(re.findall(r'<div class="plotly-figure"', run["page"])) == len(expected)
    assert "LoRA fine-tune minus the default model, same held-out prompts" in page.figure_titles
    # the figure's data is the notebook's own (masked), so plotly.js draws what the notebook showed
    demo_fig = page.figure_data[0]
    assert demo_fig["data"][0]["text"] == [CANARY_MASK, "</script><b>hover</b>"]


def test_plotly_js_is_embedded_once_and_nothing_is_fetched(run):
    from plotly.offline import get_plotlyjs

    page = run["page"]
    assert page.count(get_plotlyjs()) == 1
    assert inspect_report(page).external_scripts == []
    assert '<script src="http' not in page
    # plotly.js itself names a CDN, only to fetch map outlines for geo plots; nothing else in the page does
    assert "cdn.plot.ly" not in page.replace(get_plotlyjs(), "")
    assert not re.search(r"<(link|img|iframe)[^>]+(href|src)=\"https?:", page)


def test_notebook_output_is_escaped_never_markup(run):
    page = run["page"]
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; the secret is" in page  # the checkpoint, as text
    assert "<i>model output</i>" not in page and "&lt;i&gt;model output&lt;/i&gt;" in page  # a table cell
    assert "<b>raw html</b>" not in page and "&lt;b&gt;raw html&lt;/b&gt;" in page  # markdown, raw HTML escaped
    assert "Demo &lt;b&gt;report&lt;/b&gt;" in page  # the title
    # a figure title or hover text cannot end its JSON block
    for block in re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', page, flags=re.S):
        assert "<" not in block
        json.loads(block)


def test_canary_secrets_are_masked_everywhere(run, tmp_path):
    assert SECRET not in run["page"] and SECRET not in json.dumps(run["json"])
    demo = run["report"].results.notebook("07")
    assert CANARY_MASK in demo.checkpoints[0]["text"] and demo.parameters["SECRET"] == CANARY_MASK
    assert [r["note"] for r in demo.tables[0]["records"]] == ["<i>model output</i>", CANARY_MASK]
    # the per-notebook pages that `series report` writes are masked too
    html = series.to_html(build.mask_notebook(run["executed"][0].nb, build.world_masker()))
    assert SECRET not in html
    assert html.count('class="plotly-figure"') == 2 and "Second figure" in html  # drawn on the page itself


def test_the_page_has_each_notebooks_sections_and_provenance(run):
    page = run["page"]
    assert inspect_report(page).notebook_sections == ["nb-07", "nb-00", "nb-40"]
    for text in (
        "Provenance",
        "Data hashes",
        "Package versions",
        "Parameters and wall time per notebook",
        "45cb69ff07df1f2ccba893ffd07c904cfc92b16ea15529758c192eb8a77027bb",  # the default corpus
        'class="limitations"',
        "Limitations",
    ):
        assert text in page
    assert 'id="comparison"' not in page  # only with compare_with


def test_a_saved_run_rebuilds_the_same_report_without_running(run, tmp_path):
    paths = build.save_executed(run["executed"], tmp_path / "executed")
    assert all(SECRET not in p.read_text() for p in paths)
    again = build.build_report(paths, tmp_path / "again", plotly_js="/* plotly */")
    first = run["report"].results
    assert [
        (nb.name, nb.status, nb.wall_time_s, nb.figures, nb.tables, nb.checkpoints) for nb in again.results.notebooks
    ] == [(nb.name, nb.status, nb.wall_time_s, nb.figures, nb.tables, nb.checkpoints) for nb in first.notebooks]
    titles = [t for _, t in build.expected_figure_titles(run["report"].json_path)]  # from results.json alone
    assert (
        inspect_report(again.html_path.read_text()).figure_titles == titles == inspect_report(run["page"]).figure_titles
    )


# --- results.json ------------------------------------------------------------------------------------------------
def test_results_json_follows_its_schema(run):
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(run["json"], JSON_SCHEMA)
    assert run["json"]["schema_version"] == SCHEMA_VERSION == 1
    assert [nb["name"] for nb in run["json"]["notebooks"]] == ["07_demo.ipynb", *REAL]


def test_results_hold_what_each_notebook_showed(run):
    results = run["report"].results
    demo = results.notebook("07_demo.ipynb")
    assert demo.status == "ok" and demo.wall_time_s > 0 and demo.title == "Demo <b>report</b>"
    assert demo.parameters == {"N": 5, "SECRET": CANARY_MASK, "SEED": 0}  # N injected; the unknown name ignored
    assert demo.checkpoints[0]["text"].endswith("n = 5") and demo.checkpoints[0]["section"] == "Paired results"
    assert [f["title"] for f in demo.figures] == ["Loss </script><script>alert(1)</script> by step", "Second figure"]
    assert [f["name"] for f in demo.figures] == ["loss", "second"]
    frame, ser = demo.tables
    assert frame["name"] == "paired" and frame["kind"] == "table" and frame["index_columns"] == ["index"]
    assert frame["records"][0] == {
        "index": 0,
        "metric": "coverage",
        "difference": 0.2,
        "difference_low": 0.1,
        "difference_high": 0.3,
        "p_value": 0.001,
        "note": "<i>model output</i>",
    }
    assert demo.numbers == [{"cell": 10, "section": "Paired results", "name": "n_twice", "value": 10}]
    assert ser["name"] == "rate" and ser["index_columns"] == [] and ser["records"] == [
        {"metric": "rate", "difference": -0.05, "difference_low": -0.1, "difference_high": 0.01, "p_value": 0.3}
    ]
    assert "raw html" in demo.limitations and "Nothing" not in demo.limitations
    nb40 = results.notebook("40")
    assert nb40.parameters["STEPS"] == 30 and nb40.checkpoints and nb40.limitations
    assert any({"difference", "difference_low", "difference_high", "p_value"} <= set(t["columns"]) for t in nb40.tables)


def test_provenance_names_model_data_packages_and_commit(run):
    prov = run["report"].results.provenance
    manifest = json.loads((series.REPO_DIR / "data/models/genlab-tiny-world/manifest.json").read_text())
    model = next(m for m in prov["models"] if m["source"] == "genlab-tiny-world")
    assert model["manifest"]["corpus"]["sha256"] == manifest["corpus"]["sha256"]
    assert "40_evaluation_report.ipynb" in model["notebooks"] and len(model["weights_sha256"]) == 64
    assert manifest["corpus"]["sha256"] in {h["sha256"] for h in prov["data_hashes"]}
    assert {"torch", "transformers", "datasets", "peft", "genlab"} <= {k for k, v in prov["packages"].items() if v}
    assert prov["python"] and len(prov["git"]["commit"] or "0" * 40) == 40 and prov["wall_time_s"] > 0


def test_load_results_refuses_bad_input_clearly(run, tmp_path):
    assert load_results(run["report"].json_path).title == run["report"].results.title
    assert load_results(run["report"].json_path.parent).notebooks  # a folder means its results.json
    with pytest.raises(FileNotFoundError, match="no results file"):
        load_results(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="not JSON"):
        load_results(tmp_path / "bad.json")
    other = dict(run["json"], schema_version=2)
    (tmp_path / "v2.json").write_text(json.dumps(other))
    with pytest.raises(ValueError, match="schema_version 2, but this genlab reads schema_version 1"):
        load_results(tmp_path / "v2.json")
    with pytest.raises(ValueError, match="not a genlab results file"):
        load_results({"notebooks": []})


# --- noise -------------------------------------------------------------------------------------------------------
def test_the_series_notebooks_write_nothing_unexpected_on_stderr(run):
    by_name = {r.name: r for r in run["executed"]}
    for name in REAL:
        assert by_name[name].status == "ok", by_name[name].error
        assert extract.notebook_noise(by_name[name].nb) == [], f"{name} writes library noise; fix it at its cause"


def test_the_noise_check_sees_stderr_and_warnings(run):
    noise = extract.notebook_noise(run["executed"][0].nb)
    assert noise[0] == "cell 12: library noise"  # cell 3 is the injected parameters
    assert re.match(r"cell 12: .*UserWarning: careful$", noise[1]) and len(noise) == 2  # its source line skipped
    assert run["report"].noise == {"07_demo.ipynb": noise}
    assert "2 unexpected stderr line(s)" in run["page"]
    allowed = {
        "cells": [
            {
                "cell_type": "code",
                "source": "",
                "metadata": {},
                "outputs": [
                    {
                        "output_type": "stream",
                        "name": "stderr",
                        "text": "[IPKernelApp] WARNING | Kernel is running over TCP without encryption.\n",
                    }
                ],
            }
        ]
    }
    assert extract.notebook_noise(allowed) == []


def test_the_report_command_fails_on_noise_and_errors(tmp_path, capsys):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    write_notebook(
        nbs / "01_noisy.ipynb",
        [
            _cell("markdown", "# 01 · Noisy\nWrites on stderr, then fails."),
            _cell("markdown", "<!-- nav -->"),
            _cell("code", "N = 1", ("parameters",)),
            _cell("code", 'import sys\nprint("oops", file=sys.stderr)\nraise ValueError("<b>bad</b>")'),
        ],
    )
    code = series.main(["report", "--dir", str(nbs), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1 and "01_noisy.ipynb cell 3: oops" in err and "ALLOWED_STDERR" in err
    results = load_results(tmp_path / "out")
    nb = results.notebook("01")
    assert nb.status == "failed: CellExecutionError" and nb.errors[0]["ename"] == "ValueError"
    page = (tmp_path / "out" / "report.html").read_text()
    assert "Error in cell 3: ValueError" in page and "<b>bad</b>" not in page
    assert {"index.html", "01_noisy.html", "report.html", "results.json"} <= {
        p.name for p in (tmp_path / "out").iterdir()
    }
    assert 'href="report.html"' in (tmp_path / "out" / "index.html").read_text()


# --- comparing runs -------------------------------------------------------------------------------------------------
def test_compare_two_runs_of_the_same_series(run, tmp_path):
    a = run["json"]
    b = json.loads(json.dumps(a))
    demo = b["notebooks"][0]
    demo["parameters"]["N"] = "<b>7</b>"  # text from a run file is shown escaped
    demo["checkpoints"][0]["text"] = demo["checkpoints"][0]["text"].replace("n = 5", "n = 7")
    demo["tables"][0]["records"][1].update(difference=-0.2, difference_low=-0.3, difference_high=-0.1)
    (tmp_path / "b.json").write_text(json.dumps(b))
    c = compare_runs(run["report"].json_path, tmp_path / "b.json")
    assert c.parameters.to_dict("records") == [
        {"notebook": "07_demo.ipynb", "parameter": "N", "a": "5", "b": "<b>7</b>"}
    ]
    assert c.checkpoints.loc[0, "diff"] == "-n = 5\n+n = 7"
    changed = c.numbers[c.numbers.notebook == "07_demo.ipynb"].set_index("column")
    assert changed.loc["difference", "b"] == -0.2 and changed.loc["difference", "change"] == pytest.approx(-0.19)
    verdicts = c.paired[c.paired.notebook == "07_demo.ipynb"].set_index("comparison")
    assert verdicts.loc["metric=rep", "verdict_a"] == "no detectable difference"
    assert verdicts.loc["metric=rep", "verdict_b"] == "below 0"
    assert verdicts.loc["metric=coverage", "verdict_b"] == "above 0"
    assert c.summary()["changed_verdicts"] == 1
    section = c.to_html()
    assert "<b>7</b>" not in section and "&lt;b&gt;7&lt;/b&gt;" in section
    # the same run against itself: nothing differs
    same = compare_runs(run["report"].json_path, run["report"].json_path).summary()
    assert same["parameters"] == same["checkpoints"] == same["numbers"] == same["changed_verdicts"] == 0


def test_a_report_can_carry_a_comparison_and_the_cli_compares(run, tmp_path):
    report = build.build_report(
        [run["executed"][0]], tmp_path / "cmp", compare_with=run["report"].json_path, plotly_js="/* plotly */"
    )
    page = report.html_path.read_text()
    assert 'id="comparison"' in page and "Paired verdicts" in page and SECRET not in page
    out = tmp_path / "compare.html"
    assert series.main(["compare", str(run["report"].json_path), str(report.json_path), "--out", str(out)]) == 0
    assert "Comparison with another run" in out.read_text()
