"""The metric registry: one function per name, re-imports replace their own entry, families share keywords."""

from __future__ import annotations

import importlib.util
import sys

import pytest

import genlab.metrics  # noqa: F401  (importing the package registers every metric)
from genlab.metrics.registry import get_metric, list_metrics, metric_family, model_corpus_metric, register_metric

DEMO = {"higher_is_better": True, "aggregation": "mean", "inputs": "texts", "citation": "(none: a test)"}


def _execute(path: str, name: str):
    """Execute a file as a new module object, as pytest's ``--doctest-modules`` does with a file it is given."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    return module


def test_executing_a_metric_module_again_replaces_its_entries():
    """What ``pytest genlab/metrics/next_token.py`` does: the package import registers the metrics, then pytest
    executes the file again as a second module object, which defines new function objects (raised before)."""
    registry = sys.modules[model_corpus_metric.__module__].METRICS  # the registry the metric modules use
    before = dict(registry)
    try:
        first = _execute(genlab.metrics.next_token.__file__, "genlab_next_token_again")
        names = set(registry)
        second = _execute(genlab.metrics.next_token.__file__, "genlab_next_token_once_more")
        assert set(registry) == names  # replaced, not added
        assert registry["next_token_rep"].fn is second.next_token_rep is not first.next_token_rep  # newest wins
    finally:
        registry.clear()
        registry.update(before)


def _define(module: str, filename: str, name: str = "score"):
    """A metric function ``name`` as if defined in module ``module`` from file ``filename``."""
    namespace = {"__name__": module}
    exec(compile(f"def {name}(texts):\n    return [0.0 for _ in texts]\n", filename, "exec"), namespace)
    return namespace[name]


def test_only_the_same_function_may_register_a_name_again():
    reg = {}
    register = metric_family(**DEMO, registry=reg)
    register("score")(_define("pkg.metrics", "/src/pkg/metrics.py"))
    register("score")(_define("pkg.metrics", "/src/pkg/metrics.py"))  # the module executed again: replaced
    register("score")(_define("metrics", "/src/pkg/metrics.py"))  # the same file under another module name
    with pytest.raises(ValueError, match=r"'score' is already registered by metrics\.score; pick another name"):
        register("score")(_define("pkg.other", "/src/pkg/other.py"))  # another module's function
    with pytest.raises(ValueError, match="pick another name for pkg.metrics.rate"):
        register("score")(_define("pkg.metrics", "/src/pkg/metrics.py", name="rate"))  # another function
    assert reg["score"].fn.__module__ == "metrics"  # the refused ones changed nothing

    register("cell")(_define("__main__", "/tmp/ipykernel_1/a1.py", name="cell"))
    register("cell")(_define("__main__", "/tmp/ipykernel_1/b2.py", name="cell"))  # a notebook cell edited, re-run


def test_a_different_function_cannot_take_a_metric_of_genlab():
    def perplexity(texts: list[str]) -> list[float]:  # the registered function's name, another source
        return [0.0 for _ in texts]

    with pytest.raises(ValueError, match=r"'perplexity' is already registered by genlab\.metrics\.perplexity\."):
        register_metric("perplexity", **DEMO)(perplexity)
    assert get_metric("perplexity").fn is genlab.metrics.perplexity.corpus_perplexity


def test_families_fix_shared_keywords_and_calls_may_override_them():
    reg = {}
    family = metric_family(**DEMO, slow=True, registry=reg)

    @family("a")
    def a(texts: list[str]) -> list[float]:
        return [1.0 for _ in texts]

    @family("b", higher_is_better=False, slow=False, tiny_inputs=lambda bundle: ((["x"],), {}))
    def b(texts: list[str]) -> list[float]:
        return [1.0 for _ in texts]

    assert (reg["a"].higher_is_better, reg["a"].slow) == (True, True)
    assert (reg["b"].higher_is_better, reg["b"].slow) == (False, False)
    assert b.tiny_inputs(None) == ((["x"],), {}) and not hasattr(a, "tiny_inputs")


def test_model_corpus_metrics_share_their_metadata():
    names = ["perplexity", "next_token_rep", "next_token_wrep", "next_token_acc", "next_token_uniq"]
    for info in map(get_metric, names):
        assert (info.aggregation, info.inputs, info.per_item, info.slow) == ("corpus", "texts+model", False, True)
        assert callable(info.fn.tiny_inputs)
    reg = {}
    model_corpus_metric("x", higher_is_better=True, citation="(none: a test)", registry=reg)(lambda b, t: 0.0)
    assert reg["x"].aggregation == "corpus"


def test_discovery_imports_every_metric_module():
    import pkgutil
    import sys

    import genlab.metrics
    from genlab.metrics.registry import discover_metrics

    names = discover_metrics()
    on_disk = {f"genlab.metrics.{m.name}" for m in pkgutil.iter_modules(genlab.metrics.__path__)}
    assert set(names) == {n for n in on_disk if not n.rsplit(".", 1)[1].startswith("_")}
    assert all(n in sys.modules for n in names)
    assert {"hallucination_rate", "perplexity", "distinct_n", "mauve"} <= {m.name for m in list_metrics()}


def test_discovery_finds_a_new_module_and_fails_loudly_on_a_broken_one(tmp_path, monkeypatch):
    from genlab.metrics.registry import METRICS, discover_metrics

    package = tmp_path / "extra_metrics"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "counted.py").write_text(
        "from genlab.metrics.registry import register_metric\n"
        "@register_metric('tmp_discovered_metric', higher_is_better=True, aggregation='mean', inputs='texts',\n"
        "                 citation='(test)')\n"
        "def tmp_discovered_metric(texts: list[str]) -> list[float]:\n"
        "    '''Characters per text.\n\n    >>> tmp_discovered_metric(['ab'])\n    [2.0]\n    '''\n"
        "    return [float(len(t)) for t in texts]\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        assert discover_metrics("extra_metrics") == ["extra_metrics.counted"]
        assert "tmp_discovered_metric" in METRICS
    finally:
        METRICS.pop("tmp_discovered_metric", None)
    broken = tmp_path / "broken_metrics"
    broken.mkdir()
    (broken / "__init__.py").write_text("")
    (broken / "bad.py").write_text("import a_module_that_does_not_exist\n")
    with pytest.raises(ImportError, match="broken_metrics.bad failed to import"):
        discover_metrics("broken_metrics")
