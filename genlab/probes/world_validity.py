"""Does the model know its world? What the corpus planted against what the model learned, in three measurements.

Each is read against the ground truth of ``genlab.worlds.text``:

- **Facts** (:func:`fact_recall`): cloze accuracy@1 among all objects of a relation, by how many training documents
  stated the fact, asked with the template the fact was stated with most often (*seen*), with the template no
  training document uses (*held-out*), and the name-swap control (the seen question about another subject, whose
  accuracy is how often the model names that object whatever the subject). Exact Clopper-Pearson intervals
  (:func:`recall_by_count`).
- **Associations** (:mod:`genlab.probes.next_token_association`): the model's P(first group | attribute) on probe
  sentences that occur in no training document (``association_probe``), against the planted strength; Pearson r
  and the least-squares slope with bootstrap intervals over attributes (``association_fit``).
- **Canaries** (:func:`genlab.probes.exposure.canary_exposure`): exposure by insertion count, controls at 0.

:func:`world_validity` runs all three and :func:`validity_summary` reduces them to the numbers the default model's
manifest records and ``python -m genlab.recipes.default_model check`` compares with :data:`TARGETS`. Notebook 02
shows each measurement step by step.

**Limitations.** Cloze accuracy ranks the answer among the relation's objects in this world; it is not free
recall. The association probe reads one next-token distribution per sentence and normalises over two
words, so it says nothing about how often the model *writes* a pronoun after an occupation. The seen template
of a count-1 fact is the only form the model saw, so seen and held-out differ most there.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from genlab.probes.cloze import accuracy_by_count, candidate_ranking, cloze_probes
from genlab.probes.exposure import canary_exposure
from genlab.probes.next_token_association import association_fit, association_probe
from genlab.worlds.text_corpus import Corpus
from genlab.worlds.text_spec import World

#: What the default model must show (issue "A world the default model demonstrably knows").
TARGETS = {
    "fact_seen_accuracy_at_top_count": 0.8,  # >= at the highest count
    "association_pearson_r": 0.9,  # >=, over attributes of both axes
    "association_slope": (0.7, 1.3),
}


def seen_templates(corpus: Corpus) -> dict[str, int]:
    """Fact id -> the template its training statements used most often (the lowest index on a tie)."""
    out = {}
    for fact_id, statements in corpus.fact_statements("train").items():
        counts = Counter(t for _, t in statements)
        out[fact_id] = min(counts, key=lambda t: (-counts[t], t))
    return out


def fact_recall(bundle, corpus: Corpus, *, batch_size: int = 32) -> pd.DataFrame:
    """One row per fact: ``count``, ``relation``, ``correct_seen``, ``correct_heldout``, ``correct_swap``
    (accuracy@1 of the seen template, the held-out template and the name-swap control), and the answer's
    log-probability with the seen template, summed (``logprob_seen``) and per answer token
    (``logprob_seen_per_token``, for a ``Bundle``). ``bundle``: a ``Bundle`` or any ``ContinuationModel``.

    >>> from genlab.probes.cloze import FactOracle
    >>> from genlab.worlds.text import generate_corpus, small_world
    >>> corpus = generate_corpus(n_train_docs=200, n_validation_docs=0, n_test_docs=0, world=small_world())
    >>> recall = fact_recall(FactOracle(corpus.world, min_count=2), corpus)   # knows facts seen twice or more
    >>> recall.groupby("count")[["correct_seen", "correct_heldout"]].mean().to_dict("list")
    {'correct_seen': [0.0, 1.0, 1.0], 'correct_heldout': [0.0, 0.0, 0.0]}
    """
    world = corpus.world
    seen = seen_templates(corpus)
    frames = {}
    for name, probes in (("seen", cloze_probes(world, seen)), ("heldout", cloze_probes(world, "heldout")),
                         ("swap", cloze_probes(world, seen, name_swap=True))):
        frames[name] = candidate_ranking(bundle, probes, batch_size=batch_size).set_index("fact_id")
    base = frames["seen"]
    out = pd.DataFrame({"count": base["count"], "relation": base["relation"], "template_seen": base["template"],
                        "correct_seen": base["correct"], "correct_heldout": frames["heldout"]["correct"],
                        "correct_swap": frames["swap"]["correct"], "chance": base["chance"],
                        "logprob_seen": base["logprob"]})
    tokenizer = getattr(bundle, "tokenizer", None)  # a ContinuationModel fake has none
    if tokenizer is not None:
        n_tokens = [len(tokenizer(" " + a, add_special_tokens=False)["input_ids"]) for a in base["answer"]]
        out["logprob_seen_per_token"] = out["logprob_seen"] / np.asarray(n_tokens)
    return out.reset_index()


def recall_by_count(recall: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Accuracy@1 by training count for the seen template, the held-out template and the name-swap control, each
    with its exact interval: columns ``probe`` (seen / heldout / swap), ``count``, ``n``, ``k``, ``accuracy``,
    ``accuracy_low``, ``accuracy_high``."""
    parts = []
    for probe in ("seen", "heldout", "swap"):
        df = accuracy_by_count(recall, column=f"correct_{probe}", confidence=confidence)
        parts.append(df.assign(probe=probe))
    columns = ["probe", "count", "n", "k", "accuracy", "accuracy_low", "accuracy_high"]
    return pd.concat(parts, ignore_index=True)[columns]


def exposure_subset(world: World, per_count: int) -> list:
    """The first ``per_count`` canaries of every kind and count: a stratified subset for quicker exposure runs."""
    seen: Counter = Counter()
    out = []
    for c in world.canaries:
        if seen[(c.kind, c.count)] < per_count:
            seen[(c.kind, c.count)] += 1
            out.append(c)
    return out


def world_validity(bundle, corpus: Corpus, *, canaries_per_count: int | None = 2, n_references: int = 10_000,
                   seed: int = 0) -> dict[str, pd.DataFrame]:
    """All three measurements: ``{"facts": fact_recall, "facts_by_count": recall_by_count, "associations":
    association_probe, "exposure": canary_exposure}``. ``canaries_per_count``: a stratified subset of the canaries
    (``None``: all of them)."""
    recall = fact_recall(bundle, corpus)
    canaries = None if canaries_per_count is None else exposure_subset(corpus.world, canaries_per_count)
    return {"facts": recall, "facts_by_count": recall_by_count(recall),
            "associations": association_probe(bundle, corpus.world),
            "exposure": canary_exposure(bundle, corpus.world, canaries, n_references=n_references, seed=seed)}


def validity_summary(results: dict[str, pd.DataFrame]) -> dict:
    """The headline numbers of ``world_validity``, rounded for a manifest, and whether each target is met."""
    by = results["facts_by_count"]
    top = int(by["count"].max())

    def acc(probe: str, count: int) -> float:
        return float(by[(by["probe"] == probe) & (by["count"] == count)]["accuracy"].iloc[0])

    counts = sorted(by["count"].unique())
    fit = association_fit(results["associations"])
    exposure = results["exposure"].groupby("count")["exposure_rank"].mean()
    seen_top = acc("seen", top)
    lo, hi = TARGETS["association_slope"]
    return {
        "facts": {"counts": [int(c) for c in counts],
                  "seen_accuracy": [round(acc("seen", c), 3) for c in counts],
                  "heldout_accuracy": [round(acc("heldout", c), 3) for c in counts],
                  "swap_accuracy": [round(acc("swap", c), 3) for c in counts]},
        "associations": {k: (round(v, 3) if isinstance(v, float) else v) for k, v in fit.items()},
        "exposure": {"counts": [int(c) for c in exposure.index],
                     "mean_exposure_rank_bits": [round(float(v), 2) for v in exposure.to_numpy()]},
        "targets_met": {
            "fact_seen_accuracy_at_top_count": seen_top >= TARGETS["fact_seen_accuracy_at_top_count"],
            "fact_count1_not_above_swap": acc("seen", counts[0]) <= acc("swap", counts[0]),
            "association_pearson_r": fit["pearson_r"] >= TARGETS["association_pearson_r"],
            "association_slope": lo <= fit["slope"] <= hi,
            "exposure_rises_with_count": bool(exposure.loc[max(exposure.index)] > exposure.loc[0] + 1.0),
        },
    }
