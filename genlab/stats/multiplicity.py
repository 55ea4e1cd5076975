"""Multiplicity: adjusted p-values for a family of tests (Holm 1979; Benjamini & Hochberg 1995).

A study that runs m tests and reports any p < 0.05 as a finding will "find" something by chance: with 20 true null
hypotheses, one is expected to pass. The answer is to declare, before looking, which tests form a **family** (one
question asked several ways: every metric of one method comparison, every bias category of one probe) and to adjust
the p-values within it:

- ``holm``: step-down Bonferroni. Controls the family-wise error rate (the chance of any false positive in the
  family) under any dependence between the tests. Use it when a single false claim matters.
- ``benjamini_hochberg``: step-up. Controls the false discovery rate (the expected share of false positives among the
  rejected hypotheses) for independent or positively dependent tests (Benjamini & Yekutieli 2001). Use it for
  screening many metrics, where some false leads are acceptable.
- ``adjust_family``: either correction applied per family in a results table, with columns that say which family
  and which correction, so a reader of the table never has to guess.

A hypothesis is rejected at level alpha when its adjusted p-value is <= alpha.

>>> holm([0.01, 0.04, 0.03]).round(4).tolist()
[0.03, 0.06, 0.06]
>>> benjamini_hochberg([0.01, 0.04, 0.03]).round(4).tolist()
[0.03, 0.04, 0.04]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

Correction = Literal["holm", "benjamini-hochberg"]
CORRECTIONS = ("holm", "benjamini-hochberg")


def _p_values(p_values: Sequence[float]) -> np.ndarray:
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1 or len(p) == 0:
        raise ValueError(f"p_values must be a non-empty 1-D sequence, got shape {p.shape}")
    bad = ~((p >= 0) & (p <= 1))  # also catches nan
    if bad.any():
        raise ValueError(
            f"p-values must lie in [0, 1]; got {p[bad][:5].tolist()} at position(s) {np.flatnonzero(bad)[:5].tolist()}"
            " (a nan p-value usually means a test could not be run: drop that row or decide its family first)"
        )
    return p


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values, in the input order (Holm 1979, "A simple sequentially rejective multiple
    test procedure", Scand. J. Statist. 6:65-70).

    With the m p-values sorted, p_(1) <= ... <= p_(m): adjusted p_(i) = max over j <= i of min(1, (m - j + 1) p_(j)).
    Rejecting where adjusted p <= alpha is Holm's procedure: reject H_(1), H_(2), ... while p_(i) <= alpha / (m - i
    + 1), stop at the first that is not. It controls the family-wise error rate at alpha under any dependence and is
    never less powerful than Bonferroni (which multiplies every p by m). Same values as statsmodels'
    ``multipletests(p, method="holm")``.

    >>> # sorted: 0.01 * 3 = 0.03; 0.03 * 2 = 0.06; 0.04 * 1 = 0.04, raised to 0.06 to stay monotone
    >>> holm([0.01, 0.04, 0.03]).round(4).tolist()
    [0.03, 0.06, 0.06]

    **Limitations.** Strong but conservative control: with many positively correlated tests (several metrics that
    move together), Holm rejects less than necessary. It assumes the family was fixed before the results were
    seen; choosing the family afterwards voids the guarantee. Ties keep their input order (the adjusted values of
    tied p-values are equal anyway).
    """
    p = _p_values(p_values)
    m = len(p)
    order = np.argsort(p, kind="stable")
    stepped = np.minimum(1.0, (m - np.arange(m)) * p[order])  # (m - j + 1) p_(j), j = 1..m
    adjusted = np.empty(m)
    adjusted[order] = np.maximum.accumulate(stepped)
    return adjusted


def benjamini_hochberg(p_values: Sequence[float]) -> np.ndarray:
    """Benjamini-Hochberg step-up adjusted p-values ("q-values"), in the input order (Benjamini & Hochberg 1995,
    "Controlling the false discovery rate", JRSS B 57:289-300).

    With the m p-values sorted, p_(1) <= ... <= p_(m): adjusted p_(i) = min over j >= i of min(1, m p_(j) / j).
    Rejecting where adjusted p <= q is the BH procedure: find the largest i with p_(i) <= i q / m and reject H_(1)
    .. H_(i). Controls the false discovery rate at q (exactly at q m0 / m) for independent tests and under positive
    regression dependence (Benjamini & Yekutieli 2001). Same values as ``scipy.stats.false_discovery_control(p)``
    and statsmodels' ``multipletests(p, method="fdr_bh")``.

    >>> # the paper's worked example: 15 p-values, q = 0.05: four rejected (Bonferroni-type methods reject 3)
    >>> p = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.324, 0.4262, 0.5719,
    ...      0.6528, 0.759, 1.0]
    >>> int((benjamini_hochberg(p) <= 0.05).sum()), int((holm(p) <= 0.05).sum())
    (4, 3)

    **Limitations.** Controls a rate, not the chance of any error: at q = 0.05 about one in twenty reported findings
    may be false. Under arbitrary (e.g. negative) dependence the guarantee needs the Benjamini-Yekutieli factor
    sum(1/i), which this function does not apply. Like Holm, it assumes the family was fixed in advance.
    """
    p = _p_values(p_values)
    m = len(p)
    order = np.argsort(p, kind="stable")
    stepped = np.minimum(1.0, m * p[order] / np.arange(1, m + 1))
    adjusted = np.empty(m)
    adjusted[order] = np.minimum.accumulate(stepped[::-1])[::-1]
    return adjusted


def adjust_family(
    frame: pd.DataFrame,
    p_col: str = "p_value",
    family_col: str | None = "family",
    *,
    method: Correction = "holm",
    family: str = "all rows",
) -> pd.DataFrame:
    """A copy of ``frame`` with p-values adjusted within each family of tests, and columns that say how.

    ``frame``: one row per test with its unadjusted p-value in ``p_col``. ``family_col``: the column naming each
    row's family; ``None`` makes the whole table one family, named ``family``. ``method``: ``"holm"``
    (family-wise error rate, :func:`holm`) or ``"benjamini-hochberg"`` (false discovery rate,
    :func:`benjamini_hochberg`). Added columns: ``family`` (when ``family_col`` is None), ``family_size`` (m, the
    tests in the row's family), ``correction`` (the method) and ``p_adjusted``. Rows keep their order and index; a
    row is significant at level alpha when ``p_adjusted <= alpha``.

    >>> tests = pd.DataFrame({"family": ["quality", "quality", "quality", "bias"],
    ...                       "metric": ["mauve", "rep_2", "coherence", "crows_pairs"],
    ...                       "p_value": [0.01, 0.04, 0.03, 0.04]})
    >>> print(adjust_family(tests).to_string(index=False))
     family      metric  p_value  family_size correction  p_adjusted
    quality       mauve     0.01            3       holm        0.03
    quality       rep_2     0.04            3       holm        0.06
    quality   coherence     0.03            3       holm        0.06
       bias crows_pairs     0.04            1       holm        0.04

    **Limitations.** The correction is only as honest as the family: it must hold every test run for the question
    (including those not reported), chosen before the results were seen. Tests in different families are not
    corrected against each other, so the family-wise guarantee is per family, not per study. Adjusted p-values
    from Holm and BH are not comparable with each other; report which one was used (the ``correction`` column).
    """
    if method not in CORRECTIONS:
        raise ValueError(f"method must be one of {CORRECTIONS}, got {method!r}")
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"frame must be a pandas DataFrame with one row per test, got {type(frame).__name__}")
    needed = [p_col] + ([family_col] if family_col is not None else [])
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(f"the table lacks column(s) {missing}; it has {list(frame.columns)}")
    added = ["family_size", "correction", "p_adjusted"] + (["family"] if family_col is None else [])
    clash = [c for c in added if c in frame.columns]
    if clash:
        raise ValueError(f"the table already has column(s) {clash}; rename or drop them first (nothing is overwritten)")
    if family_col is not None and frame[family_col].isna().any():
        raise ValueError(
            f"{int(frame[family_col].isna().sum())} row(s) have no {family_col!r}; name every row's family"
        )
    out = frame.copy()
    if family_col is None:
        out["family"] = family
        family_col = "family"
    adjust = holm if method == "holm" else benjamini_hochberg
    p = _p_values(out[p_col].to_numpy(dtype=np.float64, na_value=np.nan))
    adjusted = np.empty(len(out))
    sizes = np.empty(len(out), dtype=np.int64)
    for rows in out.groupby(family_col, sort=False).indices.values():
        adjusted[rows] = adjust(p[rows])
        sizes[rows] = len(rows)
    out["family_size"] = sizes
    out["correction"] = method
    out["p_adjusted"] = adjusted
    return out
