"""The image-generation study of notebook 70: does a text-to-image model draw what its prompt asked for, how varied
and how realistic are its pictures, which defaults does it fall back on, and does it copy its training pictures?

Every function takes a pipeline (genlab's :class:`~genlab.models.diffusion.TinyTextToImagePipeline`, or any
``diffusers`` text-to-image pipeline that accepts ``num_inference_steps``, ``guidance_scale`` and ``generator``),
prompts with their known specs from the drawn world (:mod:`genlab.data.drawn_world`), and genlab's attribute
classifier (:func:`genlab.studies.image_classifier.load_classifier`), and returns tidy tables:

- :func:`generate_and_judge`: pictures for prompts x seeds x sampler settings, each judged attribute by attribute
  (:func:`genlab.metrics.image_faithfulness.faithfulness`, GenEval-style);
- :func:`evaluator_ceiling`: the same judge on the *real* pictures of the same specs, the score a perfect generator
  would get;
- :func:`feature_fid`: Fréchet distance in the classifier's feature space against real pictures, with a bootstrap
  interval, FID extrapolated to infinitely many samples, and the distance of real pictures to real pictures at the
  same n (the small-sample floor);
- :func:`fid_bias_curve`: that floor as a function of n;
- :func:`sampler_tradeoff` and :func:`plot_tradeoff`: faithfulness against diversity and FID over steps x guidance;
- :func:`skew_study`: the colour drawn for prompts that name none, against the share planted in training, and
  :func:`skew_guidance_effect`: whether the guidance scale changes that share (paired over captions and seeds);
- :func:`memorisation_study`: nearest training pictures, in pixels and in features, and how often pictures duplicated
  N times in training come back, by N (Carlini et al. 2023);
- :func:`plot_sample_grid`, :func:`plot_faithfulness`, :func:`plot_extraction`: figures for the notebook and the report.

>>> from genlab.data.drawn_world import build_drawn_world
>>> from genlab.models.diffusion import TinyDiffusionConfig, build_pipeline
>>> world = build_drawn_world(0, 4, seed=0, duplicates={})
>>> judged = generate_and_judge(build_pipeline(TinyDiffusionConfig.tiny()), world.table, seeds=[0, 1], steps=(2,))
>>> judged.images.shape, len(judged.table), "all_correct" in judged.table
((8, 32, 32, 3), 8, True)
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from genlab.data.drawn_world import COLOURS, DrawnWorld
from genlab.generation.images import generate_grid
from genlab.metrics.image_faithfulness import faithfulness, faithfulness_table
from genlab.metrics.image_generation import (
    attribute_share,
    diversity_by_prompt,
    fid_infinity,
    frechet_distance,
    frechet_distance_ci,
    nearest_training,
)
from genlab.metrics.stats import exact_binomial_ci

__all__ = [
    "Judged",
    "MemorisationStudy",
    "evaluator_ceiling",
    "feature_fid",
    "fid_bias_curve",
    "generate_and_judge",
    "memorisation_study",
    "plot_extraction",
    "plot_faithfulness",
    "plot_sample_grid",
    "plot_tradeoff",
    "sampler_tradeoff",
    "skew_guidance_effect",
    "skew_study",
]

PLANTED_COLOUR = "red"  # the colour the drawn world's skew knob plants for captions that name none


@dataclass
class Judged:
    """Generated pictures and one row per picture: the grid (``image``, ``prompt_index``, ``prompt``, ``seed``,
    ``steps``, ``guidance``), the spec's ``kind`` and ``held_out``, and every verdict of :func:`faithfulness`;
    ``specs``: the spec each picture's prompt asked for (the drawn-world row, one per picture)."""

    images: np.ndarray
    table: pd.DataFrame
    specs: pd.DataFrame

    def where(self, **keys) -> Judged:
        """The pictures whose grid columns equal ``keys`` (e.g. ``guidance=2.0``), with their rows and specs."""
        mask = np.ones(len(self.table), bool)
        for k, v in keys.items():
            mask &= (self.table[k] == v).to_numpy()
        if not mask.any():
            raise ValueError(f"no pictures with {keys}; the grid holds steps {sorted(set(self.table.steps))} and "
                             f"guidance {sorted(set(self.table.guidance))}")  # fmt: skip
        table = self.table[mask].reset_index(drop=True)
        table["image"] = np.arange(len(table))
        return Judged(self.images[mask], table, self.specs[mask].reset_index(drop=True))

    def attribute_table(self, **keys) -> pd.DataFrame:
        """:func:`faithfulness_table` (combined verdicts) of the pictures whose grid columns equal ``keys``."""
        part = self.where(**keys).table
        return faithfulness_table(part).query("check == 'combined'").drop(columns="check").reset_index(drop=True)


def _spec_frame(specs) -> pd.DataFrame:
    frame = pd.DataFrame(specs).reset_index(drop=True)
    if "caption" not in frame.columns:
        raise ValueError("specs need a 'caption' column (the prompt each spec is drawn from): pass drawn-world rows")
    if frame.empty:
        raise ValueError("no prompts given")
    return frame


def generate_and_judge(
    pipeline,
    specs: pd.DataFrame,
    *,
    seeds: Sequence[int],
    classifier=None,
    steps: Sequence[int] = (5,),
    guidance: Sequence[float] = (2.0,),
    batch_size: int = 64,
) -> Judged:
    """One picture per (spec's caption, seed, steps, guidance), judged against the spec.

    ``specs``: drawn-world table rows (their ``caption`` is the prompt). ``classifier``: the attribute classifier;
    ``None`` judges with the classical checks only (shape and size unjudged). See the module example."""
    frame = _spec_frame(specs)
    images, grid = generate_grid(pipeline, list(frame.caption), list(seeds), steps=steps, guidance=guidance,
                                 batch_size=batch_size)  # fmt: skip
    asked = frame.iloc[grid.prompt_index.to_numpy()].reset_index(drop=True)
    verdicts = faithfulness(images, asked, classifier)
    table = pd.concat([grid, verdicts.drop(columns=["prompt"])], axis=1)
    return Judged(images=images, table=table, specs=asked)


def evaluator_ceiling(images: np.ndarray, specs: pd.DataFrame, classifier) -> pd.DataFrame:
    """The judge on *real* pictures with the specs that drew them: per attribute, the share it calls right (combined
    verdicts, Clopper-Pearson intervals), seen and held-out combinations apart. A generator cannot score above this
    except by the judge's luck; read every faithfulness rate against it.

    >>> from genlab.data.drawn_world import build_drawn_world
    >>> w = build_drawn_world(0, 20, seed=2, duplicates={})
    >>> t = evaluator_ceiling(w.images, w.table, None)           # the classical checks alone, on real pictures
    >>> float(t.query("attribute == 'count'").accuracy.min())
    1.0
    """
    frame = _spec_frame(specs)
    per_image = faithfulness(images, frame, classifier)
    return faithfulness_table(per_image).query("check == 'combined'").drop(columns="check").reset_index(drop=True)


# --- distribution quality ---------------------------------------------------------------------------------------


def feature_fid(
    generated_features: np.ndarray,
    reference_features: np.ndarray,
    floor_features: np.ndarray | None = None,
    *,
    n_resamples: int = 200,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict:
    """FID between generated and reference features, with what it takes to read it.

    Returns ``n_generated``, ``n_reference``, ``fid``, ``fid_low``, ``fid_high`` (percentile bootstrap,
    :func:`frechet_distance_ci`), ``fid_infinity`` (Chong & Forsyth 2020, :func:`fid_infinity`; NaN below 50
    generated rows, where the fit has too few points), and ``real_floor``: the FID of ``floor_features`` (other real
    pictures, as many as were generated) to the reference, i.e. the score a generator that draws real pictures gets
    at this n. FID is biased upward at small n; compare a model's FID with the floor, not with 0.

    >>> rng = np.random.default_rng(0)
    >>> ref, same, other = rng.normal(size=(400, 3)), rng.normal(size=(100, 3)), rng.normal(1, 1, size=(100, 3))
    >>> r = feature_fid(other, ref, same, n_resamples=50)
    >>> r["real_floor"] < 0.5 < r["fid_low"] < 3.0 < r["fid_high"]     # the true distance is |(1, 1, 1)|^2 = 3
    True
    """
    gen, ref = np.asarray(generated_features, np.float64), np.asarray(reference_features, np.float64)
    if gen.ndim != 2 or ref.ndim != 2 or gen.shape[1] != ref.shape[1]:
        raise ValueError(f"features must be (n, d) arrays of one width; got {gen.shape} and {ref.shape}")
    d = gen.shape[1]
    if len(gen) <= d or len(ref) <= d:
        raise ValueError(f"{len(gen)} generated and {len(ref)} reference rows for {d} features: each "
                         f"covariance needs {d + 1} rows or more for full rank; generate more pictures")  # fmt: skip
    ci = frechet_distance_ci(gen, ref, n_resamples=n_resamples, confidence=confidence, seed=seed)
    out = {"n_generated": len(gen), "n_reference": len(ref), "fid": frechet_distance(gen, ref),
           "fid_low": ci.low, "fid_high": ci.high, "fid_infinity": np.nan, "real_floor": np.nan}  # fmt: skip
    if len(gen) >= 50:
        out["fid_infinity"] = fid_infinity(ref, gen, seed=seed).estimate
    if floor_features is not None:
        floor = np.asarray(floor_features, np.float64)
        if len(floor) < len(gen):
            raise ValueError(f"floor_features has {len(floor)} rows; give at least as many real rows as generated "
                             f"({len(gen)}), so the floor is measured at the same n")  # fmt: skip
        pick = np.random.default_rng(seed).choice(len(floor), size=len(gen), replace=False)
        out["real_floor"] = frechet_distance(floor[pick], ref)
    return out


def fid_bias_curve(
    pool_features: np.ndarray, reference_features: np.ndarray, sizes: Sequence[int], *, repeats: int = 3, seed: int = 0
) -> pd.DataFrame:
    """FID of n real pictures (drawn without replacement from ``pool_features``) to the reference, for each n in
    ``sizes``, ``repeats`` draws each: the small-sample bias of FID, since both sides come from one distribution
    (the true distance is 0). Columns ``n``, ``repeat``, ``fid``.

    >>> rng = np.random.default_rng(0)
    >>> t = fid_bias_curve(rng.normal(size=(500, 4)), rng.normal(size=(500, 4)), [20, 400], repeats=2)
    >>> means = t.groupby("n").fid.mean()
    >>> bool(means[20] > means[400] > 0)
    True
    """
    pool = np.asarray(pool_features, np.float64)
    rng = np.random.default_rng(seed)
    rows = []
    for n in sizes:
        if not 2 <= int(n) <= len(pool):
            raise ValueError(f"size {n} is outside [2, {len(pool)}] (the pool's rows)")
        for r in range(repeats):
            pick = rng.choice(len(pool), size=int(n), replace=False)
            rows.append({"n": int(n), "repeat": r, "fid": frechet_distance(pool[pick], reference_features)})
    return pd.DataFrame(rows)


# --- the sampler trade-off --------------------------------------------------------------------------------------


def sampler_tradeoff(
    judged: Judged,
    classifier,
    reference_features: np.ndarray,
    *,
    confidence: float = 0.95,
    n_resamples: int = 200,
    seed: int = 0,
) -> pd.DataFrame:
    """Per sampler setting (``steps``, ``guidance``) of ``judged``: faithfulness (share of pictures with every judged
    attribute right, Clopper-Pearson interval; seen combinations only), accuracy of colour, shape and position,
    diversity (the mean over prompts of the mean pairwise Euclidean pixel distance, pixels in [0, 1], among that
    prompt's seeds; percentile bootstrap over prompts) and FID in the classifier's features against
    ``reference_features`` (bootstrap interval; NaN when a setting has no more pictures than the features have
    dimensions, where the covariance is singular).

    ``judged`` needs 3 seeds or more per prompt for diversity. One row per setting, sorted by steps then guidance.
    """
    table = judged.table
    if table.groupby(["steps", "guidance", "prompt_index"]).size().min() < 3:
        raise ValueError("diversity needs at least 3 seeds per prompt and setting; generate with more seeds")
    rng = np.random.default_rng(seed)
    rows = []
    for (k, g), part in table.groupby(["steps", "guidance"], sort=True):
        seen = part[~part.held_out.astype(bool)]
        ci = exact_binomial_ci(int(seen.all_correct.sum()), len(seen), confidence)
        row = {"steps": int(k), "guidance": float(g), "n_images": len(part), "faithfulness": ci.estimate,
               "faithfulness_low": ci.low, "faithfulness_high": ci.high}  # fmt: skip
        for a in ("colour", "shape", "position"):
            judged_a = seen[a].dropna().astype(bool)
            row[a] = float(judged_a.mean()) if len(judged_a) else float("nan")
        images = judged.images[part.image.to_numpy()]
        div = diversity_by_prompt(images, list(part.prompt_index.astype(str)))
        values = div.diversity.to_numpy()
        boots = [values[rng.integers(0, len(values), len(values))].mean() for _ in range(n_resamples)]
        alpha = (1 - confidence) / 2
        row |= {"diversity": float(values.mean()), "diversity_low": float(np.quantile(boots, alpha)),
                "diversity_high": float(np.quantile(boots, 1 - alpha))}  # fmt: skip
        features = classifier.features(images)
        if len(features) > features.shape[1]:
            fid = feature_fid(features, reference_features, n_resamples=n_resamples, seed=seed)
            row |= {"fid": fid["fid"], "fid_low": fid["fid_low"], "fid_high": fid["fid_high"]}
        else:  # too few pictures for a full-rank covariance: no FID rather than a meaningless one
            row |= {"fid": np.nan, "fid_low": np.nan, "fid_high": np.nan}
        rows.append(row)
    return pd.DataFrame(rows)


def plot_tradeoff(tradeoff: pd.DataFrame, *, title: str = "Sampler settings: faithfulness against diversity and FID"):
    """Two panels sharing the faithfulness axis: against diversity (left) and FID (right); one line per number of
    steps, a point per guidance scale (its value printed by the point), 95% intervals as error bars."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    titles = ("diversity within a prompt (higher: more varied)", "FID (lower: more real)")
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.06, subplot_titles=titles)
    palette = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
    for i, (k, part) in enumerate(tradeoff.sort_values(["steps", "guidance"]).groupby("steps", sort=True)):
        colour = palette[i % len(palette)]
        err_y = {"type": "data", "symmetric": False, "array": part.faithfulness_high - part.faithfulness,
                 "arrayminus": part.faithfulness - part.faithfulness_low}  # fmt: skip
        text = [f"g={g:g}" for g in part.guidance]
        for col, x in enumerate(("diversity", "fid"), 1):
            lo, hi = f"{x}_low", f"{x}_high"
            err_x = {"type": "data", "symmetric": False, "array": part[hi] - part[x], "arrayminus": part[x] - part[lo]}
            trace = go.Scatter(x=part[x], y=part.faithfulness, mode="lines+markers+text", text=text,
                               textposition="top center", error_y=err_y, error_x=err_x, name=f"{k} steps",
                               legendgroup=str(k), showlegend=col == 1, line={"color": colour})  # fmt: skip
            fig.add_trace(trace, row=1, col=col)
    fig.update_yaxes(title_text="all attributes right (seen combinations)", row=1, col=1)
    fig.update_layout(title=title, template="plotly_white", height=430)
    return fig


# --- skew -------------------------------------------------------------------------------------------------------


def skew_study(
    judged: Judged, classifier, *, planted: float, confidence: float = 0.95
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The colour drawn where the prompt names none, against the share of red planted in training.

    ``judged``: pictures generated for captions with ``colour_named`` False (the drawn world's single scenes that
    leave the colour out); the classifier reads each picture's colour. ``planted``: the training split's share of
    red among those captions (measure it on the training table, do not assume the knob). Returns ``(summary,
    shares)``: ``summary`` one row per shape asked for and one for all (k red of n, share with an exact interval,
    binomial tests against ``planted`` and against chance, 1/6); ``shares`` the share of each colour read.
    """
    specs = judged.specs
    if "colour_named" not in specs.columns or specs.colour_named.astype(bool).any():
        raise ValueError("skew is measured on captions that name no colour: judge drawn-world rows with colour_named "
                         "False only")  # fmt: skip
    read = classifier.predict(judged.images)["colour"].to_numpy()
    shapes = specs["shape"].to_numpy()
    rows = []
    for label, mask in [("all", np.ones(len(read), bool))] + [(s, shapes == s) for s in sorted(set(shapes))]:
        r = attribute_share(list(read[mask]), PLANTED_COLOUR, planted=planted, chance=1 / len(COLOURS),
                            confidence=confidence)  # fmt: skip
        rows.append({"shape asked": label, "n": r.n, "k_red": r.k, "share_red": r.share, "share_low": r.share_low,
                     "share_high": r.share_high, "planted": planted, "p_vs_planted": r.p_value,
                     "p_vs_chance": r.p_value_chance})  # fmt: skip
    shares = pd.Series(read).value_counts(normalize=True).reindex(list(COLOURS), fill_value=0.0)
    return pd.DataFrame(rows), shares.rename("share").rename_axis("colour read").reset_index()


def skew_guidance_effect(
    judged: Judged, classifier, *, a: float, b: float, n_resamples: int = 2000, seed: int = 0
) -> pd.DataFrame:
    """Does the guidance scale change how often the planted colour is drawn? The share of red at guidance ``a``
    minus the share at ``b``, on the same captions and seeds (paired: each picture at ``a`` has its twin at ``b``,
    drawn from the same starting noise), with a paired bootstrap interval and a paired sign-flip permutation p-value
    over those pairs. One row: ``a``, ``b``, ``n_pairs``, ``share_a``, ``share_b``, ``difference``,
    ``difference_low``, ``difference_high``, ``p_value``.
    """
    from genlab.metrics.stats import paired_bootstrap, paired_permutation_test

    reds = []
    for g in (a, b):
        part = judged.where(guidance=g)
        red = classifier.predict(part.images)["colour"].to_numpy() == PLANTED_COLOUR
        keys = pd.MultiIndex.from_frame(part.table[["prompt_index", "seed", "steps"]])
        reds.append(pd.Series(red.astype(float), index=keys))
    red_a, red_b = reds[0].align(reds[1], join="inner")
    if len(red_a) < 2:
        raise ValueError("fewer than 2 pictures have a twin at the other guidance scale; generate both scales on the "
                         "same captions and seeds")  # fmt: skip
    boot = paired_bootstrap(red_a.to_numpy(), red_b.to_numpy(), n_resamples=n_resamples, seed=seed)
    test = paired_permutation_test(red_a.to_numpy(), red_b.to_numpy(), n_resamples=n_resamples, seed=seed)
    return pd.DataFrame([{"a": a, "b": b, "n_pairs": len(red_a), "share_a": red_a.mean(), "share_b": red_b.mean(),
                          "difference": boot.difference, "difference_low": boot.low, "difference_high": boot.high,
                          "p_value": test.p_value}])  # fmt: skip


# --- memorisation -----------------------------------------------------------------------------------------------


@dataclass
class MemorisationStudy:
    """``prompts``: the training rows whose captions were sampled; ``nearest``: {space: :func:`nearest_training`
    table, one row per generated picture, with the prompt's ``prompt_image_id``, ``prompt_duplicate_count`` and
    ``copies_own_picture`` (a near-copy whose nearest training picture is the prompt's own)}; ``extraction``: per
    space and duplication count, the share of prompted training pictures that some sample of their own caption
    copies (``n`` pictures, ``k`` copied, exact interval), and how many samples were near-copies of anything."""

    prompts: pd.DataFrame
    images: np.ndarray
    nearest: dict[str, pd.DataFrame]
    extraction: pd.DataFrame


def memorisation_study(
    pipeline,
    world: DrawnWorld,
    classifier,
    *,
    seeds: Sequence[int],
    singletons: int = 20,
    per_count: int | None = None,
    steps: int = 5,
    guidance: float = 2.0,
    seed: int = 0,
) -> MemorisationStudy:
    """Sample the captions of duplicated training pictures (every distinct one, or ``per_count`` per duplication
    count) and of ``singletons`` pictures seen once, ``len(seeds)`` times each, then find each sample's nearest
    training picture in pixel space and in the classifier's feature space (Carlini et al. 2023 search the training
    set for near-copies of generations, prompting with the captions of the most duplicated images). A near-copy
    is the ratio test of :func:`nearest_training` (three times closer to one training picture than to any other).

    The rate's denominator is the prompted pictures, not the whole training set, as in Carlini et al.: "is this
    picture's caption enough to get the picture back?". (``extraction_by_duplication`` of
    :mod:`genlab.metrics.image_generation` asks another question, any sample copying any training picture; its
    rates for singletons are diluted by the pictures nobody prompted for.)
    """
    train = world.split("train")
    table = train.table.reset_index(drop=True)
    firsts = table.drop_duplicates("image_id")
    rng = np.random.default_rng(seed)
    chosen = []
    for count, group in firsts.groupby("duplicate_count", sort=True):
        limit = singletons if count == 1 else per_count
        if limit is not None and len(group) > limit:
            group = group.iloc[np.sort(rng.choice(len(group), size=limit, replace=False))]
        chosen.append(group)
    prompts = pd.concat(chosen)
    images, grid = generate_grid(pipeline, list(prompts.caption), list(seeds), steps=(steps,), guidance=(guidance,))
    asked = prompts.iloc[grid.prompt_index.to_numpy()]
    nearest = {
        "pixels": nearest_training(images, train.images),
        "features": nearest_training(classifier.features(images), classifier.features(train.images)),
    }
    ids = table.image_id.to_numpy()
    parts = []
    for space, near in nearest.items():
        near.insert(0, "prompt_image_id", asked.image_id.to_numpy())
        near.insert(1, "prompt_duplicate_count", asked.duplicate_count.to_numpy())
        own = ids[near.nearest.to_numpy()] == near.prompt_image_id.to_numpy()
        near.insert(2, "copies_own_picture", near.near_copy.to_numpy() & own)
        parts.append(_extraction_of_prompted(near, space))
    return MemorisationStudy(prompts=prompts.reset_index(drop=True), images=images, nearest=nearest,
                             extraction=pd.concat(parts, ignore_index=True))  # fmt: skip


def _extraction_of_prompted(near: pd.DataFrame, space: str, confidence: float = 0.95) -> pd.DataFrame:
    """Per duplication count: of the training pictures whose caption was sampled, the share that some sample of
    their own caption copies (near-copy by the ratio test, nearest being that very picture); exact intervals."""
    per_picture = near.groupby(["prompt_duplicate_count", "prompt_image_id"]).copies_own_picture.any()
    rows = []
    for count, hit in per_picture.groupby(level=0):
        ci = exact_binomial_ci(int(hit.sum()), len(hit), confidence)
        samples = near[near.prompt_duplicate_count == count]
        rows.append({"space": space, "duplicate_count": int(count), "n": ci.n, "k": ci.k, "extracted": ci.estimate,
                     "extracted_low": ci.low, "extracted_high": ci.high, "n_samples": len(samples),
                     "n_near_copies": int(samples.near_copy.sum())})  # fmt: skip
    return pd.DataFrame(rows)


# --- figures ----------------------------------------------------------------------------------------------------


def plot_sample_grid(images: np.ndarray, row_labels: Sequence[str], *, columns: int, title: str = "",
                     scale: int = 3, gap: int = 2):  # fmt: skip
    """A plotly figure of ``images`` (n, 32, 32, 3) uint8 laid out ``columns`` to a row, one label per row (escaped:
    prompts are text from users). The pictures travel as one PNG inside the figure, so the notebook and the report
    show them without image files."""
    import plotly.express as px

    images = np.asarray(images)
    if images.ndim != 4 or images.dtype != np.uint8:
        raise ValueError(f"images must be (n, H, W, 3) uint8; got {images.dtype} {images.shape}")
    n, h, w, _ = images.shape
    rows = -(-n // columns)
    if len(row_labels) != rows:
        raise ValueError(f"{n} images at {columns} per row make {rows} rows, but {len(row_labels)} labels were given")
    mosaic = np.full((rows * (h + gap), columns * (w + gap), 3), 255, np.uint8)
    for i, im in enumerate(images):
        r, c = divmod(i, columns)
        mosaic[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = im
    mosaic = mosaic.repeat(scale, 0).repeat(scale, 1)
    fig = px.imshow(mosaic, binary_string=True)
    centres = [(r * (h + gap) + h / 2) * scale for r in range(rows)]
    fig.update_yaxes(tickvals=centres, ticktext=[html.escape(str(t)) for t in row_labels], showgrid=False)
    fig.update_xaxes(showticklabels=False, showgrid=False)
    fig.update_layout(title=html.escape(title), template="plotly_white", margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      height=max(200, rows * (h + gap) * scale + 60))  # fmt: skip
    return fig


def plot_faithfulness(table: pd.DataFrame, *, title: str = "Prompt faithfulness by attribute"):
    """Bars of accuracy per attribute (Clopper-Pearson error bars) from :meth:`Judged.attribute_table` or
    :func:`evaluator_ceiling` tables, seen and held-out combinations side by side; a ``source`` column, if present,
    splits the bars further (e.g. generated against real)."""
    import plotly.express as px

    t = table.copy()
    t["combinations"] = np.where(t.held_out.astype(bool), "held out", "seen")
    colour = "source" if "source" in t.columns else "combinations"
    facet = "combinations" if "source" in t.columns else None
    fig = px.bar(t, x="attribute", y="accuracy", color=colour, barmode="group", facet_col=facet,
                 error_y=t.accuracy_high - t.accuracy, error_y_minus=t.accuracy - t.accuracy_low,
                 template="plotly_white", height=400, title=title, range_y=[0, 1.05])  # fmt: skip
    return fig


def plot_extraction(extraction: pd.DataFrame, *, title: str = "Training pictures reproduced, by duplication count"):
    """Share of distinct training pictures copied by some sample, against how often each was duplicated in training,
    one line per space (pixels, features), with Clopper-Pearson error bars."""
    import plotly.express as px

    t = extraction.copy()
    fig = px.line(t, x="duplicate_count", y="extracted", color="space", markers=True, log_x=True,
                  error_y=t.extracted_high - t.extracted, error_y_minus=t.extracted - t.extracted_low,
                  template="plotly_white", height=380, title=title,
                  labels={"duplicate_count": "copies in training", "extracted": "share reproduced"})  # fmt: skip
    return fig
