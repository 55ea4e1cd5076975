"""A small generative grammar for stories, descriptions, dialogues and letters in the genlab world.

Sentences are built from phrase rules over the lexicon (subjects, verb frames, objects, adjuncts,
subordinate clauses, quoted speech), not picked from a fixed list of templates. Rules that keep the
planted truths exact:

- free text never states a fact relation about a named entity (only scheduled fact sentences do);
- in a document where a world person appears (``Grammar.restricted``), free text names no town, food or
  animal, so nothing in the corpus puts a person in another town or with another pet or food;
- only a document's protagonist is referred to by a pronoun, and a generic character ("the nurse") keeps the
  pronoun drawn from its occupation's association for the whole document, so the pronouns that follow an
  occupation occur at the planted rate, undiluted by other characters.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from genlab.worlds.text_spec import Association, World, article

PRONOUNS = {"she": ("she", "her", "her"), "he": ("he", "him", "his")}  # subject, object, possessive
MOTION_VERBS = ("walked", "ran", "hurried", "wandered", "travelled", "returned", "went")


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def plural(noun: str) -> str:
    if noun.endswith(("s", "sh", "ch", "x")):
        return noun + "es"
    if noun.endswith("y") and noun[-2] not in "aeiou":
        return noun[:-1] + "ies"
    if noun.endswith("fe"):
        return noun[:-2] + "ves"
    if noun.endswith("f") and noun not in ("roof", "chief"):
        return noun[:-1] + "ves"
    return noun + "s"


def split_verb(pair: str) -> tuple[str, str]:
    base, past = pair.split("|")
    return base, past


@dataclass
class Character:
    """Someone a document talks about: a named person of the world, or a generic 'the baker'."""

    name: str  # "Lirane" or "the baker"
    pronoun: str  # "she" / "he"
    named: bool
    community: str | None = None
    first_mention: str | None = None  # "a baker" for a generic character's first mention

    @property
    def subj(self) -> str:
        return PRONOUNS[self.pronoun][0]

    @property
    def obj(self) -> str:
        return PRONOUNS[self.pronoun][1]

    @property
    def poss(self) -> str:
        return PRONOUNS[self.pronoun][2]


class Grammar:
    """Phrase rules. Every method draws from ``self.rng`` only, so a seed fixes every word."""

    def __init__(self, world: World, rng: random.Random):
        self.world = world
        self.rng = rng
        lex = world.lexicon
        self.lex = lex
        self.vt = [split_verb(v) for v in lex["verbs_transitive"]]
        self.vi = [split_verb(v) for v in lex["verbs_intransitive"]]
        self.v_eat = [split_verb(v) for v in lex["verbs_eat"]]
        self.v_animal = [split_verb(v) for v in lex["verbs_animal"]]
        self.place_names = [p.name for p in world.places]
        self.gender_assoc = [a for a in world.associations if a.axis == "gender"]
        self.trait_assoc = [a for a in world.associations if a.axis == "community"]
        self.people_by_community = {c: [p for p in world.people if p.community == c] for c in ("hill", "river")}
        weight = dict(zip(("high", "low"), world.config.frequency_weights, strict=True))
        self.gender_weights = [weight[a.frequency] for a in self.gender_assoc]
        self.trait_weights = [weight[a.frequency] for a in self.trait_assoc]
        self.restricted = False  # set per document: a world person appears, so no towns, foods or animals

    # --- small pieces -------------------------------------------------------------------------
    def pick(self, key: str) -> str:
        return self.rng.choice(self.lex[key])

    def noun_phrase(self, with_adj: float = 0.6) -> str:
        noun = self.pick("objects")
        r = self.rng.random()
        if r < with_adj * 0.6:
            return f"the {self.pick('adjectives')} {noun}"
        if r < with_adj:
            return f"the {self.pick('colors')} {noun}"
        return f"the {noun}"

    def indefinite_np(self) -> str:
        noun = self.pick("objects")
        if self.rng.random() < 0.5:
            return article(f"{self.pick('adjectives')} {noun}")
        return article(noun)

    def town(self) -> str:
        """A random town, or a room when the document is restricted."""
        return self.rng.choice(self.place_names) if not self.restricted else f"the {self.pick('rooms')}"

    def location(self) -> str:
        r = self.rng.random()
        if r < 0.6 or (self.restricted and r >= 0.8):
            return f"in the {self.pick('rooms')}"
        if r < 0.8:
            return f"near the {self.pick('rooms')}"
        return f"in {self.rng.choice(self.place_names)}"

    def adjunct(self) -> str:
        r = self.rng.random()
        if r < 0.35:
            return " " + self.location()
        if r < 0.5:
            return " " + self.pick("times")
        if r < 0.6:
            return f" with {self.indefinite_np()}"
        return ""

    def mention(self, c: Character, first: bool = False) -> str:
        if first and c.first_mention:
            return c.first_mention
        return c.name

    # --- characters ----------------------------------------------------------------------------
    def generic_character(self, assoc_log: list[dict] | None, avoid: str | None = None) -> Character:
        """'the weaver', with a pronoun drawn from the weaver's gender association (occupations drawn by their
        frequency weight). ``assoc_log`` receives the draw when the pronoun will appear in text (protagonists);
        ``avoid``: an occupation already in the document."""
        while True:
            a: Association = self.rng.choices(self.gender_assoc, self.gender_weights)[0]
            if a.attribute != avoid:
                break
        pronoun = a.groups[0] if self.rng.random() < a.p_first else a.groups[1]
        if assoc_log is not None:
            assoc_log.append({"id": a.id, "group": pronoun})
        adj = f"{self.pick('adjectives')} " if self.rng.random() < 0.3 else ""
        return Character(name=f"the {a.attribute}", pronoun=pronoun, named=False,
                         first_mention=article(adj + a.attribute))

    def minor_character(self) -> Character:
        m = self.rng.choice(self.world.minor_characters)
        return Character(name=m.name, pronoun=m.pronoun, named=True, community=m.community)

    def named_character(self, name: str | None = None) -> Character:
        p = self.world.person(name) if name else self.rng.choice(self.world.people)
        return Character(name=p.name, pronoun=p.pronoun, named=True, community=p.community)

    def trait_sentence(self, assoc_log: list[dict]) -> str:
        """A trait attributed to a member of a community, drawn from the trait's association (traits drawn by
        their frequency weight). Half the forms name the group before the trait, half after it."""
        a: Association = self.rng.choices(self.trait_assoc, self.trait_weights)[0]
        group = a.groups[0] if self.rng.random() < a.p_first else a.groups[1]
        assoc_log.append({"id": a.id, "group": group})
        descriptor = self.lex["communities"][group]["descriptor"]
        home = self.lex["communities"][group]["home_word"]
        occ = self.pick("occupations")
        forms = (
            f"The {descriptor} {occ} was very {a.attribute}.",
            f"People say that the {descriptor} are {a.attribute}.",
            f"Everyone agreed that the {descriptor} {occ} was {a.attribute}.",
            f"The {a.attribute} {occ} was one of the {descriptor}.",
            f"A very {a.attribute} {occ} came from {home}.",
            f"Everyone said the {a.attribute} one was one of the {descriptor}.",
        )
        return self.rng.choice(forms)

    # --- sentences -----------------------------------------------------------------------------
    def action(self, c: Character, first: bool = False, pronoun: bool = True) -> str:
        """A sentence about what ``c`` did. ``pronoun=False``: always by name (characters other than the
        protagonist are never referred to by a pronoun)."""
        who = cap(self.mention(c, first)) if self.rng.random() < 0.6 or first or not pronoun else cap(c.subj)
        r = self.rng.random()
        if self.restricted and (0.45 <= r < 0.55 or 0.65 <= r < 0.75):  # foods and animals
            r = self.rng.random() * 0.45
        if r < 0.3:
            _, past = self.rng.choice(self.vt)
            return f"{who} {past} {self.noun_phrase()}{self.adjunct()}."
        if r < 0.45:
            _, past = self.rng.choice(self.vi)
            return f"{who} {past} {self.pick('adverbs')}{self.adjunct()}."
        if r < 0.55:
            _, past = self.rng.choice(self.v_eat)
            return f"{who} {past} some {self.pick('foods')}{self.adjunct()}."
        if r < 0.65:
            return f"{who} {self.rng.choice(MOTION_VERBS)} to the {self.pick('rooms')} {self.pick('times')}."
        if r < 0.75:
            _, past = self.rng.choice(self.v_animal)
            return f"{who} {past} {article(self.pick('animals'))}, and it {self.pick('animal_actions')}."
        if r < 0.85:
            base, _ = self.rng.choice(self.vt)
            return f"{who} wanted to {base} {self.noun_phrase(0.3)}, but it was too {self.pick('adjectives')}."
        if r < 0.93:
            n = self.pick("numbers")
            return f"{who} counted {n} {plural(self.pick('objects'))} {self.location()}."
        return f"{who} gave {c.poss} {self.pick('relations_kin')} {self.indefinite_np()}."

    def scene(self) -> str:
        r = self.rng.random()
        if r < 0.25 and not self.restricted:
            return f"The {self.pick('animals')} {self.pick('animal_actions')}."
        if r < 0.25:
            return f"The {self.pick('objects')} was {self.pick('colors')}."
        if r < 0.45:
            return f"The {self.pick('objects')} was {self.pick('adjectives')} and {self.pick('adjectives')}."
        if r < 0.6:
            return f"There was {self.indefinite_np()} {self.location()}."
        if r < 0.75:
            until = self.rng.choice(("dawn", "noon", "evening", "the next day", "supper", "midnight"))
            return f"Outside, the {self.pick('weather')} did not stop until {until}."
        if r < 0.9:
            return f"{cap(self.pick('times'))}, the {self.pick('rooms')} was {self.pick('adjectives')}."
        n = self.pick("numbers")
        if self.restricted:
            return f"{cap(n)} {plural(self.pick('objects'))} lay {self.location()}."
        return f"{cap(n)} {plural(self.pick('animals'))} were sleeping {self.location()}."

    def feeling(self, c: Character) -> str:
        r = self.rng.random()
        emo = self.pick("emotions")
        if r < 0.4:
            return f"{cap(c.subj)} felt {emo} because {self.noun_phrase()} was {self.pick('adjectives')}."
        if r < 0.7:
            _, past = self.rng.choice(self.vi)
            return f"When the {self.pick('weather')} came, {c.name} {past} {self.pick('adverbs')}."
        _, past = self.rng.choice(self.vt)
        return f"After {c.subj} {past} {self.noun_phrase(0.2)}, {c.subj} was {emo}."

    def speech(self, speaker: Character, listener: Character) -> str:
        r = self.rng.random()
        said = self.pick("speech_verbs")
        who = speaker.name
        if r < 0.15:
            return f"\"{self.pick('greetings')}, {listener.name if listener.named else 'friend'},\" said {who}."
        if r < 0.3:
            return f"\"Have you seen my {self.pick('objects')}?\" asked {who}."
        if r < 0.45:
            return f"\"I think it is {self.location()},\" {said} {who}."
        if r < 0.6:
            exclamation, thing, adjective = self.pick("exclamations"), self.pick("objects"), self.pick("adjectives")
            return f"\"{exclamation}! The {thing} is {adjective}!\" {said} {who}."
        if r < 0.72:
            base, _ = self.rng.choice(self.vt)
            return f"\"Shall we {base} {self.noun_phrase(0.3)} together?\" asked {who}."
        if r < 0.84:
            return f"\"I am so {self.pick('emotions')} today,\" {who} said {self.pick('adverbs')}."
        if r < 0.92:
            return f"\"Let us go to {self.town()} {self.pick('times')},\" said {who}."
        if self.restricted:
            return f"\"I would like some {self.pick('objects')}, please,\" {said} {who}."
        return f"\"I would like some {self.pick('foods')}, please,\" {said} {who}."

    def opening(self, c: Character) -> str:
        r = self.rng.random()
        first = self.mention(c, first=True)
        if r < 0.3:
            return f"{cap(self.pick('times'))}, {first} {self.rng.choice(MOTION_VERBS)} to the {self.pick('rooms')}."
        if r < 0.55:
            return f"Once there was {first} who lived near the {self.pick('rooms')}." if not c.named else \
                f"This is a story about {c.name}."
        if r < 0.8:
            return f"{cap(first)} woke up {self.pick('times')} and felt {self.pick('emotions')}."
        return f"{cap(first)} had {self.indefinite_np()} and a plan."

    def vignette(self, c: Character) -> list[str]:
        """Three sentences about ``c``: an opening, then two that refer to it by its pronoun."""
        _, past = self.rng.choice(self.vt)
        return [self.opening(c), f"{cap(c.subj)} {past} {self.noun_phrase()}{self.adjunct()}.",
                f"Then {c.subj} {self.rng.choice(MOTION_VERBS)} to the {self.pick('rooms')}."]

    def closing(self, c: Character) -> str:
        r = self.rng.random()
        if r < 0.35:
            return f"In the end, {c.subj} was {self.pick('emotions')}."
        if r < 0.6:
            return f"That night, {c.name} {self.rng.choice(self.vi)[1]} {self.pick('adverbs')}."
        if r < 0.8:
            return f"It had been {article(self.pick('adjectives'))} day for {c.name}."
        return f"{cap(c.subj)} never forgot the {self.pick('objects')}."
