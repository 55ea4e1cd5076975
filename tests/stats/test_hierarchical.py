"""Replicated comparisons, checked against independent computations: a loop-by-loop resampler drawing the same
random numbers, scipy's t-tests and permutation_test in the special cases where the mixed model reduces to them,
statsmodels' MixedLM where installed, and coverage simulations from models with known truth."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from genlab.stats import hierarchical as rep
from genlab.stats.hierarchical import hierarchical_bootstrap, mixed_model_ci, paired_hierarchical_comparison


def tidy(m: np.ndarray, arm=None, items=None) -> pd.DataFrame:
    """A (runs x items) score matrix as a tidy table, rows shuffled (the functions must not rely on row order)."""
    runs, n_items = m.shape
    df = pd.DataFrame(
        {
            "seed": np.repeat(np.arange(runs), n_items),
            "item": np.tile(items if items is not None else np.arange(n_items), runs),
            "score": m.ravel(),
        }
    )
    if arm is not None:
        df.insert(0, "arm", arm)
    return df.sample(frac=1.0, random_state=0)


def crossed(rng, runs, items, sd_run, sd_item, sd_resid=1.0, mean=0.0):
    return (
        mean
        + sd_run * rng.normal(size=(runs, 1))
        + sd_item * rng.normal(size=(1, items))
        + sd_resid * rng.normal(size=(runs, items))
    )


# --- resampling schemes against a plain loop with the same draws ---------------------------------------------------
def test_crossed_bootstrap_equals_a_loop_over_the_same_draws():
    m = np.random.default_rng(1).normal(size=(4, 7))
    fast = rep._crossed_means(m, 300, np.random.default_rng(5))
    rng = np.random.default_rng(5)  # one batch: run draws, then item draws, as _counts makes them
    runs, items = rng.integers(0, 4, (300, 4)), rng.integers(0, 7, (300, 7))
    slow = [m[runs[b]][:, items[b]].mean() for b in range(300)]  # one item draw shared by the drawn runs
    assert fast == pytest.approx(slow, rel=1e-12)


def test_nested_bootstrap_equals_a_loop_over_the_same_draws():
    rng0 = np.random.default_rng(2)
    runs = [rng0.normal(size=k) for k in (3, 6, 4)]
    fast = rep._nested_means(runs, 200, np.random.default_rng(8))
    rng = np.random.default_rng(8)
    picked, u = rng.integers(0, 3, (200, 3)), rng.random((200, 3, 6))
    slow = [
        np.mean([runs[s][(u[b, j, : len(runs[s])] * len(runs[s])).astype(int)].mean() for j, s in enumerate(picked[b])])
        for b in range(200)
    ]
    assert fast == pytest.approx(slow, rel=1e-12)


def test_hierarchical_bootstrap_table():
    rng = np.random.default_rng(3)
    a, b = crossed(rng, 3, 20, 0.5, 1.0), crossed(rng, 4, 20, 0.5, 1.0, mean=2.0)
    out = hierarchical_bootstrap(pd.concat([tidy(b, "lora"), tidy(a, "base")]), n_resamples=1000, name="accuracy")
    assert out.columns.tolist() == ["arm", "n_runs", "n_items", "n", "accuracy", "accuracy_low", "accuracy_high"]
    assert out.arm.tolist() == ["base", "lora"] and out.n_runs.tolist() == [3, 4] and out.n.tolist() == [60, 80]
    assert out.accuracy.tolist() == pytest.approx([a.mean(), b.mean()])
    assert (out.accuracy_low < out.accuracy).all() and (out.accuracy < out.accuracy_high).all()
    again = hierarchical_bootstrap(tidy(a, "base"), n_resamples=1000)  # each arm has its own generator
    assert again.score_low[0] == out.accuracy_low[0]
    # nested: runs with their own items, unequal counts; the estimate weights runs equally
    nested = pd.DataFrame(
        {"seed": [0, 0, 1, 1, 1, 1], "item": ["a", "b", "c", "d", "e", "f"], "score": [1.0, 3, 0, 0, 0, 4]}
    )
    r = hierarchical_bootstrap(nested, arm=None, design="nested")
    assert r.score[0] == pytest.approx((2.0 + 1.0) / 2) and r.n_items[0] == 6 and r.n_runs[0] == 2


# --- the mixed model against scipy where it reduces to a t-test, and against statsmodels ---------------------------
def test_mixed_model_reduces_to_the_t_interval_of_run_means_when_items_do_not_vary():
    rng = np.random.default_rng(4)
    noise = rng.normal(size=(5, 12))
    m = 2.0 * rng.normal(size=(5, 1)) + noise - noise.mean(0)  # every item mean is equal: the item variance is 0
    r = mixed_model_ci(tidy(m), arm=None, confidence=0.9)
    ref = stats.ttest_1samp(m.mean(1), 0.0).confidence_interval(0.9)
    assert (r.score_low[0], r.score_high[0], r.df[0]) == pytest.approx((ref.low, ref.high, 4.0), rel=1e-9)


def test_mixed_model_reduces_to_the_t_interval_of_item_means_when_runs_do_not_vary():
    rng = np.random.default_rng(5)
    noise = rng.normal(size=(3, 30))
    m = rng.normal(size=(1, 30)) + noise - noise.mean(1, keepdims=True)  # every run mean is equal
    r = mixed_model_ci(tidy(m), arm=None)
    ref = stats.ttest_1samp(m.mean(0), 0.0).confidence_interval(0.95)
    assert (r.score_low[0], r.score_high[0], r.df[0]) == pytest.approx((ref.low, ref.high, 29.0), rel=1e-9)


def test_mixed_model_standard_error_equals_statsmodels_reml():
    smf = pytest.importorskip("statsmodels.formula.api")
    m = crossed(np.random.default_rng(7), 5, 25, 1.0, 1.0, mean=3.0)  # both components clearly positive
    df = tidy(m).assign(group=1)
    model = smf.mixedlm(
        "score ~ 1", df, groups="group", vc_formula={"seed": "0 + C(seed)", "item": "0 + C(item)"}, re_formula="0"
    )
    fit = model.fit(reml=True, method="lbfgs")
    r = mixed_model_ci(df, arm=None)
    se = (r.score_high[0] - r.score[0]) / stats.t.ppf(0.975, r.df[0])
    assert fit.converged and se == pytest.approx(fit.bse["Intercept"], rel=1e-3)


def test_paired_mixed_model_reduces_to_the_paired_t_test_on_items_when_runs_do_not_vary():
    rng = np.random.default_rng(6)
    item = rng.normal(size=(1, 25))
    a, b = (item + 0.3 + rng.normal(size=(3, 25)), item + rng.normal(size=(4, 25)))
    a, b = a - a.mean(1, keepdims=True) + a.mean(), b - b.mean(1, keepdims=True) + b.mean()  # equal run means
    r = paired_hierarchical_comparison(pd.concat([tidy(a, "a"), tidy(b, "b")]), "a", "b")
    ref = stats.ttest_rel(a.mean(0), b.mean(0))
    ci = ref.confidence_interval(0.95)
    assert (r.low, r.high, r.p_value, r.df) == pytest.approx((ci.low, ci.high, ref.pvalue, 24.0), rel=1e-9)
    assert r.difference == pytest.approx(a.mean() - b.mean()) and r.n_items == 25 and (r.n_runs_a, r.n_runs_b) == (3, 4)


# --- the run-level permutation test ----------------------------------------------------------------------------------
@pytest.mark.parametrize("runs_a,runs_b", [(3, 3), (4, 5), (2, 6)])
def test_run_permutation_p_equals_scipy_exact(runs_a, runs_b):
    rng = np.random.default_rng(runs_a * 10 + runs_b)
    a, b = crossed(rng, runs_a, 15, 1.0, 1.0, mean=0.8), crossed(rng, runs_b, 15, 1.0, 1.0)
    r = paired_hierarchical_comparison(pd.concat([tidy(a, "x"), tidy(b, "y")]), "x", "y", interval="bootstrap")
    ref = stats.permutation_test(
        (a.mean(1), b.mean(1)),
        lambda x, y, axis: x.mean(axis=axis) - y.mean(axis=axis),
        permutation_type="independent",
        n_resamples=10**6,
    )
    assert r.permutation_exact and r.p_permutation == pytest.approx(ref.pvalue, rel=1e-12)
    assert r.p_value == r.p_permutation and r.p_permutation_min == pytest.approx(2 / math.comb(runs_a + runs_b, runs_a))
    assert r.test == "run-level permutation" and math.isnan(r.df)


def test_three_runs_per_arm_can_never_reach_p_below_0_1():
    rng = np.random.default_rng(0)
    a, b = crossed(rng, 3, 40, 0.01, 1.0, mean=5.0), crossed(rng, 3, 40, 0.01, 1.0)  # an enormous difference
    r = paired_hierarchical_comparison(pd.concat([tidy(a, "a"), tidy(b, "b")]), "a", "b")
    assert r.p_permutation == r.p_permutation_min == pytest.approx(0.1)
    assert r.p_value < 1e-6 and r.low > 4  # the mixed-model test, assuming normal run effects, can


def test_random_permutation_p_is_close_to_the_exact_one():
    rng = np.random.default_rng(1)
    a, b = crossed(rng, 7, 10, 1.0, 1.0, mean=0.9), crossed(rng, 7, 10, 1.0, 1.0)
    df = pd.concat([tidy(a, "a"), tidy(b, "b")])
    exact = paired_hierarchical_comparison(df, "a", "b", n_resamples=4000)  # C(14, 7) = 3432 arrangements
    sampled = paired_hierarchical_comparison(df, "a", "b", n_resamples=2000, seed=3)
    assert exact.permutation_exact and not sampled.permutation_exact
    sd = math.sqrt(exact.p_permutation * (1 - exact.p_permutation) / 2000)
    assert abs(sampled.p_permutation - exact.p_permutation) < 4 * sd + 2 / 2000
    assert sampled.p_permutation_min == pytest.approx(2 / 2001)


def test_run_permutation_size_under_the_null():
    # 4 runs per arm, no difference: p can be 2/70, 4/70, ...; only 2/70 = 0.029 is <= 0.05, so the rejection rate
    # is exactly 2/70 when runs are exchangeable.
    rng = np.random.default_rng(2)
    rejected = []
    for _ in range(1500):
        m = crossed(rng, 8, 10, 1.0, 1.0)
        r = rep._run_permutation(m[:4].mean(1), m[4:].mean(1), 2000, rng)
        rejected.append(r[0] <= 0.05)
    assert abs(np.mean(rejected) - 2 / 70) < 4 * math.sqrt(2 / 70 * (1 - 2 / 70) / 1500)


# --- coverage simulations ------------------------------------------------------------------------------------------
N_COVER = 300  # samples per scenario: the Monte Carlo sd of a coverage near 0.95 is 0.013, near 0.78 it is 0.024


def _coverage(scenario, n_runs, n_items, sd_run, sd_item, design="crossed"):
    """Shares of bootstrap and mixed-model 95% intervals (1,000 resamples) that contain the true mean 0."""
    rng = np.random.default_rng(scenario)
    boot = mixed = 0
    for k in range(N_COVER):
        df = tidy(crossed(rng, n_runs, n_items, sd_run, sd_item))
        b = hierarchical_bootstrap(df, arm=None, n_resamples=1000, seed=k, design=design)
        boot += b.score_low[0] <= 0 <= b.score_high[0]
        if design == "crossed":
            m = mixed_model_ci(df, arm=None)
            mixed += m.score_low[0] <= 0 <= m.score_high[0]
    return boot / N_COVER, mixed / N_COVER


def test_coverage_when_runs_dominate():
    # 3 runs, 40 items, run sd 1 against item sd 0.3: the run level decides and has 2 degrees of freedom. The
    # bootstrap's interval is far too narrow (it cannot reproduce Student's t with 2 df); the mixed model holds.
    boot, mixed = _coverage(1, 3, 40, 1.0, 0.3)
    assert boot < 0.85
    assert mixed >= 0.95 - 3 * 0.013


def test_coverage_when_items_dominate():
    boot, mixed = _coverage(2, 3, 40, 0.3, 1.0)  # item sd 1 against run sd 0.3: both are close to 0.95
    assert boot >= 0.95 - 3 * 0.013 - 0.02 and mixed >= 0.95 - 3 * 0.013


def test_nested_resampling_of_crossed_data_understates_the_item_variance():
    # 5 runs share 40 items (item sd 1, run sd 0.2). Drawing items separately per run averages the shared item
    # effect away (its variance is divided by runs x items instead of items): the wrong scheme undercovers.
    crossed_boot, _ = _coverage(3, 5, 40, 0.2, 1.0)
    nested_boot, _ = _coverage(3, 5, 40, 0.2, 1.0, design="nested")
    assert crossed_boot >= 0.95 - 3 * 0.013 - 0.02
    assert nested_boot < crossed_boot - 0.04


def test_paired_comparison_coverage():
    # Two arms, 3 runs each, 30 shared items with an item effect common to both arms, true difference 0.5.
    rng = np.random.default_rng(4)
    hits = {"mixed": 0, "bootstrap": 0}
    for k in range(N_COVER):
        item = rng.normal(size=(1, 30))
        a = 0.5 + item + 0.6 * rng.normal(size=(3, 1)) + rng.normal(size=(3, 30))
        b = item + 0.6 * rng.normal(size=(3, 1)) + rng.normal(size=(3, 30))
        df = pd.concat([tidy(a, "a"), tidy(b, "b")])
        for kind in hits:
            r = paired_hierarchical_comparison(df, "a", "b", interval=kind, n_resamples=1000, seed=k)
            hits[kind] += r.low <= 0.5 <= r.high
    assert hits["mixed"] / N_COVER >= 0.95 - 3 * 0.013
    assert hits["bootstrap"] / N_COVER < hits["mixed"] / N_COVER - 0.05  # 3 runs per arm: too narrow


def test_fixed_reference_reduces_to_the_paired_t_test_when_runs_do_not_vary():
    rng = np.random.default_rng(8)
    item = rng.normal(size=(1, 20))
    a = item + 0.4 + rng.normal(size=(3, 20))
    a = a - a.mean(1, keepdims=True) + a.mean()  # equal run means: no run variance to add
    b = item + rng.normal(size=(1, 20))  # one fixed system, scored once
    r = paired_hierarchical_comparison(pd.concat([tidy(a, "a"), tidy(b, "b")]), "a", "b", fixed_b=True)
    ref = stats.ttest_rel(a.mean(0), b[0])
    ci = ref.confidence_interval(0.95)
    assert (r.low, r.high, r.p_value, r.df) == pytest.approx((ci.low, ci.high, ref.pvalue, 19.0), rel=1e-9)
    assert (r.n_runs_a, r.n_runs_b) == (3, 1) and r.p_permutation_min == pytest.approx(0.5)


def test_fixed_reference_coverage_and_the_need_to_say_so():
    # Arm A: 3 training runs (run sd 0.6); arm B: one fixed system (the base model), the same in every replicate of
    # the study, so the truth is A's expected mean minus B's own scores, averaged over items' distribution.
    rng = np.random.default_rng(9)
    hits = 0
    for _ in range(N_COVER):
        item = rng.normal(size=(1, 30))
        a = 0.5 + item + 0.6 * rng.normal(size=(3, 1)) + rng.normal(size=(3, 30))
        b = item + rng.normal(size=(1, 30))
        r = paired_hierarchical_comparison(pd.concat([tidy(a, "a"), tidy(b, "b")]), "a", "b", fixed_b=True)
        hits += r.low <= 0.5 <= r.high
    assert hits / N_COVER >= 0.95 - 3 * 0.013
    one_run = tidy(rng.normal(size=(1, 30)), "b")
    with pytest.raises(ValueError, match="at least 2 runs"):  # without fixed_b, one run is refused
        paired_hierarchical_comparison(pd.concat([tidy(rng.normal(size=(3, 30)), "a"), one_run]), "a", "b")
    with pytest.raises(ValueError, match="fixed arm"):  # and a fixed arm must be one run
        paired_hierarchical_comparison(
            pd.concat([tidy(rng.normal(size=(3, 30)), "a"), tidy(rng.normal(size=(2, 30)), "b")]),
            "a",
            "b",
            fixed_b=True,
        )


# --- bad input ---------------------------------------------------------------------------------------------------
GOOD = pd.DataFrame({"arm": ["a"] * 6 + ["b"] * 6, "seed": [0, 0, 1, 1, 2, 2] * 2, "item": [0, 1] * 6,
                     "score": np.arange(12.0)})  # fmt: skip


@pytest.mark.parametrize(
    "call",
    [
        lambda: hierarchical_bootstrap(GOOD.rename(columns={"seed": "run"})),  # no "seed" column
        lambda: hierarchical_bootstrap(GOOD.iloc[1:]),  # one (run, item) cell missing
        lambda: hierarchical_bootstrap(pd.concat([GOOD, GOOD.iloc[:1]])),  # a cell twice
        lambda: hierarchical_bootstrap(GOOD[GOOD.seed == 0]),  # one run per arm
        lambda: hierarchical_bootstrap(GOOD.assign(score=np.nan)),
        lambda: hierarchical_bootstrap(GOOD, design="pigeonhole"),
        lambda: hierarchical_bootstrap(GOOD, n_resamples=0),
        lambda: mixed_model_ci(GOOD, confidence=95),
        lambda: paired_hierarchical_comparison(GOOD, "a", "c"),
        lambda: paired_hierarchical_comparison(GOOD, "a", "a"),
        lambda: paired_hierarchical_comparison(GOOD, "a", "b", interval="wald"),
        lambda: paired_hierarchical_comparison(GOOD.assign(item=GOOD.item + 10 * (GOOD.arm == "b")), "a", "b"),
    ],
)
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()
