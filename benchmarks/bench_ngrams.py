"""n-gram repetition metrics: genlab vs plain Python and vs nltk.ngrams, same texts, same run, identical values.

    python benchmarks/bench_ngrams.py [--n 10000] [--words 100] [--repeat 3]

Texts: ``--n`` texts of about ``--words`` whitespace words (80-120% of it), drawn from a Zipf-distributed vocabulary
of 30,000 pseudo-words of 1-14 letters (seeded; no data files). Two workloads, each checked for identical values:

1. the repetition suite an evaluation computes, for n = 1..4: per-text distinct-n and seq-rep-n, corpus
   distinct-n and SimCTG rep-n, through genlab's public functions on one ``encode``-d corpus; the peers compute
   each metric as the reference scripts do (each tokenizes and builds its n-grams): "Python" with ``zip`` and
   ``set``, "NLTK" with ``nltk.util.ngrams`` and ``Counter`` (as unlikelihood_training's ``ngram_metrics``), and
   "Python, split once", a tuned peer that splits the texts once and counts every metric from the same sets.
2. one call, distinct-2 per text from raw texts: ``distinct_n(texts, 2)`` vs ``zip`` + ``set`` and vs
   ``nltk.ngrams`` + ``set``. Tokenizing is most of this work, for genlab (Arrow's C++ splitter and hash table)
   and for the peers (``str.split``), so the ratio is smaller.

Each timing is the median of ``--repeat`` runs after a warm-up. Target: >= 5x. The machine may be shared; compare
ratios taken in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter
from collections.abc import Callable

import numpy as np
from nltk.util import ngrams

from genlab.metrics.repetition import distinct_n, distinct_n_corpus, encode, rep_n, seq_rep_n


def make_texts(n: int, words: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    vocab = ["".join(rng.choice(letters, size=rng.integers(1, 15))) for _ in range(30_000)]
    weights = 1.0 / np.arange(1, len(vocab) + 1)  # Zipf: frequency ~ 1 / rank
    lengths = rng.integers(int(0.8 * words), int(1.2 * words) + 1, size=n)
    ids = rng.choice(len(vocab), size=int(lengths.sum()), p=weights / weights.sum())
    texts, start = [], 0
    for length in lengths:
        texts.append(" ".join(vocab[i] for i in ids[start : start + length]))
        start += length
    return texts


def median_time(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    result = fn()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def distinct2_python(texts: list[str]) -> list[float]:
    out = []
    for text in texts:
        tokens = text.split()
        grams = list(zip(tokens, tokens[1:], strict=False))
        out.append(len(set(grams)) / len(grams) if grams else 0.0)
    return out


def distinct2_nltk(texts: list[str]) -> list[float]:
    out = []
    for text in texts:
        grams = list(ngrams(text.split(), 2))
        out.append(len(set(grams)) / len(grams) if grams else 0.0)
    return out


ORDERS = (1, 2, 3, 4)


def suite_genlab(texts: list[str]) -> dict:
    enc = encode(texts)
    out = {}
    for n in ORDERS:
        out[f"distinct-{n}"] = distinct_n(enc, n)
        out[f"seq-rep-{n}"] = seq_rep_n(enc, n)
        out[f"corpus distinct-{n}"] = distinct_n_corpus(enc, n)
        out[f"rep-{n}"] = rep_n(enc, n)
    return out


def _suite_from(per_text_grams: Callable[[int], list[list]]) -> dict:
    """The suite from a function giving, for order n, each text's list of n-grams."""
    out = {}
    for n in ORDERS:
        grams = per_text_grams(n)
        out[f"distinct-{n}"] = [len(set(g)) / len(g) if g else 0.0 for g in grams]
        grams = per_text_grams(n)
        out[f"seq-rep-{n}"] = [1.0 - len(Counter(g)) / len(g) if g else 0.0 for g in grams]
        grams = per_text_grams(n)
        every = [x for g in grams for x in g]
        out[f"corpus distinct-{n}"] = len(set(every)) / len(every) if every else 0.0
        grams = per_text_grams(n)
        unique, total = sum(len(set(g)) for g in grams), sum(len(g) for g in grams)
        out[f"rep-{n}"] = 100.0 * (1.0 - unique / total) if total else 0.0
    return out


def suite_python(texts: list[str]) -> dict:
    def grams(n: int) -> list[list]:
        return [list(zip(*(toks[i:] for i in range(n)), strict=False)) for toks in (t.split() for t in texts)]

    return _suite_from(grams)


def suite_nltk(texts: list[str]) -> dict:
    return _suite_from(lambda n: [list(ngrams(t.split(), n)) for t in texts])


def suite_python_split_once(texts: list[str]) -> dict:
    tokens = [t.split() for t in texts]
    out = {}
    for n in ORDERS:
        sets, totals, corpus = [], [], set()
        for toks in tokens:
            grams = set(zip(*(toks[i:] for i in range(n)), strict=False))
            sets.append(len(grams))
            totals.append(max(len(toks) - n + 1, 0))
            corpus |= grams
        out[f"distinct-{n}"] = [u / t if t else 0.0 for u, t in zip(sets, totals, strict=True)]
        out[f"seq-rep-{n}"] = [1.0 - u / t if t else 0.0 for u, t in zip(sets, totals, strict=True)]
        out[f"corpus distinct-{n}"] = len(corpus) / sum(totals) if sum(totals) else 0.0
        out[f"rep-{n}"] = 100.0 * (1.0 - sum(sets) / sum(totals)) if sum(totals) else 0.0
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--words", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    texts = make_texts(args.n, args.words)
    print(f"{len(texts):,} texts, {sum(len(t.split()) for t in texts):,} whitespace tokens")

    t_ours, ours = median_time(lambda: suite_genlab(texts), args.repeat)
    print(f"1. repetition suite, n = 1..4 (values identical to each peer's)\n   genlab {t_ours:.3f} s")
    for name, peer in [("Python", suite_python), ("NLTK", suite_nltk), ("Python, split once", suite_python_split_once)]:
        t_peer, values = median_time(lambda peer=peer: peer(texts), args.repeat)
        assert values == ours, f"{name}: values differ"
        print(f"   {name:<18} {t_peer:.3f} s   genlab is {t_peer / t_ours:.1f}x faster")

    t_ours, ours = median_time(lambda: distinct_n(texts, 2), args.repeat)
    print(f"2. distinct-2 per text, one call from raw texts (values identical)\n   genlab {t_ours:.3f} s")
    for name, peer in [("Python", distinct2_python), ("NLTK", distinct2_nltk)]:
        t_peer, values = median_time(lambda peer=peer: peer(texts), args.repeat)
        assert values == ours, f"{name}: values differ"
        print(f"   {name:<18} {t_peer:.3f} s   genlab is {t_peer / t_ours:.1f}x faster")


if __name__ == "__main__":
    main()
