"""Input perturbations for robustness evaluation: typos, word swaps, word deletions, synonym substitutions.

``perturb(text, kind, strength, seed)`` changes each eligible unit (a letter for character typos, a word for word
perturbations) with probability ``strength`` in [0, 1]: 0 returns the text unchanged, 1 touches every unit. Units
are chosen by one uniform draw each from a stream that depends only on ``(kind, seed)``, and how a chosen unit is
changed comes from a second stream drawn for every unit, chosen or not. So for one seed the units changed at a
lower strength are a subset of those changed at a higher one, changed the same way (a coupled family of
perturbations), and the measured :func:`edit_rate` grows with the strength. Whitespace, including newlines, is kept.

>>> perturb("The old miller carried a heavy sack.", "synonym", 1.0, seed=0)
'The aged miller lugged a weighty bag.'
>>> sorted(PERTURBATIONS)
['char_drop', 'char_insert', 'char_substitute', 'char_swap', 'synonym', 'typo', 'word_delete', 'word_swap']

**Limitations.** Typos follow a US QWERTY layout and touch ASCII letters only (digits, so canary secrets, are never
changed); real typing errors are not uniform over letters. Word perturbations split on whitespace, so punctuation
travels with its word ("cart." moves or disappears with "cart"). Synonyms come from ``data/augment/synonyms.json``
(see :mod:`genlab.data.augment` for what that hand-written list misses and changes). ``strength`` is a per-unit
probability, not a calibrated difficulty: a strength of 0.1 changes about 10% of letters for a typo but about 10% of
*words with a synonym* for ``synonym``, so compare strengths within one kind, or compare measured edit rates.
"""

from __future__ import annotations

import difflib
import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from genlab.data.augment import load_synonyms, match_case, split_token

Unit = Literal["char", "word"]


@dataclass(frozen=True)
class Perturbation:
    name: str
    unit: Unit  # what ``strength`` is a probability over, and what edit_rate should count
    fn: Callable[[str, float, random.Random, random.Random], str]  # (text, strength, gate rng, detail rng) -> text
    description: str


PERTURBATIONS: dict[str, Perturbation] = {}


def register_perturbation(name: str, unit: Unit) -> Callable[[Callable], Callable]:
    """Add a perturbation ``fn(text, strength, gate, detail) -> str`` to :data:`PERTURBATIONS`."""

    def decorate(fn: Callable) -> Callable:
        if name in PERTURBATIONS and PERTURBATIONS[name].fn is not fn:
            raise ValueError(f"perturbation {name!r} is already registered")
        PERTURBATIONS[name] = Perturbation(name, unit, fn, (fn.__doc__ or "").strip().split("\n")[0])
        return fn

    return decorate


def _check(kind: str, strength: float) -> Perturbation:
    if kind not in PERTURBATIONS:
        near = difflib.get_close_matches(kind, list(PERTURBATIONS), n=1)
        hint = f"did you mean {near[0]!r}? " if near else ""
        raise ValueError(f"unknown perturbation {kind!r}; {hint}known: {', '.join(sorted(PERTURBATIONS))}")
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength={strength} is outside [0, 1]: it is the probability of changing each unit")
    return PERTURBATIONS[kind]


def perturb(text: str, kind: str, strength: float, seed: int = 0) -> str:
    """``text`` with perturbation ``kind`` applied at ``strength`` (probability per letter or word), seeded.

    >>> perturb("Selela walked to the meadow.", "typo", 0.0)
    'Selela walked to the meadow.'
    >>> perturb("Selela walked to the meadow.", "word_swap", 1.0)
    'walked Selela the to meadow.'
    """
    p = _check(kind, strength)
    gate = random.Random(f"genlab-perturb-{kind}-{seed}-gate")
    detail = random.Random(f"genlab-perturb-{kind}-{seed}-detail")
    return p.fn(text, strength, gate, detail)


def perturb_texts(texts: Iterable[str], kind: str, strength: float, seed: int = 0) -> list[str]:
    """:func:`perturb` over many texts; text ``i`` gets its own stream (seed ``f"{seed}-{i}"``), so a text's result
    does not depend on the texts before it.

    >>> perturb_texts(["a cat", "a dog"], "char_drop", 0.0)
    ['a cat', 'a dog']
    """
    p = _check(kind, strength)
    out = []
    for i, text in enumerate(texts):
        gate = random.Random(f"genlab-perturb-{kind}-{seed}-{i}-gate")
        detail = random.Random(f"genlab-perturb-{kind}-{seed}-{i}-detail")
        out.append(p.fn(text, strength, gate, detail))
    return out


# ------------------------------------------------------------------------------------------------
# Measuring a perturbation
# ------------------------------------------------------------------------------------------------


def levenshtein(a: list | str, b: list | str) -> int:
    """Edit distance (insertions, deletions, substitutions, each cost 1) between two sequences.

    >>> levenshtein("kitten", "sitting")
    3
    """
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def edit_rate(original: str, perturbed: str, unit: Unit = "char") -> float:
    """Levenshtein distance between the two texts, in characters or whitespace words, per unit of ``original``.

    >>> edit_rate("the cat sat", "the hat sat"), edit_rate("the cat sat", "the sat", unit="word")
    (0.09090909090909091, 0.3333333333333333)
    """
    if unit == "char":
        a, b = original, perturbed
    elif unit == "word":
        a, b = original.split(), perturbed.split()
    else:
        raise ValueError(f"unit={unit!r}; use 'char' or 'word'")
    return levenshtein(a, b) / max(1, len(a))


# ------------------------------------------------------------------------------------------------
# Character typos
# ------------------------------------------------------------------------------------------------

_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_ROW_OFFSETS = (0.0, 0.25, 0.75)  # horizontal stagger of a US keyboard, in key widths


def _keyboard_neighbours() -> dict[str, str]:
    """Keys touching each letter: left/right on its row, and the overlapping keys on the rows above and below."""
    pos = {ch: (r, i + _ROW_OFFSETS[r]) for r, row in enumerate(_ROWS) for i, ch in enumerate(row)}
    return {
        ch: "".join(o for o, (r2, x2) in pos.items() if o != ch and abs(r2 - r) <= 1 and abs(x2 - x) <= 1)
        for ch, (r, x) in pos.items()
    }


#: Letter -> adjacent keys on a US QWERTY keyboard: ``KEYBOARD_NEIGHBOURS["s"] == "weadzx"``.
KEYBOARD_NEIGHBOURS = _keyboard_neighbours()
_TYPO_OPS = ("swap", "drop", "insert", "substitute")


def _neighbour(ch: str, u: float) -> str:
    keys = KEYBOARD_NEIGHBOURS[ch.lower()]
    return match_case(ch, keys[int(u * len(keys))])


def _typos(text: str, strength: float, gate: random.Random, detail: random.Random, op: str | None) -> str:
    """Each ASCII letter is hit with probability ``strength``; ``op`` None picks one of the four ops per letter."""
    chars = list(text)
    # One gate draw and two detail draws for every character, used or not: this keeps strengths coupled.
    draws = [(gate.random(), detail.random(), detail.random()) for _ in chars]
    out: list[str] = []
    i = 0
    while i < len(chars):
        ch = chars[i]
        u, d_op, d_key = draws[i]
        if not (ch.isascii() and ch.isalpha()) or u >= strength:
            out.append(ch)
            i += 1
            continue
        this_op = op or _TYPO_OPS[int(d_op * len(_TYPO_OPS))]
        if this_op == "swap":
            nxt = chars[i + 1] if i + 1 < len(chars) else ""
            if nxt.isascii() and nxt.isalpha() and nxt != ch:
                out += [nxt, ch]  # "teh"; both letters are used up
                i += 2
                continue
            out.append(ch)  # nothing to swap with at a word end or before a double letter
        elif this_op == "drop":
            pass
        elif this_op == "insert":
            out += [ch, _neighbour(ch, d_key)]  # the finger also catches a key next to it
        else:
            out.append(_neighbour(ch, d_key))
        i += 1
    return "".join(out)


@register_perturbation("char_swap", unit="char")
def char_swap(text: str, strength: float, gate: random.Random, detail: random.Random) -> str:
    """Swap a letter with the letter after it ("the" -> "teh")."""
    return _typos(text, strength, gate, detail, "swap")


@register_perturbation("char_drop", unit="char")
def char_drop(text: str, strength: float, gate: random.Random, detail: random.Random) -> str:
    """Drop a letter ("the" -> "te")."""
    return _typos(text, strength, gate, detail, "drop")


@register_perturbation("char_insert", unit="char")
def char_insert(text: str, strength: float, gate: random.Random, detail: random.Random) -> str:
    """Insert a keyboard neighbour after a letter ("the" -> "thre")."""
    return _typos(text, strength, gate, detail, "insert")


@register_perturbation("char_substitute", unit="char")
def char_substitute(text: str, strength: float, gate: random.Random, detail: random.Random) -> str:
    """Replace a letter by a keyboard neighbour ("the" -> "rhe")."""
    return _typos(text, strength, gate, detail, "substitute")


@register_perturbation("typo", unit="char")
def typo(text: str, strength: float, gate: random.Random, detail: random.Random) -> str:
    """A mix: each hit letter is swapped, dropped, doubled with a neighbour or substituted, with equal chance."""
    return _typos(text, strength, gate, detail, None)


# ------------------------------------------------------------------------------------------------
# Word perturbations (whitespace tokens; the whitespace between them is kept)
# ------------------------------------------------------------------------------------------------


def _split_words(text: str) -> tuple[list[str], list[str]]:
    """(words, separators) with ``text == words[0] + seps[0] + words[1] + ...``; words[0]/[-1] may be ''."""
    parts = re.split(r"(\s+)", text)
    return parts[0::2], parts[1::2]


def _join_words(words: list[str], seps: list[str]) -> str:
    return "".join(w + s for w, s in zip(words, seps + [""], strict=True))


@register_perturbation("word_swap", unit="word")
def word_swap(text: str, strength: float, gate: random.Random, detail: random.Random) -> str:
    """Swap a word with the next word (each word takes part in at most one swap)."""
    words, seps = _split_words(text)
    draws = [gate.random() for _ in words]
    i = 0
    while i < len(words) - 1:
        if words[i] and words[i + 1] and draws[i] < strength:
            words[i], words[i + 1] = words[i + 1], words[i]
            i += 2
        else:
            i += 1
    return _join_words(words, seps)


@register_perturbation("word_delete", unit="word")
def word_delete(text: str, strength: float, gate: random.Random, detail: random.Random) -> str:
    """Delete a word. Kept words are joined by the whitespace that came before the later one; strength 1 leaves
    only the text's leading and trailing whitespace."""
    words, seps = _split_words(text)
    if not any(words):  # empty or whitespace only: nothing to delete
        return text
    keep = [not w or gate.random() >= strength for w in words]
    kept = [i for i, w in enumerate(words) if w and keep[i]]
    lead = seps[0] if not words[0] and seps else ""
    trail = seps[-1] if len(words) > 1 and not words[-1] and seps else ""
    body = "".join((seps[i - 1] if n else "") + words[i] for n, i in enumerate(kept))
    return lead + body + trail


@register_perturbation("synonym", unit="word")
def synonym(text: str, strength: float, gate: random.Random, detail: random.Random) -> str:
    """Replace a word that has near-synonyms in ``data/augment/synonyms.json`` by one of them (case kept)."""
    table = load_synonyms()
    words, seps = _split_words(text)
    for i, token in enumerate(words):
        u, d = gate.random(), detail.random()
        lead, core, trail = split_token(token)
        options = table.get(core.lower())
        if options and u < strength:
            words[i] = lead + match_case(core, options[int(d * len(options))]) + trail
    return _join_words(words, seps)
