"""Paired comparisons of two systems scored on the same items: the difference, its interval, a p-value and a
paired effect size.

- ``paired_bootstrap``: the bootstrap interval of statistic(a) - statistic(b), items resampled together (Koehn
  2004; Berg-Kirkpatrick et al. 2012), and a two-sided bootstrap p-value;
- ``paired_permutation_test``: the sign-flip permutation test (exact for small n; Fisher 1935);
- ``cohens_dz``: the paired effect size d_z (Cohen 1988).

Several training runs per system: :func:`genlab.stats.paired_hierarchical_comparison`. A family of such comparisons:
:func:`genlab.stats.adjust_family`.

>>> a, b = [0.9, 0.8, 0.7, 0.9, 0.6, 0.8], [0.5, 0.6, 0.4, 0.7, 0.5, 0.6]
>>> paired_bootstrap(a, b, n_resamples=999).low > 0, paired_permutation_test(a, b).p_value
(True, 0.03125)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from genlab.stats.intervals import (
    _BATCH_ELEMENTS,
    Alternative,
    Method,
    Statistic,
    _bootstrap_distribution,
    _check,
    _interval,
    _scores,
    _vectorized,
    bootstrap_p_value,
)


@dataclass(frozen=True)
class PairedBootstrap:
    difference: float  # statistic(a) - statistic(b)
    low: float  # confidence interval of the difference
    high: float
    p_value: float  # two-sided, H0: no difference (bootstrap distribution shifted to 0)
    effect_size: float  # Cohen's d_z = mean(a - b) / sd(a - b), ddof=1
    confidence: float
    method: str
    n: int
    n_resamples: int


@dataclass(frozen=True)
class PermutationTest:
    difference: float  # statistic(a - b) on the observed pairs
    p_value: float
    effect_size: float  # Cohen's d_z = mean(a - b) / sd(a - b), ddof=1
    alternative: str
    exact: bool  # True: all 2**n sign flips were enumerated
    n: int
    n_resamples: int  # sign flips used (2**n when exact)


def _paired(a: Sequence[float], b: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    a, b = _scores(a, "a"), _scores(b, "b")
    if len(a) != len(b):
        raise ValueError(f"a and b must score the same items in the same order; got {len(a)} and {len(b)} scores")
    return a, b


def cohens_dz(a: Sequence[float], b: Sequence[float]) -> float:
    """Paired effect size d_z = mean(a - b) / sd(a - b) (sd with ddof=1; Cohen 1988; Lakens 2013, eq. 6).

    nan with fewer than 2 items or when every difference is 0; +-inf when all differences are equal and not 0.

    >>> round(cohens_dz([3.0, 4.0, 5.0, 6.0], [1.0, 3.0, 3.0, 5.0]), 4)
    2.5981
    """
    a, b = _paired(a, b)
    d = a - b
    if len(d) < 2:
        return float("nan")
    sd = d.std(ddof=1)
    if sd == 0:
        return float("nan") if d.mean() == 0 else float(np.sign(d.mean()) * np.inf)
    return float(d.mean() / sd)


def paired_bootstrap(
    a: Sequence[float],
    b: Sequence[float],
    statistic: Statistic = np.mean,
    *,
    n_resamples: int = 9999,
    confidence: float = 0.95,
    method: Method = "percentile",
    seed: int | None = 0,
) -> PairedBootstrap:
    """Paired bootstrap of ``statistic(a) - statistic(b)`` for two systems scored on the same items.

    Items are resampled together (a_i stays with b_i), which removes the between-item variance that an unpaired
    comparison would carry (Koehn 2004; Berg-Kirkpatrick et al. 2012). The interval is as in ``bootstrap_ci`` (same
    resamples as ``scipy.stats.bootstrap((a, b), ..., paired=True, rng=seed)``). The p-value is two-sided for H0
    "no difference", from the bootstrap distribution shifted to 0: (1 + #{|d* - d| >= |d|}) / (n_resamples + 1)
    (Efron & Tibshirani 1993, 16.4). The effect size is Cohen's d_z of the per-item differences.

    >>> r = paired_bootstrap([0.9, 0.8, 0.7, 0.9, 0.6, 0.8], [0.5, 0.6, 0.4, 0.7, 0.5, 0.6], n_resamples=999)
    >>> round(r.difference, 4), r.low > 0, r.p_value < 0.05
    (0.2333, True, True)
    """
    a, b = _paired(a, b)
    _check(n_resamples, confidence, method)
    vec = _vectorized(statistic)

    def stat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return vec(x) - vec(y)

    diff = float(stat(a[None, :], b[None, :])[0])
    theta_b = _bootstrap_distribution((a, b), stat, int(n_resamples), np.random.default_rng(seed))
    low, high = _interval((a, b), stat, diff, theta_b, confidence, method)
    p_value = bootstrap_p_value(theta_b, diff)
    return PairedBootstrap(diff, low, high, p_value, cohens_dz(a, b), confidence, method, len(a), int(n_resamples))


def _tail_p_values(null: np.ndarray, observed: float, exact: bool) -> tuple[float, float]:
    """(P(null <= observed), P(null >= observed)) of a permutation distribution, as ``scipy.stats.permutation_test``
    computes them: values within its tolerance of the observed one count as reaching it, and a random (not exact)
    test counts the observed arrangement as one of its resamples (Phipson & Smyth 2010)."""
    adjust = 0 if exact else 1
    gamma = abs(observed) * np.finfo(np.float64).eps * 100  # scipy's tolerance for numerically equal values
    p_less = (np.count_nonzero(null <= observed + gamma) + adjust) / (len(null) + adjust)
    p_greater = (np.count_nonzero(null >= observed - gamma) + adjust) / (len(null) + adjust)
    return p_less, p_greater


def paired_permutation_test(
    a: Sequence[float],
    b: Sequence[float],
    statistic: Statistic = np.mean,
    *,
    n_resamples: int = 9999,
    alternative: Alternative = "two-sided",
    seed: int | None = 0,
) -> PermutationTest:
    """Paired permutation (sign-flip) test of ``statistic(a - b)``: H0 says a_i and b_i are exchangeable.

    Under H0 each difference is as likely to have either sign, so the null distribution is ``statistic`` of the
    differences with random signs (Fisher 1935; Good 2005). All 2**n sign vectors are used when 2**n <=
    ``n_resamples`` (exact test), otherwise ``n_resamples`` random ones with the +1 correction. p-values follow
    ``scipy.stats.permutation_test(..., permutation_type="samples")``, including its tolerance for ties; the
    exact p-values are identical to it.

    >>> r = paired_permutation_test([0.9, 0.8, 0.7, 0.9, 0.6, 0.8], [0.5, 0.6, 0.4, 0.7, 0.5, 0.6])
    >>> r.exact, r.n_resamples, r.p_value  # only the observed signs (all +) reach the observed mean: 2 / 64
    (True, 64, 0.03125)
    """
    a, b = _paired(a, b)
    _check(n_resamples)
    if alternative not in ("two-sided", "less", "greater"):
        raise ValueError(f"alternative must be 'two-sided', 'less' or 'greater', got {alternative!r}")
    stat = _vectorized(statistic)
    d = a - b
    n = len(d)
    observed = float(stat(d[None, :])[0])
    exact = n < 63 and 2**n <= n_resamples
    if exact:
        bits = (np.arange(2**n, dtype=np.int64)[:, None] >> np.arange(n)[None, :]) & 1
        null = stat(np.where(bits == 1, -d, d))
    else:
        rng = np.random.default_rng(seed)
        batch = max(1, _BATCH_ELEMENTS // n)
        null = np.concatenate(
            [
                stat(np.where(rng.integers(0, 2, (min(batch, n_resamples - s), n)) == 1, -d, d))
                for s in range(0, n_resamples, batch)
            ]
        )
    p_less, p_greater = _tail_p_values(null, observed, exact)
    p = {"less": p_less, "greater": p_greater, "two-sided": 2 * min(p_less, p_greater)}[alternative]
    return PermutationTest(observed, float(min(p, 1.0)), cohens_dz(a, b), alternative, exact, n, len(null))
