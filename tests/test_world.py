"""The corpus world: determinism, exact planted counts, association strengths, and the committed spec."""

from __future__ import annotations

import hashlib
import re
from collections import Counter

import pandas as pd
import pytest
from scipy.stats import binomtest

from genlab.recipes.default_model import world_spec_path
from genlab.worlds.text import WorldConfig, build_world, generate_corpus, load_world, small_world
from genlab.worlds.text_spec import RELATION_TEMPLATES


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

    from genlab.core.paths import default_model_dir

    manifest = json.loads((default_model_dir() / "manifest.json").read_text())
    assert corpus.sha256() == manifest["corpus"]["sha256"], "corpus changed: rebuild with `make default-model`"


def test_committed_spec_is_what_the_code_builds():
    assert world_spec_path().read_text(encoding="utf-8") == load_world().to_json()


def test_corpus_is_large_and_varied(corpus):
    words = [w for d in corpus.train for w in d.text.split()]
    assert len(words) > 2_000_000
    assert len({w.strip('.,!?"').lower() for w in words}) > 2_000
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
    recorded = corpus.canary_counts()
    table = pd.DataFrame([{"count": c.count, "owner": c.owner, "prefix": c.prefix, "recorded": recorded[c.id],
                           "in_text": sum(c.text in d.text for d in corpus.train)} for c in corpus.world.canaries])
    assert (table["recorded"] == table["count"]).all()
    assert (table["in_text"] == table["count"]).all()
    config = corpus.world.config
    assert (table["count"] == 0).sum() == 3 * config.canaries_per_count
    assert len(table) == 3 * len(config.canary_counts) * config.canaries_per_count
    assert table["owner"].is_unique and table["prefix"].is_unique  # no two canaries share a prompt
    val_test = " ".join(d.text for d in corpus.validation + corpus.test)
    assert not any(c.secret in val_test for c in corpus.world.canaries)


def _association_tallies(corpus) -> pd.DataFrame:
    """Per planted association: its plan, and the mentions of its first group (k) among all its mentions (n) in the
    training documents' association records."""
    tallies = Counter((rec["id"], rec["group"]) for doc in corpus.train for rec in doc.associations)
    return pd.DataFrame([{"axis": a.axis, "planned": a.p_first, "frequency": a.frequency,
                          "k": tallies[(a.id, a.groups[0])], "n": sum(tallies[(a.id, g)] for g in a.groups)}
                         for a in corpus.world.associations])  # fmt: skip


def test_association_rates_match_their_configured_strength(corpus):
    rates = _association_tallies(corpus)
    assert (rates["n"] > 50).all()
    # exact two-sided binomial test per association; with ~60 tests at alpha=1e-4, a false alarm is improbable
    for row in rates.itertuples():
        assert binomtest(row.k, row.n, row.planned).pvalue > 1e-4, row
    for axis in ("gender", "community"):
        levels = rates[rates.axis == axis].groupby(["planned", "frequency"]).size()
        # 5 planted levels, each with attributes of both frequencies, equally many per cell
        assert sorted({p for p, _ in levels.index}) == [0.1, 0.3, 0.5, 0.7, 0.9]
        assert len(levels) == 10 and levels.nunique() == 1, levels
    freq = rates.groupby("frequency")["n"].mean()
    assert freq["high"] > 2 * freq["low"]  # drawn 3:1


def test_association_records_match_the_pronouns_in_the_text(small_corpus):
    """A generic protagonist's recorded pronoun is the only subject pronoun of its document: nothing dilutes it."""
    checked = 0
    for doc in small_corpus.train:
        gender = [a for a in doc.associations if a["id"].startswith("gender:")]
        if len(gender) != 1 or doc.facts:  # named people of planted facts carry their own pronouns
            continue
        other = "he" if gender[0]["group"] == "she" else "she"
        assert not re.search(rf"\b{other}\b", doc.text, re.I), (doc.id, gender, doc.text)
        checked += re.search(rf"\b{gender[0]['group']}\b", doc.text, re.I) is not None
    assert checked > 20


def test_association_levels_are_configurable():
    world = build_world(WorldConfig(association_levels=(0.5,)))
    assert {a.p_first for a in world.associations} == {0.5}
    world = build_world(WorldConfig(association_levels=(0.05, 0.95)))
    assert {a.p_first for a in world.associations if a.axis == "community"} == {0.05, 0.95}


def test_named_people_are_never_put_in_another_town_or_given_another_pet_or_food(corpus):
    """In a document where a world person appears, no town, food or animal is named outside the fact sentences,
    so nothing contradicts a planted fact; the v1 corpus named another town 912 times for the first 20 people."""
    world = corpus.world
    people = {p.name for p in world.people}
    towns = {p.name for p in world.places}
    from genlab.worlds.text_grammar import plural

    # a food or animal word, unless it is also the plural of a common object ("four pears lay in the meadow")
    words = {w.lower() for w in world.lexicon["foods"] + world.lexicon["animals"]}
    words -= {plural(o) for o in world.lexicon["objects"]}
    facts = {f.id: f for f in world.facts}
    for doc in corpus.train[:6000]:
        if not any(re.search(rf"\b{re.escape(n)}\b", doc.text) for n in people):
            continue
        text = doc.text
        for rec in doc.facts:
            text = text.replace(facts[rec["id"]].sentence(rec["template"]), " ")
        for span in doc.pii:  # addresses of private individuals may name a town
            text = text.replace(span["text"], " ")
        assert not any(re.search(rf"\b{t}\b", text) for t in towns), (doc.id, text)
        lowered = f" {text.lower()} "
        assert not [w for w in words if f" {w} " in lowered or f" {w}." in lowered or f" {w}," in lowered], \
            (doc.id, text)


def test_heldout_templates_and_association_probes_never_occur_in_training(corpus):
    from genlab.probes.next_token_association import _probe_prompts
    from genlab.worlds.text_spec import HELDOUT_TEMPLATE

    text = "\n".join(d.text for d in corpus.documents())
    for templates in RELATION_TEMPLATES.values():
        assert templates[HELDOUT_TEMPLATE].split("{s}")[0] not in text
    assert not [p for *_, p in _probe_prompts(corpus.world) if p in text]
    for doc in corpus.train[:3000]:
        assert all(rec["template"] != HELDOUT_TEMPLATE for rec in doc.facts)


def test_pii_negatives_and_insults_are_labelled_with_exact_spans(corpus):
    from genlab.worlds.text_pii import NEGATIVE_TYPES, PII_TYPES

    kinds = {"pii": set(), "negatives": set(), "harmful": set()}
    for doc in corpus.train[:5000] + corpus.test:
        for field in kinds:
            for span in getattr(doc, field):
                assert doc.text[span["start"]:span["end"]] == span["text"], (doc.id, span)
                kinds[field].add(span["type"])
    assert kinds["pii"] == set(PII_TYPES) and kinds["negatives"] == set(NEGATIVE_TYPES)
    assert kinds["harmful"] == {"insult"}
    # the 555 prefix and digit runs occur outside PII too, so a digit pattern is not a perfect redactor
    n_digit_negatives = sum(bool(re.search(r"\d", s["text"])) for d in corpus.train for s in d.negatives)
    assert n_digit_negatives > 500
    rate = sum(bool(d.pii) for d in corpus.train) / len(corpus.train)
    assert 0.06 < rate < 0.10


def test_knobs_add_duplicates_and_wrong_facts_and_are_off_by_default(small_corpus):
    assert not any(d.duplicate_of or d.wrong_facts for d in small_corpus.train)
    knobbed = generate_corpus(n_train_docs=300, n_validation_docs=30, n_test_docs=30, seed=0, world=small_world(),
                              duplicate_rate=0.1, wrong_fact_rate=0.2)
    dups = [d for d in knobbed.train if d.duplicate_of]
    assert len(dups) == 30 and len(knobbed.train) == 330
    originals = {d.id: d for d in knobbed.train}
    assert sum(d.text == originals[d.duplicate_of].text for d in dups) == 15  # half exact, half near
    wrong = [w for d in knobbed.train for w in d.wrong_facts]
    assert 40 < len(wrong) < 85
    facts = {f.id: f for f in knobbed.world.facts}
    assert all(w["object"] != facts[w["id"]].object for w in wrong)
    with pytest.raises(ValueError, match="between 0 and 1"):
        generate_corpus(n_train_docs=100, world=small_world(), duplicate_rate=1.5)


def test_tokenizer_text_holds_no_secret_and_no_pii(corpus):
    texts = corpus.tokenizer_texts()
    joined = "\n".join(texts)
    assert len(texts) > 0.75 * len(corpus.train)
    assert not [c for c in corpus.world.canaries if c.secret in joined]
    assert not [s for d in corpus.train for s in d.pii if s["text"] in joined and s["type"] != "person"]


def test_name_swap_control_asks_about_someone_with_another_object():
    world = load_world()
    for fact in world.facts:
        other = world.name_swap(fact)
        assert other != fact.subject
        assert next(f for f in world.facts if f.subject == other and f.relation == fact.relation).object != fact.object


def test_no_article_errors():
    corpus = generate_corpus(n_train_docs=2000, n_validation_docs=0, n_test_docs=0, seed=3)
    bad = re.findall(r"\ba [aeiou]\w*", " ".join(corpus.texts()), re.I)
    assert not [b for b in bad if not b.lower().startswith(("a u", "a on"))], sorted(set(bad))[:10]


def test_too_few_documents_is_a_clear_error():
    with pytest.raises(ValueError, match="at least 128 training documents"):
        generate_corpus(n_train_docs=10)


def test_cloze_prompts_end_before_the_object():
    world = load_world()
    for fact in world.facts[:50]:
        for t in range(4):
            prompt, answer = fact.cloze(t)
            assert fact.sentence(t) == f"{prompt} {answer}."


def test_corpus_to_datasets(small_corpus):
    ds = small_corpus.to_datasets()
    assert ds["train"].num_rows == 300 and set(ds) == {"train", "validation", "test"}
    assert {"text", "facts", "canaries", "associations", "pii", "negatives", "harmful"} <= set(ds["train"].column_names)


def test_scene_documents_put_each_pronoun_right_after_its_character():
    """The denser option (off by default): in a scenes document every vignette refers to its own generic character
    by the pronoun recorded for it, twice, and trait sentences sit between vignettes."""
    from genlab.worlds.text_corpus import PlantingRates

    corpus = generate_corpus(n_train_docs=3000, n_validation_docs=0, n_test_docs=0, seed=0,
                             rates=PlantingRates(scene=0.5, trait=2.0))
    scenes = [d for d in corpus.train if d.kind == "scenes"]
    assert scenes and not any(d.facts or d.canaries for d in scenes)
    for doc in scenes:
        pronouns = [p.lower() for p in re.findall(r"\b(She|He|she|he)\b", doc.text)]
        groups = [a["group"] for a in doc.associations if a["id"].startswith("gender:")]
        assert 3 <= len(groups) <= 5 and pronouns == [g for g in groups for _ in range(2)], (doc.text, groups)
    stories = [d for d in corpus.train if d.kind != "scenes"]
    traits = sum(a["id"].startswith("community:") for d in stories for a in d.associations) / len(stories)
    assert 1.9 < traits < 2.1
