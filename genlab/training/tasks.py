"""Supervised fine-tuning tasks built from the genlab world, each with a held-out evaluation.

Two tasks, both as prompt/completion pairs:

- ``"world_qa"``: ``"Question: Where does Lirane live?\\nAnswer:"`` -> ``" Ambermere"``. Train and eval are split by
  FACT: the eval facts were stated in pretraining (``count`` times, recorded per item) but never asked about in QA
  fine-tuning, so eval accuracy measures whether QA fine-tuning unlocks knowledge the model already has.
  Metric: exact match (SQuAD normalisation) with a Clopper-Pearson interval.
- ``"story"``: ``"Write a story about a baker in Ambermere with a cat.\\n"`` -> a corpus-style story that mentions
  all three. Eval attribute combinations never occur in training. Metric: attribute coverage of a greedy
  generation (share of requested attributes present) with a bootstrap interval over prompts, plus the
  perplexity of the reference completions.

Training sequences follow genlab pretraining: ``<|endoftext|> prompt completion <|endoftext|>``, with the loss on
the completion (and the closing EOS) only; padding uses ``<pad>``, never EOS.

>>> from genlab.worlds.text import small_world
>>> task = build_task("world_qa", small_world(), seed=0, n_train=40, n_eval=20)
>>> task.eval[0]["prompt"].startswith("Question: "), task.eval[0]["completion"].startswith(" ")
(True, True)
>>> len(set(task.train["fact_id"]) & set(task.eval["fact_id"]))
0

**Limitations.** Exact match is a string test: a right answer in other words ("the baker's trade") counts as
wrong, and greedy decoding shows one answer, not what the model would rank second. Held-out QA can only unlock what
pretraining stored; check the facts in their pretraining form first (a cloze probe such as ``Fact.cloze``), or a
near-zero score says nothing about fine-tuning. Attribute coverage checks whole-word mentions only: a list of the
three words scores 1.0, and coherence, grammar and plot are not judged. Story pronouns follow the world's
occupation-gender associations, so the fine-tuning data carries the planted bias of the pretraining corpus.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from genlab.data.pairs import CompletionCollator, encode_pairs, quiet_datasets
from genlab.metrics.task_scores import (
    TaskScore,
    completion_perplexity,
    generate_completions,
    item_scores,
    mentions,
    normalize_answer,
    qa_exact_match,
    story_coverage,
)
from genlab.worlds.text_grammar import Character, Grammar, cap
from genlab.worlds.text_spec import World, article

__all__ = [
    "QUESTIONS", "TASKS", "CompletionCollator", "Task", "TaskScore", "build_task", "completion_perplexity",
    "encode_pairs", "generate_completions", "item_scores", "mentions", "normalize_answer", "qa_exact_match",
    "story_coverage", "write_story",
]

TASKS = ("world_qa", "story")

#: Relation -> question paraphrases. Training uses every paraphrase of a train fact; eval one per held-out fact.
QUESTIONS: dict[str, tuple[str, ...]] = {
    "lives_in": ("Where does {s} live?", "In which town is the home of {s}?"),
    "works_as": ("What does {s} work as?", "What is the trade of {s}?"),
    "has_pet": ("What pet does {s} have?", "Which animal does {s} keep as a pet?"),
    "favourite_food": ("What is the favourite food of {s}?", "What does {s} love to eat?"),
    "landmark": ("What is {s} known for?", "What do visitors to {s} come to see?"),
    "river": ("Which river does {s} lie beside?", "On which river does {s} stand?"),
    "trades_in": ("What does {s} trade in?", "What do the merchants of {s} sell?"),
}
QA_TEMPLATE = "Question: {query}\nAnswer:"
STORY_TEMPLATE = "{query}\n"


@dataclass
class Task:
    """Prompt/completion data for training and held-out evaluation, and the metric that scores a model on it."""

    name: str
    train: Any  # datasets.Dataset with columns prompt, completion, query (+ task metadata)
    eval: Any  # same columns; disjoint from train (by fact, or by attribute combination)
    metric: Callable[..., TaskScore]  # metric(bundle, dataset) -> TaskScore
    template: str  # prompt = template.format(query=query); perturbations edit the query only
    description: str = ""

    def evaluate(self, bundle, dataset=None, **kwargs) -> TaskScore:
        """Score ``bundle`` on ``dataset`` (default: the held-out eval set)."""
        return self.metric(bundle, self.eval if dataset is None else dataset, **kwargs)

    def map_queries(self, fn: Callable[[str, int], str], dataset=None):
        """The eval set (or ``dataset``) with every query replaced by ``fn(query, index)`` and prompts rebuilt."""
        ds = self.eval if dataset is None else dataset

        def edit(row, i):
            query = fn(row["query"], i)
            return {"query": query, "prompt": self.template.format(query=query)}

        with quiet_datasets():
            return ds.map(edit, with_indices=True)


# --- world QA ----------------------------------------------------------------------------------------------------
def _stratified_split(facts, n_train: int, n_eval: int, seed: int):
    """Eval facts drawn round-robin across pretraining counts, so every count is held out about equally often."""
    rng = random.Random(f"genlab-task-split-{seed}")
    groups: dict[int, list] = defaultdict(list)
    for f in facts:
        groups[f.count].append(f)
    for g in groups.values():
        rng.shuffle(g)
    order = []
    while any(groups.values()):
        for count in sorted(groups):
            if groups[count]:
                order.append(groups[count].pop())
    return order[n_eval : n_eval + n_train], order[:n_eval]


def _qa_rows(facts, paraphrases: Callable[[Any], Sequence[int]]) -> dict[str, list]:
    rows: dict[str, list] = defaultdict(list)
    for f in facts:
        for q in paraphrases(f):
            query = QUESTIONS[f.relation][q].format(s=f.subject)
            rows["prompt"].append(QA_TEMPLATE.format(query=query))
            rows["completion"].append(" " + f.object)
            rows["query"].append(query)
            rows["fact_id"].append(f.id)
            rows["relation"].append(f.relation)
            rows["count"].append(f.count)
            rows["answer"].append(f.object)
    return rows


def _world_qa(world: World, seed: int, n_train: int | None, n_eval: int | None) -> Task:
    import datasets

    n_facts = len(world.facts)
    n_eval = n_eval if n_eval is not None else n_facts // 3
    n_train = n_train if n_train is not None else n_facts - n_eval
    if n_train + n_eval > n_facts:
        raise ValueError(
            f"world_qa splits facts: n_train + n_eval = {n_train + n_eval} exceeds the world's "
            f"{n_facts} facts. Lower n_train/n_eval or use a larger world."
        )
    train_facts, eval_facts = _stratified_split(world.facts, n_train, n_eval, seed)
    rng = random.Random(f"genlab-qa-eval-{seed}")
    train = _qa_rows(train_facts, lambda f: range(len(QUESTIONS[f.relation])))
    evaluation = _qa_rows(eval_facts, lambda f: [rng.randrange(len(QUESTIONS[f.relation]))])
    return Task(
        name="world_qa",
        train=datasets.Dataset.from_dict(train),
        eval=datasets.Dataset.from_dict(evaluation),
        metric=qa_exact_match,
        template=QA_TEMPLATE,
        description=f"{len(train_facts)} training facts (all paraphrases), {len(eval_facts)} held-out facts",
    )


# --- controlled story generation ---------------------------------------------------------------------------------
def write_story(world: World, occupation: str, place: str, animal: str, rng: random.Random) -> str:
    """A corpus-style story (the world's grammar) about ``occupation`` in ``place`` with ``animal``, naming all three.

    The pronoun is drawn from the occupation's association in the world, as in the pretraining corpus.

    >>> from genlab.worlds.text import small_world
    >>> w = small_world()
    >>> s = write_story(w, "baker", w.places[0].name, "goat", random.Random(0))
    >>> all(mentions(s, a) for a in ("baker", w.places[0].name, "goat"))
    True
    """
    g = Grammar(world, rng)
    try:
        assoc = world.association("gender", occupation)
        pronoun = assoc.groups[0] if rng.random() < assoc.p_first else assoc.groups[1]
    except StopIteration:
        pronoun = rng.choice(("she", "he"))
    c = Character(name=f"the {occupation}", pronoun=pronoun, named=False, first_mention=article(occupation))
    opening = rng.choice(
        (
            f"Once there was {article(occupation)} who lived in {place}.",
            f"{cap(article(occupation))} lived in {place}.",
            f"In {place}, there lived {article(occupation)}.",
        )
    )
    _, fed = rng.choice(g.v_animal)
    pet = rng.choice(
        (
            f"The {occupation} had {article(animal)}, and it {g.pick('animal_actions')}.",
            f"Every day, the {occupation} {fed} the {animal}.",
            f"{cap(c.subj)} {fed} {article(animal)}, and it {g.pick('animal_actions')}.",
        )
    )
    body = [rng.choice((g.action, lambda _: g.scene(), g.feeling))(c) for _ in range(rng.randint(3, 6))]
    body.insert(rng.randint(0, len(body)), pet)
    return " ".join(cap(s) for s in [opening, *body, g.closing(c)])


def _story(world: World, seed: int, n_train: int | None, n_eval: int | None) -> Task:
    import datasets

    n_train = 400 if n_train is None else n_train
    n_eval = 100 if n_eval is None else n_eval
    occupations, animals = world.lexicon["occupations"], world.lexicon["animals"]
    places = [p.name for p in world.places]
    n_combos = len(occupations) * len(animals) * len(places)
    if n_train + n_eval > n_combos:
        raise ValueError(
            f"the story task needs distinct attribute combinations; {n_train + n_eval} requested but "
            f"this world has {n_combos}."
        )
    rng = random.Random(f"genlab-story-{seed}")
    combos: list[tuple[str, str, str]] = []
    seen = set()
    while len(combos) < n_train + n_eval:
        combo = (rng.choice(occupations), rng.choice(places), rng.choice(animals))
        if combo not in seen:  # eval combinations never occur in training
            seen.add(combo)
            combos.append(combo)

    def rows(part):
        out: dict[str, list] = defaultdict(list)
        for occ, place, animal in part:
            query = f"Write a story about {article(occ)} in {place} with {article(animal)}."
            out["prompt"].append(STORY_TEMPLATE.format(query=query))
            out["completion"].append(write_story(world, occ, place, animal, rng))
            out["query"].append(query)
            out["occupation"].append(occ)
            out["place"].append(place)
            out["animal"].append(animal)
        return datasets.Dataset.from_dict(out)

    return Task(
        name="story",
        train=rows(combos[n_eval:]),
        eval=rows(combos[:n_eval]),
        metric=story_coverage,
        template=STORY_TEMPLATE,
        description=f"{n_train} training stories, {n_eval} held-out combinations",
    )


def build_task(
    name: str, world: World | None = None, seed: int = 0, n_train: int | None = None, n_eval: int | None = None
) -> Task:
    """Build task ``name`` (``"world_qa"`` or ``"story"``) from ``world`` (default: the genlab world).

    ``n_train``/``n_eval`` count facts for ``world_qa`` (default: two thirds / one third of all facts) and
    attribute combinations for ``story`` (default 400 / 100).

    >>> from genlab.worlds.text import small_world
    >>> t = build_task("story", small_world(), seed=0, n_train=8, n_eval=4)
    >>> len(t.train), len(t.eval), t.eval[0]["prompt"].startswith("Write a story about")
    (8, 4, True)
    """
    from genlab.worlds.text import load_world

    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; choose one of {TASKS}")
    if (n_train is not None and n_train < 1) or (n_eval is not None and n_eval < 1):
        raise ValueError(f"n_train and n_eval must be positive, got {n_train} and {n_eval}")
    world = world or load_world()
    return (_world_qa if name == "world_qa" else _story)(world, seed, n_train, n_eval)
