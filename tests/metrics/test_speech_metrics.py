"""WER and CER (genlab.metrics.speech) against jiwer, a direct Levenshtein computation and scipy's bootstrap."""

from __future__ import annotations

import jiwer
import numpy as np
import pytest
from scipy.stats import bootstrap

from genlab.metrics import speech as sp
from genlab.worlds.spoken import sample_sentences


def _levenshtein(ref: list, hyp: list) -> int:
    """Minimum substitutions + deletions + insertions turning ref into hyp (Wagner-Fischer dynamic programme)."""
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i]
        for j, h in enumerate(hyp, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h)))
        prev = cur
    return prev[-1]


def _garble(refs: list[str], p: float, seed: int) -> list[str]:
    """Hypotheses with each word dropped, replaced or followed by an extra word with probability p / 3 each."""
    rng = np.random.default_rng(seed)
    out = []
    for ref in refs:
        words = []
        for w in ref.split():
            r = rng.random()
            if r < p / 3:
                continue
            words.append("zeb" if r < 2 * p / 3 else w)
            if 2 * p / 3 <= r < p:
                words.append("qua")
        out.append(" ".join(words))
    return out


REFS = sample_sentences(60, seed=2, split="test")
HYPS = _garble(REFS, 0.3, seed=0)


def test_wer_and_cer_equal_jiwer_and_are_corpus_rates_not_means():
    assert sp.wer(HYPS, REFS) == pytest.approx(jiwer.wer(REFS, HYPS), abs=1e-12)
    assert sp.cer(HYPS, REFS) == pytest.approx(jiwer.cer(REFS, HYPS), abs=1e-12)
    # one long perfect utterance and one short wrong one: corpus 1 / 11, mean of utterance rates (0 + 1) / 2
    refs, hyps = ["a b c d e f g h i j", "x"], ["a b c d e f g h i j", "y"]
    assert sp.wer(hyps, refs) == pytest.approx(1 / 11) == jiwer.wer(refs, hyps)
    assert np.mean([jiwer.wer(r, h) for r, h in zip(refs, hyps, strict=True)]) == 0.5


def test_per_utterance_edits_equal_a_direct_levenshtein():
    t = sp.utterance_errors(HYPS, REFS)
    words = [_levenshtein(r.split(), h.split()) for r, h in zip(REFS, HYPS, strict=True)]
    chars = [_levenshtein(list(r), list(h)) for r, h in zip(REFS, HYPS, strict=True)]
    assert t["word_edits"].tolist() == words and t["char_edits"].tolist() == chars
    assert t["n_words"].tolist() == [len(r.split()) for r in REFS] and t["n_chars"].tolist() == [len(r) for r in REFS]
    assert (t["substitutions"] + t["deletions"] + t["insertions"]).tolist() == words
    assert sp.wer(HYPS, REFS) == pytest.approx(sum(words) / sum(len(r.split()) for r in REFS))
    # hand-worked: one substitution in 3 words, one deletion in 4
    t2 = sp.utterance_errors(["the cat sit", "a dog home"], ["the cat sat", "a dog ran home"])
    assert t2[["substitutions", "deletions", "insertions"]].values.tolist() == [[1, 0, 0], [0, 1, 0]]
    assert sp.wer(["the cat sit", "a dog home"], ["the cat sat", "a dog ran home"]) == pytest.approx(2 / 7)


def test_normalisation_empty_references_and_bad_input():
    assert sp.wer(["The cat, SAT."], ["the cat sat"]) == 0.0
    assert sp.wer(["The cat, SAT."], ["the cat sat"], normalize=False) == 1.0  # "The", "cat,", "SAT."
    assert sp.wer(["a b", "x y z"], ["a b", ""]) == pytest.approx(3 / 2), "an empty reference: all insertions"
    assert np.isnan(sp.wer(["", ""], ["", ""]))
    with pytest.raises(ValueError, match="one prediction per reference"):
        sp.wer(["a"], ["a", "b"])
    with pytest.raises(ValueError, match="no utterances"):
        sp.cer([], [])
    with pytest.raises(ValueError, match="unit"):
        sp.error_rate_ci(HYPS, REFS, unit="phone")


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_interval_is_scipys_bootstrap_of_the_corpus_ratio(method):
    r = sp.error_rate_ci(HYPS, REFS, n_resamples=999, method=method, seed=3)
    t = sp.utterance_errors(HYPS, REFS)
    e, n = t["word_edits"].to_numpy(float), t["n_words"].to_numpy(float)

    def ratio(e, n, axis=-1):
        return e.sum(axis=axis) / n.sum(axis=axis)

    ref = bootstrap((e, n), ratio, paired=True, vectorized=True, n_resamples=999, method=method, rng=3)
    assert r.estimate == pytest.approx(jiwer.wer(REFS, HYPS))
    assert (r.low, r.high) == pytest.approx((ref.confidence_interval.low, ref.confidence_interval.high), abs=1e-12)
    c = sp.error_rate_ci(HYPS, REFS, unit="char", n_resamples=999, seed=3)
    assert c.estimate == pytest.approx(jiwer.cer(REFS, HYPS)) and c.low < c.estimate < c.high


def test_paired_comparison_matches_scipy_and_finds_a_planted_difference():
    worse = _garble(REFS, 0.5, seed=1)
    r = sp.paired_error_rate(worse, HYPS, REFS, n_resamples=999, seed=0)
    assert r.difference == pytest.approx(jiwer.wer(REFS, worse) - jiwer.wer(REFS, HYPS))
    ta, tb = sp.utterance_errors(worse, REFS), sp.utterance_errors(HYPS, REFS)
    a, b, n = ta["word_edits"].to_numpy(float), tb["word_edits"].to_numpy(float), ta["n_words"].to_numpy(float)

    def diff(a, b, n, axis=-1):
        return (a.sum(axis=axis) - b.sum(axis=axis)) / n.sum(axis=axis)

    ref = bootstrap((a, b, n), diff, paired=True, vectorized=True, n_resamples=999, method="percentile", rng=0)
    assert (r.low, r.high) == pytest.approx((ref.confidence_interval.low, ref.confidence_interval.high), abs=1e-12)
    assert r.low > 0 and r.p_value < 0.01 and r.n == len(REFS)
    flipped = sp.paired_error_rate(HYPS, worse, REFS, n_resamples=999, seed=0)
    assert flipped.difference == pytest.approx(-r.difference) and flipped.effect_size == pytest.approx(-r.effect_size)
    same = sp.paired_error_rate(HYPS, HYPS, REFS, n_resamples=999)
    assert same.difference == 0 and same.p_value == 1.0


def test_held_out_gap_is_the_difference_of_corpus_rates_with_a_delta_method_sized_interval():
    refs = sample_sentences(150, seed=4, split="test") * 2
    hyps = _garble(refs[:150], 0.15, seed=5) + _garble(refs[150:], 0.35, seed=6)
    held = [False] * 150 + [True] * 150
    g = sp.held_out_gap(hyps, refs, held, n_resamples=4000, seed=1)
    assert g.seen == pytest.approx(jiwer.wer(refs[:150], hyps[:150]))
    assert g.held_out == pytest.approx(jiwer.wer(refs[150:], hyps[150:]))
    assert g.difference == pytest.approx(g.held_out - g.seen) and (g.n_held_out, g.n_seen) == (150, 150)
    # the ratio estimator's delta-method standard error, each group independent
    t = sp.utterance_errors(hyps, refs)
    e, n = t["word_edits"].to_numpy(float), t["n_words"].to_numpy(float)
    se = 0.0
    for part in (slice(0, 150), slice(150, 300)):
        rate = e[part].sum() / n[part].sum()
        se += np.sum((e[part] - rate * n[part]) ** 2) / n[part].sum() ** 2
    width = 2 * 1.959964 * np.sqrt(se)
    assert (g.high - g.low) == pytest.approx(width, rel=0.15)
    assert g.low < g.difference < g.high and g.low > 0 and g.p_value < 0.01
    assert sp.held_out_gap(hyps, refs, held, n_resamples=4000, seed=1) == g
    with pytest.raises(ValueError, match="some utterances True"):
        sp.held_out_gap(hyps, refs, [True] * 300)
    with pytest.raises(ValueError, match="one True/False per utterance"):
        sp.held_out_gap(hyps, refs, held[:10])


def test_error_rate_table_rows_are_the_groups_rates_and_the_worst_is_marked():
    voices = ["v1"] * 20 + ["v2"] * 20 + ["v3"] * 20
    hyps = _garble(REFS[:20], 0.1, 1) + _garble(REFS[20:40], 0.2, 2) + _garble(REFS[40:], 0.6, 3)
    n_words = [len(r.split()) for r in REFS]
    t = sp.error_rate_table(hyps, REFS, {"voice": voices, "length": sp.length_bucket(n_words)}, n_resamples=500)
    overall = t[t.group == "overall"].iloc[0]
    assert overall.wer == pytest.approx(jiwer.wer(REFS, hyps)) and overall.cer == pytest.approx(jiwer.cer(REFS, hyps))
    assert overall.n == 60 and overall.n_words == sum(n_words)
    for _, row in t[t.group == "voice"].iterrows():
        idx = [i for i, v in enumerate(voices) if v == row.value]
        assert row.wer == pytest.approx(jiwer.wer([REFS[i] for i in idx], [hyps[i] for i in idx]))
        assert row.wer_gap == pytest.approx(row.wer - overall.wer)
        assert row.wer_low <= row.wer <= row.wer_high and row.wer_gap_low <= row.wer_gap <= row.wer_gap_high
    by_voice = t[t.group == "voice"].set_index("value")
    assert by_voice.index[by_voice.worst].tolist() == ["v3"] and by_voice.loc["v3", "wer_gap_low"] > 0
    assert t[t.group == "length"].worst.sum() == 1
    assert t[t.group == "length"].n.sum() == 60
    with pytest.raises(ValueError, match="labels for 60 utterances"):
        sp.error_rate_table(hyps, REFS, {"voice": voices[:5]})


def test_length_buckets():
    assert sp.length_bucket([1, 3, 4, 5, 9], edges=(3, 4, 8)) == ["<=3", "<=3", "4", "5-8", ">=9"]
    with pytest.raises(ValueError, match="increasing"):
        sp.length_bucket([3], edges=(6, 4))


# --- word_error_items: per-utterance scores of the corpus WER (moved from the notebook-60 study module) ---------------
def test_word_error_items_average_to_the_corpus_wer_and_differences_to_wer_differences():
    rng = np.random.default_rng(3)
    words = "the cat sat on a mat dog ran home".split()
    refs = [" ".join(rng.choice(words, rng.integers(2, 9))) for _ in range(40)]

    def corrupt(t: str) -> str:
        ws = t.split()
        if rng.random() < 0.5:
            ws[rng.integers(len(ws))] = "x"
        if rng.random() < 0.3:
            ws = ws[1:]
        if rng.random() < 0.2:
            ws += ["y", "z"]
        return " ".join(ws)

    a, b = [corrupt(t) for t in refs], [corrupt(t) for t in refs]
    items_a, items_b = sp.word_error_items(a, refs), sp.word_error_items(b, refs)
    assert items_a.mean() == pytest.approx(jiwer.wer(refs, a), abs=1e-12)
    assert (items_a - items_b).mean() == pytest.approx(jiwer.wer(refs, a) - jiwer.wer(refs, b), abs=1e-12)
    with pytest.raises(ValueError, match="no words"):
        sp.word_error_items(["a"], [""])


def test_word_error_items_resample_like_the_corpus_wer():
    from genlab.stats import bootstrap_ci

    refs = [" ".join(["w"] * n) for n in [2, 9, 3, 7, 4, 8, 5, 6] * 5]
    rng = np.random.default_rng(0)
    hyps = [" ".join(["w"] * max(0, len(r.split()) - int(rng.integers(0, 4)))) for r in refs]
    items = sp.word_error_items(hyps, refs)
    direct = sp.error_rate_ci(hyps, refs, n_resamples=4000, seed=0)
    linear = bootstrap_ci(items, n_resamples=4000, seed=0)
    assert linear.estimate == pytest.approx(direct.estimate, abs=1e-12)
    assert (linear.high - linear.low) == pytest.approx(direct.high - direct.low, rel=0.15)
    nothing = sp.word_error_items([""] * len(refs), refs)  # WER 1 exactly, whatever the lengths: no spread
    assert np.allclose(nothing, 1.0)

