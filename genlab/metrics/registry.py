"""A registry of metrics with the metadata that gives a number its meaning.

Each metric is a plain function registered with its direction, how per-item scores aggregate, what
input it needs and where its definition comes from (after lm-evaluation-harness's ``register_metric``).

>>> @register_metric("demo_length", higher_is_better=False, aggregation="mean", inputs="texts",
...                  citation="(none: a demo)", registry=(reg := {}))
... def demo_length(texts: list[str]) -> list[float]:
...     '''Whitespace tokens per text.'''
...     return [float(len(t.split())) for t in texts]
>>> get_metric("demo_length", registry=reg).higher_is_better
False
>>> get_metric("demo_lenght", registry=reg)
Traceback (most recent call last):
...
KeyError: "no metric named 'demo_lenght'; did you mean 'demo_length'? Known: demo_length"

Registration is discovery: every module of ``genlab.metrics`` is imported before the registry is read
(:func:`discover_metrics`), so a new metric module needs no list to be edited, and a module that fails to import
is an error, not a metric that silently goes missing.

A module that registers several metrics alike fixes the shared keywords once with :func:`metric_family`;
:data:`model_corpus_metric` is the family of corpus values computed with a model on texts (perplexity, ...).
"""

from __future__ import annotations

import difflib
import importlib
import os
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

Aggregation = Literal["mean", "corpus", "ratio", "max", "none"]
Inputs = Literal[
    "texts",
    "texts+model",
    "model",
    "predictions+references",
    "prefixes+continuations",
    "features",
    "pairs",
    "probes+model",
]
TinyInputs = Callable[[Any], tuple[tuple, dict]]  # model bundle -> (args, kwargs) of a call of a few seconds


@dataclass(frozen=True)
class MetricInfo:
    name: str
    fn: Callable
    higher_is_better: bool | None  # None: neither (e.g. a Zipf coefficient, judged against human text)
    aggregation: Aggregation  # how per-item scores combine; "corpus": the function returns one corpus value
    inputs: Inputs
    citation: str
    per_item: bool  # True: the function returns one score per input item
    slow: bool = False  # needs a model or an embedder; the common test runs it only on tiny inputs

    @property
    def description(self) -> str:
        return (self.fn.__doc__ or "").strip().split("\n")[0]


METRICS: dict[str, MetricInfo] = {}


def _where(fn: Callable) -> tuple[str, str, str]:
    """(qualified name, module, file) of a function."""
    code = getattr(fn, "__code__", None)
    path = os.path.realpath(code.co_filename) if code is not None else ""
    return getattr(fn, "__qualname__", repr(fn)), getattr(fn, "__module__", "") or "", path


def _same_source(a: Callable, b: Callable) -> bool:
    """Whether ``b`` is ``a`` defined again: the same qualified name in the same module or file. That happens when a
    module is executed twice (pytest's ``--doctest-modules`` imports a file it is given under a second module
    object), reloaded, or a notebook cell re-run."""
    (name_a, module_a, file_a), (name_b, module_b, file_b) = _where(a), _where(b)
    return a is b or (name_a == name_b and (module_a == module_b or (file_a != "" and file_a == file_b)))


def register_metric(
    name: str,
    *,
    higher_is_better: bool | None,
    aggregation: Aggregation,
    inputs: Inputs,
    citation: str,
    per_item: bool = True,
    slow: bool = False,
    tiny_inputs: TinyInputs | None = None,
    registry: dict[str, MetricInfo] | None = None,
) -> Callable[[Callable], Callable]:
    """Class the decorated function as metric ``name``.

    A name belongs to one function: registering another function under it raises ValueError. Registering the same
    function again (the same qualified name in the same module or file: its module imported a second time or
    reloaded, a notebook cell re-run) replaces the entry, like a reload.

    ``tiny_inputs``: for slow metrics, a callable that takes a small model bundle and returns ``(args, kwargs)`` for
    a call of a few seconds; set as ``fn.tiny_inputs``, which tests/metrics/test_common.py runs.

    >>> reg = {}
    >>> def score(texts: list[str]) -> list[float]:
    ...     return [1.0 for _ in texts]
    >>> first = register_metric("ones", higher_is_better=True, aggregation="mean", inputs="texts",
    ...                         citation="(none: a demo)", registry=reg)(score)
    >>> again = register_metric("ones", higher_is_better=True, aggregation="mean", inputs="texts",
    ...                         citation="(none: a demo)", registry=reg)(score)   # same source: no error
    >>> register_metric("ones", higher_is_better=True, aggregation="mean", inputs="texts",
    ...                 citation="(none: a demo)", registry=reg)(lambda texts: [0.0 for _ in texts])
    Traceback (most recent call last):
    ...
    ValueError: metric 'ones' is already registered by ...score; pick another name for ...<lambda>
    """
    target = METRICS if registry is None else registry

    def decorate(fn: Callable) -> Callable:
        old = target.get(name)
        if old is not None and not _same_source(old.fn, fn):
            (old_name, old_module, _), (new_name, new_module, _) = _where(old.fn), _where(fn)
            raise ValueError(
                f"metric {name!r} is already registered by {old_module}.{old_name}; "
                f"pick another name for {new_module}.{new_name}"
            )
        if tiny_inputs is not None:
            fn.tiny_inputs = tiny_inputs
        target[name] = MetricInfo(
            name=name,
            fn=fn,
            higher_is_better=higher_is_better,
            aggregation=aggregation,
            inputs=inputs,
            citation=citation,
            per_item=per_item,
            slow=slow,
        )
        return fn

    return decorate


def metric_family(**shared: Any) -> Callable[..., Callable[[Callable], Callable]]:
    """:func:`register_metric` with ``shared`` keywords fixed; a call's own keywords add to them or override them.

    >>> reg = {}
    >>> demo = metric_family(aggregation="corpus", inputs="texts", per_item=False, citation="(none: a demo)",
    ...                      registry=reg)
    >>> @demo("n_texts", higher_is_better=None)
    ... def n_texts(texts: list[str]) -> int:
    ...     return len(texts)
    >>> reg["n_texts"].aggregation, reg["n_texts"].per_item
    ('corpus', False)
    """

    def register(name: str, **own: Any) -> Callable[[Callable], Callable]:
        return register_metric(name, **(shared | own))

    return register


#: Corpus values computed with a model (a bundle's) on texts: ``@model_corpus_metric(name, higher_is_better=...,
#: citation=..., tiny_inputs=...)``.
model_corpus_metric = metric_family(aggregation="corpus", inputs="texts+model", per_item=False, slow=True)


_DISCOVERED: set[str] = set()


def discover_metrics(package: str = "genlab.metrics") -> list[str]:
    """Import every module of ``package`` (once), so that each registers its metrics; the modules' names.

    A module that fails to import raises ``ImportError`` naming it: a missing metric is a broken install, not
    something to skip.

    >>> "genlab.metrics.repetition" in discover_metrics()
    True
    """
    pkg = importlib.import_module(package)
    names = [f"{package}.{m.name}" for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_")]
    if package not in _DISCOVERED:
        for name in names:
            try:
                importlib.import_module(name)
            except ImportError as err:
                raise ImportError(
                    f"metric module {name} failed to import ({err}); its metrics cannot be registered. "
                    "Install genlab's dependencies (`pip install -e .` in the repository) and try again."
                ) from err
        _DISCOVERED.add(package)
    return names


def get_metric(name: str, registry: dict[str, MetricInfo] | None = None) -> MetricInfo:
    """The metric called ``name``; a wrong name suggests the nearest known one."""
    if registry is None:
        discover_metrics()
    target = METRICS if registry is None else registry
    if name in target:
        return target[name]
    near = difflib.get_close_matches(name, list(target), n=1)
    hint = f"; did you mean {near[0]!r}?" if near else ""
    raise KeyError(f"no metric named {name!r}{hint} Known: {', '.join(sorted(target))}")


def list_metrics(registry: dict[str, MetricInfo] | None = None) -> list[MetricInfo]:
    """Every registered metric (all of genlab's, discovered first, when ``registry`` is None), by name."""
    if registry is None:
        discover_metrics()
    return sorted((METRICS if registry is None else registry).values(), key=lambda m: m.name)
