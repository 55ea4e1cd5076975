"""`genlab eval` and `genlab report` end to end on the tiny model saved to a folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from genlab.suites.cli import main

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def model_dir(bundle, tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-model")
    bundle.model.save_pretrained(folder)
    bundle.tokenizer.save_pretrained(folder)
    return folder


def test_eval_writes_results_samples_and_report_and_reruns_from_the_cache(model_dir, data, tmp_path, capsys):
    out = tmp_path / "run"
    args = [
        "eval",
        "--model",
        str(model_dir),
        "--suite",
        "quality,crows_pairs",
        "--texts",
        str(data["texts"]),
        "--pairs",
        str(data["pairs"]),
        "--out",
        str(out),
    ]
    assert main(args) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["cache_misses"] == 6 and results["cache_hits"] == 0
    model = results["spec"]["model"]
    assert model["path"] == str(model_dir) and model["weights_hashed_from"] == "safetensors files"
    assert len(model["weights_sha256"]) == 64 and results["spec"]["data"]["texts"]["sha256"]
    assert results["spec"]["genlab_version"] and "total_s" in results["timings"]
    lines = [json.loads(x) for x in (out / "samples.jsonl").read_text().splitlines()]
    assert len(lines) == 6 and all({"input", "output", "scores"} <= set(r) for r in lines)
    assert not any("time" in k for r in lines for k in r)
    assert "quality" in (out / "report.html").read_text()
    assert main(args) == 0  # the same run again: everything from the cache
    assert json.loads((out / "results.json").read_text())["cache_misses"] == 0

    other = tmp_path / "other"
    assert (
        main(
            [
                "eval",
                "--model",
                str(model_dir),
                "--suite",
                "quality",
                "--texts",
                str(data["texts"]),
                "--seed",
                "2",
                "--out",
                str(other),
            ]
        )
        == 0
    )
    page = tmp_path / "both.html"
    assert main(["report", str(out), str(other), "--output", str(page)]) == 0
    html = page.read_text()
    assert "2 runs compared" in html and html.count("<h2>quality</h2>") == 1


def test_model_output_is_escaped_in_the_report(model_dir, tmp_path):
    out = tmp_path / "run"
    texts = tmp_path / "texts.txt"
    texts.write_text("<script>alert(1)</script> the cat sat\n\n<b>bold</b> the mat sat on the cat\n")
    assert (
        main(["eval", "--model", str(model_dir), "--suite", "quality", "--texts", str(texts), "--out", str(out)]) == 0
    )
    assert main(["report", str(out)]) == 0
    html = (out / "report.html").read_text()
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html and "<b>bold" not in html


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--suite", "qualty", "--texts", "{texts}"], "no suite 'qualty'; did you mean 'quality'"),
        (["--suite", "crows_pairs", "--texts", "{texts}"], "the 'crows_pairs' suite needs --pairs"),
        (["--suite", "quality", "--texts", "{missing}"], "no such file or folder"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(model_dir, data, tmp_path, capsys, extra, message):
    fill = {"texts": str(data["texts"]), "missing": str(tmp_path / "nope.txt")}
    args = ["eval", "--model", str(model_dir), *[x.format(**fill) for x in extra], "--out", str(tmp_path / "o")]
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_an_out_folder_with_another_runs_results_is_refused_by_the_installed_command(model_dir, data, tmp_path):
    out = tmp_path / "run"
    base = ["eval", "--model", str(model_dir), "--suite", "quality", "--texts", str(data["texts"]), "--out", str(out)]
    assert main(base) == 0
    before = (out / "results.json").read_bytes()
    env = {**os.environ, "TQDM_DISABLE": "1"}
    script = os.path.join(os.path.dirname(sys.executable), "genlab")
    command = [script] if os.path.exists(script) else [sys.executable, "-m", "genlab.suites.cli"]
    done = subprocess.run([*command, *base, "--seed", "5"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "holds another run's results" in done.stderr and "--overwrite" in done.stderr
    assert (out / "results.json").read_bytes() == before
    assert main([*base, "--seed", "5", "--overwrite"]) == 0
