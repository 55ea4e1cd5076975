"""Scores of a model on a fine-tuning task's evaluation set: exact match of greedy answers (world QA) and attribute
coverage of greedy stories, each with its interval and per-item record, plus the perplexity of reference completions.

The datasets come from :func:`genlab.training.tasks.build_task`; any ``datasets.Dataset`` with the same columns
works (``prompt``, ``completion``, and ``answer`` for exact match or ``occupation``/``place``/``animal`` for coverage).

>>> normalize_answer("  The Old-Stone bridge. "), mentions("The Baker slept.", "baker")
('oldstone bridge', True)

**Limitations.** Exact match is a string test: a right answer in other words counts as wrong, and greedy decoding
shows one answer, not what the model would rank second. Attribute coverage checks whole-word mentions only: a list
of the three words scores 1.0, and coherence, grammar and plot are not judged.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from genlab.data.pairs import CompletionCollator, encode_pairs
from genlab.generation.decoder import greedy
from genlab.models.modes import eval_mode
from genlab.models.prefix import quiet_peft_prefix_forward
from genlab.stats import bootstrap_ci, exact_binomial_ci, rate_table

__all__ = [
    "TaskScore", "completion_perplexity", "generate_completions", "item_scores", "mentions", "normalize_answer",
    "qa_exact_match", "story_coverage",
]


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
        """Exact match per group (e.g. ``"count"``, pretraining mentions): ``n``, ``k``, ``exact_match`` and its
        Clopper-Pearson interval ``exact_match_low``/``exact_match_high``."""
        if "correct" not in self.items:
            raise ValueError(f"by() splits exact-match scores; {self.metric!r} items have no 'correct' column")
        return rate_table(self.items, "correct", column, name="exact_match", confidence=confidence)

    def as_row(self) -> dict:
        return {"score": self.value, "score_low": self.low, "score_high": self.high, "n": self.n, **self.extra}


def item_scores(score: TaskScore) -> np.ndarray:
    """One value per evaluation item whose mean is ``score.value``: 1/0 for exact match, the share of the three
    requested attributes for story coverage. These are what paired tests compare.

    >>> import pandas as pd
    >>> s = TaskScore("story", "attribute_coverage", 0.5, 0, 1, 2, "", pd.DataFrame({"covered": [1, 2]}))
    >>> item_scores(s).tolist()
    [0.3333333333333333, 0.6666666666666666]
    """
    if "correct" in score.items:
        return score.items["correct"].to_numpy(dtype=float)
    if "covered" in score.items:
        return score.items["covered"].to_numpy(dtype=float) / 3  # story_coverage: three attributes per prompt
    raise ValueError(f"no per-item scores known for metric {score.metric!r} (need a 'correct' or 'covered' column)")


def generate_completions(bundle, prompts: Sequence[str], max_new_tokens: int, batch_size: int = 32) -> list[str]:
    """Greedy continuations of ``<|endoftext|> prompt``, without special tokens (:func:`genlab.generation.greedy`)."""
    return greedy(bundle, list(prompts), max_new_tokens=max_new_tokens, batch_size=batch_size)


def completion_perplexity(bundle, dataset, batch_size: int = 32) -> float:
    """exp(mean NLL) over completion tokens (and the closing EOS) given their prompts; token-weighted."""
    enc = encode_pairs(bundle.tokenizer, dataset)
    collate = CompletionCollator(bundle.tokenizer.pad_token_id)
    nll, n = 0.0, 0
    model = bundle.model
    with eval_mode(model):
        for start in range(0, len(enc), batch_size):
            batch = {
                k: v.to(bundle.device)
                for k, v in collate([enc[i] for i in range(start, min(start + batch_size, len(enc)))]).items()
            }
            with torch.no_grad(), quiet_peft_prefix_forward():  # peft's forward places the virtual tokens itself
                logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits.float()
            logits = logits[:, -batch["labels"].shape[1] :]  # prompt tuning prepends virtual tokens
            targets = batch["labels"][:, 1:]  # (B, T-1): token t is predicted at position t-1
            logp = torch.log_softmax(logits[:, :-1], dim=-1)
            keep = targets != -100
            token_nll = -logp.gather(2, targets.clamp(min=0)[..., None])[..., 0]
            nll += token_nll[keep].sum().item()
            n += int(keep.sum())
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
    ci = exact_binomial_ci(k, n, confidence)
    return TaskScore(
        task="world_qa",
        metric="exact_match",
        value=k / n,
        low=ci.low,
        high=ci.high,
        n=n,
        interval=f"Clopper-Pearson {confidence:.0%}",
        items=items,
        extra={"completion_perplexity": completion_perplexity(bundle, dataset, batch_size)},
    )


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
