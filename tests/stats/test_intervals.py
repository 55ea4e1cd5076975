"""Intervals against scipy.stats (bootstrap, binomtest) on the same data and seeds, plus properties that hold
whatever the seed: coverage, Clopper-Pearson conservativeness, the jackknife by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from genlab.stats import intervals
from genlab.stats.intervals import (
    bootstrap_ci,
    bootstrap_p_value,
    corpus_bootstrap,
    corpus_jackknife,
    exact_binomial_ci,
    percentile_interval,
)

RNG = np.random.default_rng(2024)
SKEWED = RNG.exponential(size=40)


def trimmed_mean(x):  # a statistic without an ``axis`` argument: applied row by row
    return stats.trim_mean(x, 0.1)


@pytest.mark.parametrize("method", ["percentile", "basic", "bca"])
@pytest.mark.parametrize("statistic", [np.mean, np.median, trimmed_mean])
def test_bootstrap_ci_equals_scipy(method, statistic):
    n_resamples = 200 if statistic is trimmed_mean else 1000  # row by row: slow in both
    ours = bootstrap_ci(SKEWED, statistic, n_resamples=n_resamples, method=method, seed=7)
    ref = stats.bootstrap((SKEWED,), statistic, n_resamples=n_resamples, method=method, rng=7)
    assert (ours.low, ours.high) == pytest.approx(
        (ref.confidence_interval.low, ref.confidence_interval.high), rel=1e-12, abs=1e-12
    )
    assert ours.estimate == pytest.approx(statistic(SKEWED)) and ours.n == 40 and ours.method == method


def test_percentile_interval_coverage():
    # 95% intervals for the mean of N(0, 1) samples of 30: coverage should be near 0.95 (a little below, as
    # percentile intervals are for small n); with 200 repetitions the binomial sd of the estimate is about 0.015.
    covered = []
    rng = np.random.default_rng(11)
    for i in range(200):
        r = bootstrap_ci(rng.normal(size=30), n_resamples=500, seed=i)
        covered.append(r.low <= 0.0 <= r.high)
    assert 0.88 <= np.mean(covered) <= 0.99


# --- coverage simulations ----------------------------------------------------------------------------------------
# Many small samples from a known distribution; the share of 95% intervals that contain the true value, with a
# fixed seed. 2,000 samples: the Monte Carlo sd of a coverage near 0.92 is sqrt(0.92 * 0.08 / 2000) = 0.006.
N_SIM = 2000
MC_SD = math.sqrt(0.95 * 0.05 / N_SIM)


def _coverage(draw, truth, method, n=15, seed=0):
    """(coverage, share of intervals wholly below the truth, share wholly above) over N_SIM samples of n."""
    rng = np.random.default_rng(seed)
    below = above = 0
    for i in range(N_SIM):
        r = bootstrap_ci(draw(rng, n), n_resamples=1000, method=method, seed=i)
        below += r.high < truth
        above += r.low > truth
    return 1 - (below + above) / N_SIM, below / N_SIM, above / N_SIM


@pytest.mark.parametrize("method", ["percentile", "basic", "bca"])
def test_coverage_of_the_mean_of_15_normal_values(method):
    # The bootstrap distribution of a normal mean is about N(mean, s_ml^2 / n) with s_ml^2 = s^2 (n - 1) / n, so a
    # 95% interval covers about P(|t_{n-1}| <= 1.96 sqrt((n - 1) / n)) = 0.921 for n = 15 (the bootstrap's
    # "narrowness bias", Hesterberg 2015); all three methods agree for a symmetric statistic.
    n = 15
    expected = 2 * stats.t.cdf(1.96 * math.sqrt((n - 1) / n), n - 1) - 1
    coverage, below, above = _coverage(lambda rng, n: rng.normal(size=n), 0.0, method)
    assert abs(coverage - expected) < 4 * MC_SD, (method, coverage, expected)
    assert abs(below - above) < 0.02  # symmetric misses


def test_coverage_of_the_mean_of_15_exponential_values():
    # A right-skewed mean: the true mean lies above the percentile interval more often than below it; the basic
    # interval reflects the skew the wrong way and is worse; BCa corrects part of it (Efron & Tibshirani 1993,
    # 14.3; DiCiccio & Efron 1996). All three still fall short of 0.95 at n = 15.
    runs = {m: _coverage(lambda rng, n: rng.exponential(size=n), 1.0, m) for m in ("percentile", "basic", "bca")}
    (pct, pct_below, _), (basic, basic_below, _), (bca, bca_below, _) = runs.values()
    assert basic_below > pct_below > bca_below + 0.01  # misses on the side the skew points to
    assert basic < pct < bca + 2 * MC_SD
    assert 0.87 <= bca <= 0.95 and 0.85 <= pct <= 0.93


def test_coverage_of_the_exact_binomial_interval():
    # k ~ Binomial(20, 0.3): Clopper-Pearson guarantees coverage >= 0.95; its exact coverage here is the sum of the
    # binomial probabilities of the k whose interval holds 0.3, and the simulation must agree with it.
    n, p = 20, 0.3
    exact = sum(
        stats.binom.pmf(k, n, p)
        for k in range(n + 1)
        if exact_binomial_ci(k, n).low <= p <= exact_binomial_ci(k, n).high
    )
    ks = np.random.default_rng(5).binomial(n, p, size=N_SIM)
    intervals = {k: exact_binomial_ci(int(k), n) for k in np.unique(ks)}
    simulated = np.mean([intervals[k].low <= p <= intervals[k].high for k in ks])
    assert exact >= 0.95 and simulated >= 0.95 - 3 * MC_SD
    assert abs(simulated - exact) < 4 * math.sqrt(exact * (1 - exact) / N_SIM)


def test_batched_resampling_agrees_in_distribution(monkeypatch):
    whole = bootstrap_ci(SKEWED, n_resamples=4000, seed=1)
    monkeypatch.setattr(intervals, "_BATCH_ELEMENTS", 400)  # 10 resamples per batch
    batched = bootstrap_ci(SKEWED, n_resamples=4000, seed=1)
    se = SKEWED.std(ddof=1) / math.sqrt(len(SKEWED))
    assert abs(batched.low - whole.low) < 0.2 * se and abs(batched.high - whole.high) < 0.2 * se


@pytest.mark.parametrize(
    "k,n,confidence", [(0, 20, 0.95), (3, 20, 0.95), (20, 20, 0.9), (7, 1000, 0.99), (1, 1, 0.95), (150, 300, 0.5)]
)
def test_clopper_pearson_equals_scipy_binomtest(k, n, confidence):
    ours = exact_binomial_ci(k, n, confidence)
    ref = stats.binomtest(k, n).proportion_ci(confidence_level=confidence, method="exact")
    assert (ours.low, ours.high) == pytest.approx((ref.low, ref.high), abs=1e-9)
    assert ours.estimate == k / n


def test_clopper_pearson_is_conservative():
    n = 30
    for p in (0.02, 0.1, 0.37, 0.5):
        coverage = sum(
            stats.binom.pmf(k, n, p)
            for k in range(n + 1)
            if exact_binomial_ci(k, n).low <= p <= exact_binomial_ci(k, n).high
        )
        assert coverage >= 0.95


def test_bootstrap_ci_draws_from_a_generator_as_a_loop_of_single_resamples_does():
    # several intervals from one stream (a Generator as seed) are those of the plain loop, one resample at a time,
    # and leave the stream where the loop leaves it
    groups, loop, ours = [SKEWED[:7], SKEWED[7:20], SKEWED[20:]], [], []
    rng = np.random.default_rng(3)
    for x in groups:
        boots = [x[rng.integers(0, len(x), len(x))].mean() for _ in range(300)]
        loop.append((x.mean(), *np.quantile(boots, [(1 - 0.9) / 2, 1 - (1 - 0.9) / 2])))
    state = rng.bit_generator.state
    rng = np.random.default_rng(3)
    for x in groups:
        r = bootstrap_ci(x, n_resamples=300, confidence=0.9, seed=rng)
        ours.append((r.estimate, r.low, r.high))
    assert ours == loop and rng.bit_generator.state == state


def test_percentile_interval_is_scipys_last_step():
    ref = stats.bootstrap((SKEWED,), np.mean, n_resamples=1000, method="percentile", rng=2)
    low, high = percentile_interval(ref.bootstrap_distribution, 0.95)
    assert (low, high) == (ref.confidence_interval.low, ref.confidence_interval.high)
    assert percentile_interval(np.arange(101.0), 0.5) == (25.0, 75.0)


def test_bootstrap_p_value_by_hand():
    # |d* - 1| = 0.5, 0.5, 1.0, 1.2: two reach |1|, so (1 + 2) / (4 + 1)
    assert bootstrap_p_value([0.5, 1.5, 2.0, -0.2], 1.0) == pytest.approx(0.6)
    assert bootstrap_p_value([0.9, 1.1], 1.0) == pytest.approx(1 / 3)  # never 0: the observed value counts
    assert bootstrap_p_value([-0.1, 0.1], 0.0) == 1.0


# --- corpus-level statistics ------------------------------------------------------------------------------------------
def test_jackknife_keeps_the_estimate_inside_where_the_bootstrap_does_not():
    """Zipf's coefficient of a corpus: bootstrap resamples duplicate texts and shift the statistic."""
    from genlab.metrics.repetition import zipf_coefficient

    rng = np.random.default_rng(0)
    vocab = [f"w{i}" for i in range(400)]
    weights = 1 / np.arange(1, 401)
    texts = [" ".join(rng.choice(vocab, size=30, p=weights / weights.sum())) for _ in range(24)]
    fn = lambda i: zipf_coefficient([texts[j] for j in i])  # noqa: E731
    est, low, high = corpus_jackknife(len(texts), fn, groups=8)
    assert low < est < high
    b_est, b_low, b_high = corpus_bootstrap(len(texts), fn, n_resamples=60)
    assert b_est == est
    # duplicated texts push the bootstrap's Zipf upwards: the estimate sits at the bottom edge of its interval
    assert (est - b_low) / (b_high - b_low) < 0.15
    with pytest.raises(ValueError, match="groups"):
        corpus_jackknife(3, fn, groups=4)


def test_grouped_jackknife_by_hand():
    """Two groups: se = |θ_(1) − θ_(2)| / 2 and the interval is the estimate ± t_{0.975, 1 df} · se."""
    x = np.array([1.0, 2.0, 3.0, 10.0])
    label = np.random.default_rng(0).permutation(4) % 2  # the grouping corpus_jackknife deals with seed 0
    without = [x[label != g].mean() for g in (0, 1)]
    est, low, high = corpus_jackknife(4, lambda i: float(x[i].mean()), groups=2, seed=0)
    assert est == pytest.approx(4.0)
    assert high - est == pytest.approx(stats.t.ppf(0.975, 1) * abs(without[0] - without[1]) / 2)
    assert est - low == pytest.approx(high - est)


def test_corpus_bootstrap_leaves_out_resamples_without_a_value():
    """A statistic that is nan on some resamples (here: those that draw item 0): the interval is the percentile
    interval of the others, the same resamples drawn by hand."""
    x = SKEWED[:12]

    def fn(idx):
        return float("nan") if 0 in idx[1:] else float(x[idx].mean())

    est, low, high = corpus_bootstrap(12, fn, n_resamples=300, confidence=0.9, seed=4)
    rng = np.random.default_rng(4)
    values = np.array([fn(rng.integers(0, 12, 12)) for _ in range(300)])
    assert np.isnan(values).sum() > 50
    alpha = (1 - 0.9) / 2
    assert est == x.mean() and (low, high) == tuple(np.nanquantile(values, [alpha, 1 - alpha]))
    nothing = corpus_bootstrap(5, lambda idx: float("nan"), n_resamples=10)
    assert np.isnan(nothing[1]) and np.isnan(nothing[2])


@pytest.mark.parametrize(
    "call",
    [
        lambda: bootstrap_ci([]),
        lambda: bootstrap_ci([1.0, float("nan")]),
        lambda: bootstrap_ci([[1.0, 2.0]]),
        lambda: bootstrap_ci([1.0, 2.0], confidence=95),
        lambda: bootstrap_ci([1.0, 2.0], method="bootstrap-t"),
        lambda: bootstrap_ci([1.0, 2.0], n_resamples=0),
        lambda: exact_binomial_ci(5, 3),
        lambda: exact_binomial_ci(0.5, 3),
    ],
)
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()
