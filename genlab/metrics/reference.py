"""Reference-based overlap: BLEU and chrF through sacrebleu, ROUGE through rouge-score (no re-implementation).

Per item and per corpus. A corpus score is not the mean of the item scores: corpus BLEU pools n-gram counts
over all items before taking the geometric mean (Papineni et al. 2002), and corpus chrF pools character n-gram
statistics (Popović 2015); ROUGE has no pooled form in rouge-score, so its corpus value is the mean F1.

Scales: BLEU and chrF on sacrebleu's 0-100 scale; ROUGE F1 in [0, 1], as rouge-score reports it.
``references``: one string per prediction, or a list of strings per prediction (several references; all items
need the same number for the corpus scores, as sacrebleu takes them as parallel reference streams).

Limitations: n-gram overlap with one human reference says little about open-ended generation, where many
continuations are good; use it for tasks with a target (summaries, answers, templated facts). sacrebleu's
sentence BLEU uses exponential smoothing and effective order (its defaults), so short sentences are not all 0.
rouge-score's default tokenizer lowercases and keeps only ASCII letters and digits: "café 東京" becomes "caf".

Corpus BLEU by hand: "the cat sat on the mat" vs "the cat sat on a mat" and "a dog" vs "a dog ran" pool to
clipped n-gram matches 7/8, 4/6, 2/4, 1/3; 8 hypothesis vs 9 reference tokens give the brevity penalty
exp(1 - 9/8); BLEU = 100 * exp(-1/8) * (7/8 * 4/6 * 2/4 * 1/3) ** (1/4) = 49.28.

>>> round(corpus_bleu(["the cat sat on the mat", "a dog"], ["the cat sat on a mat", "a dog ran"]), 2)
49.28
>>> rouge(["the cat sat"], ["the cat sat on the mat"])["rouge1"]
[0.6666666666666666]
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["chrf", "corpus_bleu", "corpus_chrf", "corpus_rouge", "rouge", "rouge1", "rouge2", "rougeL", "sentence_bleu"]

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")


def _references(predictions: Sequence[str], references) -> list[list[str]]:
    """One list of reference strings per prediction."""
    if isinstance(predictions, str) or not all(isinstance(p, str) for p in predictions):
        raise ValueError("predictions must be a list of strings")
    if isinstance(references, str):
        raise ValueError("references must be a list (one string, or a list of strings, per prediction)")
    refs = [[r] if isinstance(r, str) else list(r) for r in references]
    if len(refs) != len(predictions):
        raise ValueError(
            f"one reference entry per prediction: got {len(predictions)} predictions and {len(refs)} references"
        )
    if any(not r or not all(isinstance(x, str) for x in r) for r in refs):
        raise ValueError("every prediction needs at least one reference string")
    return refs


def _streams(refs: list[list[str]]) -> list[list[str]]:
    """sacrebleu's layout: reference stream k holds the k-th reference of every item."""
    counts = {len(r) for r in refs}
    if len(counts) > 1:
        raise ValueError(f"corpus scores need the same number of references per prediction, got {sorted(counts)}")
    return [list(stream) for stream in zip(*refs, strict=True)]


def sentence_bleu(
    predictions: Sequence[str],
    references: Sequence[str] | Sequence[Sequence[str]],
    *,
    tokenize: str = "13a",
    lowercase: bool = False,
) -> list[float]:
    """BLEU of each prediction against its reference(s), 0-100 (``sacrebleu.sentence_bleu``, exp smoothing).

    By hand: matches 5/6, 3/5, 2/4, 1/3, equal lengths: 100 * (5/6 * 3/5 * 2/4 * 1/3) ** (1/4) = 53.73.

    >>> [round(s, 2) for s in sentence_bleu(["the cat sat on a mat", "hello"], ["the cat sat on the mat", "bye"])]
    [53.73, 0.0]
    """
    import sacrebleu

    refs = _references(predictions, references)
    return [
        float(sacrebleu.sentence_bleu(p, r, tokenize=tokenize, lowercase=lowercase).score)
        for p, r in zip(predictions, refs, strict=True)
    ]


def corpus_bleu(
    predictions: Sequence[str],
    references: Sequence[str] | Sequence[Sequence[str]],
    *,
    tokenize: str = "13a",
    lowercase: bool = False,
) -> float:
    """Corpus BLEU, 0-100 (``sacrebleu.corpus_bleu``): n-gram counts pooled over all items.

    With two references, counts clip against the most generous one: "a dog" adds the unigram "a", so the
    matches become 6/6, 3/5, 2/4, 1/3 and BLEU = 100 * (6/6 * 3/5 * 2/4 * 1/3) ** (1/4) = 56.23.

    >>> round(corpus_bleu(["the cat sat on a mat"], [["the cat sat on the mat", "a dog"]]), 2)
    56.23
    >>> round(corpus_bleu(["the cat sat on a mat"], [["the cat sat on the mat", "the cat sat on a mat"]]), 2)
    100.0
    """
    import sacrebleu

    refs = _references(predictions, references)
    if not refs:
        raise ValueError("corpus BLEU needs at least one prediction")
    return float(sacrebleu.corpus_bleu(list(predictions), _streams(refs), tokenize=tokenize, lowercase=lowercase).score)


def chrf(
    predictions: Sequence[str], references: Sequence[str] | Sequence[Sequence[str]], *, word_order: int = 0
) -> list[float]:
    """chrF of each prediction, 0-100 (``sacrebleu.sentence_chrf``); ``word_order=2`` gives chrF++.

    >>> [round(s, 2) for s in chrf(["the cat sat on a mat", "the cat"], ["the cat sat on the mat", "the cat"])]
    [65.98, 100.0]
    """
    import sacrebleu

    refs = _references(predictions, references)
    return [
        float(sacrebleu.sentence_chrf(p, r, word_order=word_order).score)
        for p, r in zip(predictions, refs, strict=True)
    ]


def corpus_chrf(
    predictions: Sequence[str], references: Sequence[str] | Sequence[Sequence[str]], *, word_order: int = 0
) -> float:
    """Corpus chrF, 0-100 (``sacrebleu.corpus_chrf``): character n-gram statistics pooled over all items.

    >>> round(corpus_chrf(["the cat sat on a mat", "a dog"], ["the cat sat on the mat", "a dog ran"]), 2)
    59.67
    """
    import sacrebleu

    refs = _references(predictions, references)
    if not refs:
        raise ValueError("corpus chrF needs at least one prediction")
    return float(sacrebleu.corpus_chrf(list(predictions), _streams(refs), word_order=word_order).score)


def rouge(
    predictions: Sequence[str],
    references: Sequence[str] | Sequence[Sequence[str]],
    *,
    rouge_types: Sequence[str] = ROUGE_TYPES,
    use_stemmer: bool = False,
) -> dict[str, list[float]]:
    """ROUGE F1 of each prediction, per ROUGE type (``rouge_score.rouge_scorer.RougeScorer``).

    With several references, rouge-score's ``score_multi`` keeps the best-matching one.

    >>> rouge(["the cat"], [["a dog", "the cat sat"]], rouge_types=["rouge1"])
    {'rouge1': [0.8]}
    """
    from rouge_score import rouge_scorer

    bad = set(rouge_types) - set(ROUGE_TYPES)
    if bad:
        raise ValueError(f"unknown ROUGE types {sorted(bad)}; choose from {ROUGE_TYPES}")
    refs = _references(predictions, references)
    scorer = rouge_scorer.RougeScorer(list(rouge_types), use_stemmer=use_stemmer)
    out: dict[str, list[float]] = {t: [] for t in rouge_types}
    for p, r in zip(predictions, refs, strict=True):
        scores = scorer.score(r[0], p) if len(r) == 1 else scorer.score_multi(r, p)  # (target, prediction)
        for t in rouge_types:
            out[t].append(float(scores[t].fmeasure))
    return out


def corpus_rouge(
    predictions: Sequence[str],
    references: Sequence[str] | Sequence[Sequence[str]],
    *,
    rouge_types: Sequence[str] = ROUGE_TYPES,
    use_stemmer: bool = False,
) -> dict[str, float]:
    """Mean ROUGE F1 over the items, per ROUGE type.

    >>> corpus_rouge(["the cat", "a dog"], ["the cat", "the dog"], rouge_types=["rouge1"])
    {'rouge1': 0.75}
    """
    per_item = rouge(predictions, references, rouge_types=rouge_types, use_stemmer=use_stemmer)
    if not predictions:
        raise ValueError("corpus ROUGE needs at least one prediction")
    return {t: sum(v) / len(v) for t, v in per_item.items()}


def _rouge_metric(rouge_type: str):
    def metric(
        predictions: Sequence[str], references: Sequence[str] | Sequence[Sequence[str]], *, use_stemmer: bool = False
    ) -> list[float]:
        return rouge(predictions, references, rouge_types=[rouge_type], use_stemmer=use_stemmer)[rouge_type]

    metric.__name__ = metric.__qualname__ = rouge_type
    metric.__doc__ = f"""{rouge_type} F1 of each prediction against its reference(s), in [0, 1] (rouge-score).

    >>> {rouge_type}(["the cat sat on the mat"], ["the cat sat on the mat"])
    [1.0]
    """
    return metric


rouge1, rouge2, rougeL = (_rouge_metric(t) for t in ("rouge1", "rouge2", "rougeL"))
