"""Replicated runs in a results table: an interval per arm and a corrected family of paired tests.

A study table has one row per system and condition (its key columns, ``df.attrs["item_key"]``) and carries the
per-item scores behind each row in ``df.attrs["items"]``: ``{row key: tuple of floats}``, every row scored on the
same evaluation items (notebooks 10, 11 and 60 build such tables). When the key includes ``seed`` (one training run
per seed), a score varies at two levels, the run and the item, and this module turns the table into the two things
a reader needs:

- :func:`arm_intervals`: each arm's mean with an interval that resamples runs and items (the mixed-model t interval
  of :func:`genlab.stats.mixed_model_ci`; an arm with one run gets a bootstrap over items, and says so).
- :func:`replicated_tests`: every arm against a reference arm, condition by condition, with p-values adjusted within
  one named family (Holm by default, :func:`genlab.stats.adjust_family`). Arms with 2 or more runs are
  compared with :func:`genlab.stats.paired_hierarchical_comparison` (items paired, runs independent);
  with one run on a side that is not a fixed system, run-to-run variation is not measured and the table says so.
- :func:`items_long`: the per-item scores as a tidy table (one row per key and item).

>>> import pandas as pd
>>> df = pd.DataFrame({"method": ["base", "lora", "lora", "lora"], "seed": [0, 0, 1, 2]})
>>> df.attrs = {"item_key": ("method", "seed"), "items": {
...     ("base", 0): (0.0, 0.3, 0.3, 0.7, 0.3, 0.0), ("lora", 0): (0.7, 1.0, 0.7, 1.0, 0.7, 0.3),
...     ("lora", 1): (0.3, 1.0, 0.7, 1.0, 1.0, 0.3), ("lora", 2): (0.7, 0.7, 1.0, 1.0, 0.7, 0.7)}}
>>> t = replicated_tests(df, "method", "base", reference_fixed=True, family="methods vs base")
>>> t[["method", "n_runs", "reference_runs", "difference", "correction"]].round(3).to_dict("records")
[{'method': 'lora', 'n_runs': 3, 'reference_runs': 1, 'difference': 0.483, 'correction': 'holm'}]
>>> bool(t.p_adjusted.iloc[0] < 0.05), t.test.iloc[0]
(True, 'mixed model t (Satterthwaite df), reference fixed')
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from genlab.stats.hierarchical import mixed_model_ci, paired_hierarchical_comparison
from genlab.stats.intervals import bootstrap_ci
from genlab.stats.multiplicity import adjust_family
from genlab.stats.paired import paired_bootstrap, paired_permutation_test

__all__ = ["ONE_RUN", "arm_intervals", "items_long", "replicated_tests"]

RUN = "seed"
ONE_RUN = "items only (one run per arm)"  # run-to-run variation not measured


def _key_and_items(df: pd.DataFrame) -> tuple[tuple[str, ...], dict]:
    items, key = df.attrs.get("items"), tuple(df.attrs.get("item_key", ()))
    if not items or not key:
        raise ValueError(
            "this table carries no per-item scores: set df.attrs['items'] to {row key: per-item scores} and "
            "df.attrs['item_key'] to the key's column names, e.g. ('method', 'seed')"
        )
    return key, items


def items_long(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (row key, evaluation item): the key columns, ``item`` (the item's position in the evaluation
    set) and ``score``. A table without a ``seed`` key column gets ``seed`` 0 (one run per arm).

    >>> df = pd.DataFrame({"method": ["a"]})
    >>> df.attrs = {"item_key": ("method",), "items": {("a",): (1.0, 0.0)}}
    >>> items_long(df).to_dict("records")
    [{'method': 'a', 'item': 0, 'score': 1.0, 'seed': 0}, {'method': 'a', 'item': 1, 'score': 0.0, 'seed': 0}]
    """
    key, items = _key_and_items(df)
    rows = [
        dict(zip(key, k, strict=True)) | {"item": i, "score": float(v)}
        for k, values in items.items()
        for i, v in enumerate(values)
    ]
    out = pd.DataFrame(rows)
    if RUN not in out:
        out[RUN] = 0
    return out


def arm_intervals(
    df: pd.DataFrame, *, confidence: float = 0.95, n_resamples: int = 2000, seed: int = 0
) -> pd.DataFrame:
    """Each arm's mean item score over its runs, with an interval. An arm is a value of the key columns other than
    ``seed``. With 2 or more runs: the mixed-model t interval (runs and items crossed random effects,
    :func:`genlab.stats.mixed_model_ci`); with one run: a percentile bootstrap over items
    (:func:`genlab.stats.bootstrap_ci`), which says nothing about run-to-run variation. Columns: the arm's
    key columns, n_runs, n_items, score, score_low, score_high, interval.

    >>> df = pd.DataFrame({"method": ["a", "a"], "seed": [0, 1]})
    >>> df.attrs = {"item_key": ("method", "seed"), "items": {("a", 0): (0.2, 0.4, 0.9), ("a", 1): (0.3, 0.5, 0.7)}}
    >>> arm_intervals(df)[["method", "n_runs", "n_items", "score", "interval"]].round(3).to_dict("records")
    [{'method': 'a', 'n_runs': 2, 'n_items': 3, 'score': 0.5, 'interval': 'mixed model t'}]
    """
    long = items_long(df)
    arms = [c for c in _key_and_items(df)[0] if c != RUN]
    rows = []
    for arm, g in long.groupby(arms, sort=False) if arms else [((), long)]:
        arm = arm if isinstance(arm, tuple) else (arm,)
        row = dict(zip(arms, arm, strict=True)) | {"n_runs": g[RUN].nunique()}
        if row["n_runs"] >= 2:
            ci = mixed_model_ci(g, arm=None, run=RUN, confidence=confidence).iloc[0]
            row |= {"n_items": int(ci.n_items), "score": ci.score, "score_low": ci.score_low}
            row |= {"score_high": ci.score_high, "interval": "mixed model t"}
        else:
            b = bootstrap_ci(g["score"].to_numpy(), n_resamples=n_resamples, confidence=confidence, seed=seed)
            row |= {"n_items": b.n, "score": b.estimate, "score_low": b.low, "score_high": b.high}
            row |= {"interval": "bootstrap over items (one run)"}
        rows.append(row)
    return pd.DataFrame(rows)


def replicated_tests(
    df: pd.DataFrame,
    column: str,
    reference,
    *,
    family: str,
    reference_fixed: bool = False,
    correction: str = "holm",
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Every value of ``column`` against ``reference``, within each condition (the other key columns except
    ``seed``), as one family of tests with adjusted p-values.

    - Both arms with 2 or more runs: :func:`genlab.stats.paired_hierarchical_comparison` (mixed-model
      t interval and test; items paired across arms, runs independent), with the run-level permutation p-value and
      the smallest value it can take beside it.
    - ``reference_fixed=True`` and one reference run: the reference is one fixed system (the model before
      fine-tuning, which every run starts from), so it adds no run variance (``fixed_b=True``).
    - Otherwise, with one run on a side: a paired test over items (paired bootstrap interval, paired permutation
      p-value, :func:`genlab.stats.paired_bootstrap`) on the run-averaged item scores; ``test`` says that
      run-to-run variation was not measured.

    Runs of different arms are treated as independent even when they share a seed (a seed fixes data order and
    initialisation, not the trained model); for arms that are the same trained models under two conditions (e.g.
    perturbed against clean prompts) that is conservative: the run effect, which cancels in such a difference, is
    counted as noise.

    Columns: the key columns (without ``seed``), reference, n_runs, reference_runs, n_items, score, reference_score,
    difference, difference_low, difference_high, p_value, test, p_permutation, p_permutation_min, then ``family``,
    ``family_size``, ``correction`` and ``p_adjusted`` (:func:`genlab.stats.adjust_family`), and
    ``significant`` (``p_adjusted <= 1 - confidence``).
    """
    key, _ = _key_and_items(df)
    if column not in key or column == RUN:
        raise ValueError(f"column {column!r} does not name an arm here; choose one of {[k for k in key if k != RUN]}")
    long = items_long(df)
    if not (long[column] == reference).any():
        raise ValueError(f"no row has {column} == {reference!r}; values: {sorted(map(str, long[column].unique()))}")
    conditions = [c for c in key if c not in (column, RUN)]
    rows = []
    groups = long.groupby(conditions, sort=False) if conditions else [((), long)]
    for cond, g in groups:
        cond = cond if isinstance(cond, tuple) else (cond,)
        ref = g[g[column] == reference]
        if ref.empty:
            continue
        for arm in dict.fromkeys(g[column]):
            if arm == reference:
                continue
            a = g[g[column] == arm]
            runs_a, runs_b = a[RUN].nunique(), ref[RUN].nunique()
            row = dict(zip(conditions, cond, strict=True)) | {column: arm, "reference": reference}
            row |= {"n_runs": runs_a, "reference_runs": runs_b, "n_items": a["item"].nunique()}
            row |= {"score": a["score"].mean(), "reference_score": ref["score"].mean()}
            fixed = reference_fixed and runs_b == 1
            if runs_a >= 2 and (runs_b >= 2 or fixed):
                pair = pd.concat([a, ref]).rename(columns={column: "_arm"})
                c = paired_hierarchical_comparison(
                    pair,
                    arm,
                    reference,
                    arm="_arm",
                    run=RUN,
                    fixed_b=fixed,
                    n_resamples=n_resamples,
                    confidence=confidence,
                    seed=seed,
                )
                row |= {"difference": c.difference, "difference_low": c.low, "difference_high": c.high}
                row |= {"p_value": c.p_value, "test": c.test + (", reference fixed" if fixed else "")}
                row |= {"p_permutation": c.p_permutation, "p_permutation_min": c.p_permutation_min}
            else:
                x = a.groupby("item")["score"].mean().sort_index()
                y = ref.groupby("item")["score"].mean().reindex(x.index)
                if y.isna().any():
                    raise ValueError(f"{column}={arm!r} and {reference!r} were not scored on the same items")
                boot = paired_bootstrap(
                    x.to_numpy(), y.to_numpy(), n_resamples=n_resamples, confidence=confidence, seed=seed
                )
                perm = paired_permutation_test(x.to_numpy(), y.to_numpy(), seed=seed)
                row |= {"difference": boot.difference, "difference_low": boot.low, "difference_high": boot.high}
                row |= {"p_value": perm.p_value, "test": ONE_RUN, "p_permutation": np.nan, "p_permutation_min": np.nan}
            rows.append(row)
    if not rows:
        raise ValueError(f"nothing to compare: no condition has both {reference!r} and another {column}")
    out = adjust_family(pd.DataFrame(rows), family_col=None, family=family, method=correction)
    out["significant"] = out["p_adjusted"] <= 1 - confidence
    return out
