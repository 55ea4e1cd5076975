"""Equivalence (TOST) against scipy's one-sided t-tests, statsmodels' ttost_* and tost_proportions_2indep where
installed, a hand-worked Agresti-Caffo example, and the error rate at the margin by simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from genlab.stats.equivalence import tost, tost_proportions


# --- equivalence ---------------------------------------------------------------------------------------------------
def test_tost_paired_against_scipy_one_sided_t_tests():
    rng = np.random.default_rng(5)
    a = rng.normal(0.5, 0.1, 30)
    b = a + rng.normal(0.01, 0.03, 30)
    r = tost(a, b, (-0.02, 0.03), paired=True)
    d = a - b
    assert r.p_lower == pytest.approx(stats.ttest_1samp(d, -0.02, alternative="greater").pvalue, rel=1e-10)
    assert r.p_upper == pytest.approx(stats.ttest_1samp(d, 0.03, alternative="less").pvalue, rel=1e-10)
    ci = stats.ttest_1samp(d, 0.0).confidence_interval(0.90)
    assert (r.low, r.high) == pytest.approx((ci.low, ci.high), rel=1e-10)
    assert r.p_value == max(r.p_lower, r.p_upper) and r.equivalent == (-0.02 < r.low and r.high < 0.03)
    assert (r.margin_low, r.margin_high, r.confidence, r.test, r.df) == (-0.02, 0.03, 0.9, "paired t", 29.0)


def test_tost_welch_against_scipy_one_sided_t_tests():
    rng = np.random.default_rng(6)
    a, b = rng.normal(0.0, 1.0, 12), rng.normal(0.2, 2.0, 20)
    r = tost(a, b, 1.0, paired=False, alpha=0.1)
    lower = stats.ttest_ind(a - (-1.0), b, equal_var=False, alternative="greater")
    upper = stats.ttest_ind(a - 1.0, b, equal_var=False, alternative="less")
    assert (r.p_lower, r.p_upper, r.df) == pytest.approx((lower.pvalue, upper.pvalue, lower.df), rel=1e-10)
    ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.8)
    assert (r.low, r.high) == pytest.approx((ci.low, ci.high), rel=1e-10)
    assert r.test == "Welch t" and (r.n_a, r.n_b) == (12, 20)


def test_tost_against_statsmodels():
    ws = pytest.importorskip("statsmodels.stats.weightstats")
    proportion = pytest.importorskip("statsmodels.stats.proportion")
    rng = np.random.default_rng(7)
    a, b = rng.normal(0, 1, 15), rng.normal(0.1, 1.5, 25)
    assert tost(a, b, (-0.5, 1.0), paired=False).p_value == pytest.approx(
        ws.ttost_ind(a, b, -0.5, 1.0, usevar="unequal")[0], rel=1e-10
    )
    c = a + rng.normal(0, 0.2, 15)
    assert tost(a, c, 0.2, paired=True).p_value == pytest.approx(ws.ttost_paired(a, c, -0.2, 0.2)[0], rel=1e-10)
    ref = proportion.tost_proportions_2indep(30, 200, 41, 210, -0.1, 0.08, method="agresti-caffo", compare="diff")
    assert tost_proportions(30, 200, 41, 210, (-0.1, 0.08)).p_value == pytest.approx(ref.pvalue, rel=1e-10)


def test_tost_proportions_by_hand():
    # Agresti-Caffo: p~ = 13/102 and 6/82; d~ = 0.05428; se = sqrt(p~a(1-p~a)/102 + p~b(1-p~b)/82)
    r = tost_proportions(12, 100, 5, 80, 0.1)
    pa, pb = 13 / 102, 6 / 82
    se = math.sqrt(pa * (1 - pa) / 102 + pb * (1 - pb) / 82)
    assert r.p_upper == pytest.approx(stats.norm.cdf((pa - pb - 0.1) / se), rel=1e-12)
    assert r.p_lower == pytest.approx(stats.norm.sf((pa - pb + 0.1) / se), rel=1e-12)
    assert (r.low, r.high) == pytest.approx((pa - pb - 1.6448536 * se, pa - pb + 1.6448536 * se), rel=1e-6)
    assert r.difference == pytest.approx(12 / 100 - 5 / 80) and r.test == "Agresti-Caffo z"


def test_tost_error_rate_at_the_margin_and_power_inside():
    # Paired differences N(delta, 0.2), n = 40, margin 0.1 (the 90% interval, +-0.053, fits inside the region). At
    # delta = 0.1, on the margin, equivalence may be claimed at most alpha of the time, and about alpha here since
    # the lower test always rejects (Schuirmann 1987). At delta = 0 the claim rate is the power: each one-sided test
    # fails with probability P(T < t_crit), T noncentral t (39 df, noncentrality 0.1 / se), and the two failures
    # almost never happen together, so the power is about 1 - 2 P(T < t_crit).
    rng = np.random.default_rng(8)
    mc = math.sqrt(0.05 * 0.95 / 3000)

    def claims(delta):
        return np.mean(
            [tost(rng.normal(delta, 0.2, 40), np.zeros(40), 0.1, paired=True).equivalent for _ in range(3000)]
        )

    assert abs(claims(0.1) - 0.05) < 3 * mc
    se = 0.2 / math.sqrt(40)
    power = 1 - 2 * stats.nct.cdf(stats.t.ppf(0.95, 39), 39, 0.1 / se)
    assert abs(claims(0.0) - power) < 0.03


def test_tost_without_spread():
    r = tost([1.0, 1.0, 1.0], [1.0, 1.0, 1.0], 0.1, paired=True)
    assert r.equivalent and r.p_value == 0.0 and (r.low, r.high) == (0.0, 0.0)
    assert not tost([1.0, 1.0], [0.5, 0.5], 0.1, paired=True).equivalent


# --- bad input ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda: tost([1.0, 2.0], [1.0], 0.1, paired=True),
        lambda: tost([1.0, 2.0], [1.0, 2.0], -0.1, paired=True),
        lambda: tost([1.0, 2.0], [1.0, 2.0], 0.1, paired=False, alpha=0.6),
        lambda: tost_proportions(5, 3, 1, 10, 0.1),
    ],
)
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()
