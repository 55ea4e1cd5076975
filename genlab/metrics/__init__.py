"""genlab's metrics: plain functions in the modules of this package, each listed once, with its direction,
aggregation, inputs and citation, in the table of :mod:`genlab.metrics.registry` (``list_metrics()``).

Importing the package imports the table and nothing else; a metric's function is imported on first use
(``get_metric(name).fn``), or like any function of its module: ``from genlab.metrics.self_bleu import self_bleu``.
The package re-exports no metric function, so ``genlab.metrics.self_bleu`` is always the module.

>>> from genlab.metrics import get_metric
>>> get_metric("distinct_n").higher_is_better
True
"""

from genlab.metrics.registry import METRICS, MetricInfo, get_metric, list_metrics

__all__ = ["METRICS", "MetricInfo", "get_metric", "list_metrics"]
