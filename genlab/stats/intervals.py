"""Intervals for a metric value: bootstrap intervals of per-item scores, the one percentile step and bootstrap
p-value every resampling interval in genlab shares, exact binomial intervals, and resampling of whole corpora.

A metric computed on a few hundred generations is an estimate. These functions say how sure it is:

- ``bootstrap_ci``: a confidence interval for any statistic of per-item scores (percentile, basic or BCa; Efron &
  Tibshirani 1993; Davison & Hinkley 1997). With the same ``seed`` it draws the same resamples as
  ``scipy.stats.bootstrap(..., rng=seed)`` and so gives the same interval (one batch of resamples: ``n_resamples x n
  <= 2**22``).
- ``percentile_interval`` and ``bootstrap_p_value``: the last step of a bootstrap, from its distribution to an
  interval or a two-sided p-value, for resampling schemes built elsewhere (runs and items, utterances, two feature
  sets).
- ``exact_binomial_ci``: the Clopper-Pearson interval for a rate such as "12 of 200 generations repeat", and
  ``rate_table``: such rates per group, one row each.
- ``corpus_bootstrap`` and ``corpus_jackknife``: intervals for statistics of a whole corpus (Self-BLEU, Zipf,
  MAUVE), computed from item indices.

Paired comparisons of two systems are in :mod:`genlab.stats.paired`; several training runs per arm in
:mod:`genlab.stats.hierarchical`; equivalence ("close to human") in :mod:`genlab.stats.equivalence`; power in
:mod:`genlab.stats.power`; Holm and Benjamini-Hochberg corrections for a family of tests in
:mod:`genlab.stats.multiplicity`.

>>> r = bootstrap_ci([0.2, 0.4, 0.4, 0.5, 0.9, 0.3], n_resamples=2000, seed=0)
>>> round(r.estimate, 4), r.low < r.estimate < r.high
(0.45, True)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.special import ndtr, ndtri
from scipy.stats import beta, t

Statistic = Callable[..., float]
Method = Literal["percentile", "basic", "bca"]
Alternative = Literal["two-sided", "less", "greater"]
_BATCH_ELEMENTS = 2**22  # resampled values held at once; scipy draws everything in one call


@dataclass(frozen=True)
class BootstrapCI:
    estimate: float  # the statistic on the data
    low: float
    high: float
    confidence: float
    method: str  # "percentile", "basic" or "bca"
    n: int  # items
    n_resamples: int


@dataclass(frozen=True)
class BinomialCI:
    estimate: float  # k / n
    low: float
    high: float
    confidence: float
    k: int
    n: int


def _scores(values: Sequence[float], name: str) -> np.ndarray:
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1 or len(x) == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence of per-item scores, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"{name} holds {int((~np.isfinite(x)).sum())} nan/inf value(s); drop or fix those items first")
    return x


def _check(n_resamples: int, confidence: float | None = None, method: str | None = None) -> None:
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, (int, np.integer)) or n_resamples < 1:
        raise ValueError(f"n_resamples must be a positive integer, got {n_resamples!r}")
    if confidence is not None and not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), e.g. 0.95; got {confidence!r}")
    if method is not None and method not in ("percentile", "basic", "bca"):
        raise ValueError(f"method must be 'percentile', 'basic' or 'bca', got {method!r}")


def _vectorized(statistic: Statistic) -> Callable[[np.ndarray], np.ndarray]:
    """statistic applied along the last axis of a 2-D array (natively if it takes ``axis``, as scipy decides)."""
    try:
        takes_axis = "axis" in inspect.signature(statistic).parameters
    except (TypeError, ValueError):
        takes_axis = False
    if takes_axis:
        return lambda x: np.asarray(statistic(x, axis=-1), dtype=np.float64)
    return lambda x: np.apply_along_axis(statistic, -1, x).astype(np.float64)


def _bootstrap_distribution(
    samples: tuple[np.ndarray, ...], stat: Callable, n_resamples: int, rng: np.random.Generator
) -> np.ndarray:
    """(n_resamples,) statistic of resamples; paired samples share the resampled item indices."""
    n = len(samples[0])
    batch = max(1, _BATCH_ELEMENTS // n)
    out = []
    for start in range(0, n_resamples, batch):
        idx = rng.integers(0, n, (min(batch, n_resamples - start), n))  # as scipy's _bootstrap_resample
        out.append(stat(*(s[idx] for s in samples)))
    return np.concatenate(out)


def _jackknife(samples: tuple[np.ndarray, ...], stat: Callable) -> np.ndarray:
    """(n,) statistic with item i left out, in batches of rows."""
    n = len(samples[0])
    out = []
    batch = max(1, _BATCH_ELEMENTS // max(n - 1, 1))
    for start in range(0, n, batch):
        rows = np.arange(start, min(start + batch, n))
        keep = np.arange(n - 1)[None, :] + (np.arange(n - 1)[None, :] >= rows[:, None])  # (rows, n-1) indices
        out.append(stat(*(s[keep] for s in samples)))
    return np.concatenate(out)


def _interval(
    samples: tuple[np.ndarray, ...],
    stat: Callable,
    theta_hat: float,
    theta_b: np.ndarray,
    confidence: float,
    method: str,
) -> tuple[float, float]:
    if method in ("percentile", "basic"):
        low, high = percentile_interval(theta_b, confidence)
    else:  # BCa (Efron & Tibshirani 1993, 14.3; computed as scipy.stats.bootstrap does)
        alpha = (1 - confidence) / 2
        z0 = ndtri(
            (np.count_nonzero(theta_b < theta_hat) + np.count_nonzero(theta_b <= theta_hat)) / (2 * len(theta_b))
        )
        jack = _jackknife(samples, stat) if len(samples[0]) > 1 else np.zeros(1)
        u = jack.mean() - jack
        denom = (u**2).sum() ** 1.5
        accel = (u**3).sum() / (6 * denom) if denom > 0 else 0.0  # constant jackknife values: no skew correction
        z = ndtri(np.array([alpha, 1 - alpha]))
        probs = ndtr(z0 + (z0 + z) / (1 - accel * (z0 + z)))
        low, high = np.quantile(theta_b, probs)  # linear interpolation, as scipy.stats.quantile's default
    if method == "basic":  # reflect the quantiles about the estimate (Davison & Hinkley 1997, 5.2)
        low, high = 2 * theta_hat - high, 2 * theta_hat - low
    return float(low), float(high)


def percentile_interval(distribution: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """The percentile interval of a bootstrap distribution: its alpha/2 and 1 - alpha/2 quantiles, alpha = 1 -
    ``confidence``, linearly interpolated as ``np.quantile`` and ``scipy.stats.bootstrap`` do (Efron & Tibshirani
    1993, 13.3). The one percentile step of genlab's resampling intervals, whatever drew the resamples.

    >>> percentile_interval(np.arange(101.0), confidence=0.5)  # the quartiles of 0, 1, ..., 100
    (25.0, 75.0)
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), e.g. 0.95; got {confidence!r}")
    alpha = (1 - confidence) / 2
    low, high = np.quantile(distribution, [alpha, 1 - alpha])
    return float(low), float(high)


def bootstrap_p_value(distribution: Sequence[float], estimate: float) -> float:
    """Two-sided bootstrap p-value for H0 "the quantity is 0": the bootstrap distribution shifted to 0, (1 + #{|d* -
    d| >= |d|}) / (n_resamples + 1), with d the estimate and d* the resampled values (Efron & Tibshirani 1993,
    16.4; the +1 counts the observed value, so the p-value is never 0).

    >>> bootstrap_p_value([0.8, 1.1, 1.0, 1.2], 1.0)  # no shifted resample reaches |1|: the smallest p, 1 / 5
    0.2

    **Limitations.** The shift assumes the distribution's spread is the same under H0 as around the estimate; for
    a difference near a boundary (rates near 0 or 1) the p-value is approximate. Prefer an exact or permutation
    test where one exists.
    """
    d = np.asarray(distribution, dtype=np.float64)
    extreme = np.count_nonzero(np.abs(d - estimate) >= abs(estimate))
    return float((1 + extreme) / (len(d) + 1))


def bootstrap_ci(
    values: Sequence[float],
    statistic: Statistic = np.mean,
    *,
    n_resamples: int = 9999,
    confidence: float = 0.95,
    method: Method = "percentile",
    seed: int | np.random.Generator | None = 0,
) -> BootstrapCI:
    """Bootstrap confidence interval of ``statistic(values)`` (Efron & Tibshirani 1993).

    Resample the items with replacement ``n_resamples`` times; ``method="percentile"`` takes the alpha/2 and
    1 - alpha/2 quantiles of the resampled statistic, ``"basic"`` reflects them about the estimate (2 * estimate -
    quantile; Davison & Hinkley 1997, 5.2), ``"bca"`` corrects them for bias and skew (better coverage for skewed
    statistics, needs a jackknife: n more evaluations). ``statistic`` takes a 1-D array, or an ``axis`` argument to
    be vectorized (like ``np.mean``). Same resamples and interval as ``scipy.stats.bootstrap((values,), statistic,
    rng=seed, method=...)`` when ``n_resamples * len(values) <= 2**22``. ``seed`` may be a ``np.random.Generator``
    to draw from, for several intervals from one stream.

    >>> r = bootstrap_ci([1.0, 2.0, 3.0, 4.0, 10.0], n_resamples=999, method="bca", seed=1)
    >>> r.estimate, r.low < 4 < r.high, r.method
    (4.0, True, 'bca')

    **Limitations.** Bootstrap intervals fall short of their level in small samples, most for skewed data. In the
    coverage simulations of tests/stats/test_intervals.py (2,000 samples of 15, 1,000 resamples each), nominal 95%
    intervals covered the mean of a normal sample 0.93 of the time with every method, and the mean of an
    exponential sample 0.88 (percentile), 0.87 (basic) and 0.89 (BCa), missing mostly on the side the skew points
    to. Prefer BCa for small n, or an exact method where one exists (:func:`exact_binomial_ci` for rates); use 1,000
    or more resamples where a conclusion rests on the interval. The items must be independent: for several training
    runs scored on shared prompts use :mod:`genlab.stats.hierarchical`.
    """
    x = _scores(values, "values")
    _check(n_resamples, confidence, method)
    stat = _vectorized(statistic)
    theta_hat = float(stat(x[None, :])[0])
    theta_b = _bootstrap_distribution((x,), stat, int(n_resamples), np.random.default_rng(seed))
    low, high = _interval((x,), stat, theta_hat, theta_b, confidence, method)
    return BootstrapCI(theta_hat, low, high, confidence, method, len(x), int(n_resamples))


def exact_binomial_ci(k: int, n: int, confidence: float = 0.95) -> BinomialCI:
    """Clopper-Pearson ("exact") interval for a rate of k successes in n trials (Clopper & Pearson 1934).

    low = Beta(alpha/2; k, n-k+1) quantile (0 if k = 0), high = Beta(1-alpha/2; k+1, n-k) quantile (1 if k = n).
    Conservative: coverage is at least ``confidence``. Use it for rates such as Repetition % (divide by 100 first,
    or pass the counts).

    >>> r = exact_binomial_ci(0, 20)
    >>> r.low, round(r.high, 4)  # zero events in 20: the rate may still be up to 17%
    (0.0, 0.1684)
    """
    for name, v in (("k", k), ("n", n)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise ValueError(f"{name} must be an integer count, got {v!r}")
    if not 0 <= k <= n or n < 1:
        raise ValueError(f"need 0 <= k <= n and n >= 1 (k successes of n trials), got k={k}, n={n}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), e.g. 0.95; got {confidence!r}")
    alpha = 1 - confidence
    low = 0.0 if k == 0 else float(beta.ppf(alpha / 2, k, n - k + 1))
    high = 1.0 if k == n else float(beta.ppf(1 - alpha / 2, k + 1, n - k))
    return BinomialCI(k / n, low, high, confidence, int(k), int(n))


def rate_table(
    frame,
    success: str,
    by: str | Sequence[str] = (),
    *,
    name: str | None = None,
    confidence: float = 0.95,
):
    """k successes of n items, per group, with the exact interval of :func:`exact_binomial_ci`: genlab's one
    "rate by group" table.

    ``frame``: one row per item; ``success``: its boolean (or 0/1) column; ``by``: the grouping column(s), none
    for one overall row. Columns: the ``by`` columns, ``n``, ``k``, ``name`` (default: ``success``) and
    ``{name}_low`` / ``{name}_high``, one row per group present, sorted by group.

    >>> import pandas as pd
    >>> items = pd.DataFrame({"count": [1, 1, 2, 2, 2], "correct": [False, False, True, True, False]})
    >>> print(rate_table(items, "correct", "count", name="accuracy").round(4).to_string(index=False))
     count  n  k  accuracy  accuracy_low  accuracy_high
         1  2  0    0.0000        0.0000         0.8419
         2  3  2    0.6667        0.0943         0.9916
    """
    import pandas as pd

    keys = [by] if isinstance(by, str) else list(by)
    name = name or success
    missing = [c for c in (success, *keys) if c not in frame.columns]
    if missing:
        raise ValueError(f"the table lacks column(s) {missing}; it has {list(frame.columns)}")
    columns = [*keys, "n", "k", name, f"{name}_low", f"{name}_high"]
    groups = frame.groupby(keys, sort=True) if keys else [((), frame)]
    rows = []
    for key, group in groups:
        if len(group) == 0:
            continue
        key = key if isinstance(key, tuple) else (key,)
        ci = exact_binomial_ci(int(group[success].astype(bool).sum()), len(group), confidence)
        rows.append([*key, ci.n, ci.k, ci.estimate, ci.low, ci.high])
    return pd.DataFrame(rows, columns=columns)


def corpus_bootstrap(
    n: int, fn: Callable[[np.ndarray], float], *, n_resamples: int = 200, confidence: float = 0.95, seed: int = 0
) -> tuple[float, float, float]:
    """(estimate, low, high): ``fn`` on all item indices, and the percentile interval of ``fn`` on resampled indices
    (resamples where ``fn`` is nan are left out; nan bounds if all are). For a statistic of the whole corpus, e.g.
    rep-n or diversity; for one that reads duplicated texts as signal (Self-BLEU, Zipf, MAUVE), use
    :func:`corpus_jackknife`.

    >>> corpus_bootstrap(4, lambda idx: float(len(set(idx.tolist()))), n_resamples=50)[0]
    4.0
    """
    if n_resamples < 1:
        raise ValueError("n_resamples must be at least 1")
    rng = np.random.default_rng(seed)
    estimate = fn(np.arange(n))
    stats = np.array([fn(rng.integers(0, n, n)) for _ in range(n_resamples)], dtype=float)
    stats = stats[~np.isnan(stats)]
    low, high = percentile_interval(stats, confidence) if len(stats) else (float("nan"), float("nan"))
    return float(estimate), low, high


def corpus_jackknife(
    n: int, fn: Callable[[np.ndarray], float], *, groups: int = 10, confidence: float = 0.95, seed: int = 0
) -> tuple[float, float, float]:
    """(estimate, low, high) by the grouped delete-d jackknife: for corpus statistics a bootstrap would bias.

    Drawing texts with replacement puts duplicate texts into a resample. Statistics of the whole corpus that
    look at which texts are alike (MAUVE's clusters) or at the shape of the word-frequency table (Zipf) read
    the duplicates as signal, so the bootstrap distribution is shifted and can exclude the estimate itself.
    The jackknife only ever deletes texts. The items are dealt at random (``seed``) into ``groups`` groups of
    near-equal size; with θ_(g) the statistic without group g and θ̄ their mean,
    se² = (G−1)/G · Σ_g (θ_(g) − θ̄)² (Quenouille 1956; Tukey 1958; grouped form: Efron & Tibshirani 1993,
    §11.5), and the interval is estimate ± t_{G−1} · se. With ``groups=n`` this is the delete-one jackknife,
    whose standard error for the mean is exactly s/√n:

    >>> x = np.array([1.0, 4.0, 2.0, 8.0, 5.0])
    >>> est, low, high = corpus_jackknife(5, lambda i: float(x[i].mean()), groups=5)
    >>> from scipy import stats
    >>> se = x.std(ddof=1) / np.sqrt(5)
    >>> bool(np.isclose(high - est, stats.t.ppf(0.975, 4) * se))
    True
    """
    if not 2 <= groups <= n:
        raise ValueError(f"groups must be between 2 and the number of items ({n}), got {groups}")
    rng = np.random.default_rng(seed)
    label = rng.permutation(n) % groups
    estimate = fn(np.arange(n))
    leave_out = np.array([fn(np.flatnonzero(label != g)) for g in range(groups)], dtype=float)
    se = float(np.sqrt((groups - 1) / groups * np.sum((leave_out - leave_out.mean()) ** 2)))
    half = float(t.ppf(1 - (1 - confidence) / 2, groups - 1)) * se
    return float(estimate), float(estimate) - half, float(estimate) + half
