"""Personal data in text, as metrics: a per-text count of pattern matches for the prompt explorer, and the scores of
a PII recogniser against the corpus's planted truth.

The recognisers and the matcher live in :mod:`genlab.data.pii`; :func:`find_pii` and :data:`PII_PATTERN_KINDS`
are re-exported here for the prompt explorer.

- ``pii_pattern_matches``: how many matches :func:`find_pii` finds in each text (e-mail addresses, phone numbers, ID
  numbers and cued dates of birth in the formats :mod:`genlab.worlds.text_pii` plants; every planted item of these
  four kinds is found and no hard negative is, ``tests/test_widgets_badges.py``);
- ``pii_span_scores``: recall, coverage and precision of predicted spans against planted spans, per type, and how
  many hard negatives (prices, counts, event dates, reference numbers, the 555 prefix) are flagged, each with its
  exact binomial interval; ``pii_recogniser_scores`` runs several recognisers on the same texts and stacks their
  tables, and ``pii_comparison`` lays one measure out side by side.

>>> [(m["type"], m["text"]) for m in find_pii("Mail jo.doe@post.example or ring (555) 123-4567.")]
[('email', 'jo.doe@post.example'), ('phone', '(555) 123-4567')]
>>> find_pii("The fair began on 21 June 1839; order 1508-4237 cost 62.69 crowns.")   # look-alikes: no match
[]

**Limitations.** The pattern matcher is not a general PII detector. It knows four kinds of data in a handful of
formats (mostly North-American and British conventions) and nothing else: names, postal addresses, credit-card and
bank numbers, IP addresses, national ID formats other than those above, and personal data written in words ("born
in the spring of sixty-eight") are all missed, and a reference number that happens to have an ID's shape is
flagged. A date of birth needs an English cue word nearby. Counts are matches, not people or documents at risk.
For real evaluations use the library-based redactor of :mod:`genlab.data.pii` (Presidio's named-entity recognition
plus validated recognisers, or scrubadub) and measure it with ``pii_span_scores``; its scores on genlab's synthetic
personal data, which comes in a few fixed formats, are an upper bound for real text (see that module's
Limitations), and an overlap rule counts an item as found even when part of it would stay in the redacted text
(the ``covered`` measure says how often all of it goes).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from genlab.data.pii import GENLAB_PII_TYPES, PII_PATTERN_KINDS, RECOGNISERS, detect, find_pii
from genlab.stats import exact_binomial_ci

__all__ = [
    "PII_PATTERN_KINDS",
    "PII_SCORE_MEASURES",
    "find_pii",
    "pii_comparison",
    "pii_pattern_matches",
    "pii_recogniser_scores",
    "pii_span_scores",
]

PII_SCORE_MEASURES = ("recall", "recall_any_type", "covered", "precision", "precision_any_type", "negatives_flagged")


def pii_pattern_matches(texts: Sequence[str]) -> list[int]:
    """Number of pattern matches for personal data (:func:`find_pii`) in each text; not a general PII detector.

    >>> pii_pattern_matches(["ring 555.824.2194 or mail a@b.example", "the cat sat", ""])
    [2, 0, 0]
    """
    if isinstance(texts, (str, bytes)):
        raise ValueError("texts must be a list of strings, got a single string; wrap it: [text]")
    return [len(find_pii(t)) for t in texts]


def _overlaps(a: dict, b: dict) -> bool:
    return a["start"] < b["end"] and b["start"] < a["end"]


def _spans_per_text(spans: Sequence[Sequence[dict]], name: str, n_texts: int) -> list[list[dict]]:
    if isinstance(spans, (str, dict)) or len(spans) != n_texts:
        raise ValueError(
            f"{name} must be one list of spans per text ({n_texts} lists), got {type(spans).__name__}"
            + ("" if isinstance(spans, (str, dict)) else f" of length {len(spans)}")
        )
    out = []
    for i, per_text in enumerate(spans):
        for s in per_text:
            if not (
                isinstance(s, dict)
                and isinstance(s.get("type"), str)
                and isinstance(s.get("start"), int)
                and isinstance(s.get("end"), int)
                and s["start"] < s["end"]
            ):
                raise ValueError(
                    f"{name}[{i}] holds {s!r}; each span is a dict with 'type' (str) and integer 'start' < 'end'"
                )
        out.append(list(per_text))
    return out


def pii_span_scores(
    predicted: Sequence[Sequence[dict]],
    truth: Sequence[Sequence[dict]],
    negatives: Sequence[Sequence[dict]] | None = None,
    *,
    recogniser: str = "",  # the name written in the table's first column
    confidence: float = 0.95,
) -> pd.DataFrame:
    """How well predicted spans find planted personal data, per type, with Clopper-Pearson intervals.

    All three arguments hold one list of spans (dicts with ``type``, ``start``, ``end``) per text, with
    ``[start, end)`` character positions. Two spans *overlap* when they share a character. The measures, each a
    rate ``k / n`` per ``type`` and pooled over types (``"all"``):

    - ``recall``: planted items (``n``) overlapped by a predicted span of the same type (``k``);
    - ``recall_any_type``: planted items overlapped by a predicted span of any type;
    - ``covered``: planted items every character of which lies inside predicted spans (of any type), that is,
      items a redaction would remove entirely;
    - ``precision``: predicted spans of a genlab type (``n``) that overlap a planted item of their type (``k``);
      the pooled row counts predictions of type ``other`` as wrong;
    - ``precision_any_type``: predicted spans, ``other`` included, that overlap a planted item of any type;
    - ``negatives_flagged``: hard negatives (``negatives``, per negative type) overlapped by any predicted span.
      Lower is better; these are also counted in ``precision`` as wrong predictions.

    Columns: ``recogniser``, ``measure``, ``type``, ``n``, ``k``, ``rate``, ``rate_low``, ``rate_high`` (the exact
    interval at ``confidence``, :func:`genlab.stats.exact_binomial_ci`; ``rate`` and its interval are NaN
    when ``n`` is 0, e.g. the precision of a type never predicted). Every genlab type has a row for every measure
    but ``negatives_flagged``; ``other`` appears when something was predicted as it.

    >>> truth = [[{"type": "phone", "start": 5, "end": 19}], [{"type": "email", "start": 0, "end": 12}]]
    >>> pred = [[{"type": "phone", "start": 5, "end": 12}], [{"type": "other", "start": 3, "end": 8}]]
    >>> negs = [[], [{"type": "price", "start": 20, "end": 31}]]
    >>> t = pii_span_scores(pred, truth, negs, recogniser="demo")
    >>> print(t[t["type"] == "all"][["measure", "n", "k", "rate"]].to_string(index=False))
               measure  n  k  rate
                recall  2  1   0.5
       recall_any_type  2  2   1.0
               covered  2  0   0.0
             precision  2  1   0.5
    precision_any_type  2  2   1.0
     negatives_flagged  1  0   0.0
    """
    if isinstance(predicted, str) or not hasattr(predicted, "__len__"):
        raise ValueError(f"predicted must be one list of spans per text, got {type(predicted).__name__}")
    n_texts = len(predicted)
    predicted = _spans_per_text(predicted, "predicted", n_texts)
    truth = _spans_per_text(truth, "truth", n_texts)
    negatives = _spans_per_text(negatives if negatives is not None else [[] for _ in predicted], "negatives", n_texts)

    items = []  # one row per planted item, predicted span or negative: (measure, type, success)
    for pred, true, negs in zip(predicted, truth, negatives, strict=True):
        for t in true:
            hits = [p for p in pred if _overlaps(p, t)]
            covered = set()
            for p in hits:
                covered.update(range(max(p["start"], t["start"]), min(p["end"], t["end"])))
            items += [
                ("recall", t["type"], any(p["type"] == t["type"] for p in hits)),
                ("recall_any_type", t["type"], bool(hits)),
                ("covered", t["type"], len(covered) == t["end"] - t["start"]),
            ]
        for p in pred:
            hits = [t for t in true if _overlaps(p, t)]
            items.append(("precision", p["type"], any(t["type"] == p["type"] for t in hits)))
            items.append(("precision_any_type", p["type"], bool(hits)))
        for g in negs:
            items.append(("negatives_flagged", g["type"], any(_overlaps(p, g) for p in pred)))
    frame = pd.DataFrame(items, columns=["measure", "type", "success"])

    rows = []
    for measure in PII_SCORE_MEASURES:
        part = frame[frame["measure"] == measure]
        present = list(dict.fromkeys(sorted(part["type"])))
        types = (
            present
            if measure == "negatives_flagged"
            else [*GENLAB_PII_TYPES, *(t for t in present if t not in GENLAB_PII_TYPES)]
        )
        for typ in [*types, "all"]:
            group = part if typ == "all" else part[part["type"] == typ]
            if measure == "precision" and typ == "other":
                continue  # "other" is never a planted type: its predictions count as wrong in the pooled row
            n, k = len(group), int(group["success"].sum())
            if n:
                ci = exact_binomial_ci(k, n, confidence)
                rows.append((recogniser, measure, typ, n, k, ci.estimate, ci.low, ci.high))
            else:
                rows.append((recogniser, measure, typ, 0, 0, float("nan"), float("nan"), float("nan")))
    return pd.DataFrame(rows, columns=["recogniser", "measure", "type", "n", "k", "rate", "rate_low", "rate_high"])


def pii_recogniser_scores(
    texts: Sequence[str],
    truth: Sequence[Sequence[dict]],
    negatives: Sequence[Sequence[dict]] | None = None,
    recognisers: Sequence[str] = tuple(RECOGNISERS),  # names or "+" combinations, e.g. ("patterns+presidio",)
    *,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """:func:`pii_span_scores` of each recogniser (:func:`genlab.data.pii.detect`, merged spans) on the same
    texts, stacked into one table. With a genlab corpus: ``s = labelled_sentences(corpus)`` (leave out the
    ``"canary"`` sentences), then ``pii_recogniser_scores([x["text"] for x in s], [x["pii"] for x in s],
    [x["negatives"] for x in s])``.

    >>> texts = ["Ring Ama on 555.123.4567 today.", "The fair began on 7 March 1868."]
    >>> truth = [[{"type": "phone", "start": 12, "end": 24}], []]
    >>> negs = [[], [{"type": "event_date", "start": 18, "end": 30}]]
    >>> t = pii_recogniser_scores(texts, truth, negs, recognisers=["patterns"])
    >>> print(t.query("measure == 'recall' and n > 0")[["recogniser", "type", "n", "k", "rate"]].to_string(index=False))
    recogniser  type  n  k  rate
      patterns phone  1  1   1.0
      patterns   all  1  1   1.0
    """
    if isinstance(recognisers, str):
        recognisers = [recognisers]
    if not recognisers:
        raise ValueError(f"name at least one recogniser, e.g. recognisers={tuple(RECOGNISERS)}")
    tables = [
        pii_span_scores(detect(texts, name), truth, negatives, recogniser=name, confidence=confidence)
        for name in recognisers
    ]
    return pd.concat(tables, ignore_index=True)


def pii_comparison(scores: pd.DataFrame, measure: str = "recall") -> pd.DataFrame:
    """One measure of a :func:`pii_recogniser_scores` table, types down and recognisers across, as
    ``"rate [low, high] (k/n)"`` strings, so what each recogniser misses is visible at a glance.

    >>> truth = [[{"type": "phone", "start": 0, "end": 12}]]
    >>> t = pii_span_scores([[{"type": "phone", "start": 0, "end": 12}]], truth, recogniser="a")
    >>> pii_comparison(t).loc["phone", "a"]
    '1.00 [0.03, 1.00] (1/1)'
    """
    if measure not in PII_SCORE_MEASURES:
        raise ValueError(f"unknown measure {measure!r}; choose one of {PII_SCORE_MEASURES}")
    part = scores[scores["measure"] == measure]
    cell = part.apply(
        lambda r: (
            "-" if r["n"] == 0 else f"{r['rate']:.2f} [{r['rate_low']:.2f}, {r['rate_high']:.2f}] ({r['k']}/{r['n']})"
        ),
        axis=1,
    )
    table = part.assign(cell=cell).pivot(index="type", columns="recogniser", values="cell")
    order = list(dict.fromkeys(part["type"]))
    return table.loc[order, list(dict.fromkeys(part["recogniser"]))].rename_axis(columns=None)
