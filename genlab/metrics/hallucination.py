"""Hallucination rate of free text against the genlab world: contradicted claims / all claims.

Every planted fact is a (subject, relation, object) triple (``genlab.worlds.text_spec``), so the world is its own
answer key. :func:`extract_claims` finds statements that match a relation template about a known subject;
:func:`hallucination_rate` = contradicted claims / all claims, the complement of the "supported atomic facts"
precision of FActScore (Min et al. 2023, EMNLP), with the world as knowledge source. It scores texts a model wrote
(or any texts) and runs no model; the cloze probes of the same knowledge are :mod:`genlab.probes.cloze`.

>>> from genlab.worlds.text import small_world
>>> hallucination_rate(["Guntha lives in Willowby. By trade, Guntha is a baker."], small_world()).overall
0.5

**Limitations.** Claims are found by template matching, not by understanding. A claim is a sentence part that
matches one of the 28 relation templates (or the variants listed in ``extract_claims``) with a world person
(person relations) or town (place relations) named in full as its subject. Missed: pronouns and other
co-reference ("She lives in Willowby"), possessives ("Guntha's pet is a kitten"), paraphrases outside the
templates ("Guntha is a dancer", "Guntha's home town"), negation and hedging ("Guntha does not live in X" is
missed, "Guntha lives in X no more" is counted as a claim), second objects of a coordination ("lives in A and
B" claims A only), claims about minor characters or names the world does not know. Counted although they may
not be assertions: statements inside quoted speech, questions that happen to match a template. An object that
is not a valid object of its relation (not a town for ``lives_in``, not an occupation for ``works_as``, ...) is
counted as a contradiction and flagged ``invalid_object``; so "Guntha lives in the north of Willowby" counts
as a contradiction. Case and a/an agreement are ignored. The rate is only as good as this coverage: report the
number of claims next to it.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from genlab.stats import rate_table
from genlab.worlds.text_spec import PERSON_RELATIONS, RELATION_TEMPLATES, Fact, World

__all__ = [
    "CLAIM_COLUMNS",
    "HallucinationRate",
    "extract_claims",
    "hallucination_rate",
    "relation_objects",
    "valid_objects",
]

# The lexicon list that holds the valid objects of each relation (``lives_in``: the world's towns).
RELATION_LEXICON = {
    "works_as": "occupations",
    "has_pet": "animals",
    "favourite_food": "foods",
    "landmark": "landmarks",
    "river": "river_names",
    "trades_in": "goods",
}


def relation_objects(world: World, relation: str) -> tuple[str, ...]:
    """The distinct objects of ``relation`` among the world's facts, sorted: the candidate set of its probes.

    >>> from genlab.worlds.text import small_world
    >>> relation_objects(small_world(), "lives_in")
    ('Nettlemouth', 'Willowby', 'Yarrowholm')
    """
    if relation not in RELATION_TEMPLATES:
        raise ValueError(f"unknown relation {relation!r}; choose one of {sorted(RELATION_TEMPLATES)}")
    return tuple(sorted({f.object for f in world.facts if f.relation == relation}))


def valid_objects(world: World, relation: str) -> tuple[str, ...]:
    """Every object the world allows for ``relation``: the lexicon's list (towns for ``lives_in``) plus the
    objects of its facts. A claimed object outside this set is flagged ``invalid_object``.

    >>> from genlab.worlds.text import small_world
    >>> "seal" in valid_objects(small_world(), "has_pet"), "Willowby" in valid_objects(small_world(), "has_pet")
    (True, False)
    """
    objects = set(relation_objects(world, relation))
    if relation == "lives_in":
        objects |= {p.name for p in world.places}
    else:
        objects |= set(world.lexicon.get(RELATION_LEXICON[relation], ()) if world.lexicon else ())
    return tuple(sorted(objects))


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


# Template verbs and their simple past: "Gunka lived in Cinderfold" is a claim too.
PAST_TENSE = {
    "lives": "lived",
    "has": "had",
    "is": "was",
    "works": "worked",
    "keeps": "kept",
    "loves": "loved",
    "likes": "liked",
    "knows": "knew",
    "lies": "lay",
    "stands": "stood",
    "sail": "sailed",
    "come": "came",
    "trades": "traded",
    "sell": "sold",
}
_END = r"""[.,;:!?"\n]"""  # what ends an object: sentence or clause punctuation, a quote, a line break


def _template_regex(template: str, subjects: Sequence[str]) -> re.Pattern:
    """A template as a case-insensitive regex: {s} one of ``subjects``, {o} / {a_o} an object phrase."""
    names = "|".join(re.escape(s) for s in sorted(subjects, key=len, reverse=True))
    parts = []
    for piece in re.split(r"(\{s\}|\{a_o\}|\{o\}|\s+)", template.rstrip(".")):
        if not piece:
            continue
        if piece == "{s}":
            parts.append(rf"(?<![\w'-])(?P<s>{names})(?![\w'-])")
        elif piece == "{a_o}":  # the article belongs to the template: required, a/an agreement not checked
            parts.append(rf"\b(?:an?)\s+(?P<o>[^\s{_END[1:-1]}][^{_END[1:-1]}]*)")
        elif piece == "{o}":  # a leading determiner is dropped ("the river the Alder", "loves to eat some bread")
            parts.append(rf"(?:(?:an?|the|some)\s+)?(?P<o>[^\s{_END[1:-1]}][^{_END[1:-1]}]*)")
        elif piece.isspace():
            parts.append(r"\s+")
        elif piece in PAST_TENSE:
            parts.append(rf"\b(?:{piece}|{PAST_TENSE[piece]})\b")
        else:
            parts.append(re.escape(piece))
    return re.compile("".join(parts), re.IGNORECASE)


@dataclass(frozen=True)
class _Extractor:
    patterns: tuple[tuple[str, int, re.Pattern, tuple[str, ...]], ...]  # (relation, template, regex, clues)
    facts: dict[tuple[str, str], Fact]  # (subject lower-cased, relation) -> fact
    objects: dict[str, tuple[str, ...]]  # relation -> valid objects, longest first


def _clues(template: str) -> tuple[str, ...]:
    """Lower-case strings every match of ``template`` contains (a verb contributes the start its two forms
    share), so a text lacking one is skipped without running the regex: a 10-20x speed-up on stories."""
    words = re.sub(r"\{s\}|\{a_o\}|\{o\}|[^\w\s]", " ", template).lower().split()
    return tuple(os.path.commonprefix([w, PAST_TENSE[w]]) if w in PAST_TENSE else w for w in words)


def _extractor(world: World) -> _Extractor:
    people, places = [p.name for p in world.people], [p.name for p in world.places]
    patterns = tuple(
        (rel, i, _template_regex(t, people if rel in PERSON_RELATIONS else places), _clues(t))
        for rel, templates in RELATION_TEMPLATES.items()
        for i, t in enumerate(templates)
    )
    facts = {(f.subject.lower(), f.relation): f for f in world.facts}
    objects = {rel: tuple(sorted(valid_objects(world, rel), key=len, reverse=True)) for rel in RELATION_TEMPLATES}
    return _Extractor(patterns, facts, objects)


def _canonical_object(phrase: str, objects: Sequence[str]) -> str | None:
    """The longest valid object that ``phrase`` starts with at a word boundary, or None."""
    p = _norm(phrase)
    for obj in objects:
        o = obj.lower()
        if p.startswith(o) and not re.match(r"[\w'-]", p[len(o) : len(o) + 1]):
            return obj
    return None


CLAIM_COLUMNS = [
    "text_id",
    "subject",
    "relation",
    "claimed_object",
    "true_object",
    "supported",
    "invalid_object",
    "count",
    "fact_id",
    "template",
    "start",
    "end",
    "match",
]


def extract_claims(texts: Sequence[str] | Mapping[str, str], world: World) -> pd.DataFrame:
    """Statements in ``texts`` that match a relation template about a world subject, checked against the world.

    A claim is a match of one of the relation templates in ``RELATION_TEMPLATES`` with these variants:
    any case; any run of whitespace between words; each template verb in its present or simple past form
    ("lived in", "was known for"); the object ends at . , ; : ! ? " a line break or the end of the text, and
    when that phrase continues after a valid object ("Cinderfold with her dog") the longest valid object it
    starts with is the claim; in templates without an article, a leading a / an / the / some is dropped; in
    templates with one (``works_as``), an article is required, "a" and "an" alike. The subject must be a world
    person (person relations) or town (place relations), named in full. Overlapping matches keep the earliest.

    Columns: ``text_id`` (the position, or the key when ``texts`` is a mapping), ``subject``, ``relation``,
    ``claimed_object`` (the canonical object, or the phrase as written when it is not a valid object),
    ``true_object``, ``supported``, ``invalid_object``, ``count`` (training documents stating the true fact),
    ``fact_id``, ``template`` (which template matched), ``start`` / ``end`` / ``match`` (the matched span).

    >>> from genlab.worlds.text import small_world
    >>> texts = ["Guntha lives in Willowby. By trade, Guntha is a baker.",
    ...          "Luela had a little house in Yarrowholm with a falcon. She lives in Nettlemouth.",
    ...          "The pet of Tyrmir is a teapot."]
    >>> df = extract_claims(texts, small_world())
    >>> cols = ["text_id", "relation", "claimed_object", "true_object", "supported", "invalid_object"]
    >>> print(df[cols].to_string(index=False))
     text_id relation claimed_object true_object  supported  invalid_object
           0 lives_in       Willowby    Willowby       True           False
           0 works_as          baker      dancer      False           False
           1 lives_in     Yarrowholm  Yarrowholm       True           False
           2  has_pet         teapot       sheep      False            True
    """
    items = list(texts.items()) if isinstance(texts, Mapping) else list(enumerate(texts))
    if any(not isinstance(t, str) for _, t in items):
        raise ValueError("texts must be strings (or a mapping of id -> string)")
    ex = _extractor(world)
    rows = []
    for text_id, text in items:
        found = []
        low = text.lower()
        for rel, t, pattern, clues in ex.patterns:
            if not all(c in low for c in clues):
                continue
            for m in pattern.finditer(text):
                found.append((m.start(), -(m.end()), rel, t, m))
        last_end = -1
        for start, neg_end, rel, t, m in sorted(found, key=lambda x: (x[0], x[1])):
            if start < last_end:  # overlaps a claim already taken
                continue
            last_end = -neg_end
            fact = ex.facts[(m.group("s").lower(), rel)]
            phrase = m.group("o").strip()
            obj = _canonical_object(phrase, ex.objects[rel])
            end = m.start("o") + len(obj) if obj is not None else m.end()
            rows.append(
                {
                    "text_id": text_id,
                    "subject": fact.subject,
                    "relation": rel,
                    "claimed_object": obj if obj is not None else _norm(phrase),
                    "true_object": fact.object,
                    "supported": obj is not None and obj.lower() == fact.object.lower(),
                    "invalid_object": obj is None,
                    "count": fact.count,
                    "fact_id": fact.id,
                    "template": t,
                    "start": start,
                    "end": end,
                    "match": text[start:end],
                }
            )
    return pd.DataFrame(rows, columns=CLAIM_COLUMNS)


@dataclass
class HallucinationRate:
    """Contradicted claims / all claims, overall, per text and by the training count of the claimed fact."""

    overall: float  # nan when no text makes a claim
    n_claims: int
    n_contradicted: int
    per_text: pd.DataFrame  # text_id, n_claims, n_contradicted, rate (nan for a text without claims)
    by_count: pd.DataFrame  # count, n (claims), k (contradicted), rate, rate_low, rate_high (Clopper-Pearson)
    claims: pd.DataFrame  # the rows of extract_claims

    def __float__(self) -> float:
        return self.overall


def hallucination_rate(
    texts: Sequence[str] | Mapping[str, str], world: World, confidence: float = 0.95
) -> HallucinationRate:
    """Share of template claims about world subjects that the world contradicts (what is a claim: ``extract_claims``).

    >>> from genlab.worlds.text import small_world
    >>> r = hallucination_rate(["Corowen lives in Nettlemouth. Corowen has a pet cat.", "A quiet day."], small_world())
    >>> r.overall, r.n_claims, r.per_text["rate"].tolist()
    (0.5, 2, [0.5, nan])
    >>> print(r.by_count[["count", "n", "k", "rate"]].to_string(index=False))
     count  n  k  rate
         1         1               0   0.0
         2         1               1   1.0
    """
    claims = extract_claims(texts, world)
    ids = list(texts.keys()) if isinstance(texts, Mapping) else list(range(len(texts)))
    contradicted = ~claims["supported"].astype(bool)
    per = pd.DataFrame({"text_id": ids})
    counts = (
        claims.assign(contra=contradicted)
        .groupby("text_id")
        .agg(n_claims=("supported", "size"), n_contradicted=("contra", "sum"))
    )
    per = per.merge(counts, left_on="text_id", right_index=True, how="left")
    per = per.fillna({"n_claims": 0, "n_contradicted": 0})
    per = per.astype({"n_claims": int, "n_contradicted": int})
    per["rate"] = np.where(per["n_claims"] > 0, per["n_contradicted"] / per["n_claims"].clip(lower=1), np.nan)
    by_count = rate_table(
        claims.assign(contradicted=contradicted), "contradicted", "count", name="rate", confidence=confidence
    ).astype({"count": int})
    n, k = len(claims), int(contradicted.sum())
    return HallucinationRate(
        overall=k / n if n else math.nan, n_claims=n, n_contradicted=k, per_text=per, by_count=by_count, claims=claims
    )
