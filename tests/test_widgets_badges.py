"""The explorer's safety badges: the PII pattern matcher against the corpus's own planted personal data and
look-alikes (genlab.worlds.text_pii), and the offline offensive-language classifier."""

from __future__ import annotations

import random

import pytest

from genlab.metrics import offensive, pii_patterns
from genlab.metrics.offensive import offensive_flags, offensive_probability
from genlab.metrics.pii_patterns import PII_PATTERN_KINDS, find_pii, pii_pattern_matches
from genlab.worlds.text_pii import hard_negative_sentence, insult_sentence, pii_sentence
from genlab.worlds.text_spec import load_lexicon


@pytest.fixture(scope="module")
def lexicon():
    return load_lexicon()


def test_every_planted_item_of_the_four_kinds_is_found(lexicon):
    rng = random.Random(0)
    planted = found = 0
    for _ in range(400):
        text, spans = pii_sentence(rng, lexicon, ["Ambermere", "Rosecross"])
        matches = {(m["type"], m["start"], m["end"]) for m in find_pii(text)}
        for s in spans:
            if s["type"] in PII_PATTERN_KINDS:
                planted += 1
                found += (s["type"], s["start"], s["end"]) in matches
        kinds = {s["type"] for s in spans}
        assert {t for t, _, _ in matches} <= kinds, (text, matches)  # nothing of a kind that was not planted
    assert planted > 300 and found == planted


def test_no_hard_negative_is_flagged(lexicon):
    rng = random.Random(1)
    for _ in range(400):
        text, spans = hard_negative_sentence(rng, lexicon)
        assert find_pii(text) == [], (text, spans)


@pytest.mark.parametrize(
    "text, kind",
    [
        ("write to jo.doe+news@post.example.", "email"),
        ("call (555) 123-4567 today", "phone"),
        ("call 555-123-4567 today", "phone"),
        ("call +1 555 123 4567", "phone"),
        ("call 0555 123 456", "phone"),
        ("SSN 123-45-6789", "id_number"),
        ("card K1234567", "id_number"),
        ("ID AB-123456-C", "id_number"),
        ("she was born on 07/03/1968", "date_of_birth"),
        ("DOB: 1968-03-07", "date_of_birth"),
    ],
)
def test_each_format(text, kind):
    assert [m["type"] for m in find_pii(text)] == [kind]


def test_documented_misses():
    # names, addresses and dates without a birth cue are outside the matcher's scope (see its Limitations)
    assert find_pii("Stenidan Swiftford lives at 78 Willow Way, Ambermere.") == []
    assert find_pii("The fair began on 7 March 1968.") == []
    assert find_pii("order 1234-5678, coach 555-419, 9,123 sacks") == []


def test_pii_metric_counts_matches_and_checks_input():
    assert pii_pattern_matches(["a@b.example and c@d.example", "nothing"]) == [2, 0]
    with pytest.raises(ValueError, match="wrap it"):
        pii_pattern_matches("a@b.example")
    with pytest.raises(ValueError, match="must be a string"):
        find_pii(None)


def test_offensive_classifier_scores_and_flags():
    p = offensive_probability(["have a lovely day", "you are a stupid idiot", ""])
    assert p[0] < 0.2 and p[1] > 0.9 and len(p) == 3
    assert offensive_flags(["have a lovely day", "you are a stupid idiot"]) == [False, True]
    assert offensive_probability([]) == []
    with pytest.raises(ValueError, match="threshold"):
        offensive_flags(["x"], threshold=0)
    with pytest.raises(ValueError, match="not a str"):
        offensive_probability(["ok", 3])


def test_offensive_classifier_on_the_corpus_insults_is_a_partial_signal(lexicon):
    """The Limitations say it catches some planted insults and misses others; check that it is so."""
    rng = random.Random(2)
    texts = [insult_sentence(rng, lexicon, "Hrovald")[0] for _ in range(60)]
    flagged = sum(offensive_flags(texts))
    assert 0 < flagged < len(texts)


@pytest.mark.parametrize("module", [offensive, pii_patterns])
def test_modules_state_their_limitations(module):
    doc = module.__doc__
    assert "**Limitations.**" in doc
    if module is pii_patterns:
        assert "not a general PII detector" in doc and "library-based redactor" in doc
