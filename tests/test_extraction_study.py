"""The full-size extraction run's writer: tables without secret values, provenance, and a clear error when absent."""

from __future__ import annotations

import json

import pytest

from genlab.metrics.extraction import ExtractionConfig
from genlab.studies import extraction_study as E


def test_a_small_run_writes_tables_without_values(tmp_path):
    config = ExtractionConfig(owners_per_count=1, owner_samples=1, neutral_samples=1, max_new_tokens=4, cutoffs=(5,))
    tables = E.run(config, out_dir=tmp_path)
    loaded = E.load_results(tmp_path)
    assert set(loaded) == {"precision", "by_count", "extracted"}
    assert "value" not in loaded["extracted"].columns and "value" not in tables["extracted"].columns
    assert set(loaded["precision"]["metric"]) == {"perplexity", "reference", "lowercase", "zlib", "base_rate"}
    provenance = json.loads((tmp_path / "provenance.json").read_text())
    assert provenance["settings"]["owner_samples"] == 1 and provenance["n_samples"] >= provenance["n_candidates"]


def test_missing_results_say_how_to_make_them(tmp_path):
    with pytest.raises(FileNotFoundError, match="extraction_study run"):
        E.load_results(tmp_path)
