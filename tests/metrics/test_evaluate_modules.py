"""The text metrics as local evaluate modules: loaded offline (the conftest guard fails any network connection),
with the same numbers as the plain functions."""

from __future__ import annotations

import inspect
import re

import pytest

from genlab.metrics.evaluate_module import evaluate_module_path, load_evaluate_metric
from genlab.metrics.registry import get_metric, list_metrics
from genlab.metrics.repetition import distinct_n

TEXTS = ["the cat sat on the mat", "the cat sat on the mat", "a dog ran to the mat", "", "東京 🙂 東京 🙂 東京 🙂"]
OPTIONS = {"distinct_n": {"n": 3}, "rep_n": {"n": 4, "simctg_compat": True}, "self_bleu": {"max_n": 2}}


REFERENCES = ["the cat sat on a mat", "a cat sat on the mat", "the dog ran to the mat", "nothing", "東京 🙂"]


def _text_only(info) -> bool:
    if info.slow or info.inputs not in ("texts", "predictions+references"):
        return False
    n_inputs = 1 if info.inputs == "texts" else 2
    params = list(inspect.signature(info.fn).parameters.values())[n_inputs:]
    return all(p.default is not inspect.Parameter.empty for p in params)


TEXT_METRICS = [m.name for m in list_metrics() if _text_only(m)]


@pytest.mark.parametrize("name", TEXT_METRICS)
def test_evaluate_module_equals_plain_function(name, tmp_path):
    info = get_metric(name)
    options = OPTIONS.get(name, {})
    module = load_evaluate_metric(name, directory=tmp_path)
    if info.inputs == "texts":
        got, expected = module.compute(predictions=TEXTS, **options), info.fn(TEXTS, **options)
    else:
        got = module.compute(predictions=TEXTS, references=REFERENCES, **options)
        expected = info.fn(TEXTS, REFERENCES, **options)
    if info.per_item:
        assert got["per_item"] == pytest.approx(list(expected), nan_ok=True)
        assert got[name] == pytest.approx(sum(expected) / len(expected))
    else:
        assert got == {name: pytest.approx(expected, nan_ok=True)}


def test_add_batch_then_compute(tmp_path):
    module = load_evaluate_metric("distinct_n", directory=tmp_path)
    module.add_batch(predictions=TEXTS[:2])
    module.add_batch(predictions=TEXTS[2:])
    assert module.compute(n=2)["per_item"] == distinct_n(TEXTS, 2)


def test_generated_module_has_one_import_per_line(tmp_path):
    script = evaluate_module_path("self_bleu", tmp_path) / "self_bleu.py"
    imports = [line for line in script.read_text().splitlines() if re.match(r"^(import|from)\s", line)]
    assert imports and all("," not in line for line in imports)  # evaluate parses imports line by line
    assert "# From:" not in script.read_text()  # that comment makes evaluate download a file


def test_module_file_is_rewritten_only_when_it_changes(tmp_path):
    script = evaluate_module_path("rep_n", tmp_path) / "rep_n.py"
    stamp = script.stat().st_mtime_ns
    evaluate_module_path("rep_n", tmp_path)
    assert script.stat().st_mtime_ns == stamp


def test_model_metrics_are_refused_with_a_clear_error(tmp_path):
    model_metrics = [m.name for m in list_metrics() if m.inputs not in ("texts", "predictions+references")]
    if not model_metrics:
        pytest.skip("no model-based metric is registered")
    with pytest.raises(ValueError, match="texts only"):
        evaluate_module_path(model_metrics[0], tmp_path)
