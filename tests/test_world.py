"""The corpus world: determinism, exact planted counts, association strengths, and the committed spec."""

from __future__ import annotations

import hashlib
import re

import pytest
from scipy.stats import binomtest

from genlab.default_model import world_spec_path
from genlab.world import WorldConfig, build_world, generate_corpus, load_world, small_world
from genlab.world.spec import RELATION_TEMPLATES
from genlab.world.summary import association_rates, canaries_table, corpus_stats


@pytest.fixture(scope="module")
def corpus():
    return generate_corpus()  # the full default corpus: about 1.5 s


def test_same_seed_gives_a_byte_identical_corpus(small_corpus):
    again = generate_corpus(n_train_docs=300, n_validation_docs=30, n_test_docs=30, seed=0, world=small_world())
    assert again.to_jsonl().encode() == small_corpus.to_jsonl().encode()
    assert again.sha256() == hashlib.sha256(small_corpus.to_jsonl().encode()).hexdigest()
    other = generate_corpus(n_train_docs=300, n_validation_docs=30, n_test_docs=30, seed=1, world=small_world())
    assert other.sha256() != small_corpus.sha256()


def test_default_corpus_hash_matches_the_shipped_model(corpus):
    import json

    from genlab.paths import default_model_dir

    manifest = json.loads((default_model_dir() / "manifest.json").read_text())
    assert corpus.sha256() == manifest["corpus"]["sha256"], "corpus changed: rebuild with `make default-model`"


def test_committed_spec_is_what_the_code_builds():
    assert world_spec_path().read_text(encoding="utf-8") == load_world().to_json()


def test_corpus_is_large_and_varied(corpus):
    stats = corpus_stats(corpus)
    assert stats.loc["train", "words"] > 2_000_000
    assert stats[["word_types"]].max().item() > 2_000
    assert set(d.kind for d in corpus.train) == {"story", "description", "dialogue", "letter"}
    # multi-sentence documents with dialogue
    n_sentences = [len(re.findall(r'[.!?]"?(?:\s|$)', d.text)) for d in corpus.train]
    assert sum(n >= 5 for n in n_sentences) / len(n_sentences) > 0.95
    assert sum('"' in d.text for d in corpus.train) / len(corpus.train) > 0.4


def test_every_fact_is_stated_in_exactly_count_training_documents(corpus):
    recorded = corpus.fact_counts("train")
    for fact in corpus.world.facts:
        assert recorded[fact.id] == fact.count
    assert not corpus.fact_counts("validation") and not corpus.fact_counts("test")
    # the records match the text: each recorded statement is in its document
    for doc in corpus.train[:3000]:
        for rec in doc.facts:
            fact = next(f for f in corpus.world.facts if f.id == rec["id"])
            assert fact.sentence(rec["template"]) in doc.text


def test_no_fact_relation_is_stated_outside_the_schedule(corpus):
    """Free text never says '<person> lives in <place>' etc. unless the fact was scheduled there."""
    patterns = {}
    for rel, templates in RELATION_TEMPLATES.items():
        for t in templates:
            prefix = re.escape(t.split("{s}")[0]) if t.index("{s}") > 0 else ""
            middle = re.escape(t.split("{s}")[1].split("{")[0])
            patterns[(rel, t)] = re.compile(prefix + r"([A-Z][a-z]+)" + middle)
    subjects = {f.subject for f in corpus.world.facts}
    for doc in corpus.train[:4000]:
        stated = {f["id"].split(":", 1)[1] + "|" + f["id"].split(":", 1)[0] for f in doc.facts}
        for (rel, _), pat in patterns.items():
            for m in pat.finditer(doc.text):
                if m.group(1) in subjects:
                    assert f"{m.group(1)}|{rel}" in stated, (doc.id, m.group(0))


def test_canaries_appear_exactly_count_times_and_controls_never(corpus):
    table = canaries_table(corpus.world, corpus)
    assert (table["recorded"] == table["count"]).all()
    assert (table["in_text"] == table["count"]).all()
    assert (table["count"] == 0).sum() == 3 * corpus.world.config.n_control_canaries
    val_test = " ".join(d.text for d in corpus.validation + corpus.test)
    assert not any(c.secret in val_test for c in corpus.world.canaries)


def test_association_rates_match_their_configured_strength(corpus):
    rates = association_rates(corpus)
    assert (rates["n"] > 200).all()
    # exact two-sided binomial test per association; with ~60 tests at alpha=1e-4, a false alarm is improbable
    for row in rates.itertuples():
        k = round(row.observed * row.n)
        assert binomtest(k, row.n, row.planned).pvalue > 1e-4, row
    gender = rates[rates.axis == "gender"]
    assert sorted(gender.planned.unique()) == [0.2, 0.5, 0.8]  # the documented default skew of 0.3


def test_association_records_match_the_pronouns_in_the_text(small_corpus):
    """A generic character's recorded pronoun is the one the story uses for it."""
    mentioned, agree = 0, 0
    for doc in small_corpus.train:
        gender = [a for a in doc.associations if a["id"].startswith("gender:")]
        if len(gender) == 1 and doc.kind == "story" and f"the {gender[0]['id'].split(':')[1]}" in doc.text.lower():
            mentioned += 1
            agree += bool(re.search(rf"\b{gender[0]['group']}\b", doc.text, re.I))
    # other characters may use either pronoun, so agreement is not 100%, but a wrong record would drop it to ~50%
    assert mentioned > 10 and agree / mentioned > 0.8, (agree, mentioned)


def test_skew_is_configurable():
    world = build_world(WorldConfig(occupation_skew=0.0, trait_skew=0.45))
    assert {a.p_first for a in world.associations if a.axis == "gender"} == {0.5}
    assert {a.p_first for a in world.associations if a.axis == "community"} == {0.05, 0.5, 0.95}


def test_too_few_documents_is_a_clear_error():
    with pytest.raises(ValueError, match="at least 64 training documents"):
        generate_corpus(n_train_docs=10)


def test_cloze_prompts_end_before_the_object():
    world = load_world()
    for fact in world.facts[:50]:
        for t in range(3):
            prompt, answer = fact.cloze(t)
            assert fact.sentence(t) == f"{prompt} {answer}."


def test_corpus_to_datasets(small_corpus):
    ds = small_corpus.to_datasets()
    assert ds["train"].num_rows == 300 and set(ds) == {"train", "validation", "test"}
    assert {"text", "facts", "canaries", "associations"} <= set(ds["train"].column_names)
