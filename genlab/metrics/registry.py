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
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Aggregation = Literal["mean", "corpus", "ratio", "max", "none"]
Inputs = Literal["texts", "texts+model", "model", "predictions+references", "prefixes+continuations",
                 "features", "pairs", "probes+model"]


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


def register_metric(name: str, *, higher_is_better: bool | None, aggregation: Aggregation, inputs: Inputs,
                    citation: str, per_item: bool = True, slow: bool = False,
                    registry: dict[str, MetricInfo] | None = None) -> Callable[[Callable], Callable]:
    """Class the decorated function as metric ``name``. A name may be registered once."""
    target = METRICS if registry is None else registry

    def decorate(fn: Callable) -> Callable:
        if name in target and target[name].fn is not fn:
            raise ValueError(f"metric {name!r} is already registered (by {target[name].fn.__module__})")
        target[name] = MetricInfo(name=name, fn=fn, higher_is_better=higher_is_better, aggregation=aggregation,
                                  inputs=inputs, citation=citation, per_item=per_item, slow=slow)
        return fn

    return decorate


def get_metric(name: str, registry: dict[str, MetricInfo] | None = None) -> MetricInfo:
    """The metric called ``name``; a wrong name suggests the nearest known one."""
    target = METRICS if registry is None else registry
    if name in target:
        return target[name]
    near = difflib.get_close_matches(name, list(target), n=1)
    hint = f"; did you mean {near[0]!r}?" if near else ""
    raise KeyError(f"no metric named {name!r}{hint} Known: {', '.join(sorted(target))}")


def list_metrics(registry: dict[str, MetricInfo] | None = None) -> list[MetricInfo]:
    return sorted((METRICS if registry is None else registry).values(), key=lambda m: m.name)
