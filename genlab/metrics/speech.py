"""Word and character error rates of transcripts (through jiwer), with intervals, paired comparisons and breakdowns.

WER = (S + D + I) / N: substitutions, deletions and insertions of the minimum-edit (Levenshtein 1966) alignment of
each hypothesis to its reference, summed over the corpus and divided by the number of reference words (Morris,
Maier & Green 2004); CER is the same over characters, counting the spaces between words as jiwer does. Both are
corpus rates, total edits over total reference length, **not** the mean of per-utterance rates: a long utterance
weighs more than a short one.

Uncertainty resamples utterances, the unit that was sampled, and recomputes the corpus rate on each resample (Bisani
& Ney 2004; Efron & Tibshirani 1993), with the machinery of :mod:`genlab.stats`:

- :func:`error_rate_ci`: an interval for WER or CER (same resamples and interval as ``scipy.stats.bootstrap`` on
  the per-utterance (edits, length) pairs);
- :func:`paired_error_rate`: two systems on the same utterances, the difference of their corpus rates, its interval
  and a p-value (paired bootstrap; Koehn 2004, Bisani & Ney 2004);
- :func:`error_rate_table`: WER and CER with intervals per group (voice, accent, variant, length bucket, ...), like
  fairlearn's ``MetricFrame`` (Bird et al. 2020), with each group's gap to the overall rate and the worst group
  marked;
- :func:`held_out_gap`: WER on held-out voices minus WER on training voices, bootstrapped within each of the two
  groups (a stratified bootstrap: both group sizes stay as observed);
- :func:`word_error_items`: per-utterance scores whose mean is the corpus WER, for per-item statistics (training
  runs compared on the same utterances).

By hand: "the cat sit" for "the cat sat" is 1 substitution in 3 words; "a dog home" for "a dog ran home" is 1
deletion in 4. Corpus WER = 2 / 7 = 0.2857, while the mean of the two utterance rates would be (1/3 + 1/4) / 2 =
0.2917. Characters: 1 of 11, and "ran " deleted, 4 of 14: CER = 5 / 25 = 0.2.

>>> refs, hyps = ["the cat sat", "a dog ran home"], ["the cat sit", "a dog home"]
>>> round(wer(hyps, refs), 4), round(cer(hyps, refs), 4)
(0.2857, 0.2)
>>> r = error_rate_ci(hyps * 10, refs * 10, n_resamples=999)
>>> round(r.estimate, 4), r.low < r.estimate < r.high
(0.2857, True)

**Limitations.** WER weighs every word alike ("a" as much as a name) and can pass 1 when the hypothesis inserts
words; CER depends on the alphabet and counts spaces. Both move with text normalisation: by default
:func:`normalize_transcript` lower-cases and drops punctuation on both sides, so "Cat." and "cat" match; report the
normalisation with the number. The bootstrap treats utterances as independent: where several voices read the same
sentences (genlab's spoken test set), utterances of one sentence are correlated and the intervals are somewhat too
narrow; where a group has few utterances (below about 20) bootstrap intervals fall short of their level. The worst
group is chosen after looking, so its gap is biased upward (the largest of several noisy rates) and its interval
does not account for the choice. Rates on synthetic voices say how a model copes with those voices, not how it
would treat the people whose accents they imitate (real disparities: Koenecke et al. 2020).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from genlab.stats.intervals import (
    BootstrapCI,
    Method,
    _bootstrap_distribution,
    _check,
    _interval,
    bootstrap_p_value,
    percentile_interval,
)
from genlab.stats.paired import PairedBootstrap, cohens_dz

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "HeldOutGap",
    "cer",
    "error_rate_ci",
    "error_rate_table",
    "held_out_gap",
    "length_bucket",
    "normalize_transcript",
    "paired_error_rate",
    "utterance_errors",
    "wer",
]

Unit = Literal["word", "char"]
BOOTSTRAP_CITATION = (
    "Bisani & Ney 2004, Bootstrap estimates for confidence intervals in ASR performance evaluation (ICASSP); "
    "Efron & Tibshirani 1993"
)


def normalize_transcript(text: str) -> str:
    """Case-folded words of letters, digits, combining marks and apostrophes, one space apart (NFKC first).

    On genlab's spoken world (lower-case a-z, apostrophe, space) it leaves the reference unchanged.

    >>> normalize_transcript("  The Cat's  hat-stand, naïve!  ")
    "the cat's hat stand naïve"
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    kept = (c if c == "'" or unicodedata.category(c)[0] in "LNM" else " " for c in text)
    return " ".join("".join(kept).split())


def _pairs(predictions: Sequence[str], references: Sequence[str], normalize: bool) -> tuple[list[str], list[str]]:
    for name, texts in (("predictions", predictions), ("references", references)):
        if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
            raise ValueError(f"{name} must be a list of strings, one per utterance")
    if len(predictions) != len(references):
        raise ValueError(f"one prediction per reference: got {len(predictions)} predictions and "
                         f"{len(references)} references")  # fmt: skip
    if len(references) == 0:
        raise ValueError("no utterances: predictions and references are empty")
    if normalize:
        return [normalize_transcript(t) for t in predictions], [normalize_transcript(t) for t in references]
    return [" ".join(t.split()) for t in predictions], [" ".join(t.split()) for t in references]


def _counts(hyps: list[str], refs: list[str], unit: Unit) -> tuple[np.ndarray, ...]:
    """(edits, reference length, substitutions, deletions, insertions) per utterance, from jiwer's alignments."""
    import jiwer

    n = len(refs)
    subs, dels, ins, length = (np.zeros(n, dtype=np.int64) for _ in range(4))
    tokens = (lambda t: t.split()) if unit == "word" else list
    for i, h in enumerate(hyps):  # an empty reference: every hypothesis token is an insertion
        if not refs[i]:
            ins[i] = len(tokens(h))
    rows = [i for i in range(n) if refs[i]]
    if rows:
        process = jiwer.process_words if unit == "word" else jiwer.process_characters
        out = process([refs[i] for i in rows], [hyps[i] for i in rows])
        for i, ref_tokens, chunks in zip(rows, out.references, out.alignments, strict=True):
            length[i] = len(ref_tokens)
            for c in chunks:
                if c.type == "substitute":
                    subs[i] += c.ref_end_idx - c.ref_start_idx
                elif c.type == "delete":
                    dels[i] += c.ref_end_idx - c.ref_start_idx
                elif c.type == "insert":
                    ins[i] += c.hyp_end_idx - c.hyp_start_idx
    return subs + dels + ins, length, subs, dels, ins


def utterance_errors(predictions: Sequence[str], references: Sequence[str], *, normalize: bool = True) -> pd.DataFrame:
    """One row per utterance: ``word_edits``, ``n_words`` (reference words), ``substitutions``, ``deletions``,
    ``insertions`` (of words), ``char_edits``, ``n_chars`` (reference characters, spaces included), after
    :func:`normalize_transcript` on both sides when ``normalize``.

    >>> utterance_errors(["the cat sit"], ["the cat sat"])[["word_edits", "n_words", "char_edits", "n_chars"]].values
    array([[ 1,  3,  1, 11]])
    """
    import pandas as pd

    hyps, refs = _pairs(predictions, references, normalize)
    w_edits, w_len, subs, dels, ins = _counts(hyps, refs, "word")
    c_edits, c_len, *_ = _counts(hyps, refs, "char")
    return pd.DataFrame({"word_edits": w_edits, "n_words": w_len, "substitutions": subs, "deletions": dels,
                         "insertions": ins, "char_edits": c_edits, "n_chars": c_len})  # fmt: skip


def _rate(edits: np.ndarray, length: np.ndarray) -> float:
    total = int(length.sum())
    return float(edits.sum() / total) if total else float("nan")


def wer(predictions: Sequence[str], references: Sequence[str], *, normalize: bool = True) -> float:
    """Corpus word error rate: (S + D + I) / N over all utterances (``jiwer.wer`` on the normalised texts).

    nan when the references hold no word at all (0 / 0).

    >>> wer(["the cat sit", "a dog home"], ["the cat sat", "a dog ran home"])
    0.2857142857142857

    **Limitations.** Every word weighs the same and insertions can push WER past 1; the number depends on the
    normalisation (``normalize=True``: :func:`normalize_transcript`). A point value: use :func:`error_rate_ci` for
    its uncertainty.
    """
    hyps, refs = _pairs(predictions, references, normalize)
    edits, length, *_ = _counts(hyps, refs, "word")
    return _rate(edits, length)


def cer(predictions: Sequence[str], references: Sequence[str], *, normalize: bool = True) -> float:
    """Corpus character error rate: character edits / reference characters, spaces included (``jiwer.cer``).

    nan when the references hold no character at all (0 / 0).

    >>> cer(["the cat sit", "a dog home"], ["the cat sat", "a dog ran home"])
    0.2

    **Limitations.** Depends on the alphabet and the normalisation, and counts spaces, so a word split in two
    costs one edit; not comparable across languages or scripts. Use :func:`error_rate_ci` for its uncertainty.
    """
    hyps, refs = _pairs(predictions, references, normalize)
    edits, length, *_ = _counts(hyps, refs, "char")
    return _rate(edits, length)


def word_error_items(predictions: Sequence[str], references: Sequence[str], *, normalize: bool = True) -> np.ndarray:
    """Per-utterance scores whose mean is the corpus WER R = sum(e) / sum(l) and whose spread is the ratio's: the
    linearised items z_i = R + (e_i - R l_i) n / N (e_i word edits, l_i reference words, n utterances, N = sum(l)),
    the influence values of the ratio (Efron & Tibshirani 1993, 21.3; the delta method). Their mean is exactly R, two
    systems on the same references differ in mean exactly by their difference in corpus WER, and resampling them
    gives about the interval of a bootstrap of the ratio itself (:func:`error_rate_ci`), so per-item machinery
    (a mixed model over training runs and utterances, :mod:`genlab.stats.hierarchical`) can compare the WERs of
    replicated training runs. (Scaled edits e_i n / N alone would have the right mean but would count the varying
    utterance lengths as error noise: 30 empty transcripts, WER 1.0, would get an interval of about [0.8, 1.2].)

    >>> z = word_error_items(["a b", "c"], ["a b", "c d e"])  # 2 deletions in 5 words: WER 0.4
    >>> z.round(4).tolist(), round(float(z.mean()), 4)
    ([0.08, 0.72], 0.4)
    >>> word_error_items(["", ""], ["a b", "c d e"]).tolist()  # nothing heard: every item is the WER, 1.0
    [1.0, 1.0]
    >>> round(float(word_error_items(["the cat sit", "a dog home"], ["the cat sat", "a dog ran home"]).mean()), 4)
    0.2857
    """
    errors = utterance_errors(predictions, references, normalize=normalize)
    edits, length = errors["word_edits"].to_numpy(dtype=float), errors["n_words"].to_numpy(dtype=float)
    total = length.sum()
    if total == 0:
        raise ValueError("the references hold no words, so the error rate is undefined (0 / 0)")
    rate = edits.sum() / total
    return rate + (edits - rate * length) * len(edits) / total


def _unit(unit: str) -> Unit:
    if unit not in ("word", "char"):
        raise ValueError(f"unit must be 'word' (WER) or 'char' (CER); got {unit!r}")
    return unit  # type: ignore[return-value]


def _ratio(edits: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Corpus rate of each row of resampled utterances: (k, n) -> (k,)."""
    return edits.sum(axis=-1) / length.sum(axis=-1)


def _edits(predictions, references, unit: Unit, normalize: bool) -> tuple[np.ndarray, np.ndarray]:
    hyps, refs = _pairs(predictions, references, normalize)
    edits, length, *_ = _counts(hyps, refs, unit)
    if length.sum() == 0:
        raise ValueError(f"the references hold no {unit}s, so the error rate is undefined (0 / 0)")
    return edits.astype(np.float64), length.astype(np.float64)


def error_rate_ci(
    predictions: Sequence[str],
    references: Sequence[str],
    *,
    unit: Unit = "word",
    n_resamples: int = 9999,
    confidence: float = 0.95,
    method: Method = "percentile",
    seed: int | None = 0,
    normalize: bool = True,
) -> BootstrapCI:
    """Corpus WER (``unit="word"``) or CER (``"char"``) with a bootstrap interval over utterances.

    Each resample draws utterances with replacement and recomputes total edits / total reference length (Bisani &
    Ney 2004). ``method``: "percentile", "basic" or "bca", as in :func:`genlab.stats.bootstrap_ci`; the
    resamples and the interval are those of ``scipy.stats.bootstrap((edits, lengths), ratio, paired=True,
    rng=seed)``.

    >>> r = error_rate_ci(["a b c", "a x", "b"], ["a b c", "a b", "b c"], n_resamples=999, seed=0)
    >>> round(r.estimate, 4), r.n, 0 <= r.low <= r.estimate <= r.high
    (0.2857, 3, True)

    **Limitations.** Assumes independent utterances (see the module's note on shared sentences); for fewer than
    about 20 utterances, or a rate near 0, the percentile interval undercovers: prefer ``method="bca"``.
    """
    unit = _unit(unit)
    edits, length = _edits(predictions, references, unit, normalize)
    _check(n_resamples, confidence, method)
    estimate = float(_ratio(edits[None, :], length[None, :])[0])
    dist = _bootstrap_distribution((edits, length), _ratio, int(n_resamples), np.random.default_rng(seed))
    low, high = _interval((edits, length), _ratio, estimate, dist, confidence, method)
    return BootstrapCI(estimate, low, high, confidence, method, len(edits), int(n_resamples))


def paired_error_rate(
    predictions_a: Sequence[str],
    predictions_b: Sequence[str],
    references: Sequence[str],
    *,
    unit: Unit = "word",
    n_resamples: int = 9999,
    confidence: float = 0.95,
    method: Method = "percentile",
    seed: int | None = 0,
    normalize: bool = True,
) -> PairedBootstrap:
    """Two systems on the same utterances: corpus rate of A minus corpus rate of B, with a paired bootstrap.

    Utterances are resampled together (A's and B's transcripts of one utterance stay paired) and both corpus rates
    recomputed (Bisani & Ney 2004; Koehn 2004). The p-value is two-sided for "no difference", from the bootstrap
    distribution shifted to 0 (Efron & Tibshirani 1993, 16.4), as :func:`genlab.stats.paired_bootstrap`
    computes it; ``effect_size`` is Cohen's d_z of the per-utterance edit counts (A minus B).

    >>> refs = ["the cat sat", "a dog ran home", "it was late", "she found the key"] * 5
    >>> good = ["the cat sat", "a dog ran home", "it was late", "she found a key"] * 5
    >>> bad = ["the cat sit", "a dog home", "it was", "she found a key"] * 5
    >>> r = paired_error_rate(bad, good, refs, n_resamples=999)
    >>> round(r.difference, 4), r.low > 0, r.p_value < 0.01
    (0.2143, True, True)

    **Limitations.** A small p-value says the difference is unlikely to be resampling noise on *these* utterances
    and voices; it says nothing about other voices or sentences. Correct for multiplicity when comparing many
    systems (:mod:`genlab.stats.multiplicity`).
    """
    unit = _unit(unit)
    edits_a, length = _edits(predictions_a, references, unit, normalize)
    edits_b, _ = _edits(predictions_b, references, unit, normalize)
    _check(n_resamples, confidence, method)

    def stat(a: np.ndarray, b: np.ndarray, n: np.ndarray) -> np.ndarray:
        return _ratio(a, n) - _ratio(b, n)

    samples = (edits_a, edits_b, length)
    diff = float(stat(*(s[None, :] for s in samples))[0])
    dist = _bootstrap_distribution(samples, stat, int(n_resamples), np.random.default_rng(seed))
    low, high = _interval(samples, stat, diff, dist, confidence, method)
    return PairedBootstrap(diff, low, high, bootstrap_p_value(dist, diff), cohens_dz(edits_a, edits_b), confidence,
                           method, len(length), int(n_resamples))  # fmt: skip


def _stratified(
    edits: np.ndarray, length: np.ndarray, mask: np.ndarray, n_resamples: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Resample the utterances in ``mask`` and the others separately, each group at its own size: per resample
    (edits in, length in, edits out, length out)."""
    out = []
    for group in (np.flatnonzero(mask), np.flatnonzero(~mask)):
        e, n = np.zeros(n_resamples), np.zeros(n_resamples)
        if len(group):
            batch = max(1, 2**22 // len(group))
            for start in range(0, n_resamples, batch):
                idx = group[rng.integers(0, len(group), (min(batch, n_resamples - start), len(group)))]
                e[start : start + len(idx)] = edits[idx].sum(axis=1)
                n[start : start + len(idx)] = length[idx].sum(axis=1)
        out += [e, n]
    return tuple(out)


def _percentile(dist: np.ndarray, estimate: float, confidence: float, method: str) -> tuple[float, float]:
    """Percentile (or basic) interval of the finite resampled rates (a resample with no reference words has none)."""
    low, high = percentile_interval(dist[np.isfinite(dist)], confidence)
    if method == "basic":
        low, high = 2 * estimate - high, 2 * estimate - low
    return low, high


@dataclass(frozen=True)
class HeldOutGap:
    difference: float  # rate on held-out voices - rate on training voices
    low: float  # confidence interval of the difference (stratified bootstrap)
    high: float
    p_value: float  # two-sided, H0: no gap (bootstrap distribution shifted to 0)
    held_out: float  # corpus rate on held-out voices
    seen: float  # corpus rate on training voices
    n_held_out: int  # utterances
    n_seen: int
    unit: str  # "word" (WER) or "char" (CER)
    confidence: float
    method: str
    n_resamples: int


def held_out_gap(
    predictions: Sequence[str],
    references: Sequence[str],
    held_out: Sequence[bool],
    *,
    unit: Unit = "word",
    n_resamples: int = 9999,
    confidence: float = 0.95,
    method: Literal["percentile", "basic"] = "percentile",
    seed: int | None = 0,
    normalize: bool = True,
) -> HeldOutGap:
    """Corpus rate on held-out voices minus corpus rate on training voices, with a stratified bootstrap interval.

    ``held_out``: one flag per utterance (genlab's spoken world: the ``voice_held_out`` column). Each resample
    draws the held-out utterances and the seen ones separately, each group at its observed size, and recomputes
    both corpus rates (Efron & Tibshirani 1993, 8.x on stratified samples; Bisani & Ney 2004). The p-value is
    two-sided for "no gap", from the bootstrap distribution shifted to 0. Compare on the same sentences (the
    spoken world's test split) so that the gap is the voices', not the sentences'.

    >>> refs = ["the cat sat", "a dog ran home"] * 6
    >>> hyps = ["the cat sat", "a dog ran home"] * 3 + ["the cat sit", "a dog home"] * 3
    >>> g = held_out_gap(hyps, refs, [False] * 6 + [True] * 6, n_resamples=999)
    >>> round(g.held_out, 4), g.seen, round(g.difference, 4), g.low > 0
    (0.2857, 0.0, 0.2857, True)

    **Limitations.** The two groups differ in more than "seen in training": the held-out accent, variant or pair
    may simply be harder for any model (a model trained on every voice would tell). With few held-out voices the
    utterances of one voice are correlated, so the interval is narrower than one over voices would be.
    """
    unit = _unit(unit)
    edits, length = _edits(predictions, references, unit, normalize)
    mask = np.asarray(list(held_out))
    if mask.shape != edits.shape or not all(isinstance(v, (bool, np.bool_)) for v in mask.tolist()):
        raise ValueError(f"held_out must hold one True/False per utterance ({len(edits)}); got {len(mask)} values")
    mask = mask.astype(bool)
    if mask.all() or not mask.any():
        raise ValueError("held_out must flag some utterances True (held-out voices) and some False (training voices)")
    if length[mask].sum() == 0 or length[~mask].sum() == 0:
        raise ValueError(f"both groups need reference {unit}s; one of them has none")
    _check(n_resamples, confidence)
    if method not in ("percentile", "basic"):
        raise ValueError(f"method must be 'percentile' or 'basic' for the stratified bootstrap; got {method!r}")
    rate_h, rate_s = _rate(edits[mask], length[mask]), _rate(edits[~mask], length[~mask])
    diff = rate_h - rate_s
    e_h, n_h, e_s, n_s = _stratified(edits, length, mask, int(n_resamples), np.random.default_rng(seed))
    with np.errstate(invalid="ignore", divide="ignore"):
        dist = e_h / n_h - e_s / n_s
    low, high = _percentile(dist, diff, confidence, method)
    p_value = bootstrap_p_value(dist[np.isfinite(dist)], diff)
    return HeldOutGap(diff, low, high, p_value, rate_h, rate_s, int(mask.sum()), int((~mask).sum()), unit,
                      confidence, method, int(n_resamples))  # fmt: skip


def length_bucket(n_words: Sequence[int], edges: Sequence[int] = (4, 6)) -> list[str]:
    """A label per utterance for its reference length: with ``edges=(4, 6)``, "<=4", "5-6" and ">=7" words.

    >>> length_bucket([3, 4, 5, 6, 7, 8])
    ['<=4', '<=4', '5-6', '5-6', '>=7', '>=7']
    """
    edges = [int(e) for e in edges]
    if not edges or edges != sorted(set(edges)):
        raise ValueError(f"edges must be increasing word counts, e.g. (4, 6); got {edges}")
    labels = [f"<={edges[0]}"]
    labels += [f"{a + 1}-{b}" if b > a + 1 else str(b) for a, b in zip(edges[:-1], edges[1:], strict=True)]
    labels.append(f">={edges[-1] + 1}")
    return [labels[int(np.searchsorted(edges, n))] for n in n_words]


def error_rate_table(
    predictions: Sequence[str],
    references: Sequence[str],
    groups: Mapping[str, Sequence],
    *,
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: int | None = 0,
    normalize: bool = True,
) -> pd.DataFrame:
    """WER and CER with intervals for every group of every grouping, fairlearn ``MetricFrame``-style (Bird et al.
    2020): a DataFrame with one row for the whole corpus (``group="overall"``, ``value="all"``) and one per group.

    ``groups``: grouping name -> one label per utterance, e.g. ``{"voice": ds["voice"], "accent": ds["accent"],
    "length": length_bucket(ds["n_words"])}``. Columns: ``group``, ``value``, ``n`` (utterances), ``n_words``,
    ``n_chars``, ``wer``, ``wer_low``, ``wer_high``, ``wer_gap`` (group WER minus overall WER), ``wer_gap_low``,
    ``wer_gap_high``, the same six for ``cer``, and ``worst`` (True on the group with the highest WER of its
    grouping; its ``wer_gap`` is the worst-group gap). Rates and their intervals: percentile bootstrap over the
    group's utterances (:func:`error_rate_ci`); gaps: stratified bootstrap of the group and the rest.

    >>> refs = ["the cat sat", "a dog ran home"] * 4
    >>> hyps = ["the cat sat", "a dog ran home"] * 2 + ["the cat sit", "a dog home"] * 2
    >>> t = error_rate_table(hyps, refs, {"voice": ["v1"] * 4 + ["v2"] * 4}, n_resamples=200)
    >>> print(t[["group", "value", "n", "wer", "wer_gap", "worst"]].round(4).to_string(index=False))
      group value  n    wer  wer_gap  worst
    overall   all  8 0.1429   0.0000  False
      voice    v1  4 0.0000  -0.1429  False
      voice    v2  4 0.2857   0.1429   True

    **Limitations.** Intervals are for each group alone (no correction for looking at many groups); the worst
    group is picked after looking, so its gap overstates the true worst gap (see the module's Limitations). Small
    groups get wide, undercovering intervals.
    """
    import pandas as pd

    hyps, refs = _pairs(predictions, references, normalize)
    counts = {u: _counts(hyps, refs, u)[:2] for u in ("word", "char")}
    if counts["word"][1].sum() == 0:
        raise ValueError("the references hold no words, so the error rates are undefined (0 / 0)")
    if not isinstance(groups, Mapping) or not groups:
        raise ValueError("groups must map a grouping name to one label per utterance, e.g. {'voice': [...]}")
    for name, labels in groups.items():
        if len(labels) != len(refs):
            raise ValueError(f"groups[{name!r}] has {len(labels)} labels for {len(refs)} utterances")
    _check(n_resamples, confidence)
    rng = np.random.default_rng(seed)
    rows = []

    def row(group: str, value, mask: np.ndarray) -> dict:
        out = {"group": group, "value": value, "n": int(mask.sum()), "n_words": int(counts["word"][1][mask].sum()),
               "n_chars": int(counts["char"][1][mask].sum())}  # fmt: skip
        for unit, key in (("word", "wer"), ("char", "cer")):
            edits, length = (c.astype(np.float64) for c in counts[unit])
            e, n = edits[mask], length[mask]
            rate = _rate(e, n)
            if n.sum() > 0:
                dist = _bootstrap_distribution((e, n), _ratio, int(n_resamples), rng)
                with np.errstate(invalid="ignore", divide="ignore"):
                    low, high = _percentile(dist, rate, confidence, "percentile")
            else:
                low = high = float("nan")
            overall = _rate(edits, length)
            gap, gap_low, gap_high = rate - overall, float("nan"), float("nan")
            if mask.all():
                gap_low = gap_high = 0.0
            elif n.sum() > 0:
                e_in, n_in, e_out, n_out = _stratified(edits, length, mask, int(n_resamples), rng)
                with np.errstate(invalid="ignore", divide="ignore"):
                    gaps = e_in / n_in - (e_in + e_out) / (n_in + n_out)
                gap_low, gap_high = _percentile(gaps, gap, confidence, "percentile")
            out |= {key: rate, f"{key}_low": low, f"{key}_high": high, f"{key}_gap": gap, f"{key}_gap_low": gap_low,
                    f"{key}_gap_high": gap_high}  # fmt: skip
        return out

    rows.append(row("overall", "all", np.ones(len(refs), dtype=bool)) | {"worst": False})
    for name, labels in groups.items():
        labels = list(labels)
        block = [row(name, v, np.array([x == v for x in labels])) for v in sorted(set(labels), key=str)]
        worst = int(np.nanargmax([r["wer"] for r in block]))
        rows += [r | {"worst": i == worst} for i, r in enumerate(block)]
    return pd.DataFrame(rows)
