"""Evaluation studies that notebooks run in one call: decoding strategies against human text, with intervals.

``decoding_study`` produces a table in the shape of Holtzman et al. (2020, Table 1) and Su et al. (2022,
Table 1): for each decoding configuration and for the human continuations, perplexity under the model,
Self-BLEU-4, Zipf coefficient, end-of-text repetition %, rep-2/3/4, diversity, MAUVE and coherence. Every
number comes with a 95% interval: exact (Clopper–Pearson) for the repetition rate; a grouped jackknife over
prompts for Zipf and MAUVE, which a bootstrap would bias (duplicated texts; see ``corpus_jackknife``); a
bootstrap over prompts for everything else (resampling texts and recomputing corpus-level metrics; Self-BLEU
resamples hypotheses, each still scored against all the other texts).

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
from genlab.metrics.mauve import mauve_from_features
from genlab.metrics.repetition import diversity, end_repetition, rep_n, seq_rep_n, zipf_coefficient
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


def _system_metrics(
    bundle,
    prefixes: list[str],
    texts: list[str],
    prefix_features: np.ndarray,
    feats: np.ndarray,  # MiniLM embeddings of texts, shared by coherence and MAUVE
    human_features: np.ndarray,
    *,
    n_resamples: int,
    seed: int,
    mauve_groups: int,
) -> tuple[dict, pd.DataFrame]:
    n = len(texts)
    arr = np.array(texts, dtype=object)
    logp = np.array(coherence_logprob(bundle, prefixes, texts))
    coh = np.array(coherence_from_embeddings(prefix_features, feats, prefixes, texts))
    ends = np.array(end_repetition(texts), dtype=bool)
    seqrep = np.array(seq_rep_n(texts, n=4))
    row: dict = {}

    def put(name, est, low, high):
        row[name], row[f"{name}_low"], row[f"{name}_high"] = est, low, high

    # an empty continuation (the model ended the text at once) has no log-probability and no coherence: those
    # two metrics cover the non-empty texts, and the table says how many were empty
    empty = np.array([not t.strip() for t in texts])
    row["empty"] = int(empty.sum())
    # perplexity: exp(-mean over texts of each continuation's mean token log-probability)
    put(
        "perplexity",
        *corpus_bootstrap(n, lambda i: float(np.exp(-np.nanmean(logp[i]))), n_resamples=n_resamples, seed=seed)
        if np.isfinite(logp).sum() >= 2
        else (np.nan, np.nan, np.nan),
    )
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
    if mauve_groups > 0:  # human vs human is 1 by definition: the human row skips it
        # both sides lose the same prompts; few groups, because each one runs k-means
        est, low, high = corpus_jackknife(
            n, lambda i: mauve_from_features(human_features[i], feats[i]).mauve, groups=min(mauve_groups, n), seed=seed
        )
        put("mauve", est, max(low, 0.0), min(high, 1.0))  # MAUVE lies in [0, 1]
    else:
        put("mauve", np.nan, np.nan, np.nan)
    put("coherence", *_ci(coh, n_resamples, seed))
    per_item = pd.DataFrame(
        {
            "prompt_id": range(n),
            "mean_logprob": logp,
            "coherence": coh,
            "end_repetition": ends,
            "seq_rep_4": seqrep,
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
    n_resamples: int = 200,
    mauve_groups: int = 10,
    seed: int = 0,
    batch_size: int = 32,
) -> StudyResult:
    """Generate a continuation of every prefix with every config and score all systems against human text.

    ``configs``: preset names or :class:`genlab.DecodingConfig` objects. The human row scores the
    given continuations the same way (perplexity under ``bundle``, repetition, diversity, coherence); its
    MAUVE compares the human texts with themselves (1.0 by construction) and is left blank. ``empty`` counts
    continuations with no text (the model ended at once); perplexity and coherence cover the others.
    ``mauve_groups``: jackknife groups for MAUVE's interval (each runs k-means); 0 skips MAUVE.

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
    gens = generate(bundle, prefixes, configs, max_new_tokens=max_new_tokens, seed=seed, batch_size=batch_size)
    if HUMAN in set(gens["config"]):
        raise ValueError(f"a decoding config is named {HUMAN!r}, the name of the human row; rename it")
    # each text is embedded once: prefixes for every system's coherence, each system's texts for coherence and MAUVE
    prefix_features = sentence_embeddings(prefixes)
    human_features = sentence_embeddings(human)
    rows, items = [], []
    systems = [(HUMAN, human)] + [
        (name, g.sort_values("prompt_id")["text"].tolist()) for name, g in gens.groupby("config", sort=False)
    ]
    for name, texts in systems:
        row, per_item = _system_metrics(
            bundle,
            prefixes,
            texts,
            prefix_features,
            human_features if name == HUMAN else sentence_embeddings(texts),
            human_features,
            n_resamples=n_resamples,
            seed=seed,
            mauve_groups=0 if name == HUMAN else mauve_groups,
        )
        rows.append({"system": name, **row})
        items.append(per_item.assign(system=name))
    table = pd.DataFrame(rows).set_index("system")
    return StudyResult(table=table, per_item=pd.concat(items, ignore_index=True), generations=gens)


def summary_table(table: pd.DataFrame, digits: int = 2) -> pd.DataFrame:
    """Each metric as ``estimate [low, high]`` strings, rounded: the table a paper would print. Columns without an
    interval (counts such as ``empty``) are kept as they are.

    >>> t = pd.DataFrame({"rep_2": [3.14159], "rep_2_low": [2.0], "rep_2_high": [4.0], "empty": [0]})
    >>> print(summary_table(t).to_string(index=False))
                rep_2  empty
    3.14 [2.00, 4.00]      0
    """
    metrics = [c for c in table.columns if not c.endswith(("_low", "_high"))]
    out = pd.DataFrame(index=table.index)
    for m in metrics:
        if f"{m}_low" not in table.columns:
            out[m] = table[m]
            continue
        out[m] = [
            ("–" if pd.isna(e) else f"{e:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]")
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
            {"group": name, "texts": len(idx), "tokens": int(g_tok.sum()), "perplexity": est, "perplexity_low": low,
             "perplexity_high": high}
        )
    return pd.DataFrame(rows).set_index("group")


@dataclass
class HallucinationStudy:
    # one row per system: texts, texts_with_claims, n (claims), k (contradicted), rate, rate_low, rate_high
    table: pd.DataFrame
    by_count: pd.DataFrame  # per system and training count of the claimed fact: rate with interval
    per_item: pd.DataFrame  # system, prompt_id, n_claims, n_contradicted, rate (nan: the text makes no claim)
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
    counts. Rates come with exact Clopper-Pearson intervals; ``per_item`` feeds :func:`compare_systems`.
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
        ci = exact_binomial_ci(r.n_contradicted, r.n_claims, confidence) if r.n_claims else None
        rows.append(
            {
                "system": name,
                "texts": len(texts),
                "texts_with_claims": int((r.per_text.n_claims > 0).sum()),
                "n": r.n_claims,
                "k": r.n_contradicted,
                "rate": r.overall,
                "rate_low": ci.low if ci else np.nan,
                "rate_high": ci.high if ci else np.nan,
            }
        )
        by_count.append(r.by_count.assign(system=name))
        items.append(r.per_text.rename(columns={"text_id": "prompt_id"}).assign(system=name))
        claims.append(r.claims.assign(system=name))
    return HallucinationStudy(
        table=pd.DataFrame(rows).set_index("system"),
        by_count=pd.concat(by_count, ignore_index=True),
        per_item=pd.concat(items, ignore_index=True),
        claims=pd.concat(claims, ignore_index=True),
        generations=gens,
    )

