"""Degeneration: a system's continuations of the same prompts against human text (Holtzman et al. 2020, Table 1;
Su et al. 2022, Table 1).

A *system* is one decoding setting of one model, or the human continuations themselves. For each system:

- :func:`continuation_items` scores every continuation (one row per prompt): its log-probability under the model
  given its prompt (the probe: it runs the model), coherence with its prompt, Holtzman et al.'s end-repetition rule
  on model token ids, Welleck et al.'s seq-rep-4, and its length;
- :func:`degeneration_scores` turns those rows and the texts into the table row a paper prints, every number with
  a 95% interval: exact (Clopper-Pearson) for the repetition rate; a grouped jackknife over prompts for Self-BLEU,
  Zipf and MAUVE, which a bootstrap would bias (duplicated texts; :func:`genlab.stats.corpus_jackknife`); a
  bootstrap over prompts for the rest, recomputing each corpus-level metric on each resample. MAUVE below 1,000
  texts per side is a demonstration (``genlab.metrics.mauve.FULL_SIZE``) and gets no interval.

As in the papers, perplexity is token-weighted (exp of total NLL over total tokens, as
:func:`genlab.metrics.perplexity.perplexity`), and the human continuations are cut to the generations' token budget
(:func:`genlab.generation.prompts.match_human_length`). Notebook 20 runs the whole study from these two steps.

>>> from genlab.models.tiny import tiny_bundle
>>> from genlab.metrics.coherence import sentence_embeddings
>>> bundle = tiny_bundle()
>>> prefixes, texts = ["The fox", "A cat", "The cat", "A fox"], [" ran off.", " sat down.", " ran.", " sat."]
>>> ids = [bundle.tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]
>>> items = continuation_items(bundle, prefixes, texts, ids, sentence_embeddings(prefixes), sentence_embeddings(texts))
>>> row = degeneration_scores(texts, items, n_resamples=10)
>>> row["empty"], row["mean_tokens"] == round(sum(map(len, ids)) / 4, 1), row["mauve_regime"]
(0, True, '')
>>> bool(row["self_bleu_low"] <= row["self_bleu"] <= row["self_bleu_high"])
True
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from genlab.metrics.coherence import coherence_from_embeddings, coherence_logprob
from genlab.metrics.mauve import mauve_from_features
from genlab.metrics.repetition import diversity, end_repetition_ids, rep_n, seq_rep_n, zipf_coefficient
from genlab.metrics.self_bleu import self_bleu
from genlab.stats import bootstrap_ci, corpus_bootstrap, corpus_jackknife, exact_binomial_ci

__all__ = ["continuation_items", "degeneration_scores"]


def continuation_items(
    bundle,
    prefixes: Sequence[str],
    texts: Sequence[str],
    token_ids: Sequence[Sequence[int]],
    prefix_features: np.ndarray,
    features: np.ndarray,
) -> pd.DataFrame:
    """One row per prompt: how the continuation ``texts[i]`` of ``prefixes[i]`` scores.

    ``token_ids``: each text's model token ids (the generated ids, or the human text's own tokenisation:
    :func:`genlab.generation.prompts.token_ids`); ``prefix_features`` and ``features``: sentence embeddings of the
    prompts and the texts (:func:`genlab.metrics.coherence.sentence_embeddings`), shared with MAUVE.

    Columns: ``prompt_id``; ``mean_logprob`` (mean log-probability of the text's tokens given BOS + prompt, Su & Xu
    2022), ``nll`` (its summed NLL, nats) and ``scored_tokens`` (the tokens scored: the text retokenised);
    ``coherence`` (cosine of prompt and text embeddings, Su et al. 2022); ``end_repetition`` (Holtzman et al.'s
    rule on ``token_ids``: a phrase of >= 2 tokens repeated >= 3 times at the end); ``seq_rep_4`` (share of
    repeated 4-grams, Welleck et al. 2020); ``n_tokens`` and ``n_words``. An empty text (the model ended at once)
    has no log-probability and no coherence: nan.
    """
    prefixes, texts = list(prefixes), list(texts)
    if not len(prefixes) == len(texts) == len(token_ids) == len(prefix_features) == len(features):
        raise ValueError(
            f"need one prompt, token list and embedding per text; got {len(prefixes)} prompts, {len(texts)} texts, "
            f"{len(token_ids)} token lists, {len(prefix_features)} and {len(features)} embeddings"
        )
    logp = np.array(coherence_logprob(bundle, prefixes, texts))
    # the tokens coherence_logprob scored: the text's own tokenisation (a generation's text is retokenised)
    scored = np.array(
        [len(x) for x in bundle.tokenizer(texts, add_special_tokens=False)["input_ids"]] if texts else [], dtype=float
    )
    return pd.DataFrame(
        {
            "prompt_id": range(len(texts)),
            "mean_logprob": logp,
            "nll": np.where(np.isfinite(logp), -logp * scored, np.nan),  # summed NLL of each text, nats
            "scored_tokens": scored.astype(int),
            "coherence": np.array(coherence_from_embeddings(prefix_features, features, prefixes, texts)),
            "end_repetition": np.array(end_repetition_ids([list(x) for x in token_ids]), dtype=bool),
            "seq_rep_4": np.array(seq_rep_n(texts, n=4)),
            "n_tokens": [len(x) for x in token_ids],
            "n_words": [len(t.split()) for t in texts],
        }
    )


def _mean_ci(values: np.ndarray, n_resamples: int, seed: int) -> tuple[float, float, float]:
    values = values[np.isfinite(values)]  # nan: an item the metric cannot score (an empty text)
    if len(values) < 2 or np.allclose(values, values[0]):
        v = float(np.mean(values)) if len(values) else float("nan")
        return v, v, v
    r = bootstrap_ci(values, n_resamples=n_resamples, seed=seed)
    return r.estimate, r.low, r.high


def degeneration_scores(
    texts: Sequence[str],
    items: pd.DataFrame,
    features: np.ndarray | None = None,
    human_features: np.ndarray | None = None,
    *,
    n_resamples: int = 1000,
    seed: int = 0,
    mauve_groups: int = 10,
) -> dict:
    """The table row of one system: each corpus metric with ``_low`` / ``_high`` (95%), from its ``texts`` and
    their :func:`continuation_items`.

    ``empty`` (texts with no words) and ``mean_tokens`` (mean model tokens) have no interval; ``perplexity``
    (token-weighted over the scored texts), ``rep_2``..``rep_4`` and ``diversity`` (Su et al. 2022) get a bootstrap
    over prompts that recomputes the corpus value; ``self_bleu`` (Self-BLEU-4) and ``zipf`` a grouped jackknife
    (10 groups); ``repetition_pct`` (% of texts ending in a loop) the exact interval; ``seq_rep_4`` and
    ``coherence`` a bootstrap of the mean over the texts that have a value. ``mauve`` compares ``features`` with
    ``human_features`` (both sentence embeddings, one row per prompt; ``human_features=None``: no MAUVE, as for the
    human row itself, which is 1 by definition); ``mauve_regime`` says whether it is a demonstration (no interval)
    or full size (a jackknife over ``mauve_groups`` groups, each re-running k-means).

    ``n_resamples``: bootstrap resamples per interval (1,000 or more for an interval a conclusion rests on).
    """
    if isinstance(mauve_groups, bool) or not isinstance(mauve_groups, int) or mauve_groups < 2:
        raise ValueError(f"mauve_groups must be a jackknife group count >= 2, got {mauve_groups!r}")
    texts = list(texts)
    n = len(texts)
    if n != len(items):
        raise ValueError(f"need one row of items per text; got {n} texts and {len(items)} rows")
    arr = np.array(texts, dtype=object)
    nll, scored = items["nll"].to_numpy(dtype=float), items["scored_tokens"].to_numpy(dtype=float)
    row: dict = {}

    def put(name, est, low, high):
        row[name], row[f"{name}_low"], row[f"{name}_high"] = est, low, high

    row["empty"] = int(sum(not t.strip() for t in texts))
    row["mean_tokens"] = round(float(np.mean(items["n_tokens"])), 1)
    # perplexity, token-weighted: exp(total NLL / total tokens) over the scored texts; each bootstrap resample of
    # prompts recomputes the ratio, so long texts weigh as much as in the estimate
    ok = np.isfinite(nll) & (scored > 0)
    if ok.sum() >= 2:
        put(
            "perplexity",
            *corpus_bootstrap(
                n,
                lambda i: float(np.exp(nll[i][ok[i]].sum() / scored[i][ok[i]].sum())) if ok[i].any() else np.nan,
                n_resamples=n_resamples,
                seed=seed,
            ),
        )
    else:
        put("perplexity", np.nan, np.nan, np.nan)
    # Self-BLEU and Zipf: the jackknife, because the duplicated texts of a bootstrap resample bias both (a duplicate
    # matches its own copy; see corpus_jackknife)
    groups = min(10, n)
    if n >= 4:  # every jackknife sample keeps at least 2 texts, each scored against the others
        put(
            "self_bleu",
            *corpus_jackknife(n, lambda i: float(np.mean(self_bleu(list(arr[i]), max_n=4))), groups=groups, seed=seed),
        )
    else:
        put("self_bleu", float(np.mean(self_bleu(texts, max_n=4))), np.nan, np.nan)
    put("zipf", *corpus_jackknife(n, lambda i: zipf_coefficient(list(arr[i])), groups=groups, seed=seed))
    ci = exact_binomial_ci(int(items["end_repetition"].sum()), n)
    put("repetition_pct", 100 * ci.estimate, 100 * ci.low, 100 * ci.high)
    for k in (2, 3, 4):
        put(
            f"rep_{k}",
            *corpus_bootstrap(n, lambda i, k=k: rep_n(list(arr[i]), n=k), n_resamples=n_resamples, seed=seed),
        )
    put("diversity", *corpus_bootstrap(n, lambda i: diversity(list(arr[i])), n_resamples=n_resamples, seed=seed))
    put("seq_rep_4", *_mean_ci(items["seq_rep_4"].to_numpy(dtype=float), n_resamples, seed))
    if human_features is None:
        put("mauve", np.nan, np.nan, np.nan)
        row["mauve_regime"] = ""
    else:
        if features is None:
            raise ValueError("MAUVE needs the system's features beside human_features")
        full = mauve_from_features(human_features, features)
        row["mauve_regime"] = full.regime
        if full.regime == "demonstration":
            # a k-means histogram of a few dozen texts in 2-3 buckets: a demonstration of the metric, no interval
            put("mauve", full.mauve, np.nan, np.nan)
        else:  # both sides lose the same prompts; few groups, because each one runs k-means
            _, low, high = corpus_jackknife(
                n,
                lambda i: mauve_from_features(human_features[i], features[i]).mauve,
                groups=min(mauve_groups, n),
                seed=seed,
            )
            put("mauve", full.mauve, max(low, 0.0), min(high, 1.0))  # MAUVE lies in [0, 1]
    put("coherence", *_mean_ci(items["coherence"].to_numpy(dtype=float), n_resamples, seed))
    return row
