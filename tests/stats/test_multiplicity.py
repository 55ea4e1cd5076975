"""Holm and Benjamini-Hochberg against the published procedures (the sequential rejection rules of Holm 1979 and
Benjamini & Hochberg 1995, written out directly), scipy's false_discovery_control, the BH paper's worked example,
error-rate simulations, and statsmodels' multipletests where statsmodels is installed."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from genlab.stats.multiplicity import adjust_family, benjamini_hochberg, holm

# Benjamini & Hochberg (1995), the worked example (15 endpoints): at q = 0.05 the FDR procedure rejects the four
# smallest; Bonferroni-type procedures reject three.
BH1995 = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.324, 0.4262, 0.5719, 0.6528,
          0.759, 1.0]  # fmt: skip


def holm_rejections(p, alpha):
    """Holm's procedure as published: order the p-values, reject H_(i) while p_(i) <= alpha / (m - i + 1)."""
    order = np.argsort(p, kind="stable")
    reject = np.zeros(len(p), dtype=bool)
    for i, j in enumerate(order):  # i = 0 .. m-1, so the divisor m - (i + 1) + 1 = m - i
        if p[j] > alpha / (len(p) - i):
            break
        reject[j] = True
    return reject


def bh_rejections(p, q):
    """BH's step-up rule as published: the largest i with p_(i) <= i q / m; reject H_(1) .. H_(i)."""
    order = np.argsort(p, kind="stable")
    m = len(p)
    passing = [i for i in range(1, m + 1) if p[order[i - 1]] <= i * q / m]
    reject = np.zeros(m, dtype=bool)
    if passing:
        reject[order[: max(passing)]] = True
    return reject


def test_bh_paper_example():
    assert (benjamini_hochberg(BH1995) <= 0.05).tolist() == [True] * 4 + [False] * 11
    assert (holm(BH1995) <= 0.05).tolist() == [True] * 3 + [False] * 12
    assert benjamini_hochberg(BH1995)[3] == pytest.approx(0.0095 * 15 / 4)  # 0.035625, hand computed


def test_holm_hand_worked():
    # sorted: 0.005 * 4 = 0.02, 0.01 * 3 = 0.03, 0.03 * 2 = 0.06, 0.04 * 1 = 0.04 -> raised to 0.06 (monotone)
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])  # 0.5 * 2 = 1.0, then max(1.0, 0.9)


def test_bh_hand_worked():
    # sorted 0.005, 0.01, 0.03, 0.04 (m = 4): 0.02, 0.02, 0.04, 0.04 -> minimum from the top down: same values
    assert benjamini_hochberg([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    # step-up: p_(2) = 0.05 <= 2 * 0.05 / 2, so both are rejected at q = 0.05 although p_(1) = 0.04 > 1 * 0.05 / 2:
    # adjusted p_(1) = min(2 * 0.04 / 1, 0.05) = 0.05
    assert benjamini_hochberg([0.04, 0.05]) == pytest.approx([0.05, 0.05])


@pytest.mark.parametrize("seed", range(5))
def test_adjusted_p_values_reproduce_the_published_procedures(seed):
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.uniform(0, 0.02, 5), rng.uniform(0, 1, 15), [0.01, 0.01, 1.0]])  # ties and a 1
    rng.shuffle(p)
    h, b = holm(p), benjamini_hochberg(p)
    for alpha in (0.001, 0.01, 0.05, 0.1, 0.2, 0.5):
        assert ((h <= alpha) == holm_rejections(p, alpha)).all(), alpha
        assert ((b <= alpha) == bh_rejections(p, alpha)).all(), alpha
    assert b == pytest.approx(stats.false_discovery_control(p, method="bh"), rel=1e-12)
    assert (p <= b).all() and (b <= h + 1e-15).all() and (h <= np.minimum(1, len(p) * p)).all()


def test_against_statsmodels_multipletests():
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    p = np.random.default_rng(9).uniform(0, 0.3, 25)
    assert holm(p) == pytest.approx(multitest.multipletests(p, method="holm")[1], rel=1e-12)
    assert benjamini_hochberg(p) == pytest.approx(multitest.multipletests(p, method="fdr_bh")[1], rel=1e-12)


def test_error_rates_by_simulation():
    # 10 independent tests per family. Global null (all p uniform): Holm rejects something exactly when the smallest
    # p is <= 0.05 / 10, so its family-wise error rate is 1 - 0.995**10 = 0.0489 (<= 0.05). Half the nulls false (p
    # from a one-sided z-test with shift 3): BH's false discovery rate is at most q * m0 / m = 0.025.
    rng = np.random.default_rng(3)
    m = 10
    families = rng.uniform(size=(20000, m))
    fwer = np.mean([(holm(p) <= 0.05).any() for p in families])
    expected = 1 - (1 - 0.05 / m) ** m
    assert abs(fwer - expected) < 4 * math.sqrt(expected * (1 - expected) / len(families))
    shift = np.r_[np.zeros(5), np.full(5, 3.0)]
    fdp = []
    for z in rng.normal(size=(4000, m)) + shift:
        rejected = benjamini_hochberg(stats.norm.sf(z)) <= 0.05
        fdp.append(rejected[:5].sum() / max(rejected.sum(), 1))
    assert 0.01 <= np.mean(fdp) <= 0.025 + 3 * np.std(fdp) / math.sqrt(len(fdp))


def test_adjust_family_adjusts_within_each_family_and_says_how():
    tests = pd.DataFrame(
        {
            "family": ["quality", "bias", "quality", "quality", "bias"],
            "p_value": [0.01, 0.2, 0.04, 0.03, 0.01],
        },
        index=[10, 11, 12, 13, 14],
    )
    out = adjust_family(tests, method="benjamini-hochberg")
    assert list(out.index) == [10, 11, 12, 13, 14] and list(tests.columns) == ["family", "p_value"]  # input intact
    quality = out[out.family == "quality"]
    assert quality.p_adjusted.tolist() == pytest.approx(benjamini_hochberg([0.01, 0.04, 0.03]).tolist())
    assert out[out.family == "bias"].p_adjusted.tolist() == pytest.approx([0.2, 0.02])
    assert set(out.correction) == {"benjamini-hochberg"} and out.family_size.tolist() == [3, 2, 3, 3, 2]
    whole = adjust_family(tests.drop(columns="family"), family_col=None, family="every metric")
    assert whole.p_adjusted.tolist() == pytest.approx(holm(tests.p_value).tolist())
    assert set(whole.family) == {"every metric"} and set(whole.family_size) == {5}


@pytest.mark.parametrize(
    "call",
    [
        lambda: holm([]),
        lambda: holm([0.1, float("nan")]),
        lambda: benjamini_hochberg([0.1, 1.2]),
        lambda: benjamini_hochberg([[0.1, 0.2]]),
        lambda: adjust_family(pd.DataFrame({"p_value": [0.1]}), family_col="family"),
        lambda: adjust_family(pd.DataFrame({"p_value": [0.1]}), family_col=None, method="bonferroni"),
        lambda: adjust_family(pd.DataFrame({"p_value": [0.1], "p_adjusted": [0.2]}), family_col=None),
        lambda: adjust_family(pd.DataFrame({"p_value": [0.1], "family": [None]})),
        lambda: adjust_family(pd.DataFrame({"p_value": [0.1], "family": ["x"]}), family_col=None),  # would overwrite
        lambda: adjust_family([0.1, 0.2]),
    ],
)
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()
