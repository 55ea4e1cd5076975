"""Paired comparisons against scipy.stats (bootstrap with paired=True, permutation_test) on the same data and
seeds: intervals, exact and sampled permutation p-values, and Cohen's d_z by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from genlab.stats.paired import cohens_dz, paired_bootstrap, paired_permutation_test

RNG = np.random.default_rng(2024)
SKEWED = RNG.exponential(size=40)
PAIRED_B = SKEWED + RNG.normal(0.15, 0.3, size=40)


@pytest.mark.parametrize("method", ["percentile", "basic", "bca"])
def test_paired_bootstrap_equals_scipy_paired(method):
    ours = paired_bootstrap(SKEWED, PAIRED_B, n_resamples=1000, method=method, seed=3)
    ref = stats.bootstrap(
        (SKEWED, PAIRED_B),
        lambda a, b, axis: a.mean(axis=axis) - b.mean(axis=axis),
        paired=True,
        n_resamples=1000,
        method=method,
        rng=3,
    )
    assert (ours.low, ours.high) == pytest.approx(
        (ref.confidence_interval.low, ref.confidence_interval.high), rel=1e-12, abs=1e-12
    )
    assert ours.difference == pytest.approx(SKEWED.mean() - PAIRED_B.mean())
    assert ours.effect_size == pytest.approx(cohens_dz(SKEWED, PAIRED_B))


def test_paired_bootstrap_p_value_and_sign():
    assert paired_bootstrap(SKEWED, SKEWED + 1.0, n_resamples=999).p_value == pytest.approx(1 / 1000)
    same = paired_bootstrap(SKEWED, SKEWED[::-1].copy(), n_resamples=999)
    assert same.low < same.difference < same.high and same.p_value > 0.5  # same scores in another order
    assert paired_bootstrap(PAIRED_B, SKEWED, n_resamples=999).low > 0


@pytest.mark.parametrize("alternative", ["two-sided", "less", "greater"])
@pytest.mark.parametrize("n", [6, 11])
def test_exact_permutation_p_equals_scipy(alternative, n):
    a = np.round(SKEWED[:n], 1)  # rounding makes ties and zero differences
    b = np.round(PAIRED_B[:n], 1)
    ours = paired_permutation_test(a, b, alternative=alternative)
    ref = stats.permutation_test(
        (a, b),
        lambda x, y, axis: np.mean(x - y, axis=axis),
        permutation_type="samples",
        alternative=alternative,
        n_resamples=9999,
    )
    assert ours.exact and ours.n_resamples == 2**n
    assert ours.p_value == ref.pvalue
    assert ours.difference == pytest.approx(np.mean(a - b))


def test_random_permutation_p_is_close_to_the_exact_one():
    a, b = SKEWED[:15], PAIRED_B[:15]
    exact = paired_permutation_test(a, b, n_resamples=2**15)
    sampled = paired_permutation_test(a, b, n_resamples=4000, seed=5)
    assert exact.exact and not sampled.exact
    sd = math.sqrt(exact.p_value * (1 - exact.p_value) / 4000)
    assert abs(sampled.p_value - exact.p_value) < 4 * sd + 1 / 4000
    ref = stats.permutation_test(
        (a, b), lambda x, y, axis: np.mean(x - y, axis=axis), permutation_type="samples", n_resamples=4000, rng=5
    )
    assert abs(sampled.p_value - ref.pvalue) < 6 * sd + 2 / 4000  # two independent Monte Carlo estimates


def test_cohens_dz_hand_worked():
    # differences 2, 1, 2, 1: mean 1.5, sd (ddof=1) = sqrt(1/3)
    assert cohens_dz([3, 4, 5, 6], [1, 3, 3, 5]) == pytest.approx(1.5 / math.sqrt(1 / 3))
    assert math.isnan(cohens_dz([1, 2], [1, 2])) and cohens_dz([2, 3], [1, 2]) == math.inf


@pytest.mark.parametrize(
    "call",
    [
        lambda: paired_bootstrap([1.0, 2.0], [1.0, 3.0], method="studentized"),
        lambda: paired_bootstrap([1.0, 2.0], [1.0]),
        lambda: paired_permutation_test([1.0], [2.0], alternative="two"),
    ],
)
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()
