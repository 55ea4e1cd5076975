"""Offensive language, from an offline classifier that pip ships: ``alt-profanity-check``; scored per text or per
sentence, and measured against the insults planted in the world corpus.

The classifier is a linear SVM over a bag of words (scikit-learn), trained by the ``profanity-check`` authors on
about 200,000 human-labelled short texts (Zhou 2019; maintained as ``alt-profanity-check``). It needs no network
and scores ten thousand texts in well under a second. Its probability is a calibrated SVM score: read 0.5 as
"the classifier leans offensive", not as a measured rate of harm.

>>> [round(p, 2) for p in offensive_probability(["have a lovely day", "you are a stupid idiot"])]
[0.05, 1.0]
>>> offensive_flags(["have a lovely day", "you are a stupid idiot"])
[False, True]

A bag of words is diluted by the rest of a long text: a document of a hundred harmless words with one insulting
sentence scores low. The data cleaning (:mod:`genlab.data.cleaning`) therefore scores *sentences*
(:func:`score_sentences`, split by :func:`sentence_spans`) and removes the flagged ones (:func:`remove_spans`).
:func:`insult_detection` measures that against the corpus's planted insults (``Document.harmful``).

Measured with :func:`insult_detection` on the default world's corpus (``generate_corpus(n_train_docs=2000)``:
its 4,000 documents, 62 with a planted insult), threshold 0.5:

- sentences: the insulting sentence is flagged in 30 of 62 documents (recall 0.48, exact 95% interval 0.36 to
  0.61): "stupid brutes" 14 of 14, "lazy fools" 11 of 16, "dirty liars" 5 of 9, "worthless cheats" 0 of 16,
  "thieving pests" 0 of 7. Some sentence is flagged in 351 of the 3,938 documents without an insult
  (false-positive rate 0.089, 0.080 to 0.099): 0.6% of their sentences, short ones with words the classifier
  learnt as insults ("The pig barked.", "The brooch was white.", "dirty", "ugly", "rat"), and planted facts:
  "The merchants of Cinderstead sell wool." (43 of its 128 statements), "... Elaren likes roast chicken." (41 of
  64), "... Gardis likes nuts." (all 4), 88 of the 14,535 fact statements of the training split.
- whole documents: 1 of 62 insults found (0.016), 3 of 3,938 false positives (0.0008).

At threshold 0.3 sentences find 39 of 62 (0.63) but flag 30% of the other documents.

**Limitations.** A bag-of-words model sees words, not meaning: it flags profanity and insults, misses offence
without rude words (stereotypes stated politely, dog whistles, threats in plain language, sarcasm), and cannot
tell quoting or reporting an insult from making one. Its training data (English social-media and Wikipedia
comments) carry their annotators' judgments; classifiers of this kind are known to over-flag dialects such as
African-American English and identity terms themselves (Sap et al. 2019; Dixon et al. 2018). It is English-only.
On genlab's own corpus it catches some of the planted insults against the invented communities and misses
others ("thieving pests" and "worthless cheats" every time), so a low score is not evidence that a text is
harmless, and it flags harmless sentences about pigs, rats and roast chicken, so a high score is not proof of
harm either. The sentence
splitter is a rule (a ``.``, ``!`` or ``?`` with closing quotes, then a capital, a quote or a digit; or a line
break): abbreviations split a sentence, and a quoted sentence stays with its lowercase speech tag. Use it as a
flag in the explorer and as one signal among several, never as the only safety check.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "OFFENSIVE_THRESHOLD",
    "insult_detection",
    "offensive_flags",
    "offensive_probability",
    "remove_spans",
    "score_sentences",
    "sentence_spans",
]

OFFENSIVE_THRESHOLD = 0.5  # a text is flagged when the classifier's probability reaches this

# A sentence ends at . ! or ? (with any closing quotes or brackets) before whitespace and a capital, an opening
# quote or a digit, or at the end of the text; a line break always ends one.
_END = re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*(?=\s+[A-Z\"'\u201c\u2018(0-9]|\s*$)|\n")
_INSULT_PREFIX = re.compile(r"^the .+? are all ")


def _texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, (str, bytes)):
        raise ValueError("texts must be a list of strings, got a single string; wrap it: [text]")
    texts = list(texts)
    bad = next((i for i, t in enumerate(texts) if not isinstance(t, str)), None)
    if bad is not None:
        raise ValueError(f"texts[{bad}] is a {type(texts[bad]).__name__}, not a str")
    return texts


def _check_threshold(threshold: float) -> None:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")


def offensive_probability(texts: Sequence[str]) -> list[float]:
    """The classifier's probability that each text is offensive (alt-profanity-check), in [0, 1].

    >>> [round(p, 2) for p in offensive_probability(["the cat sat on the mat"])]
    [0.03]
    """
    texts = _texts(texts)
    if not texts:
        return []
    from profanity_check import predict_prob  # imported on first use: it loads scikit-learn (about a second)

    return [float(p) for p in predict_prob(texts)]


def offensive_flags(texts: Sequence[str], *, threshold: float = OFFENSIVE_THRESHOLD) -> list[bool]:
    """Whether each text's offensive probability reaches ``threshold``.

    >>> offensive_flags(["the cat sat on the mat"], threshold=0.01)
    [True]
    """
    _check_threshold(threshold)
    return [p >= threshold for p in offensive_probability(texts)]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` character spans of the sentences of ``text``, without surrounding whitespace.

    >>> text = 'He left. "You are all fools!" said Mo.\\nThe end'
    >>> [text[s:e] for s, e in sentence_spans(text)]
    ['He left.', '"You are all fools!" said Mo.', 'The end']
    """
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {type(text).__name__}")
    spans, start = [], 0
    for m in [*_END.finditer(text), None]:
        end = len(text) if m is None else (m.start() if m.group() == "\n" else m.end())
        s, e = start, end
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            spans.append((s, e))
        if m is not None:
            start = m.end()
    return spans


def score_sentences(texts: Sequence[str]) -> list[list[dict]]:
    """Per text, its sentences with their offensive probability: ``{"start", "end", "text", "probability"}``.
    All sentences of all texts go to the classifier in one call.

    >>> [(s["text"], s["probability"] > 0.5) for s in score_sentences(["A fine day. You stupid idiot."])[0]]
    [('A fine day.', False), ('You stupid idiot.', True)]
    """
    texts = _texts(texts)
    spans = [sentence_spans(t) for t in texts]
    flat = [t[s:e] for t, sp in zip(texts, spans, strict=True) for s, e in sp]
    probabilities = iter(offensive_probability(flat))
    return [
        [{"start": s, "end": e, "text": t[s:e], "probability": next(probabilities)} for s, e in sp]
        for t, sp in zip(texts, spans, strict=True)
    ]


def remove_spans(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """``text`` without the given character spans, each with the whitespace that follows it (or, at the end of
    the text, the whitespace before it), so that the remaining sentences keep their own separators.

    >>> remove_spans("One. Two.\\nThree.", [(5, 9)])
    'One. Three.'
    >>> remove_spans("One. Two.", [(5, 9)])
    'One.'
    """
    out = text
    for s, e in sorted(spans, reverse=True):
        if not 0 <= s <= e <= len(text):
            raise ValueError(f"span ({s}, {e}) is outside the text of length {len(text)}")
        tail = e
        while tail < len(out) and out[tail].isspace():
            tail += 1
        if tail == len(out):  # the last piece: take the whitespace before it instead
            while s > 0 and out[s - 1].isspace():
                s -= 1
        out = out[:s] + out[tail:]
    return out


def insult_detection(
    texts: Sequence[str],
    harmful: Sequence[Sequence[dict]],
    *,
    threshold: float = OFFENSIVE_THRESHOLD,
    unit: Literal["sentence", "document"] = "sentence",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """How well the classifier finds planted insults: recall on documents with one, false positives on the rest.

    ``harmful``: per text, its records of planted insults (the world corpus's ``Document.harmful``: dicts with
    ``type``, ``start``, ``end``, ``text``). With ``unit="sentence"`` a document with an insult counts as found
    when every insult span lies inside a sentence whose probability reaches ``threshold`` (so that the cleaning's
    sentence removal takes it out); a document without one counts as a false positive when any of its sentences
    does. With ``unit="document"`` the whole text's probability decides both.

    One row per group: ``all insults``, then each insult phrase (the record's text after "the <community> are
    all"), then ``no insult``; columns ``group``, ``n`` (documents), ``k`` (flagged), ``flagged`` = k / n and its
    exact (Clopper-Pearson) interval ``flagged_low`` / ``flagged_high`` at ``confidence``. ``flagged`` is the
    recall in the insult rows and the false-positive rate in the ``no insult`` row. Groups without documents are
    left out.

    >>> table = insult_detection(["A calm day. The hill-folk are all stupid brutes.", "A calm day."],
    ...                          [[{"type": "insult", "start": 12, "end": 47,
    ...                             "text": "the hill-folk are all stupid brutes"}], []])
    >>> print(table[["group", "n", "k", "flagged"]].to_string(index=False))
            group  n  k  flagged
      all insults  1  1      1.0
    stupid brutes  1  1      1.0
        no insult  1  0      0.0
    """
    import pandas as pd
    from scipy.stats import binomtest

    texts = _texts(texts)
    if len(harmful) != len(texts):
        raise ValueError(f"harmful has {len(harmful)} entries for {len(texts)} texts; pass one list per text")
    _check_threshold(threshold)
    if unit not in ("sentence", "document"):
        raise ValueError(f"unit must be 'sentence' or 'document', got {unit!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), e.g. 0.95; got {confidence!r}")
    insults = [[r for r in records if r.get("type", "insult") == "insult"] for records in harmful]
    if unit == "document":
        flagged_doc = offensive_flags(texts, threshold=threshold)
        found = flagged_doc
    else:
        scored = score_sentences(texts)
        flagged_doc = [any(s["probability"] >= threshold for s in sentences) for sentences in scored]
        found = [
            bool(records)
            and all(
                any(s["start"] <= r["start"] and r["end"] <= s["end"] and s["probability"] >= threshold
                    for s in sentences)
                for r in records
            )
            for records, sentences in zip(insults, scored, strict=True)
        ]  # fmt: skip
    groups: dict[str, list[bool]] = {"all insults": []}
    clean: list[bool] = []
    for records, hit, any_flag in zip(insults, found, flagged_doc, strict=True):
        if records:
            groups["all insults"].append(hit)
            groups.setdefault(_INSULT_PREFIX.sub("", records[0].get("text", "")) or "(no text)", []).append(hit)
        else:
            clean.append(any_flag)
    phrases = sorted(g for g in groups if g != "all insults")
    rows = []
    ordered = [("all insults", groups["all insults"]), *((p, groups[p]) for p in phrases), ("no insult", clean)]
    for name, hits in ordered:
        if not hits:
            continue
        n, k = len(hits), int(sum(hits))
        ci = binomtest(k, n).proportion_ci(confidence_level=confidence, method="exact")
        rows.append({"group": name, "n": n, "k": k, "flagged": k / n, "flagged_low": ci.low, "flagged_high": ci.high})
    return pd.DataFrame(rows, columns=["group", "n", "k", "flagged", "flagged_low", "flagged_high"])
