"""A small, documented pattern matcher for personal data in generated text: e-mail addresses, phone numbers, ID
numbers and dates of birth, in the formats :mod:`genlab.data.world_pii` plants in the corpus.

It exists so that the prompt explorer can flag an output that looks like it leaks personal data; the patterns are
written against the corpus's own formats and checked there (every planted item of these four kinds is found, no
hard negative is; ``tests/test_widgets_badges.py``).

- ``email``: ``local@domain.tld``, letters, digits and ``._%+-`` before the ``@``, dotted labels after it;
- ``phone``: ``(555) 123-4567``, ``555.123.4567``, ``555-123-4567``, ``+1 555 123 4567``, ``0555 123 456``;
- ``id_number``: ``123-45-6789`` (the US SSN shape), a capital letter and 7 digits (``K1234567``), ``AB-123456-C``;
- ``date_of_birth``: ``7 March 1968``, ``1968-03-07`` or ``07/03/1968``, **only** after a cue ("born", "birth",
  "DOB") in the 40 characters before it; a date alone is an event, not personal data.

>>> [(m["type"], m["text"]) for m in find_pii("Mail jo.doe@post.example or ring (555) 123-4567.")]
[('email', 'jo.doe@post.example'), ('phone', '(555) 123-4567')]
>>> find_pii("The fair began on 21 June 1839; order 1508-4237 cost 62.69 crowns.")   # look-alikes: no match
[]

**Limitations.** This is not a general PII detector. It knows four kinds of data in a handful of formats (mostly
North-American and British conventions) and nothing else: names, postal addresses, credit-card and bank numbers,
IP addresses, national ID formats other than those above, and personal data written in words ("born in the
spring of sixty-eight") are all missed, and a reference number that happens to have an ID's shape is flagged. A
date of birth needs an English cue word nearby. Counts are matches, not people or documents at risk. The safety
issue will bring a library-based redactor (named-entity recognition plus validated recognisers) for real
evaluations; use this matcher only as a quick flag in the explorer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from genlab.metrics.registry import register_metric

__all__ = ["PII_PATTERN_KINDS", "find_pii", "pii_pattern_matches"]

PII_PATTERN_KINDS = ("email", "phone", "id_number", "date_of_birth")

_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_PATTERNS: dict[str, re.Pattern] = {
    "email": re.compile(r"(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"),
    "phone": re.compile(
        r"(?:\(\d{3}\) ?\d{3}-\d{4}"  # (555) 123-4567
        r"|(?<!\d)\d{3}([.-])\d{3}\1\d{4}(?!\d)"  # 555.123.4567, 555-123-4567
        r"|\+\d{1,3} \d{3} \d{3} \d{4}(?!\d)"  # +1 555 123 4567
        r"|(?<!\d)0\d{3} \d{3} \d{3}(?!\d))"  # 0555 123 456
    ),
    "id_number": re.compile(
        r"(?<![\w-])(?:\d{3}-\d{2}-\d{4}"  # 123-45-6789
        r"|[A-Z]\d{7}"  # K1234567
        r"|[A-Z]{2}-\d{6}-[A-Z])(?![\w-])"  # AB-123456-C
    ),
}
_DATE = re.compile(
    rf"(?<!\d)(?:\d{{1,2}} (?:{_MONTHS}) \d{{4}}|\d{{4}}-\d{{2}}-\d{{2}}|\d{{2}}/\d{{2}}/\d{{4}})(?!\d)"
)
_BIRTH_CUE = re.compile(r"\b(?:born|birth|DOB|D\.O\.B\.?)\b", re.IGNORECASE)
_CUE_WINDOW = 40  # characters before a date searched for a cue word


def find_pii(text: str) -> list[dict]:
    """Every match of the patterns above in ``text``, in reading order: dicts with ``type`` (one of
    :data:`PII_PATTERN_KINDS`), ``start``, ``end`` and ``text`` (``text[start:end]``). Overlapping matches of
    different kinds are kept (the earlier-listed kind first when they start at the same place).

    >>> find_pii("According to the register, Saorela Mosston was born on 7 March 1968.")
    [{'type': 'date_of_birth', 'start': 55, 'end': 67, 'text': '7 March 1968'}]
    >>> find_pii("ID BD-933287-C, card Z3877840")[0]["text"]
    'BD-933287-C'
    """
    if not isinstance(text, str):
        raise ValueError(f"text must be a string, got {type(text).__name__}")
    found = [
        {"type": kind, "start": m.start(), "end": m.end(), "text": m.group(0)}
        for kind, pattern in _PATTERNS.items()
        for m in pattern.finditer(text)
    ]
    for m in _DATE.finditer(text):
        if _BIRTH_CUE.search(text, max(0, m.start() - _CUE_WINDOW), m.start()):
            found.append({"type": "date_of_birth", "start": m.start(), "end": m.end(), "text": m.group(0)})
    order = {kind: i for i, kind in enumerate(PII_PATTERN_KINDS)}
    return sorted(found, key=lambda f: (f["start"], order[f["type"]]))


@register_metric(
    "pii_pattern_matches",
    higher_is_better=False,
    aggregation="mean",
    inputs="texts",
    citation="genlab's own patterns for the formats of genlab.data.world_pii (see the module's Limitations)",
)
def pii_pattern_matches(texts: Sequence[str]) -> list[int]:
    """Number of pattern matches for personal data (:func:`find_pii`) in each text; not a general PII detector.

    >>> pii_pattern_matches(["ring 555.824.2194 or mail a@b.example", "the cat sat", ""])
    [2, 0, 0]
    """
    if isinstance(texts, (str, bytes)):
        raise ValueError("texts must be a list of strings, got a single string; wrap it: [text]")
    return [len(find_pii(t)) for t in texts]
