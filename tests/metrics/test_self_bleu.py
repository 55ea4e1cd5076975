"""Self-BLEU against NLTK's sentence_bleu with every other text as a reference (the Texygen / degen formulation),
on random and adversarial corpora, and against the degen script's hypothesis sampling."""

from __future__ import annotations

import random

import pytest
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

from genlab.metrics.self_bleu import self_bleu


def nltk_self_bleu(token_lists, max_n=4, hypotheses=None, weights=None):
    """Texygen utils/metrics/SelfBleu.py / degen metrics/self_bleu.py: each hypothesis against all others."""
    weights = weights or tuple(1.0 / max_n for _ in range(max_n))
    smoothing = SmoothingFunction().method1
    hypotheses = range(len(token_lists)) if hypotheses is None else hypotheses
    return [
        sentence_bleu(token_lists[:i] + token_lists[i + 1 :], token_lists[i], weights, smoothing_function=smoothing)
        for i in hypotheses
    ]


def random_texts(rng: random.Random) -> list[str]:
    vocab = "abcdefghijklmnopqrstuvwxyz"[: rng.choice([1, 2, 3, 6, 26])]
    lengths = [0, 1, 2, 3, 4, 5, 8, 13, 30]
    return [" ".join(rng.choice(vocab) for _ in range(rng.choice(lengths))) for _ in range(rng.randint(2, 12))]


ADVERSARIAL = [
    ["", ""],  # empty hypotheses: BLEU 0
    ["", "a b c"],
    ["a", "a"],  # one token each
    ["a b c d", "a b c d", "a b c d"],  # duplicates: BLEU 1
    ["a b c d", "a b c d", "e f g h"],  # a duplicated pair and an outsider
    ["東京 🙂 naïve café", "東京 🙂 café naïve", "🙂 🙂 🙂"],  # Unicode tokens
    ["a a a a a a", "a a", "a a a"],  # clipping by the largest count among the others
    ["a b", "a b c d", "a b c d e f"],  # the closest reference length ties: NLTK takes the shorter
    ["x y z w v", "x y", "x y z w v u t s", "q"],
    ["a b c", "d e f g h i j k l m n o p"],  # no unigram overlap at all
]


def test_equals_nltk_on_random_corpora():
    rng = random.Random(0)
    for _ in range(60):
        texts = random_texts(rng)
        for max_n in (1, 2, 3, 4, 5):
            expected = nltk_self_bleu([t.split() for t in texts], max_n)
            assert self_bleu(texts, max_n=max_n) == pytest.approx(expected, abs=1e-12, rel=0)


@pytest.mark.parametrize("texts", ADVERSARIAL)
@pytest.mark.parametrize("max_n", [1, 2, 4])
def test_equals_nltk_on_adversarial_corpora(texts, max_n):
    expected = nltk_self_bleu([t.split() for t in texts], max_n)
    assert self_bleu(texts, max_n=max_n) == pytest.approx(expected, abs=1e-12, rel=0)


def test_hand_worked_values():
    assert self_bleu(["a b c d", "a b c d", "e f g h"]) == [1.0, 1.0, 0.0]
    # "the cat sat" vs {"the cat ran", "a dog"}: p1 = 2/3, p2 = 1/2, BP = 1 (closest length 3)
    assert self_bleu(["the cat sat", "the cat ran", "a dog"], max_n=2)[0] == pytest.approx((2 / 3 * 1 / 2) ** 0.5)


def test_with_a_tokenizer_of_token_ids():
    rng = random.Random(1)
    ids = {f"t{i}": [rng.randint(0, 7) for _ in range(rng.randint(0, 20))] for i in range(15)}
    texts = list(ids)
    expected = nltk_self_bleu([ids[t] for t in texts], 4)
    assert self_bleu(texts, tokenizer=ids.__getitem__) == pytest.approx(expected, abs=1e-12, rel=0)


def test_sampled_hypotheses_follow_the_degen_script():
    rng = random.Random(2)
    texts = [" ".join(rng.choice("abcdef") for _ in range(rng.randint(3, 12))) for _ in range(40)]
    tokens = [t.split() for t in texts]
    # degen metrics/self_bleu.py: random.seed(0), then one random.sample per order 1..5, with 4-slot weights
    degen_weights = {
        1: (1.0, 0, 0, 0),
        2: (0.5, 0.5, 0, 0),
        3: (1.0 / 3, 1.0 / 3, 1.0 / 3, 0),
        4: (0.25, 0.25, 0.25, 0.25),
        5: (0.2, 0.2, 0.2, 0.2, 0.2),
    }
    random.seed(0)
    for n_gram in range(1, 6):
        sample = random.sample(range(len(tokens)), 10)
        expected = nltk_self_bleu(tokens, hypotheses=sample, weights=degen_weights[n_gram])
        scores = self_bleu(texts, max_n=n_gram, n_hypotheses=10, seed=0)  # in the sample's order
        assert scores == pytest.approx(expected, abs=1e-12, rel=0)
        assert sum(scores) / 10 == pytest.approx(sum(expected) / 10, abs=1e-12)


def test_sampled_hypotheses_are_scored_against_every_other_text():
    texts = ["a b c", "a b d", "x y z", "a b c"]
    every = self_bleu(texts, max_n=2)
    random.seed(3)
    for _ in range(2):  # one draw per order, the last one used
        sample = random.sample(range(4), 2)
    assert self_bleu(texts, max_n=2, n_hypotheses=2, seed=3) == [every[i] for i in sample]


@pytest.mark.parametrize(
    "call",
    [
        lambda: self_bleu(["only one"]),
        lambda: self_bleu([]),
        lambda: self_bleu("not a list"),
        lambda: self_bleu(["a", "b"], max_n=0),
        lambda: self_bleu(["a", "b"], n_hypotheses=3),
        lambda: self_bleu(["a", "b"], n_hypotheses=0),
    ],
)
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()
