"""Factual recall of the genlab world by cloze probes, split by how often a fact was seen in training.

Every planted fact is a (subject, relation, object) triple stated in exactly ``count`` training documents
(``genlab.worlds.text_spec``), so the world is its own answer key. (The other view of the same knowledge, the
hallucination rate of free text, scores texts and runs no model: :mod:`genlab.metrics.hallucination`.)

1. **Cloze probes** (Petroni et al. 2019, "Language Models as Knowledge Bases?", LAMA): each fact written with
   one of its relation's templates and cut before the object, "Guntha lives in" -> "Willowby".
   ``cloze_probes`` builds them; two scorings, per probe:

   - *generation exact match*: the greedy continuation names the answer (the rule is in ``match_option``);
   - *ranking*: log p(option | prompt), summed over the option's tokens (optionally with the closing "."),
     for the true object against every other object of the same relation in the world, as in
     multiple-choice scoring of lm-evaluation-harness (Gao et al. 2021). rank = 1 + number of other
     options scoring higher **or equal** (ties count against the model, so a model that scores every option
     alike gets no credit); reciprocal rank = 1 / rank; accuracy@1 = [rank == 1].

   Beside the sum, a length-normalised ranking (mean log-probability per answer token: ``correct_per_token``).
   The baseline is the **name-swap control** (``cloze_name_swap``): the same prompt about another world subject,
   scored against this fact's object; its accuracy is what the model gets without knowing the fact, where
   1 / #options is only uniform guessing. ``name_swap_comparison`` pairs the two by probe (exact McNemar test).

   ``accuracy_by_count`` aggregates by training frequency, the axis of Kandpal et al. 2023 ("Large Language
   Models Struggle to Learn Long-Tail Knowledge", ICML), with exact Clopper-Pearson (1934) intervals.

Scoring goes through a small protocol, ``genlab.probes.continuation_model.ContinuationModel`` (``continuation_logprobs``
and ``greedy``), so the ranking and matching logic can be checked without a trained model: ``FactOracle`` is a
fake that knows exactly the facts seen at least ``min_count`` times. A ``Bundle`` is scored by genlab's one
continuation scorer (``genlab.models.continuation``: all options of a probe in one forward pass, as a prefix tree
after the prompt) and decoded by its one greedy decoder.

>>> from genlab.worlds.text import small_world
>>> world = small_world()
>>> probes = cloze_probes(world, templates="canonical")
>>> scores = score_cloze(FactOracle(world, min_count=2), probes)
>>> print(accuracy_by_count(scores)[["count", "n", "accuracy"]].to_string(index=False))
 count  n  accuracy
     1 20       0.0
     2 20       1.0
     4 20       1.0

**Limitations.** Cloze probes measure recall of the exact templates seen in training, not
knowledge that transfers to new phrasings; the three templates of a fact are not independent trials, so use
``templates="canonical"`` when the Clopper-Pearson intervals must assume independence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from genlab.metrics.hallucination import relation_objects
from genlab.probes.continuation_model import BundleLM, as_continuation_model
from genlab.stats import rate_table
from genlab.worlds.text_spec import HELDOUT_TEMPLATE, N_TRAIN_TEMPLATES, RELATION_TEMPLATES, World, article


# ---------------------------------------------------------------------------------------------------------------
# Probes
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClozeProbe:
    id: str  # "lives_in:Gunka#t0": fact id and template index
    fact_id: str
    relation: str
    subject: str
    object: str  # the true object as stored in the world ("fisher")
    prompt: str  # the sentence cut before its object: "Gunka works as"
    answer: str  # the object as the sentence writes it: "a fisher"
    suffix: str  # what follows the object in the sentence: "."
    count: int  # training documents stating the fact
    template: int  # index into RELATION_TEMPLATES[relation]
    candidates: tuple[str, ...]  # every other object of the relation in the world, written like ``answer``

    @property
    def options(self) -> tuple[str, ...]:
        """The answer first, then the candidates: what ranking scores."""
        return (self.answer, *self.candidates)


def _uses_article(relation: str, template: int) -> bool:
    return "{a_o}" in RELATION_TEMPLATES[relation][template]


def cloze_probes(
    world: World,
    templates: Literal["all", "canonical", "heldout"] | Mapping[str, int] = "all",
    *,
    name_swap: bool = False,
) -> list[ClozeProbe]:
    """Cloze probes for every fact of ``world``.

    ``templates``: ``"all"`` (one probe per template the corpus states facts with), ``"canonical"`` (template 0),
    ``"heldout"`` (the template no training document uses: a form the model never saw), or a mapping
    fact id -> template index (e.g. the template each fact was stated with most often).

    ``name_swap=True`` builds the name-swap control: the same question about another subject
    (``World.name_swap``), with the fact's own object as the answer. Its accuracy is how often the model names
    that object whatever the subject: the baseline a fact's recall must beat. Ids end in ``#swap``.

    >>> from genlab.worlds.text import small_world
    >>> probes = cloze_probes(small_world())
    >>> len(probes), probes[1].prompt, probes[1].answer, probes[1].count
    (180, 'Guntha has a little house in', 'Willowby', 2)
    >>> probes[3].answer, probes[3].candidates[:2]
    ('a dancer', ('a baker', 'a cook'))
    >>> swap = cloze_probes(small_world(), "heldout", name_swap=True)[0]
    >>> swap.id, swap.subject != probes[0].subject, swap.answer == probes[0].answer
    ('lives_in:Guntha#t3#swap', True, True)
    """
    if isinstance(templates, str) and templates not in ("all", "canonical", "heldout"):
        raise ValueError(
            f"templates must be 'all', 'canonical', 'heldout' or a fact id -> index mapping, got {templates!r}"
        )
    probes = []
    for fact in world.facts:
        others = [o for o in relation_objects(world, fact.relation) if o != fact.object]
        if templates == "all":
            chosen = range(N_TRAIN_TEMPLATES)
        elif templates == "canonical":
            chosen = (0,)
        elif templates == "heldout":
            chosen = (HELDOUT_TEMPLATE,)
        else:
            chosen = (templates[fact.id],)
        subject = world.name_swap(fact) if name_swap else fact.subject
        for t in chosen:
            prompt, answer = fact.cloze(t, subject=subject)
            sentence = fact.sentence(t)
            suffix = sentence[sentence.rindex(answer) + len(answer) :]
            write = article if _uses_article(fact.relation, t) else (lambda o: o)
            probes.append(
                ClozeProbe(
                    id=f"{fact.id}#t{t}" + ("#swap" if name_swap else ""),
                    fact_id=fact.id,
                    relation=fact.relation,
                    subject=subject,
                    object=fact.object,
                    prompt=prompt,
                    answer=answer,
                    suffix=suffix,
                    count=fact.count,
                    template=t,
                    candidates=tuple(write(o) for o in others),
                )
            )
    return probes


# ---------------------------------------------------------------------------------------------------------------
# Models: a protocol, a fake that knows facts above a count, and the Bundle adapter
# ---------------------------------------------------------------------------------------------------------------
class FactOracle:
    """A fake model that knows exactly the world's facts with ``count >= min_count``.

    Known facts: the true continuation scores 0 and every other -1; greedy writes the answer. Unknown facts:
    the oracle believes the alphabetically first wrong object of the relation, which scores 0 while the truth
    scores -2; greedy writes that wrong object. Unknown prompts score 0 for every continuation (a tie).
    It stands for "a model that memorised every fact seen at least k times and nothing else".

    >>> from genlab.worlds.text import small_world
    >>> oracle = FactOracle(small_world(), min_count=2)
    >>> oracle.greedy(["Tyrmir works as", "Tyrmir lives in"], max_new_tokens=4)
    [' a cook.', ' Nettlemouth.']
    """

    def __init__(self, world: World, min_count: int):
        self.min_count = min_count
        self._belief: dict[str, tuple[str, str, str]] = {}  # prompt -> (object believed, true object, suffix)
        for p in cloze_probes(world):
            believed = p.answer if p.count >= min_count else min(p.candidates)
            self._belief[p.prompt] = (" " + believed, " " + p.answer, p.suffix)

    def continuation_logprobs(
        self, prompts: Sequence[str], continuations: Sequence[Sequence[str]]
    ) -> list[list[float]]:
        out = []
        for prompt, conts in zip(prompts, continuations, strict=True):
            if prompt not in self._belief:
                out.append([0.0] * len(conts))
                continue
            believed, true, suffix = self._belief[prompt]
            objs = [c.removesuffix(suffix) for c in conts]  # with or without the closing "."
            out.append([0.0 if o == believed else (-2.0 if o == true else -1.0) for o in objs])
        return out

    def greedy(self, prompts: Sequence[str], max_new_tokens: int) -> list[str]:
        return [self._belief[p][0] + self._belief[p][2] if p in self._belief else "" for p in prompts]


# ---------------------------------------------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------------------------------------------
def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def match_option(generation: str, options: Sequence[str]) -> str | None:
    """The option a generated continuation names, or None.

    The rule: lower-case both and collapse runs of whitespace (leading space dropped); an option matches when
    the generation starts with it and the next character is not a letter, digit, hyphen or apostrophe
    (so "Cinderfold." and "Cinderfold, where" match "Cinderfold", "Cinderfolds" does not). When several
    options match, the longest wins, so "fish stew" is not read as "fish".

    >>> match_option(" Fish stew and bread.", ["fish", "fish stew", "bread"])
    'fish stew'
    >>> match_option(" pigeon.", ["pig", "cat"]) is None
    True
    """
    gen = _norm(generation)
    best = None
    for opt in options:
        o = _norm(opt)
        at_boundary = gen.startswith(o) and not re.match(r"[\w'-]", gen[len(o) : len(o) + 1])
        if at_boundary and (best is None or len(o) > len(_norm(best))):
            best = opt
    return best


def _probe_frame(probes: Sequence[ClozeProbe]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [p.id for p in probes],
            "fact_id": [p.fact_id for p in probes],
            "relation": [p.relation for p in probes],
            "subject": [p.subject for p in probes],
            "template": [p.template for p in probes],
            "count": [p.count for p in probes],
            "prompt": [p.prompt for p in probes],
            "answer": [p.answer for p in probes],
        }
    )


def _check_probes(probes: Sequence[ClozeProbe]) -> None:
    if not probes:
        raise ValueError("no probes given; build them with cloze_probes(world)")
    if not all(isinstance(p, ClozeProbe) for p in probes):
        raise ValueError("probes must be ClozeProbe objects from cloze_probes(world)")


def generation_exact_match(
    model, probes: Sequence[ClozeProbe], *, max_new_tokens: int | None = None, batch_size: int = 64
) -> pd.DataFrame:
    """Greedy continuation of every probe and whether it names the answer (rule: ``match_option``).

    Columns: the probe's fields, ``generation``, ``predicted`` (the option it names, or None), ``exact_match``.
    ``max_new_tokens`` defaults to the longest option in tokens (whitespace words + 2 for a ``FactOracle``).

    >>> from genlab.worlds.text import small_world
    >>> w = small_world()
    >>> df = generation_exact_match(FactOracle(w, min_count=4), cloze_probes(w, "canonical"))
    >>> df.groupby("count")["exact_match"].mean().tolist()
    [0.0, 0.0, 1.0]
    """
    _check_probes(probes)
    lm = as_continuation_model(model, batch_size=batch_size)
    if max_new_tokens is None:
        options = sorted({" " + o + p.suffix for p in probes for o in p.options})
        if isinstance(lm, BundleLM):
            max_new_tokens = max(map(len, lm.bundle.tokenizer(options, add_special_tokens=False)["input_ids"]))
        else:
            max_new_tokens = max(len(o.split()) for o in options) + 2
    gens = lm.greedy([p.prompt for p in probes], max_new_tokens)
    predicted = [match_option(g, p.options) for g, p in zip(gens, probes, strict=True)]
    df = _probe_frame(probes)
    df["generation"] = gens
    df["predicted"] = predicted
    df["exact_match"] = [pred is not None and pred == p.answer for pred, p in zip(predicted, probes, strict=True)]
    return df


def candidate_ranking(
    model, probes: Sequence[ClozeProbe], *, batch_size: int = 32, with_suffix: bool = False
) -> pd.DataFrame:
    """Rank the true object among all objects of its relation by log p(" " + option | prompt), summed over tokens.

    ``with_suffix=True`` scores the rest of the sentence too (" " + option + "."). Without it (the default, as
    lm-evaluation-harness scores multiple choice), an option whose tokens are a prefix of another option's
    (" pig" and " pig" + "eon", if so tokenised) can never score below that longer option; with it the
    comparison is exact, at the cost of one more position per option and probe (about 4x slower on the default world).

    Columns: the probe's fields, ``logprob`` (of the answer, nats), ``best`` (the top option), ``rank``
    (1 + options scoring higher or equal), ``n_options``, ``reciprocal_rank``, ``correct`` (rank == 1) and
    ``chance`` (1 / n_options, the accuracy of uniform guessing: a floor, not the baseline; the baseline is the
    name-swap control, :func:`cloze_name_swap`).

    The length-normalised variant sits beside the sum: each option's log-probability divided by its number of
    tokens (lm-evaluation-harness's ``acc_norm`` divides by characters; per token is the mean log-probability
    of Brown et al. 2020): ``n_answer_tokens``, ``logprob_per_token``, ``rank_per_token``, ``correct_per_token``.
    The sum favours short options (every token costs probability); the mean favours options whose later tokens
    are easy once the first is chosen. Tokens are counted by the bundle's tokenizer (each continuation on its
    own, as the scorer tokenises it), by the model's ``count_tokens`` method when it has one, else as
    whitespace words.

    >>> from genlab.worlds.text import small_world
    >>> w = small_world()
    >>> df = candidate_ranking(FactOracle(w, min_count=2), cloze_probes(w, "canonical"))
    >>> print(df[["id", "rank", "n_options", "correct"]].head(3).to_string(index=False))
                    id  rank  n_options  correct
    lives_in:Guntha#t0     1          3     True
    works_as:Guntha#t0     1         12     True
     has_pet:Guntha#t0    12         12    False
    """
    _check_probes(probes)
    lm = as_continuation_model(model, batch_size=batch_size)
    conts = [[" " + o + (p.suffix if with_suffix else "") for o in p.options] for p in probes]
    scores = lm.continuation_logprobs([p.prompt for p in probes], conts)
    lengths = _continuation_lengths(lm, conts)
    df = _probe_frame(probes)
    true_lp, best, rank, n_tok, true_norm, rank_norm = [], [], [], [], [], []
    for p, s, n in zip(probes, scores, lengths, strict=True):
        s = np.asarray(s, dtype=float)
        if len(s) != len(p.options):
            raise ValueError(f"the model returned {len(s)} scores for {len(p.options)} options of probe {p.id}")
        true_lp.append(float(s[0]))
        best.append(p.options[int(np.argmax(s))])
        rank.append(1 + int(np.sum(s[1:] >= s[0])))  # ties count against the model
        norm = s / np.maximum(np.asarray(n, dtype=float), 1.0)  # mean log-probability per answer token
        n_tok.append(int(n[0]))
        true_norm.append(float(norm[0]))
        rank_norm.append(1 + int(np.sum(norm[1:] >= norm[0])))
    df["logprob"] = true_lp
    df["best"] = best
    df["rank"] = rank
    df["n_options"] = [len(p.options) for p in probes]
    df["reciprocal_rank"] = 1.0 / df["rank"]
    df["correct"] = df["rank"] == 1
    df["chance"] = 1.0 / df["n_options"]
    df["n_answer_tokens"] = n_tok
    df["logprob_per_token"] = true_norm
    df["rank_per_token"] = rank_norm
    df["correct_per_token"] = df["rank_per_token"] == 1
    return df


def _continuation_lengths(lm, conts: list[list[str]]) -> list[list[int]]:
    """Tokens of each continuation as the scorer counts them (see ``candidate_ranking``)."""
    flat = sorted({c for row in conts for c in row})
    if isinstance(lm, BundleLM):
        ids = lm.bundle.tokenizer(flat, add_special_tokens=False)["input_ids"] if flat else []
        size = {c: len(x) for c, x in zip(flat, ids, strict=True)}
    elif callable(getattr(lm, "count_tokens", None)):
        size = dict(zip(flat, lm.count_tokens(flat), strict=True))
    else:
        size = {c: len(c.split()) for c in flat}
    return [[size[c] for c in row] for row in conts]


def score_cloze(
    model,
    probes: Sequence[ClozeProbe],
    *,
    batch_size: int = 32,
    max_new_tokens: int | None = None,
    with_suffix: bool = False,
) -> pd.DataFrame:
    """Both scorings, one row per probe: the columns of ``generation_exact_match`` and ``candidate_ranking``.

    >>> from genlab.worlds.text import small_world
    >>> w = small_world()
    >>> df = score_cloze(FactOracle(w, min_count=4), cloze_probes(w))
    >>> len(df), round(float(df["exact_match"].mean()), 3), round(float(df["correct"].mean()), 3)
    (180, 0.333, 0.333)
    """
    lm = as_continuation_model(model, batch_size=batch_size)
    gen = generation_exact_match(lm, probes, max_new_tokens=max_new_tokens, batch_size=batch_size)
    rank = candidate_ranking(lm, probes, batch_size=batch_size, with_suffix=with_suffix)
    columns = ["id", "logprob", "best", "rank", "n_options", "reciprocal_rank", "correct", "chance"]
    columns += ["n_answer_tokens", "logprob_per_token", "rank_per_token", "correct_per_token"]
    return gen.merge(
        rank[columns],
        on="id",
        validate="one_to_one",
    )


def accuracy_by_count(
    scores: pd.DataFrame, column: str = "correct", by: Sequence[str] = (), confidence: float = 0.95
) -> pd.DataFrame:
    """Accuracy of a boolean ``column`` (``"correct"``: accuracy@1, ``"exact_match"``) by training count.

    One row per ``count`` (and per value of the extra ``by`` columns): n, k (successes), accuracy and its
    exact Clopper-Pearson interval. The interval treats probes as independent trials; the 3 templates of a
    fact are not, so with ``templates="all"`` read it as optimistic.

    >>> df = pd.DataFrame({"count": [1, 1, 2, 2, 2], "correct": [False, False, True, True, False]})
    >>> print(accuracy_by_count(df).round(4).to_string(index=False))
     count  n  k  accuracy  accuracy_low  accuracy_high
         1  2  0    0.0000        0.0000         0.8419
         2  3  2    0.6667        0.0943         0.9916
    """
    missing = [c for c in ("count", column, *by) if c not in scores.columns]
    if missing:
        raise ValueError(f"scores lack column(s) {missing}; pass the DataFrame of score_cloze / candidate_ranking")
    return rate_table(scores, column, [*by, "count"], name="accuracy", confidence=confidence)


#: The two cloze scorings: the column of ``candidate_ranking`` each reads, by name.
SCORINGS = {"summed log-prob": "correct", "per-token log-prob": "correct_per_token"}


def cloze_name_swap(
    model,
    world: World,
    templates: Literal["all", "canonical", "heldout"] | Mapping[str, int] = "canonical",
    *,
    batch_size: int = 32,
    with_suffix: bool = False,
    scores: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Cloze ranking of every probe beside its name-swap control, one row per probe, paired by fact and template.

    The control asks the same cloze question about another world subject whose object differs
    (``World.name_swap``) and counts it correct when the model still ranks *this* fact's object first. Its
    accuracy is the recall a model gets without knowing the fact (a relation's commonest object, a template's
    favourite word): the baseline recall must beat, where 1 / number of options is only uniform guessing.

    Columns: ``id``, ``fact_id``, ``relation``, ``subject``, ``swap_subject``, ``template``, ``count``,
    ``n_options``, ``chance``; for both scorings (summed and per-token log-probability, see
    :func:`candidate_ranking`) ``correct`` / ``correct_per_token`` on the real probe and ``correct_swap`` /
    ``correct_swap_per_token`` on its control; ``logprob`` and ``logprob_per_token`` of the real answer.
    ``scores``: the real probes already scored (the frame of :func:`score_cloze` or :func:`candidate_ranking` for
    ``cloze_probes(world, templates)``, with the same ``with_suffix``), so only the controls are scored here.

    ``FactOracle`` knows the facts seen twice or more and, for a fact it does not know, names the alphabetically
    first wrong object; asked about the swapped subject it sometimes names this fact's object that way, so the
    control sits above zero at every count (10-15% here), above the count-1 recall of the real probes:

    >>> from genlab.worlds.text import small_world
    >>> df = cloze_name_swap(FactOracle(small_world(), min_count=2), small_world())
    >>> df.groupby("count")[["correct", "correct_swap"]].mean().to_dict("list")
    {'correct': [0.0, 1.0, 1.0], 'correct_swap': [0.15, 0.1, 0.1]}
    """
    probes = cloze_probes(world, templates)
    if scores is None:
        real = candidate_ranking(model, probes, batch_size=batch_size, with_suffix=with_suffix)
    elif "correct_per_token" not in scores.columns or sorted(scores["id"]) != sorted(p.id for p in probes):
        raise ValueError("scores must be score_cloze / candidate_ranking's frame for cloze_probes(world, templates)")
    else:
        real = scores
    swap = candidate_ranking(
        model, cloze_probes(world, templates, name_swap=True), batch_size=batch_size, with_suffix=with_suffix
    )
    keep = [
        "id",
        "fact_id",
        "relation",
        "subject",
        "template",
        "count",
        "n_options",
        "chance",
        "logprob",
        "logprob_per_token",
        "correct",
        "correct_per_token",
    ]
    out = real[keep].merge(
        swap[["fact_id", "template", "subject", "correct", "correct_per_token"]].rename(
            columns={
                "subject": "swap_subject",
                "correct": "correct_swap",
                "correct_per_token": "correct_swap_per_token",
            }
        ),
        on=["fact_id", "template"],
        validate="one_to_one",
    )
    return out


def name_swap_comparison(
    paired: pd.DataFrame, *, confidence: float = 0.95, seed: int = 0, method: str = "holm"
) -> pd.DataFrame:
    """Recall against the name-swap control, paired by probe, for each scoring (rows of ``SCORINGS``).

    Per scoring: ``n`` probes; ``accuracy`` and ``swap_accuracy``, each with its exact Clopper-Pearson interval;
    ``difference`` = accuracy - swap accuracy with a paired percentile bootstrap interval over probes
    (``difference_low`` / ``difference_high``); ``p_value`` of the exact McNemar test (a two-sided binomial test
    of the discordant probes, McNemar 1947); and the p-values adjusted over the two scorings (one family,
    ``family``, ``correction``: Holm by default, ``p_adjusted``). ``paired``: the frame of :func:`cloze_name_swap`.

    >>> from genlab.worlds.text import small_world
    >>> t = name_swap_comparison(cloze_name_swap(FactOracle(small_world(), min_count=2), small_world()))
    >>> t[["scoring", "n", "accuracy", "swap_accuracy", "difference"]].round(3).values.tolist()
    [['summed log-prob', 60, 0.667, 0.117, 0.55], ['per-token log-prob', 60, 0.667, 0.117, 0.55]]
    >>> bool((t["p_adjusted"] < 1e-6).all()), t["correction"].iloc[0]
    (True, 'holm')

    **Limitations.** With ``templates="all"`` the probes of one fact are not independent and every interval and
    p-value here is too optimistic; use one template per fact. The control's subject may share other facts with
    the real subject, and a model can know the swapped subject's own object for this relation: the control is
    then correct only when it prefers this fact's (wrong for them) object.
    """
    from scipy.stats import binomtest

    from genlab.stats import adjust_family, exact_binomial_ci, paired_bootstrap

    rows = []
    for scoring, column in SCORINGS.items():
        swap_column = column.replace("correct", "correct_swap")
        missing = [c for c in (column, swap_column) if c not in paired.columns]
        if missing:
            raise ValueError(f"the frame lacks {missing}; pass the DataFrame of cloze_name_swap")
        a = paired[column].astype(bool).to_numpy()
        b = paired[swap_column].astype(bool).to_numpy()
        n = len(a)
        if n < 2:
            raise ValueError(f"need at least 2 probes, got {n}")
        real_ci, swap_ci = (
            exact_binomial_ci(int(a.sum()), n, confidence),
            exact_binomial_ci(int(b.sum()), n, confidence),
        )
        boot = paired_bootstrap(a.astype(float), b.astype(float), confidence=confidence, seed=seed)
        only_real, only_swap = int((a & ~b).sum()), int((~a & b).sum())
        p = binomtest(only_real, only_real + only_swap, 0.5).pvalue if only_real + only_swap else 1.0
        rows.append(
            {
                "scoring": scoring,
                "n": n,
                "accuracy": real_ci.estimate,
                "accuracy_low": real_ci.low,
                "accuracy_high": real_ci.high,
                "swap_accuracy": swap_ci.estimate,
                "swap_accuracy_low": swap_ci.low,
                "swap_accuracy_high": swap_ci.high,
                "difference": boot.difference,
                "difference_low": boot.low,
                "difference_high": boot.high,
                "p_value": float(p),
                "test": "exact McNemar",
            }
        )
    return adjust_family(pd.DataFrame(rows), family_col=None, family="recall vs name-swap control", method=method)


def name_swap_by_count(paired: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Accuracy by training count of the real probes and of their name-swap controls, for both scorings: one
    row per (``scoring``, ``probe``, ``count``) with n, k, accuracy and its exact interval; ``series`` names the
    line ("summed log-prob: real").

    >>> from genlab.worlds.text import small_world
    >>> t = name_swap_by_count(cloze_name_swap(FactOracle(small_world(), min_count=4), small_world()))
    >>> t = t[t.scoring == "summed log-prob"].pivot(index="count", columns="probe", values="accuracy")
    >>> t[["real", "name swap"]].round(2).values.tolist()
    [[0.0, 0.2], [0.0, 0.1], [1.0, 0.15]]
    """
    parts = []
    for scoring, column in SCORINGS.items():
        for probe, col in (("real", column), ("name swap", column.replace("correct", "correct_swap"))):
            df = accuracy_by_count(paired, column=col, confidence=confidence)
            parts.append(df.assign(scoring=scoring, probe=probe, series=f"{scoring}: {probe}"))
    columns = ["scoring", "probe", "series", "count", "n", "k", "accuracy", "accuracy_low", "accuracy_high"]
    return pd.concat(parts, ignore_index=True)[columns]


# ---------------------------------------------------------------------------------------------------------------
# Registered per-probe metrics (the DataFrame functions above carry the details)
# ---------------------------------------------------------------------------------------------------------------
def cloze_exact_match(
    model, probes: Sequence[ClozeProbe], *, max_new_tokens: int | None = None, batch_size: int = 64
) -> list[float]:
    """Greedy continuation names the probe's answer (1.0) or not (0.0); see ``match_option`` for the rule.

    >>> from genlab.worlds.text import small_world
    >>> w = small_world()
    >>> cloze_exact_match(FactOracle(w, min_count=2), cloze_probes(w, "canonical")[:4])
    [1.0, 1.0, 0.0, 1.0]
    """
    df = generation_exact_match(model, probes, max_new_tokens=max_new_tokens, batch_size=batch_size)
    return df["exact_match"].astype(float).tolist()


def cloze_accuracy(
    model, probes: Sequence[ClozeProbe], *, batch_size: int = 32, with_suffix: bool = False
) -> list[float]:
    """Accuracy@1 of ranking the true object above every other object of its relation (ties count as wrong).

    >>> from genlab.worlds.text import small_world
    >>> w = small_world()
    >>> cloze_accuracy(FactOracle(w, min_count=2), cloze_probes(w, "canonical")[:4])
    [1.0, 1.0, 0.0, 1.0]
    """
    df = candidate_ranking(model, probes, batch_size=batch_size, with_suffix=with_suffix)
    return df["correct"].astype(float).tolist()


def cloze_reciprocal_rank(
    model, probes: Sequence[ClozeProbe], *, batch_size: int = 32, with_suffix: bool = False
) -> list[float]:
    """1 / rank of the true object among all objects of its relation; the mean is the MRR.

    >>> from genlab.worlds.text import small_world
    >>> w = small_world()
    >>> cloze_reciprocal_rank(FactOracle(w, min_count=2), cloze_probes(w, "canonical")[:3])
    [1.0, 1.0, 0.08333333333333333]
    """
    df = candidate_ranking(model, probes, batch_size=batch_size, with_suffix=with_suffix)
    return df["reciprocal_rank"].tolist()
