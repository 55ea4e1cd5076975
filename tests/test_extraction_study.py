"""genlab.experiments.extraction_study: the full-size extraction run writes its tables without secret values, with
provenance. Notebook 31 reads the tables and says how to make them when they are absent."""

from __future__ import annotations

import json

import pandas as pd

from genlab.experiments import extraction_study as E
from genlab.probes.extraction import ExtractionConfig


def test_a_small_run_writes_tables_without_values(tmp_path):
    config = ExtractionConfig(owners_per_count=1, owner_samples=1, neutral_samples=1, max_new_tokens=4, cutoffs=(5,))
    tables = E.run(config, out_dir=tmp_path)
    loaded = {n: pd.read_csv(tmp_path / f"{n}.csv") for n in ("precision", "by_count", "extracted")}  # as notebook 31
    assert set(loaded) == {"precision", "by_count", "extracted"}
    assert "value" not in loaded["extracted"].columns and "value" not in tables["extracted"].columns
    assert set(loaded["precision"]["metric"]) == {"perplexity", "reference", "lowercase", "zlib", "base_rate"}
    provenance = json.loads((tmp_path / "provenance.json").read_text())
    assert provenance["settings"]["owner_samples"] == 1 and provenance["n_samples"] >= provenance["n_candidates"]
