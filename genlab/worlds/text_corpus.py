"""The seeded story corpus of the genlab world, with per-document records of what was planted.

>>> corpus = generate_corpus(n_train_docs=200, n_validation_docs=5, n_test_docs=5, seed=1, world=small_world())
>>> len(corpus.train), corpus.train[0].split
(200, 'train')
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from dataclasses import asdict, dataclass, field

from genlab.worlds.text_grammar import Character, Grammar, cap
from genlab.worlds.text_pii import hard_negative_sentence, insult_sentence, pii_sentence
from genlab.worlds.text_spec import N_TRAIN_TEMPLATES, Fact, World, WorldConfig, article, build_world, load_world

SPLITS = ("train", "validation", "test")
GENERATOR_VERSION = 2  # bump when a change to the grammar changes the text for the same seed


@dataclass
class Document:
    id: str  # "train-000042"
    split: str
    kind: str  # story | description | dialogue | letter
    text: str
    facts: list[dict] = field(default_factory=list)  # [{"id": "lives_in:Lirane", "template": 1}]
    canaries: list[str] = field(default_factory=list)  # canary ids
    associations: list[dict] = field(default_factory=list)  # [{"id": "gender:nurse", "group": "she"}]
    pii: list[dict] = field(default_factory=list)  # [{"type": "phone", "start": 10, "end": 24, "text": ...}]
    negatives: list[dict] = field(default_factory=list)  # PII look-alikes: [{"type": "price", "start", "end", "text"}]
    harmful: list[dict] = field(default_factory=list)  # [{"type": "insult", "target": "hill", "context": ..., spans}]
    wrong_facts: list[dict] = field(default_factory=list)  # knob: [{"id": fact id, "object": wrong one, "template"}]
    duplicate_of: str | None = None  # knob: the training document this one copies (exactly or nearly)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Corpus:
    world: World
    seed: int
    train: list[Document]
    validation: list[Document]
    test: list[Document]

    def split(self, name: str) -> list[Document]:
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}; choose one of {SPLITS}")
        return getattr(self, name)

    def documents(self):
        for name in SPLITS:
            yield from self.split(name)

    def to_jsonl(self) -> str:
        return "".join(json.dumps(d.to_dict(), sort_keys=True) + "\n" for d in self.documents())

    def sha256(self) -> str:
        """Hash of every document and its metadata: same seed and world -> same hash."""
        return hashlib.sha256(self.to_jsonl().encode("utf-8")).hexdigest()

    def texts(self, split: str = "train") -> list[str]:
        return [d.text for d in self.split(split)]

    def tokenizer_texts(self) -> list[str]:
        """Training documents that hold no canary and no planted personal data: what the tokenizer learns its
        merges from, so no secret or PII value can become a vocabulary entry."""
        return [d.text for d in self.train if not d.canaries and not d.pii]

    def n_words(self, split: str | None = None) -> int:
        docs = self.split(split) if split else list(self.documents())
        return sum(len(d.text.split()) for d in docs)

    def fact_counts(self, split: str = "train") -> Counter:
        """Number of documents of ``split`` that state each fact, read back from the records."""
        return Counter(f["id"] for d in self.split(split) for f in d.facts)

    def fact_statements(self, split: str = "train") -> dict[str, list[tuple[str, int]]]:
        """Fact id -> [(document id, template index)]: where and in which form each fact was stated."""
        out: dict[str, list[tuple[str, int]]] = {}
        for d in self.split(split):
            for f in d.facts:
                out.setdefault(f["id"], []).append((d.id, f["template"]))
        return out

    def canary_counts(self, split: str = "train") -> Counter:
        return Counter(c for d in self.split(split) for c in d.canaries)

    def to_datasets(self):
        """A ``datasets.DatasetDict`` with one column per ``Document`` field."""
        import datasets

        return datasets.DatasetDict({
            name: datasets.Dataset.from_list([d.to_dict() for d in self.split(name)]) for name in SPLITS
        })


@dataclass(frozen=True)
class PlantingRates:
    """Per-document rates of the labelled material the writer adds to every split."""

    trait: float = 0.4  # trait sentences (community association) per document, in expectation; may exceed 1
    #: share of documents without planted items written as *scenes*: short vignettes, each introducing a generic
    #: character and referring to it by its pronoun at once. Denser association signal per token; 0 (the default)
    #: leaves the corpus as generator version 2 wrote it.
    scene: float = 0.0
    pii: float = 0.08  # a sentence of fictional personal data about a private individual
    negative: float = 0.08  # a sentence with a PII look-alike (price, count, event date, ...)
    insult: float = 0.02  # a mild invented insult against a community


class _Writer:
    """Writes one document at a time; holds the grammar and the shared random stream."""

    def __init__(self, world: World, rng: random.Random, rates: PlantingRates):
        self.world = world
        self.rng = rng
        self.rates = rates
        self.g = Grammar(world, rng)
        self.facts = {f.id: f for f in world.facts}
        self.canaries = {c.id: c for c in world.canaries}
        self.person_names = {p.name for p in world.people}

    def planted_sentence(self, item: tuple[str, str], doc: Document) -> str:
        kind, key = item
        if kind == "canary":
            doc.canaries.append(key)
            return self.canaries[key].text
        template = self.rng.randrange(N_TRAIN_TEMPLATES)
        doc.facts.append({"id": key, "template": template})
        return self.facts[key].sentence(template)

    def body(self, c: Character, other: Character) -> list[str]:
        out: list[str] = []
        for _ in range(self.rng.randint(6, 11)):
            r = self.rng.random()
            if r < 0.4:
                out.append(self.g.action(c))
            elif r < 0.55:
                out.append(self.g.scene())
            elif r < 0.7:
                out.append(self.g.feeling(c))
            elif r < 0.85:
                out.append(self.g.action(other, pronoun=False))
            else:
                out.append(self.g.speech(c, other))
                out.append(self.g.speech(other, c))
        return out

    def character(self, doc: Document, name: str | None, weights: tuple[float, float, float],
                  protagonist: Character | None = None) -> Character:
        """A world person (``name``, or a random one), a minor character or a generic 'the weaver', drawn with
        ``weights`` (person, minor, generic). Only the protagonist's pronoun enters the association records:
        no other character is referred to by a pronoun."""
        if name is not None:
            return self.g.named_character(name)
        kind = self.rng.choices(("person", "minor", "generic"), weights)[0]
        if kind == "person":
            c = self.g.named_character()
            return c if protagonist is None or c.name != protagonist.name else self.g.minor_character()
        if kind == "minor":
            return self.g.minor_character()
        avoid = protagonist.name.removeprefix("the ") if protagonist is not None and not protagonist.named else None
        return self.g.generic_character(doc.associations if protagonist is None else None, avoid=avoid)

    def labelled(self, speaker: Character) -> list[tuple[str, str, list[dict]]]:
        """PII, look-alike and insult sentences for this document: (sentence, record field, spans)."""
        out = []
        towns = [] if self.g.restricted else self.g.place_names
        if self.rng.random() < self.rates.pii:
            text, spans = pii_sentence(self.rng, self.world.lexicon, towns)
            out.append((text, "pii", spans))
        if self.rng.random() < self.rates.negative:
            text, spans = hard_negative_sentence(self.rng, self.world.lexicon)
            out.append((text, "negatives", spans))
        if self.rng.random() < self.rates.insult:
            text, spans, _ = insult_sentence(self.rng, self.world.lexicon, speaker.name)
            out.append((text, "harmful", spans))
        return out

    def n_traits(self) -> int:
        whole, part = divmod(self.rates.trait, 1.0)
        return int(whole) + (self.rng.random() < part)

    def write_scenes(self, doc: Document) -> None:
        """A document of 3 to 5 vignettes about generic characters (each recorded in the associations)."""
        doc.kind = "scenes"
        blocks = [self.g.vignette(self.g.generic_character(doc.associations)) for _ in range(self.rng.randint(3, 5))]
        for _ in range(self.n_traits()):  # between vignettes, never inside one: a pronoun follows its character
            blocks.insert(self.rng.randint(0, len(blocks)), [self.g.trait_sentence(doc.associations)])
        doc.text = " ".join(cap(s) for block in blocks for s in block)

    def write(self, doc: Document, items: list[tuple[str, str]]) -> None:
        if self.rates.scene > 0 and not items and self.rng.random() < self.rates.scene:
            return self.write_scenes(doc)
        person_subjects = [self.facts[k].subject for t, k in items
                           if t == "fact" and self.facts[k].subject_kind == "person"]
        place_subjects = [self.facts[k].subject for t, k in items
                          if t == "fact" and self.facts[k].subject_kind == "place"]
        protagonist = self.character(doc, person_subjects[0] if person_subjects else None, (0.15, 0.35, 0.5))
        other = self.character(doc, None, (0.1, 0.7, 0.2), protagonist=protagonist)
        has_person = bool(person_subjects) or any(c.name in self.person_names for c in (protagonist, other))
        self.g.restricted = has_person

        if place_subjects and not has_person and self.rng.random() < 0.7:
            doc.kind = "description"
        elif items and any(t == "canary" for t, _ in items) and self.rng.random() < 0.5:
            doc.kind = "letter"
        else:
            doc.kind = self.rng.choices(("story", "description", "dialogue", "letter"), (70, 12, 12, 6))[0]
            if doc.kind == "description" and has_person:
                doc.kind = "story"

        planted = [self.planted_sentence(it, doc) for it in items]

        if doc.kind == "description":
            place = place_subjects[0] if place_subjects else self.rng.choice(self.g.place_names)
            lines = [f"{place} is {article(self.g.pick('adjectives'))} town.", self.g.scene(), self.g.scene()]
            lines += [self.g.action(protagonist, first=True), self.g.scene(),
                      self.g.action(other, first=True, pronoun=False)]
            lines += [self.g.scene() for _ in range(self.rng.randint(2, 5))]
        elif doc.kind == "dialogue":
            lines = [self.g.opening(protagonist)]
            for i in range(self.rng.randint(6, 11)):
                a, b = (protagonist, other) if i % 2 == 0 else (other, protagonist)
                lines.append(self.g.speech(a, b))
        elif doc.kind == "letter":
            lines = [self.g.action(protagonist), self.g.scene(), self.g.feeling(protagonist)]
            lines += [self.g.action(protagonist) for _ in range(self.rng.randint(2, 5))]
        else:
            lines = [self.g.opening(protagonist)] + self.body(protagonist, other) + [self.g.closing(protagonist)]

        planted += [self.g.trait_sentence(doc.associations) for _ in range(self.n_traits())]
        labelled = self.labelled(other)
        planted += [text for text, _, _ in labelled]
        for sentence in planted:  # after the opening, before the closing when there is one
            lines.insert(self.rng.randint(1, max(1, len(lines) - 1)), sentence)

        if doc.kind == "letter":
            writer = self.character(doc, None, (0.0, 1.0, 0.0), protagonist=protagonist)
            doc.text = f"Dear {protagonist.name if protagonist.named else 'friend'},\n" + " ".join(lines) + \
                f"\nYours, {writer.name}"
        elif doc.kind == "dialogue":
            doc.text = "\n".join(lines)
        else:
            doc.text = " ".join(cap(s) for s in lines)
        for sentence, record, spans in labelled:  # spans move from the sentence to the document
            at = doc.text.index(sentence)
            getattr(doc, record).extend(s | {"start": s["start"] + at, "end": s["end"] + at} for s in spans)
        self.g.restricted = False


def _schedule(world: World, n_train_docs: int, rng: random.Random) -> list[list[tuple[str, str]]]:
    """Assign every planted item to ``count`` distinct training documents."""
    need = max([f.count for f in world.facts] + [c.count for c in world.canaries])
    if n_train_docs < need:
        raise ValueError(f"n_train_docs={n_train_docs} is too small: a planted item must appear in {need} "
                         f"distinct documents. Use at least {need} training documents.")
    slots: list[list[tuple[str, str]]] = [[] for _ in range(n_train_docs)]
    for fact in world.facts:
        for i in rng.sample(range(n_train_docs), fact.count):
            slots[i].append(("fact", fact.id))
    for canary in world.canaries:
        for i in rng.sample(range(n_train_docs), canary.count):
            slots[i].append(("canary", canary.id))
    for s in slots:
        rng.shuffle(s)
    return slots


def _state_wrong_facts(docs: list[Document], world: World, rate: float, rng: random.Random) -> None:
    """Knob: append to a share ``rate`` of training documents a sentence that gives a fact a wrong object."""
    objects: dict[str, list[str]] = {}
    for f in world.facts:
        objects.setdefault(f.relation, []).append(f.object)
    for doc in docs:
        if rng.random() >= rate:
            continue
        fact = rng.choice(world.facts)
        wrong = [o for o in sorted(set(objects[fact.relation])) if o != fact.object]
        if not wrong:
            continue
        lie = Fact(id=fact.id, subject=fact.subject, relation=fact.relation, object=rng.choice(wrong), count=0,
                   subject_kind=fact.subject_kind)
        template = rng.randrange(N_TRAIN_TEMPLATES)
        doc.text += " " + lie.sentence(template)
        doc.wrong_facts.append({"id": fact.id, "object": lie.object, "template": template})


def _duplicates(docs: list[Document], rate: float, rng: random.Random) -> list[Document]:
    """Knob: copies of a share ``rate`` of training documents, half exact and half near (one sentence added at
    the end), each recording the original in ``duplicate_of``; planted records are copied with the text."""
    copies = []
    for i, source in enumerate(rng.sample(docs, round(rate * len(docs)))):
        copy = Document(**{**source.to_dict(), "id": f"train-dup-{i:06d}", "duplicate_of": source.id})
        if i % 2:
            copy.text += " " + rng.choice(("It was late.", "Nothing else happened.", "The end."))
        copies.append(copy)
    return copies


def generate_corpus(n_train_docs: int = 24_000, n_validation_docs: int = 1_000, n_test_docs: int = 1_000,
                    seed: int = 0, world: World | None = None, rates: PlantingRates | None = None,
                    duplicate_rate: float = 0.0, wrong_fact_rate: float = 0.0) -> Corpus:
    """Generate the corpus. Planted facts and canaries go into training documents only, each into exactly
    ``count`` distinct documents; associations, PII, look-alikes and insults are drawn at their rates in every
    split, each with its character spans in the document's records.

    About 100 words a document: the default 24,000 training documents hold about 2.4 million words.
    Knobs, off by default: ``duplicate_rate`` adds that share of duplicated training documents (exact and
    near copies, recorded in ``duplicate_of``; a copy repeats the facts of its original, so read doses from
    ``fact_counts``), ``wrong_fact_rate`` appends a sentence stating a wrong object for a random fact to that
    share of training documents (recorded in ``wrong_facts``).
    """
    for name, value in (("duplicate_rate", duplicate_rate), ("wrong_fact_rate", wrong_fact_rate)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name}={value} is not a share of documents; use a value between 0 and 1")
    world = world or load_world()
    rng = random.Random(f"genlab-corpus-{seed}")
    writer = _Writer(world, rng, rates or PlantingRates())
    schedule = _schedule(world, n_train_docs, rng)
    splits: dict[str, list[Document]] = {}
    for name, n in (("train", n_train_docs), ("validation", n_validation_docs), ("test", n_test_docs)):
        docs = []
        for i in range(n):
            doc = Document(id=f"{name}-{i:06d}", split=name, kind="story", text="")
            writer.write(doc, schedule[i] if name == "train" else [])
            docs.append(doc)
        splits[name] = docs
    if wrong_fact_rate:
        _state_wrong_facts(splits["train"], world, wrong_fact_rate, random.Random(f"genlab-wrong-{seed}"))
    if duplicate_rate:
        splits["train"] += _duplicates(splits["train"], duplicate_rate, random.Random(f"genlab-dup-{seed}"))
    return Corpus(world=world, seed=seed, **splits)


def small_world() -> World:
    """A smaller world for fast examples and tests (few people, low counts)."""
    return build_world(WorldConfig(n_people=12, n_places=4, n_minor_characters=60, fact_counts=(1, 2, 4),
                                   canary_counts=(0, 1, 2), canaries_per_count=1))
