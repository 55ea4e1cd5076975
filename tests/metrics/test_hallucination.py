"""genlab.metrics.hallucination: claims extracted from hand-written texts and from every planted statement of the
corpus, and the hallucination rate by text and training count."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from genlab.metrics import hallucination as H
from genlab.metrics.registry import get_metric
from genlab.stats import exact_binomial_ci
from genlab.worlds.text import small_world


@pytest.fixture(scope="module")
def world():
    return small_world()


def test_extract_claims_on_hand_written_texts(world):
    gunka = {f.relation: f for f in world.facts if f.subject == "Gunka"}
    town = world.places[0].name
    town_facts = {f.relation: f for f in world.facts if f.subject == town}
    wrong_town = next(p.name for p in world.places if p.name != gunka["lives_in"].object)
    texts = {
        "true": f"Gunka lives in {gunka['lives_in'].object}. Gunka has a pet {gunka['has_pet'].object}.",
        "variants": (
            f"long ago gunka LIVED IN {wrong_town}, where it rained. Everyone knew that Gunka was an "
            f"{gunka['works_as'].object} by the sea. Gunka loves to eat some "
            f"{gunka['favourite_food'].object}"
        ),
        "invalid": f'"Gunka keeps a pet teapot," said Bo. {town} is known for its {town_facts["landmark"].object}!',
        "missed": (
            f"She lives in {wrong_town}. Gunka's pet is a cat. Gunka is a baker. The home of Bo is in "
            f"{wrong_town}. {town} lives in {wrong_town}. Gunka does not live in {wrong_town}."
        ),
    }
    df = H.extract_claims(texts, world)
    got = df[["text_id", "relation", "claimed_object", "supported", "invalid_object"]].values.tolist()
    assert got == [
        ["true", "lives_in", gunka["lives_in"].object, True, False],
        ["true", "has_pet", gunka["has_pet"].object, True, False],
        ["variants", "lives_in", wrong_town, False, False],
        ["variants", "works_as", gunka["works_as"].object, True, False],  # a/an agreement is not checked
        ["variants", "favourite_food", gunka["favourite_food"].object, True, False],
        ["invalid", "has_pet", "teapot", False, True],
        ["invalid", "landmark", town_facts["landmark"].object, True, False],
    ]
    assert df.loc[2, "match"] == f"gunka LIVED IN {wrong_town}"
    counts = {f.id: f.count for f in world.facts}
    assert df["count"].tolist() == [counts[i] for i in df["fact_id"]]


def test_extraction_recovers_every_planted_statement_of_the_corpus(small_corpus):
    """Precision and recall 1.0 against the documents' own records of which fact, in which template, they state."""
    world = small_corpus.world
    docs = {d.id: d for d in small_corpus.train}
    claims = H.extract_claims({i: d.text for i, d in docs.items()}, world)
    planted = Counter((d.id, f["id"], f["template"]) for d in small_corpus.train for f in d.facts)
    found = Counter(zip(claims["text_id"], claims["fact_id"], claims["template"], strict=True))
    assert sum(planted.values()) == sum(f.count for f in world.facts)
    assert found == planted
    assert claims["supported"].all() and not claims["invalid_object"].any()
    facts = {f.id: f for f in world.facts}
    assert all(
        m + "." == facts[f].sentence(t)
        for m, f, t in zip(claims["match"], claims["fact_id"], claims["template"], strict=True)
    )
    # facts live in the training split only, and free text never states one
    held_out = small_corpus.texts("validation") + small_corpus.texts("test")
    assert len(H.extract_claims(held_out, world)) == 0


def test_hallucination_rate_counts_by_text_and_training_count(world):
    facts = list(world.facts)
    f1 = next(f for f in facts if f.count == 1 and f.relation == "lives_in")
    f4 = next(f for f in facts if f.count == 4 and f.relation == "has_pet")
    other_town = next(p.name for p in world.places if p.name != f1.object)
    texts = [
        f"{f1.subject} lives in {other_town}. {f4.subject} has a pet {f4.object}.",
        "Nothing here.",
        f"{f4.subject} keeps a pet {f4.object}. {f4.subject} has a pet spoon. {f1.subject} lives in {f1.object}.",
    ]
    r = H.hallucination_rate(texts, world)
    assert (r.n_claims, r.n_contradicted) == (5, 2) and r.overall == pytest.approx(2 / 5) and float(r) == r.overall
    assert r.per_text["n_claims"].tolist() == [2, 0, 3]
    rates = r.per_text["rate"].tolist()
    assert rates[0] == 0.5 and math.isnan(rates[1]) and rates[2] == pytest.approx(1 / 3)
    by = r.by_count.set_index("count")
    assert by.loc[1, ["n", "k"]].tolist() == [2, 1]
    assert by.loc[4, ["n", "k"]].tolist() == [3, 1]
    ci = exact_binomial_ci(1, 3)
    assert (by.loc[4, "rate_low"], by.loc[4, "rate_high"]) == pytest.approx((ci.low, ci.high))
    empty = H.hallucination_rate(["No claims at all."], world)
    assert math.isnan(empty.overall) and empty.n_claims == 0 and empty.by_count.empty


def test_bad_texts_raise_a_clear_error(world):
    with pytest.raises(ValueError, match="strings"):
        H.extract_claims([None], world)


def test_the_metric_is_registered_with_its_meaning():
    info = get_metric("hallucination_rate")
    assert info.inputs == "texts" and info.higher_is_better is False and info.aggregation == "corpus"
    assert not info.per_item and not info.slow
