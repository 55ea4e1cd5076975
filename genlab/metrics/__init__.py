"""genlab's metrics: plain functions that return per-item scores, each registered with its direction, aggregation,
inputs and citation (``list_metrics()``), plus the statistics to put an interval on them.

>>> from genlab.metrics import get_metric
>>> get_metric("distinct_n").higher_is_better
True
"""

from genlab.metrics.evaluate_module import evaluate_module_path, load_evaluate_metric
from genlab.metrics.registry import METRICS, MetricInfo, discover_metrics, get_metric, list_metrics, register_metric
from genlab.metrics.repetition import (
    Encoded,
    NgramCounts,
    compression_ratio,
    compression_ratio_corpus,
    distinct_n,
    distinct_n_corpus,
    diversity,
    diversity_from_rep,
    encode,
    end_repetition,
    end_repetition_rate,
    ngram_counts,
    rep_n,
    seq_rep_n,
    zipf_coefficient,
)
from genlab.metrics.selfbleu import SelfBleuResult, self_bleu, self_bleu_score
from genlab.metrics.stats import (
    BinomialCI,
    BootstrapCI,
    PairedBootstrap,
    PermutationTest,
    bootstrap_ci,
    cohens_dz,
    exact_binomial_ci,
    paired_bootstrap,
    paired_permutation_test,
    rate_table,
)

discover_metrics()  # every module of the package registers its metrics; see registry.discover_metrics

__all__ = [
    "METRICS",
    "BinomialCI",
    "BootstrapCI",
    "Encoded",
    "MetricInfo",
    "NgramCounts",
    "PairedBootstrap",
    "PermutationTest",
    "SelfBleuResult",
    "bootstrap_ci",
    "cohens_dz",
    "discover_metrics",
    "compression_ratio",
    "compression_ratio_corpus",
    "distinct_n",
    "distinct_n_corpus",
    "diversity",
    "diversity_from_rep",
    "encode",
    "end_repetition",
    "end_repetition_rate",
    "evaluate_module_path",
    "exact_binomial_ci",
    "get_metric",
    "list_metrics",
    "load_evaluate_metric",
    "ngram_counts",
    "paired_bootstrap",
    "paired_permutation_test",
    "rate_table",
    "rep_n",
    "register_metric",
    "self_bleu",
    "self_bleu_score",
    "seq_rep_n",
    "zipf_coefficient",
]
