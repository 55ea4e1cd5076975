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

>>> from genlab.world import small_world
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

import contextlib
import math
import random
import re
import string
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from genlab.generate import generate_ids
from genlab.world.grammar import Character, Grammar, cap
from genlab.world.spec import World, article

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
class TaskScore:
    """A task metric on one evaluation set: the value, its interval, and the per-item record behind it."""

    task: str
    metric: str  # "exact_match" | "attribute_coverage"
    value: float
    low: float
    high: float
    n: int  # evaluation items (prompts)
    interval: str  # how [low, high] was computed
    items: Any  # pandas DataFrame, one row per evaluation item
    extra: dict = field(default_factory=dict)  # e.g. {"completion_perplexity": 4.2}

    def by(self, column: str, confidence: float = 0.95):
        """Exact match per group (e.g. ``"count"``, pretraining mentions), each with a Clopper-Pearson interval."""
        import pandas as pd

        if "correct" not in self.items:
            raise ValueError(f"by() splits exact-match scores; {self.metric!r} items have no 'correct' column")
        rows = []
        for key, group in self.items.groupby(column, sort=True):
            k, n = int(group["correct"].sum()), len(group)
            low, high = clopper_pearson(k, n, confidence)
            rows.append({column: key, "n": n, "exact_match": k / n, "low": low, "high": high})
        return pd.DataFrame(rows)

    def as_row(self) -> dict:
        return {"score": self.value, "score_low": self.low, "score_high": self.high, "n_eval": self.n, **self.extra}


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


# --- intervals ---------------------------------------------------------------------------------------------------
def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact binomial interval for k successes in n trials (Clopper & Pearson, Biometrika 1934).

    >>> [round(x, 4) for x in clopper_pearson(5, 10)]
    [0.1871, 0.8129]
    """
    from genlab.metrics.stats import exact_binomial_ci

    ci = exact_binomial_ci(int(k), int(n), confidence)
    return ci.low, ci.high


# --- tokenisation: loss on the completion only ------------------------------------------------------------------
@contextlib.contextmanager
def quiet_datasets():
    """Silence ``datasets``' per-call progress bars ("Map: 100%") for small, fast maps; restore the setting after."""
    import datasets

    was_disabled = datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        if not was_disabled:
            datasets.enable_progress_bars()


def encode_pairs(tokenizer, dataset, max_length: int | None = None):
    """``input_ids = [BOS] prompt completion [EOS]`` and ``labels`` = -100 over BOS and the prompt.

    Prompt and completion are tokenised separately and concatenated, so the loss boundary falls exactly between
    them (completions start with a space or follow a newline, where byte-level BPE splits words anyway).

    >>> from genlab.tokenizer import train_tokenizer
    >>> import datasets
    >>> tok = train_tokenizer(["Question: where? Answer: here"] * 20, vocab_size=300)
    >>> pairs = datasets.Dataset.from_dict({"prompt": ["Question: where?"], "completion": [" here"]})
    >>> row = encode_pairs(tok, pairs)[0]
    >>> n_prompt = 1 + len(tok("Question: where?")["input_ids"])
    >>> row["labels"][:n_prompt] == [-100] * n_prompt, row["labels"][n_prompt:] == row["input_ids"][n_prompt:]
    (True, True)
    >>> row["input_ids"][0] == row["input_ids"][-1] == tok.eos_token_id
    True
    """
    if tokenizer.pad_token_id is None or tokenizer.pad_token_id == tokenizer.eos_token_id:
        raise ValueError(
            "the tokenizer needs a pad token distinct from EOS (genlab uses '<pad>'); otherwise the "
            "completion's closing EOS would be masked as padding and the model would not learn to stop"
        )
    missing = {"prompt", "completion"} - set(dataset.column_names)
    if missing:
        raise ValueError(f"the dataset needs 'prompt' and 'completion' columns; missing {sorted(missing)}")
    bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id
    max_length = max_length or getattr(tokenizer, "model_max_length", None) or 1024

    def encode(batch):
        prompts = tokenizer(batch["prompt"], add_special_tokens=False)["input_ids"]
        completions = tokenizer(batch["completion"], add_special_tokens=False)["input_ids"]
        ids, labels = [], []
        for p, c in zip(prompts, completions, strict=True):
            ids.append(([bos] + p + c + [eos])[:max_length])
            labels.append(([-100] * (1 + len(p)) + c + [eos])[:max_length])
        return {"input_ids": ids, "labels": labels, "length": [len(x) for x in ids]}

    with quiet_datasets():
        return dataset.map(encode, batched=True, remove_columns=dataset.column_names)


@dataclass
class CompletionCollator:
    """Right-pads ``input_ids`` with ``<pad>`` and ``labels`` with -100; builds the attention mask."""

    pad_token_id: int

    def __call__(self, features: list[dict]) -> dict[str, torch.Tensor]:
        width = max(len(f["input_ids"]) for f in features)
        ids = torch.full((len(features), width), self.pad_token_id, dtype=torch.long)  # (B, T)
        labels = torch.full((len(features), width), -100, dtype=torch.long)
        mask = torch.zeros((len(features), width), dtype=torch.long)
        for i, f in enumerate(features):
            n = len(f["input_ids"])
            ids[i, :n] = torch.as_tensor(f["input_ids"])
            labels[i, :n] = torch.as_tensor(f["labels"])
            mask[i, :n] = 1
        return {"input_ids": ids, "labels": labels, "attention_mask": mask}


# --- generation and scoring helpers ------------------------------------------------------------------------------
def _check_context(model, prompt_tokens: int, max_new_tokens: int) -> None:
    """Refuse a generation that would run past the model's positions (an IndexError deep inside otherwise)."""
    from genlab.generate import _context_length, virtual_prefix

    prefix = virtual_prefix(model)
    context = _context_length(model if prefix is None else prefix.base)
    used = prompt_tokens + max_new_tokens + (0 if prefix is None else prefix.length)
    if context and used > context:
        raise ValueError(
            f"prompts of {prompt_tokens} tokens plus max_new_tokens={max_new_tokens}"
            + ("" if prefix is None else f" plus {prefix.length} virtual tokens")
            + f" exceed the model's context of {context} positions; lower max_new_tokens"
        )


def generate_completions(bundle, prompts: Sequence[str], max_new_tokens: int, batch_size: int = 32) -> list[str]:
    """Greedy continuations of ``<|endoftext|> prompt`` (left-padded batches), without special tokens."""
    tok, model = bundle.tokenizer, bundle.model
    was_training = model.training
    model.eval()
    side, tok.padding_side = tok.padding_side, "left"  # generation continues from the right edge
    out: list[str] = []
    try:
        for start in range(0, len(prompts), batch_size):
            batch = [tok.bos_token + p for p in prompts[start : start + batch_size]]
            enc = tok(batch, return_tensors="pt", padding=True, add_special_tokens=False).to(bundle.device)
            _check_context(model, enc["input_ids"].shape[1], max_new_tokens)
            with torch.no_grad():  # generate_ids: prompt- and prefix-tuned peft models included
                new = generate_ids(
                    model,
                    enc["input_ids"],
                    enc["attention_mask"],
                    max_new_tokens=max_new_tokens,
                    do_sample=False,
                    pad_token_id=tok.pad_token_id,
                    eos_token_id=tok.eos_token_id,
                )
            out += tok.batch_decode(new, skip_special_tokens=True)
    finally:
        tok.padding_side = side
        model.train(was_training)
    return out


def completion_perplexity(bundle, dataset, batch_size: int = 32) -> float:
    """exp(mean NLL) over completion tokens (and the closing EOS) given their prompts; token-weighted."""
    enc = encode_pairs(bundle.tokenizer, dataset)
    collate = CompletionCollator(bundle.tokenizer.pad_token_id)
    nll, n = 0.0, 0
    model = bundle.model
    was_training = model.training
    model.eval()
    try:
        for start in range(0, len(enc), batch_size):
            batch = {
                k: v.to(bundle.device)
                for k, v in collate([enc[i] for i in range(start, min(start + batch_size, len(enc)))]).items()
            }
            with torch.no_grad():
                logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits.float()
            logits = logits[:, -batch["labels"].shape[1] :]  # prompt tuning prepends virtual tokens
            targets = batch["labels"][:, 1:]  # (B, T-1): token t is predicted at position t-1
            logp = torch.log_softmax(logits[:, :-1], dim=-1)
            keep = targets != -100
            token_nll = -logp.gather(2, targets.clamp(min=0)[..., None])[..., 0]
            nll += token_nll[keep].sum().item()
            n += int(keep.sum())
    finally:
        model.train(was_training)
    return math.exp(nll / n) if n else float("nan")


def normalize_answer(text: str) -> str:
    """SQuAD answer normalisation (Rajpurkar et al. 2016, official eval script): lower-case, drop punctuation,
    the articles a/an/the and extra whitespace.

    >>> normalize_answer("  The Old-Stone bridge. ")
    'oldstone bridge'
    """
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def mentions(text: str, attribute: str) -> bool:
    """Whole-word, case-insensitive mention of ``attribute`` in ``text``.

    >>> mentions("The Baker slept.", "baker"), mentions("the bakery", "baker")
    (True, False)
    """
    return re.search(rf"\b{re.escape(attribute)}\b", text, flags=re.IGNORECASE) is not None


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


def qa_exact_match(bundle, dataset, *, batch_size: int = 32, confidence: float = 0.95) -> TaskScore:
    """Exact match of greedy answers (first line, SQuAD-normalised) with a Clopper-Pearson interval."""
    import pandas as pd

    answers = list(dataset["answer"])
    n_new = max(len(bundle.tokenizer(" " + a, add_special_tokens=False)["input_ids"]) for a in answers) + 2
    raw = generate_completions(bundle, list(dataset["prompt"]), max_new_tokens=n_new, batch_size=batch_size)
    predictions = [r.split("\n")[0].strip() for r in raw]
    correct = [normalize_answer(p) == normalize_answer(a) for p, a in zip(predictions, answers, strict=True)]
    items = pd.DataFrame(
        {
            "fact_id": dataset["fact_id"],
            "relation": dataset["relation"],
            "count": dataset["count"],
            "query": dataset["query"],
            "answer": answers,
            "prediction": predictions,
            "correct": correct,
        }
    )
    k, n = sum(correct), len(correct)
    low, high = clopper_pearson(k, n, confidence)
    return TaskScore(
        task="world_qa",
        metric="exact_match",
        value=k / n,
        low=low,
        high=high,
        n=n,
        interval=f"Clopper-Pearson {confidence:.0%}",
        items=items,
        extra={"completion_perplexity": completion_perplexity(bundle, dataset, batch_size)},
    )


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

    >>> from genlab.world import small_world
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


def story_coverage(
    bundle,
    dataset,
    *,
    batch_size: int = 32,
    max_new_tokens: int = 120,
    confidence: float = 0.95,
    n_resamples: int = 2000,
) -> TaskScore:
    """Share of requested attributes that a greedy generation mentions, with a bootstrap interval over prompts
    (Efron & Tibshirani 1993)."""
    import pandas as pd

    from genlab.metrics.stats import bootstrap_ci

    stories = generate_completions(
        bundle, list(dataset["prompt"]), max_new_tokens=max_new_tokens, batch_size=batch_size
    )
    attrs = list(zip(dataset["occupation"], dataset["place"], dataset["animal"], strict=True))
    hits = [[mentions(s, a) for a in triple] for s, triple in zip(stories, attrs, strict=True)]
    items = pd.DataFrame(
        {
            "occupation": [a[0] for a in attrs],
            "place": [a[1] for a in attrs],
            "animal": [a[2] for a in attrs],
            "generation": stories,
            "has_occupation": [h[0] for h in hits],
            "has_place": [h[1] for h in hits],
            "has_animal": [h[2] for h in hits],
            "covered": [sum(h) for h in hits],
        }
    )
    # Every prompt requests 3 attributes, so the pooled rate is the mean of per-prompt rates. Resampling prompts
    # (not attributes) keeps the three attributes of one generation together: they are not independent.
    ci = bootstrap_ci(items["covered"].to_numpy() / 3, confidence=confidence, n_resamples=n_resamples, seed=0)
    return TaskScore(
        task="story",
        metric="attribute_coverage",
        value=ci.estimate,
        low=ci.low,
        high=ci.high,
        n=len(items),
        interval=f"bootstrap over prompts, {confidence:.0%} percentile, {n_resamples} resamples",
        items=items,
        extra={"completion_perplexity": completion_perplexity(bundle, dataset, batch_size)},
    )


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

    >>> from genlab.world import small_world
    >>> t = build_task("story", small_world(), seed=0, n_train=8, n_eval=4)
    >>> len(t.train), len(t.eval), t.eval[0]["prompt"].startswith("Write a story about")
    (8, 4, True)
    """
    from genlab.world import load_world

    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; choose one of {TASKS}")
    if (n_train is not None and n_train < 1) or (n_eval is not None and n_eval < 1):
        raise ValueError(f"n_train and n_eval must be positive, got {n_train} and {n_eval}")
    world = world or load_world()
    return (_world_qa if name == "world_qa" else _story)(world, seed, n_train, n_eval)
