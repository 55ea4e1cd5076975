"""Self-BLEU-4: genlab vs NLTK's formulation and vs fast-bleu's multithreaded C++ SelfBLEU, same texts, same run.

    python benchmarks/bench_self_bleu.py [--n 1000] [--words 50] [--nltk-hypotheses N] [--repeat 3]

Texts: ``--n`` texts of about ``--words`` whitespace words (Zipf pseudo-words, see bench_ngrams.py), tokens by
``str.split``. Peers:

- NLTK: ``sentence_bleu(all other texts, text, (0.25,) * 4, smoothing_function=SmoothingFunction().method1)`` for
  every text, as Texygen and degen compute Self-BLEU. Timed on every hypothesis by default (minutes); with
  ``--nltk-hypotheses N`` it is timed on the first N hypotheses only and the time is extrapolated linearly (each
  hypothesis costs the same: all others are its references); the printout says so. Values are compared on every
  hypothesis NLTK scored (target: max |difference| < 1e-9).
- fast-bleu (``pip install fast-bleu``; skipped if absent): ``SelfBLEU(tokens, {4: (0.25,) * 4}).get_score()``,
  constructor included. Its values are compared and the largest difference printed.

Then genlab alone on ``10 x --n`` texts (target: 10,000 texts in under 10 s). genlab's time is the median of
``--repeat`` runs after a warm-up; the peers run once. Targets: >= 1,000x NLTK, >= 10x fast-bleu. The machine
may be shared; compare ratios taken in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench_ngrams import make_texts
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

from genlab.metrics.self_bleu import self_bleu


def genlab_time(texts: list[str], repeat: int) -> tuple[float, list[float]]:
    scores = self_bleu(texts)  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        scores = self_bleu(texts)
        times.append(time.perf_counter() - start)
    return statistics.median(times), scores


def nltk_self_bleu(tokens: list[list[str]], hypotheses: int) -> list[float]:
    smoothing = SmoothingFunction().method1
    return [
        sentence_bleu(tokens[:i] + tokens[i + 1 :], tokens[i], (0.25, 0.25, 0.25, 0.25), smoothing_function=smoothing)
        for i in range(hypotheses)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--words", type=int, default=50)
    parser.add_argument("--nltk-hypotheses", type=int, default=None, help="time NLTK on this many and extrapolate")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    texts = make_texts(args.n, args.words, seed=1)
    tokens = [t.split() for t in texts]
    print(f"{len(texts):,} texts, {sum(map(len, tokens)):,} tokens; Self-BLEU-4")

    t_ours, ours = genlab_time(texts, args.repeat)
    print(f"genlab     {t_ours:.4f} s (median of {args.repeat}); Self-BLEU-4 = {sum(ours) / len(ours):.6f}")

    k = min(args.nltk_hypotheses or len(texts), len(texts))
    start = time.perf_counter()
    reference = nltk_self_bleu(tokens, k)
    t_nltk = (time.perf_counter() - start) * len(texts) / k
    diff = max(abs(a - b) for a, b in zip(ours, reference, strict=False))
    how = "timed on every hypothesis" if k == len(texts) else f"EXTRAPOLATED from {k} of {len(texts)} hypotheses"
    print(
        f"NLTK       {t_nltk:.1f} s ({how}); genlab is {t_nltk / t_ours:,.0f}x faster; "
        f"max |difference| on the {k} scored: {diff:.2e}"
    )

    try:
        from fast_bleu import SelfBLEU
    except ImportError:
        print("fast-bleu  not installed (pip install fast-bleu): skipped")
    else:
        start = time.perf_counter()
        fast = SelfBLEU(tokens, {4: (0.25, 0.25, 0.25, 0.25)}).get_score()[4]
        t_fast = time.perf_counter() - start
        fast_diff = max(abs(a - b) for a, b in zip(ours, fast, strict=True))
        print(
            f"fast-bleu  {t_fast:.3f} s; genlab is {t_fast / t_ours:.1f}x faster; "
            f"max |difference| from genlab: {fast_diff:.2e}"
        )

    big = make_texts(10 * args.n, args.words, seed=2)
    start = time.perf_counter()
    scores = self_bleu(big)
    print(
        f"genlab on {len(big):,} texts: {time.perf_counter() - start:.2f} s "
        f"(Self-BLEU-4 = {sum(scores) / len(scores):.6f})"
    )


if __name__ == "__main__":
    main()
