"""Fine-tuning experiments for the notebooks: one call per table, one per figure.

- :func:`compare_methods`: same task, data and step budget for each method; cost (trainable parameters, time,
  tokens/s, peak memory), validation loss, task score with interval, and general-quality damage (perplexity of
  held-out corpus text, before vs after).
- :func:`robustness` / :func:`robustness_comparison`: task score on prompts perturbed by
:func:`genlab.data.perturb.perturb`
  at several strengths, for clean vs adversarially trained models.
- :func:`learning_curve`: task score against training-set size, with and without augmentation (EDA, CDA).
- :func:`paired_tests`: any two rows of those tables that differ in one setting, compared item by item (paired
  bootstrap interval of the difference, paired permutation p-value); each table keeps its per-item scores in
  ``df.attrs["items"]``.
- ``plot_*``: plotly figures of those tables.

>>> import pandas as pd
>>> df = pd.DataFrame({"model": ["clean", "clean"], "kind": ["typo"] * 2, "strength": [0.0, 0.2],
...                    "score": [0.5, 0.3], "score_low": [0.4, 0.2], "score_high": [0.6, 0.4]})
>>> plot_robustness(df).layout.xaxis.title.text
'perturbation strength (share of units changed)'
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from genlab.models import Bundle
from genlab.report.plots import error_bars
from genlab.training.adversarial import AdversarialConfig, describe
from genlab.training.finetuning import METHODS, RunRecord, finetune
from genlab.training.tasks import Task, TaskScore

PerturbFn = Callable[[str, str, float, int], str]  # (text, kind, strength, seed) -> text


def item_scores(score: TaskScore) -> np.ndarray:
    """One value per evaluation item whose mean is ``score.value``: 1/0 for exact match, the share of the three
    requested attributes for story coverage. These are what paired tests compare.

    >>> import pandas as pd
    >>> from genlab.training.tasks import TaskScore
    >>> s = TaskScore("story", "attribute_coverage", 0.5, 0, 1, 2, "", pd.DataFrame({"covered": [1, 2]}))
    >>> item_scores(s).tolist()
    [0.3333333333333333, 0.6666666666666666]
    """
    if "correct" in score.items:
        return score.items["correct"].to_numpy(dtype=float)
    if "covered" in score.items:
        return score.items["covered"].to_numpy(dtype=float) / 3  # story_coverage: three attributes per prompt
    raise ValueError(f"no per-item scores known for metric {score.metric!r} (need a 'correct' or 'covered' column)")


def _with_items(df, items: dict, key: tuple[str, ...]):
    """Attach per-item scores: ``df.attrs["items"][row key] -> tuple of floats``, the key's columns in ``item_key``.
    Tuples, not arrays: pandas compares attrs with ``==`` when it concatenates frames."""
    df.attrs["items"] = {k: tuple(float(x) for x in v) for k, v in items.items()}
    df.attrs["item_key"] = key
    return df


# --- general-quality damage --------------------------------------------------------------------------------------
def heldout_perplexity(bundle: Bundle, texts: Sequence[str], batch_size: int = 16) -> float:
    """Token-weighted perplexity of ``texts`` (:func:`genlab.metrics.perplexity.perplexity`, which places the
    virtual tokens of prompt- and prefix-tuned models as training did)."""
    from genlab.metrics.perplexity import perplexity

    return perplexity(bundle, list(texts), batch_size=batch_size).perplexity


# --- method comparison -------------------------------------------------------------------------------------------
def compare_methods(
    bundle: Bundle,
    task: Task,
    methods: Sequence[str] = METHODS,
    *,
    steps: int = 200,
    batch_size: int = 16,
    seed: int = 0,
    heldout_texts: Sequence[str] | None = None,
    learning_rates: Mapping[str, float] | None = None,
    method_options: Mapping[str, dict] | None = None,
    include_base: bool = True,
    progress: bool | None = None,
    live_plot: bool = False,
    output_dir: str | os.PathLike | None = None,
    return_bundles: bool = False,
    seeds: Sequence[int] | None = None,
    **finetune_kwargs,
):
    """Fine-tune ``bundle`` with each method on ``task`` (same data, seed and step budget) and tabulate.

    ``seeds``: replicate every method once per seed (a seed fixes data order and initialisation), for intervals
    and tests over runs (:mod:`genlab.studies.replicated`). The table then has a ``seed`` column and one row per
    (method, seed); ``"base"`` appears once, with the first seed (the model before fine-tuning is one fixed system:
    its greedy scores do not depend on a seed); ``output_dir`` gets a ``seed<k>`` folder per seed; records are
    keyed ``"<method> seed <k>"``; ``return_bundles=True`` returns the first seed's models.

    Columns: method, trainable_params, trainable_share, wall_time_s, train_time_s, tokens_per_s, peak_memory_mb,
    eval_loss, score, score_low, score_high, n, completion_perplexity, heldout_ppl, heldout_ppl_change (relative
    to the base model). A first row ``"base"`` scores the model before fine-tuning. ``df.attrs["records"]`` holds
    each run's :class:`~genlab.training.finetuning.RunRecord` as a dict (loss curves for :func:`plot_loss_curves`) and
    ``df.attrs["items"]`` the per-item task scores (for :func:`paired_tests`). ``live_plot=True`` draws each run's
    loss curve live (:class:`~genlab.training.live_loss.LiveLossPlot`); ``output_dir`` saves run ``m`` to
    ``output_dir/m``
    (adapter or model, checkpoints, ``run.json``). ``return_bundles=True`` returns ``(df, {method: bundle})``.
    """
    import pandas as pd

    from genlab.training.live_loss import LiveLossPlot

    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown methods {unknown}; choose from {METHODS}")
    if seeds is not None:
        return _over_seeds(
            lambda s, first: compare_methods(
                bundle, task, methods, steps=steps, batch_size=batch_size, seed=s, heldout_texts=heldout_texts,
                learning_rates=learning_rates, method_options=method_options, include_base=include_base and first,
                progress=progress, live_plot=live_plot, return_bundles=True,
                output_dir=Path(output_dir) / f"seed{s}" if output_dir is not None else None, **finetune_kwargs,
            ),
            seeds, return_bundles,
        )
    rows, records, bundles, items = [], {}, {}, {}
    callbacks = list(finetune_kwargs.pop("callbacks", ()))
    base_ppl = heldout_perplexity(bundle, heldout_texts) if heldout_texts is not None else float("nan")
    if include_base:
        score = task.evaluate(bundle)
        items[("base",)] = item_scores(score)
        rows.append(
            {
                "method": "base",
                "trainable_params": 0,
                "trainable_share": 0.0,
                **score.as_row(),
                "heldout_ppl": base_ppl,
                "heldout_ppl_change": 0.0,
            }
        )
    for method in methods:
        tuned, record = finetune(
            bundle,
            task,
            method,
            steps=steps,
            batch_size=batch_size,
            seed=seed,
            learning_rate=(learning_rates or {}).get(method),
            method_options=(method_options or {}).get(method),
            progress=progress,
            output_dir=Path(output_dir) / method if output_dir is not None else None,
            callbacks=callbacks + ([LiveLossPlot(title=f"{method} on {task.name}: loss")] if live_plot else []),
            **finetune_kwargs,
        )
        score = task.evaluate(tuned)
        items[(method,)] = item_scores(score)
        ppl = heldout_perplexity(tuned, heldout_texts) if heldout_texts is not None else float("nan")
        rows.append(
            {
                "method": method,
                "trainable_params": record.trainable_params,
                "trainable_share": record.trainable_share,
                "wall_time_s": record.wall_time_s,
                "train_time_s": record.train_time_s,
                "tokens_per_s": record.tokens_per_s,
                "peak_memory_mb": record.peak_memory_mb,
                "eval_loss": record.eval_loss,
                **score.as_row(),
                "heldout_ppl": ppl,
                "heldout_ppl_change": ppl / base_ppl - 1,
            }
        )
        records[method] = record.to_dict()
        bundles[method] = tuned
    df = _with_items(pd.DataFrame(rows), items, ("method",))
    df.attrs["records"] = records
    df.attrs["task"] = task.name
    return (df, bundles) if return_bundles else df


def _over_seeds(run: Callable, seeds: Sequence[int], return_bundles: bool):
    """``run(seed, first) -> (table, bundles)`` once per seed, stacked: a ``seed`` column and key column, records
    keyed ``"<name> seed <k>"``, the first seed's bundles."""
    import pandas as pd

    seeds = list(seeds)
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct training seeds, e.g. [0, 1, 2]; got {seeds!r}")
    tables, items, records, first_bundles, key = [], {}, {}, None, None
    for i, s in enumerate(seeds):
        df, bundles = run(s, i == 0)
        key = tuple(df.attrs["item_key"])
        tables.append(df.assign(seed=s))
        items |= {(k[0], s, *k[1:]): v for k, v in df.attrs["items"].items()}
        records |= {f"{name} seed {s}": dict(r, seed=s) for name, r in df.attrs.get("records", {}).items()}
        first_bundles = bundles if first_bundles is None else first_bundles
    out = pd.concat(tables, ignore_index=True)
    out.insert(1, "seed", out.pop("seed"))
    out = _with_items(out, items, (key[0], "seed", *key[1:]))
    out.attrs["records"] = records
    out.attrs |= {k: v for k, v in tables[0].attrs.items() if k not in ("items", "item_key", "records")}
    return (out, first_bundles) if return_bundles else out


# --- robustness --------------------------------------------------------------------------------------------------
def _default_perturb() -> PerturbFn:
    from genlab.data.perturb import perturb

    return lambda text, kind, strength, seed: perturb(text, kind, strength, seed=seed)


def robustness(
    bundles: Mapping[str, Bundle],
    task: Task,
    kinds: Sequence[str] = ("typo", "word_swap"),
    strengths: Sequence[float] = (0.0, 0.1, 0.2, 0.4),
    *,
    seed: int = 0,
    perturb_fn: PerturbFn | None = None,
):
    """Task score of each model on the eval set with perturbed queries (the question or the story request; the
    prompt scaffold stays). Item ``i`` uses perturbation seed ``seed + i``, so every model sees the same perturbed
    prompts. Columns: model, kind, strength, score, low, high, n, interval; per-item scores in ``df.attrs["items"]``.

    Greedy scoring is deterministic, so a model is scored once per distinct set of prompts: strength 0 (the clean
    prompts, whatever the kind) costs one evaluation per model, not one per kind."""
    import pandas as pd

    perturb_fn = perturb_fn or _default_perturb()
    rows, items, scored = [], {}, {}
    for kind in kinds:
        for strength in strengths:
            data = task.map_queries(lambda q, i, k=kind, s=strength: perturb_fn(q, k, s, seed + i))
            prompts = tuple(data["prompt"])
            for name, b in bundles.items():
                if (name, prompts) not in scored:
                    scored[(name, prompts)] = task.evaluate(b, data)
                s = scored[(name, prompts)]
                items[(name, kind, strength)] = item_scores(s)
                rows.append(
                    {
                        "model": name,
                        "kind": kind,
                        "strength": strength,
                        "score": s.value,
                        "score_low": s.low,
                        "score_high": s.high,
                        "n": s.n,
                        "interval": s.interval,
                    }
                )
    return _with_items(pd.DataFrame(rows), items, ("model", "kind", "strength"))


def robustness_comparison(
    bundle: Bundle,
    task: Task,
    variants: Mapping[str, AdversarialConfig | None] | None = None,
    *,
    method: str = "full",
    steps: int = 200,
    batch_size: int = 16,
    seed: int = 0,
    kinds: Sequence[str] = ("typo", "word_swap"),
    strengths: Sequence[float] = (0.0, 0.1, 0.2, 0.4),
    perturb_fn: PerturbFn | None = None,
    progress: bool | None = None,
    return_bundles: bool = False,
    seeds: Sequence[int] | None = None,
    training_seed: int | None = None,
    **finetune_kwargs,
):
    """Train one model per variant (``None`` = clean training) with the same data, seed and steps, then
    :func:`robustness`. Default variants: clean, FGM (ε=1) and FreeLB (K=3, ε=1, α=0.3).
    ``df.attrs["records"]`` holds the runs (adversarial steps cost more passes: see wall_time_s).

    ``seeds``: train every variant once per training seed; the table gets a ``seed`` column (key: model, seed,
    kind, strength). The perturbations keep using ``seed`` (item i: ``seed + i``), so every run of every variant
    is scored on the same perturbed prompts (the crossed design :mod:`genlab.studies.replicated` needs).
    ``return_bundles=True`` then returns the first seed's models. ``training_seed``: train with this seed but
    perturb with ``seed`` (default: both ``seed``)."""
    if seeds is not None:
        return _over_seeds(
            lambda s, first: robustness_comparison(
                bundle, task, variants, method=method, steps=steps, batch_size=batch_size, seed=seed, kinds=kinds,
                strengths=strengths, perturb_fn=perturb_fn, progress=progress, return_bundles=True,
                training_seed=s, **finetune_kwargs,
            ),
            seeds, return_bundles,
        )
    training_seed = seed if training_seed is None else training_seed
    variants = (
        variants
        if variants is not None
        else {
            "clean": None,
            "fgm": AdversarialConfig("fgm", epsilon=1.0),
            "freelb": AdversarialConfig("freelb", epsilon=1.0, alpha=0.3, steps=3),
        }
    )
    bundles, records = {}, {}
    for name, adv in variants.items():
        tuned, record = finetune(
            bundle,
            task,
            method,
            steps=steps,
            batch_size=batch_size,
            seed=training_seed,
            adversarial=adv,
            progress=progress,
            **finetune_kwargs,
        )
        bundles[name], records[name] = tuned, record.to_dict() | {"variant": describe(adv)}
    df = robustness(bundles, task, kinds, strengths, seed=seed, perturb_fn=perturb_fn)
    df.attrs["records"] = records
    return (df, bundles) if return_bundles else df


# --- learning curve with augmentation ----------------------------------------------------------------------------
def augment_dataset(
    dataset, template: str, augment: str | Callable[[str, int], list[str]], *, n_aug: int = 4, seed: int = 0
):
    """Originals plus augmented copies. ``"eda"``: ``n_aug`` EDA variants of each query (Wei & Zou 2019, case and
    punctuation kept, completion unchanged); ``"cda"``: one counterfactual copy with query and completion swapped
    (Lu et al. 2018); a callable ``fn(query, seed) -> [variants]`` is applied to the query."""
    import datasets

    from genlab.data.augment import counterfactual, eda

    rows = dataset.to_list()
    out = list(rows)
    for i, row in enumerate(rows):
        if augment == "cda":
            copy = dict(row, query=counterfactual(row["query"]), completion=counterfactual(row["completion"]))
            variants = [copy] if copy["query"] != row["query"] or copy["completion"] != row["completion"] else []
        else:
            if augment == "eda":
                queries = eda(row["query"], num_aug=n_aug, seed=seed * 1_000_003 + i, clean=False)[:-1]
            elif callable(augment):
                queries = list(augment(row["query"], seed * 1_000_003 + i))
            else:
                raise ValueError(f"augment must be 'eda', 'cda' or a callable, got {augment!r}")
            variants = [dict(row, query=q) for q in queries if q != row["query"]]
        for v in variants:
            v["prompt"] = template.format(query=v["query"])
        out += variants
    return datasets.Dataset.from_list(out)


def learning_curve(
    bundle: Bundle,
    task: Task,
    sizes: Sequence[int],
    *,
    augmentations: Sequence[str | None] = (None, "eda"),
    method: str = "lora",
    steps: int = 100,
    batch_size: int = 16,
    seeds: Sequence[int] = (0,),
    n_aug: int = 4,
    progress: bool | None = None,
    **finetune_kwargs,
):
    """Task score against the number of training rows, with and without augmentation, same step budget each.

    Subsets are nested (the first n rows of one seeded shuffle), so a larger size adds rows. Columns: n_train,
    augmentation, seed, n_examples (after augmentation), score, low, high, eval_loss; per-item scores in
    ``df.attrs["items"]``.
    """
    import pandas as pd

    if max(sizes) > len(task.train):
        raise ValueError(f"the largest size {max(sizes)} exceeds the task's {len(task.train)} training rows")
    rows, items = [], {}
    for seed in seeds:
        order = list(range(len(task.train)))
        random.Random(f"genlab-learning-curve-{seed}").shuffle(order)
        for n in sizes:
            subset = task.train.select(order[:n])
            for aug in augmentations:
                data = subset if aug is None else augment_dataset(subset, task.template, aug, n_aug=n_aug, seed=seed)
                tuned, record = finetune(
                    bundle,
                    data,
                    method,
                    steps=steps,
                    batch_size=batch_size,
                    seed=seed,
                    eval_dataset=task.eval,
                    progress=progress,
                    **finetune_kwargs,
                )
                s = task.evaluate(tuned)
                items[(n, aug or "none", seed)] = item_scores(s)
                rows.append(
                    {
                        "n_train": n,
                        "augmentation": aug or "none",
                        "seed": seed,
                        "n_examples": len(data),
                        "score": s.value,
                        "score_low": s.low,
                        "score_high": s.high,
                        "eval_loss": record.eval_loss,
                    }
                )
    return _with_items(pd.DataFrame(rows), items, ("n_train", "augmentation", "seed"))


# --- paired comparisons ------------------------------------------------------------------------------------------
def paired_tests(df, column: str, reference, *, confidence: float = 0.95, n_resamples: int = 9999, seed: int = 0):
    """Each row of ``df`` against the row that differs only in ``column``, where it equals ``reference``.

    ``df`` comes from :func:`compare_methods` (``column="method"``, e.g. against ``"base"``), :func:`robustness`
    or :func:`robustness_comparison` (``"model"`` against ``"clean"``, or ``"strength"`` against ``0.0``: the drop
    under perturbation) or :func:`learning_curve` (``"augmentation"`` against ``"none"``). Both rows were scored on
    the same evaluation items, so the test is paired: the interval is a paired bootstrap of the mean difference
    (Koehn 2004), the p-value a two-sided paired permutation test (exact for small n). ``significant`` is
    ``p_value < 1 - confidence``. Columns: the key columns, reference, n, score, reference_score, difference,
    difference_low, difference_high, p_value, significant.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"method": ["base", "lora"]})
    >>> df.attrs = {"items": {("base",): [0, 0, 1, 0, 0, 0], ("lora",): [1, 1, 1, 1, 1, 0]}, "item_key": ("method",)}
    >>> r = paired_tests(df, "method", "base").iloc[0].to_dict()
    >>> r["method"], round(r["difference"], 3), r["p_value"], r["significant"]  # 8 of the 64 sign flips reach 4/6
    ('lora', 0.667, 0.125, False)
    """
    import pandas as pd

    from genlab.metrics.stats import paired_bootstrap, paired_permutation_test

    items, key = df.attrs.get("items"), tuple(df.attrs.get("item_key", ()))
    if not items or not key:
        raise ValueError(
            "this table carries no per-item scores; use one from compare_methods, robustness, "
            "robustness_comparison or learning_curve"
        )
    if column not in key:
        raise ValueError(f"column {column!r} does not identify a system here; choose one of {key}")
    at = key.index(column)
    if not any(k[at] == reference for k in items):
        raise ValueError(f"no row has {column} == {reference!r}; values: {sorted({str(k[at]) for k in items})}")
    rows = []
    for k in dict.fromkeys(tuple(r) for r in df[list(key)].itertuples(index=False)):
        ref_key = k[:at] + (reference,) + k[at + 1 :]
        if k[at] == reference or k not in items or ref_key not in items:
            continue
        a, b = np.asarray(items[k], dtype=float), np.asarray(items[ref_key], dtype=float)
        boot = paired_bootstrap(a, b, n_resamples=n_resamples, confidence=confidence, seed=seed)
        perm = paired_permutation_test(a, b, n_resamples=n_resamples, seed=seed)
        rows.append(
            {
                **dict(zip(key, k, strict=True)),
                "reference": reference,
                "n": len(a),
                "score": float(a.mean()),
                "reference_score": float(b.mean()),
                "difference": float(boot.difference),
                "difference_low": float(boot.low),
                "difference_high": float(boot.high),
                "p_value": float(perm.p_value),
                "significant": bool(perm.p_value < 1 - confidence),
            }
        )
    return pd.DataFrame(rows)


# --- figures -----------------------------------------------------------------------------------------------------
def _records(source) -> list[dict]:
    if hasattr(source, "attrs"):
        return list(source.attrs.get("records", {}).values())
    return [r.to_dict() if isinstance(r, RunRecord) else r for r in source]


def plot_loss_curves(source, title: str = "Fine-tuning loss by method"):
    """Train (solid) and eval (dotted) loss per run, from :func:`compare_methods`' table or a list of RunRecords."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for r in _records(source):
        name = r.get("variant") or r["method"]
        name = f"{name} seed {r['seed']}" if "seed" in r else name
        for split, points, dash in (("train", r["train_loss"], "solid"), ("eval", r["eval_loss_curve"], "dot")):
            if points:
                fig.add_trace(
                    go.Scatter(
                        x=[p[0] for p in points],
                        y=[p[1] for p in points],
                        name=f"{name} {split}",
                        legendgroup=name,
                        line={"dash": dash},
                    )
                )
    fig.update_layout(
        title=title,
        xaxis_title="optimizer step",
        yaxis_title="loss on completion tokens (nats/token)",
        template="plotly_white",
    )
    return fig


def plot_comparison(df, y: str = "score", title: str | None = None):
    """Bars of one column of :func:`compare_methods`' table per method, with the score interval when ``y="score"``."""
    import plotly.graph_objects as go

    error = None
    if y == "score" and {"score_low", "score_high"} <= set(df.columns):
        error = error_bars(df["score"], df["score_low"], df["score_high"])
    labels = {
        "score": "task score (95% interval)",
        "tokens_per_s": "training throughput (tokens/s)",
        "peak_memory_mb": "peak memory added (MiB)",
        "trainable_share": "trainable share of parameters",
        "heldout_ppl": "held-out corpus perplexity",
        "eval_loss": "validation loss (nats/token)",
        "wall_time_s": "wall time (s)",
    }
    fig = go.Figure(go.Bar(x=df["method"], y=df[y], error_y=error))
    fig.update_layout(
        title=title or f"{labels.get(y, y)} by method",
        xaxis_title="fine-tuning method",
        yaxis_title=labels.get(y, y),
        template="plotly_white",
    )
    return fig


def plot_robustness(df, title: str = "Task score under input perturbations"):
    """Score against perturbation strength, one line (with interval band) per model and kind."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for (model, kind), g in df.groupby(["model", "kind"], sort=False):
        g = g.sort_values("strength")
        fig.add_trace(
            go.Scatter(
                x=g["strength"],
                y=g["score"],
                name=f"{model}, {kind}",
                mode="lines+markers",
                error_y=error_bars(g["score"], g["score_low"], g["score_high"]),
            )
        )
    fig.update_layout(
        title=title,
        xaxis_title="perturbation strength (share of units changed)",
        yaxis_title="task score (95% interval)",
        template="plotly_white",
    )
    return fig


def plot_learning_curve(df, title: str = "Learning curve with and without augmentation"):
    """Score against training-set size, one line per augmentation through the mean over seeds.

    With one seed, each point carries its own 95% interval. With several, each seed's score is drawn as a point
    with its own interval (an interval belongs to one run, not to the mean), and the line joins the means.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"augmentation": ["none"] * 2, "n_train": [16, 16], "seed": [0, 1],
    ...                    "score": [0.2, 0.6], "score_low": [0.1, 0.5], "score_high": [0.3, 0.7]})
    >>> fig = plot_learning_curve(df)
    >>> [t.mode for t in fig.data], fig.data[0].y.round(2).tolist(), fig.data[1].error_y.array.round(2).tolist()
    (['lines', 'markers'], [0.4], [0.1, 0.1])
    """
    import plotly.graph_objects as go

    fig = go.Figure()
    several = "seed" in df.columns and df["seed"].nunique() > 1
    for aug, g in df.groupby("augmentation", sort=False):
        mean = g.groupby("n_train", as_index=False).agg(
            score=("score", "mean"), score_low=("score_low", "first"), score_high=("score_high", "first")
        )
        interval = error_bars(mean["score"], mean["score_low"], mean["score_high"])
        fig.add_trace(
            go.Scatter(
                x=mean["n_train"],
                y=mean["score"],
                name=aug,
                legendgroup=aug,
                mode="lines" if several else "lines+markers",
                error_y=None if several else interval,
            )
        )
        if several:
            fig.add_trace(
                go.Scatter(
                    x=g["n_train"],
                    y=g["score"],
                    name=f"{aug} (each seed)",
                    legendgroup=aug,
                    mode="markers",
                    error_y=error_bars(g["score"], g["score_low"], g["score_high"]),
                )
            )
    fig.update_layout(
        title=title,
        xaxis_title="training examples (before augmentation)",
        xaxis_type="log",
        yaxis_title="task score (95% interval)",
        template="plotly_white",
    )
    return fig
