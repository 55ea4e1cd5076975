"""genlab.studies.replicated on the fine-tuning study tables: replicated runs (seeds) through compare_methods and
robustness_comparison, intervals per arm, and families of tests checked against the replication and
multiplicity functions they are built from."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from genlab.data.world import small_world
from genlab.metrics.multiplicity import holm
from genlab.metrics.replication import mixed_model_ci, paired_hierarchical_comparison
from genlab.metrics.stats import paired_permutation_test
from genlab.studies import finetune_comparison as FC
from genlab.studies.replicated import (
    ONE_RUN,
    arm_intervals,
    count_unperturbed_once,
    items_long,
    replicated_tests,
)
from genlab.training.tasks import build_task

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def qa():
    return build_task("world_qa", small_world(), seed=0, n_train=24, n_eval=12)


def _table(items: dict, key: tuple) -> pd.DataFrame:
    df = pd.DataFrame([dict(zip(key, k, strict=True)) for k in items])
    df.attrs = {"items": {k: tuple(v) for k, v in items.items()}, "item_key": key}
    return df


def _synthetic(rng, arms=("base", "a", "b"), runs=(1, 3, 3), n_items=30, effects=(0.0, 0.8, 0.0)):
    item = rng.normal(size=n_items)
    items = {}
    for arm, r, effect in zip(arms, runs, effects, strict=True):
        for s in range(r):
            items[(arm, s)] = effect + item + 0.3 * rng.normal() + rng.normal(size=n_items)
    return _table(items, ("method", "seed"))


def test_compare_methods_over_seeds_stacks_runs_and_keeps_base_once(tiny_bundle, qa, tmp_path):
    df, bundles = FC.compare_methods(
        tiny_bundle,
        qa,
        ["lora"],
        steps=2,
        batch_size=8,
        progress=False,
        seeds=[0, 1],
        return_bundles=True,
        output_dir=tmp_path,
    )
    assert df[["method", "seed"]].values.tolist() == [["base", 0], ["lora", 0], ["lora", 1]]
    assert set(df.attrs["items"]) == {("base", 0), ("lora", 0), ("lora", 1)}
    assert df.attrs["item_key"] == ("method", "seed")
    assert sorted(df.attrs["records"]) == ["lora seed 0", "lora seed 1"] and list(bundles) == ["lora"]
    assert (tmp_path / "seed0" / "lora" / "run.json").is_file() and (tmp_path / "seed1" / "lora").is_dir()
    # the two seeds are two trainings: different data order, different adapter initialisation
    assert df.attrs["records"]["lora seed 0"]["train_loss"] != df.attrs["records"]["lora seed 1"]["train_loss"]
    long = items_long(df)
    assert len(long) == 3 * qa.eval.num_rows and set(long.columns) == {"method", "seed", "item", "score"}
    t = replicated_tests(df, "method", "base", reference_fixed=True, family="methods vs base")
    assert t.loc[0, "n_runs"] == 2 and t.loc[0, "reference_runs"] == 1 and t.loc[0, "test"].endswith("fixed")
    names = [tr.name for tr in FC.plot_loss_curves(df).data]
    assert "lora seed 1 train" in names
    with pytest.raises(ValueError, match="distinct training seeds"):
        FC.compare_methods(tiny_bundle, qa, ["lora"], steps=1, seeds=[0, 0])


def test_robustness_comparison_over_seeds_scores_every_run_on_the_same_perturbed_prompts(tiny_bundle, qa):
    seen = []

    def perturb(text, kind, strength, seed):
        seen.append(seed)
        return text if strength == 0 else text[::-1]

    df = FC.robustness_comparison(
        tiny_bundle,
        qa,
        {"clean": None},
        steps=1,
        batch_size=8,
        seed=5,
        seeds=[0, 1],
        kinds=["k1", "k2"],
        strengths=[0.0, 0.5],
        perturb_fn=perturb,
        progress=False,
    )
    assert df.attrs["item_key"] == ("model", "seed", "kind", "strength")
    assert set(seen) == {5 + i for i in range(qa.eval.num_rows)}  # perturbation seeds do not follow training seeds
    assert sorted(df.attrs["records"]) == ["clean seed 0", "clean seed 1"]
    once = count_unperturbed_once(df)
    assert sorted(set(zip(once.kind, once.strength, strict=True))) == [("k1", 0.5), ("k2", 0.5), ("none", 0.0)]
    assert len(once.attrs["items"]) == 2 * 3  # 2 seeds x (clean once + 2 perturbed conditions)


def test_replicated_tests_equal_the_comparison_functions_and_holm():
    df = _synthetic(np.random.default_rng(0))
    t = replicated_tests(df, "method", "base", reference_fixed=True, family="methods vs base")
    long = items_long(df)
    for row in t.itertuples():
        pair = long[long.method.isin([row.method, "base"])]
        c = paired_hierarchical_comparison(pair, row.method, "base", arm="method", fixed_b=True)
        assert (row.difference, row.difference_low, row.difference_high, row.p_value) == pytest.approx(
            (c.difference, c.low, c.high, c.p_value)
        )
    np.testing.assert_allclose(t.p_adjusted, holm(t.p_value))
    assert t.family_size.tolist() == [2, 2] and set(t.correction) == {"holm"}
    assert t.significant.tolist() == [True, False]  # a has a planted effect of 0.8, b has none
    # two replicated arms: runs of both vary
    two = _table({k: v for k, v in df.attrs["items"].items() if k[0] != "base"}, ("method", "seed"))
    ab = replicated_tests(two, "method", "b", family="a vs b")
    assert ab.loc[0, "test"] == "mixed model t (Satterthwaite df)"
    assert ab.loc[0, "p_permutation_min"] == pytest.approx(0.1)


def test_one_run_per_arm_falls_back_to_items_and_says_so():
    rng = np.random.default_rng(1)
    items = {("base", 0): rng.normal(size=20), ("lora", 0): rng.normal(size=20) + 1.0}
    t = replicated_tests(_table(items, ("method", "seed")), "method", "base", family="f")
    perm = paired_permutation_test(items[("lora", 0)], items[("base", 0)], seed=0)
    assert t.loc[0, "test"] == ONE_RUN and t.loc[0, "p_value"] == pytest.approx(perm.p_value)
    assert t.loc[0, "difference"] == pytest.approx(np.mean(items[("lora", 0)] - items[("base", 0)]))


def test_arm_intervals_use_the_mixed_model_for_replicated_arms():
    df = _synthetic(np.random.default_rng(2))
    a = arm_intervals(df).set_index("method")
    ref = mixed_model_ci(items_long(df)[lambda x: x.method == "a"], arm=None).iloc[0]
    assert (a.loc["a", "score_low"], a.loc["a", "score_high"]) == pytest.approx((ref.score_low, ref.score_high))
    assert a.loc["base", "interval"] == "bootstrap over items (one run)" and a.loc["a", "n_runs"] == 3


def test_bad_input_says_what_to_do():
    df = _synthetic(np.random.default_rng(3))
    with pytest.raises(ValueError, match="no row has method == 'nope'"):
        replicated_tests(df, "method", "nope", family="f")
    with pytest.raises(ValueError, match="does not name an arm"):
        replicated_tests(df, "seed", 0, family="f")
    with pytest.raises(ValueError, match="no per-item scores"):
        replicated_tests(pd.DataFrame({"method": ["a"]}), "method", "a", family="f")
    with pytest.raises(ValueError, match="'kind' and 'strength'"):
        count_unperturbed_once(df)
