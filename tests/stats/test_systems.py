"""Several systems on the same items: paired comparisons pair by prompt id and name bad input, a family is adjusted
with Holm, and "close to human" is a paired TOST checked against scipy's t distribution."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from genlab.stats import compare_systems, compare_systems_family, equivalence_to_human, holm, summary_table


def test_compare_systems_drops_prompts_missing_a_value():
    per_item = pd.DataFrame(
        {"system": ["a"] * 3 + ["b"] * 3, "prompt_id": [2, 0, 1] * 2, "rate": [np.nan, 0.0, 1.0, 0.5, 1.0, 1.0]}
    )
    r = compare_systems(per_item, "a", "b", "rate")
    # pairs by prompt id (0: 0 vs 1, 1: 1 vs 1); prompt 2 has no value for a
    assert r["n"] == 2 and r["difference"] == pytest.approx(-0.5)
    with pytest.raises(ValueError, match="fewer than 2 prompts"):
        compare_systems(per_item[per_item.prompt_id != 0], "a", "b", "rate")


def test_compare_systems_pairs_by_prompt_id_and_names_bad_input():
    per_item = pd.DataFrame(
        {"system": ["a"] * 3 + ["b"] * 3, "prompt_id": [0, 1, 2, 0, 1, 3], "x": [1.0, 2.0, 3.0, 1.5, 2.0, 9.0]}
    )
    r = compare_systems(per_item, "a", "b", "x")
    assert r["n"] == 2 and r["difference"] == pytest.approx(-0.25)  # prompts 2 and 3 have no partner
    assert r["difference_low"] <= r["difference"] <= r["difference_high"]
    with pytest.raises(ValueError, match="no system 'c'"):
        compare_systems(per_item, "a", "c", "x")
    with pytest.raises(ValueError, match="no 'y' column"):
        compare_systems(per_item, "a", "b", "y")
    with pytest.raises(ValueError, match="several rows for one prompt_id"):
        compare_systems(pd.concat([per_item, per_item.iloc[:1]]), "a", "b", "x")


def planted_per_item() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    human = rng.uniform(0, 0.3, 30)
    rows = {"human": human, "close": human + rng.normal(0, 0.01, 30), "far": human + 0.2 + rng.normal(0, 0.01, 30)}
    return pd.concat(
        [pd.DataFrame({"system": k, "prompt_id": range(30), "seq_rep_4": v}) for k, v in rows.items()],
        ignore_index=True,
    )


def test_equivalence_to_human_is_a_paired_tost_with_holm():
    from scipy import stats

    per_item = planted_per_item()
    eq = equivalence_to_human(per_item, "seq_rep_4", 0.05).set_index("system")
    assert eq.loc["close", "equivalent"] and not eq.loc["far", "equivalent"]
    # direct: the two one-sided paired t-tests on the differences, max of the two p-values, then Holm
    p = []
    for name in ("close", "far"):
        d = (
            per_item.query("system == @name")["seq_rep_4"].to_numpy()
            - per_item.query("system == 'human'")["seq_rep_4"].to_numpy()
        )
        se = d.std(ddof=1) / np.sqrt(len(d))
        p_low = stats.t.sf((d.mean() + 0.05) / se, len(d) - 1)
        p_high = stats.t.cdf((d.mean() - 0.05) / se, len(d) - 1)
        p.append(max(p_low, p_high))
        assert eq.loc[name, "difference"] == pytest.approx(d.mean())
    np.testing.assert_allclose(eq["p_value"], p, rtol=1e-9)
    np.testing.assert_allclose(eq["p_adjusted"], holm(p), rtol=1e-9)
    assert (eq["correction"] == "holm").all() and (eq["family_size"] == 2).all()
    assert not equivalence_to_human(per_item, "seq_rep_4", 0.001).set_index("system").loc["close", "equivalent"]
    with pytest.raises(ValueError, match="no 'human' rows"):
        equivalence_to_human(per_item.query("system != 'human'"), "seq_rep_4", 0.05)
    # another reference system than "human"
    ref = equivalence_to_human(per_item, "seq_rep_4", 0.05, human="close", systems=["human"])
    assert ref["system"].tolist() == ["human"] and bool(ref["equivalent"].iloc[0])


def test_compare_systems_family_adjusts_within_the_family():
    per_item = planted_per_item()
    pairs = [("close", "human", "seq_rep_4"), ("far", "human", "seq_rep_4"), ("far", "close", "seq_rep_4")]
    fam = compare_systems_family(per_item, pairs, family="decoding vs human")
    raw = [compare_systems(per_item, a, b, m)["p_value"] for a, b, m in pairs]
    np.testing.assert_allclose(fam["p_value"], raw)
    np.testing.assert_allclose(fam["p_adjusted"], holm(raw))
    assert (fam["family"] == "decoding vs human").all() and (fam["family_size"] == 3).all()
    with pytest.raises(ValueError, match="tuples"):
        compare_systems_family(per_item, [("close", "human")], family="x")


def test_summary_table_prints_intervals_and_marks_estimates_without_one():
    t = pd.DataFrame(
        {"x": [1.234, np.nan], "x_low": [1.0, np.nan], "x_high": [1.5, np.nan], "m": [0.5, 0.25],
         "m_low": [np.nan, 0.1], "m_high": [np.nan, 0.4], "regime": ["demo", "full"]},
        index=pd.Index(["a", "b"], name="system"),
    )  # fmt: skip
    s = summary_table(t, digits=1)
    assert s.loc["a"].tolist() == ["1.2 [1.0, 1.5]", "0.5 (no CI)", "demo"]
    assert s.loc["b"].tolist() == ["–", "0.2 [0.1, 0.4]", "full"]
