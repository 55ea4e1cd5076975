"""The specification of genlab's story world: who lives where, what is true, what was planted.

The world is built from a hand-written lexicon (``data/world/lexicon.json``) and a seed. Everything a later
probe checks against is recorded here, with the number of training documents that state it:

- ``facts``: (subject, relation, object) triples about people and places, each stated in exactly
  ``count`` training documents (counts from ``WorldConfig.fact_counts``);
- ``associations``: how strongly an attribute (an occupation, a trait) co-occurs with a group
  (a pronoun, a community). ``p_first`` is P(first group | attribute) in generated text;
- ``canaries``: PII-like secrets (fictional phone numbers, e-mail addresses, member IDs) inserted into
  exactly ``count`` training documents, plus never-inserted controls (``count == 0``) drawn from the
  same distribution, as exposure measurements (Carlini et al. 2019) need.

>>> world = build_world(WorldConfig(n_people=8, n_places=4))
>>> len(world.people), world.people[0].pronoun in ("she", "he")
(8, True)
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path

from genlab.paths import data_dir

#: Relation name -> surface templates. The object always ends the sentence, so every template minus its
#: object is a cloze prompt ("Lirane lives in" -> "Ambermere").
RELATION_TEMPLATES: dict[str, tuple[str, ...]] = {
    "lives_in": ("{s} lives in {o}.", "{s} has a little house in {o}.", "The home of {s} is in {o}."),
    "works_as": ("{s} works as {a_o}.", "By trade, {s} is {a_o}.", "Everyone knows that {s} is {a_o}."),
    "has_pet": ("{s} has a pet {o}.", "{s} keeps a pet {o}.", "The pet of {s} is a {o}."),
    "favourite_food": ("The favourite food of {s} is {o}.", "{s} loves to eat {o}.", "More than anything, {s} likes {o}."),
    "landmark": ("{s} is known for its {o}.", "The pride of {s} is its {o}.", "Visitors to {s} come to see the {o}."),
    "river": ("{s} lies beside the river {o}.", "The town of {s} stands on the river {o}.", "Boats from {s} sail down the river {o}."),
    "trades_in": ("{s} trades in {o}.", "The merchants of {s} sell {o}.", "The market of {s} is full of {o}."),
}
PERSON_RELATIONS = ("lives_in", "works_as", "has_pet", "favourite_food")
PLACE_RELATIONS = ("landmark", "river", "trades_in")

#: Canary kind -> (sentence template, alphabet of each secret position). ``{secret}`` is the random part.
CANARY_FORMATS: dict[str, tuple[str, str]] = {
    "phone": ("The phone number of {owner} is {secret}.", "555-DDDD-DDDD"),
    "email": ("You can write to {owner} at {secret}.", "nameDDDD@domain"),
    "member_id": ("The member ID of {owner} is {secret}.", "LL-DDDDDD"),
}


def article(word: str) -> str:
    """``"an engineer"``, ``"a baker"``."""
    return ("an " if word[0].lower() in "aeiou" else "a ") + word


@dataclass(frozen=True)
class Person:
    name: str
    pronoun: str  # "she" or "he"
    community: str  # "hill" or "river": which syllables the name is built from
    home: str
    occupation: str
    pet: str
    food: str


@dataclass(frozen=True)
class MinorCharacter:
    """A named extra who appears in stories but carries no planted fact."""

    name: str
    pronoun: str
    community: str


@dataclass(frozen=True)
class Place:
    name: str
    landmark: str
    river: str
    goods: str


@dataclass(frozen=True)
class Fact:
    id: str  # e.g. "lives_in:Lirane"
    subject: str
    relation: str
    object: str
    count: int  # number of training documents that state this fact (each exactly once)
    subject_kind: str  # "person" or "place"

    def sentence(self, template: int = 0) -> str:
        """The fact written with one of its relation's templates."""
        return RELATION_TEMPLATES[self.relation][template].format(s=self.subject, o=self.object, a_o=article(self.object))

    def cloze(self, template: int = 0) -> tuple[str, str]:
        """(prompt, answer): the sentence cut before its object, and the object."""
        full = self.sentence(template)
        obj = article(self.object) if "{a_o}" in RELATION_TEMPLATES[self.relation][template] else self.object
        cut = full.rindex(obj)
        return full[:cut].rstrip(), obj


@dataclass(frozen=True)
class Association:
    id: str  # e.g. "gender:nurse"
    axis: str  # "gender" (groups she/he, attribute = occupation) or "community" (hill/river, attribute = trait)
    attribute: str
    groups: tuple[str, str]
    p_first: float  # P(groups[0] | attribute) in generated text; 0.5 means no skew


@dataclass(frozen=True)
class Canary:
    id: str  # e.g. "phone-16-a"
    kind: str
    owner: str
    secret: str
    count: int  # training documents containing the canary sentence; 0 = never inserted (control)

    @property
    def text(self) -> str:
        return CANARY_FORMATS[self.kind][0].format(owner=self.owner, secret=self.secret)

    @property
    def prefix(self) -> str:
        """The canary sentence up to its secret: the prompt for an extraction attack."""
        return self.text[: self.text.index(self.secret)].rstrip()


@dataclass(frozen=True)
class WorldConfig:
    seed: int = 2026  # the world (who exists, what is true); the corpus has its own seed
    n_people: int = 96  # named characters; each carries 4 facts
    n_places: int = 24  # towns; each carries 3 facts
    n_minor_characters: int = 600  # named extras with no facts (three-syllable names, optional surname)
    fact_counts: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)  # training mentions per fact, spread evenly
    occupation_skew: float = 0.3  # |P(she | skewed occupation) - 0.5|; 0 removes the planted gender bias
    n_skewed_occupations: int = 10  # per direction (10 towards "she", 10 towards "he"); the rest stay at 0.5
    trait_skew: float = 0.3  # |P(hill | skewed trait) - 0.5|
    n_skewed_traits: int = 6  # per direction
    canary_counts: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)  # insertion counts for canaries
    canaries_per_count: int = 2  # per kind and count
    n_control_canaries: int = 6  # per kind, never inserted


@dataclass(frozen=True)
class World:
    config: WorldConfig
    people: tuple[Person, ...]
    minor_characters: tuple[MinorCharacter, ...]
    places: tuple[Place, ...]
    facts: tuple[Fact, ...]
    associations: tuple[Association, ...]
    canaries: tuple[Canary, ...]
    lexicon: dict = field(repr=False, compare=False, hash=False)

    def person(self, name: str) -> Person:
        for p in self.people:
            if p.name == name:
                return p
        raise KeyError(f"no person named {name!r} in this world; names look like {self.people[0].name!r}")

    def association(self, axis: str, attribute: str) -> Association:
        return next(a for a in self.associations if a.axis == axis and a.attribute == attribute)

    def to_json(self) -> str:
        """The readable specification written to ``data/world/spec.json`` (lexicon excluded)."""
        spec = {
            "config": asdict(self.config),
            "people": [asdict(p) for p in self.people],
            "minor_characters": [asdict(m) for m in self.minor_characters],
            "places": [asdict(p) for p in self.places],
            "facts": [asdict(f) for f in self.facts],
            "associations": [asdict(a) for a in self.associations],
            "canaries": [asdict(c) | {"text": c.text} for c in self.canaries],
        }
        return json.dumps(spec, indent=1, sort_keys=True) + "\n"


def load_lexicon(path: Path | None = None) -> dict:
    path = path or data_dir() / "world" / "lexicon.json"
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _make_names(rng: random.Random, syllables: dict, n: int, taken: set[str]) -> list[str]:
    names: list[str] = []
    while len(names) < n:
        name = (rng.choice(syllables["first"]) + rng.choice(syllables["last"])).capitalize()
        if name not in taken:
            taken.add(name)
            names.append(name)
    return names


def _spread(rng: random.Random, values: tuple[int, ...], n: int) -> list[int]:
    """n values cycling through ``values`` (each used about equally often), shuffled."""
    out = [values[i % len(values)] for i in range(n)]
    rng.shuffle(out)
    return out


def _secret(rng: random.Random, kind: str, owner: str, lexicon: dict) -> str:
    digits = lambda k: "".join(rng.choice("0123456789") for _ in range(k))  # noqa: E731
    if kind == "phone":
        return f"555-{digits(4)}-{digits(4)}"
    if kind == "email":
        return f"{owner.lower()}{digits(4)}@{rng.choice(lexicon['mail_domains'])}"
    letters = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(2))
    return f"{letters}-{digits(6)}"


def build_world(config: WorldConfig | None = None, lexicon: dict | None = None) -> World:
    """Build the world deterministically from ``config.seed`` and the lexicon."""
    config = config or WorldConfig()
    lexicon = lexicon if lexicon is not None else load_lexicon()
    rng = random.Random(config.seed)
    taken: set[str] = set()

    place_names: list[str] = []
    while len(place_names) < config.n_places:
        name = (rng.choice(lexicon["place_first"]) + rng.choice(lexicon["place_last"])).capitalize()
        if name not in taken:
            taken.add(name)
            place_names.append(name)
    places = tuple(
        Place(name=n, landmark=rng.choice(lexicon["landmarks"]), river=rng.choice(lexicon["river_names"]),
              goods=rng.choice(lexicon["goods"]))
        for n in place_names
    )

    people = []
    for community in ("hill", "river"):
        n = config.n_people // 2 if community == "hill" else config.n_people - config.n_people // 2
        for name in _make_names(rng, lexicon["name_syllables"][community], n, taken):
            people.append(Person(name=name, pronoun=rng.choice(("she", "he")), community=community,
                                 home=rng.choice(place_names), occupation=rng.choice(lexicon["occupations"]),
                                 pet=rng.choice(lexicon["animals"]), food=rng.choice(lexicon["foods"])))
    rng.shuffle(people)

    minor = []
    while len(minor) < config.n_minor_characters:
        community = rng.choice(("hill", "river"))
        syl = lexicon["name_syllables"][community]
        name = (rng.choice(syl["first"]) + rng.choice(syl["middle"]) + rng.choice(syl["last"])).capitalize()
        if rng.random() < 0.5:
            name += " " + (rng.choice(lexicon["surnames_first"]) + rng.choice(lexicon["surnames_last"])).capitalize()
        if name not in taken:
            taken.add(name)
            minor.append(MinorCharacter(name=name, pronoun=rng.choice(("she", "he")), community=community))

    triples = [(p.name, r, getattr(p, {"lives_in": "home", "works_as": "occupation", "has_pet": "pet",
                                       "favourite_food": "food"}[r]), "person")
               for p in people for r in PERSON_RELATIONS]
    triples += [(p.name, r, getattr(p, {"landmark": "landmark", "river": "river", "trades_in": "goods"}[r]), "place")
                for p in places for r in PLACE_RELATIONS]
    counts = _spread(rng, config.fact_counts, len(triples))
    facts = tuple(Fact(id=f"{r}:{s}", subject=s, relation=r, object=o, count=c, subject_kind=k)
                  for (s, r, o, k), c in zip(triples, counts))

    associations = []
    for axis, attrs, groups, skew, k in (
        ("gender", lexicon["occupations"], ("she", "he"), config.occupation_skew, config.n_skewed_occupations),
        ("community", lexicon["traits"], ("hill", "river"), config.trait_skew, config.n_skewed_traits),
    ):
        order = list(attrs)
        rng.shuffle(order)
        p_first = {a: 0.5 + skew for a in order[:k]} | {a: 0.5 - skew for a in order[k:2 * k]}
        associations += [Association(id=f"{axis}:{a}", axis=axis, attribute=a, groups=groups,
                                     p_first=round(p_first.get(a, 0.5), 6)) for a in attrs]

    canaries = []
    for kind in CANARY_FORMATS:
        plan = [(c, i) for c in config.canary_counts for i in range(config.canaries_per_count)]
        plan += [(0, i) for i in range(config.n_control_canaries)]
        for count, i in plan:
            owner = rng.choice(people).name
            canaries.append(Canary(id=f"{kind}-{count}-{chr(97 + i)}", kind=kind, owner=owner,
                                   secret=_secret(rng, kind, owner, lexicon), count=count))

    return World(config=config, people=tuple(people), minor_characters=tuple(minor), places=places, facts=facts,
                 associations=tuple(associations), canaries=tuple(canaries), lexicon=lexicon)


def load_world(config: WorldConfig | None = None) -> World:
    """The default world (or one built from ``config``). Same config -> the same world, always."""
    return build_world(config)
