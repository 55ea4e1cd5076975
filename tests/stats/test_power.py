"""Power of the paired t-test against a simulation of the test and statsmodels' TTestPower where installed; the
sample size is the smallest that reaches the target."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from genlab.stats.power import n_for_power, power_paired_t


# --- power -----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dz,n,alternative", [(0.5, 20, "two-sided"), (0.3, 40, "greater"), (-0.4, 25, "less")])
def test_power_against_a_simulation_of_the_paired_t_test(dz, n, alternative):
    rng = np.random.default_rng(9)
    d = rng.normal(dz, 1.0, (20000, n))
    p = stats.ttest_1samp(d, 0.0, axis=1, alternative=alternative).pvalue
    simulated = np.mean(p < 0.05)
    power = power_paired_t(dz, n, 0.05, alternative)
    assert abs(simulated - power) < 4 * math.sqrt(power * (1 - power) / 20000)


def test_power_against_statsmodels():
    power = pytest.importorskip("statsmodels.stats.power")
    ref = power.TTestPower()
    assert power_paired_t(0.35, 30) == pytest.approx(ref.power(0.35, 30, 0.05), rel=1e-10)
    assert power_paired_t(0.35, 30, alternative="greater") == pytest.approx(
        ref.power(0.35, 30, 0.05, alternative="larger"), rel=1e-10
    )
    assert n_for_power(0.35, 0.9) == math.ceil(ref.solve_power(0.35, nobs=None, alpha=0.05, power=0.9))


@pytest.mark.parametrize("dz,target", [(0.5, 0.8), (0.2, 0.8), (0.8, 0.95), (1.5, 0.8)])
def test_n_for_power_is_the_smallest_n(dz, target):
    n = n_for_power(dz, target)
    assert power_paired_t(dz, n) >= target and (n == 2 or power_paired_t(dz, n - 1) < target)
    assert n_for_power(-dz, target) == n  # two-sided: the sign does not matter


# --- bad input ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda: power_paired_t(0.5, 1),
        lambda: n_for_power(0.0),
        lambda: n_for_power(0.5, alternative="less"),
        lambda: n_for_power(0.5, power=0.01),
    ],
)
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()
