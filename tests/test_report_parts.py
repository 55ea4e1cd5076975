"""The report's parts on hand-made inputs (nothing executed): what record() stores for a table, masking, the
readers of a notebook's JSON, run comparison and the HTML it renders."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from genlab.report import extract
from genlab.report.compare import compare_runs, paired_verdicts, plot_paired, verdict
from genlab.report.mask import CANARY_MASK, PII_MASK, Masker, world_masker
from genlab.report.recording import RECORD_MIME, record_data, recorded, records
from genlab.report.render import inspect_report, render_report, script_json, table_html
from genlab.report.results import NotebookResult, RunResults


# --- recorded tables -------------------------------------------------------------------------------------------
def _output(rec: dict) -> dict:
    return {"output_type": "display_data", "metadata": {}, "data": {"text/plain": "...", RECORD_MIME: rec}}


def test_a_recorded_table_holds_the_frame_index_first():
    df = pd.DataFrame(
        {
            "system": ["greedy", "nucleus"],
            "rep_2": [12.5, 3.25],
            "rep_2_low": [10.0, np.nan],
            "n": np.array([16, 16], dtype=np.int64),
            "ok": [True, False],
        }
    ).set_index("system")
    rec = record_data("rep", df)
    assert rec["kind"] == "table" and rec["data"]["index_columns"] == ["system"]
    assert rec["data"]["columns"] == ["system", "rep_2", "rep_2_low", "n", "ok"]
    assert rec["data"]["records"] == [
        {"system": "greedy", "rep_2": 12.5, "rep_2_low": 10.0, "n": 16, "ok": True},
        {"system": "nucleus", "rep_2": 3.25, "rep_2_low": None, "n": 16, "ok": False},
    ]
    back = records({"cells": [{"cell_type": "code", "source": "", "metadata": {}, "outputs": [_output(rec)]}]})
    pd.testing.assert_frame_equal(back["rep"], df, check_dtype=False)


def test_multiindex_rows_and_columns_are_flattened():
    rows = pd.MultiIndex.from_product([["greedy", "beam"], [1, 2]], names=["system", "seed"])
    cols = pd.MultiIndex.from_tuples([("score", "mean"), ("score", "low"), ("claims", "n")])
    data = record_data("t", pd.DataFrame(np.arange(12).reshape(4, 3), index=rows, columns=cols))["data"]
    assert data["index_columns"] == ["system", "seed"]
    assert data["columns"] == ["system", "seed", "score / mean", "score / low", "claims / n"]
    assert data["records"][1] == {"system": "greedy", "seed": 2, "score / mean": 3, "score / low": 4, "claims / n": 5}


def test_cells_are_escaped_and_masked_when_rendered():
    df = pd.DataFrame({"text": ["<img src=x onerror=alert(1)>", "call 555-0497-9980"]})
    html = table_html(record_data("t", df)["data"], Masker(["555-0497-9980"]))
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "555-0497-9980" not in html and CANARY_MASK in html


def test_a_series_records_as_one_row_and_other_values_are_refused():
    row = {"metric": "coherence", "a": "greedy", "b": "nucleus0.95", "difference": 0.0123, "difference_low": -0.02,
           "difference_high": 0.05, "p_value": 0.4, "n": 16}
    data = record_data("s", pd.Series(row))["data"]
    assert data["records"] == [row] and data["index_columns"] == []
    assert record_data("n", np.float64(0.25)) == {"name": "n", "kind": "number", "data": 0.25}
    assert record_data("fig", __import__("plotly.graph_objects").graph_objects.Figure())["kind"] == "figure"
    with pytest.raises(TypeError, match="takes a DataFrame"):
        record_data("d", {"a": 1})
    with pytest.raises(ValueError, match="record name"):
        record_data("has space", 1)


# --- masking -------------------------------------------------------------------------------------------------------
def test_every_canary_secret_and_planted_pii_shape_is_masked():
    world = __import__("genlab").load_world()
    m = world_masker(world)
    for c in world.canaries:
        assert c.secret not in m(c.text) and CANARY_MASK in m(c.text)
    for pii in ("(555) 123-4567", "555.123.4567", "+1 555 123 4567", "0555 123 456", "mira.ashdown@fenmail.example"):
        assert m(f"reach me at {pii}, thanks") == f"reach me at {PII_MASK}, thanks"
    for fine in ("p = 0.555", "5551234", "n = 555", "see genlab.example.org"):
        assert m(fine) == fine


# --- reading notebooks ---------------------------------------------------------------------------------------------
def test_parameters_and_limitations_are_read_from_cells():
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {"tags": ["parameters"]},
                "outputs": [],
                "source": [
                    "MODEL = 'genlab-tiny-world'  # a local folder\n",
                    "CONFIGS = ['greedy', 'beam4']\n",
                    "N: int = 16\n",
                    "PATH = Path('x')",
                ],
            },
            {"cell_type": "code", "metadata": {"tags": ["injected-parameters"]}, "outputs": [], "source": "N = 200"},
            {"cell_type": "markdown", "metadata": {}, "source": "## Limitations\n- one\n"},
            {
                "cell_type": "markdown",
                "metadata": {},
                "source": "- two (a second cell)\n\n### Detail\nstill in\n## Next",
            },
        ]
    }
    assert extract.parameters(nb) == {
        "MODEL": "genlab-tiny-world",
        "CONFIGS": ["greedy", "beam4"],
        "N": 200,
        "PATH": "Path('x')",
    }
    assert extract.limitations(nb) == "- one\n\n- two (a second cell)\n\n### Detail\nstill in"


def test_checkpoints_records_and_hashes_from_outputs():
    digest = "ab" * 32
    nb = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": "# 01 · T\n## Section one"},
            {
                "cell_type": "code",
                "metadata": {"tags": ["keep_output", "nbval-check-output"]},
                "source": "",
                "outputs": [
                    {"output_type": "stream", "name": "stdout", "text": ["a\n", f"corpus sha256 {digest}\n"]},
                    {"output_type": "execute_result", "data": {"text/plain": "42"}, "metadata": {}},
                ],
            },
            {
                "cell_type": "code",
                "metadata": {},
                "source": "",
                "outputs": [
                    _output(record_data("x", pd.DataFrame({"x": [1]}))),
                    {"output_type": "execute_result", "metadata": {},  # shown, not recorded: not read
                     "data": {"text/html": pd.DataFrame({"y": [2]})._repr_html_(), "text/plain": "..."}},
                    {"output_type": "display_data", "metadata": {}, "data": {"text/html": "<b>not a table</b>"}},
                ],
            },
        ]
    }
    assert [(c.cell, c.section, c.text) for c in extract.checkpoints(nb)] == [
        (1, "Section one", f"a\ncorpus sha256 {digest}\n42")
    ]
    assert [(r.cell, r.section, r.name, r.kind, r.data["records"]) for r in recorded(nb)] == [
        (2, "Section one", "x", "table", [{"index": 0, "x": 1}])
    ]
    assert extract.data_hashes(nb) == [{"cell": 1, "sha256": digest, "context": f"corpus sha256 {digest}"}]


# --- comparing and rendering -------------------------------------------------------------------------------------
def _run(difference: float, model: str) -> RunResults:
    table = {
        "cell": 5,
        "section": "Paired",
        "kind": "dataframe",
        "index_columns": ["index"],
        "columns": ["index", "metric", "a", "b", "difference", "difference_low", "difference_high", "p_value", "n"],
        "records": [
            {
                "index": 0,
                "metric": "coverage",
                "a": "lora",
                "b": "default",
                "difference": difference,
                "difference_low": difference - 0.1,
                "difference_high": difference + 0.1,
                "p_value": 0.01,
                "n": 24,
            }
        ],
    }
    nb = NotebookResult(
        "40_x.ipynb",
        "40",
        "X",
        parameters={"MODEL": model},
        tables=[table],
        checkpoints=[{"cell": 6, "section": "Paired", "text": f"better: {difference > 0.1}"}],
    )
    prov = {
        "models": [{"source": model, "weights_sha256": model * 2, "notebooks": ["40_x.ipynb"]}],
        "git": {"commit": "abc"},
        "packages": {"torch": "2.13.0"},
    }
    return RunResults("run", "2026-01-01T00:00:00+00:00", prov, [nb])


def test_paired_verdicts_and_the_comparison_of_two_models():
    a, b = _run(0.05, "genlab-tiny-world"), _run(0.25, "runs/lora")
    v = paired_verdicts(b)
    assert v.loc[0, "comparison"] == "coverage: lora - default" and v.loc[0, "verdict"] == "above 0"
    c = compare_runs(a, b, label_a="default", label_b="lora")
    assert c.parameters.loc[0, ["a", "b"]].tolist() == ["genlab-tiny-world", "runs/lora"]
    assert c.checkpoints.loc[0, "diff"] == "-better: False\n+better: True"
    assert set(c.numbers["column"]) == {"difference", "difference_low", "difference_high"}
    assert c.paired.loc[0, ["verdict_a", "verdict_b"]].tolist() == ["no detectable difference", "above 0"]
    assert "model runs/lora" in set(c.provenance["field"])
    assert c.summary() == {
        "parameters": 1,
        "checkpoints": 1,
        "numbers": 3,
        "paired": 1,
        "changed_verdicts": 1,
        "provenance": 2,
    }


def test_compare_runs_names_the_problem_with_its_inputs(tmp_path):
    with pytest.raises(FileNotFoundError):
        compare_runs(tmp_path / "a.json", tmp_path / "b.json")
    with pytest.raises(ValueError, match="schema_version"):
        compare_runs({"schema_version": 0}, _run(0.1, "m"))


def test_verdict_and_forest_plot():
    assert [verdict(*x) for x in [(0.01, 0.2), (-0.2, -0.01), (-0.1, 0.1), (0.0, 0.1)]] == [
        "above 0",
        "below 0",
        "no detectable difference",
        "no detectable difference",
    ]
    df = pd.DataFrame(
        {
            "metric": ["coverage", "seq_rep_4"],
            "difference": [0.2, -0.2],
            "difference_low": [0.1, -0.3],
            "difference_high": [0.3, -0.1],
            "p_value": [0.001, 0.002],
        }
    )
    fig = plot_paired(df)
    assert list(fig.data[0].y) == ["coverage", "seq_rep_4"] and fig.layout.xaxis.title.text
    assert list(fig.data[0].error_x.array) == pytest.approx([0.1, 0.1])
    with pytest.raises(ValueError, match="difference_low"):
        plot_paired(df.drop(columns="difference_low"))


def test_render_embeds_plotly_once_and_keeps_figure_json_inert():
    fig = {
        "data": [{"type": "bar", "x": ["</script><script>alert(1)</script>"], "y": [1]}],
        "layout": {"title": {"text": "A & B </script>"}},
    }
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "source": "",
                "outputs": [_output({"name": "fig", "kind": "figure", "data": fig})],
            }
        ]
    }
    results = RunResults("t", "2026-01-01T00:00:00+00:00", {}, [NotebookResult("01_a.ipynb", "01", "A")])
    page = render_report(results, {"01_a.ipynb": nb}, plotly_js="/*PLOTLY*/")
    p = inspect_report(page)
    assert page.count("/*PLOTLY*/") == 1 and p.external_scripts == []
    assert p.figure_titles == ["A & B </script>"] and p.figure_data == [fig]
    assert "</script><script>alert(1)" not in page
    assert script_json("</") == '"\\u003c/"'
