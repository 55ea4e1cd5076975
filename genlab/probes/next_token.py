"""Token-level repetition of a model's next-token predictions on human text (Welleck et al., 2020).

Feed the model the *gold* prefix x_<t and take its greedy prediction x̂_t = argmax p(· | x_<t). Over all N
predicted tokens of the eval texts (Welleck et al. 2020, §6; authors' code ``custom/metrics.py``):

    rep/l  = (1/N) sum_t 1[x̂_t in {x_{t-l}, ..., x_{t-1}}]             the prediction repeats a recent gold token
    wrep/l = (1/N) sum_t 1[x̂_t in {x_{t-l}, ..., x_{t-1}} and x̂_t != x_t]   ... and is wrong
    hrep/l = (1/N) sum_t 1[x_t in {x_{t-l}, ..., x_{t-1}}]             the human baseline: the gold token repeats
    acc    = (1/N) sum_t 1[x̂_t = x_t]        uniq = |{x̂_t}|, distinct predicted tokens over the whole set

The paper reports l = 128 (rep .627 / wrep .352 for the MLE baseline on Wikitext-103; human rep ≈ .487); the
authors' code also logs l = 16, 32, 512. Both sums run over all predictions, so wrep <= rep. The window holds
the text's previous gold tokens, not BOS (in the authors' code the context is the target sequence). As in their
evaluation loop, the padding token is never predicted. Texts longer than the model's context are scored with
the strided windows of :mod:`genlab.metrics.perplexity`; the repetition window still looks back over the text.

Worked by hand: gold 1 2 1 3, guesses 5 1 1 9. At t=1 the guess 1 repeats x_0 (within 1 back) but x_1 = 2: a
wrong repeat. At t=2 the guess 1 repeats x_0 only within 3 back, and is right (x_2 = 1), as is the human repeat.

>>> token_repetition([5, 1, 1, 9], [1, 2, 1, 3], context_lengths=(1, 3))
{'rep/1': 0.25, 'wrep/1': 0.25, 'hrep/1': 0.0, 'rep/3': 0.5, 'wrep/3': 0.25, 'hrep/3': 0.25}
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from genlab.models.scoring import encode_texts, scored_logits

__all__ = [
    "CONTEXT_LENGTHS",
    "NextTokenResult",
    "next_token_acc",
    "next_token_metrics",
    "next_token_rep",
    "next_token_uniq",
    "next_token_wrep",
    "token_repetition",
]

CONTEXT_LENGTHS = (16, 32, 128, 512)  # authors' code: TrainingMetrics.REPEAT_CONTEXT_LENGTHS


def _distances(predictions: Sequence[int], targets: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """For each t: t - (last position < t where the gold token equals x̂_t), and the same for x_t (inf if none)."""
    last: dict[int, int] = {}
    d_pred, d_gold = np.full(len(targets), np.inf), np.full(len(targets), np.inf)
    for t, (p, y) in enumerate(zip(predictions, targets, strict=True)):
        if p in last:
            d_pred[t] = t - last[p]
        if y in last:
            d_gold[t] = t - last[y]
        last[y] = t
    return d_pred, d_gold


def token_repetition(
    predictions: Sequence[int], targets: Sequence[int], context_lengths: Sequence[int] = CONTEXT_LENGTHS
) -> dict[str, float]:
    """rep/l, wrep/l and hrep/l of one sequence: predictions[t] is the model's guess for targets[t] given
    targets[:t]. Fractions of ``len(targets)``; see the module docstring (Welleck et al. 2020).

    >>> token_repetition([7, 7, 7], [7, 8, 9], context_lengths=(2,))   # 2nd and 3rd guesses repeat x_1 = 7
    {'rep/2': 0.6666666666666666, 'wrep/2': 0.6666666666666666, 'hrep/2': 0.0}
    """
    if len(predictions) != len(targets):
        raise ValueError(f"one prediction per target: got {len(predictions)} predictions, {len(targets)} targets")
    if not len(targets):
        return {f"{m}/{length}": float("nan") for length in context_lengths for m in ("rep", "wrep", "hrep")}
    d_pred, d_gold = _distances(predictions, targets)
    wrong = np.asarray(predictions) != np.asarray(targets)
    out = {}
    for length in context_lengths:
        out[f"rep/{length}"] = float(np.mean(d_pred <= length))
        out[f"wrep/{length}"] = float(np.mean((d_pred <= length) & wrong))
        out[f"hrep/{length}"] = float(np.mean(d_gold <= length))
    return out


@dataclass
class NextTokenResult:
    acc: float  # next-token accuracy over all predicted tokens
    uniq: int  # distinct argmax predictions over all texts
    n_tokens: int  # predicted tokens
    rep: dict[int, float] = field(default_factory=dict)  # l -> rep/l over all predicted tokens
    wrep: dict[int, float] = field(default_factory=dict)
    hrep: dict[int, float] = field(default_factory=dict)  # the gold text's own rate (human baseline)
    per_text: pd.DataFrame = field(default_factory=pd.DataFrame)  # one row per text: n_tokens, acc, rep/l, ...

    def summary(self) -> dict[str, float]:
        """Flat corpus values: acc, uniq, n_tokens, rep/l, wrep/l, hrep/l."""
        out: dict[str, float] = {"acc": self.acc, "uniq": self.uniq, "n_tokens": self.n_tokens}
        for length in self.rep:
            out.update(
                {
                    f"rep/{length}": self.rep[length],
                    f"wrep/{length}": self.wrep[length],
                    f"hrep/{length}": self.hrep[length],
                }
            )
        return out


def next_token_metrics(
    bundle,
    texts: Sequence[str],
    *,
    context_lengths: Sequence[int] = CONTEXT_LENGTHS,
    add_bos: bool = True,
    max_length: int | None = None,
    stride: int | None = None,
    batch_size: int = 16,
) -> NextTokenResult:
    """Welleck et al. (2020) token-level metrics of the model's greedy next-token predictions on ``texts``.

    Corpus values weight every predicted token equally (the authors divide summed counts by the token count);
    ``per_text`` has each text's own values. ``add_bos``, ``max_length``, ``stride`` and ``batch_size`` are as in
    :func:`genlab.metrics.perplexity.perplexity`.

    >>> from genlab.models.tiny import tiny_bundle
    >>> r = next_token_metrics(tiny_bundle(), ["the cat sat. the cat sat."], context_lengths=(3, 4))
    >>> r.n_tokens, r.hrep            # the, cat, sat, ., the, cat, sat, .: " cat", " sat", "." recur 4 tokens later
    (8, {3: 0.0, 4: 0.375})
    """
    lengths = tuple(int(length) for length in context_lengths)
    if not lengths or min(lengths) < 1:
        raise ValueError(f"context_lengths must be positive integers, got {context_lengths!r}")
    tok = bundle.tokenizer
    token_ids = encode_texts(tok, texts, add_bos)
    offset = 1 if add_bos else 0  # BOS is input, not part of the text's gold context
    preds = [np.full(len(ids), -1, dtype=np.int64) for ids in token_ids]  # -1: position not predicted
    pad = tok.pad_token_id if tok.pad_token_id is not None and tok.pad_token_id != tok.eos_token_id else None
    for text_index, position, _, logits in scored_logits(
        bundle, token_ids, max_length=max_length, stride=stride, batch_size=batch_size
    ):
        if pad is not None:
            logits[:, pad] = -torch.inf
        guess = logits.argmax(dim=-1).cpu().numpy()
        for t, p, g in zip(text_index.tolist(), position.tolist(), guess.tolist(), strict=True):
            preds[t][p] = g

    rows, all_pred, all_d_pred, all_d_gold, all_wrong = [], [], [], [], []
    for ids, pred in zip(token_ids, preds, strict=True):
        gold = np.asarray(ids[offset:], dtype=np.int64)
        guess = pred[offset:]
        d_pred, d_gold = _distances(guess.tolist(), gold.tolist())
        keep = guess >= 0  # positions that were predicted (not the unscored head of a non-overlapping window)
        guess, gold, d_pred, d_gold = guess[keep], gold[keep], d_pred[keep], d_gold[keep]
        wrong = guess != gold
        row = {"n_tokens": int(keep.sum()), "acc": float(np.mean(~wrong)) if keep.any() else float("nan")}
        for length in lengths:
            for name, hit in (
                ("rep", d_pred <= length),
                ("wrep", (d_pred <= length) & wrong),
                ("hrep", d_gold <= length),
            ):
                row[f"{name}/{length}"] = float(np.mean(hit)) if keep.any() else float("nan")
        rows.append(row)
        all_pred.append(guess)
        all_d_pred.append(d_pred)
        all_d_gold.append(d_gold)
        all_wrong.append(wrong)

    pred_all = np.concatenate(all_pred) if all_pred else np.zeros(0, dtype=np.int64)
    d_pred_all = np.concatenate(all_d_pred) if all_d_pred else np.zeros(0)
    d_gold_all = np.concatenate(all_d_gold) if all_d_gold else np.zeros(0)
    wrong_all = np.concatenate(all_wrong) if all_wrong else np.zeros(0, dtype=bool)
    n = len(pred_all)

    def frac(hit: np.ndarray) -> float:
        return float(hit.mean()) if n else float("nan")

    return NextTokenResult(
        acc=frac(~wrong_all),
        uniq=int(len(np.unique(pred_all))),
        n_tokens=n,
        rep={length: frac(d_pred_all <= length) for length in lengths},
        wrep={length: frac((d_pred_all <= length) & wrong_all) for length in lengths},
        hrep={length: frac(d_gold_all <= length) for length in lengths},
        per_text=pd.DataFrame(
            rows, columns=["n_tokens", "acc"] + [f"{m}/{length}" for length in lengths for m in ("rep", "wrep", "hrep")]
        ),
    )


def _tiny_inputs(bundle):
    """The fast path tests/metrics/test_common.py runs for these slow metrics: edge cases on a small model."""
    return (bundle, ["the cat sat on the mat", "a", "", "naïve café 🙂"]), {}


def next_token_rep(bundle, texts: Sequence[str], *, context_length: int = 128) -> float:
    """rep/l: share of greedy next-token predictions on gold text that repeat one of the previous l gold tokens.

    >>> from genlab.models.tiny import tiny_bundle
    >>> 0 <= next_token_rep(tiny_bundle(), ["the cat sat on the mat."]) <= 1
    True
    """
    return next_token_metrics(bundle, texts, context_lengths=(context_length,)).rep[context_length]


def next_token_wrep(bundle, texts: Sequence[str], *, context_length: int = 128) -> float:
    """wrep/l: share of greedy next-token predictions that repeat one of the previous l gold tokens and are wrong.

    >>> from genlab.models.tiny import tiny_bundle
    >>> bundle, texts = tiny_bundle(), ["the cat sat on the mat."]
    >>> next_token_wrep(bundle, texts) <= next_token_rep(bundle, texts)
    True
    """
    return next_token_metrics(bundle, texts, context_lengths=(context_length,)).wrep[context_length]


def next_token_acc(bundle, texts: Sequence[str]) -> float:
    """acc: share of gold tokens that are the model's greedy prediction given the gold prefix.

    >>> from genlab.models.tiny import tiny_bundle
    >>> 0 <= next_token_acc(tiny_bundle(), ["the cat sat on the mat."]) <= 1
    True
    """
    return next_token_metrics(bundle, texts, context_lengths=(1,)).acc


def next_token_uniq(bundle, texts: Sequence[str]) -> int:
    """uniq: number of distinct greedy next-token predictions over all the texts (compare with the gold text's).

    >>> from genlab.models.tiny import tiny_bundle
    >>> 1 <= next_token_uniq(tiny_bundle(), ["the cat sat on the mat."]) <= 7
    True
    """
    return next_token_metrics(bundle, texts, context_lengths=(1,)).uniq


next_token_rep.tiny_inputs = _tiny_inputs
next_token_wrep.tiny_inputs = _tiny_inputs
next_token_acc.tiny_inputs = _tiny_inputs
next_token_uniq.tiny_inputs = _tiny_inputs
