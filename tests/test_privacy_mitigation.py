"""genlab.experiments.privacy_mitigation: the arms' training texts, the measured dose, and a resumable study.

Notebook 31 reads the saved runs back and tabulates them by insertion count; its cells check that table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from genlab.experiments import privacy_mitigation as pm
from genlab.worlds.text import generate_corpus, small_world


@pytest.fixture(scope="module")
def corpus():
    return generate_corpus(
        n_train_docs=200, n_validation_docs=5, n_test_docs=0, duplicate_rate=0.2, world=small_world()
    )


def test_deduplication_removes_the_planted_copies_and_nothing_else(corpus):
    texts = corpus.texts("train")
    kept = pm.arm_texts(texts, "deduplicated", pm.CI_SETTINGS)
    n_copies = sum(d.duplicate_of is not None for d in corpus.train)
    assert len(kept) == len(texts) - n_copies
    assert pm.arm_texts(texts, "raw", pm.CI_SETTINGS) == texts


def test_redaction_removes_what_the_patterns_know_and_the_dose_shows_what_is_left(corpus):
    texts = corpus.texts("train")
    redacted = pm.arm_texts(texts, "redacted", pm.CI_SETTINGS)
    emails = [s["text"] for d in corpus.train for s in d.pii if s["type"] == "email"]
    assert emails and not any(e in t for e in emails for t in redacted)
    world = corpus.world
    raw_doses = pm.canary_doses(texts, world.canaries)
    assert raw_doses == {c.id: sum(c.secret in t for t in texts) for c in world.canaries}
    inserted = [c for c in world.canaries if c.count > 0]
    assert all(raw_doses[c.id] >= c.count for c in inserted)  # copies of a canary document add to its dose
    with pytest.raises(ValueError, match="unknown arm"):
        pm.arm_texts(texts, "scrubbed", pm.CI_SETTINGS)


def test_summary_compares_arms_canary_by_canary():
    rng = np.random.default_rng(0)
    rows = []
    for arm, shift in (("raw", 0.0), ("deduplicated", -1.0)):
        for seed in range(3):
            for i in range(12):
                rows.append(
                    {
                        "arm": arm,
                        "seed": seed,
                        "item": f"c{i}",
                        "count": 1 + i % 4,
                        "dose": 2,
                        "exposure": 3 + i % 4 + shift + rng.normal(0, 0.1),
                        "perplexity": 5.0 + seed,
                    }
                )
    out = pm.summarise(pd.DataFrame(rows)).set_index("arm")
    assert out.loc["deduplicated", "diff"] == pytest.approx(-1.0, abs=0.1)
    assert out.loc["deduplicated", "diff_high"] < 0 and out.loc["raw", "perplexity"] == pytest.approx(6.0)


def test_a_study_runs_and_resumes(tmp_path, monkeypatch):
    settings = pm.PrivacySettings(
        n_train_docs=130,
        steps=2,
        batch_size=2,
        n_embd=16,
        n_layer=1,
        n_head=2,
        seeds=(0,),
        canaries_per_count=1,
        n_references=8,
        n_validation_docs=3,
        arms=("raw", "deduplicated"),
        duplicate_rate=0.1,
    )
    first = pm.run_study(settings, world=small_world(), out_dir=tmp_path)
    assert set(first["arm"]) == {"raw", "deduplicated"}
    assert first["exposure"].notna().all() and (first["dose"] >= 0).all()
    assert set(first["extracted"]) <= {0, 1} and (first["pii_extracted"] >= 0).all()
    # the files notebook 31 reads: one scores file and one extraction file per run
    runs = sorted((tmp_path / "runs").glob("*.csv"))
    assert [f.name for f in runs] == [
        "deduplicated-seed0-extraction.csv",
        "deduplicated-seed0.csv",
        "raw-seed0-extraction.csv",
        "raw-seed0.csv",
    ]
    loaded = pd.concat([pd.read_csv(f) for f in runs if not f.name.endswith("-extraction.csv")], ignore_index=True)
    assert len(loaded) == len(first) and set(loaded.columns) == set(first.columns)
    precision = pd.concat([pd.read_csv(f) for f in runs if f.name.endswith("-extraction.csv")], ignore_index=True)
    assert set(precision["arm"]) == {"raw", "deduplicated"} and "base_rate" in set(precision["metric"])

    def no_training(*args, **kwargs):
        raise AssertionError("a saved run was trained again")

    monkeypatch.setattr(pm, "_train", no_training)
    again = pm.run_study(settings, world=small_world(), out_dir=tmp_path)
    pd.testing.assert_frame_equal(again, first, check_dtype=False)


def test_extraction_summary_handles_arms_that_extract_nothing():
    rows = []
    for arm, p in (("raw", 0.5), ("redacted", 0.0)):
        for seed in range(3):
            for i in range(16):
                rows.append(
                    {
                        "arm": arm,
                        "seed": seed,
                        "item": f"c{i}",
                        "count": 1 + i % 4,
                        "dose": 1,
                        "extracted": int(i % 2 == 0) if p else 0,
                        "pii_extracted": 2 if p else 0,
                        "perplexity": 5.0,
                    }
                )
    out = pm.summarise(pd.DataFrame(rows), measure="extracted").set_index("arm")
    assert out.loc["raw", "extracted"] == pytest.approx(0.5) and out.loc["redacted", "extracted"] == 0
    assert out.loc["redacted", "diff"] == pytest.approx(-0.5) and out.loc["redacted", "pii_extracted"] == 0
    with pytest.raises(ValueError, match="no column"):
        pm.summarise(pd.DataFrame(rows), measure="leak")
