"""Several systems scored on the same items: paired comparisons, a family of them, equivalence to a reference
system, and the table of estimates with their intervals.

The input is a per-item frame in long form: one row per (``system``, ``prompt_id``) with a column per score, as an
evaluation of several decoding settings or models on the same prompts produces. Two systems are paired by
``prompt_id``; a prompt that only one system has, or where either value is missing, is left out.

>>> per_item = pd.DataFrame({"system": ["a"] * 4 + ["b"] * 4, "prompt_id": [0, 1, 2, 3] * 2,
...                          "score": [1.0, 2.0, 3.0, 4.0, 2.0, 3.0, 5.0, 4.5]})
>>> r = compare_systems(per_item, "a", "b", "score")
>>> r["n"], r["difference"]
(4, -1.125)
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from genlab.stats.equivalence import tost
from genlab.stats.multiplicity import adjust_family
from genlab.stats.paired import paired_bootstrap, paired_permutation_test

__all__ = ["compare_systems", "compare_systems_family", "equivalence_to_human", "summary_table"]


def compare_systems(per_item: pd.DataFrame, a: str, b: str, metric: str, *, seed: int = 0) -> pd.Series:
    """Paired comparison of systems ``a`` and ``b`` on the same prompts: bootstrap CI, permutation p, d_z.

    Items are paired by ``prompt_id``; prompts that only one system has, or where either value is missing (nan),
    are left out, and ``n`` is the number of pairs kept.

    >>> per_item = pd.DataFrame({"system": ["a"] * 4 + ["b"] * 4, "prompt_id": [0, 1, 2, 3] * 2,
    ...                          "score": [1.0, 2.0, 3.0, float("nan"), 2.0, 3.0, 5.0, 1.0]})
    >>> r = compare_systems(per_item, "a", "b", "score")
    >>> r["n"], round(r["difference"], 4)
    (3, -1.3333)
    """
    for column in ("system", "prompt_id", metric):
        if column not in per_item.columns:
            raise ValueError(f"per_item has no {column!r} column; its columns are {list(per_item.columns)}")
    known = set(per_item["system"])
    for name in (a, b):
        if name not in known:
            raise ValueError(f"no system {name!r} in per_item; known: {sorted(map(str, known))}")
    sides = []
    for name in (a, b):
        rows = per_item[per_item.system == name]
        if rows["prompt_id"].duplicated().any():
            raise ValueError(f"system {name!r} has several rows for one prompt_id; aggregate to one per prompt first")
        sides.append(rows.set_index("prompt_id")[metric].astype(float))
    # pair by prompt id; a prompt that only one system has, or where either value is missing (e.g. a text that
    # makes no claim), cannot be paired: it is left out
    paired = pd.concat(sides, axis=1, join="inner", keys=["a", "b"]).dropna()
    x, y = paired["a"].to_numpy(), paired["b"].to_numpy()
    if len(x) < 2:
        raise ValueError(f"fewer than 2 prompts have a {metric!r} value for both {a!r} and {b!r}; use more prompts")
    boot = paired_bootstrap(x, y, seed=seed)
    perm = paired_permutation_test(x, y, seed=seed)
    return pd.Series(
        {
            "metric": metric,
            "a": a,
            "b": b,
            "mean_a": x.mean(),
            "mean_b": y.mean(),
            "difference": boot.difference,
            "difference_low": boot.low,
            "difference_high": boot.high,
            "p_value": perm.p_value,
            "cohens_dz": boot.effect_size,
            "n": len(x),
        }
    )


def compare_systems_family(
    per_item: pd.DataFrame,
    comparisons: Sequence[tuple[str, str, str]],
    *,
    family: str,
    method: str = "holm",
    seed: int = 0,
) -> pd.DataFrame:
    """A family of paired comparisons, one :func:`compare_systems` row per ``(a, b, metric)``, with p-values
    adjusted within the family (:func:`genlab.stats.adjust_family`: Holm by default).

    The table says which family (``family``, ``family_size``) and which correction (``correction``); a difference
    is a finding when ``p_adjusted <= 0.05``. The intervals are the unadjusted 95% paired-bootstrap intervals.

    >>> per_item = pd.DataFrame({"system": ["a"] * 6 + ["b"] * 6, "prompt_id": list(range(6)) * 2,
    ...                          "x": [1.0, 2, 3, 4, 5, 6, 2, 3, 4, 5, 6, 8], "y": [0.0] * 6 + [0.1] * 6})
    >>> t = compare_systems_family(per_item, [("a", "b", "x"), ("a", "b", "y")], family="a vs b")
    >>> t[["metric", "family_size", "correction"]].values.tolist()
    [['x', 2, 'holm'], ['y', 2, 'holm']]
    >>> bool((t["p_adjusted"] >= t["p_value"]).all())
    True
    """
    comparisons = list(comparisons)
    if not comparisons or not all(isinstance(c, tuple) and len(c) == 3 for c in comparisons):
        raise ValueError("comparisons must be a non-empty list of (system_a, system_b, metric) tuples")
    rows = pd.DataFrame([compare_systems(per_item, a, b, m, seed=seed) for a, b, m in comparisons])
    return adjust_family(rows, family_col=None, family=family, method=method)


def equivalence_to_human(
    per_item: pd.DataFrame,
    metric: str,
    margin: float | tuple[float, float],
    *,
    systems: Sequence[str] | None = None,
    human: str = "human",
    alpha: float = 0.05,
    method: str = "holm",
) -> pd.DataFrame:
    """Is each system "close to human" on ``metric``? Paired TOST (:func:`genlab.stats.tost`) of
    system minus human over the prompts both have, against ``margin`` (m for (-m, m), or (low, high), in the
    metric's units, stated before the data are seen), with the p-values adjusted over the systems tested (one
    family, ``method``: Holm by default).

    One row per system: ``difference`` (system - human), its 1 - 2 alpha interval ``difference_low`` /
    ``difference_high``, the margins, the TOST ``p_value``, ``family``, ``family_size``, ``correction``,
    ``p_adjusted`` and ``equivalent`` (``p_adjusted <= alpha``). Not equivalent is not "different": the interval
    may simply be too wide for the margin.

    >>> per_item = pd.DataFrame({"system": ["human"] * 8 + ["a"] * 8 + ["b"] * 8, "prompt_id": list(range(8)) * 3,
    ...     "s": [0.1, 0.2, 0.0, 0.1, 0.3, 0.2, 0.1, 0.0] + [0.11, 0.19, 0.02, 0.1, 0.28, 0.21, 0.1, 0.01]
    ...          + [0.5, 0.6, 0.4, 0.7, 0.6, 0.5, 0.6, 0.5]})
    >>> equivalence_to_human(per_item, "s", 0.05)[["system", "equivalent"]].values.tolist()
    [['a', True], ['b', False]]

    **Limitations.** The answer is only as meaningful as the margin; a margin chosen after seeing the data, or so
    wide that any system passes, proves nothing. Paired t reference: roughly normal mean differences (a few dozen
    prompts). Holm controls the chance of any false "equivalent" among the systems tested, not across notebooks.
    """
    for column in ("system", "prompt_id", metric):
        if column not in per_item.columns:
            raise ValueError(f"per_item has no {column!r} column; its columns are {list(per_item.columns)}")
    known = [str(x) for x in dict.fromkeys(per_item["system"])]
    if human not in known:
        raise ValueError(f"no {human!r} rows in per_item; known systems: {known}")
    systems = [x for x in known if x != human] if systems is None else list(systems)
    missing = [x for x in systems if x not in known]
    if missing or not systems:
        raise ValueError(f"systems {missing or systems} not in per_item; known: {known}")
    base = per_item[per_item.system == human].set_index("prompt_id")[metric].astype(float)
    rows = []
    for name in systems:
        other = per_item[per_item.system == name].set_index("prompt_id")[metric].astype(float)
        paired = pd.concat([other, base], axis=1, join="inner", keys=["s", "h"]).dropna()
        r = tost(paired["s"].to_numpy(), paired["h"].to_numpy(), margin, paired=True, alpha=alpha)
        rows.append(
            {
                "metric": metric,
                "system": name,
                "difference": r.difference,
                "difference_low": r.low,
                "difference_high": r.high,
                "confidence": r.confidence,
                "margin_low": r.margin_low,
                "margin_high": r.margin_high,
                "p_value": r.p_value,
                "test": f"TOST ({r.test})",
                "n": r.n_a,
            }
        )
    out = adjust_family(
        pd.DataFrame(rows), family_col=None, family=f"equivalence to {human} on {metric}", method=method
    )
    out["equivalent"] = out["p_adjusted"] <= alpha
    return out


def summary_table(table: pd.DataFrame, digits: int = 2) -> pd.DataFrame:
    """Each metric as ``estimate [low, high]`` strings, rounded: the table a paper would print. Columns without an
    interval (counts such as ``empty``) are kept as they are; an estimate reported without an interval (a
    demonstration-size MAUVE) is printed alone, marked "(no CI)".

    >>> t = pd.DataFrame({"rep_2": [3.14159], "rep_2_low": [2.0], "rep_2_high": [4.0], "empty": [0],
    ...                   "mauve": [0.5], "mauve_low": [float("nan")], "mauve_high": [float("nan")]})
    >>> print(summary_table(t).to_string(index=False))
                rep_2  empty          mauve
    3.14 [2.00, 4.00]      0 0.50 (no CI)
    """
    metrics = [c for c in table.columns if not c.endswith(("_low", "_high"))]
    out = pd.DataFrame(index=table.index)
    for m in metrics:
        if f"{m}_low" not in table.columns:
            out[m] = table[m]
            continue
        out[m] = [
            "–"
            if pd.isna(e)
            else f"{e:.{digits}f} (no CI)"
            if pd.isna(lo) and pd.isna(hi)
            else f"{e:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"
            for e, lo, hi in zip(table[m], table[f"{m}_low"], table[f"{m}_high"], strict=True)
        ]
    return out
