"""The suites genlab ships, each one published evaluation on the user's own data, listed in :data:`SUITES`.

- ``crows_pairs`` (Nangia et al. 2020): CrowS-format sentence pairs, each scored by the model
  (:func:`genlab.probes.crows_pairs.pair_scores`: whole-sentence log-likelihood for a causal LM, the paper's
  pseudo-log-likelihood for a masked LM); table ``share``: the share of pairs where the model prefers the more
  stereotyping sentence, per bias type and over all, with its exact (Clopper-Pearson) interval.
- ``decoding`` (Holtzman et al. 2020; Su et al. 2022): prompts, or documents cut into a prompt and a human
  continuation, continued under each decoding configuration; every continuation scored as in notebook 20
  (:func:`genlab.probes.degeneration.continuation_items`); table ``systems``: one row per system (configuration,
  or ``human``) and sample with :func:`genlab.probes.degeneration.degeneration_scores`' metrics and intervals;
  table ``paired``: each system against the reference (``human`` when there is one, else the first
  configuration) on seq-rep-4 and mean log-probability per prompt, paired bootstrap and permutation p, Holm over
  the family (:func:`genlab.stats.compare_systems_family`). MAUVE is not computed here.
- ``quality``: documents scored by the model; table ``perplexity``: token-weighted perplexity (exp of total NLL
  over total tokens) with a bootstrap interval over documents.

>>> sorted(SUITES)
['crows_pairs', 'decoding', 'quality']
>>> get_suite("decodng")
Traceback (most recent call last):
...
genlab.suites.base.SuiteInputError: no suite 'decodng'; did you mean 'decoding'? Known: crows_pairs, decoding, quality.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from genlab.suites.base import Item, Suite, SuiteInputError, item_seed, text_id, unique_ids

__all__ = ["CROWS_PAIRS", "DECODING", "QUALITY", "SUITES", "get_suite"]


def _passthrough(bundle, items, solved, settings):
    return solved


def _at_least_two(items: list[Item], suite: str, what: str) -> list[Item]:
    if len(items) < 2:
        raise SuiteInputError(f"the {suite!r} suite needs at least 2 {what} for an interval; got {len(items)}")
    return items


# --- crows_pairs ----------------------------------------------------------------------------------------------
def _pairs_load(data: Mapping[str, Any], settings, bundle) -> list[Item]:
    from genlab.probes.crows_pairs import PAIR_COLUMNS, read_pairs

    frame = read_pairs(data["pairs"])
    if "id" in frame.columns:
        ids = [str(x) for x in frame["id"]]
    else:
        ids = unique_ids([text_id(f"{m}\n{s}") for m, s in zip(frame["sent_more"], frame["sent_less"], strict=True)])
    return [Item(i, {c: str(row[c]) for c in PAIR_COLUMNS}) for i, (_, row) in zip(ids, frame.iterrows(), strict=True)]


def _pairs_solve(bundle, items: list[Item], settings) -> list[list[dict]]:
    from genlab.probes.crows_pairs import pair_scores

    scored = pair_scores(bundle, pd.DataFrame([it.input for it in items]), batch_size=settings["batch_size"])
    return [
        [
            {
                "system": "model",
                "sample": 0,
                "output": {"score_more": r.score_more, "score_less": r.score_less},
                "scores": {"prefers_stereotype": bool(r.prefers_stereotype), "neutral": bool(r.neutral)},
            }
        ]
        for r in scored.itertuples()
    ]


def _pairs_summarize(items, records, settings) -> dict[str, pd.DataFrame]:
    from genlab.probes.crows_pairs import pair_metric

    frame = pd.DataFrame([{**it.input, **recs[0]["output"]} for it, recs in zip(items, records, strict=True)])
    return {"share": pair_metric(frame)}


CROWS_PAIRS = Suite(
    name="crows_pairs",
    version="1",
    description="CrowS-Pairs: share of sentence pairs where the model prefers the more stereotyping sentence",
    needs=("pairs",),
    load=_pairs_load,
    solve=_pairs_solve,
    score=_passthrough,
    summarize=_pairs_summarize,
)


# --- decoding ----------------------------------------------------------------------------------------------------
def _prompt_items(source) -> list[Item]:
    """Prompts with their file's ids; a file without an id column (read_prompts numbers it p0000, p0001, ...) gets
    ids from the prompts' text, so an item's id never depends on its position."""
    from genlab.data.loaders import read_prompts

    frame = read_prompts(source)
    ids = frame["prompt_id"].tolist()
    if ids == [f"p{i:04d}" for i in range(len(ids))]:
        ids = unique_ids([text_id(p) for p in frame["prompt"]])
    return [Item(i, {"prompt": p}) for i, p in zip(ids, frame["prompt"], strict=True)]


def _decoding_load(data: Mapping[str, Any], settings, bundle) -> list[Item]:
    if data.get("prompts") is not None:
        return _at_least_two(_prompt_items(data["prompts"]), "decoding", "prompts")
    from genlab.data.loaders import read_texts
    from genlab.generation.prompts import match_human_length, split_documents

    words = settings["prefix_words"]
    docs = [d for d in read_texts(data["texts"]) if len(d.split()) > words]
    if len(docs) < 2:
        raise SuiteInputError(
            f"the 'decoding' suite cuts each document after prefix_words={words} words; fewer than 2 documents are "
            "longer than that. Give longer documents, or prompts (--prompts)."
        )
    prefixes, human = split_documents(docs, prefix_words=words)
    human = match_human_length(bundle.tokenizer, human, settings["max_new_tokens"])
    ids = unique_ids([text_id(d) for d in docs])
    return [Item(i, {"prompt": p, "human": h}) for i, p, h in zip(ids, prefixes, human, strict=True)]


def _decoding_solve(bundle, items: list[Item], settings) -> list[list[dict]]:
    from genlab.generation.decoder import _as_configs, generate
    from genlab.generation.prompts import token_ids

    configs = _as_configs(list(settings["configs"]))
    frame = generate(
        bundle,
        [it.input["prompt"] for it in items],
        configs,
        n_samples=settings["samples"],
        max_new_tokens=settings["max_new_tokens"],
        batch_size=settings["batch_size"],
        seed=settings["seed"],
        prompt_seeds=[item_seed(it.id) for it in items],
        progress=False,
    )
    stochastic = {c.name: c.stochastic for c in configs}
    out: list[list[dict]] = [[] for _ in items]
    for r in frame.itertuples():
        if r.sample_id == 0 or stochastic[r.config]:  # a deterministic configuration's samples are one text
            out[r.prompt_id].append(
                {"system": r.config, "sample": int(r.sample_id), "output": r.text, "tokens": list(r.tokens)}
            )
    for recs, it in zip(out, items, strict=True):
        if "human" in it.input:
            recs.append(
                {
                    "system": "human",
                    "sample": 0,
                    "output": it.input["human"],
                    "tokens": token_ids(bundle.tokenizer, [it.input["human"]])[0],
                }
            )
    return out


def _decoding_score(bundle, items: list[Item], solved: list[list[dict]], settings) -> list[list[dict]]:
    from genlab.probes.degeneration import continuation_items

    flat = [(it, r) for it, recs in zip(items, solved, strict=True) for r in recs]
    prefixes = [it.input["prompt"] for it, _ in flat]
    texts = [r["output"] for _, r in flat]
    if settings["coherence"]:
        from genlab.metrics.coherence import sentence_embeddings

        pf, f = sentence_embeddings(prefixes), sentence_embeddings(texts)
    else:
        pf = f = np.full((len(flat), 1), np.nan)
    scores = continuation_items(bundle, prefixes, texts, [r["tokens"] for _, r in flat], pf, f)
    columns = [
        "mean_logprob",
        "nll",
        "scored_tokens",
        "coherence",
        "end_repetition",
        "seq_rep_4",
        "n_tokens",
        "n_words",
    ]
    rows = iter(scores[columns].to_dict(orient="records"))
    return [[{**{k: v for k, v in r.items() if k != "tokens"}, "scores": next(rows)} for r in recs] for recs in solved]


def _decoding_summarize(items, records, settings) -> dict[str, pd.DataFrame]:
    from genlab.probes.degeneration import degeneration_scores
    from genlab.stats import compare_systems_family

    long = pd.DataFrame(
        [
            {"prompt_id": i, "system": r["system"], "sample": r["sample"], "text": r["output"], **r["scores"]}
            for i, recs in enumerate(records)
            for r in recs
        ]
    )
    floats = ["mean_logprob", "nll", "scored_tokens", "coherence", "seq_rep_4", "n_tokens"]
    long = long.astype({**dict.fromkeys(floats, float), "end_repetition": bool})  # None in the JSON: nan
    rows = []
    for (system, sample), g in long.groupby(["system", "sample"], sort=False):
        g = g.sort_values("prompt_id")
        row = degeneration_scores(
            g["text"].tolist(), g.reset_index(drop=True), n_resamples=settings["n_resamples"], seed=settings["seed"]
        )
        row.pop("mauve_regime", None)
        for k in ("mauve", "mauve_low", "mauve_high"):
            row.pop(k, None)
        rows.append({"system": system, "sample": sample, "n": len(g), **row})
    systems = list(dict.fromkeys(long["system"]))
    reference = "human" if "human" in systems else systems[0]
    per_item = long.groupby(["system", "prompt_id"], as_index=False)[["seq_rep_4", "mean_logprob"]].mean()
    comparisons = [(reference, s, m) for s in systems if s != reference for m in ("seq_rep_4", "mean_logprob")]
    paired = pd.DataFrame()
    if comparisons:
        try:
            paired = compare_systems_family(
                per_item, comparisons, family=f"each system vs {reference}", seed=settings["seed"]
            )
        except ValueError as e:  # too few prompts with a value for both systems: no test, say why
            paired = pd.DataFrame([{"note": f"no paired comparison: {e}"}])
    return {"systems": pd.DataFrame(rows), "paired": paired}


DECODING = Suite(
    name="decoding",
    version="1",
    description="decoding study (Holtzman et al. 2020; Su et al. 2022): repetition, diversity, perplexity per system",
    needs=("prompts", "texts"),
    load=_decoding_load,
    solve=_decoding_solve,
    score=_decoding_score,
    summarize=_decoding_summarize,
    settings={
        "configs": ("greedy", "sample", "nucleus0.95", "contrastive"),
        "max_new_tokens": 40,
        "prefix_words": 10,
        "coherence": True,
        "n_resamples": 1000,
    },
)


# --- quality -----------------------------------------------------------------------------------------------------
def _quality_load(data: Mapping[str, Any], settings, bundle) -> list[Item]:
    from genlab.data.loaders import read_texts

    texts = read_texts(data["texts"])
    ids = unique_ids([text_id(t) for t in texts])
    return _at_least_two([Item(i, {"text": t}) for i, t in zip(ids, texts, strict=True)], "quality", "documents")


def _quality_solve(bundle, items: list[Item], settings) -> list[list[dict]]:
    import warnings

    from genlab.metrics.perplexity import perplexity

    with warnings.catch_warnings():  # an unscorable text is nan in its record and left out of the corpus value
        warnings.simplefilter("ignore", UserWarning)
        r = perplexity(bundle, [it.input["text"] for it in items], batch_size=settings["batch_size"])
    return [
        [{"system": "model", "sample": 0, "output": {"nll": nll, "scored_tokens": n}, "scores": {"perplexity": p}}]
        for nll, n, p in zip(r.per_text_nll, r.per_text_tokens, r.per_text, strict=True)
    ]


def _quality_summarize(items, records, settings) -> dict[str, pd.DataFrame]:
    from genlab.stats import corpus_bootstrap

    nll = np.array([recs[0]["output"]["nll"] for recs in records], dtype=float)
    tokens = np.array([recs[0]["output"]["scored_tokens"] for recs in records], dtype=float)
    ok = tokens > 0

    def ppl(i: np.ndarray) -> float:
        return math.exp(nll[i][ok[i]].sum() / tokens[i][ok[i]].sum()) if ok[i].any() else float("nan")

    est, low, high = corpus_bootstrap(len(nll), ppl, n_resamples=settings["n_resamples"], seed=settings["seed"])
    row = {
        "perplexity": est,
        "perplexity_low": low,
        "perplexity_high": high,
        "n": int(ok.sum()),
        "tokens": int(tokens.sum()),
        "n_unscored": int((~ok).sum()),
    }
    return {"perplexity": pd.DataFrame([row])}


QUALITY = Suite(
    name="quality",
    version="1",
    description="token-weighted perplexity of documents with a bootstrap interval over documents",
    needs=("texts",),
    load=_quality_load,
    solve=_quality_solve,
    score=_passthrough,
    summarize=_quality_summarize,
    settings={"n_resamples": 1000},
)

#: Every suite by name.
SUITES: dict[str, Suite] = {s.name: s for s in (CROWS_PAIRS, DECODING, QUALITY)}


def get_suite(name: str) -> Suite:
    """The suite called ``name``; an unknown name raises :class:`SuiteInputError` with the nearest known one."""
    if name in SUITES:
        return SUITES[name]
    near = difflib.get_close_matches(name, list(SUITES), n=1, cutoff=0.4)
    hint = f"; did you mean {near[0]!r}?" if near else ";"
    raise SuiteInputError(f"no suite {name!r}{hint} Known: {', '.join(sorted(SUITES))}.")
