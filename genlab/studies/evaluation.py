"""Evaluation studies that notebooks run in one call: decoding strategies against human text, with intervals.

``decoding_study`` produces a table in the shape of Holtzman et al. (2020, Table 1) and Su et al. (2022,
Table 1): for each decoding configuration and for the human continuations, perplexity under the model,
Self-BLEU-4, Zipf coefficient, end-of-text repetition %, rep-2/3/4, diversity, MAUVE and coherence. As in the
papers: perplexity is token-weighted (exp of total NLL over total tokens, as ``genlab.metrics.perplexity``);
the end-repetition rule runs on model token ids (the generated ids; the human text's own tokenisation); the
human continuations are cut to the generations' token budget (``match_human_length``). Every number except a
small-n MAUVE comes with a 95% interval: exact (Clopper–Pearson) for the repetition rate; a grouped jackknife over
prompts for Self-BLEU, Zipf and MAUVE, which a bootstrap would bias (duplicated texts; see ``corpus_jackknife``);
a bootstrap over prompts for everything else (resampling texts and recomputing corpus-level metrics). MAUVE below
1,000 texts per side is a demonstration (``genlab.metrics.mauve.FULL_SIZE``) and gets no interval.

"Close to human" is a claim of equivalence: ``equivalence_to_human`` runs two one-sided tests (TOST) against a
margin stated in advance, with Holm's correction over the systems tested; ``compare_systems_family`` runs a family
of paired comparisons and adjusts their p-values within the family.

>>> prefixes, refs = split_documents(["One two three four five six seven eight nine ten."], prefix_words=4)
>>> prefixes, refs
(['One two three four'], [' five six seven eight nine ten.'])
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from genlab.metrics.coherence import coherence_from_embeddings, coherence_logprob, sentence_embeddings
from genlab.metrics.mauve import FULL_SIZE, mauve_from_features
from genlab.metrics.multiplicity import adjust_family
from genlab.metrics.repetition import diversity, end_repetition_ids, rep_n, seq_rep_n, zipf_coefficient
from genlab.metrics.replication import tost
from genlab.metrics.selfbleu import self_bleu_score
from genlab.metrics.stats import bootstrap_ci, exact_binomial_ci, paired_bootstrap, paired_permutation_test
from genlab.report.plots import error_bars

HUMAN = "human"


def split_documents(
    texts: Sequence[str], prefix_words: int = 8, continuation_words: int | None = None
) -> tuple[list[str], list[str]]:
    """Cut each text after ``prefix_words`` words: (prompts, human continuations).

    The cut keeps the document's own characters: ``prefix + continuation`` is the start of the text, and the
    continuation begins with the whitespace that followed the prefix. A continuation without it would be
    tokenised as the inside of a word ("the" -> "t", "he" instead of " the") and scored as very unlikely.

    >>> split_documents(["One two three four five\\nsix seven."], prefix_words=4, continuation_words=2)
    (['One two three four'], [' five\\nsix'])
    """
    if prefix_words < 1:
        raise ValueError("prefix_words must be at least 1")
    if continuation_words is not None and continuation_words < 1:
        raise ValueError("continuation_words must be at least 1 (or None for the rest of the text)")
    prefixes, continuations = [], []
    for text in texts:
        spans = [m.span() for m in re.finditer(r"\S+", text)]
        if len(spans) <= prefix_words:
            raise ValueError(
                f"a text has {len(spans)} words, not more than prefix_words={prefix_words}: {text[:60]!r}; "
                "choose longer texts or a smaller prefix_words"
            )
        cut = spans[prefix_words - 1][1]
        last = len(spans) if continuation_words is None else min(len(spans), prefix_words + continuation_words)
        prefixes.append(text[:cut])
        continuations.append(text[cut : spans[last - 1][1]])
    return prefixes, continuations


def corpus_bootstrap(
    n: int, fn: Callable[[np.ndarray], float], *, n_resamples: int = 200, confidence: float = 0.95, seed: int = 0
) -> tuple[float, float, float]:
    """(estimate, low, high): ``fn`` on all item indices, and the percentile interval of ``fn`` on resampled indices.

    >>> corpus_bootstrap(4, lambda idx: float(len(set(idx.tolist()))), n_resamples=50)[0]
    4.0
    """
    if n_resamples < 1:
        raise ValueError("n_resamples must be at least 1")
    rng = np.random.default_rng(seed)
    estimate = fn(np.arange(n))
    stats = np.array([fn(rng.integers(0, n, n)) for _ in range(n_resamples)], dtype=float)
    alpha = (1 - confidence) / 2
    low, high = np.nanquantile(stats, [alpha, 1 - alpha])
    return float(estimate), float(low), float(high)


def corpus_jackknife(
    n: int, fn: Callable[[np.ndarray], float], *, groups: int = 10, confidence: float = 0.95, seed: int = 0
) -> tuple[float, float, float]:
    """(estimate, low, high) by the grouped delete-d jackknife: for corpus statistics a bootstrap would bias.

    Drawing texts with replacement puts duplicate texts into a resample. Statistics of the whole corpus that
    look at which texts are alike (MAUVE's clusters) or at the shape of the word-frequency table (Zipf) read
    the duplicates as signal, so the bootstrap distribution is shifted and can exclude the estimate itself.
    The jackknife only ever deletes texts. The items are dealt at random (``seed``) into ``groups`` groups of
    near-equal size; with θ_(g) the statistic without group g and θ̄ their mean,
    se² = (G−1)/G · Σ_g (θ_(g) − θ̄)² (Quenouille 1956; Tukey 1958; grouped form: Efron & Tibshirani 1993,
    §11.5), and the interval is estimate ± t_{G−1} · se. With ``groups=n`` this is the delete-one jackknife,
    whose standard error for the mean is exactly s/√n:

    >>> x = np.array([1.0, 4.0, 2.0, 8.0, 5.0])
    >>> est, low, high = corpus_jackknife(5, lambda i: float(x[i].mean()), groups=5)
    >>> from scipy import stats
    >>> se = x.std(ddof=1) / np.sqrt(5)
    >>> bool(np.isclose(high - est, stats.t.ppf(0.975, 4) * se))
    True
    """
    from scipy import stats

    if not 2 <= groups <= n:
        raise ValueError(f"groups must be between 2 and the number of items ({n}), got {groups}")
    rng = np.random.default_rng(seed)
    label = rng.permutation(n) % groups
    estimate = fn(np.arange(n))
    leave_out = np.array([fn(np.flatnonzero(label != g)) for g in range(groups)], dtype=float)
    se = float(np.sqrt((groups - 1) / groups * np.sum((leave_out - leave_out.mean()) ** 2)))
    half = float(stats.t.ppf(1 - (1 - confidence) / 2, groups - 1)) * se
    return float(estimate), float(estimate) - half, float(estimate) + half


@dataclass
class StudyResult:
    table: pd.DataFrame  # one row per system (configs + human): metric, low and high columns
    per_item: pd.DataFrame  # one row per (system, prompt): per-item scores for paired comparisons
    generations: pd.DataFrame  # genlab.generate's frame (one row per continuation)


def match_human_length(tokenizer, continuations: Sequence[str], n_tokens: int) -> list[str]:
    """Each human continuation cut to its first ``n_tokens`` model tokens: the budget every generation gets.

    The rule of the decoding study: a generation has at most ``max_new_tokens`` tokens (fewer when the model ends
    the text), so the human continuation of the same prompt is cut to exactly that many tokens of the same
    tokenizer (Holtzman et al. 2020 compare generations and gold continuations of up to 200 tokens; Su & Xu 2022
    keep pairs where both have exactly 128). A continuation with fewer tokens is kept whole; the study reports
    each text's tokens (``n_tokens``) so a mismatch shows. The cut is decoded from the token ids, so it is the
    continuation's own characters whenever the tokenizer round-trips (genlab's byte-level BPE does).

    >>> from genlab.models.tiny import tiny_bundle
    >>> tok = tiny_bundle().tokenizer
    >>> match_human_length(tok, [" the cat sat on the mat", " a"], 3)  # " the", " cat", " sat"; " a" is shorter
    [' the cat sat', ' a']
    """
    if isinstance(n_tokens, bool) or not isinstance(n_tokens, (int, np.integer)) or n_tokens < 1:
        raise ValueError(f"n_tokens must be a positive integer (the generations' max_new_tokens), got {n_tokens!r}")
    if isinstance(continuations, str) or not all(isinstance(t, str) for t in continuations):
        raise ValueError("continuations must be a list of strings")
    ids = tokenizer(list(continuations), add_special_tokens=False)["input_ids"] if continuations else []
    out = []
    for text, x in zip(continuations, ids, strict=True):
        if len(x) <= n_tokens:
            out.append(text)
            continue
        cut = tokenizer.decode(x[:n_tokens], skip_special_tokens=True, clean_up_tokenization_spaces=False)
        out.append(cut)
    return out


def _token_ids(tokenizer, texts: Sequence[str]) -> list[list[int]]:
    return [list(x) for x in tokenizer(list(texts), add_special_tokens=False)["input_ids"]] if texts else []


def _system_metrics(
    bundle,
    prefixes: list[str],
    texts: list[str],
    token_ids: list[list[int]],  # the model token ids of each text: generated ids, or the human text's own
    prefix_features: np.ndarray,
    feats: np.ndarray,  # MiniLM embeddings of texts, shared by coherence and MAUVE
    human_features: np.ndarray | None,  # None: no MAUVE (the human row)
    *,
    n_resamples: int,
    seed: int,
    mauve_groups: int,
) -> tuple[dict, pd.DataFrame]:
    n = len(texts)
    arr = np.array(texts, dtype=object)
    logp = np.array(coherence_logprob(bundle, prefixes, texts))
    # the tokens coherence_logprob scored: the text's own tokenisation (a generation's text is retokenised)
    scored = np.array([len(x) for x in _token_ids(bundle.tokenizer, texts)], dtype=float)
    nll = np.where(np.isfinite(logp), -logp * scored, np.nan)  # summed NLL of each text, nats
    coh = np.array(coherence_from_embeddings(prefix_features, feats, prefixes, texts))
    ends = np.array(end_repetition_ids(token_ids), dtype=bool)
    seqrep = np.array(seq_rep_n(texts, n=4))
    row: dict = {}

    def put(name, est, low, high):
        row[name], row[f"{name}_low"], row[f"{name}_high"] = est, low, high

    # an empty continuation (the model ended the text at once) has no log-probability and no coherence: those
    # two metrics cover the non-empty texts, and the table says how many were empty
    empty = np.array([not t.strip() for t in texts])
    row["empty"] = int(empty.sum())
    row["mean_tokens"] = round(float(np.mean([len(x) for x in token_ids])), 1)
    # perplexity, token-weighted as genlab.metrics.perplexity: exp(total NLL / total tokens) over the scored texts;
    # each bootstrap resample of prompts recomputes the ratio, so long texts weigh as much as in the estimate
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
    # Self-BLEU, Zipf and MAUVE: the jackknife, because the duplicated texts of a bootstrap resample bias all three
    # (a duplicate matches its own copy; see corpus_jackknife)
    groups = min(10, n)
    if n >= 4:  # every jackknife sample keeps at least 2 texts, each scored against the others
        put(
            "self_bleu4",
            *corpus_jackknife(n, lambda i: self_bleu_score(list(arr[i]), max_n=4).score, groups=groups, seed=seed),
        )
    else:
        put("self_bleu4", self_bleu_score(texts, max_n=4).score, np.nan, np.nan)
    put("zipf", *corpus_jackknife(n, lambda i: zipf_coefficient(list(arr[i])), groups=groups, seed=seed))
    ci = exact_binomial_ci(int(ends.sum()), n)
    put("repetition_pct", 100 * ci.estimate, 100 * ci.low, 100 * ci.high)
    for k in (2, 3, 4):
        put(
            f"rep_{k}",
            *corpus_bootstrap(n, lambda i, k=k: rep_n(list(arr[i]), n=k), n_resamples=n_resamples, seed=seed),
        )
    put("diversity", *corpus_bootstrap(n, lambda i: diversity(list(arr[i])), n_resamples=n_resamples, seed=seed))
    put("seq_rep_4", *_ci(seqrep, n_resamples, seed))
    if human_features is not None:  # human vs human is 1 by definition: the human row skips it
        full = mauve_from_features(human_features, feats)
        row["mauve_regime"] = full.regime
        if full.regime == "demonstration":
            # a k-means histogram of a few dozen texts in 2-3 buckets: a demonstration of the metric, no interval
            put("mauve", full.mauve, np.nan, np.nan)
        else:  # both sides lose the same prompts; few groups, because each one runs k-means
            _, low, high = corpus_jackknife(
                n,
                lambda i: mauve_from_features(human_features[i], feats[i]).mauve,
                groups=min(mauve_groups, n),
                seed=seed,
            )
            put("mauve", full.mauve, max(low, 0.0), min(high, 1.0))  # MAUVE lies in [0, 1]
    else:
        put("mauve", np.nan, np.nan, np.nan)
        row["mauve_regime"] = ""
    put("coherence", *_ci(coh, n_resamples, seed))
    per_item = pd.DataFrame(
        {
            "prompt_id": range(n),
            "mean_logprob": logp,
            "nll": nll,
            "scored_tokens": scored.astype(int),
            "coherence": coh,
            "end_repetition": ends,
            "seq_rep_4": seqrep,
            "n_tokens": [len(x) for x in token_ids],
            "n_words": [len(t.split()) for t in texts],
        }
    )
    return row, per_item


def _ci(values: np.ndarray, n_resamples: int, seed: int) -> tuple[float, float, float]:
    values = values[np.isfinite(values)]  # nan: an item the metric cannot score (an empty text)
    if len(values) < 2 or np.allclose(values, values[0]):
        v = float(np.mean(values)) if len(values) else float("nan")
        return v, v, v
    r = bootstrap_ci(values, n_resamples=n_resamples, seed=seed)
    return r.estimate, r.low, r.high


def decoding_study(
    bundle,
    prefixes: Sequence[str],
    human_continuations: Sequence[str],
    configs: Sequence,
    *,
    max_new_tokens: int = 64,
    n_resamples: int = 1000,
    mauve_groups: int = 10,
    match_length: bool = True,
    seed: int = 0,
    batch_size: int = 32,
) -> StudyResult:
    """Generate a continuation of every prefix with every config and score all systems against human text.

    ``configs``: preset names or :class:`genlab.DecodingConfig` objects. The human row scores the given
    continuations the same way (perplexity under ``bundle``, repetition, diversity, coherence); its MAUVE
    compares the human texts with themselves (1.0 by construction) and is left blank. ``empty`` counts
    continuations with no text (the model ended at once); perplexity and coherence cover the others.

    Faithful to the papers:

    - ``perplexity`` is token-weighted: exp(Σ NLL / Σ tokens) of the continuations given their prompts (as
      :func:`genlab.metrics.perplexity.perplexity`), not the mean of per-text values; ``per_item`` keeps each
      text's ``nll`` and ``scored_tokens``.
    - ``repetition_pct`` applies Holtzman et al.'s rule (a phrase of >= 2 tokens repeated >= 3 times at the end)
      to model token ids: the generated ids, and the tokenizer's ids of the human text.
    - ``match_length=True``: each human continuation is cut to ``max_new_tokens`` model tokens
      (:func:`match_human_length`), the budget every generation gets; pass human text at least that long.
      ``mean_tokens`` gives each row's mean continuation length in model tokens, so the match is visible.
    - ``mauve``: with fewer than 1,000 texts per side (``genlab.metrics.mauve.FULL_SIZE``) a demonstration, with
      no interval (``mauve_regime`` says ``"demonstration"``); at full size the authors' settings and a grouped
      jackknife interval with ``mauve_groups`` groups (each re-runs k-means). ``mauve_groups=0`` skips MAUVE.

    ``n_resamples``: bootstrap resamples per interval (1,000 or more for an interval a conclusion rests on).

    >>> from genlab.models.tiny import tiny_bundle
    >>> bundle = tiny_bundle(texts=["The fox ran off. A cat sat down."], padding_side="left")
    >>> prefixes, human = ["The fox", "A cat", "The cat", "A fox"], [" ran off.", " sat down.", " ran.", " sat."]
    >>> study = decoding_study(bundle, prefixes, human, ["greedy"], max_new_tokens=3, n_resamples=10,
    ...                        mauve_groups=0)
    >>> list(study.table.index), sorted(study.per_item.columns)[:3]
    (['human', 'greedy'], ['coherence', 'end_repetition', 'mean_logprob'])
    """
    from genlab.generation.decoder import generate

    prefixes, human = list(prefixes), list(human_continuations)
    if len(prefixes) != len(human) or len(prefixes) < 2:
        raise ValueError(
            f"need at least 2 prefixes, each with a human continuation; got {len(prefixes)} prefixes and "
            f"{len(human)} continuations"
        )
    if isinstance(mauve_groups, bool) or not isinstance(mauve_groups, int) or mauve_groups < 0 or mauve_groups == 1:
        raise ValueError(f"mauve_groups must be 0 (skip MAUVE) or a jackknife group count >= 2, got {mauve_groups!r}")
    tok = bundle.tokenizer
    if match_length:
        human = match_human_length(tok, human, max_new_tokens)
    gens = generate(bundle, prefixes, configs, max_new_tokens=max_new_tokens, seed=seed, batch_size=batch_size)
    if HUMAN in set(gens["config"]):
        raise ValueError(f"a decoding config is named {HUMAN!r}, the name of the human row; rename it")
    # each text is embedded once: prefixes for every system's coherence, each system's texts for coherence and MAUVE
    prefix_features = sentence_embeddings(prefixes)
    human_features = sentence_embeddings(human)
    rows, items = [], []
    systems = [(HUMAN, human, _token_ids(tok, human))] + [
        (name, g["text"].tolist(), [list(t) for t in g["tokens"]])
        for name, g in ((n, g.sort_values("prompt_id")) for n, g in gens.groupby("config", sort=False))
    ]
    for name, texts, ids in systems:
        row, per_item = _system_metrics(
            bundle,
            prefixes,
            texts,
            ids,
            prefix_features,
            human_features if name == HUMAN else sentence_embeddings(texts),
            None if name == HUMAN or mauve_groups == 0 else human_features,
            n_resamples=n_resamples,
            seed=seed,
            mauve_groups=mauve_groups,
        )
        rows.append({"system": name, **row})
        items.append(per_item.assign(system=name))
    table = pd.DataFrame(rows).set_index("system")
    table.attrs["mauve_full_size"] = FULL_SIZE
    return StudyResult(table=table, per_item=pd.concat(items, ignore_index=True), generations=gens)


def summary_table(table: pd.DataFrame, digits: int = 2) -> pd.DataFrame:
    """Each metric as ``estimate [low, high]`` strings, rounded: the table a paper would print. Columns without an
    interval (counts such as ``empty``) are kept as they are; an estimate reported without an interval (a
    demonstration-size MAUVE) is printed alone, marked "(no CI)".

    >>> t = pd.DataFrame({"rep_2": [3.14159], "rep_2_low": [2.0], "rep_2_high": [4.0], "empty": [0],
    ...                   "mauve": [0.5], "mauve_low": [np.nan], "mauve_high": [np.nan]})
    >>> print(summary_table(t).to_string(index=False))
                rep_2  empty          mauve
    3.14 [2.00, 4.00]      0 0.50 (no CI)
    """
    metrics = [c for c in table.columns if not c.endswith(("_low", "_high"))]
    out = pd.DataFrame(index=table.index)
    for m in metrics:
        if f"{m}_low" not in table.columns:
            out[m] = table[m]
            continue
        out[m] = [
            "–"
            if pd.isna(e)
            else f"{e:.{digits}f} (no CI)"
            if pd.isna(lo) and pd.isna(hi)
            else f"{e:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"
            for e, lo, hi in zip(table[m], table[f"{m}_low"], table[f"{m}_high"], strict=True)
        ]
    return out


def compare_systems(per_item: pd.DataFrame, a: str, b: str, metric: str, *, seed: int = 0) -> pd.Series:
    """Paired comparison of systems ``a`` and ``b`` on the same prompts: bootstrap CI, permutation p, d_z.

    Items are paired by ``prompt_id``; prompts that only one system has, or where either value is missing (nan),
    are left out, and ``n`` is the number of pairs kept.

    >>> per_item = pd.DataFrame({"system": ["a"] * 4 + ["b"] * 4, "prompt_id": [0, 1, 2, 3] * 2,
    ...                          "score": [1.0, 2.0, 3.0, np.nan, 2.0, 3.0, 5.0, 1.0]})
    >>> r = compare_systems(per_item, "a", "b", "score")
    >>> r["n"], round(r["difference"], 4)
    (3, -1.3333)
    """
    for column in ("system", "prompt_id", metric):
        if column not in per_item.columns:
            raise ValueError(f"per_item has no {column!r} column; its columns are {list(per_item.columns)}")
    known = set(per_item["system"])
    for name in (a, b):
        if name not in known:
            raise ValueError(f"no system {name!r} in per_item; known: {sorted(map(str, known))}")
    sides = []
    for name in (a, b):
        rows = per_item[per_item.system == name]
        if rows["prompt_id"].duplicated().any():
            raise ValueError(f"system {name!r} has several rows for one prompt_id; aggregate to one per prompt first")
        sides.append(rows.set_index("prompt_id")[metric].astype(float))
    # pair by prompt id; a prompt that only one system has, or where either value is missing (e.g. a text that
    # makes no claim), cannot be paired: it is left out
    paired = pd.concat(sides, axis=1, join="inner", keys=["a", "b"]).dropna()
    x, y = paired["a"].to_numpy(), paired["b"].to_numpy()
    if len(x) < 2:
        raise ValueError(f"fewer than 2 prompts have a {metric!r} value for both {a!r} and {b!r}; use more prompts")
    boot = paired_bootstrap(x, y, seed=seed)
    perm = paired_permutation_test(x, y, seed=seed)
    return pd.Series(
        {
            "metric": metric,
            "a": a,
            "b": b,
            "mean_a": x.mean(),
            "mean_b": y.mean(),
            "difference": boot.difference,
            "difference_low": boot.low,
            "difference_high": boot.high,
            "p_value": perm.p_value,
            "cohens_dz": boot.effect_size,
            "n": len(x),
        }
    )


def compare_systems_family(
    per_item: pd.DataFrame,
    comparisons: Sequence[tuple[str, str, str]],
    *,
    family: str,
    method: str = "holm",
    seed: int = 0,
) -> pd.DataFrame:
    """A family of paired comparisons, one :func:`compare_systems` row per ``(a, b, metric)``, with p-values
    adjusted within the family (:func:`genlab.metrics.multiplicity.adjust_family`: Holm by default).

    The table says which family (``family``, ``family_size``) and which correction (``correction``); a difference
    is a finding when ``p_adjusted <= 0.05``. The intervals are the unadjusted 95% paired-bootstrap intervals.

    >>> per_item = pd.DataFrame({"system": ["a"] * 6 + ["b"] * 6, "prompt_id": list(range(6)) * 2,
    ...                          "x": [1.0, 2, 3, 4, 5, 6, 2, 3, 4, 5, 6, 8], "y": [0.0] * 6 + [0.1] * 6})
    >>> t = compare_systems_family(per_item, [("a", "b", "x"), ("a", "b", "y")], family="a vs b")
    >>> t[["metric", "family_size", "correction"]].values.tolist()
    [['x', 2, 'holm'], ['y', 2, 'holm']]
    >>> bool((t["p_adjusted"] >= t["p_value"]).all())
    True
    """
    comparisons = list(comparisons)
    if not comparisons or not all(isinstance(c, tuple) and len(c) == 3 for c in comparisons):
        raise ValueError("comparisons must be a non-empty list of (system_a, system_b, metric) tuples")
    rows = pd.DataFrame([compare_systems(per_item, a, b, m, seed=seed) for a, b, m in comparisons])
    return adjust_family(rows, family_col=None, family=family, method=method)


def equivalence_to_human(
    per_item: pd.DataFrame,
    metric: str,
    margin: float | tuple[float, float],
    *,
    systems: Sequence[str] | None = None,
    human: str = HUMAN,
    alpha: float = 0.05,
    method: str = "holm",
) -> pd.DataFrame:
    """Is each system "close to human" on ``metric``? Paired TOST (:func:`genlab.metrics.replication.tost`) of
    system minus human over the prompts both have, against ``margin`` (m for (-m, m), or (low, high), in the
    metric's units, stated before the data are seen), with the p-values adjusted over the systems tested (one
    family, ``method``: Holm by default).

    One row per system: ``difference`` (system - human), its 1 - 2 alpha interval ``difference_low`` /
    ``difference_high``, the margins, the TOST ``p_value``, ``family``, ``family_size``, ``correction``,
    ``p_adjusted`` and ``equivalent`` (``p_adjusted <= alpha``). Not equivalent is not "different": the interval
    may simply be too wide for the margin.

    >>> per_item = pd.DataFrame({"system": ["human"] * 8 + ["a"] * 8 + ["b"] * 8, "prompt_id": list(range(8)) * 3,
    ...     "s": [0.1, 0.2, 0.0, 0.1, 0.3, 0.2, 0.1, 0.0] + [0.11, 0.19, 0.02, 0.1, 0.28, 0.21, 0.1, 0.01]
    ...          + [0.5, 0.6, 0.4, 0.7, 0.6, 0.5, 0.6, 0.5]})
    >>> equivalence_to_human(per_item, "s", 0.05)[["system", "equivalent"]].values.tolist()
    [['a', True], ['b', False]]

    **Limitations.** The answer is only as meaningful as the margin; a margin chosen after seeing the data, or so
    wide that any system passes, proves nothing. Paired t reference: roughly normal mean differences (a few dozen
    prompts). Holm controls the chance of any false "equivalent" among the systems tested, not across notebooks.
    """
    for column in ("system", "prompt_id", metric):
        if column not in per_item.columns:
            raise ValueError(f"per_item has no {column!r} column; its columns are {list(per_item.columns)}")
    known = [str(x) for x in dict.fromkeys(per_item["system"])]
    if human not in known:
        raise ValueError(f"no {human!r} rows in per_item; known systems: {known}")
    systems = [x for x in known if x != human] if systems is None else list(systems)
    missing = [x for x in systems if x not in known]
    if missing or not systems:
        raise ValueError(f"systems {missing or systems} not in per_item; known: {known}")
    base = per_item[per_item.system == human].set_index("prompt_id")[metric].astype(float)
    rows = []
    for name in systems:
        other = per_item[per_item.system == name].set_index("prompt_id")[metric].astype(float)
        paired = pd.concat([other, base], axis=1, join="inner", keys=["s", "h"]).dropna()
        r = tost(paired["s"].to_numpy(), paired["h"].to_numpy(), margin, paired=True, alpha=alpha)
        rows.append(
            {
                "metric": metric,
                "system": name,
                "difference": r.difference,
                "difference_low": r.low,
                "difference_high": r.high,
                "confidence": r.confidence,
                "margin_low": r.margin_low,
                "margin_high": r.margin_high,
                "p_value": r.p_value,
                "test": f"TOST ({r.test})",
                "n": r.n_a,
            }
        )
    out = adjust_family(
        pd.DataFrame(rows), family_col=None, family=f"equivalence to {human} on {metric}", method=method
    )
    out["equivalent"] = out["p_adjusted"] <= alpha
    return out


_AXIS_TITLES = {
    "rep_2": "rep-2: repeated 2-grams, % (Su et al. 2022)",
    "rep_3": "rep-3: repeated 3-grams, % (Su et al. 2022)",
    "rep_4": "rep-4: repeated 4-grams, % (Su et al. 2022)",
    "seq_rep_4": "seq-rep-4: share of repeated 4-grams per text (Welleck et al. 2020)",
    "repetition_pct": "texts ending in a repetition loop, % (Holtzman et al. 2020)",
    "self_bleu4": "Self-BLEU-4 (higher: texts more alike)",
}


def plot_tradeoff(table: pd.DataFrame, y: str = "rep_2"):
    """A repetition measure ``y`` against diversity for each system, coloured by MAUVE, with 95% intervals.

    >>> t = pd.DataFrame({"diversity": [0.9, 0.2], "rep_2": [3.0, 60.0], "mauve": [np.nan, 0.1]},
    ...                  index=pd.Index(["human", "greedy"], name="system"))
    >>> for c in ("diversity", "rep_2"):
    ...     t[f"{c}_low"], t[f"{c}_high"] = t[c] * 0.9, t[c] * 1.1
    >>> plot_tradeoff(t).data[0].y.tolist()
    [3.0, 60.0]
    """
    if y not in table.columns:
        raise ValueError(f"the table has no column {y!r}; try one of {sorted(_AXIS_TITLES)}")
    import plotly.graph_objects as go

    df = table.reset_index()
    fig = go.Figure(
        go.Scatter(
            x=df["diversity"],
            y=df[y],
            mode="markers+text",
            text=df["system"],
            textposition="top center",
            error_x=error_bars(df["diversity"], df["diversity_low"], df["diversity_high"]),
            error_y=error_bars(df[y], df[f"{y}_low"], df[f"{y}_high"]),
            marker={
                "size": 14,
                "color": df["mauve"].fillna(1.0),
                "colorscale": "Viridis",
                "cmin": 0,
                "cmax": 1,
                "colorbar": {"title": "MAUVE"},
            },
        )
    )
    fig.update_layout(
        title="Decoding strategies: repetition vs diversity (colour: MAUVE; the human row is 1 by definition)",
        xaxis_title="diversity (Su et al. 2022; 1 = no repeated n-grams)",
        yaxis_title=_AXIS_TITLES.get(y, y),
        template="plotly_white",
    )
    return fig


def plot_rate_by_count(
    frame: pd.DataFrame,
    y: str = "accuracy",
    *,
    series: str | None = None,
    title: str = "Fact recall by training frequency",
    yaxis_title: str | None = None,
):
    """A rate ``y`` with its ``{y}_low``/``{y}_high`` interval against how often the fact was seen in training.

    ``series``: a column whose values become separate lines (e.g. the scoring method)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    groups = [(y, frame)] if series is None else list(frame.groupby(series, sort=False))
    for name, df in groups:
        fig.add_trace(
            go.Scatter(
                x=df["count"],
                y=df[y],
                mode="lines+markers",
                name=str(name),
                error_y=error_bars(df[y], df[f"{y}_low"], df[f"{y}_high"]),
            )
        )
    fig.update_layout(
        title=title,
        xaxis_title="training documents stating the fact",
        xaxis_type="log",
        yaxis_title=yaxis_title or y,
        yaxis_range=[0, 1],
        template="plotly_white",
    )
    return fig


def perplexity_by_group(
    bundle,
    texts: Sequence[str],
    groups: Sequence[str] | None = None,
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    batch_size: int = 16,
) -> pd.DataFrame:
    """Token-weighted perplexity with a bootstrap interval over texts, overall and for each group of texts.

    Each resample draws texts with replacement and recomputes exp(total NLL / total tokens), so long texts weigh
    as much as they do in the estimate. One row per group (``"all"`` first): texts, tokens, perplexity, low, high.

    A model with a zeroed output layer spreads its probability evenly, so every group's perplexity is the
    vocabulary size, with no spread:

    >>> import torch
    >>> from genlab.models.tiny import tiny_bundle
    >>> bundle = tiny_bundle()
    >>> model = bundle.model
    >>> _ = torch.nn.init.zeros_(model.lm_head.weight)
    >>> df = perplexity_by_group(bundle, ["the cat", "a mat", "sat"], ["x", "y", "y"], n_resamples=20)
    >>> df[["texts", "perplexity", "perplexity_low", "perplexity_high"]].round(1)
           texts  perplexity  perplexity_low  perplexity_high
    group
    all        3       270.0           270.0            270.0
    x          1       270.0           270.0            270.0
    y          2       270.0           270.0            270.0
    """
    from genlab.metrics.perplexity import perplexity

    texts = list(texts)
    labels = ["all"] * len(texts) if groups is None else [str(g) for g in groups]
    if len(labels) != len(texts) or not texts:
        raise ValueError(
            f"need one group label per text and at least one text; got {len(labels)} labels for {len(texts)} texts"
        )
    result = perplexity(bundle, texts, batch_size=batch_size)
    nll, tokens = np.array(result.per_text_nll), np.array(result.per_text_tokens, dtype=float)
    labels_arr = np.array(labels, dtype=object)
    rows = []
    for name in ["all", *sorted(set(labels) - {"all"})]:
        idx = np.arange(len(texts)) if name == "all" else np.flatnonzero(labels_arr == name)
        g_nll, g_tok = nll[idx], tokens[idx]
        est, low, high = corpus_bootstrap(
            len(idx),
            lambda i, g_nll=g_nll, g_tok=g_tok: float(np.exp(g_nll[i].sum() / g_tok[i].sum())),
            n_resamples=n_resamples,
            confidence=confidence,
            seed=seed,
        )
        rows.append(
            {
                "group": name,
                "texts": len(idx),
                "tokens": int(g_tok.sum()),
                "perplexity": est,
                "perplexity_low": low,
                "perplexity_high": high,
            }
        )
    return pd.DataFrame(rows).set_index("group")


@dataclass
class HallucinationStudy:
    # one row per system, every prompt counted (no selection on the outcome):
    #   n_prompts; k_claimed, claim_rate (+ _low, _high): prompts whose text makes at least one claim;
    #   k_contradicted, contradiction_rate (+ _low, _high): prompts whose text makes a contradicted claim, over ALL
    #   prompts; n_claims, k_contradicted_claims, contradicted_per_claim (+ _low, _high): contradicted claims / claims
    table: pd.DataFrame
    by_count: pd.DataFrame  # per system and training count of the claimed fact: contradicted share of claims
    # system, prompt_id, n_claims, n_contradicted, claimed (1.0 / 0.0), contradicted (1.0 / 0.0): defined for every
    # prompt, so compare_systems pairs all prompts
    per_item: pd.DataFrame
    claims: pd.DataFrame  # every claim found (extract_claims' columns; text_id is the prompt id) and its system
    generations: pd.DataFrame  # genlab.generate's frame (one row per continuation)


def person_prompts(world, templates: str | Sequence[str] = "{name}") -> list[str]:
    """One prompt per template and person of the world: free generations that will make claims about them.

    Openings the corpus uses before a fact ("Everyone knows that {name}") draw more claims than a bare name.

    >>> from genlab.data.world import small_world
    >>> person_prompts(small_world(), ["This is {name}.", "{name}"])[:1] + person_prompts(small_world())[:1]
    ['This is Guntha.', 'Guntha']
    """
    templates = [templates] if isinstance(templates, str) else list(templates)
    for template in templates:
        if "{name}" not in template:
            raise ValueError(f"each template must contain '{{name}}', got {template!r}")
    return [template.format(name=p.name) for template in templates for p in world.people]


def hallucination_study(
    bundle,
    world,
    prompts: Sequence[str],
    configs: Sequence,
    *,
    max_new_tokens: int = 48,
    seed: int = 0,
    batch_size: int = 32,
    confidence: float = 0.95,
) -> HallucinationStudy:
    """Generate from each prompt with each config and check every claim the text makes against the world.

    The claim extractor and its coverage are :func:`genlab.metrics.factual.extract_claims`; the prompt is
    scored with its continuation, so a claim the prompt starts ("Guntha lives in") and the model completes
    counts. Two rates are measured separately, each over **all** prompts, so two systems compare on the same
    prompts whatever they wrote (selecting the prompts where a claim was made would condition on the outcome and
    bias the paired comparison):

    - ``claim_rate``: prompts whose text makes at least one claim / prompts;
    - ``contradiction_rate``: prompts whose text makes at least one contradicted claim / prompts.

    ``contradicted_per_claim`` (contradicted claims / all claims) is reported beside them, clearly named: a rate
    among claims, whose denominator each system chooses by what it writes; compare it between systems only with
    that in mind. Exact Clopper-Pearson intervals; ``per_item`` (``claimed``, ``contradicted``: 1.0 or 0.0 for
    every prompt) feeds :func:`compare_systems`.

    **Limitations.** The claims found are only those ``extract_claims`` recognises; a text that makes a claim in
    other words counts as making none. The Clopper-Pearson interval of ``contradicted_per_claim`` treats claims
    as independent, though several can come from one text.
    """
    from genlab.generation.decoder import generate
    from genlab.metrics.factual import hallucination_rate
    from genlab.metrics.stats import exact_binomial_ci

    prompts = list(prompts)
    if len(prompts) < 2:
        raise ValueError("need at least 2 prompts")
    gens = generate(bundle, prompts, configs, max_new_tokens=max_new_tokens, seed=seed, batch_size=batch_size)
    rows, by_count, items, claims = [], [], [], []
    for name, g in gens.groupby("config", sort=False):
        g = g.sort_values("prompt_id")
        texts = [prompts[i] + t for i, t in zip(g["prompt_id"], g["text"], strict=True)]
        r = hallucination_rate(texts, world, confidence=confidence)
        per = r.per_text.rename(columns={"text_id": "prompt_id"})
        per = per.assign(
            claimed=(per["n_claims"] > 0).astype(float), contradicted=(per["n_contradicted"] > 0).astype(float)
        )
        n = len(texts)
        row = {"system": name, "n_prompts": n}
        for column, k_name, flag in (
            ("claim_rate", "k_claimed", "claimed"),
            ("contradiction_rate", "k_contradicted", "contradicted"),
        ):
            count = int(per[flag].sum())
            ci = exact_binomial_ci(count, n, confidence)
            row[k_name] = count
            row[column], row[f"{column}_low"], row[f"{column}_high"] = ci.estimate, ci.low, ci.high
        ci = exact_binomial_ci(r.n_contradicted, r.n_claims, confidence) if r.n_claims else None
        row.update(
            {
                "n_claims": r.n_claims,
                "k_contradicted_claims": r.n_contradicted,
                "contradicted_per_claim": r.overall,
                "contradicted_per_claim_low": ci.low if ci else np.nan,
                "contradicted_per_claim_high": ci.high if ci else np.nan,
            }
        )
        rows.append(row)
        by_count.append(r.by_count.assign(system=name))
        items.append(per.drop(columns="rate").assign(system=name))
        claims.append(r.claims.assign(system=name))
    return HallucinationStudy(
        table=pd.DataFrame(rows).set_index("system"),
        by_count=pd.concat(by_count, ignore_index=True),
        per_item=pd.concat(items, ignore_index=True),
        claims=pd.concat(claims, ignore_index=True),
        generations=gens,
    )
