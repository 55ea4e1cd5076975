"""Power of the paired t-test and the number of pairs it needs (Cohen 1988), for planning a comparison before
running it and for saying what a null result could have detected.

>>> round(power_paired_t(0.5, 34), 4), n_for_power(0.5)
(0.8078, 34)
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import nct, t

from genlab.stats.intervals import Alternative


def _power_args(effect_size_dz: float, alpha: float, alternative: str) -> None:
    if not np.isfinite(effect_size_dz):
        raise ValueError(f"effect_size_dz must be a finite number (Cohen's d_z), got {effect_size_dz!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), e.g. 0.05; got {alpha!r}")
    if alternative not in ("two-sided", "less", "greater"):
        raise ValueError(f"alternative must be 'two-sided', 'less' or 'greater', got {alternative!r}")


def power_paired_t(effect_size_dz: float, n: int, alpha: float = 0.05, alternative: Alternative = "two-sided") -> float:
    """Power of the paired t-test with n pairs when the true effect is Cohen's d_z = mean(a - b) / sd(a - b).

    The statistic follows a noncentral t with df = n - 1 and noncentrality d_z sqrt(n) (Cohen 1988, ch. 2): power =
    P(T > t_{1-alpha/2}) + P(T < -t_{1-alpha/2}) for two-sided tests, one tail otherwise ("greater": H1 says a > b).
    Same as statsmodels' ``TTestPower().power`` and G*Power's "means: difference between two dependent means".

    >>> round(power_paired_t(0.5, 34), 4)  # Cohen's "medium" paired effect with 34 pairs
    0.8078

    **Limitations.** Assumes normal differences and a known d_z; a d_z guessed from a small pilot is itself
    uncertain, so plan for a range. For 0/1 scores the t-test is an approximation. Power for one test: within a
    corrected family (Holm over m tests) use alpha / m for the first test as a conservative plan.
    """
    _power_args(effect_size_dz, alpha, alternative)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an integer number of pairs >= 2, got {n!r}")
    df, nc = n - 1, effect_size_dz * math.sqrt(n)
    if alternative == "two-sided":
        crit = t.ppf(1 - alpha / 2, df)
        return float(nct.sf(crit, df, nc) + nct.cdf(-crit, df, nc))
    crit = t.ppf(1 - alpha, df)
    return float(nct.sf(crit, df, nc) if alternative == "greater" else nct.cdf(-crit, df, nc))


def n_for_power(
    effect_size_dz: float,
    power: float = 0.8,
    alpha: float = 0.05,
    alternative: Alternative = "two-sided",
    *,
    max_n: int = 10**7,
) -> int:
    """Smallest number of pairs n for which :func:`power_paired_t` reaches ``power`` (noncentral t, Cohen 1988).

    Searches integers (power grows with n for a fixed effect), so the answer is the n to plan for, not a fraction.

    >>> n_for_power(0.5), n_for_power(0.2)  # G*Power: 34 and 199 pairs for 80% power at alpha = 0.05
    (34, 199)

    **Limitations.** As :func:`power_paired_t`: the answer is only as good as the assumed d_z. Items are the unit
    here; with several training runs per arm the run-to-run variance also limits power, and more items cannot
    remove it (see :func:`genlab.stats.paired_hierarchical_comparison`).
    """
    _power_args(effect_size_dz, alpha, alternative)
    if not alpha < power < 1:
        raise ValueError(f"power must lie between alpha ({alpha}) and 1, e.g. 0.8; got {power!r}")
    if (
        effect_size_dz == 0
        or (alternative == "greater" and effect_size_dz < 0)
        or (alternative == "less" and effect_size_dz > 0)
    ):
        raise ValueError(
            f"no sample size gives power {power} for d_z={effect_size_dz} with alternative={alternative!r}"
        )
    lo, hi = 2, 2
    while power_paired_t(effect_size_dz, hi, alpha, alternative) < power:
        lo, hi = hi + 1, hi * 2
        if hi > max_n:
            raise ValueError(
                f"more than max_n={max_n} pairs needed for d_z={effect_size_dz}; is the effect size right?"
            )
    while lo < hi:  # smallest n in [lo, hi] with enough power
        mid = (lo + hi) // 2
        if power_paired_t(effect_size_dz, mid, alpha, alternative) >= power:
            hi = mid
        else:
            lo = mid + 1
    return hi
