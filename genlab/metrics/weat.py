"""WEAT and SEAT: association tests on embeddings (Caliskan et al. 2017; May et al. 2019).

The Word Embedding Association Test compares how close two sets of target words (X, Y) sit to two sets of
attribute words (A, B) in an embedding space, with a permutation test over re-partitions of X and Y; SEAT puts the
words into semantically bleached sentences for sentence encoders. The encoder is a tool passed in (``embed``),
not the model under evaluation, so this is a metric: it scores embeddings and runs no generative model.

>>> seat_sentences(["rose"], "noun")[0]
'This is the rose.'

**Limitations.** WEAT measures geometry, not behaviour: an association in an embedding space need not show in
what a model writes (Goldfarb-Tarrant et al. 2021). The word sets are the published English ones (WEAT 1, 6, 7, 8),
small and of their time; a permutation p-value over a handful of words is coarse.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from genlab.core.paths import data_dir

__all__ = ["SEAT_TEMPLATES", "WeatResult", "seat_sentences", "weat", "weat_table", "weat_word_sets"]

CALISKAN_2017 = "Caliskan, Bryson & Narayanan 2017, Semantics derived automatically from language corpora (Science)"
MAY_2019 = "May et al. 2019, On Measuring Social Biases in Sentence Encoders (SEAT, NAACL)"

#: SEAT's semantically bleached templates (May et al. 2019): nouns and names go into sentences that say nothing else.
SEAT_TEMPLATES = {
    "noun": ("This is the {w}.", "That is the {w}.", "There is the {w}.", "Here is the {w}.", "The {w} is here.",
             "The {w} is there.", "It is the {w}."),
    "name": ("This is {w}.", "That is {w}.", "There is {w}.", "Here is {w}.", "{w} is here.", "{w} is there.",
             "{w} is a person."),
}


@dataclass(frozen=True)
class WeatResult:
    effect_size: float  # Cohen's d: (mean s(x) - mean s(y)) / sample std of s(w) over X and Y
    p_value: float  # one-sided permutation p: P[S(Xi, Yi) >= S(X, Y)] over equal-size re-partitions of X and Y
    statistic: float  # S(X, Y, A, B) = sum_x s(x) - sum_y s(y)
    n_permutations: int
    exact: bool  # all partitions enumerated


def weat(x: np.ndarray, y: np.ndarray, a: np.ndarray, b: np.ndarray, *, n_resamples: int = 10_000,
         seed: int = 0) -> WeatResult:
    """The Word Embedding Association Test (Caliskan et al. 2017) on embedding matrices (one row per word or
    sentence): s(w, A, B) = mean cos(w, a) - mean cos(w, b); S = sum over X of s - sum over Y of s; effect size
    d = (mean_X s - mean_Y s) / std_{X and Y} s (sample standard deviation); p = the share of equal-size
    partitions of X and Y whose statistic is at least S (all partitions when there are at most ``n_resamples``,
    else ``n_resamples`` random ones plus the observed one).

    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=(8, 16)) + 2, rng.normal(size=(8, 16)) - 2
    >>> x, y = a[:4] + rng.normal(size=(4, 16)), b[:4] + rng.normal(size=(4, 16))   # X like A, Y like B
    >>> r = weat(x, y, a, b)
    >>> r.effect_size > 1.5, round(r.p_value, 4), r.n_permutations, r.exact   # 1 of the C(8, 4) = 70 partitions
    (True, 0.0143, 70, True)
    """
    from itertools import combinations
    from math import comb

    def unit(m: np.ndarray) -> np.ndarray:
        m = np.asarray(m, dtype=float)
        if m.ndim != 2 or len(m) == 0:
            raise ValueError("each word set must be a non-empty (n, dim) embedding matrix")
        return m / np.linalg.norm(m, axis=1, keepdims=True)

    x, y, a, b = map(unit, (x, y, a, b))
    if len(x) != len(y):
        raise ValueError(f"WEAT's permutation test needs target sets of equal size; got {len(x)} and {len(y)}")
    w = np.vstack([x, y])
    s = (w @ a.T).mean(axis=1) - (w @ b.T).mean(axis=1)  # s(w, A, B) for every target
    n = len(x)
    observed = float(s[:n].sum() - s[n:].sum())
    spread = s.std(ddof=1)
    effect = float((s[:n].mean() - s[n:].mean()) / spread) if spread > 0 else math.nan
    total = float(s.sum())
    if comb(2 * n, n) <= n_resamples:
        sums = np.array([s[list(idx)].sum() for idx in combinations(range(2 * n), n)])
        exact = True
    else:
        rng = np.random.default_rng(seed)
        sums = np.array([s[rng.permutation(2 * n)[:n]].sum() for _ in range(n_resamples)] + [s[:n].sum()])
        exact = False
    stats = 2 * sums - total  # S of each partition: sum over its X half minus sum over the rest
    tol = 1e-12 * max(1.0, abs(observed))
    p = float(np.mean(stats >= observed - tol))
    return WeatResult(effect, p, observed, len(sums), exact)


def weat_word_sets() -> dict:
    """The WEAT 1, 6, 7 and 8 word sets of Caliskan et al. 2017 (``data/bias/weat_word_sets.json``, with its card)."""
    import json

    sets = json.loads((data_dir() / "bias" / "weat_word_sets.json").read_text())
    return {k: v for k, v in sets.items() if not k.startswith("_")}


def seat_sentences(words: Sequence[str], kind: str = "noun") -> list[str]:
    """Each word in every SEAT template of its ``kind`` (``"noun"`` or ``"name"``), for sentence encoders.

    >>> seat_sentences(["rose"])[:2]
    ['This is the rose.', 'That is the rose.']
    """
    if kind not in SEAT_TEMPLATES:
        raise ValueError(f"kind must be one of {sorted(SEAT_TEMPLATES)}, got {kind!r}")
    return [t.format(w=w) for w in words for t in SEAT_TEMPLATES[kind]]


def weat_table(embed, *, sentences: bool = False, tests: Sequence[str] | None = None, n_resamples: int = 10_000,
               seed: int = 0) -> pd.DataFrame:
    """WEAT (bare words) or SEAT (``sentences=True``: words in bleached templates) on the standard word sets with
    the encoder ``embed`` (a function from a list of texts to an (n, dim) array, e.g.
    ``genlab.metrics.coherence.sentence_embeddings``). Columns: ``test``, ``description``, ``n_targets``,
    ``effect_size``, ``p_value``, ``exact``, ``published_glove_effect_size`` (Caliskan et al. 2017, word
    vectors: a different model, for orientation only). ``tests``: a subset of ``weat1``, ``weat6``, ``weat7``,
    ``weat8`` (default all)."""
    sets = weat_word_sets()
    unknown = sorted(set(tests or ()) - set(sets))
    if unknown:
        raise ValueError(f"unknown WEAT test(s) {unknown}; known: {sorted(sets)}")
    rows = []
    for name, ws in sets.items():
        if tests is not None and name not in tests:
            continue
        def enc(words: list[str], kind: str = ws["kind"]) -> np.ndarray:
            return np.asarray(embed(seat_sentences(words, kind) if sentences else list(words)), dtype=float)

        names_are_targets = ws["kind"] == "name"
        x, y = enc(ws["X"]), enc(ws["Y"])
        a = enc(ws["A"], "noun" if names_are_targets else ws["kind"])
        b = enc(ws["B"], "noun" if names_are_targets else ws["kind"])
        r = weat(x, y, a, b, n_resamples=n_resamples, seed=seed)
        rows.append({"test": name, "description": ws["description"], "n_targets": len(x), "effect_size": r.effect_size,
                     "p_value": r.p_value, "exact": r.exact,
                     "published_glove_effect_size": ws["published_glove_effect_size"]})
    return pd.DataFrame(rows)
