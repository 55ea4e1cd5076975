"""`make report-full`: full-size parameter sets, checkpointed runs, provenance, and stale-result detection.

The runs use a throwaway notebook written to tmp_path (a parameters cell, a table, a figure, a checkpoint), not the
study notebooks; the last tests check the real params.json and any committed full-size results.
"""

from __future__ import annotations

import csv
import hashlib
import json

import pytest

from genlab.report import full


def _nb(code: str = "result = N * 3", params: str = "N = 2\nSEED = 0\nLABEL = 'ci'", intro: str = "A demo.") -> dict:
    def code_cell(src, tags=()):
        return {"cell_type": "code", "metadata": {"tags": list(tags)}, "source": src, "outputs": [],
                "execution_count": None}  # fmt: skip

    return {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": f"# 01 · Demo\n{intro}"},
            code_cell(params, ["parameters"]),
            code_cell(code),
            {"cell_type": "markdown", "metadata": {}, "source": "## Result"},
            code_cell(
                "import pandas as pd\nfrom genlab.report import record\n"
                "record('result', pd.DataFrame({'n': [N], 'total': [result]}).set_index('n'))"
            ),
            code_cell(
                "import plotly.graph_objects as go\n"
                "record('demo_figure', go.Figure(layout={'title': {'text': 'Demo'}}))"
            ),
            code_cell("print('sum', sum(range(N)))", ["keep_output", "nbval-check-output"]),
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 4,
    }


@pytest.fixture
def demo(tmp_path):
    """A notebook folder with 01_demo.ipynb, whose code appends a line to runs.txt each time it runs, and a results
    folder with its params.json (N = 5 at full size)."""
    nbs, out = tmp_path / "nbs", tmp_path / "out"
    nbs.mkdir()
    out.mkdir()
    counter = tmp_path / "runs.txt"
    code = f"open({str(counter)!r}, 'a').write(f'{{N}}\\n')\nresult = N * 3\nassert N != 7, 'seven fails'"
    (nbs / "01_demo.ipynb").write_text(json.dumps(_nb(code)), encoding="utf-8")
    _params(out, {"N": 5})
    return nbs, out, counter, code


def _params(out, parameters, power="n = 5 is plenty for a demo", name="01_demo.ipynb"):
    (out / "params.json").write_text(json.dumps({name: {"parameters": parameters, "power": power}}), encoding="utf-8")


def _runs(counter) -> list[str]:
    return counter.read_text().split() if counter.exists() else []


# --- the parameter sets ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("entry", "error", "message"),
    [
        ({"parameters": {"N_PROMPTS": 5}, "power": "x"}, ValueError, "['N_PROMPTS'] not defined"),
        ({"parameters": {"N": 2}, "power": "x"}, ValueError, "['N'] equal the CI defaults"),
        ({"parameters": {"LABEL": "ci"}, "power": "x"}, ValueError, "equal the CI defaults"),
        ({"parameters": {"N": 5}, "power": " "}, ValueError, "'power' must say why"),
        ({"parameters": {"N": 5}}, ValueError, "expected {'parameters'"),
        ({"parameters": {"N": 5}, "power": "x", "size": 3}, ValueError, "expected {'parameters'"),
        ({"parameters": {}, "power": "x"}, ValueError, "non-empty object"),
        ({"parameters": {"N": 5}, "power": "x", "notes": 3}, ValueError, "'notes' must be a string"),
    ],
)
def test_bad_parameter_sets_are_refused_with_the_reason(demo, entry, error, message):
    nbs, out, _, _ = demo
    (out / "params.json").write_text(json.dumps({"01_demo.ipynb": entry}))
    with pytest.raises(error, match=None) as e:
        full.full_size_params(out / "params.json", nbs)
    assert message in str(e.value)


def test_a_missing_notebook_file_or_parameters_cell_is_refused(demo, tmp_path):
    nbs, out, _, _ = demo
    _params(out, {"N": 5}, name="02_gone.ipynb")
    with pytest.raises(FileNotFoundError, match="no such notebook"):
        full.full_size_params(out / "params.json", nbs)
    nb = _nb()
    nb["cells"][1]["metadata"]["tags"] = []
    (nbs / "02_gone.ipynb").write_text(json.dumps(nb))
    with pytest.raises(ValueError, match="0 code cells tagged 'parameters'"):
        full.full_size_params(out / "params.json", nbs)
    (out / "params.json").write_text("{not json")
    with pytest.raises(ValueError, match="is not JSON"):
        full.full_size_params(out / "params.json", nbs)
    with pytest.raises(FileNotFoundError, match="no full-size parameter file"):
        full.full_size_params(tmp_path / "nowhere.json", nbs)


def test_valid_parameter_sets_are_returned_with_their_notes(demo):
    nbs, out, _, _ = demo
    (out / "params.json").write_text(
        json.dumps({"_about": "free text", "01_demo.ipynb": {"parameters": {"N": 5, "LABEL": None}, "power": "p"}})
    )
    assert full.full_size_params(out / "params.json", nbs) == {
        "01_demo.ipynb": {"parameters": {"N": 5, "LABEL": None}, "power": "p", "notes": ""}
    }


def test_hashes_cover_the_effective_parameters_and_the_code_cells():
    nb = _nb()
    expected = hashlib.sha256(json.dumps({"LABEL": "ci", "N": 5, "SEED": 0}, sort_keys=True).encode()).hexdigest()
    assert full.params_hash(nb, {"N": 5}) == expected
    # a changed CI default of an overridden parameter changes nothing; of another parameter, it does
    assert full.params_hash(_nb(params="N = 3\nSEED = 0\nLABEL = 'ci'"), {"N": 5}) == expected
    assert full.params_hash(_nb(params="N = 2\nSEED = 1\nLABEL = 'ci'"), {"N": 5}) != expected
    code = [full._unrecorded(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"][1:]
    assert full.code_hash(nb) == hashlib.sha256(json.dumps(code).encode()).hexdigest()
    assert full.code_hash(_nb(intro="Other prose.")) == full.code_hash(nb)  # markdown is not code
    assert full.code_hash(_nb(code="result = N * 4")) != full.code_hash(nb)
    # naming a result for the report is not a change of the study
    named = _nb(code="from genlab.report import record\nresult = N * 3\nrecord('result', result)")
    assert full.code_hash(named) == full.code_hash(_nb(code="result = N * 3\nresult"))


def test_committed_tables_are_found_by_the_name_the_notebook_records():
    """Every committed_table("NN", name) call in the notebooks names a table their committed results hold."""
    import re

    for path in sorted(full.NOTEBOOK_DIR.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        names = re.findall(r'committed_table\("(\d\d)", "([^"]+)"\)', text) + [
            (path.name[:2], n) for loop in re.findall(r"for name in \(([^)]*)\):\n\s+display\(committed_table", text)
            for n in re.findall(r'"([^"]+)"', loop)
        ]
        for number, name in names:
            folder = next(full.RESULTS_DIR.glob(f"{number}_*"))
            [committed] = json.loads((folder / "results.json").read_text())["notebooks"]
            recorded = {t.get("name") for t in committed["tables"]}
            assert name in recorded, f"{path.name}: committed_table({number!r}, {name!r}) but {folder} has {recorded}"


# --- running, checkpointing, provenance -------------------------------------------------------------------------------
def test_a_run_writes_results_and_provenance_and_is_skipped_while_current(demo):
    nbs, out, counter, code = demo
    lines = []
    [run] = full.run_full(out=out, notebook_dir=nbs, log=lines.append)
    assert run.status == "ok" and _runs(counter) == ["5"]
    folder = out / "01_demo"
    prov = json.loads((folder / "provenance.json").read_text())
    assert prov["status"] == "ok" and prov["notebook"] == "01_demo.ipynb"
    assert prov["settings"] == {"N": 5, "SEED": 0, "LABEL": "ci"} and prov["overrides"] == {"N": 5}
    assert prov["seeds"] == {"SEED": 0} and prov["power"] == "n = 5 is plenty for a demo"
    nb = json.loads((nbs / "01_demo.ipynb").read_text())
    assert prov["params_sha256"] == full.params_hash(nb, {"N": 5}) and prov["code_sha256"] == full.code_hash(nb)
    assert prov["wall_s_notebook"] > 0 and prov["wall_s_this_invocation"] >= prov["wall_s_notebook"]
    assert {"commit", "git", "machine", "python", "torch", "cpu_count", "finished", "command"} <= set(prov)
    # results.json as `series report` writes it, made with the injected parameters
    results = json.loads((folder / "results.json").read_text())
    [res] = results["notebooks"]
    assert res["parameters"] == {"N": 5, "SEED": 0, "LABEL": "ci"} and res["status"] == "ok"
    assert [c["text"] for c in res["checkpoints"]] == ["sum 10"]  # sum(range(5)): the run used N = 5
    assert [(t["name"], t["section"]) for t in res["tables"]] == [("result", "Result")]
    with (folder / "tables" / "result.csv").open() as f:
        assert list(csv.reader(f)) == [["n", "total"], ["5", "15"]]
    assert json.loads((folder / "figures" / "demo_figure.json").read_text())["layout"]["title"]["text"] == "Demo"
    assert (folder / "01_demo.ipynb").is_file()
    assert not list(out.glob(".*"))  # no temporary folder left
    # a second run finds the results current and does not execute the notebook
    [again] = full.run_full(out=out, notebook_dir=nbs, log=lines.append)
    assert again.status == "skipped (current)" and _runs(counter) == ["5"]
    assert full.is_current("01", out=out, notebook_dir=nbs)
    assert any("skipped" in line for line in lines)


def test_changed_parameters_or_code_make_results_stale_and_a_rerun_replaces_them(demo):
    nbs, out, counter, code = demo
    full.run_full(out=out, notebook_dir=nbs, log=lambda _: None)
    assert [s.state for s in full.check(out, notebook_dir=nbs)] == ["current"]
    # markdown edits leave the results current
    (nbs / "01_demo.ipynb").write_text(json.dumps(_nb(code, intro="Reworded.")))
    assert full.is_current("01_demo", out=out, notebook_dir=nbs)
    # a failed rerun keeps the earlier results and saves the failed notebook aside
    _params(out, {"N": 7})
    assert [s.state for s in full.check(out, notebook_dir=nbs)] == ["stale: parameters changed"]
    [failed] = full.run_full(out=out, notebook_dir=nbs, log=lambda _: None)
    assert failed.status.startswith("failed") and (out / "_failed" / "01_demo.ipynb").is_file()
    assert json.loads((out / "01_demo" / "provenance.json").read_text())["overrides"] == {"N": 5}
    assert not full.is_current("01", out=out, notebook_dir=nbs)
    # a successful rerun replaces them
    _params(out, {"N": 6})
    [rerun] = full.run_full(out=out, notebook_dir=nbs, log=lambda _: None)
    assert rerun.status == "ok" and _runs(counter) == ["5", "7", "6"]
    assert json.loads((out / "01_demo" / "provenance.json").read_text())["settings"]["N"] == 6
    assert full.is_current("01", out=out, notebook_dir=nbs)
    # changed code: stale until rerun; --force reruns even current results
    (nbs / "01_demo.ipynb").write_text(json.dumps(_nb(code + "\nresult = result + 1")))
    assert [s.state for s in full.check(out, notebook_dir=nbs)] == ["stale: code changed"]
    assert full.main(["--check", "--out", str(out), "--dir", str(nbs)]) == 1
    (nbs / "01_demo.ipynb").write_text(json.dumps(_nb(code)))
    assert full.main(["--check", "--out", str(out), "--dir", str(nbs)]) == 0
    [forced] = full.run_full(out=out, notebook_dir=nbs, force=True, log=lambda _: None)
    assert forced.status == "ok" and _runs(counter) == ["5", "7", "6", "6"]


def test_check_reports_missing_and_orphaned_results(demo, capsys):
    nbs, out, _, _ = demo
    assert [(s.notebook, s.state) for s in full.check(out, notebook_dir=nbs)] == [("01_demo.ipynb", "missing")]
    assert full.main(["--check", "--out", str(out), "--dir", str(nbs)]) == 0  # missing is allowed
    (out / "09_old").mkdir()
    (out / "09_old" / "provenance.json").write_text("{}")
    assert [s.state for s in full.check(out, notebook_dir=nbs)] == ["missing", "stale: not in params.json"]
    assert full.main(["--check", "--out", str(out), "--dir", str(nbs)]) == 1
    _params(out, {"NOPE": 1})
    assert full.main(["--check", "--out", str(out), "--dir", str(nbs)]) == 2
    assert "['NOPE'] not defined" in capsys.readouterr().err
    with pytest.raises(ValueError, match="no full-size parameters for notebook '02'"):
        _params(out, {"N": 5})
        full.run_full(["02"], out=out, notebook_dir=nbs)


def test_committed_results_are_labelled_and_none_when_absent(demo, capsys):
    nbs, out, counter, code = demo
    assert full.committed_results("01", out=out, notebook_dir=nbs) is None
    assert "No committed full-size results for 01_demo.ipynb" in capsys.readouterr().out
    full.run_full(out=out, notebook_dir=nbs, log=lambda _: None)
    res = full.committed_results("01", out=out, notebook_dir=nbs)
    assert res["current"] and res["label"].startswith("FULL-SIZE results (committed, not this run): N=5;")
    assert res["settings"]["N"] == 5 and res["checkpoints"][0]["text"] == "sum 10"
    table = full.committed_table("01", "result", out=out, notebook_dir=nbs)
    assert table.index.name == "n" and table.loc[5, "total"] == 15 and table.attrs["label"] == res["label"]
    with pytest.raises(KeyError, match="recorded no table 'Result'; it recorded \\['result'\\]"):
        full.committed_table("01", "Result", out=out, notebook_dir=nbs)  # by the recorded name, not the heading
    _params(out, {"N": 6})
    stale = full.committed_results("01_demo.ipynb", out=out, notebook_dir=nbs)
    assert not stale["current"] and stale["label"].startswith("STALE (parameters changed since they were made)")
    assert "are stale" in capsys.readouterr().out


# --- the real parameter file and committed results -------------------------------------------------------------------
def test_the_full_size_parameter_file_fits_the_notebooks():
    """Every notebook and parameter that results/full_size/params.json names exists in the notebooks' parameters
    cells, and every value differs from its CI default (``full_size_params`` raises otherwise)."""
    specs = full.full_size_params()
    assert specs, "results/full_size/params.json lists no notebook"


def test_committed_full_size_results_match_the_current_parameters_and_code():
    """Every notebook that params.json lists has committed results in results/full_size/<notebook>/, made with the
    current parameter set and code cells. It fails when a result is missing or goes stale: rerun
    `python -m genlab.report.full --only NN`, or delete a folder that params.json no longer lists."""
    statuses = full.check()
    assert statuses, "params.json lists no notebook"
    pending = full.pending_reruns()
    wrong = [f"{s.notebook}: {s.state}" for s in statuses if s.state != "current" and s.notebook not in pending]
    assert not wrong, "full-size results missing or stale (rerun `make report-full`):\n" + "\n".join(wrong)


def test_every_pending_rerun_is_still_stale_and_says_why():
    """results/full_size/pending_rerun.json lists stale results that wait for a rerun, with the reason; an entry whose
    results are current again (rerun done) must leave the ledger, so it cannot hide a later staleness."""
    states = {s.notebook: s.state for s in full.check()}
    for name, why in full.pending_reruns().items():
        assert states.get(name, "").startswith("stale"), f"{name} is {states.get(name)}: remove it from the ledger"
        assert len(why) > 20, f"{name}: say why its results are stale and what reruns them"
