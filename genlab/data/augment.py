"""Data augmentation for fine-tuning: EDA (Wei & Zou 2019) and counterfactual data augmentation (Lu et al. 2018).

- **EDA** ("Easy Data Augmentation", Wei & Zou, EMNLP 2019): synonym replacement, random insertion, random swap and
  random deletion, with the control flow and counts of the authors' ``eda()`` (``jasonwei20/eda_nlp: code/eda.py``).
  WordNet is not available offline, so synonyms come from ``data/augment/synonyms.json``, hand-written groups of
  near-synonyms over the world's vocabulary. Every function takes a seed: same seed, same output.
- **CDA** (Lu et al. 2018, arXiv 1807.11714): an intervened copy of each text with the group words of an axis
  swapped (she <-> he, her <-> his/him, sister <-> brother ...; hill-folk <-> river-folk ...), from the bidirectional
  list in ``data/augment/cda_pairs.json``. Names are kept unless a name map is given (Maudslay et al. 2019's "name
  intervention", see :func:`name_intervention`).

>>> eda("The big dog barked at the cart.", num_aug=2, seed=0, clean=False)[-1]  # the original comes last
'The big dog barked at the cart.'
>>> counterfactual("She gave her sister a lamp. The hill-folk were proud of her.")
'He gave his brother a lamp. The river-folk were proud of him.'

**Limitations.** The synonym groups are near-synonyms chosen by one writer for this toy world, not WordNet: about
260 groups, no word senses, no part-of-speech tagging. Homographs were left out (``light``, ``clean``, ``dry``,
``lost``, ``brush`` ...), and so were the words that planted facts and associations are made of (traits,
occupations, animals, foods, goods), but adjectives inside landmark names (``old stone bridge``) can still be
replaced, and random swap/deletion can break any planted sentence. Synonyms outside the world's lexicon (``large``,
``scarlet``) are words a world-trained tokenizer has rarely seen. The CDA list knows two binary axes only: gender as
she/he (no they, no non-binary terms) and the world's two communities. Pairs are not semantically symmetric
(``madam``/``sir``, ``god``/``goddess``); gendered occupations without a counterpart (``midwife``) and names are not
swapped by default, so a counterfactual copy can pair a name with the other pronoun. The ``her`` -> ``him``/``his``
choice is a next-word heuristic (see :func:`counterfactual`) and fails on e.g. "saw her cook" (-> "his cook").
Swapping ``the high hills`` <-> ``the river valleys`` only works on those exact phrases; a bare ``hill`` or
``river`` is never swapped.
"""

from __future__ import annotations

import functools
import json
import random
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple

from genlab.core.paths import data_dir

if TYPE_CHECKING:
    from genlab.worlds.text import Document, World

# ------------------------------------------------------------------------------------------------
# Shared word handling
# ------------------------------------------------------------------------------------------------

_TOKEN_PARTS = re.compile(r"^([^A-Za-z0-9]*)(.*?)([^A-Za-z0-9]*)$", re.S)


def split_token(token: str) -> tuple[str, str, str]:
    """(leading punctuation, word, trailing punctuation) of a whitespace token.

    >>> split_token('"Big,')
    ('"', 'Big', ',')
    """
    m = _TOKEN_PARTS.match(token)
    return m.group(1), m.group(2), m.group(3)


def match_case(source: str, target: str) -> str:
    """``target`` written in the case of ``source``: ALL CAPS, Title Case (phrases), Capitalised, or as given.

    >>> match_case("She", "he"), match_case("HER", "his"), match_case("her", "his")
    ('He', 'HIS', 'his')
    >>> match_case("The River Valleys", "the high hills"), match_case("The river valleys", "the high hills")
    ('The High Hills', 'The high hills')
    """
    if len(source) > 1 and source.isupper():
        return target.upper()
    if len(source.split()) > 1 and source.istitle():
        return " ".join(w[:1].upper() + w[1:] for w in target.split(" "))
    if source[:1].isupper():
        return target[:1].upper() + target[1:]
    return target


def _rng(seed: int | random.Random) -> random.Random:
    return seed if isinstance(seed, random.Random) else random.Random(seed)


# ------------------------------------------------------------------------------------------------
# Synonyms
# ------------------------------------------------------------------------------------------------


def load_synonym_groups(path: str | Path | None = None) -> dict[str, list[list[str]]]:
    """The synonym groups by word class (``adjective``, ``adverb``, ``verb_past``, ``verb_base``, ``noun``).

    >>> ["big", "huge", "enormous", "massive", "large"] in load_synonym_groups()["adjective"]
    True
    """
    path = Path(path) if path is not None else data_dir() / "augment" / "synonyms.json"
    return json.loads(path.read_text(encoding="utf-8"))["groups"]


@functools.lru_cache(maxsize=4)
def _synonyms_cached(path: str | None) -> Mapping[str, tuple[str, ...]]:
    table: dict[str, list[str]] = {}
    for groups in load_synonym_groups(path).values():
        for group in groups:
            for word in group:
                # A word in two groups gets the union; the shipped list keeps every word in one group.
                known = table.setdefault(word, [])
                known += [w for w in group if w != word and w not in known]
    return MappingProxyType({word: tuple(syns) for word, syns in table.items()})


def load_synonyms(path: str | Path | None = None) -> Mapping[str, tuple[str, ...]]:
    """Word -> its near-synonyms (the other members of its group), lowercase; a read-only, cached mapping.

    >>> load_synonyms()["huge"]
    ('big', 'enormous', 'massive', 'large')
    """
    return _synonyms_cached(None if path is None else str(path))


# ------------------------------------------------------------------------------------------------
# EDA (Wei & Zou 2019), ported from the authors' code/eda.py
# ------------------------------------------------------------------------------------------------

#: The authors' stop-word list (``eda.py``): these words are never picked for synonym replacement.
STOP_WORDS = frozenset(
    """
i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers herself
it its itself they them their theirs themselves what which who whom this that these those am is are was were be
been being have has had having do does did doing a an the and but if or because as until while of at by for with
about against between into through during before after above below to from up down in out on off over under again
further then once here there when where why how all any both each few more most other some such no nor not only
own same so than too very s t can will just don should now
""".split()
) | {""}


def get_only_chars(line: str) -> str:
    """The authors' cleaner: drop apostrophes, hyphens to spaces, lowercase, keep only a-z and single spaces.

    The authors strip a leading space only (a trailing one survives); here both ends are stripped.

    >>> get_only_chars("The hill-folk's  cart, at 9!")
    'the hill folks cart at'
    """
    line = line.replace("\u2019", "").replace("'", "").replace("-", " ").lower()
    line = re.sub(r"[^a-z ]", " ", line)
    return re.sub(" +", " ", line).strip()


def _key(token: str) -> str:
    """The dictionary form of a token: its word, lowercased (a no-op on cleaned text)."""
    return split_token(token)[1].lower()


def _respell(token: str, word: str) -> str:
    """``token`` with its word replaced by ``word``, keeping punctuation and case."""
    lead, core, trail = split_token(token)
    return lead + match_case(core, word) + trail


def synonym_replacement(
    words: list[str], n: int, rng: random.Random, synonyms: Mapping[str, Sequence[str]] | None = None
) -> list[str]:
    """SR: replace up to ``n`` distinct non-stop-words (every occurrence of each) by a random synonym.

    The authors draw candidates from ``list(set(words))``, whose order changes between Python processes; here the
    candidates keep first-appearance order before the seeded shuffle, so the result is reproducible.

    >>> synonym_replacement(["the", "lamp", "was", "big"], 1, random.Random(0), {"big": ["huge"]})
    ['the', 'lamp', 'was', 'huge']
    """
    synonyms = load_synonyms() if synonyms is None else synonyms
    new_words = list(words)
    candidates = list(dict.fromkeys(k for k in map(_key, words) if k not in STOP_WORDS))
    rng.shuffle(candidates)
    num_replaced = 0
    for candidate in candidates:
        options = list(synonyms.get(candidate, ()))
        if options:
            synonym = rng.choice(options)
            new_words = [_respell(w, synonym) if _key(w) == candidate else w for w in new_words]
            num_replaced += 1
        if num_replaced >= n:  # the authors test this after every candidate, replaced or not
            break
    return " ".join(new_words).split(" ")  # a multi-word synonym becomes several words, as in the authors' code


def random_insertion(
    words: list[str], n: int, rng: random.Random, synonyms: Mapping[str, Sequence[str]] | None = None
) -> list[str]:
    """RI: ``n`` times, insert a synonym of a random word at a random position (never after the last word).

    The authors insert ``synonyms[0]`` of a set (an arbitrary member); here a seeded ``rng.choice``, the paper's
    "random synonym". A try gives up after 10 draws of words without synonyms, as in the authors' code.

    >>> random_insertion(["the", "lamp"], 1, random.Random(0), {"lamp": ["lantern"]}) in (
    ...     ["lantern", "the", "lamp"], ["the", "lantern", "lamp"])
    True
    """
    synonyms = load_synonyms() if synonyms is None else synonyms
    new_words = list(words)
    for _ in range(n):
        _add_word(new_words, rng, synonyms)
    return new_words


def _add_word(new_words: list[str], rng: random.Random, synonyms: Mapping[str, Sequence[str]]) -> None:
    options: list[str] = []
    counter = 0
    while len(options) < 1:
        random_word = new_words[rng.randint(0, len(new_words) - 1)]
        options = list(synonyms.get(_key(random_word), ()))
        counter += 1
        if counter >= 10:  # the authors return here even when the 10th draw found synonyms
            return
    random_synonym = rng.choice(options)
    new_words.insert(rng.randint(0, len(new_words) - 1), random_synonym)


def random_swap(words: list[str], n: int, rng: random.Random) -> list[str]:
    """RS: ``n`` times, swap two random positions. A swap gives up (no change) when the fourth draw of the second
    position comes, as in the authors' ``swap_word``: with two words, 1/8 of swaps do nothing.

    >>> random_swap(["a", "b", "c"], 1, random.Random(0))
    ['b', 'a', 'c']
    """
    new_words = list(words)
    for _ in range(n):
        new_words = _swap_word(new_words, rng)
    return new_words


def _swap_word(new_words: list[str], rng: random.Random) -> list[str]:
    idx_1 = rng.randint(0, len(new_words) - 1)
    idx_2 = idx_1
    counter = 0
    while idx_2 == idx_1:
        idx_2 = rng.randint(0, len(new_words) - 1)
        counter += 1
        if counter > 3:
            return new_words
    new_words[idx_1], new_words[idx_2] = new_words[idx_2], new_words[idx_1]
    return new_words


def random_deletion(words: list[str], p: float, rng: random.Random) -> list[str]:
    """RD: delete each word with probability ``p``; a one-word sentence is kept; if all go, one random word stays.

    >>> random_deletion(["a", "b", "c"], 1.0, random.Random(0))  # everything deleted -> one word kept
    ['b']
    """
    if len(words) == 1:
        return list(words)
    new_words = [w for w in words if rng.uniform(0, 1) > p]
    if not new_words:
        return [words[rng.randint(0, len(words) - 1)]]
    return new_words


def eda(
    sentence: str,
    alpha_sr: float = 0.1,
    alpha_ri: float = 0.1,
    alpha_rs: float = 0.1,
    p_rd: float = 0.1,
    num_aug: int | float = 9,
    *,
    seed: int | random.Random = 0,
    clean: bool = True,
    synonyms: Mapping[str, Sequence[str]] | None = None,
) -> list[str]:
    """EDA (Wei & Zou 2019): ``num_aug`` augmented sentences, then the original, with the authors' control flow.

    Each technique makes ``int(num_aug/4) + 1`` sentences, changing n = max(1, int(alpha*l)) words (l = number of
    words; RD deletes each word with probability ``p_rd``); the pool is shuffled and cut to ``num_aug`` (a fraction
    ``num_aug < 1`` keeps each sentence with probability ``num_aug / pool size``), and the original is appended.
    Defaults are the authors': alpha 0.1 everywhere, 9 augmentations.

    ``clean=True`` lowercases and strips to a-z as the authors do (and returns the cleaned original); genlab's texts
    are cased, so ``clean=False`` keeps case and punctuation: words are whitespace tokens, synonyms are looked up on
    the lowercased word and written back in its case, the original comes back with its whitespace collapsed.
    ``seed``: an int or a ``random.Random`` to draw from (pass one Random to chain calls reproducibly).

    >>> out = eda("The old miller carried a heavy sack to the mill.", seed=1)
    >>> len(out), out[-1]
    (10, 'the old miller carried a heavy sack to the mill')
    >>> eda("Hello", num_aug=0)
    ['hello']
    """
    for name, value in (("alpha_sr", alpha_sr), ("alpha_ri", alpha_ri), ("alpha_rs", alpha_rs), ("p_rd", p_rd)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name}={value} is outside [0, 1]; the authors use 0.05-0.1 (metrics.md section 10)")
    if num_aug < 0 or (num_aug >= 1 and int(num_aug) != num_aug):
        raise ValueError(f"num_aug={num_aug}: use a whole number >= 1, or a fraction in [0, 1) to subsample")
    synonyms = load_synonyms() if synonyms is None else synonyms
    rng = _rng(seed)
    sentence = get_only_chars(sentence) if clean else " ".join(sentence.split())
    words = [w for w in sentence.split(" ") if w != ""]
    if not words:
        raise ValueError("eda() needs a sentence with at least one word (after cleaning, only a-z count)")
    num_words = len(words)

    num_new_per_technique = int(num_aug / 4) + 1
    n_sr = max(1, int(alpha_sr * num_words))
    n_ri = max(1, int(alpha_ri * num_words))
    n_rs = max(1, int(alpha_rs * num_words))

    augmented: list[str] = []
    augmented += [" ".join(synonym_replacement(words, n_sr, rng, synonyms)) for _ in range(num_new_per_technique)]
    augmented += [" ".join(random_insertion(words, n_ri, rng, synonyms)) for _ in range(num_new_per_technique)]
    augmented += [" ".join(random_swap(words, n_rs, rng)) for _ in range(num_new_per_technique)]
    augmented += [" ".join(random_deletion(words, p_rd, rng)) for _ in range(num_new_per_technique)]

    if clean:
        augmented = [get_only_chars(s) for s in augmented]
    rng.shuffle(augmented)
    if num_aug >= 1:
        augmented = augmented[: int(num_aug)]
    else:
        keep_prob = num_aug / len(augmented)
        augmented = [s for s in augmented if rng.uniform(0, 1) < keep_prob]
    augmented.append(sentence)
    return augmented


def eda_augment(
    texts: Iterable[str],
    alpha_sr: float = 0.1,
    alpha_ri: float = 0.1,
    alpha_rs: float = 0.1,
    p_rd: float = 0.1,
    num_aug: int | float = 9,
    *,
    seed: int = 0,
    clean: bool = True,
    synonyms: Mapping[str, Sequence[str]] | None = None,
) -> list[str]:
    """:func:`eda` over many texts, flattened (each text's augmentations, then the text), one seeded stream.

    >>> len(eda_augment(["The cat slept.", "The dog ran."], num_aug=4))
    10
    """
    rng = random.Random(seed)
    out: list[str] = []
    for text in texts:
        out += eda(text, alpha_sr, alpha_ri, alpha_rs, p_rd, num_aug, seed=rng, clean=clean, synonyms=synonyms)
    return out


# ------------------------------------------------------------------------------------------------
# Counterfactual data augmentation (Lu et al. 2018)
# ------------------------------------------------------------------------------------------------

AXES = ("gender", "community")


class WordPair(NamedTuple):
    axis: str  # "gender" or "community"
    first: str  # a word of the axis's first group (she / hill)
    second: str  # its counterpart in the second group (he / river)


@dataclass(frozen=True)
class CDAPairs:
    """The CDA word list: bidirectional pairs per axis, plus the she/he pronoun paradigm by grammatical role."""

    groups: tuple[tuple[str, tuple[str, str]], ...]  # (axis, (first group, second group)): ("gender", ("she", "he"))
    pairs: tuple[WordPair, ...]  # one-to-one pairs; pronouns are in ``pronouns``
    pronouns: tuple[tuple[str, str, str], ...]  # (role, she-form, he-form): ("object", "her", "him")

    def group_names(self, axis: str) -> tuple[str, str]:
        """("she", "he") or ("hill", "river")."""
        _check_axis(axis)
        return dict(self.groups)[axis]

    def other_group(self, axis: str, group: str) -> str:
        """The counterfactual group: ``other_group("gender", "she") == "he"``."""
        first, second = self.group_names(axis)
        if group not in (first, second):
            raise ValueError(f"group {group!r} is not on the {axis} axis; use {first!r} or {second!r}")
        return second if group == first else first

    def words(self, axis: str, group: str) -> frozenset[str]:
        """Every word of one side of an axis (pairs and, for gender, pronouns): what a bias count looks for.

        >>> sorted(load_cda_pairs().words("gender", "he"))[:4]
        ['actor', 'actors', 'boy', 'boyfriend']
        """
        first, second = self.group_names(axis)
        if group not in (first, second):
            raise ValueError(f"group {group!r} is not on the {axis} axis; use {first!r} or {second!r}")
        side = 0 if group == first else 1
        out = {(p.first, p.second)[side] for p in self.pairs if p.axis == axis}
        if axis == "gender":
            out |= {forms[side] for _, *forms in self.pronouns}
        return frozenset(out)

    def mapping(self, axes: Sequence[str] = AXES) -> dict[str, str]:
        """Unambiguous swaps, both directions: pairs, plus each pronoun that has one counterpart whatever its role
        (she, he, him, hers, herself, himself).

        >>> load_cda_pairs().mapping()["him"], load_cda_pairs().mapping()["river-folk"]
        ('her', 'hill-folk')
        """
        out: dict[str, str] = {}
        for p in self.pairs:
            if p.axis in axes:
                out[p.first], out[p.second] = p.second, p.first
        if "gender" in axes:
            for word, targets in self._pronoun_targets().items():
                if len(set(targets.values())) == 1:
                    out[word] = next(iter(targets.values()))
        return out

    def ambiguous(self, axes: Sequence[str] = AXES) -> dict[str, dict[str, str]]:
        """Pronouns whose counterpart depends on their role: ``her`` (object -> him, possessive -> his) and ``his``
        (possessive determiner -> her, possessive pronoun -> hers).

        >>> load_cda_pairs().ambiguous()["her"]
        {'object': 'him', 'possessive_determiner': 'his'}
        """
        if "gender" not in axes:
            return {}
        return {w: t for w, t in self._pronoun_targets().items() if len(set(t.values())) > 1}

    def _pronoun_targets(self) -> dict[str, dict[str, str]]:
        targets: dict[str, dict[str, str]] = {}
        for role, she_form, he_form in self.pronouns:
            targets.setdefault(she_form, {})[role] = he_form
            targets.setdefault(he_form, {})[role] = she_form
        return targets


def _check_axis(axis: str) -> None:
    if axis not in AXES:
        raise ValueError(f"unknown axis {axis!r}; choose one of {AXES}")


def load_cda_pairs(path: str | Path | None = None) -> CDAPairs:
    """The CDA word list (``data/augment/cda_pairs.json``); the bias metrics reuse it for their word counts.

    >>> pairs = load_cda_pairs()
    >>> pairs.group_names("community"), WordPair("gender", "sister", "brother") in pairs.pairs
    (('hill', 'river'), True)
    """
    return _load_cda_pairs(None if path is None else str(path))


@functools.lru_cache(maxsize=4)
def _load_cda_pairs(path: str | None) -> CDAPairs:
    file = Path(path) if path is not None else data_dir() / "augment" / "cda_pairs.json"
    raw = json.loads(file.read_text(encoding="utf-8"))["axes"]
    unknown = set(raw) - set(AXES)
    if unknown:
        raise ValueError(f"{file}: unknown axes {sorted(unknown)}; genlab knows {AXES}")
    groups = tuple((axis, tuple(raw[axis]["groups"])) for axis in AXES if axis in raw)
    pairs = tuple(WordPair(axis, a.lower(), b.lower()) for axis in AXES if axis in raw for a, b in raw[axis]["pairs"])
    pronouns = tuple((role, a, b) for role, (a, b) in raw.get("gender", {}).get("pronouns", {}).items())
    return CDAPairs(groups=groups, pairs=pairs, pronouns=pronouns)


# Words after an ambiguous pronoun that say "no noun phrase follows": then ``her`` is an object ("gave her the
# cup", "saw her in the barn") and ``his`` a possessive pronoun ("the cup is his and ..."). Closed-class words only.
_NOT_NOUN_PHRASE = frozenset(
    """
a an the this that these those some any every each all no none my your our their its his her hers him them us me
it you i he she we they something nothing anything everything someone anyone everyone nobody to in on at with for
from of by about into onto over under up down out off away back around through across near after before behind
again too very so now then there here today tomorrow yesterday tonight and or but nor because when while if as
than until since though although once is was are were be been am will would can could should may might must do
does did not
""".split()
)


@functools.lru_cache(maxsize=1)
def _world_word_classes() -> tuple[frozenset[str], frozenset[str]]:
    """(words that start a noun phrase, verbs and adverbs) from the world's lexicon, for the her/his heuristic."""
    from genlab.worlds.text_grammar import MOTION_VERBS
    from genlab.worlds.text_spec import load_lexicon

    lex = load_lexicon()
    np_words = {
        w
        for k in (
            "adjectives",
            "colors",
            "traits",
            "emotions",
            "numbers",
            "objects",
            "animals",
            "rooms",
            "weather",
            "goods",
            "occupations",
            "relations_kin",
        )
        for w in lex[k]
    }
    np_words |= {w for food in lex["foods"] for w in food.split()}
    verbs = {
        w
        for k in ("verbs_intransitive", "verbs_transitive", "verbs_eat", "verbs_animal")
        for v in lex[k]
        for w in v.replace("|", " ").split()
    }
    verbs |= set(lex["adverbs"]) | set(lex["speech_verbs"]) | set(MOTION_VERBS)
    return frozenset(np_words), frozenset(verbs)


def starts_noun_phrase(next_word: str | None) -> bool:
    """Heuristic: does ``next_word`` (None = punctuation or end of text) begin the noun phrase of a possessive?

    No for punctuation, closed-class words, and the world's verbs and adverbs (or any other ``-ly`` word), unless the
    word is also one of the world's nouns/adjectives/numbers; yes otherwise ("her sister", "her old hat").

    >>> starts_noun_phrase("sister"), starts_noun_phrase("the"), starts_noun_phrase(None), starts_noun_phrase("quickly")
    (True, False, False, False)
    """
    if next_word is None:
        return False
    word = next_word.lower()
    np_words, verbs_adverbs = _world_word_classes()
    if word in np_words:
        return True
    if word in _NOT_NOUN_PHRASE or word in verbs_adverbs or word.endswith("ly"):
        return False
    return True


_NEXT_WORD = re.compile(r"\s*([A-Za-z][A-Za-z'-]*)")


def _resolve(targets: dict[str, str], text: str, end: int) -> str:
    """Pick the counterpart of an ambiguous pronoun from the word after it (``end`` = where the pronoun ends):
    the possessive determiner's counterpart when a noun phrase follows, else the other role's."""
    determiner = targets.get("possessive_determiner")
    others = [target for role, target in targets.items() if role != "possessive_determiner"]
    m = _NEXT_WORD.match(text, end)
    if determiner is not None and (not others or starts_noun_phrase(m.group(1) if m else None)):
        return determiner
    return others[0]


# A word: letters, digits and underscores, hyphen-joined parts included ("hill-folk" is one word, and "hill" in it
# is no match); an apostrophe ends it ("She's" -> "She" + "'s").
_WORD = re.compile(r"[A-Za-z0-9_]+(?:-[A-Za-z0-9_]+)*")


@functools.lru_cache(maxsize=16)
def _swapper(
    pairs: CDAPairs, axes: tuple[str, ...], names: tuple[tuple[str, str], ...]
) -> Callable[[str], list[tuple[int, int, str]]]:
    """The swap as a function text -> edits: (start, end, replacement) of every swapped word or phrase, in order."""
    for axis in axes:
        _check_axis(axis)
    table = pairs.mapping(axes)
    ambiguous = pairs.ambiguous(axes)
    names_lower = {k.lower(): v for k, v in names}
    # Multi-word keys ("the high hills", "Amaiamio Greenford"), indexed by their first word, longest first.
    phrases: dict[str, list[tuple[re.Pattern, str]]] = {}
    for key in sorted({k for k in (*table, *names_lower) if " " in k}, key=len, reverse=True):
        pattern = re.compile(r"\s+".join(map(re.escape, key.split())) + r"(?![\w-])", re.IGNORECASE)
        phrases.setdefault(key.split()[0], []).append((pattern, key))

    starts = set(table) | set(ambiguous) | set(names_lower) | set(phrases)

    def replacement(found: str, key: str, text: str, end: int) -> str | None:
        if key in names_lower:
            return names_lower[key]
        if key in ambiguous:
            return match_case(found, _resolve(ambiguous[key], text, end))
        if key in table:
            return match_case(found, table[key])
        return None

    def edits(text: str) -> list[tuple[int, int, str]]:
        # One left-to-right pass, so a replacement is never swapped again.
        out: list[tuple[int, int, str]] = []
        pos = 0
        for m in _WORD.finditer(text):
            if m.start() < pos:  # inside a phrase already replaced
                continue
            lowered = m.group(0).lower()
            if lowered not in starts:
                continue
            for pattern, key in phrases.get(lowered, ()):
                pm = pattern.match(text, m.start())
                if pm:
                    out.append((pm.start(), pm.end(), replacement(pm.group(0), key, text, pm.end())))
                    pos = pm.end()
                    break
            else:
                new = replacement(m.group(0), lowered, text, m.end())
                if new is not None:
                    out.append((m.start(), m.end(), new))
                    pos = m.end()
        return out

    return edits


def _apply_edits(text: str, edits: Sequence[tuple[int, int, str]]) -> str:
    out: list[str] = []
    pos = 0
    for start, end, new in edits:
        out += [text[pos:start], new]
        pos = end
    out.append(text[pos:])
    return "".join(out)


def counterfactual(
    text: str, *, pairs: CDAPairs | None = None, axes: Sequence[str] = AXES, names: Mapping[str, str] | None = None
) -> str:
    """The intervened copy of ``text`` (Lu et al. 2018): every group word of ``axes`` swapped for its counterpart.

    Case is kept ("She" -> "He", "HIS" -> "HER"). ``her`` is an object ("him") unless a noun phrase follows, then a
    possessive ("his"); ``his`` likewise becomes "her" before a noun phrase, else "hers" (:func:`starts_noun_phrase`).
    ``names``: an optional name swap (both directions), e.g. from :func:`name_intervention`.

    >>> counterfactual("He gave the cup to her.")
    'She gave the cup to him.'
    >>> counterfactual("The cup is his. Like many river-folk, she came from the river valleys.", axes=["community"])
    'The cup is his. Like many hill-folk, she came from the high hills.'
    """
    pairs = pairs or load_cda_pairs()
    return _apply_edits(text, _swapper(pairs, tuple(axes), tuple(sorted((names or {}).items())))(text))


def cda_augment(
    texts: Iterable[str],
    *,
    pairs: CDAPairs | None = None,
    axes: Sequence[str] = AXES,
    names: Mapping[str, str] | None = None,
) -> list[str]:
    """CDA (Lu et al. 2018): the originals followed by their counterfactual copies, in the same order.

    >>> cda_augment(["She slept.", "The hill-folk sang."])
    ['She slept.', 'The hill-folk sang.', 'He slept.', 'The river-folk sang.']
    """
    texts = list(texts)
    return texts + [counterfactual(t, pairs=pairs, axes=axes, names=names) for t in texts]


def counterfactual_document(doc: Document, *, pairs: CDAPairs | None = None, axes: Sequence[str] = AXES) -> Document:
    """A :class:`genlab.worlds.text.Document`'s counterfactual: swapped text, association records flipped to the other
    group for the swapped axes (``{"id": "gender:nurse", "group": "she"}`` -> ``"he"``), id suffixed ``-cf``. Fact
    and canary records are kept: CDA without name intervention changes neither names nor facts. The character spans
    of ``pii``, ``negatives`` and ``harmful`` are moved to the swapped text (a swapped word can change length), and
    an insult's ``target`` community is flipped with the community axis.

    >>> from genlab.worlds.text import Document
    >>> cf = counterfactual_document(Document("d", "train", "story", "She slept.",
    ...                                       associations=[{"id": "gender:nurse", "group": "she"}]))
    >>> cf.text, cf.associations
    ('He slept.', [{'id': 'gender:nurse', 'group': 'he'}])
    """
    pairs = pairs or load_cda_pairs()
    records = []
    for record in doc.associations:
        axis = record["id"].split(":", 1)[0]
        flip = axis in axes
        records.append(dict(record, group=pairs.other_group(axis, record["group"]) if flip else record["group"]))
    edits = _swapper(pairs, tuple(axes), ())(doc.text)
    text = _apply_edits(doc.text, edits)

    def moved(i: int) -> int:  # an offset of the original text, in the swapped text
        return i + sum(len(new) - (end - start) for start, end, new in edits if end <= i)

    def spans(labelled: list[dict]) -> list[dict]:
        out = []
        for r in labelled:
            start, end = moved(r["start"]), moved(r["end"])
            r = dict(r, start=start, end=end, text=text[start:end])
            if "target" in r and "community" in axes:
                r["target"] = pairs.other_group("community", r["target"])
            out.append(r)
        return out

    return replace(
        doc,
        id=f"{doc.id}-cf",
        text=text,
        associations=records,
        facts=[dict(f) for f in doc.facts],
        canaries=list(doc.canaries),
        pii=spans(doc.pii),
        negatives=spans(doc.negatives),
        harmful=spans(doc.harmful),
        wrong_facts=[dict(w) for w in doc.wrong_facts],
    )


def name_intervention(world: World, axis: str = "gender", seed: int = 0) -> dict[str, str]:
    """A bidirectional name swap between the two groups of ``axis`` (after Maudslay et al. 2019's name intervention).

    Names are paired at random (seeded) within the same kind (fact-bearing people with people, extras with
    extras) and the same value of the other attribute, so that only ``axis`` changes: on the gender axis a hill-folk
    she-name maps to a hill-folk he-name. Maudslay et al. pair names by corpus frequency instead; names left over
    in the larger group keep their own name. Facts about a swapped name stop matching the world's records.

    >>> from genlab.worlds.text import small_world
    >>> world = small_world()
    >>> swap = name_intervention(world, "community")
    >>> people = {p.name: p for p in world.people}
    >>> all(people[a].community != people[b].community and people[a].pronoun == people[b].pronoun
    ...     for a, b in swap.items() if a in people)
    True
    >>> all(swap[swap[a]] == a for a in swap)
    True
    """
    _check_axis(axis)
    attr, other = ("pronoun", "community") if axis == "gender" else ("community", "pronoun")
    first, second = ("she", "he") if axis == "gender" else ("hill", "river")
    rng = random.Random(f"genlab-name-intervention-{axis}-{seed}")
    mapping: dict[str, str] = {}
    for pool in (world.people, world.minor_characters):
        for value in sorted({getattr(p, other) for p in pool}):
            a = sorted(p.name for p in pool if getattr(p, attr) == first and getattr(p, other) == value)
            b = sorted(p.name for p in pool if getattr(p, attr) == second and getattr(p, other) == value)
            rng.shuffle(a)
            rng.shuffle(b)
            for x, y in zip(a, b, strict=False):  # the larger group keeps its leftovers
                mapping[x], mapping[y] = y, x
    return mapping
