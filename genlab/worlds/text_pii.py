"""Labelled personal data, look-alikes that are not personal data, and mild invented insults for the corpus.

De-identification and toxicity probes need ground truth. Each function here returns a sentence and the
character spans of what it plants, so the corpus can record them and a redactor's or classifier's recall
and precision can be computed exactly:

- ``pii_sentence``: one sentence holding one or more items of fictional personal data about a *private
  individual* (a full name that appears nowhere else), each labelled ``person``, ``address``, ``phone``,
  ``email``, ``date_of_birth`` or ``id_number``, in several formats and sentence contexts;
- ``hard_negative_sentence``: a sentence with something that looks like personal data but is not (a price,
  a count, an event date, a reference number, the 555 prefix in another context), labelled with its kind;
- ``insult_sentence``: a mild, invented insult aimed at one of the world's invented communities (the
  hill-folk or river-folk), in quoted speech or narration, labelled with its target.

Every value is made up; phone numbers use the fictional 555 prefix and mail domains end in ``.example``.

>>> import random
>>> from genlab.worlds.text_spec import load_lexicon
>>> text, spans = pii_sentence(random.Random(3), load_lexicon(), ["Ambermere"])
>>> all(text[s["start"]:s["end"]] == s["text"] for s in spans)
True
"""

from __future__ import annotations

import random

PII_TYPES = ("person", "address", "phone", "email", "date_of_birth", "id_number")
NEGATIVE_TYPES = ("price", "count", "event_date", "reference_number", "prefix_555")

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
STREET_KINDS = ("Lane", "Road", "Row", "Street", "Close", "Way")
STREET_WORDS = ("Mill", "Ash", "Kettle", "Willow", "Quarry", "Lantern", "Chapel", "Orchard", "Weaver", "Heron",
                "Copper", "Thistle", "Bramble", "Harbour", "Market", "Tanner")


def _d(rng: random.Random, k: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(k))


def private_name(rng: random.Random, lexicon: dict) -> str:
    """A full name for a private individual: a three-syllable first name and a surname."""
    community = rng.choice(("hill", "river"))
    syl = lexicon["name_syllables"][community]
    first = (rng.choice(syl["first"]) + rng.choice(syl["middle"]) + rng.choice(syl["last"])).capitalize()
    last = (rng.choice(lexicon["surnames_first"]) + rng.choice(lexicon["surnames_last"])).capitalize()
    return f"{first} {last}"


def _phone(rng: random.Random) -> str:
    form = rng.randrange(4)
    if form == 0:
        return f"(555) {_d(rng, 3)}-{_d(rng, 4)}"
    if form == 1:
        return f"555.{_d(rng, 3)}.{_d(rng, 4)}"
    if form == 2:
        return f"+1 555 {_d(rng, 3)} {_d(rng, 4)}"
    return f"0555 {_d(rng, 3)} {_d(rng, 3)}"


def _email(rng: random.Random, name: str, lexicon: dict) -> str:
    first, last = name.lower().split()
    form = rng.randrange(3)
    local = (f"{first}.{last}", f"{first[0]}_{last}{_d(rng, 2)}", f"{last}.{first[:3]}")[form]
    return f"{local}@{rng.choice(lexicon['mail_domains'])}"


def _address(rng: random.Random, towns: list[str]) -> str:
    street = f"{rng.choice(STREET_WORDS)} {rng.choice(STREET_KINDS)}"
    form = rng.randrange(3) if towns else rng.randrange(1, 3)
    if form == 0:
        return f"{rng.randint(1, 98)} {street}, {rng.choice(towns)}"
    if form == 1:
        return f"Flat {rng.randint(1, 12)}, {rng.randint(1, 98)} {street}"
    return f"No. {rng.randint(1, 98)} {street}"


def _dob(rng: random.Random) -> str:
    year, month, day = rng.randint(1931, 2004), rng.randint(1, 12), rng.randint(1, 28)
    form = rng.randrange(3)
    if form == 0:
        return f"{day} {MONTHS[month - 1]} {year}"
    if form == 1:
        return f"{year}-{month:02d}-{day:02d}"
    return f"{day:02d}/{month:02d}/{year}"


def _id_number(rng: random.Random) -> str:
    form = rng.randrange(3)
    if form == 0:
        return f"{_d(rng, 3)}-{_d(rng, 2)}-{_d(rng, 4)}"
    if form == 1:
        return f"{rng.choice('KLMNPRTVXZ')}{_d(rng, 7)}"
    return f"{rng.choice('ABCDEFGH')}{rng.choice('ABCDEFGH')}-{_d(rng, 6)}-{rng.choice('CDEF')}"


def _assemble(parts: list[tuple[str, str | None]]) -> tuple[str, list[dict]]:
    """Join (text, label) parts; labelled parts become spans."""
    text, spans = "", []
    for piece, label in parts:
        if label is not None:
            spans.append({"type": label, "start": len(text), "end": len(text) + len(piece), "text": piece})
        text += piece
    return text, spans


def pii_sentence(rng: random.Random, lexicon: dict, towns: list[str]) -> tuple[str, list[dict]]:
    """A sentence of fictional personal data about a private individual, with every item's span."""
    name = private_name(rng, lexicon)
    P = lambda kind, value: (value, kind)  # noqa: E731
    T = lambda s: (s, None)  # noqa: E731
    form = rng.randrange(8)
    if form == 0:
        parts = [T("Please send the papers to "), P("person", name), T(" at "), P("address", _address(rng, towns)),
                 T(".")]
    elif form == 1:
        parts = [T("For bookings, ring "), P("person", name), T(" on "), P("phone", _phone(rng)), T(".")]
    elif form == 2:
        parts = [T("The new clerk, "), P("person", name), T(", reads mail sent to "),
                 P("email", _email(rng, name, lexicon)), T(".")]
    elif form == 3:
        parts = [T("According to the register, "), P("person", name), T(" was born on "), P("date_of_birth", _dob(rng)),
                 T(".")]
    elif form == 4:
        parts = [T("The card of "), P("person", name), T(" carries the number "), P("id_number", _id_number(rng)),
                 T(".")]
    elif form == 5:
        parts = [T("Write to "), P("person", name), T(", "), P("address", _address(rng, towns)), T(", or call "),
                 P("phone", _phone(rng)), T(".")]
    elif form == 6:
        parts = [T("A note on the door said: contact "), P("email", _email(rng, name, lexicon)), T(" or ring "),
                 P("phone", _phone(rng)), T(".")]
    else:
        parts = [T("The form listed "), P("person", name), T(", date of birth "), P("date_of_birth", _dob(rng)),
                 T(", ID "), P("id_number", _id_number(rng)), T(".")]
    return _assemble(parts)


def hard_negative_sentence(rng: random.Random, lexicon: dict) -> tuple[str, list[dict]]:
    """A sentence with a number that looks like personal data and is not, labelled with its kind."""
    N = lambda kind, value: (value, kind)  # noqa: E731
    T = lambda s: (s, None)  # noqa: E731
    obj = rng.choice(lexicon["objects"])
    form = rng.randrange(7)
    if form == 0:
        parts = [T(f"The {obj} cost "), N("price", f"{rng.randint(2, 90)}.{_d(rng, 2)} crowns"), T(" at the market.")]
    elif form == 1:
        parts = [T("By the end of the year the mill had ground "), N("count", f"{rng.randint(1, 9)},{_d(rng, 3)}"),
                 T(" sacks.")]
    elif form == 2:
        day, month, year = rng.randint(1, 28), rng.choice(MONTHS), rng.randint(1790, 1899)
        parts = [T("The great fair began on "), N("event_date", f"{day} {month} {year}"), T(" and lasted a week.")]
    elif form == 3:
        parts = [T("The parcel was sent as order "), N("reference_number", f"{_d(rng, 4)}-{_d(rng, 4)}"), T(".")]
    elif form == 4:
        parts = [T("The old coach was number "), N("prefix_555", f"555-{_d(rng, 3)}"), T(" on the route list.")]
    elif form == 5:
        parts = [T("The choir counted "), N("prefix_555", "555"), T(" lanterns along the road, or so they said.")]
    else:
        when = f"{rng.randint(1700, 1899)}-{rng.randint(1, 12):02d}"
        parts = [T("The bridge was rebuilt in "), N("event_date", when),
                 T(", after the flood.")]
    return _assemble(parts)


INSULTS = ("lazy fools", "dirty liars", "worthless cheats", "stupid brutes", "thieving pests")


def insult_sentence(rng: random.Random, lexicon: dict, speaker: str) -> tuple[str, list[dict], str]:
    """(sentence, spans, context): a mild invented insult against a community, in speech or narration.
    The span covers the insulting clause and carries ``target`` (the community) and ``context``."""
    target = rng.choice(("hill", "river"))
    descriptor = lexicon["communities"][target]["descriptor"]
    insult = rng.choice(INSULTS)
    context = "speech" if rng.random() < 0.7 else "narration"
    clause = f"the {descriptor} are all {insult}"
    if context == "speech":
        text, spans = _assemble([("\"Everyone knows ", None), (clause, "insult"), ("!\" said ", None), (speaker, None),
                                 (".", None)])
    else:
        text, spans = _assemble([("Some people in town muttered that ", None), (clause, "insult"), (".", None)])
    for s in spans:
        s["target"], s["context"] = target, context
    return text, spans, context
