"""Fine-tuning experiments for the notebooks: one call per table, one per figure.

- :func:`compare_methods`: same task, data and step budget for each method; cost (trainable parameters, time,
  tokens/s, peak memory), validation loss, task score with interval, and general-quality damage (perplexity of
  held-out corpus text, before vs after).
- :func:`robustness` / :func:`robustness_comparison`: task score on prompts perturbed by :func:`genlab.perturb.perturb`
  at several strengths, for clean vs adversarially trained models.
- :func:`learning_curve`: task score against training-set size, with and without augmentation (EDA, CDA).
- ``plot_*``: plotly figures of those tables.

>>> import pandas as pd
>>> df = pd.DataFrame({"model": ["clean", "clean"], "kind": ["typo"] * 2, "strength": [0.0, 0.2],
...                    "score": [0.5, 0.3], "low": [0.4, 0.2], "high": [0.6, 0.4]})
>>> plot_robustness(df).layout.xaxis.title.text
'perturbation strength (share of units changed)'
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from types import SimpleNamespace

import torch

from genlab.adversarial import AdversarialConfig, describe
from genlab.finetune import METHODS, RunRecord, finetune
from genlab.models import Bundle
from genlab.tasks import Task

PerturbFn = Callable[[str, str, float, int], str]  # (text, kind, strength, seed) -> text


# --- general-quality damage --------------------------------------------------------------------------------------
class _DropVirtualTokens(torch.nn.Module):
    """A prompt-tuned model seen as a plain LM: its logits without the positions of the virtual tokens."""

    def __init__(self, model, n_virtual: int):
        super().__init__()
        self.inner, self.n_virtual = model, n_virtual
        context = getattr(model.get_base_model().config, "n_positions", 1024)
        self.config = SimpleNamespace(n_positions=context - n_virtual, model_type="prompt_tuned")

    def forward(self, input_ids, attention_mask=None, **_):
        out = self.inner(input_ids=input_ids, attention_mask=attention_mask)
        return SimpleNamespace(logits=out.logits[:, self.n_virtual :])


def heldout_perplexity(bundle: Bundle, texts: Sequence[str], batch_size: int = 16) -> float:
    """Token-weighted perplexity of ``texts`` (:func:`genlab.metrics.perplexity.perplexity`), also for prompt-tuned
    models, whose virtual tokens shift the logits and shorten the usable context."""
    from genlab.metrics.perplexity import perplexity

    cfg = getattr(bundle.model, "active_peft_config", None)
    if cfg is not None and str(cfg.peft_type.value) == "PROMPT_TUNING":
        bundle = Bundle(
            _DropVirtualTokens(bundle.model, cfg.num_virtual_tokens),
            bundle.tokenizer,
            bundle.device,
            bundle.kind,
            bundle.provenance,
        )
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
    return_bundles: bool = False,
    **finetune_kwargs,
):
    """Fine-tune ``bundle`` with each method on ``task`` (same data, seed and step budget) and tabulate.

    Columns: method, trainable_params, trainable_share, wall_time_s, train_time_s, tokens_per_s, peak_memory_mb,
    eval_loss, score, score_low, score_high, n_eval, completion_perplexity, heldout_ppl, heldout_ppl_change (relative
    to the base model). A first row ``"base"`` scores the model before fine-tuning. ``df.attrs["records"]`` holds
    each run's :class:`~genlab.finetune.RunRecord` as a dict (loss curves for :func:`plot_loss_curves`).
    ``return_bundles=True`` returns ``(df, {method: bundle})``.
    """
    import pandas as pd

    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown methods {unknown}; choose from {METHODS}")
    rows, records, bundles = [], {}, {}
    base_ppl = heldout_perplexity(bundle, heldout_texts) if heldout_texts is not None else float("nan")
    if include_base:
        score = task.evaluate(bundle)
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
            **finetune_kwargs,
        )
        score = task.evaluate(tuned)
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
    df = pd.DataFrame(rows)
    df.attrs["records"] = records
    df.attrs["task"] = task.name
    return (df, bundles) if return_bundles else df


# --- robustness --------------------------------------------------------------------------------------------------
def _default_perturb() -> PerturbFn:
    from genlab.perturb import perturb

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
    prompts. Columns: model, kind, strength, score, low, high, n, interval."""
    import pandas as pd

    perturb_fn = perturb_fn or _default_perturb()
    rows = []
    for kind in kinds:
        for strength in strengths:
            data = task.map_queries(lambda q, i, k=kind, s=strength: perturb_fn(q, k, s, seed + i))
            for name, b in bundles.items():
                s = task.evaluate(b, data)
                rows.append(
                    {
                        "model": name,
                        "kind": kind,
                        "strength": strength,
                        "score": s.value,
                        "low": s.low,
                        "high": s.high,
                        "n": s.n,
                        "interval": s.interval,
                    }
                )
    return pd.DataFrame(rows)


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
    **finetune_kwargs,
):
    """Train one model per variant (``None`` = clean training) with the same data, seed and steps, then
    :func:`robustness`. Default variants: clean, FGM (ε=1) and FreeLB (K=3, ε=1, α=0.3).
    ``df.attrs["records"]`` holds the runs (adversarial steps cost more passes: see wall_time_s)."""
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
            seed=seed,
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

    from genlab.augment import counterfactual, eda

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
    augmentation, seed, n_examples (after augmentation), score, low, high, eval_loss.
    """
    import pandas as pd

    if max(sizes) > len(task.train):
        raise ValueError(f"the largest size {max(sizes)} exceeds the task's {len(task.train)} training rows")
    rows = []
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
                rows.append(
                    {
                        "n_train": n,
                        "augmentation": aug or "none",
                        "seed": seed,
                        "n_examples": len(data),
                        "score": s.value,
                        "low": s.low,
                        "high": s.high,
                        "eval_loss": record.eval_loss,
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
        error = {
            "type": "data",
            "symmetric": False,
            "array": df["score_high"] - df["score"],
            "arrayminus": df["score"] - df["score_low"],
        }
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
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": g["high"] - g["score"],
                    "arrayminus": g["score"] - g["low"],
                },
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
    """Score against training-set size, one line per augmentation (mean over seeds, interval of the first seed)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for aug, g in df.groupby("augmentation", sort=False):
        g = g.groupby("n_train", as_index=False).agg(
            score=("score", "mean"), low=("low", "first"), high=("high", "first")
        )
        fig.add_trace(
            go.Scatter(
                x=g["n_train"],
                y=g["score"],
                name=aug,
                mode="lines+markers",
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": g["high"] - g["score"],
                    "arrayminus": g["score"] - g["low"],
                },
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
