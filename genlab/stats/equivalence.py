"""Equivalence: is a difference small enough to ignore? Two one-sided tests (TOST) against a margin stated in
advance (Schuirmann 1987; Lakens 2017), never an ad-hoc band around a point estimate.

- :func:`tost`: two means, paired (the same items) or independent (Welch);
- :func:`tost_proportions`: two independent proportions on the Agresti-Caffo scale.

Equivalence is shown when the 1 - 2 alpha interval of the difference lies inside the margins; failing to show it
is not evidence of a difference.

>>> r = tost([0.50, 0.52, 0.49, 0.51, 0.50], [0.50, 0.51, 0.50, 0.52, 0.49], 0.05, paired=True)
>>> r.test, r.equivalent
('paired t', True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm, t

from genlab.stats.intervals import _scores


@dataclass(frozen=True)
class EquivalenceTest:
    difference: float  # a - b: mean difference, or k_a / n_a - k_b / n_b for proportions
    low: float  # the 1 - 2 alpha confidence interval of the difference
    high: float
    margin_low: float  # equivalence region (margin_low, margin_high), stated before seeing the data
    margin_high: float
    p_lower: float  # one-sided test of H0: difference <= margin_low
    p_upper: float  # one-sided test of H0: difference >= margin_high
    p_value: float  # max(p_lower, p_upper), the TOST p-value
    equivalent: bool  # p_value < alpha, the same as the interval lying inside the margins
    alpha: float
    confidence: float  # 1 - 2 alpha
    test: str  # "paired t", "Welch t" or "Agresti-Caffo z"
    df: float  # degrees of freedom of the t reference distribution (inf for z)
    n_a: int
    n_b: int


def _margins(margin, alpha: float) -> tuple[float, float]:
    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha must be in (0, 0.5), e.g. 0.05 (the interval is 1 - 2 alpha); got {alpha!r}")
    if isinstance(margin, (int, float, np.integer, np.floating)) and not isinstance(margin, bool):
        low, high = -float(margin), float(margin)
    elif isinstance(margin, (tuple, list)) and len(margin) == 2:
        low, high = float(margin[0]), float(margin[1])
    else:
        raise ValueError(f"margin must be a positive number m (region -m..m) or a pair (low, high), got {margin!r}")
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(f"the equivalence region needs low < high, both finite; got ({low}, {high})")
    return low, high


def _two_one_sided(diff, se, df, low, high, alpha, dist) -> tuple[float, float, float, float]:
    """(p_lower, p_upper, ci_low, ci_high) for a difference with standard error se and reference distribution."""
    if se == 0:  # no spread: the difference is known exactly
        return float(diff <= low), float(diff >= high), diff, diff
    p_lower = float(dist.sf((diff - low) / se, *df))
    p_upper = float(dist.cdf((diff - high) / se, *df))
    half = float(dist.ppf(1 - alpha, *df)) * se
    return p_lower, p_upper, diff - half, diff + half


def tost(
    a: Sequence[float],
    b: Sequence[float],
    margin: float | tuple[float, float],
    *,
    paired: bool,
    alpha: float = 0.05,
) -> EquivalenceTest:
    """Two one-sided t-tests for equivalence of means: is mean(a) - mean(b) inside (-margin, margin)? (Schuirmann
    1987; Lakens 2017, "Equivalence tests", Soc. Psychol. Personal. Sci. 8:355-362).

    H0: the difference is at most ``margin_low`` or at least ``margin_high``; equivalence is shown by rejecting both
    one-sided nulls at ``alpha``: p_lower tests difference <= low, p_upper tests difference >= high, and the TOST
    p-value is their maximum. Equivalently the 1 - 2 alpha (90% for alpha = 0.05) confidence interval lies inside
    the margins. ``paired=True``: a and b score the same items (e.g. a model's and the human continuation of the same
    prompt): a t-test on the differences, df = n - 1. ``paired=False``: Welch's t with Welch-Satterthwaite df.
    ``margin``: m for (-m, m), or (low, high), in the score's units; state it before looking at the data. Same
    p-values as statsmodels' ``ttost_paired`` / ``ttost_ind(..., usevar="unequal")``.

    >>> human = [0.50, 0.61, 0.47, 0.55, 0.58, 0.52, 0.49, 0.60, 0.53, 0.56]
    >>> model = [0.52, 0.60, 0.49, 0.54, 0.57, 0.55, 0.50, 0.58, 0.55, 0.55]
    >>> r = tost(model, human, 0.03, paired=True)
    >>> round(r.difference, 3), round(r.low, 4), round(r.high, 4), round(r.p_value, 4), r.equivalent
    (0.004, -0.0063, 0.0143, 0.0006, True)

    **Limitations.** The conclusion is only as meaningful as the margin: a wide margin makes anything "equivalent",
    so justify it (e.g. the smallest difference that matters, or the spread between two human samples) before the
    data are seen. Failing to show equivalence is not evidence of a difference. The t reference assumes roughly
    normal means (fine for a few dozen items; check with :func:`genlab.stats.bootstrap_ci` when skewed).
    """
    low, high = _margins(margin, alpha)
    if paired:
        x, y = _scores(a, "a"), _scores(b, "b")
        if len(x) != len(y):
            raise ValueError(f"paired=True needs a and b scored on the same items; got {len(x)} and {len(y)} scores")
        if len(x) < 2:
            raise ValueError("need at least 2 paired items")
        d = x - y
        diff, se, df, test = float(d.mean()), float(d.std(ddof=1) / math.sqrt(len(d))), len(d) - 1.0, "paired t"
    else:
        x, y = _scores(a, "a"), _scores(b, "b")
        if len(x) < 2 or len(y) < 2:
            raise ValueError(f"Welch's test needs at least 2 scores per sample; got {len(x)} and {len(y)}")
        va, vb = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
        diff, se, test = float(x.mean() - y.mean()), float(math.sqrt(va + vb)), "Welch t"
        df = (va + vb) ** 2 / (va**2 / (len(x) - 1) + vb**2 / (len(y) - 1)) if va + vb > 0 else float("nan")
    p_lower, p_upper, ci_low, ci_high = _two_one_sided(diff, se, (df,), low, high, alpha, t)
    p_value = max(p_lower, p_upper)
    return EquivalenceTest(
        diff,
        ci_low,
        ci_high,
        low,
        high,
        p_lower,
        p_upper,
        p_value,
        bool(p_value < alpha),
        alpha,
        1 - 2 * alpha,
        test,
        float(df),
        len(x),
        len(y),
    )


def tost_proportions(
    k_a: int, n_a: int, k_b: int, n_b: int, margin: float | tuple[float, float], *, alpha: float = 0.05
) -> EquivalenceTest:
    """Two one-sided z-tests for equivalence of two independent proportions, k_a / n_a - k_b / n_b, on the
    Agresti-Caffo scale (Agresti & Caffo 2000: add one success and one failure to each sample).

    With p~ = (k + 1) / (n + 2): d~ = p~_a - p~_b, se = sqrt(p~_a (1 - p~_a) / (n_a + 2) + p~_b (1 - p~_b) /
    (n_b + 2)); p_lower = P(Z >= (d~ - low) / se), p_upper = P(Z <= (d~ - high) / se), and the 1 - 2 alpha interval
    d~ +- z se. ``difference`` is the raw k_a / n_a - k_b / n_b. Same as statsmodels'
    ``tost_proportions_2indep(..., method="agresti-caffo")``.

    >>> r = tost_proportions(52, 400, 47, 380, 0.05)  # repetition in 13% vs 12.4% of generations
    >>> round(r.difference, 4), round(r.p_value, 4), r.equivalent
    (0.0063, 0.0335, True)

    **Limitations.** Independent samples only (two sets of generations, not the same prompts scored twice). A normal
    approximation: the Agresti-Caffo adjustment keeps coverage near nominal from about 10 trials per sample, but
    rates near 0 or 1 with small n remain approximate. The margin must be stated in advance, in proportion units.
    """
    for name, v in (("k_a", k_a), ("n_a", n_a), ("k_b", k_b), ("n_b", n_b)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise ValueError(f"{name} must be an integer count, got {v!r}")
    if not (0 <= k_a <= n_a and 0 <= k_b <= n_b and n_a >= 1 and n_b >= 1):
        raise ValueError(f"need 0 <= k <= n and n >= 1 in both samples; got {k_a}/{n_a} and {k_b}/{n_b}")
    low, high = _margins(margin, alpha)
    pa, pb = (k_a + 1) / (n_a + 2), (k_b + 1) / (n_b + 2)
    se = math.sqrt(pa * (1 - pa) / (n_a + 2) + pb * (1 - pb) / (n_b + 2))
    p_lower, p_upper, ci_low, ci_high = _two_one_sided(pa - pb, se, (), low, high, alpha, norm)
    p_value = max(p_lower, p_upper)
    return EquivalenceTest(
        k_a / n_a - k_b / n_b,
        ci_low,
        ci_high,
        low,
        high,
        p_lower,
        p_upper,
        p_value,
        bool(p_value < alpha),
        alpha,
        1 - 2 * alpha,
        "Agresti-Caffo z",
        math.inf,
        int(n_a),
        int(n_b),
    )
