"""The suite runner: cache (a second identical run makes no model call), resume after a crash, seeding by item."""

from __future__ import annotations

import dataclasses
import json
import math

import pandas as pd
import pytest

from genlab.metrics.perplexity import perplexity
from genlab.probes.crows_pairs import pair_metric, pair_scores, read_pairs
from genlab.suites import SUITES, SuiteInputError, get_suite, item_seed, run_suite, text_id

pytestmark = pytest.mark.usefixtures("one_thread")


class Calls:
    """Counts the model's forward passes (every generation step and every scoring pass is one)."""

    def __init__(self, model):
        self.n = 0
        self.handle = model.register_forward_pre_hook(self)

    def __call__(self, module, args):
        self.n += 1

    def close(self):
        self.handle.remove()


def _samples(out) -> list[dict]:
    return [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]


def test_second_identical_run_makes_no_model_call(bundle, data, fast, tmp_path):
    suites = list(SUITES.values())
    kw = dict(**data, out_dir=tmp_path / "out", samples=2, settings=fast, batch_size=4)
    calls = Calls(bundle.model)
    try:
        first = run_suite(bundle, suites, **kw)
        assert calls.n > 0 and first["cache_hits"] == 0 and first["cache_misses"] == 6 + 3 + 3
        before = calls.n
        samples = (tmp_path / "out" / "samples.jsonl").read_bytes()
        second = run_suite(bundle, suites, **kw)
        assert calls.n == before  # no forward pass at all
    finally:
        calls.close()
    assert second["cache_misses"] == 0 and second["cache_hits"] == first["cache_misses"]
    assert second["suites"] == first["suites"] and second["spec"] == first["spec"]
    assert (tmp_path / "out" / "samples.jsonl").read_bytes() == samples
    # a changed setting that changes outputs (the seed) is a new key: computed again
    third = run_suite(
        bundle,
        SUITES["decoding"],
        prompts=data["prompts"],
        out_dir=tmp_path / "other",
        seed=1,
        samples=2,
        settings=fast,
        batch_size=4,
        cache_dir=tmp_path / "out" / "cache",
    )
    assert third["cache_misses"] == 6 and third["cache_hits"] == 0


def test_interrupted_run_completes_on_restart_with_identical_files(bundle, data, fast, tmp_path):
    suite = SUITES["decoding"]
    kw = dict(prompts=data["prompts"], samples=2, settings=fast, batch_size=2, report=False)
    whole = run_suite(bundle, suite, out_dir=tmp_path / "whole", **kw)

    state = {"batches": 0}

    def dies_in_the_second_batch(model, items, settings):
        state["batches"] += 1
        if state["batches"] == 2:
            raise KeyboardInterrupt("killed")
        return suite.solve(model, items, settings)

    broken = dataclasses.replace(suite, solve=dies_in_the_second_batch)  # same name and version: same cache keys
    with pytest.raises(KeyboardInterrupt):
        run_suite(bundle, broken, out_dir=tmp_path / "resumed", **kw)
    assert not (tmp_path / "resumed" / "results.json").exists()
    resumed = run_suite(bundle, suite, out_dir=tmp_path / "resumed", **kw)
    assert resumed["cache_hits"] == 2 and resumed["cache_misses"] == 4  # the first batch of 2 prompts was kept
    assert (tmp_path / "resumed" / "samples.jsonl").read_bytes() == (tmp_path / "whole" / "samples.jsonl").read_bytes()
    assert resumed["suites"] == whole["suites"]
    assert {k: v for k, v in resumed["spec"].items()} == whole["spec"]


def test_reversed_or_filtered_prompts_give_each_item_the_same_outputs(bundle, data, fast, tmp_path):
    lines = data["prompts"].read_text().splitlines()
    reverse, some = tmp_path / "reverse.txt", tmp_path / "some.txt"
    reverse.write_text("\n".join(lines[::-1]) + "\n")
    some.write_text("\n".join(lines[1:4]) + "\n")
    kw = dict(samples=2, settings=fast, batch_size=4, report=False)
    runs = [
        _samples_of(run_suite, bundle, p, tmp_path / name, kw)
        for name, p in (("a", data["prompts"]), ("b", reverse), ("c", some))
    ]
    assert runs[0] == runs[1]
    assert {k: v for k, v in runs[0].items() if k in runs[2]} == runs[2] and len(runs[2]) == 3 * 3
    assert len({text for k, text in runs[0].items() if k[1] == "sample"}) > 1


def _samples_of(run, bundle, prompts, out, kw) -> dict:
    run(bundle, SUITES["decoding"], prompts=prompts, out_dir=out, **kw)
    return {(r["item_id"], r["system"], r["sample"]): r["output"] for r in _samples(out)}


def test_item_ids_come_from_the_file_else_from_the_text(bundle, tmp_path, fast):
    table = tmp_path / "prompts.csv"
    table.write_text("id,prompt\nq7,the cat\nq2,a mat\n")
    run_suite(bundle, SUITES["decoding"], prompts=table, out_dir=tmp_path / "a", settings=fast, report=False)
    assert [r["item_id"] for r in _samples(tmp_path / "a")][:1] == ["q7"]
    plain = tmp_path / "prompts.txt"
    plain.write_text("the cat\na mat\nthe cat\n")  # a repeated prompt gets its own id
    run_suite(bundle, SUITES["decoding"], prompts=plain, out_dir=tmp_path / "b", settings=fast, report=False)
    ids = list(dict.fromkeys(r["item_id"] for r in _samples(tmp_path / "b")))
    assert ids == [text_id("the cat"), text_id("a mat"), text_id("the cat") + "#2"]
    assert item_seed(ids[0]) != item_seed(ids[2])


def test_suites_match_the_library_computations(bundle, data, fast, tmp_path):
    result = run_suite(
        bundle,
        [SUITES["crows_pairs"], SUITES["quality"]],
        pairs=data["pairs"],
        texts=data["texts"],
        out_dir=tmp_path / "out",
        settings=fast,
        report=False,
    )
    share = pd.DataFrame(result["suites"]["crows_pairs"]["tables"]["share"])
    direct = pair_metric(pair_scores(bundle, read_pairs(data["pairs"])))
    pd.testing.assert_frame_equal(share[direct.columns], direct, check_dtype=False)
    (row,) = result["suites"]["quality"]["tables"]["perplexity"]
    texts = [t for t in data["texts"].read_text().split("\n\n")]
    expected = perplexity(bundle, [t.rstrip() for t in texts]).perplexity
    assert math.isclose(row["perplexity"], expected, rel_tol=1e-9)
    assert row["perplexity_low"] <= row["perplexity"] <= row["perplexity_high"] and row["n"] == 3


def test_decoding_on_documents_compares_with_the_human_continuation(bundle, data, fast, tmp_path):
    result = run_suite(
        bundle, SUITES["decoding"], texts=data["texts"], out_dir=tmp_path / "out", settings=fast, report=False
    )
    tables = result["suites"]["decoding"]["tables"]
    systems = pd.DataFrame(tables["systems"])
    assert set(systems["system"]) == {"greedy", "sample", "human"}
    assert {"rep_2", "rep_2_low", "rep_2_high", "perplexity", "n"} <= set(systems.columns)
    paired = pd.DataFrame(tables["paired"])
    assert set(paired["a"]) == {"human"} and {"p_value", "difference_low", "p_adjusted"} <= set(paired.columns)
    human = [r for r in _samples(tmp_path / "out") if r["system"] == "human"]
    assert len(human) == 3 and all(r["scores"]["n_tokens"] <= 6 for r in human)


def test_bad_input_says_what_to_do(bundle, data, fast, tmp_path):
    with pytest.raises(SuiteInputError, match="did you mean 'crows_pairs'"):
        get_suite("crow_pairs")
    with pytest.raises(SuiteInputError, match="needs --pairs"):
        run_suite(bundle, SUITES["crows_pairs"], texts=data["texts"], out_dir=tmp_path / "x")
    run_suite(bundle, SUITES["quality"], texts=data["texts"], out_dir=tmp_path / "out", settings=fast, report=False)
    results = (tmp_path / "out" / "results.json").read_bytes()
    with pytest.raises(SuiteInputError, match="another run's results.*--overwrite"):
        run_suite(bundle, SUITES["quality"], texts=data["texts"], out_dir=tmp_path / "out", seed=3, settings=fast)
    assert (tmp_path / "out" / "results.json").read_bytes() == results  # untouched
    run_suite(
        bundle,
        SUITES["quality"],
        texts=data["texts"],
        out_dir=tmp_path / "out",
        seed=3,
        settings=fast,
        overwrite=True,
        report=False,
    )
    assert json.loads((tmp_path / "out" / "results.json").read_text())["spec"]["seed"] == 3
