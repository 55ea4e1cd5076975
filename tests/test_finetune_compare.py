"""genlab.studies.finetune_comparison: per-item scores kept by every table, paired tests between rows, saving and
live plots in compare_methods, and one evaluation per distinct prompt set in robustness."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from genlab.data.world import small_world
from genlab.metrics.stats import paired_bootstrap, paired_permutation_test
from genlab.studies import finetune_comparison as FC
from genlab.training.tasks import build_task

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def qa():
    return build_task("world_qa", small_world(), seed=0, n_train=24, n_eval=12)


@pytest.fixture(scope="module")
def story():
    return build_task("story", small_world(), seed=0, n_train=16, n_eval=6)


def test_item_scores_average_to_the_task_score(tiny_bundle, qa, story):
    story_score = story.evaluate(tiny_bundle, max_new_tokens=20)  # the tiny model's window is 128 tokens
    for score in (qa.evaluate(tiny_bundle), story_score):
        values = FC.item_scores(score)
        assert len(values) == score.n and math.isclose(values.mean(), score.value)
    expected = story_score.items[["has_occupation", "has_place", "has_animal"]].mean(axis=1).to_numpy()
    np.testing.assert_allclose(FC.item_scores(story_score), expected)
    broken = dataclasses.replace(story_score, items=pd.DataFrame({"x": [1]}))
    with pytest.raises(ValueError, match="'correct' or 'covered'"):
        FC.item_scores(broken)


def test_compare_methods_keeps_items_saves_each_run_and_draws_live(tiny_bundle, qa, tmp_path, monkeypatch):
    import genlab.training.live_loss

    made = []

    class Recording(genlab.training.live_loss.LiveLossPlot):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(genlab.training.live_loss, "LiveLossPlot", Recording)
    df, bundles = FC.compare_methods(
        tiny_bundle,
        qa,
        ["full", "lora"],
        steps=2,
        batch_size=8,
        progress=False,
        live_plot=True,
        output_dir=tmp_path,
        return_bundles=True,
    )
    assert set(df.attrs["items"]) == {("base",), ("full",), ("lora",)} and df.attrs["item_key"] == ("method",)
    for _, row in df.iterrows():
        values = df.attrs["items"][(row["method"],)]
        assert len(values) == row["n"] == 12 and math.isclose(np.mean(values), row["score"])
    # each method saved under its own folder, the adapter loadable on its own
    assert (tmp_path / "full" / "model" / "model.safetensors").is_file()
    assert (tmp_path / "lora" / "adapter" / "adapter_config.json").is_file()
    assert (tmp_path / "lora" / "run.json").is_file() and (tmp_path / "full" / "run.json").is_file()
    assert bundles["lora"].provenance["adapter"] == str(tmp_path / "lora" / "adapter")
    # one live plot per run, each holding that run's curve
    assert [p.title for p in made] == ["full on world_qa: loss", "lora on world_qa: loss"]
    for plot, method in zip(made, ["full", "lora"], strict=True):
        assert plot.train == [tuple(p) for p in df.attrs["records"][method]["train_loss"]]

    tests = FC.paired_tests(df, "method", "base")
    assert tests["method"].tolist() == ["full", "lora"] and (tests["reference"] == "base").all()
    assert np.allclose(tests["difference"], df.set_index("method").loc[["full", "lora"], "score"] - df["score"][0])


def test_robustness_scores_each_distinct_prompt_set_once(tiny_bundle, qa):
    calls = []

    def counting(bundle, dataset, **kw):
        calls.append(tuple(dataset["prompt"]))
        return qa.metric(bundle, dataset, **kw)

    task = dataclasses.replace(qa, metric=counting)
    df = FC.robustness({"a": tiny_bundle, "b": tiny_bundle}, task, kinds=["typo", "word_swap"], strengths=[0.0, 0.5])
    assert len(df) == 8
    assert len(calls) == 2 * 3  # two models x (clean, typo 0.5, word_swap 0.5): the clean set is scored once
    clean = df[df.strength == 0.0]
    assert clean.groupby("model")["score"].nunique().eq(1).all()  # the reused score, under both kinds
    assert set(df.attrs["items"]) == {(m, k, s) for m in "ab" for k in ("typo", "word_swap") for s in (0.0, 0.5)}
    drop = FC.paired_tests(df, "strength", 0.0)
    assert len(drop) == 4 and (drop["strength"] == 0.5).all()
    a = df.attrs["items"][("a", "typo", 0.5)]
    assert drop.iloc[0]["score"] == pytest.approx(np.mean(a))


def _table():
    """A robustness-shaped table with known per-item values: two models, one kind, two strengths."""
    rng = np.random.default_rng(0)
    items = {
        ("clean", "typo", 0.0): rng.integers(0, 2, 30).tolist(),
        ("clean", "typo", 0.3): rng.integers(0, 2, 30).tolist(),
        ("fgm", "typo", 0.0): [1] * 30,
        ("fgm", "typo", 0.3): [0] * 30,
    }
    df = pd.DataFrame([{"model": m, "kind": k, "strength": s} for m, k, s in items])
    return FC._with_items(df, items, ("model", "kind", "strength")), items


def test_paired_tests_match_the_stats_functions_row_by_row():
    df, items = _table()
    out = FC.paired_tests(df, "model", "clean", n_resamples=999)
    assert out[["model", "kind", "strength"]].values.tolist() == [["fgm", "typo", 0.0], ["fgm", "typo", 0.3]]
    for _, row in out.iterrows():
        a, b = items[("fgm", "typo", row["strength"])], items[("clean", "typo", row["strength"])]
        boot = paired_bootstrap(a, b, n_resamples=999, seed=0)
        perm = paired_permutation_test(a, b, n_resamples=999, seed=0)
        got = (row["difference"], row["difference_low"], row["difference_high"])
        assert got == pytest.approx((boot.difference, boot.low, boot.high))
        assert row["p_value"] == pytest.approx(perm.p_value) and row["significant"] == (perm.p_value < 0.05)
        assert row["score"] == pytest.approx(np.mean(a)) and row["reference_score"] == pytest.approx(np.mean(b))
    by_strength = FC.paired_tests(df, "strength", 0.0, n_resamples=999)
    fgm = by_strength.set_index("model").loc["fgm"]
    assert fgm["difference"] == -1.0 and fgm["significant"]  # 30 of 30 items lost: a real drop
    # the stored values survive filtering, and pandas can still concatenate such frames
    assert len(FC.paired_tests(df[df.strength == 0.3], "model", "clean", n_resamples=99)) == 1
    assert len(pd.concat([df, df])) == 8


def test_paired_tests_explain_bad_input():
    df, _ = _table()
    with pytest.raises(ValueError, match="choose one of"):
        FC.paired_tests(df, "score", "clean")
    with pytest.raises(ValueError, match="no row has model == 'freelb'"):
        FC.paired_tests(df, "model", "freelb")
    with pytest.raises(ValueError, match="no per-item scores"):
        FC.paired_tests(pd.DataFrame({"model": ["a"]}), "model", "a")


def test_learning_curve_keeps_items_for_paired_augmentation_tests(tiny_bundle, qa):
    df = FC.learning_curve(
        tiny_bundle, qa, [4, 8], augmentations=[None, "eda"], steps=1, batch_size=4, n_aug=1, progress=False
    )
    assert set(df.attrs["items"]) == {(n, a, 0) for n in (4, 8) for a in ("none", "eda")}
    tests = FC.paired_tests(df, "augmentation", "none")
    assert tests["n_train"].tolist() == [4, 8] and (tests["augmentation"] == "eda").all()
