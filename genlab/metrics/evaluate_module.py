"""Every text metric of the registry as a local, offline Hugging Face ``evaluate`` module.

``evaluate.load("distinct_n")`` would look on the hub (and fails offline). ``load_evaluate_metric("distinct_n")``
writes a module folder ``<directory>/distinct_n/distinct_n.py`` (the file must be named after its folder) whose
``evaluate.Metric`` class calls the registered genlab function, and loads it with ``evaluate.load(<folder>)``. The
generated file keeps one import per line: evaluate finds a module's dependencies by matching import lines.

Output: a per-item metric returns ``{name: aggregate, "per_item": [...]}`` (aggregate by the registry's
``aggregation``, e.g. the mean); a corpus metric returns ``{name: value}``. Extra keyword arguments of
``compute`` go to the genlab function (``compute(predictions=texts, n=3)``).

>>> m = load_evaluate_metric("distinct_n")
>>> m.compute(predictions=["the cat the cat", "a b c"], n=2)["per_item"]
[0.6666666666666666, 1.0]
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from genlab.core.paths import cache_dir
from genlab.metrics.registry import MetricInfo, get_metric

SUPPORTED_INPUTS = ("texts", "predictions+references")

_TEMPLATE = '''"""genlab metric {name!r} as a local evaluate module, written by genlab.metrics.evaluate_module.

{description}
Citation: {citation}
"""

import datasets
import evaluate

from genlab.metrics.evaluate_module import compute_with_metric
from genlab.metrics.evaluate_module import evaluate_info


class {class_name}(evaluate.Metric):
    def _info(self):
        return evaluate_info({name!r}, evaluate.MetricInfo, datasets)

    def _compute(self, predictions, references=None, **options):
        return compute_with_metric({name!r}, predictions, references, options)
'''


def _text_metric(name: str) -> MetricInfo:
    info = get_metric(name)
    if info.inputs not in SUPPORTED_INPUTS:
        raise ValueError(
            f"metric {name!r} takes inputs {info.inputs!r}; evaluate modules wrap metrics of texts only "
            f"({', '.join(SUPPORTED_INPUTS)}). Call genlab.metrics.get_metric({name!r}).fn directly."
        )
    return info


def evaluate_info(name: str, metric_info_cls, datasets_module):
    """The ``evaluate.MetricInfo`` of a registered text metric (called from the generated module)."""
    info = _text_metric(name)
    features = {"predictions": datasets_module.Value("string")}
    if info.inputs == "predictions+references":
        features["references"] = datasets_module.Value("string")
    doc = info.fn.__doc__ or ""
    return metric_info_cls(
        description=info.description,
        citation=info.citation,
        inputs_description=doc,
        features=datasets_module.Features(features),
    )


def compute_with_metric(name: str, predictions: list[str], references: list[str] | None, options: dict) -> dict:
    """Run the registered function and shape its result as evaluate does (called from the generated module)."""
    info = _text_metric(name)
    args = (list(predictions),) if info.inputs == "texts" else (list(predictions), list(references or []))
    result = info.fn(*args, **options)
    if not info.per_item:
        return {name: result}
    scores = list(result)
    aggregate = {"mean": np.mean, "max": np.max}.get(info.aggregation)
    out = {"per_item": scores}
    if aggregate is not None:
        out[name] = float(aggregate(np.asarray(scores, dtype=np.float64))) if scores else float("nan")
    return out


def evaluate_module_path(name: str, directory: str | Path | None = None) -> Path:
    """Write the evaluate module folder of metric ``name`` and return it (``<directory>/<name>/``).

    ``directory`` defaults to ``genlab.core.paths.cache_dir() / "evaluate_modules"``. The file is rewritten only
    when its
    text changes, so evaluate's module cache (keyed by the file's hash) stays valid.

    >>> evaluate_module_path("self_bleu").name
    'self_bleu'
    """
    info = _text_metric(name)
    folder = Path(directory or cache_dir() / "evaluate_modules") / name
    folder.mkdir(parents=True, exist_ok=True)
    class_name = "".join(part.capitalize() for part in re.split(r"[^0-9a-zA-Z]+", name) if part) or "Metric"
    text = _TEMPLATE.format(
        name=name,
        class_name=class_name,
        description=info.description.replace('"""', "'''"),
        citation=info.citation.replace('"""', "'''"),
    )
    script = folder / f"{name}.py"
    if not script.is_file() or script.read_text(encoding="utf-8") != text:
        script.write_text(text, encoding="utf-8")
    return folder


def load_evaluate_metric(name: str, directory: str | Path | None = None, **load_options):
    """``evaluate.load`` of the local module of metric ``name``: offline, same numbers as the genlab function.

    ``load_options`` go to ``evaluate.load`` (default ``keep_in_memory=True``: no Arrow cache files on disk).

    >>> load_evaluate_metric("rep_n").compute(predictions=["a b a b a b"], n=2)
    {'rep_n': 60.0}
    """
    import evaluate  # imported here: it loads datasets and pyarrow, which the plain metrics do not need

    load_options.setdefault("keep_in_memory", True)
    return evaluate.load(str(evaluate_module_path(name, directory)), **load_options)
