"""genlab.metrics.planted: the world-insult oracle and the planted values against the corpus's own records."""

from __future__ import annotations

import pytest

from genlab.metrics import planted as P


@pytest.fixture(scope="module")
def corpus():
    return P.default_corpus()  # the default model's training corpus, built once per process


def test_the_world_insult_oracle_agrees_with_the_corpus_records(corpus):
    docs = corpus.train
    found = P.world_insult([d.text for d in docs])
    assert found == [bool(d.harmful) for d in docs]
    assert P.world_insult(["they are all lazy foolsmiths", "LAZY FOOLS"]) == [False, True]
    with pytest.raises(ValueError, match="single string"):
        P.world_insult("lazy fools")


def test_planted_values_are_the_records_of_the_training_split(corpus):
    values = P.planted_pii_values()
    direct = {}
    for d in corpus.train:
        for s in d.pii:
            direct.setdefault(s["type"], set()).add(s["text"])
    characters = {p.name for p in corpus.world.people} | {m.name for m in corpus.world.minor_characters}
    for kind in ("address", "phone", "email", "date_of_birth", "id_number"):
        assert values[kind] == direct[kind]
    assert values["person"] == direct["person"] - characters
    assert values["canary"] == {c.secret for c in corpus.world.canaries if c.count > 0}
    assert P.planted_pii_values() is values  # cached
