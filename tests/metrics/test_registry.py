"""The metric table: every entry resolves to a function of its own name that agrees with the entry's metadata, and
reading the table (or importing one metric module) imports no metric module it does not need."""

from __future__ import annotations

import importlib
import inspect
import json
import subprocess
import sys

import pytest

from genlab.metrics import registry
from genlab.metrics.registry import METRICS, MetricInfo, get_metric, list_metrics

ALL = list_metrics()
IDS = [m.name for m in ALL]

#: The leading parameters of a metric's function for each model-free inputs kind.
LEADING_PARAMETERS = {"texts": ["texts"], "predictions+references": ["predictions", "references"]}


@pytest.mark.parametrize("info", ALL, ids=IDS)
def test_every_entry_resolves_to_a_function_of_its_name(info):
    module, _, attr = info.target.partition(":")
    assert module.startswith("genlab.metrics.") and attr == info.name
    fn = info.fn
    assert callable(fn) and fn is getattr(importlib.import_module(module), attr)
    assert fn.__name__ == info.name, f"{info.target}: one name per metric, the function's is {fn.__name__!r}"
    assert info.description, f"{info.name}: the function's docstring is its description"


@pytest.mark.parametrize("info", ALL, ids=IDS)
def test_the_entry_agrees_with_its_function(info):
    """What a decorator beside the function used to make obvious: the inputs it takes, one score per item or not."""
    signature = inspect.signature(info.fn)
    names = list(signature.parameters)
    if info.inputs in LEADING_PARAMETERS:
        expected = LEADING_PARAMETERS[info.inputs]
        assert names[: len(expected)] == expected, f"{info.name}: inputs {info.inputs!r}, parameters {names}"
    if info.inputs == "texts+model":
        assert names[:2] == ["bundle", "texts"], f"{info.name}: parameters {names}"
    returns = str(signature.return_annotation)
    assert returns.startswith("list[") == info.per_item, f"{info.name}: per_item={info.per_item}, returns {returns}"


def test_slow_metrics_declare_a_tiny_call():
    """tests/metrics/test_common.py runs slow metrics only through ``fn.tiny_inputs``; every slow metric has one (the
    cloze probes, which have none, are in genlab.probes.registry: tests/probes/test_registry.py)."""
    untested = {m.name for m in ALL if m.slow and not callable(getattr(m.fn, "tiny_inputs", None))}
    assert untested == set()


def test_model_corpus_metrics_share_their_metadata():
    from genlab.probes.registry import get_probe

    infos = [get_metric("corpus_perplexity")]
    infos += [get_probe(name) for name in ("next_token_rep", "next_token_wrep", "next_token_acc", "next_token_uniq")]
    for info in infos:
        assert (info.aggregation, info.inputs, info.per_item, info.slow) == ("corpus", "texts+model", False, True)
        assert info.citation and callable(info.fn.tiny_inputs)


def test_a_wrong_name_suggests_the_nearest():
    with pytest.raises(KeyError, match="no metric named 'self_bleu4'; did you mean 'self_bleu'"):
        get_metric("self_bleu4")
    with pytest.raises(KeyError, match="did you mean 'corpus_chrf'"):
        get_metric("corpus_chrF")


def test_a_broken_entry_fails_loudly_naming_the_metric():
    absent = MetricInfo("genlab.metrics.no_such_module:demo", higher_is_better=True, aggregation="mean",
                        inputs="texts", citation="(none: a test)")  # fmt: skip
    with pytest.raises(ImportError, match=r"metric 'demo' \(genlab.metrics.no_such_module:demo\) cannot be loaded"):
        _ = absent.fn
    misspelt = MetricInfo("genlab.metrics.repetition:distinct_m", higher_is_better=True, aggregation="mean",
                          inputs="texts", citation="(none: a test)")  # fmt: skip
    with pytest.raises(ImportError, match="has no attribute 'distinct_m'"):
        _ = misspelt.fn


def test_two_entries_cannot_share_a_name():
    entry = dict(higher_is_better=True, aggregation="mean", inputs="texts", citation="(none: a test)")
    with pytest.raises(ValueError, match="two metrics are named 'rep_n'"):
        registry._by_name(MetricInfo("genlab.metrics.a:rep_n", **entry), MetricInfo("genlab.metrics.b:rep_n", **entry))
    assert len(METRICS) == len({m.target for m in METRICS.values()})


def _genlab_modules(statement: str) -> set[str]:
    """The genlab modules loaded after ``statement`` in a fresh interpreter."""
    code = f"import sys, json\n{statement}\nprint(json.dumps([m for m in sys.modules if m.startswith('genlab')]))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_reading_the_table_imports_no_metric_module():
    base = _genlab_modules("import genlab")
    assert not any(m.startswith("genlab.metrics") for m in base), "import genlab imports no metric"
    new = (
        _genlab_modules(
            "import genlab.metrics as m\n"
            "assert m.list_metrics() and m.get_metric('self_bleu').higher_is_better is False\n"
            "m.get_metric('distinct_n').fn"
        )
        - base
    )
    assert new == {"genlab.metrics", "genlab.metrics.registry", "genlab.metrics.repetition"}


@pytest.mark.parametrize("module", ["genlab.metrics.self_bleu", "genlab.metrics.repetition"])
def test_importing_one_metric_module_imports_few_genlab_modules(module):
    """Registration used to be discovery: importing any metric module imported every module of genlab.metrics
    first, 52 genlab modules in all (40 beyond ``import genlab``)."""
    loaded = _genlab_modules(f"import {module}")
    new = loaded - _genlab_modules("import genlab")
    assert module in new and len(new) <= 5, f"import {module} loads {len(new)} genlab modules: {sorted(new)}"
    assert len(loaded) <= 30, f"import {module} loads {len(loaded)} genlab modules: {sorted(loaded)}"
