"""Self-BLEU: how much each generated text resembles the others (Zhu et al. 2018, Texygen; Holtzman et al. 2020).

Each text is the hypothesis and **all other** texts are its references; the score is NLTK's ``sentence_bleu`` with
uniform weights 1/max_n and ``SmoothingFunction().method1``, and Self-BLEU is the mean over hypotheses. Higher means
less diverse. Holtzman et al. report Self-BLEU4 on 1,000 sampled hypotheses against the 4,999 other generations
(human text: 0.31).

Exact and fast. NLTK clips each hypothesis n-gram count by its largest count in any reference, which costs
O(N^2) for N texts. Here the clip needs only the two largest counts of each n-gram over *all* texts: the largest
count among the others is the overall top count, unless this text is its only holder, and then it is the second.
One sort of (n-gram, text) codes per order gives those counts for every text at once. The brevity penalty uses
the closest length among the other texts (NLTK: smallest |len - hyp_len|, ties to the shorter). The result equals
NLTK's to floating-point rounding (tests/metrics/test_self_bleu.py compares them on random and adversarial inputs).

Tokens: whitespace (``str.split()``) unless ``tokenizer`` is given; Texygen uses ``nltk.word_tokenize`` (which needs
NLTK's punkt data) and Holtzman et al. GPT-2 BPE ids, so pass the matching tokenizer to compare with them.

Self-BLEU of a corpus is the mean of :func:`self_bleu`'s per-text scores:

>>> scores = self_bleu(["the cat sat on the mat", "the cat sat on a mat", "a dog ran"])
>>> round(sum(scores) / len(scores), 4)
0.3805
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np

from genlab.metrics.repetition import Encoded, Tokenizer, _check_n, _ngram_codes, encode

EPSILON = 0.1  # NLTK SmoothingFunction().method1: a zero n-gram match count becomes epsilon


def _self_bleu_all(enc: Encoded, max_n: int) -> np.ndarray:
    """(N,) BLEU of every text against all the others, as NLTK ``sentence_bleu(others, text, (1/max_n,) * max_n,
    smoothing_function=SmoothingFunction().method1)``."""
    lengths = enc.lengths
    n_texts = len(lengths)
    matches = np.zeros((n_texts, max_n))  # clipped n-gram matches, per text and order
    for n in range(1, max_n + 1):
        codes, text_of, bound = _ngram_codes(enc, n)
        if len(codes) == 0:
            continue
        keys = np.sort(codes * n_texts + text_of)  # by n-gram, then by text; fits: bound * N <= 2**63 - 1
        start = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
        count = np.diff(np.append(start, len(keys)))  # (P,) count of an n-gram in one text
        pair = keys[start]
        text, code = pair % n_texts, pair // n_texts
        group = np.flatnonzero(np.concatenate(([True], code[1:] != code[:-1])))  # first pair of each n-gram
        size = np.diff(np.append(group, len(pair)))
        top1 = np.repeat(np.maximum.reduceat(count, group), size)  # (P,) the n-gram's largest count in any text
        holders = np.repeat(np.add.reduceat((count == top1).astype(np.int64), group), size)
        top2 = np.repeat(np.maximum.reduceat(np.where(count == top1, 0, count), group), size)  # largest below top1
        # largest count among the OTHER texts: top1, unless this text is top1's only holder
        others = np.where((count == top1) & (holders == 1), top2, top1)
        matches[:, n - 1] = np.bincount(text, weights=np.minimum(count, others), minlength=n_texts)
    # modified precision p_n = matches / max(1, hypothesis n-grams); method1 replaces a zero numerator by epsilon
    ngrams = np.maximum(lengths[:, None] - np.arange(max_n)[None, :], 1).astype(np.float64)
    precision = np.where(matches > 0, matches, EPSILON) / ngrams
    log_mean = (np.log(precision) * (1.0 / max_n)).sum(axis=1)
    bleu = _brevity_penalty(lengths) * np.exp(log_mean)
    bleu[matches[:, 0] == 0] = 0.0  # NLTK returns 0 when no unigram matches (this covers empty hypotheses)
    return bleu


def _brevity_penalty(lengths: np.ndarray) -> np.ndarray:
    """(N,) BP of each text against the others: r = the closest other length (ties to the shorter);
    BP = 1 if hyp_len > r, 0 if hyp_len == 0, else exp(1 - r / hyp_len) (Papineni et al. 2002, as NLTK)."""
    values, counts = np.unique(lengths, return_counts=True)
    pos = np.searchsorted(values, lengths)
    lower = values[np.maximum(pos - 1, 0)]
    upper = values[np.minimum(pos + 1, len(values) - 1)]
    has_lower, has_upper = pos > 0, pos + 1 < len(values)
    take_lower = has_lower & (~has_upper | (lengths - lower <= upper - lengths))
    closest = np.where(counts[pos] >= 2, lengths, np.where(take_lower, lower, upper))
    hyp = lengths.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        bp = np.exp(1.0 - closest / hyp)
    return np.where(lengths > closest, 1.0, np.where(lengths == 0, 0.0, bp))


def _sample_hypotheses(n_texts: int, n_hypotheses: int | None, seed: int, max_n: int) -> list[int]:
    if n_hypotheses is None:
        return list(range(n_texts))
    if (
        isinstance(n_hypotheses, bool)
        or not isinstance(n_hypotheses, (int, np.integer))
        or not (1 <= n_hypotheses <= n_texts)
    ):
        raise ValueError(
            f"n_hypotheses must be an integer in [1, {n_texts}] (the number of texts), or None for all; "
            f"got {n_hypotheses!r}"
        )
    # degen metrics/self_bleu.py seeds once, then draws a fresh sample for each order 1..5: BLEU-k uses draw k
    rng = random.Random(seed)
    for _ in range(max_n):
        drawn = rng.sample(range(n_texts), int(n_hypotheses))
    return drawn


def self_bleu(
    texts: Sequence[str] | Encoded,
    *,
    max_n: int = 4,
    n_hypotheses: int | None = None,
    seed: int = 0,
    tokenizer: Tokenizer | None = None,
) -> list[float]:
    """BLEU-``max_n`` of each text against all the other texts; their mean is Self-BLEU (Zhu et al. 2018).

    ``n_hypotheses``: score only that many texts, sampled as the degen script does (``random.seed(seed)``, then one
    ``random.sample`` per order 1..max_n; the last one is used), still each against all other texts; the scores
    follow the sample's order. None: every text, in order. Fewer than 2 texts: a ValueError, since a text has no
    others to be compared with.

    >>> [round(s, 4) for s in self_bleu(["the cat sat", "the cat ran", "a dog"], max_n=2)]  # sqrt(2/3 * 1/2)
    [0.5774, 0.5774, 0.0]
    >>> self_bleu(["a b c d", "a b c d", "e f g h"], max_n=2)
    [1.0, 1.0, 0.0]
    """
    max_n = _check_n(max_n, "max_n")
    enc = encode(texts, tokenizer)
    n_texts = len(enc.lengths)
    if n_texts < 2:
        raise ValueError(f"Self-BLEU needs at least 2 texts (each is scored against the others), got {n_texts}")
    hypotheses = _sample_hypotheses(n_texts, n_hypotheses, seed, max_n)
    return _self_bleu_all(enc, max_n)[hypotheses].tolist()
