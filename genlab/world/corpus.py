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

from genlab.world.grammar import Character, Grammar, cap
from genlab.world.spec import World, WorldConfig, build_world, load_world

SPLITS = ("train", "validation", "test")
GENERATOR_VERSION = 1  # bump when a change to the grammar changes the text for the same seed


@dataclass
class Document:
    id: str  # "train-000042"
    split: str
    kind: str  # story | description | dialogue | letter
    text: str
    facts: list[dict] = field(default_factory=list)  # [{"id": "lives_in:Lirane", "template": 1}]
    canaries: list[str] = field(default_factory=list)  # canary ids
    associations: list[dict] = field(default_factory=list)  # [{"id": "gender:nurse", "group": "she"}]

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

    def n_words(self, split: str | None = None) -> int:
        docs = self.split(split) if split else list(self.documents())
        return sum(len(d.text.split()) for d in docs)

    def fact_counts(self, split: str = "train") -> Counter:
        """Number of documents of ``split`` that state each fact, read back from the records."""
        return Counter(f["id"] for d in self.split(split) for f in d.facts)

    def canary_counts(self, split: str = "train") -> Counter:
        return Counter(c for d in self.split(split) for c in d.canaries)

    def to_datasets(self):
        """A ``datasets.DatasetDict`` with columns id, split, kind, text, facts, canaries, associations."""
        import datasets

        return datasets.DatasetDict({
            name: datasets.Dataset.from_list([d.to_dict() for d in self.split(name)]) for name in SPLITS
        })


class _Writer:
    """Writes one document at a time; holds the grammar and the shared random stream."""

    def __init__(self, world: World, rng: random.Random):
        self.world = world
        self.rng = rng
        self.g = Grammar(world, rng)
        self.facts = {f.id: f for f in world.facts}
        self.canaries = {c.id: c for c in world.canaries}
        self.places = {p.name: p for p in world.places}

    def planted_sentence(self, item: tuple[str, str], doc: Document) -> str:
        kind, key = item
        if kind == "canary":
            doc.canaries.append(key)
            return self.canaries[key].text
        template = self.rng.randrange(3)
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
                out.append(self.g.action(other))
            else:
                out.append(self.g.speech(c, other))
                out.append(self.g.speech(other, c))
        return out

    def character(self, doc: Document, name: str | None, weights: tuple[float, float, float]) -> Character:
        """A world person (``name``, or a random one), a minor character or a generic 'the weaver',
        drawn with ``weights`` (person, minor, generic)."""
        if name is not None:
            return self.g.named_character(name)
        kind = self.rng.choices(("person", "minor", "generic"), weights)[0]
        if kind == "person":
            return self.g.named_character()
        if kind == "minor":
            return self.g.minor_character()
        return self.g.generic_character(doc.associations)

    def write(self, doc: Document, items: list[tuple[str, str]]) -> None:
        person_subjects = [self.facts[k].subject for t, k in items
                           if t == "fact" and self.facts[k].subject_kind == "person"]
        place_subjects = [self.facts[k].subject for t, k in items
                          if t == "fact" and self.facts[k].subject_kind == "place"]
        if place_subjects and not person_subjects and self.rng.random() < 0.7:
            doc.kind = "description"
        elif items and any(t == "canary" for t, _ in items) and self.rng.random() < 0.5:
            doc.kind = "letter"
        else:
            doc.kind = self.rng.choices(("story", "description", "dialogue", "letter"), (70, 12, 12, 6))[0]

        protagonist = self.character(doc, person_subjects[0] if person_subjects else None, (0.3, 0.3, 0.4))
        other = self.character(doc, None, (0.2, 0.6, 0.2))
        planted = [self.planted_sentence(it, doc) for it in items]

        if doc.kind == "description":
            place = place_subjects[0] if place_subjects else self.rng.choice(self.g.place_names)
            lines = [f"{place} is a {self.g.pick('adjectives')} town.", self.g.scene(), self.g.scene()]
            lines += [self.g.action(protagonist, first=True), self.g.scene(), self.g.action(other, first=True)]
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

        if self.rng.random() < 0.4:
            planted.append(self.g.trait_sentence(doc.associations))
        for sentence in planted:  # after the opening, before the closing when there is one
            lines.insert(self.rng.randint(1, max(1, len(lines) - 1)), sentence)

        if doc.kind == "letter":
            writer = self.character(doc, None, (0.3, 0.7, 0.0))
            doc.text = f"Dear {protagonist.name if protagonist.named else 'friend'},\n" + " ".join(lines) + \
                f"\nYours, {writer.name}"
        elif doc.kind == "dialogue":
            doc.text = "\n".join(lines)
        else:
            doc.text = " ".join(cap(s) for s in lines)


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


def generate_corpus(n_train_docs: int = 30_000, n_validation_docs: int = 1_000, n_test_docs: int = 1_000,
                    seed: int = 0, world: World | None = None) -> Corpus:
    """Generate the corpus. Planted facts and canaries go into training documents only, each into exactly
    ``count`` distinct documents; associations are drawn at their configured strength in every split.

    About 86 words a document: the default 30,000 training documents hold about 2.6 million words;
    raise ``n_train_docs`` for more (planted counts stay as specified).
    """
    world = world or load_world()
    rng = random.Random(f"genlab-corpus-{seed}")
    writer = _Writer(world, rng)
    schedule = _schedule(world, n_train_docs, rng)
    splits: dict[str, list[Document]] = {}
    for name, n in (("train", n_train_docs), ("validation", n_validation_docs), ("test", n_test_docs)):
        docs = []
        for i in range(n):
            doc = Document(id=f"{name}-{i:06d}", split=name, kind="story", text="")
            writer.write(doc, schedule[i] if name == "train" else [])
            docs.append(doc)
        splits[name] = docs
    return Corpus(world=world, seed=seed, **splits)


def small_world() -> World:
    """A smaller world for fast examples and tests (few people, low counts)."""
    return build_world(WorldConfig(n_people=12, n_places=4, fact_counts=(1, 2, 4), canary_counts=(1, 2),
                                   canaries_per_count=1, n_control_canaries=1))
