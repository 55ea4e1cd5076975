"""Faithful to the papers (issue 10): Holtzman's end-repetition on model tokens, MAUVE's two regimes, cloze against
the name-swap control with a length-normalised variant. Each check computes the expected value directly (a
brute-force rule, a reference test). The decoding study's checks (token-weighted perplexity, human continuations cut
to the generations' token budget) are in tests/probes/test_degeneration.py; TOST for "close to human" and Holm
within a family in tests/stats/test_systems.py; hallucination rates over all prompts are asserted in notebook 21."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from genlab.metrics.repetition import end_repetition, end_repetition_ids

pytestmark = pytest.mark.usefixtures("one_thread")


def ends_in_loop_brute_force(tokens: list[int]) -> bool:
    """The paper's rule, written out: for some phrase length L >= 2, the last 3L tokens are one phrase three times."""
    for length in range(2, len(tokens) // 3 + 1):
        tail = tokens[len(tokens) - 3 * length :]
        if tail[:length] == tail[length : 2 * length] == tail[2 * length :]:
            return True
    return False


# --- end repetition on model token ids ------------------------------------------------------------------------------
def test_end_repetition_ids_is_the_papers_rule_on_random_sequences():
    rng = np.random.default_rng(0)
    seqs = []
    for _ in range(400):
        body = rng.integers(0, 4, rng.integers(0, 12)).tolist()
        phrase = rng.integers(0, 4, rng.integers(1, 4)).tolist()
        seqs.append(body + phrase * int(rng.integers(0, 5)))
    flags = end_repetition_ids(seqs)
    assert flags == [ends_in_loop_brute_force(s) for s in seqs]
    assert 0.1 < np.mean(flags) < 0.9  # both outcomes occur: the comparison means something


def test_end_repetition_ids_agree_with_the_text_rule_when_each_word_is_one_token():
    texts = ["a b c a b c a b c", "x y x y x y", "the cat sat", "go go go go go go", ""]
    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(w, len(vocab)) for w in t.split()] for t in texts]
    assert end_repetition_ids(ids) == end_repetition(texts) == [True, True, False, True, False]
    assert end_repetition_ids([[3, 4, 3, 4, 3, 4, 0]], eos_id=0) == [True]  # a trailing EOS is dropped
    with pytest.raises(ValueError, match="token ids"):
        end_repetition_ids(["a b a b a b"])


# --- MAUVE's two regimes (the decoding study itself: tests/probes/test_degeneration.py) ------------------------
def test_mauve_regimes():
    from genlab.metrics.mauve import FULL_SIZE, mauve_from_features, mauve_regime

    assert FULL_SIZE == 1000
    assert mauve_regime(999, 5000) == "demonstration"
    assert mauve_regime(1000, 1000) == "full"
    assert mauve_regime(1000, 1000, {"mauve_scaling_factor": 2.0}) == "full, non-default settings"
    rng = np.random.default_rng(0)
    p, q = rng.normal(size=(1000, 8)).astype("float32"), rng.normal(size=(1000, 8)).astype("float32")
    full = mauve_from_features(p, q)
    assert full.regime == "full" and full.num_buckets == 100  # the authors' rule: n / 10
    assert mauve_from_features(p[:40], q[:40]).regime == "demonstration"
    with pytest.raises(ValueError, match="count of texts"):
        mauve_regime(-1, 10)


# --- cloze: length-normalised ranking and the name-swap control ------------------------------------------------------
class LengthModel:
    """A fake ContinuationModel: log p = -len(text) x (1 for the true answer, 1.2 for other options); tokens are
    characters. The per-token score always ranks the answer first; the summed score only when it is short."""

    def __init__(self, answers: dict[str, str]):  # prompt -> " " + answer
        self.answers = answers

    def continuation_logprobs(self, prompts, continuations):
        return [
            [-len(c) * (1.0 if c == self.answers[p] else 1.2) for c in conts]
            for p, conts in zip(prompts, continuations, strict=True)
        ]

    def count_tokens(self, texts):
        return [len(t) for t in texts]

    def greedy(self, prompts, max_new_tokens):
        return [""] * len(prompts)


def test_length_normalised_ranking_by_hand():
    from genlab.probes.cloze import candidate_ranking, cloze_probes
    from genlab.worlds.text import small_world

    probes = [p for p in cloze_probes(small_world(), "canonical") if p.relation in ("lives_in", "works_as")]
    df = candidate_ranking(LengthModel({p.prompt: " " + p.answer for p in probes}), probes)
    assert df["correct_per_token"].all()
    expected = [len(p.answer) + 1 < 1.2 * min(len(c) + 1 for c in p.candidates) for p in probes]
    assert df["correct"].tolist() == expected and 0 < sum(expected) < len(expected)
    np.testing.assert_allclose(df["logprob_per_token"], df["logprob"] / df["n_answer_tokens"])
    assert df["n_answer_tokens"].tolist() == [len(p.answer) + 1 for p in probes]


def test_per_token_logprob_of_a_bundle_counts_its_tokens(tiny_bundle):
    from genlab.probes.cloze import candidate_ranking, cloze_probes
    from genlab.worlds.text import small_world

    probes = cloze_probes(small_world(), "canonical")[:6]
    df = candidate_ranking(tiny_bundle, probes)
    tok = tiny_bundle.tokenizer
    assert df["n_answer_tokens"].tolist() == [
        len(tok(" " + p.answer, add_special_tokens=False)["input_ids"]) for p in probes
    ]
    np.testing.assert_allclose(df["logprob_per_token"], df["logprob"] / df["n_answer_tokens"])


def test_name_swap_comparison_is_paired_and_matches_mcnemar():
    from genlab.probes.cloze import FactOracle, cloze_name_swap, name_swap_comparison
    from genlab.worlds.text import small_world

    world = small_world()
    paired = cloze_name_swap(FactOracle(world, min_count=2), world)
    assert (paired["subject"] != paired["swap_subject"]).all()
    t = name_swap_comparison(paired).set_index("scoring")
    a, b = paired["correct"].to_numpy(), paired["correct_swap"].to_numpy()
    row = t.loc["summed log-prob"]
    assert row["accuracy"] == a.mean() and row["swap_accuracy"] == b.mean()
    assert row["difference"] == pytest.approx(a.mean() - b.mean())
    assert row["difference_low"] <= row["difference"] <= row["difference_high"]
    # exact McNemar by hand: twice the binomial(n_discordant, 1/2) tail at the smaller discordant count, at most 1
    only_a, only_b = int((a & ~b).sum()), int((~a & b).sum())
    n = only_a + only_b
    tail = sum(math.comb(n, i) for i in range(min(only_a, only_b) + 1)) / 2**n
    assert only_a > only_b > 0 and row["p_value"] == pytest.approx(min(1.0, 2 * tail), rel=1e-9)
    assert (t["family_size"] == 2).all() and (t["p_adjusted"] >= t["p_value"]).all()


def test_name_swap_reuses_scores_of_the_real_probes():
    from genlab.probes.cloze import FactOracle, cloze_name_swap, cloze_probes, score_cloze
    from genlab.worlds.text import small_world

    world = small_world()
    oracle = FactOracle(world, min_count=4)
    scores = score_cloze(oracle, cloze_probes(world, "canonical"))
    pd.testing.assert_frame_equal(cloze_name_swap(oracle, world, scores=scores), cloze_name_swap(oracle, world))
    with pytest.raises(ValueError, match="scores must be"):
        cloze_name_swap(oracle, world, scores=scores.iloc[:3])
