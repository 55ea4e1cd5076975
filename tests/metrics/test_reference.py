"""BLEU, chrF and ROUGE: hand-worked values, and the wrappers against the libraries called directly."""

from __future__ import annotations

import pytest
import sacrebleu
from rouge_score import rouge_scorer

from genlab.metrics.reference import (
    chrf,
    corpus_bleu,
    corpus_chrf,
    corpus_rouge,
    rouge,
    rouge1,
    rouge2,
    rougeL,
    sentence_bleu,
)

PREDICTIONS = ["the cat sat on the mat", "a dog", "Tyrhild keeps a pet turtle in Lirane.", ""]
REFERENCES = ["the cat sat on a mat", "a dog ran", "Tyrhild keeps a turtle.", "nothing"]


def test_bleu_by_hand():
    # "the cat sat on the mat" vs "the cat sat on a mat": clipped matches 5/6, 3/5, 2/4, 1/3, same length
    assert sentence_bleu(PREDICTIONS[:1], REFERENCES[:1])[0] == pytest.approx(
        100 * (5 / 6 * 3 / 5 * 2 / 4 * 1 / 3) ** 0.25
    )
    # pooled with "a dog" vs "a dog ran": 7/8, 4/6, 2/4, 1/3 and brevity penalty exp(1 - 9/8)
    expected = 100 * 2.718281828459045 ** (1 - 9 / 8) * (7 / 8 * 4 / 6 * 2 / 4 * 1 / 3) ** 0.25
    assert corpus_bleu(PREDICTIONS[:2], REFERENCES[:2]) == pytest.approx(expected)


def test_corpus_scores_pool_counts_and_differ_from_the_mean():
    per_item = sentence_bleu(PREDICTIONS, REFERENCES)
    assert corpus_bleu(PREDICTIONS, REFERENCES) != pytest.approx(sum(per_item) / len(per_item))
    assert corpus_bleu(PREDICTIONS, REFERENCES) == pytest.approx(sacrebleu.corpus_bleu(PREDICTIONS, [REFERENCES]).score)
    assert corpus_chrf(PREDICTIONS, REFERENCES) == pytest.approx(sacrebleu.corpus_chrf(PREDICTIONS, [REFERENCES]).score)


def test_per_item_scores_equal_the_libraries():
    assert sentence_bleu(PREDICTIONS, REFERENCES) == [
        sacrebleu.sentence_bleu(p, [r]).score for p, r in zip(PREDICTIONS, REFERENCES, strict=True)
    ]
    assert chrf(PREDICTIONS, REFERENCES, word_order=2) == [
        sacrebleu.sentence_chrf(p, [r], word_order=2).score for p, r in zip(PREDICTIONS, REFERENCES, strict=True)
    ]
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"])
    direct = [
        scorer.score(r, p) for p, r in zip(PREDICTIONS, REFERENCES, strict=True)
    ]  # rouge-score takes (target, prediction)
    for name, fn in (("rouge1", rouge1), ("rouge2", rouge2), ("rougeL", rougeL)):
        assert fn(PREDICTIONS, REFERENCES) == [d[name].fmeasure for d in direct]


def test_rouge_by_hand():
    # "the cat" vs "the cat sat on the mat": precision 2/2, recall 2/6 -> F1 = 2 * 1 * (1/3) / (1 + 1/3) = 0.5
    assert rouge1(["the cat"], ["the cat sat on the mat"]) == [pytest.approx(0.5)]
    # direction matters: the prediction is the longer text here, precision 2/6, recall 1
    assert rouge(["the cat sat on the mat"], ["the cat"], rouge_types=["rouge2"])["rouge2"] == [
        pytest.approx(2 * (1 / 5) * 1 / (1 / 5 + 1))
    ]
    assert corpus_rouge(["the cat", "a dog"], ["the cat", "the dog"], rouge_types=["rouge1"]) == {"rouge1": 0.75}


def test_several_references():
    refs = [["the cat sat on the mat", "a dog"], ["a dog ran", "a dog barked"]]
    assert corpus_bleu(PREDICTIONS[:2], refs) == pytest.approx(
        sacrebleu.corpus_bleu(PREDICTIONS[:2], [[r[0] for r in refs], [r[1] for r in refs]]).score
    )
    assert rouge1(["the cat"], [["a dog", "the cat sat"]]) == [pytest.approx(0.8)]  # the best reference counts
    with pytest.raises(ValueError, match="same number of references"):
        corpus_bleu(PREDICTIONS[:2], [["x"], ["y", "z"]])


@pytest.mark.parametrize(
    "fn,args,match",
    [
        (sentence_bleu, (["a"], ["b", "c"]), "one reference entry per prediction"),
        (corpus_bleu, ([], []), "at least one prediction"),
        (chrf, ("a", ["b"]), "list of strings"),
        (rouge, (["a"], [[]]), "at least one reference"),
        (corpus_rouge, ([], []), "at least one prediction"),
    ],
)
def test_bad_input(fn, args, match):
    with pytest.raises(ValueError, match=match):
        fn(*args)


def test_unknown_rouge_type():
    with pytest.raises(ValueError, match="unknown ROUGE types"):
        rouge(["a"], ["a"], rouge_types=["rouge9"])
