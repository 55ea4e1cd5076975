"""genlab's statistics: one home for every interval, test, correction and power computation that genlab's metrics
and studies report, each implemented once. Pure numpy/scipy/pandas: nothing here imports the rest of genlab.

=====================================  =================================================================================
:mod:`genlab.stats.intervals`          bootstrap intervals of per-item scores, the percentile step and bootstrap p-value
                                       that every resampling interval shares, Clopper-Pearson intervals and the
                                       rate-by-group table, corpus bootstrap and grouped jackknife
:mod:`genlab.stats.paired`             two systems on the same items: paired bootstrap, sign-flip permutation test,
                                       Cohen's d_z
:mod:`genlab.stats.hierarchical`       several training runs per arm, scored on shared items: hierarchical bootstrap,
                                       mixed-model t interval, paired comparison of two arms
:mod:`genlab.stats.multiplicity`       Holm and Benjamini-Hochberg adjusted p-values, per family of tests
:mod:`genlab.stats.replicated`         a results table whose rows carry per-item scores (``df.attrs["items"]``) and
                                       one row per training run: each arm's interval, and every arm against a
                                       reference as one corrected family of tests
:mod:`genlab.stats.equivalence`        TOST for means and proportions ("close to human" with a stated margin)
:mod:`genlab.stats.power`              power of the paired t-test and the number of pairs it needs
:mod:`genlab.stats.systems`            several systems on the same items (a per-item frame): paired comparisons, a
                                       Holm family of them, TOST equivalence to a reference system, and the
                                       ``estimate [low, high]`` summary table
:mod:`genlab.stats.misclassification`  Rogan-Gladen prevalence corrected for a classifier's error, with an interval
=====================================  =================================================================================

Every table genlab returns names a quantity ``x`` with its interval ``x_low`` / ``x_high``, a p-value ``p_value``,
the items ``n`` and the successes ``k``; result objects carry ``estimate``, ``low`` and ``high``.

>>> from genlab.stats import exact_binomial_ci, holm
>>> round(exact_binomial_ci(3, 20).high, 4), holm([0.01, 0.04, 0.03]).round(4).tolist()
(0.3789, [0.03, 0.06, 0.06])
"""

from genlab.stats.equivalence import EquivalenceTest, tost, tost_proportions
from genlab.stats.hierarchical import (
    HierarchicalComparison,
    hierarchical_bootstrap,
    mixed_model_ci,
    paired_hierarchical_comparison,
)
from genlab.stats.intervals import (
    BinomialCI,
    BootstrapCI,
    bootstrap_ci,
    bootstrap_p_value,
    corpus_bootstrap,
    corpus_jackknife,
    exact_binomial_ci,
    percentile_interval,
    rate_table,
)
from genlab.stats.misclassification import ROGAN_GLADEN_1978, CorrectedRate, corrected_prevalence, rogan_gladen
from genlab.stats.multiplicity import CORRECTIONS, adjust_family, benjamini_hochberg, holm
from genlab.stats.paired import PairedBootstrap, PermutationTest, cohens_dz, paired_bootstrap, paired_permutation_test
from genlab.stats.power import n_for_power, power_paired_t
from genlab.stats.replicated import arm_intervals, items_long, replicated_tests
from genlab.stats.systems import compare_systems, compare_systems_family, equivalence_to_human, summary_table

__all__ = [
    "CORRECTIONS",
    "ROGAN_GLADEN_1978",
    "BinomialCI",
    "BootstrapCI",
    "CorrectedRate",
    "EquivalenceTest",
    "HierarchicalComparison",
    "PairedBootstrap",
    "PermutationTest",
    "adjust_family",
    "arm_intervals",
    "benjamini_hochberg",
    "bootstrap_ci",
    "bootstrap_p_value",
    "cohens_dz",
    "compare_systems",
    "compare_systems_family",
    "corpus_bootstrap",
    "corpus_jackknife",
    "corrected_prevalence",
    "equivalence_to_human",
    "exact_binomial_ci",
    "hierarchical_bootstrap",
    "holm",
    "items_long",
    "mixed_model_ci",
    "n_for_power",
    "paired_bootstrap",
    "paired_hierarchical_comparison",
    "paired_permutation_test",
    "percentile_interval",
    "power_paired_t",
    "rate_table",
    "replicated_tests",
    "rogan_gladen",
    "summary_table",
    "tost",
    "tost_proportions",
]
