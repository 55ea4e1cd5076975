"""One test for every metric of the table in genlab.metrics.registry, and every probe of genlab.probes.registry
(after huggingface/evaluate's common metric test).

Each metric must carry a docstring with a runnable ``>>>`` example (pytest runs it: ``--doctest-modules``), a
citation, explicit keyword arguments (no ``**kwargs``), metadata that agree with each other, per-item scores of the
right length when ``per_item``, and it must survive empty, one-token and Unicode inputs.

Inputs are built from the metric's ``inputs`` kind; a kind this file does not know, or a required argument it
cannot supply, is skipped (with the reason), not failed. Slow metrics (``slow=True``: they need a model) run only
through a tiny path they declare: an attribute ``fn.tiny_inputs``, a callable that takes the test model bundle
(``tiny_bundle`` from tests/conftest.py) and returns ``(args, kwargs)`` for a call of a few seconds at most.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Sequence

import pytest

from genlab.metrics.registry import Aggregation, list_metrics
from genlab.probes.registry import list_probes

METRICS = list_metrics() + list_probes()  # the probes' table has the same form: one walk covers both
IDS = [m.name for m in METRICS]

TEXTS = {
    "empty texts": ["", ""],
    "one token": ["word", "word"],
    "unicode": ["naïve café 東京 🙂", "Zoë\u00a0was\u3000here 🙂 🙂 — ok"],
    "mixed": ["the cat sat on the mat", "", "a", "the cat sat on the mat again and again and again"],
}


def _argument_providers() -> dict[str, typing.Callable[[], object]]:
    """Values for required arguments other than the inputs, by parameter name."""

    def world():
        from genlab.worlds.text import small_world

        return small_world()

    return {"world": world}


def _build_call(info, texts: list[str]) -> tuple[tuple, dict, int]:
    """(args, kwargs, number of items) for a fast metric, or pytest.skip."""
    if info.inputs == "texts":
        args = (texts,)
    elif info.inputs == "predictions+references":
        args = (texts, texts[::-1])
    else:
        pytest.skip(f"{info.name}: no test inputs for inputs kind {info.inputs!r}")
    params = list(inspect.signature(info.fn).parameters.values())[len(args) :]
    providers, kwargs = _argument_providers(), {}
    for p in params:
        if p.default is inspect.Parameter.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            if p.name not in providers:
                pytest.skip(f"{info.name}: cannot build required argument {p.name!r}")
            kwargs[p.name] = providers[p.name]()
    return args, kwargs, len(texts)


@pytest.mark.parametrize("info", METRICS, ids=IDS)
def test_docstring_has_a_runnable_example(info):
    doc = inspect.getdoc(info.fn) or ""
    assert doc.strip(), f"{info.name}: no docstring"
    assert ">>>" in doc, f"{info.name}: the docstring needs a >>> example (pytest runs it)"


@pytest.mark.parametrize("info", METRICS, ids=IDS)
def test_metadata(info):
    assert len(info.citation.strip()) > 10, f"{info.name}: cite the paper or source of the definition"
    assert info.higher_is_better in (True, False, None)
    assert info.aggregation in typing.get_args(Aggregation)
    assert (info.aggregation == "corpus") == (not info.per_item), (
        f"{info.name}: a corpus-valued metric has per_item=False, and a per-item one names how scores aggregate"
    )


@pytest.mark.parametrize("info", METRICS, ids=IDS)
def test_no_var_keyword_arguments(info):
    kinds = [p.kind for p in inspect.signature(info.fn).parameters.values()]
    assert inspect.Parameter.VAR_KEYWORD not in kinds, f"{info.name}: spell out the keyword arguments"


def _check_result(info, result, n_items: int) -> None:
    if info.per_item:
        assert isinstance(result, Sequence) or hasattr(result, "__len__"), f"{info.name}: per-item scores expected"
        assert len(result) == n_items, f"{info.name}: {len(result)} scores for {n_items} items"


@pytest.mark.parametrize("case", list(TEXTS))
@pytest.mark.parametrize("info", [m for m in METRICS if not m.slow], ids=[m.name for m in METRICS if not m.slow])
def test_runs_on_edge_inputs(info, case):
    args, kwargs, n_items = _build_call(info, TEXTS[case])
    _check_result(info, info.fn(*args, **kwargs), n_items)


@pytest.mark.parametrize("info", [m for m in METRICS if not m.slow], ids=[m.name for m in METRICS if not m.slow])
def test_no_items_gives_a_result_or_a_clear_error(info):
    args, kwargs, _ = _build_call(info, ["placeholder", "placeholder"])
    args = tuple([] if isinstance(a, list) else a for a in args)
    try:
        result = info.fn(*args, **kwargs)
    except ValueError as err:  # a metric that needs items may say so
        assert str(err), f"{info.name}: the ValueError should say what was wrong"
        return
    _check_result(info, result, 0)


@pytest.mark.parametrize("info", [m for m in METRICS if m.slow], ids=[m.name for m in METRICS if m.slow])
def test_slow_metric_tiny_path(info, request):
    tiny_inputs = getattr(info.fn, "tiny_inputs", None)
    if tiny_inputs is None:
        pytest.skip(f"{info.name}: slow metric without a declared tiny_inputs path")
    args, kwargs = tiny_inputs(request.getfixturevalue("tiny_bundle"))
    items = [a for a in args if isinstance(a, (list, tuple))]
    result = info.fn(*args, **kwargs)
    if items:
        _check_result(info, result, len(items[-1]))
