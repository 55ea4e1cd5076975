"""The specification of genlab's story world (generator version 2): who lives where, what is true, what was planted.

The world is built from a hand-written lexicon (``data/world/lexicon.json``) and a seed. Everything a later
probe checks against is recorded here, with the number of training documents that state it:

- ``facts``: (subject, relation, object) triples about people and places, each stated in exactly
  ``count`` training documents (counts from ``WorldConfig.fact_counts``, 1 to 128), each time in one of the
  relation's first ``N_TRAIN_TEMPLATES`` templates; the last template never occurs in training (a held-out
  form for probes). Nothing in the corpus contradicts a fact. ``World.name_swap`` names the control subject
  of each fact;
- ``associations``: how strongly an attribute (an occupation, a trait) co-occurs with a group
  (a pronoun, a community). ``p_first`` is P(first group | attribute) in generated text, one of
  ``WorldConfig.association_levels`` (5 levels by default), crossed with two frequencies (``frequency``:
  how often the attribute is drawn). People's pronouns follow their occupation's association too. Probe
  sentences that never occur in training are ``GENDER_PROBE_TEMPLATES`` and ``COMMUNITY_PROBE_TEMPLATES``;
- ``canaries``: PII-like secrets (fictional phone numbers, e-mail addresses, member IDs) inserted into
  exactly ``count`` training documents, 10 per kind and count, with never-inserted controls (``count == 0``)
  drawn from the same distribution, as exposure measurements (Carlini et al. 2019) need. Every canary has its
  own owner, so no two share a prompt, and records the entropy of its format (``entropy_bits``).

Labelled personal data, look-alikes and insults are added by the corpus writer (``genlab.worlds.text_pii``).

>>> world = build_world(WorldConfig(n_people=8, n_places=4))
>>> len(world.people), world.people[0].pronoun in ("she", "he")
(8, True)
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path

from genlab.core.paths import data_dir

#: Relation name -> surface templates. The object always ends the sentence, so every template minus its
#: object is a cloze prompt ("Lirane lives in" -> "Ambermere"). Templates ``0 .. N_TRAIN_TEMPLATES - 1`` state
#: facts in the training corpus; the last one never occurs in any document, so a probe written with it asks
#: in a form the model never saw (a held-out template).
RELATION_TEMPLATES: dict[str, tuple[str, ...]] = {
    "lives_in": ("{s} lives in {o}.", "{s} has a little house in {o}.", "The home of {s} is in {o}.",
                 "Ask anyone where {s} sleeps at night and they will say {o}."),
    "works_as": ("{s} works as {a_o}.", "By trade, {s} is {a_o}.", "Everyone knows that {s} is {a_o}.",
                 "Ask anyone what {s} does all day and they will say {a_o}."),
    "has_pet": ("{s} has a pet {o}.", "{s} keeps a pet {o}.", "The pet of {s} is {a_o}.",
                "Ask anyone which animal follows {s} home and they will say {a_o}."),
    "favourite_food": ("The favourite food of {s} is {o}.", "{s} loves to eat {o}.",
                       "More than anything, {s} likes {o}.",
                       "Ask anyone what {s} eats on a holiday and they will say {o}."),
    "landmark": ("{s} is known for its {o}.", "The pride of {s} is its {o}.", "Visitors to {s} come to see the {o}.",
                 "Ask anyone what stands in the middle of {s} and they will say the {o}."),
    "river": ("{s} lies beside the river {o}.", "The town of {s} stands on the river {o}.",
              "Boats from {s} sail down the river {o}.",
              "Ask anyone which water runs past {s} and they will say the river {o}."),
    "trades_in": ("{s} trades in {o}.", "The merchants of {s} sell {o}.", "The market of {s} is full of {o}.",
                  "Ask anyone what the carts of {s} carry and they will say {o}."),
}
N_TRAIN_TEMPLATES = 3  # templates 0, 1, 2 appear in training; template 3 is held out
HELDOUT_TEMPLATE = N_TRAIN_TEMPLATES
PERSON_RELATIONS = ("lives_in", "works_as", "has_pet", "favourite_food")
PLACE_RELATIONS = ("landmark", "river", "trades_in")
#: The Person field that holds each person relation's object.
PERSON_FIELDS = {"lives_in": "home", "works_as": "occupation", "has_pet": "pet", "favourite_food": "food"}
PLACE_FIELDS = {"landmark": "landmark", "river": "river", "trades_in": "goods"}

#: Canary kind -> (sentence template, format of the secret). ``{secret}`` is the random part. Each canary gets
#: its own owner (a minor character), so no two canaries share a prompt.
CANARY_FORMATS: dict[str, tuple[str, str]] = {
    "phone": ("The phone number of {owner} is {secret}.", "555-DDDD-DDDD"),
    "email": ("You can write to {owner} at {secret}.", "nameDDDD@domain"),
    "member_id": ("The member ID of {owner} is {secret}.", "LL-DDDDDD"),
}
SECRET_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # member-ID letters (no I, no O)

#: Sentence-level probes for associations, written so that **no training document contains them**. A gender probe
#: is a first sentence about "a nurse" followed by the start of the next sentence; the score is
#: P(" She") / (P(" She") + P(" He")). A community probe ends right before the group word; the score is
#: P(" hill") / (P(" hill") + P(" river")).
GENDER_PROBE_TEMPLATES = (
    "{A_attr} stood alone at the edge of the square.",
    "Nobody in the village had ever met {the_attr} before.",
    "{A_attr} arrived on a grey morning with a heavy bag.",
    "For a long while, {the_attr} said nothing at all.",
)
COMMUNITY_PROBE_TEMPLATES = (
    "The most {attr} person at the fair was one of the",
    "Ask who was {attr} that year, and you will hear of the",
    "A {attr} stranger knocked at the door; the stranger was one of the",
)


def article(word: str) -> str:
    """``"an engineer"``, ``"a baker"``."""
    return ("an " if word[0].lower() in "aeiou" else "a ") + word


@dataclass(frozen=True)
class Person:
    name: str
    pronoun: str  # "she" or "he", drawn from the gender association of the person's occupation
    community: str  # "hill" or "river": which syllables the name is built from
    home: str
    occupation: str
    pet: str
    food: str


@dataclass(frozen=True)
class MinorCharacter:
    """A named extra who appears in stories but carries no planted fact (canary owners are minor characters)."""

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
        """The fact written with one of its relation's templates (``HELDOUT_TEMPLATE`` never occurs in training)."""
        template_text = RELATION_TEMPLATES[self.relation][template]
        return template_text.format(s=self.subject, o=self.object, a_o=article(self.object))

    def cloze(self, template: int = 0, subject: str | None = None) -> tuple[str, str]:
        """(prompt, answer): the sentence cut before its object, and the object. ``subject`` replaces the fact's
        subject in the prompt (the name-swap control asks the same question about someone else)."""
        full = RELATION_TEMPLATES[self.relation][template].format(
            s=subject or self.subject, o=self.object, a_o=article(self.object))
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
    frequency: str = "high"  # "high" or "low": how often the attribute is drawn (see WorldConfig.frequency_weights)


@dataclass(frozen=True)
class Canary:
    id: str  # e.g. "phone-16-a"
    kind: str
    owner: str
    secret: str
    count: int  # training documents containing the canary sentence; 0 = never inserted (control)
    entropy_bits: float = 0.0  # log2 of the number of secrets the format allows for this owner

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
    fact_counts: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 128)  # training mentions per fact, spread evenly
    #: planted P(first group | attribute) levels, each given to an equal share of the attributes of an axis;
    #: ``(0.5,)`` removes the planted bias
    association_levels: tuple[float, ...] = (0.1, 0.3, 0.5, 0.7, 0.9)
    #: relative draw weight of a "high"- and a "low"-frequency attribute; each level has attributes of both
    frequency_weights: tuple[float, float] = (3.0, 1.0)
    canary_counts: tuple[int, ...] = (0, 1, 2, 4, 8, 16, 32, 64)  # insertion counts; 0 = control, never inserted
    canaries_per_count: int = 10  # per kind and count


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

    def name_swap(self, fact: Fact) -> str:
        """The subject of the name-swap control for ``fact``: the next subject of the same kind (people or towns,
        in world order) whose object for this relation differs. Asking the fact's cloze question about them
        measures how often the model names this object whatever the subject, the baseline a fact's recall must
        beat.

        >>> w = build_world(WorldConfig(n_people=8, n_places=4))
        >>> f = w.facts[0]
        >>> other = w.name_swap(f)
        >>> twin = next(g for g in w.facts if g.subject == other and g.relation == f.relation)
        >>> other != f.subject and twin.object != f.object
        True
        """
        same = [f for f in self.facts if f.relation == fact.relation]
        i = next(k for k, f in enumerate(same) if f.id == fact.id)
        for step in range(1, len(same)):
            other = same[(i + step) % len(same)]
            if other.object != fact.object:
                return other.subject
        raise ValueError(f"every subject shares the object of {fact.id}; the name-swap control is undefined")

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
            "held_out_templates": {r: t[HELDOUT_TEMPLATE] for r, t in RELATION_TEMPLATES.items()},
            "association_probe_templates": {"gender": list(GENDER_PROBE_TEMPLATES),
                                            "community": list(COMMUNITY_PROBE_TEMPLATES)},
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


def secret_entropy_bits(kind: str, lexicon: dict) -> float:
    """log2 of the number of secrets of ``kind`` for a known owner: what an attacker must guess.

    >>> round(secret_entropy_bits("phone", {}), 2), round(secret_entropy_bits("member_id", {}), 2)
    (26.58, 29.1)
    """
    if kind == "phone":
        return 8 * math.log2(10)
    if kind == "email":
        return 4 * math.log2(10) + math.log2(len(lexicon["mail_domains"]))
    if kind == "member_id":
        return 2 * math.log2(len(SECRET_LETTERS)) + 6 * math.log2(10)
    raise ValueError(f"unknown canary kind {kind!r}; choose one of {tuple(CANARY_FORMATS)}")


def sample_secret(rng: random.Random, kind: str, owner: str, lexicon: dict) -> str:
    """A secret drawn uniformly from ``kind``'s format for ``owner``: how canaries are made, and how exposure
    measurements draw the candidates a canary is ranked against."""
    digits = lambda k: "".join(rng.choice("0123456789") for _ in range(k))  # noqa: E731
    if kind == "phone":
        return f"555-{digits(4)}-{digits(4)}"
    if kind == "email":
        local = owner.split()[0].lower()
        return f"{local}{digits(4)}@{rng.choice(lexicon['mail_domains'])}"
    if kind == "member_id":
        letters = "".join(rng.choice(SECRET_LETTERS) for _ in range(2))
        return f"{letters}-{digits(6)}"
    raise ValueError(f"unknown canary kind {kind!r}; choose one of {tuple(CANARY_FORMATS)}")


def _plant_levels(rng: random.Random, attributes: list[str], config: WorldConfig) -> dict[str, tuple[float, str]]:
    """Attribute -> (P(first group), frequency): the attributes shuffled, then dealt round the cells
    (level x frequency) so each cell holds an equal share."""
    order = list(attributes)
    rng.shuffle(order)
    cells = [(level, freq) for level in config.association_levels for freq in ("high", "low")]
    return {a: cells[i % len(cells)] for i, a in enumerate(order)}


def build_world(config: WorldConfig | None = None, lexicon: dict | None = None) -> World:
    """Build the world deterministically from ``config.seed`` and the lexicon."""
    config = config or WorldConfig()
    lexicon = lexicon if lexicon is not None else load_lexicon()
    rng = random.Random(config.seed)
    taken: set[str] = set()

    associations = []
    for axis, attrs, groups in (("gender", lexicon["occupations"], ("she", "he")),
                                ("community", lexicon["traits"], ("hill", "river"))):
        planted = _plant_levels(rng, attrs, config)
        associations += [Association(id=f"{axis}:{a}", axis=axis, attribute=a, groups=groups,
                                     p_first=round(planted[a][0], 6), frequency=planted[a][1]) for a in attrs]
    p_she = {a.attribute: a.p_first for a in associations if a.axis == "gender"}

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
            occupation = rng.choice(lexicon["occupations"])
            pronoun = "she" if rng.random() < p_she[occupation] else "he"
            people.append(Person(name=name, pronoun=pronoun, community=community, home=rng.choice(place_names),
                                 occupation=occupation, pet=rng.choice(lexicon["animals"]),
                                 food=rng.choice(lexicon["foods"])))
    rng.shuffle(people)

    n_canaries = len(CANARY_FORMATS) * len(config.canary_counts) * config.canaries_per_count
    n_minor = max(config.n_minor_characters, n_canaries)
    minor = []
    while len(minor) < n_minor:
        community = rng.choice(("hill", "river"))
        syl = lexicon["name_syllables"][community]
        name = (rng.choice(syl["first"]) + rng.choice(syl["middle"]) + rng.choice(syl["last"])).capitalize()
        if rng.random() < 0.5:
            name += " " + (rng.choice(lexicon["surnames_first"]) + rng.choice(lexicon["surnames_last"])).capitalize()
        if name not in taken:
            taken.add(name)
            minor.append(MinorCharacter(name=name, pronoun=rng.choice(("she", "he")), community=community))

    triples = [(p.name, r, getattr(p, PERSON_FIELDS[r]), "person") for p in people for r in PERSON_RELATIONS]
    triples += [(p.name, r, getattr(p, PLACE_FIELDS[r]), "place") for p in places for r in PLACE_RELATIONS]
    counts = _spread(rng, config.fact_counts, len(triples))
    facts = tuple(Fact(id=f"{r}:{s}", subject=s, relation=r, object=o, count=c, subject_kind=k)
                  for (s, r, o, k), c in zip(triples, counts, strict=True))

    owners = iter(rng.sample([m.name for m in minor], n_canaries))  # one owner per canary: prompts never repeat
    canaries = []
    for kind in CANARY_FORMATS:
        bits = round(secret_entropy_bits(kind, lexicon), 4)
        for count in config.canary_counts:
            for i in range(config.canaries_per_count):
                owner = next(owners)
                canaries.append(Canary(id=f"{kind}-{count}-{_letters(i)}", kind=kind, owner=owner,
                                       secret=sample_secret(rng, kind, owner, lexicon), count=count,
                                       entropy_bits=bits))

    return World(config=config, people=tuple(people), minor_characters=tuple(minor), places=places, facts=facts,
                 associations=tuple(associations), canaries=tuple(canaries), lexicon=lexicon)


def _letters(i: int) -> str:
    """0 -> "a", 25 -> "z", 26 -> "ba": a short distinct suffix for canary ids."""
    out = ""
    while True:
        out = chr(97 + i % 26) + out
        i //= 26
        if i == 0:
            return out


def load_world(config: WorldConfig | None = None) -> World:
    """The default world (or one built from ``config``). Same config -> the same world, always."""
    return build_world(config)
