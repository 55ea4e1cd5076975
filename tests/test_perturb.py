"""Input perturbations: identity at strength 0, edit rate growing with strength, determinism, coupling across
strengths, what each kind may and may not change, and the edit distance against its textbook definition."""

from __future__ import annotations

import functools
import random
import re

import pytest

from genlab.data.augment import load_synonyms, split_token
from genlab.data.perturb import (
    KEYBOARD_NEIGHBOURS,
    PERTURBATIONS,
    edit_rate,
    levenshtein,
    perturb,
    perturb_texts,
    register_perturbation,
)

KINDS = sorted(PERTURBATIONS)
STRENGTHS = (0.0, 0.05, 0.15, 0.4, 1.0)


@pytest.fixture(scope="module")
def sentences(small_corpus) -> list[str]:
    """Sentences of the validation split (short, so character edit distances stay cheap)."""
    out = [s for text in small_corpus.texts("validation") for s in re.split(r"(?<=[.!?])\s+", text)]
    return [s for s in out if len(s.split()) >= 5][:40]


@pytest.mark.parametrize("kind", KINDS)
def test_strength_zero_is_the_identity(kind, small_corpus):
    texts = small_corpus.texts("validation")[:10] + ["", "   ", "  lead and trail \n", "Dear Bo,\nYours, Al"]
    assert perturb_texts(texts, kind, 0.0, seed=7) == texts
    assert all(perturb(t, kind, 0.0, seed=s) == t for t in texts for s in range(3))


@pytest.mark.parametrize("kind", KINDS)
def test_edit_rate_grows_with_strength(kind, sentences):
    unit = PERTURBATIONS[kind].unit
    rates = []
    for strength in STRENGTHS:
        perturbed = perturb_texts(sentences, kind, strength, seed=1)
        rates.append(sum(edit_rate(a, b, unit) for a, b in zip(sentences, perturbed, strict=True)) / len(sentences))
    assert rates[0] == 0.0
    assert all(lo < hi for lo, hi in zip(rates, rates[1:], strict=False)), rates


@pytest.mark.parametrize("kind", KINDS)
def test_deterministic_per_seed(kind, sentences):
    text = " ".join(sentences[:5])
    assert perturb(text, kind, 0.5, seed=3) == perturb(text, kind, 0.5, seed=3)
    assert perturb(text, kind, 0.5, seed=3) != perturb(text, kind, 0.5, seed=4)
    # perturb_texts gives text i its own stream: the result does not depend on the texts before it.
    assert perturb_texts(["a b c", text], kind, 0.5, seed=3)[1] == perturb_texts(["x", text], kind, 0.5, seed=3)[1]


def test_char_substitute_hits_keyboard_neighbours_and_is_coupled_across_strengths(sentences):
    text = " ".join(sentences[:5]) + " 555-1234-5678 QWERTY"
    low, high = (perturb(text, "char_substitute", s, seed=2) for s in (0.2, 0.6))
    assert len(low) == len(high) == len(text)
    changed_low = {i for i, (a, b) in enumerate(zip(text, low, strict=True)) if a != b}
    changed_high = {i for i, (a, b) in enumerate(zip(text, high, strict=True)) if a != b}
    assert changed_low < changed_high  # the same units, changed the same way, plus more
    assert all(low[i] == high[i] for i in changed_low)
    for i in changed_high:
        assert high[i].lower() in KEYBOARD_NEIGHBOURS[text[i].lower()] and high[i].isupper() == text[i].isupper()
    assert re.search(r"555-1234-5678", perturb(text, "typo", 1.0)) is not None  # digits are never touched


def test_char_drop_swap_insert_do_what_they_say(sentences):
    text = " ".join(sentences[:5])
    letters = sum(c.isalpha() for c in text)
    dropped = perturb(text, "char_drop", 1.0)
    assert dropped == re.sub(r"[A-Za-z]", "", text)
    swapped = perturb(text, "char_swap", 1.0)
    assert sorted(swapped) == sorted(text) and swapped != text
    assert [len(w) for w in swapped.split(" ")] == [len(w) for w in text.split(" ")]  # swaps stay inside words
    inserted = perturb(text, "char_insert", 1.0)
    assert len(inserted) == len(text) + letters
    pairs = re.findall(r"[A-Za-z]{2}", "".join(c for c in inserted if c.isalpha()))
    assert all(b.lower() in KEYBOARD_NEIGHBOURS[a.lower()] for a, b in pairs)


def test_keyboard_neighbours_are_symmetric_and_hand_checked():
    assert set(KEYBOARD_NEIGHBOURS) == set("abcdefghijklmnopqrstuvwxyz")
    assert all(a in KEYBOARD_NEIGHBOURS[b] for a, keys in KEYBOARD_NEIGHBOURS.items() for b in keys)
    assert set(KEYBOARD_NEIGHBOURS["s"]) == set("weadzx") and set(KEYBOARD_NEIGHBOURS["q"]) == set("wa")
    assert set(KEYBOARD_NEIGHBOURS["m"]) == set("njk") and set(KEYBOARD_NEIGHBOURS["g"]) == set("tyfhvb")


def test_word_perturbations_keep_the_whitespace(small_corpus):
    dialogue = next(d.text for d in small_corpus.validation if "\n" in d.text)
    swapped = perturb(dialogue, "word_swap", 0.5, seed=0)
    assert re.findall(r"\s+", swapped) == re.findall(r"\s+", dialogue)
    assert sorted(swapped.split()) == sorted(dialogue.split()) and swapped != dialogue
    assert perturb("a b c d e", "word_swap", 1.0) == "b a d c e"  # pairs (a b), (c d); e has no partner
    assert perturb("one two\nthree", "word_delete", 1.0) == ""
    assert perturb("  one two\nthree ", "word_delete", 1.0) == "   "


def test_word_delete_keeps_an_ordered_subset_coupled_across_strengths(small_corpus):
    text = small_corpus.texts("validation")[0]
    low, high = (perturb(text, "word_delete", s, seed=5).split() for s in (0.2, 0.5))
    words = text.split()
    it = iter(words)
    assert all(w in it for w in low) and len(high) < len(low) < len(words)
    it = iter(low)
    assert all(w in it for w in high)


def test_synonym_replaces_words_by_their_listed_synonyms_keeping_case(sentences):
    table = load_synonyms()
    text = " ".join(sentences[:10])
    out = perturb(text, "synonym", 1.0, seed=0)
    old, new = text.split(), out.split()
    assert len(old) == len(new)
    changed = [(a, b) for a, b in zip(old, new, strict=True) if a != b]
    assert changed
    for a, b in changed:
        (la, ca, ta), (lb, cb, tb) = split_token(a), split_token(b)
        assert (la, ta) == (lb, tb) and cb.lower() in table[ca.lower()] and ca[0].isupper() == cb[0].isupper()
    unchanged_with_synonyms = [
        a for a, b in zip(old, new, strict=True) if a == b and split_token(a)[1].lower() in table
    ]
    assert unchanged_with_synonyms == []  # strength 1: every word that has synonyms is replaced


def reference_levenshtein(a: str, b: str) -> int:
    """The textbook recursion (Levenshtein 1966), memoised; nltk's edit_distance agrees but takes ~10 s to import."""

    @functools.cache
    def d(i: int, j: int) -> int:
        if i == 0 or j == 0:
            return i + j
        return min(d(i - 1, j) + 1, d(i, j - 1) + 1, d(i - 1, j - 1) + (a[i - 1] != b[j - 1]))

    return d(len(a), len(b))


def test_levenshtein_matches_the_textbook_recursion():
    rng = random.Random(0)
    for _ in range(200):
        a = "".join(rng.choice("abc") for _ in range(rng.randint(0, 12)))
        b = "".join(rng.choice("abc") for _ in range(rng.randint(0, 12)))
        assert levenshtein(a, b) == reference_levenshtein(a, b)
    assert levenshtein("kitten", "sitting") == 3 and levenshtein("", "abc") == 3
    assert levenshtein(["the", "cat"], ["cat", "the"]) == 2


def test_edit_rate_hand_worked():
    assert edit_rate("abcd", "abcd") == 0.0
    assert edit_rate("abcd", "abdc") == 0.5  # a transposition is two substitutions in Levenshtein distance
    assert edit_rate("the cat sat", "the sat", unit="word") == 1 / 3
    assert edit_rate("", "") == 0.0
    with pytest.raises(ValueError, match="unit"):
        edit_rate("a", "b", unit="token")


def test_bad_input_is_refused_clearly():
    with pytest.raises(ValueError, match="did you mean 'typo'"):
        perturb("a cat", "typos", 0.1)
    with pytest.raises(ValueError, match=r"outside \[0, 1\]"):
        perturb("a cat", "typo", 1.5)
    with pytest.raises(ValueError, match="already registered"):
        register_perturbation("typo", unit="char")(lambda text, strength, gate, detail: text)


def test_registry_entries_describe_themselves():
    assert set(KINDS) == {
        "char_swap",
        "char_drop",
        "char_insert",
        "char_substitute",
        "typo",
        "word_swap",
        "word_delete",
        "synonym",
    }
    for p in PERTURBATIONS.values():
        assert p.unit in ("char", "word") and p.description and p.name in KINDS
