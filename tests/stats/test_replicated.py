"""genlab.stats.replicated: a table whose rows carry per-item scores, one row per training run, turned into an
interval per arm and a family of tests, checked against the hierarchical and multiplicity functions they are built
from."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from genlab.stats import (
    arm_intervals,
    holm,
    items_long,
    mixed_model_ci,
    paired_hierarchical_comparison,
    paired_permutation_test,
    replicated_tests,
)
from genlab.stats.replicated import ONE_RUN


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


def test_items_long_has_one_row_per_key_and_item():
    df = _synthetic(np.random.default_rng(4))
    long = items_long(df)
    assert len(long) == 7 * 30 and set(long.columns) == {"method", "seed", "item", "score"}
    assert long.groupby(["method", "seed"]).size().eq(30).all()
    no_seed = items_long(_table({("a",): [1.0, 0.0]}, ("method",)))
    assert no_seed.seed.tolist() == [0, 0]  # one run per arm


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
    assert t.loc[0, "n_runs"] == 3 and t.loc[0, "reference_runs"] == 1 and t.loc[0, "test"].endswith("fixed")
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


def test_conditions_are_compared_separately_within_one_family():
    """A robustness-shaped table (model x strength, one run): each strength is a condition, one test per model."""
    rng = np.random.default_rng(5)
    items = {(m, s): rng.integers(0, 2, 30).astype(float) for m in ("clean", "fgm") for s in (0.0, 0.3)}
    items[("fgm", 0.3)] = np.zeros(30)
    t = replicated_tests(_table(items, ("model", "strength")), "model", "clean", family="gain")
    assert t[["model", "strength"]].values.tolist() == [["fgm", 0.0], ["fgm", 0.3]]
    assert t.family_size.tolist() == [2, 2]
    for row in t.itertuples():
        a, b = items[("fgm", row.strength)], items[("clean", row.strength)]
        assert row.p_value == pytest.approx(paired_permutation_test(a, b, seed=0).p_value)
        assert row.score == pytest.approx(a.mean()) and row.reference_score == pytest.approx(b.mean())


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
