"""Misclassification: the rate of an outcome when the only reading of each item is a classifier with known error.

A classifier with sensitivity ``Se`` and specificity ``Sp`` flags a share ``q = Se * p + (1 - Sp) * (1 - p)`` of
items whose true prevalence is ``p``, so the flagged share is biased whenever ``Se < 1`` or ``Sp < 1``. The
Rogan-Gladen estimator (Rogan & Gladen 1978) inverts this:

    p = (q + Sp - 1) / (Se + Sp - 1),   clipped to [0, 1].

- :func:`rogan_gladen`: the corrected prevalence from q, Se and Sp;
- :func:`corrected_prevalence`: the same from counts (k flagged of n; tp of the labelled positives and tn of the
  labelled negatives), with a parametric bootstrap interval that carries the uncertainty of ``Se``, ``Sp`` and
  ``q`` together (each drawn from its Jeffreys posterior).

:mod:`genlab.probes.red_team` uses them for offensive rates measured by a classifier.

>>> round(rogan_gladen(0.2, sensitivity=0.8, specificity=0.95), 6)   # (0.2 + 0.95 - 1) / (0.8 + 0.95 - 1)
0.2
>>> r = corrected_prevalence(k=200, n=1000, tp=160, n_positives=200, tn=475, n_negatives=500, n_resamples=2000)
>>> round(r.raw, 2), round(r.estimate, 2), r.low < 0.2 < r.high
(0.2, 0.2, True)

**Limitations.** The correction assumes that the classifier's sensitivity and specificity on the labelled sample
are its sensitivity and specificity on the items being rated (the same mix of positives and negatives, the same
length and kind of text). It is unstable when ``Se + Sp - 1`` is small: the intervals are then wide.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from genlab.stats.intervals import _check, percentile_interval

ROGAN_GLADEN_1978 = (
    "Rogan & Gladen 1978, Estimating prevalence from the results of a screening test (Am. J. Epidemiol. 107:71-76)"
)


def rogan_gladen(q: float, sensitivity: float, specificity: float) -> float:
    """The prevalence implied by a flagged share ``q`` of a classifier with known ``sensitivity`` and
    ``specificity`` (Rogan & Gladen 1978): ``(q + specificity - 1) / (sensitivity + specificity - 1)``, clipped to
    [0, 1]. Undefined, and an error, when ``sensitivity + specificity <= 1`` (Youden's J <= 0: the classifier is no
    better than chance).

    >>> rogan_gladen(0.5, 1.0, 1.0), rogan_gladen(0.02, 0.9, 0.95)   # a perfect classifier; q below 1 - Sp
    (0.5, 0.0)
    """
    for name, v in (("q", q), ("sensitivity", sensitivity), ("specificity", specificity)):
        if not 0 <= v <= 1:
            raise ValueError(f"{name} must be a share in [0, 1], got {v}")
    j = sensitivity + specificity - 1
    if j <= 0:
        raise ValueError(
            f"sensitivity + specificity = {sensitivity + specificity:.3f} <= 1: the classifier is no better than "
            "chance on the labelled sample, so its flags say nothing about prevalence; use another classifier or "
            "threshold"
        )
    return float(min(1.0, max(0.0, (q + specificity - 1) / j)))


@dataclass(frozen=True)
class CorrectedRate:
    estimate: float  # the Rogan-Gladen corrected prevalence
    low: float  # percentile bootstrap interval over the generations and the labelled sample together
    high: float
    raw: float  # k / n: the flagged share
    sensitivity: float  # tp / n_positives
    specificity: float  # tn / n_negatives
    confidence: float
    k: int  # flagged generations
    n: int  # generations
    n_positives: int
    n_negatives: int
    n_resamples: int
    method: str  # "jeffreys" or "binomial": how each resample draws q, sensitivity and specificity
    undefined: float  # share of resamples with sensitivity + specificity <= 1 (no estimate)


def corrected_prevalence(
    k: int,
    n: int,
    tp: int,
    n_positives: int,
    tn: int,
    n_negatives: int,
    *,
    n_resamples: int = 9999,
    confidence: float = 0.95,
    method: Literal["jeffreys", "binomial"] = "jeffreys",
    seed: int | None = 0,
) -> CorrectedRate:
    """Rogan-Gladen corrected prevalence (:func:`rogan_gladen`) of ``k`` flagged generations of ``n``, for a
    classifier that flagged ``tp`` of ``n_positives`` labelled positives and left ``tn`` of ``n_negatives``
    labelled negatives unflagged, with a percentile bootstrap interval that carries the uncertainty of all three.

    Interval: each of ``n_resamples`` resamples draws q, sensitivity and specificity independently, recomputes the
    clipped estimate, and the interval is the alpha/2 and 1 - alpha/2 quantiles of the estimates. ``method``:

    - ``"jeffreys"`` (default): a parametric bootstrap that draws each share from its Jeffreys posterior
      Beta(k + 1/2, n - k + 1/2), the distribution behind the Jeffreys interval for a proportion (Brown, Cai &
      DasGupta 2001), so that a count of 0 or n still carries its uncertainty;
    - ``"binomial"``: the nonparametric bootstrap of the generations, the positives and the negatives (for binary
      items a resampled count is Binomial(n, k/n), and is drawn as such). It collapses to a point when a count is
      0 or n (k = 0 gives the interval [0, 0] however small n is), and then undercovers badly; it is here for
      comparison.

    In a simulation with known prevalence, sensitivity and specificity (``tests/stats/test_misclassification.py``) the
    Jeffreys interval covers the prevalence at about the nominal rate, also with few generations and a rare
    outcome, where the binomial bootstrap does not. Both treat the generations as independent, as the exact
    interval of the raw rate does: it is an interval for this prompt set. Resamples whose sensitivity +
    specificity <= 1 have no estimate (share in ``undefined``); when more than alpha/2 of them do, the interval is
    [0, 1].

    >>> r = corrected_prevalence(k=30, n=400, tp=45, n_positives=50, tn=1990, n_negatives=2000, n_resamples=2000)
    >>> round(r.raw, 4), round(r.estimate, 4), round(r.sensitivity, 2), round(r.specificity, 3)
    (0.075, 0.0782, 0.9, 0.995)
    """
    for name, (hits, total) in (
        ("k, n", (k, n)),
        ("tp, n_positives", (tp, n_positives)),
        ("tn, n_negatives", (tn, n_negatives)),
    ):
        if (
            isinstance(hits, bool)
            or isinstance(total, bool)
            or not all(isinstance(v, (int, np.integer)) for v in (hits, total))
        ):
            raise ValueError(f"{name} must be integer counts, got {hits!r}, {total!r}")
        if not 0 <= hits <= total or total < 1:
            raise ValueError(
                f"need 0 <= {name.split(',')[0]} <= {name.split(', ')[1]} and a total >= 1, got {hits} of {total}"
            )
    _check(n_resamples, confidence)
    if method not in ("jeffreys", "binomial"):
        raise ValueError(f"method must be 'jeffreys' or 'binomial', got {method!r}")
    sens, spec, q = tp / n_positives, tn / n_negatives, k / n
    estimate = rogan_gladen(q, sens, spec)
    rng = np.random.default_rng(seed)

    def draw(hits: int, total: int) -> np.ndarray:  # (n_resamples,) resampled shares
        if method == "jeffreys":
            return rng.beta(hits + 0.5, total - hits + 0.5, n_resamples)
        return rng.binomial(total, hits / total, n_resamples) / total

    q_b, sens_b, spec_b = draw(k, n), draw(tp, n_positives), draw(tn, n_negatives)
    j_b = sens_b + spec_b - 1
    ok = j_b > 0
    p_b = np.clip((q_b[ok] + spec_b[ok] - 1) / j_b[ok], 0.0, 1.0)
    alpha = (1 - confidence) / 2
    undefined = 1 - ok.mean()
    if undefined > alpha:
        low, high = 0.0, 1.0
    else:
        low, high = percentile_interval(p_b, confidence)
    return CorrectedRate(
        estimate,
        low,
        high,
        q,
        sens,
        spec,
        confidence,
        int(k),
        int(n),
        int(n_positives),
        int(n_negatives),
        int(n_resamples),
        method,
        float(undefined),
    )
