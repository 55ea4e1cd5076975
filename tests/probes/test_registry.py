"""The probe table: every entry resolves to a function of its own name in genlab.probes, its names never repeat a
metric's, and reading it imports no probe module."""

from __future__ import annotations

import importlib
import inspect
import json
import subprocess
import sys

import pytest

from genlab.metrics.registry import METRICS
from genlab.probes.registry import PROBES, get_probe, list_probes

ALL = list_probes()
IDS = [p.name for p in ALL]


@pytest.mark.parametrize("info", ALL, ids=IDS)
def test_every_entry_resolves_to_a_probe_function_of_its_name(info):
    module, _, attr = info.target.partition(":")
    assert module.startswith("genlab.probes.") and attr == info.name
    fn = info.fn
    assert callable(fn) and fn is getattr(importlib.import_module(module), attr)
    assert fn.__name__ == info.name and info.description
    assert info.slow, f"{info.name}: a probe runs a model"


@pytest.mark.parametrize("info", ALL, ids=IDS)
def test_the_entry_agrees_with_its_function(info):
    signature = inspect.signature(info.fn)
    if info.inputs == "texts+model":
        assert list(signature.parameters)[:2] == ["bundle", "texts"], f"{info.name}: parameters {signature}"
    returns = str(signature.return_annotation)
    assert returns.startswith("list[") == info.per_item, f"{info.name}: per_item={info.per_item}, returns {returns}"


def test_probe_and_metric_names_never_collide():
    assert not set(PROBES) & set(METRICS)


def test_probes_without_a_tiny_call_are_the_cloze_probes():
    """tests/metrics/test_common.py runs slow entries only through ``fn.tiny_inputs``; the cloze probes take probes
    and a model or an oracle, and tests/probes/test_cloze.py runs them."""
    untested = {p.name for p in ALL if not callable(getattr(p.fn, "tiny_inputs", None))}
    assert untested == {"cloze_accuracy", "cloze_exact_match", "cloze_reciprocal_rank"}


def test_a_wrong_name_suggests_the_nearest():
    with pytest.raises(KeyError, match="no probe named 'crows_pair_share'; did you mean 'crows_pairs_share'"):
        get_probe("crows_pair_share")


def test_reading_the_table_imports_no_probe_module():
    code = (
        "import sys, json\nimport genlab.probes as p\nassert p.get_probe('cloze_accuracy').slow\n"
        "print(json.dumps([m for m in sys.modules if m.startswith('genlab')]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert {m for m in loaded if m.startswith("genlab.probes")} == {"genlab.probes", "genlab.probes.registry"}
