"""The Rogan-Gladen correction for a classifier's error: the published formula, and coverage simulations with known
prevalence, sensitivity and specificity (where the binomial bootstrap collapses and the Jeffreys draws do not)."""

from __future__ import annotations

import numpy as np
import pytest

from genlab.stats.intervals import exact_binomial_ci
from genlab.stats.misclassification import corrected_prevalence, rogan_gladen


def test_rogan_gladen_is_the_published_formula():
    for q, se, sp in [(0.3, 0.8, 0.9), (0.1, 0.6, 0.97), (0.5, 1.0, 1.0), (0.35, 0.55, 0.7)]:
        assert rogan_gladen(q, se, sp) == pytest.approx((q + sp - 1) / (se + sp - 1))
    # the formula inverts q = Se p + (1 - Sp)(1 - p)
    for p in (0.0, 0.1, 0.5, 0.9, 1.0):
        assert rogan_gladen(0.7 * p + 0.05 * (1 - p), 0.7, 0.95) == pytest.approx(p)
    assert rogan_gladen(0.01, 0.8, 0.9) == 0.0 and rogan_gladen(0.99, 0.8, 0.99) == 1.0  # clipped
    with pytest.raises(ValueError, match="no better than chance"):
        rogan_gladen(0.3, 0.4, 0.6)
    with pytest.raises(ValueError, match="share"):
        rogan_gladen(1.3, 0.9, 0.9)
    with pytest.raises(ValueError, match="integer counts"):
        corrected_prevalence(0.5, 10, 1, 2, 1, 2)
    with pytest.raises(ValueError, match="0 <= k <= n"):
        corrected_prevalence(11, 10, 1, 2, 1, 2)


def _coverage(p, se, sp, n, n_pos, n_neg, reps, method, seed=2026):
    """Share of simulated replicates whose corrected interval covers the true prevalence p; the raw flagged
    share's exact interval's coverage; the mean estimate. Per replicate: true labels and flags for n generations
    from a classifier with sensitivity se and specificity sp, and a fresh labelled sample of n_pos and n_neg."""
    rng = np.random.default_rng(seed)
    covered = raw_covered = 0
    estimates = []
    for r in range(reps):
        truth = rng.random(n) < p
        flags = np.where(truth, rng.random(n) < se, rng.random(n) < 1 - sp)
        tp, tn = int(rng.binomial(n_pos, se)), int(rng.binomial(n_neg, sp))
        k = int(flags.sum())
        c = corrected_prevalence(k, n, tp, n_pos, tn, n_neg, n_resamples=999, method=method, seed=r)
        covered += c.low <= p <= c.high
        raw = exact_binomial_ci(k, n)
        raw_covered += raw.low <= p <= raw.high
        estimates.append(c.estimate)
    return covered / reps, raw_covered / reps, float(np.mean(estimates))


def test_the_corrected_interval_covers_a_known_prevalence_at_about_the_nominal_rate():
    """Direct simulation with known prevalence, sensitivity and specificity: the corrected interval covers the
    prevalence in about 95% of replicates and the mean estimate is about right, while the raw flagged share's exact
    interval mostly misses it (q = 0.6 * 0.3 + 0.1 * 0.7 = 0.25, not 0.3)."""
    for method in ("jeffreys", "binomial"):
        coverage, raw_coverage, mean = _coverage(0.3, 0.6, 0.9, 800, 300, 600, reps=400, method=method)
        assert 0.90 <= coverage <= 0.98, (method, coverage)
        assert abs(mean - 0.3) < 0.01
        assert raw_coverage < 0.25


def test_the_jeffreys_interval_keeps_its_coverage_where_the_binomial_bootstrap_collapses():
    """Few generations, a rare outcome and a weak classifier (the default model's case: a dozen to a hundred
    continuations, sensitivity about 0.16): k is often 0, where the binomial bootstrap's interval is [0, 0]."""
    jeffreys, _, _ = _coverage(0.1, 0.16, 0.996, 24, 510, 2000, reps=400, method="jeffreys")
    binomial, _, _ = _coverage(0.1, 0.16, 0.996, 24, 510, 2000, reps=400, method="binomial")
    assert jeffreys >= 0.92 and binomial < 0.6, (jeffreys, binomial)
    zero = corrected_prevalence(0, 24, 81, 510, 1993, 2000, n_resamples=2000)
    assert zero.estimate == 0 and zero.high > 0.3  # 0 flagged of 24 does not rule out a high prevalence
    assert corrected_prevalence(0, 24, 81, 510, 1993, 2000, method="binomial").high == 0.0
    with pytest.raises(ValueError, match="jeffreys"):
        corrected_prevalence(0, 24, 81, 510, 1993, 2000, method="wald")
