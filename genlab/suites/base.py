"""What a suite is: data, solver, scorer and summary, with a version (the shape of Inspect's ``Task``).

A :class:`Suite` reads its **items** from the data a user has (``load``), asks the model (``solve``: the model
calls, batched), scores what came back (``score``: per-record scores; it may run the model too, e.g. the
log-probability of a continuation) and turns all records into tables with intervals (``summarize``: genlab.stats).
Every item has a stable ``id``: the data file's id column when it has one, else a hash of the item's text
(:func:`text_id`), so an item keeps its id, its cache entry and its sampling seed (:func:`item_seed`) wherever it
sits in the file. ``version`` names the suite's code: change it when a solver or scorer changes what it returns, and
the cache (:mod:`genlab.suites.runner`) stops reusing older outputs.

A record is one (item, system, sample): ``{"system": ..., "sample": s, "output": ..., "scores": {...}}``, where a
system is a decoding configuration, ``"human"`` for human text, or ``"model"`` for a suite that only scores.

>>> text_id("The cat sat.") == text_id("The cat sat.") != text_id("The cat sat!")
True
>>> item_seed("p0001") == item_seed("p0001"), 0 <= item_seed("p0001") < 2**63
(True, True)
>>> unique_ids(["a", "b", "a"])
['a', 'b', 'a#2']
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = ["DATA_KINDS", "Item", "Suite", "SuiteInputError", "item_seed", "text_id", "unique_ids"]

#: The data a suite can read, by the name of its command-line option: prompts (one per line, or a table with a
#: ``prompt`` column and an optional ``id``), texts (documents) and pairs (CrowS-Pairs CSV).
DATA_KINDS = ("prompts", "texts", "pairs")


class SuiteInputError(ValueError):
    """Input a suite or the runner cannot use (missing data, an unknown suite, an output folder in use); the
    message says what to do. The command line turns it into exit code 2."""


@dataclass(frozen=True)
class Item:
    """One item of a suite's data: a stable ``id`` and the JSON-able ``input`` the model is given."""

    id: str
    input: dict[str, Any]


@dataclass(frozen=True)
class Suite:
    """One published evaluation. ``needs``: the data kinds it can read, ``needs_all``: whether it needs every one of
    them (else any one). ``settings``: its defaults (decoding configurations, token budgets, resamples); those that
    change a model output are part of the cache key, the others (``batch_size``, ``n_resamples``) are listed in
    ``summary_settings``."""

    name: str
    version: str
    description: str
    needs: tuple[str, ...]
    load: Callable[[Mapping[str, Any], Mapping[str, Any], Any], list[Item]]  # (data, settings, model) -> items
    solve: Callable[[Any, list[Item], Mapping[str, Any]], list[list[dict]]]  # per item, its records (no scores)
    score: Callable[[Any, list[Item], list[list[dict]], Mapping[str, Any]], list[list[dict]]]  # records + scores
    summarize: Callable[[list[Item], list[list[dict]], Mapping[str, Any]], dict[str, pd.DataFrame]]
    settings: Mapping[str, Any] = field(default_factory=dict)
    summary_settings: tuple[str, ...] = ("batch_size", "n_resamples")
    needs_all: bool = False

    def check_data(self, data: Mapping[str, Any]) -> None:
        """Raise :class:`SuiteInputError` unless ``data`` holds what this suite reads."""
        given = [k for k in self.needs if data.get(k) is not None]
        missing = [k for k in self.needs if k not in given]
        if (self.needs_all and missing) or not given:
            which = (
                " and ".join(f"--{k}" for k in missing) if self.needs_all else " or ".join(f"--{k}" for k in self.needs)
            )
            raise SuiteInputError(f"the {self.name!r} suite needs {which} (a file of {self.description_of_data()}).")

    def description_of_data(self) -> str:
        words = {"prompts": "prompts", "texts": "documents", "pairs": "CrowS-Pairs sentence pairs"}
        return " or ".join(words[k] for k in self.needs)

    def cache_settings(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        """The settings that change what the model returns: part of every cache key."""
        return {k: v for k, v in sorted(settings.items()) if k not in self.summary_settings}


def text_id(text: str) -> str:
    """A stable id from an item's text: ``t`` and the first 16 hex digits of its sha256."""
    return "t" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def unique_ids(ids: Sequence[str]) -> list[str]:
    """``ids`` with a repeated id numbered ``#2``, ``#3``, ... in order of occurrence (identical texts hash alike)."""
    seen: dict[str, int] = {}
    out = []
    for i in ids:
        seen[i] = seen.get(i, 0) + 1
        out.append(i if seen[i] == 1 else f"{i}#{seen[i]}")
    return out


def item_seed(item_id: str) -> int:
    """The number that seeds an item's sampling noise (``generate(..., prompt_seeds=...)``): from its id alone."""
    return int.from_bytes(hashlib.sha256(item_id.encode("utf-8")).digest()[:8], "big") >> 1
