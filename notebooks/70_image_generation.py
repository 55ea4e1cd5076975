# %% [markdown]
# # 70 · Image generation: does the picture show what the prompt asked for?
# The framing article names DALL-E and Stable Diffusion among the systems behind the gold-mine story: text in, picture out, by diffusion. This notebook brings genlab's approach to images: a **drawn world** where the truth of every picture is known, a small text-conditioned diffusion model that genlab trains with the `diffusers` library, and an evaluation that checks every generated picture against its prompt, including the failures people worry about:
#
# - **wrong attributes**: the wrong colour, shape, size, place, number of objects, or relation between two objects (GenEval-style, Ghosh et al. 2023), for combinations seen in training and combinations held out of it;
# - **distribution quality**: Fréchet distance to real pictures, with its small-sample bias measured, and diversity within a prompt;
# - **skewed defaults**: what the model draws when the prompt leaves the colour open, against the 80% red planted in training;
# - **memorised training pictures**: does a caption bring back its training picture, and how does that grow with how often the picture was duplicated (Carlini et al. 2023)?
# - **the sampler trade-off**: guidance scale and number of steps move faithfulness, diversity and FID.
#
# The default model is `genlab-tiny-diffusion` (`make image-model` builds it; card: `data/models/genlab-tiny-diffusion/README.md`), the evaluator `genlab-drawn-classifier` (card: `data/models/genlab-drawn-classifier/README.md`). `MODEL` can name any `diffusers` text-to-image pipeline, e.g. a Stable Diffusion folder: the evaluation only needs pictures of the drawn world's 32x32 size, so resize them first.

# %% [markdown]
# <!-- nav -->
# [← Speech recognition: who is misheard?](60_speech_recognition.ipynb) | [Contents](00_index.ipynb)

# %% tags=["parameters"]
# Parameters: CI-sized defaults; realistic values in the comments (papermill -p NAME VALUE scales them up).
MODEL = "genlab-tiny-diffusion"  # or a local folder / hub id of a diffusers text-to-image pipeline
STEPS = 5  # sampler steps (DDIM) for the main evaluation: the model card's setting
GUIDANCE = 2.0  # classifier-free guidance scale for the main evaluation: the model card's setting
N_PROMPTS = 150  # evaluation captions (30% hold a held-out combination); realistic: 1000
SEEDS = [0]  # pictures per caption in the main evaluation; realistic: [0, 1]
N_REFERENCE = 600  # real evaluation pictures (the split's last ones): FID reference set; realistic: 1000
TRADEOFF_PROMPTS = 10  # captions for the sampler trade-off; realistic: 100
TRADEOFF_SEEDS = [0, 1, 2]  # pictures per caption and setting (diversity needs 3 or more)
TRADEOFF_STEPS = [5, 20]  # realistic: [5, 10, 25]
TRADEOFF_GUIDANCE = [1.0, 2.0, 4.0]  # realistic: [1.0, 2.0, 3.0, 5.0]
SKEW_PROMPTS = 16  # evaluation captions that name no colour; realistic: all of them (None)
SKEW_SEEDS = [0, 1]  # realistic: [0, 1, 2, 3, 4, 5]
SKEW_GUIDANCE = [1.0, 2.0]  # guidance scales compared for the skew (the conditional model alone, and the default)
MEMO_PER_COUNT = 2  # duplicated training pictures sampled per duplication count; realistic: None (all of them)
MEMO_SINGLETONS = 6  # training pictures seen once, as the baseline; realistic: 100
MEMO_SEEDS = [0, 1]  # samples per caption; realistic: [0, 1, 2, 3, 4, 5, 6, 7]
TRAIN_STEPS = 40  # the live-loss demonstration: steps of a fresh model; realistic: 300 (the build runs 5000)
N_RESAMPLES = 100  # bootstrap resamples per interval; realistic: 1000
SEED = 0

# %%
import html

import numpy as np
import pandas as pd
import plotly.express as px
from IPython.display import display

import genlab
import genlab.report
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
from genlab.metrics.prompted_extraction import own_picture_copies, prompted_extraction
from genlab.models.diffusion import TinyDiffusionConfig
from genlab.probes.image_judging import generate_and_judge
from genlab.recipes.drawn_classifier import load_classifier
from genlab.recipes.image_model import read_manifest, training_world
from genlab.report.full import committed_table
from genlab.stats import bootstrap_ci, exact_binomial_ci, paired_bootstrap, paired_permutation_test, rate_table
from genlab.training.diffusion import train_text_to_image
from genlab.training.live_loss import LiveLossPlot
from genlab.worlds.drawn import COLOURS

pipe = genlab.load_model(MODEL)  # a diffusers pipeline; genlab's own is a TinyTextToImagePipeline
judge = load_classifier()  # the attribute classifier, trained on real pictures of the drawn world
manifest = read_manifest(MODEL)  # genlab's build writes one; a hub pipeline has none
world = training_world()  # the world the default model was trained on (seeded: the same pictures every run)
train, evaluation = world.split("train"), world.split("eval")
print(type(pipe).__name__, "|", f"{sum(p.numel() for p in pipe.unet.parameters()):,} UNet parameters")

# %% [markdown]
# ## The drawn world
# Each picture is drawn from a *spec* (objects with colour, shape, size and grid cell, a relation between two objects, a background) and its caption is written from the same spec, so the truth of every picture is known (`genlab.worlds.drawn`; card: `data/images/README.md`). Three kinds of scene: one object at one of nine places, two or three copies of one object, and two objects in a relation ("left of", "above"). What the evaluation split has and training never had: four colour x shape pairs (e.g. a blue triangle), two arrangements of two shapes, and two of five caption templates (paraphrases). Two knobs plant failure modes: captions that name no colour are drawn red 80% of the time, and about 2% of the training rows at each of N = 2, 8 and 32 are copies of one picture (N copies each).

# %% [markdown]
# Pictures are shown as one mosaic, a row per caption, inside a plotly figure (so the notebook and the report show them without image files); the row labels are escaped, since prompts are text from users. The function is used twice:

# %%
def plot_sample_grid(images: np.ndarray, row_labels: list, *, columns: int, title: str = "", scale: int = 3,
                     gap: int = 2):
    """``images`` (n, H, W, 3) uint8, ``columns`` to a row, one label per row."""
    n, h, w, _ = images.shape
    rows = -(-n // columns)
    assert len(row_labels) == rows, f"{n} images at {columns} per row make {rows} rows, not {len(row_labels)}"
    mosaic = np.full((rows * (h + gap), columns * (w + gap), 3), 255, np.uint8)
    for k, im in enumerate(images):
        r, c = divmod(k, columns)
        mosaic[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = im
    fig = px.imshow(mosaic.repeat(scale, 0).repeat(scale, 1), binary_string=True)
    fig.update_yaxes(tickvals=[(r * (h + gap) + h / 2) * scale for r in range(rows)],
                     ticktext=[html.escape(str(t)) for t in row_labels], showgrid=False)
    fig.update_xaxes(showticklabels=False, showgrid=False)
    fig.update_layout(title=html.escape(title), template="plotly_white", margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      height=max(200, rows * (h + gap) * scale + 60))
    return fig


grid = plot_sample_grid(np.zeros((4, 32, 32, 3), np.uint8), ["<script>alert(1)</script>", "b"], columns=2)
assert list(grid.layout.yaxis.ticktext) == ["&lt;script&gt;alert(1)&lt;/script&gt;", "b"]

# %%
counts = world.manifest["counts"]
print(f"training rows: {counts['train']:,} | evaluation rows: {counts['eval']:,} | "
      f"evaluation rows with a held-out combination: {int(evaluation.table.held_out.sum()):,}")
examples = pd.concat([evaluation.table[evaluation.table.kind == k].head(2) for k in ("single", "count", "relation")])
genlab.report.record("real_pictures_figure", plot_sample_grid(evaluation.images[examples.index.to_numpy()], list(examples.caption),
                       columns=1, title="Real pictures of the evaluation split, with their captions"))

# %% tags=["keep_output", "nbval-check-output"]
print("kinds:", world.table.kind.value_counts().sort_index().to_dict())
print("training rows by copies:", train.table.duplicate_count.value_counts().sort_index().to_dict())

# %% [markdown]
# ## Training, with a live loss
# The recipe (`genlab.training.diffusion`, after `shared/reference/tooling.md`): a `diffusers` `UNet2DConditionModel` on the picture pixel-unshuffled to 12 x 16 x 16, two coordinate maps appended to its input (CoordConv, Liu et al. 2018: without them the UNet barely knows where in the picture it is, and "at the top left" must become a place), cross-attention to a tiny transformer text encoder, trained to predict the **clean** picture from a noised one (`prediction_type="sample"`), with the caption dropped 10% of the time so one model serves classifier-free guidance (Ho & Salimans 2022). `TRAIN_STEPS` steps of a fresh model, drawn live:

# %%
live = LiveLossPlot(title="A fresh model's training loss", y_label="MSE to the clean picture")
fresh, record = train_text_to_image(TinyDiffusionConfig(), train.images, list(train.table.caption), steps=TRAIN_STEPS,
                                    batch_size=32, seed=SEED, logging_steps=5, callbacks=[live], progress=False)
print(f"{record['steps']} steps, {record['steps_per_s']:.1f} steps/s, last logged loss "
      f"{record['history'][-1]['loss']:.3f}")

# %% [markdown]
# The default model ran the same recipe for thousands of steps; its manifest records the curve:

# %%
if manifest:
    curve = pd.DataFrame(manifest["loss_history"])
    genlab.report.record("training_loss_figure", px.line(curve, x="step", y="loss", log_y=True, template="plotly_white", height=320,
                    title=f"Training loss of {manifest['name']} ({manifest['training']['steps']} steps, "
                          f"{manifest['training']['train_runtime_s'] / 60:.0f} min)"))
    print({k: manifest["training"][k] for k in ("steps", "batch_size", "learning_rate", "n_images")})

# %% [markdown]
# The same prompts and seeds, drawn by the fresh model and by the default one (the real picture of each caption on the left):

# %%
shown = examples.head(4)
settings = {"steps": (STEPS,), "guidance": (GUIDANCE,)}
pictures = []
for row in shown.itertuples():
    pictures.append(evaluation.images[row.Index])
    pictures.extend(generate_grid(fresh, [row.caption], [0], **settings)[0])
    pictures.extend(generate_grid(pipe, [row.caption], [0, 1, 2], **settings)[0])
genlab.report.record("samples_figure", plot_sample_grid(np.stack(pictures), list(shown.caption), columns=5,
                       title="real | fresh model | default model, seeds 0, 1, 2"))

# %% [markdown]
# ## Does the picture show what the prompt asked for?
# Every picture is judged attribute by attribute against its prompt's spec (`genlab.metrics.image_faithfulness`): by the attribute classifier, and where a learning-free check exists (count of objects, colour, position, relation, background) by that too; an attribute is right when both agree. **All right** is GenEval's image-level score: every attribute the prompt asked for is right. The judge has its own errors, so the same judge is first run on the **real** pictures of the same captions: that is the score a perfect generator would get, the ceiling. Intervals are exact (Clopper-Pearson) 95% intervals over pictures; held-out combinations are reported apart.

# %%
specs = evaluation.table.head(N_PROMPTS)
judged = generate_and_judge(pipe, specs, seeds=SEEDS, classifier=judge, steps=(STEPS,), guidance=(GUIDANCE,))
generated = judged.attribute_table().assign(source="generated")
real_verdicts = faithfulness(evaluation.images[:N_PROMPTS], specs.reset_index(drop=True), judge)  # the ceiling
ceiling = (faithfulness_table(real_verdicts).query("check == 'combined'").drop(columns="check").reset_index(drop=True)
           .assign(source="real (ceiling)"))
both = pd.concat([ceiling, generated], ignore_index=True)
genlab.report.record("faithfulness", both.pivot_table(index=["held_out", "attribute"], columns="source", values="accuracy", sort=False).round(3))

# %%
bars = both.assign(combinations=np.where(both.held_out.astype(bool), "held out", "seen"))
fig = px.bar(bars, x="attribute", y="accuracy", color="source", barmode="group", facet_col="combinations",
             error_y=bars.accuracy_high - bars.accuracy, error_y_minus=bars.accuracy - bars.accuracy_low,
             template="plotly_white", height=400, range_y=[0, 1.05],
             title=f"Prompt faithfulness ({STEPS} steps, guidance {GUIDANCE})")
genlab.report.record("faithfulness_figure", fig)

# %% tags=["keep_output", "nbval-check-output"]
t = both.set_index(["source", "held_out", "attribute"]).accuracy
real, made = t["real (ceiling)", False, "all"], t["generated", False, "all"]
print("judge on real pictures, all right (seen):", round(float(real), 2))
print("generated below the ceiling on 'all right' (seen):", bool(made < real))

# %% [markdown]
# Where the failures are, by kind of scene (seen combinations): a scene with one object asks for five attributes, a relation scene for up to eight.

# %%
by_kind = (judged.table[~judged.table.held_out].groupby("kind")
           [["all_correct", "count", "colour", "shape", "size", "position", "relation", "background"]]
           .agg(lambda s: s.dropna().astype(float).mean()))
genlab.report.record("faithfulness_by_kind", by_kind.round(3))

# %% [markdown]
# Generalisation beyond the training captions: two of the five caption templates never occur in training (paraphrases such as "exactly two small red circles on a dark canvas"), independently of the held-out combinations. The share of pictures with every attribute right, by both, with exact intervals (`genlab.stats.rate_table`):

# %%
items = judged.table.assign(paraphrase=judged.specs.template_held_out.to_numpy())
genlab.report.record("all_right", rate_table(items, "all_correct", ["held_out", "paraphrase"], name="all_right").round(3))

# %% [markdown]
# Per prompt (GenEval's per-prompt view): the share of each caption's pictures with everything right. With `len(SEEDS)` pictures per caption each interval is wide; the hardest captions are listed first (ties by caption).

# %%
per_prompt = faithfulness_table(judged.table, per="prompt")
never = per_prompt.query("not held_out").k.eq(0).mean()
print(f"{len(per_prompt)} prompts; seen prompts never drawn all right: {never:.2f}")
genlab.report.record("per_prompt", per_prompt.sort_values(["accuracy", "prompt"]).head(8).round(3))

# %% tags=["full-size-results"]
full_size = committed_table("70", "faithfulness")
if full_size is not None:
    print(full_size.attrs["label"])
    display(full_size)
    for name in ("faithfulness_by_kind", "all_right", "per_prompt"):
        display(committed_table("70", name))

# %% [markdown]
# **What the committed full-size run found** (2 pictures for each of the first 1,000 evaluation captions: 1,416 seen, 584 held out; 5 steps, guidance 2). The judge calls 0.958 of real pictures all right for seen combinations (0.894 held out); the model's pictures 0.158 (0.089 held out). Per attribute on seen combinations: background 1.00, position 0.84, size 0.82, count 0.61, colour 0.59, shape 0.41, relation 0.37. By kind of scene, a single object is all right 29% of the time, two or three copies 9%, a relation between two objects **never** (0 of the relation scenes): the second object's colour and shape (0.39 and 0.40) fail most. Held-out combinations are drawn about as well as seen ones attribute by attribute (colour 0.66, shape 0.35, position 0.88), but are all right less often (0.089 against 0.158) and in the right relation less often (0.31 against 0.37). So this model has learned *where* and *how big* far better than *what*: shape, the attribute that needs fine detail at 32x32, and binding two objects' attributes to the right object are its failures. Attribute binding was among the hardest tasks for real models in GenEval too (Ghosh et al. 2023); position was another, which this model does well because the world names nine fixed cells. **Paraphrases cost as much as new combinations:** on seen combinations, captions in a training template are all right 0.192 [0.167, 0.220] of the time and captions in a never-trained template 0.101 [0.076, 0.130]; a held-out combination in a new template 0.057 [0.032, 0.094]. The words of the new templates are in the vocabulary but were never trained, and a one-layer text encoder does not learn to ignore them. The per-prompt table only lists captions that were never drawn right: with 2 pictures each, single prompts say little.

# %% [markdown]
# ## Distribution quality: FID from the judge's features
# FID (Heusel et al. 2017) is the Fréchet distance between Gaussians fitted to features of real and generated pictures. Published FIDs use Inception-v3 features; no Inception weights can be loaded offline here, and ImageNet features would say little about flat drawn shapes anyway, so genlab uses the penultimate layer (128 features) of its attribute classifier. These numbers are therefore **not comparable with any published FID**, only with each other.
#
# FID is biased upward at small n: two sets of *real* pictures are far apart when small. `real_floor` is the FID that real pictures get at the same n (what a perfect generator would score), `fid_infinity` the FID extrapolated to infinitely many samples (Chong & Forsyth 2020).

# %%
reference = judge.features(evaluation.images[-N_REFERENCE:]).astype(np.float64)  # disjoint from the prompts' own
floor_pool = judge.features(train.images[train.table.duplicate_count.to_numpy() == 1][:2 * N_REFERENCE]).astype(
    np.float64)
features = judge.features(judged.images).astype(np.float64)
assert len(features) > features.shape[1], "FID needs more pictures than features (a full-rank covariance)"
ci = frechet_distance_ci(features, reference, n_resamples=N_RESAMPLES, seed=SEED)
floor = floor_pool[np.random.default_rng(SEED).choice(len(floor_pool), size=len(features), replace=False)]
fid = {"n_generated": len(features), "n_reference": len(reference), "fid": frechet_distance(features, reference),
       "fid_low": ci.low, "fid_high": ci.high,
       "fid_infinity": fid_infinity(reference, features, seed=SEED).estimate if len(features) >= 50 else np.nan,
       "real_floor": frechet_distance(floor, reference)}  # real pictures, as many as generated: the floor at this n
genlab.report.record("fid", pd.DataFrame([fid]).round(1))

# %% [markdown]
# The bias itself: the FID of n real pictures to the reference, for growing n (the true distance is 0):

# %%
rng = np.random.default_rng(SEED)  # n real pictures against the reference, three draws per n
bias = pd.DataFrame([{"n": n, "repeat": r, "fid": frechet_distance(floor_pool[rng.choice(len(floor_pool), n, replace=False)],
                                                                   reference)}
                     for n in (25, 50, 100, 200, 400) for r in range(3)])
genlab.report.record("fid_bias_figure", px.scatter(bias, x="n", y="fid", log_x=True, log_y=True, template="plotly_white", height=340,
           title="FID of real pictures to real pictures: the small-sample bias (the true value is 0)"))

# %% tags=["keep_output", "nbval-check-output"]
print("FID shrinks with n for real pictures:", bool(bias.groupby("n").fid.mean().is_monotonic_decreasing))
print("generated FID above the real floor at the same n:", bool(fid["fid"] > fid["real_floor"]))

# %% tags=["full-size-results"]
full_size = committed_table("70", "fid")
if full_size is not None:
    display(full_size)

# %% [markdown]
# **At full size:** FID 322 (bootstrap interval [323, 382], FID_inf 303) for 2,000 generated pictures against 1,000 real ones, where 2,000 other *real* pictures score 64: the model's pictures are far from real ones in the judge's features. The bootstrap interval lies above the estimate because resampling with replacement repeats pictures, which adds its own bias (see `frechet_distance_ci`'s limitations): read it as the spread at this n, not as a confidence interval for the true distance. The real floor of 64 at n = 2,000 is the bias itself: FID is not 0 for a perfect generator at any finite n.

# %% [markdown]
# ## Skewed defaults: "a circle" drawn red?
# Training captions that leave the colour out were drawn red 80% of the time (the world's `skew` knob; the share actually drawn is measured below on the training table). What does the model draw for evaluation captions that name no colour? The judge reads each picture's colour; the share of red comes with an exact interval and binomial tests against the planted share and against chance (1/6). Above the planted share the model **amplifies** the skew (Zhao et al. 2017), at it the model reproduces it, at chance it did not learn it. This is the image counterpart of notebook 30's bias dose-response. Each share is measured at the guidance scales in `SKEW_GUIDANCE`.

# %%
unnamed_train = train.table[~train.table.colour_named]
planted = float((unnamed_train.colour == "red").mean())
unnamed = evaluation.table[~evaluation.table.colour_named & ~evaluation.table.held_out]
unnamed = unnamed if SKEW_PROMPTS is None else unnamed.head(SKEW_PROMPTS)
skewed = generate_and_judge(pipe, unnamed, seeds=SKEW_SEEDS, steps=(STEPS,), guidance=SKEW_GUIDANCE)
assert not skewed.specs.colour_named.any()  # skew is read where the caption names no colour
rows, colours, red = [], [], {}
for g in SKEW_GUIDANCE:
    part = skewed.where(guidance=g)
    read = judge.predict(part.images)["colour"].to_numpy()  # the colour the judge reads in each picture
    red[g] = pd.Series((read == "red").astype(float),
                       index=pd.MultiIndex.from_frame(part.table[["prompt_index", "seed", "steps"]]))
    shapes = part.specs["shape"].to_numpy()
    for label, mask in [("all", np.ones(len(read), bool))] + [(s, shapes == s) for s in sorted(set(shapes))]:
        r = attribute_share(list(read[mask]), "red", planted=planted, chance=1 / len(COLOURS))
        rows.append({"shape asked": label, "n": r.n, "k_red": r.k, "share_red": r.share, "share_low": r.share_low,
                     "share_high": r.share_high, "planted": planted, "p_vs_planted": r.p_value,
                     "p_vs_chance": r.p_value_chance, "guidance": g})
    share = pd.Series(read).value_counts(normalize=True).reindex(list(COLOURS), fill_value=0.0)
    colours.append(share.rename("share").rename_axis("colour read").reset_index().assign(guidance=str(g)))
skew = pd.DataFrame(rows)
colours_read = pd.concat(colours, ignore_index=True)
print(f"planted: {planted:.3f} of {len(unnamed_train):,} training captions without a colour were drawn red")
genlab.report.record("skew", skew.round(3))

# %%
genlab.report.record("colours_figure", px.bar(colours_read, x="colour read", y="share", color="guidance", barmode="group", template="plotly_white",
       height=320, title="Colours drawn for captions that name none, by guidance scale"))

# %% [markdown]
# Does guidance change the share of red? Guidance pushes each picture towards what the caption makes likely, and for a caption without a colour red is the likeliest colour, so a larger scale may amplify the skew. The same captions and seeds at both scales give paired pictures (each pair starts from the same noise):

# %%
a, b = max(SKEW_GUIDANCE), min(SKEW_GUIDANCE)
red_a, red_b = red[a].align(red[b], join="inner")  # twins: the same caption, seed and steps at both scales
boot = paired_bootstrap(red_a.to_numpy(), red_b.to_numpy(), n_resamples=N_RESAMPLES, seed=SEED)
test = paired_permutation_test(red_a.to_numpy(), red_b.to_numpy(), n_resamples=N_RESAMPLES, seed=SEED)
genlab.report.record("skew_guidance", pd.DataFrame([{"a": a, "b": b, "n_pairs": len(red_a), "share_a": red_a.mean(),
                                                   "share_b": red_b.mean(), "difference": boot.difference,
                                                   "difference_low": boot.low, "difference_high": boot.high,
                                                   "p_value": test.p_value}]).round(4))

# %% tags=["keep_output", "nbval-check-output"]
print("pictures judged per scale:", skew.query("`shape asked` == 'all'").n.tolist(), "| planted:", round(planted, 2))

# %% tags=["full-size-results"]
full_size = committed_table("70", "skew")
if full_size is not None:
    display(full_size)

# %% [markdown]
# **At full size** (all 78 evaluation captions without a colour x 6 seeds = 468 pictures per scale; 78.6% of the training captions without a colour were drawn red). The conditional model alone (guidance 1) draws red **0.735** [0.693, 0.774] of the time, a little *below* the planted share (p = 0.009). At the default guidance 2 the share rises to **0.850** [0.815, 0.882], *above* the planted share (p < 0.001): the skew is **amplified**. On the same captions and seeds, guidance 2 draws red 0.115 [0.083, 0.150] more often than guidance 1 (paired permutation p = 0.002). The amplification comes from the sampler setting, not from the training data or the weights: classifier-free guidance sharpens each caption's distribution towards its mode, and for a caption without a colour the mode is the planted default. A cure for skew that cleans the data would not see this; the setting people tune for faithfulness moves it.

# %% [markdown]
# ## Memorisation: does a caption bring its training picture back?
# Carlini et al. (2023) extracted training images from Stable Diffusion by sampling the captions of the most duplicated training images many times and searching the training set for near-copies; the rate grew steeply with duplication. Here the captions of duplicated training pictures (2, 8 and 32 copies) and of pictures seen once are each sampled `len(MEMO_SEEDS)` times. A sample is a **near-copy** of its nearest training picture when it is three times closer to it than to any other distinct training picture (the ratio test of Yoon et al. 2023 and Gu et al. 2023), in pixel space and in the judge's feature space; a training picture is **extracted** when a sample of its own caption is a near-copy of it.

# %%
table = train.table.reset_index(drop=True)
firsts = table.drop_duplicates("image_id")  # one row per distinct training picture
rng = np.random.default_rng(SEED)
chosen = []
for count, group in firsts.groupby("duplicate_count", sort=True):
    limit = MEMO_SINGLETONS if count == 1 else MEMO_PER_COUNT
    if limit is not None and len(group) > limit:
        group = group.iloc[np.sort(rng.choice(len(group), size=limit, replace=False))]
    chosen.append(group)
memo_prompts = pd.concat(chosen)
memo_prompts.duplicate_count.value_counts().sort_index()

# %% [markdown]
# Each caption sampled `len(MEMO_SEEDS)` times; each sample's nearest training picture, in pixels and in the judge's features (`nearest_training`: the distance, the ratio to the nearest *other* distinct picture, and `near_copy` when that ratio is below 1/3). A training picture is extracted when a sample of its own caption is a near-copy of that very picture (`own_picture_copies`; its tests catch a pipeline that memorises every picture and find nothing in one that draws noise):

# %%
memo_images, grid = generate_grid(pipe, list(memo_prompts.caption), MEMO_SEEDS, steps=(STEPS,), guidance=(GUIDANCE,))
asked = memo_prompts.iloc[grid.prompt_index.to_numpy()]
nearest = {"pixels": nearest_training(memo_images, train.images),
           "features": nearest_training(judge.features(memo_images), judge.features(train.images))}
nearest = {space: own_picture_copies(near, asked.image_id, asked.duplicate_count, table.image_id)
           for space, near in nearest.items()}  # copies_own_picture: a near-copy of the prompting picture itself

# %% [markdown]
# Per duplication count, the share of prompted training pictures extracted, with exact intervals (the denominator is the prompted pictures, as in Carlini et al.: is this picture's caption enough to get the picture back?), and how many samples were near-copies of anything:

# %%
extraction = prompted_extraction(nearest)  # per picture: did any sample of its caption copy it? then k of n
genlab.report.record("memorisation", extraction.round(3))

# %%
fig = px.line(extraction, x="duplicate_count", y="extracted", color="space", markers=True, log_x=True,
              error_y=extraction.extracted_high - extraction.extracted,
              error_y_minus=extraction.extracted - extraction.extracted_low, template="plotly_white", height=380,
              title="Training pictures reproduced, by duplication count",
              labels={"duplicate_count": "copies in training", "extracted": "share reproduced"})
genlab.report.record("memorisation_figure", fig)

# %%
near = nearest["pixels"]
genlab.report.record("nearest_by_duplicates", near.groupby("prompt_duplicate_count")[["distance", "ratio"]].median().round(3))

# %% tags=["keep_output", "nbval-check-output"]
print("prompted pictures by copies:", memo_prompts.duplicate_count.value_counts().sort_index().to_dict())
print("samples per space:", {space: len(t) for space, t in nearest.items()})

# %% tags=["full-size-results"]
full_size = committed_table("70", "memorisation")
if full_size is not None:
    display(full_size)
    display(committed_table("70", "nearest_by_duplicates"))

# %% [markdown]
# **At full size** (every duplicated training picture, 100 seen once, 8 samples each): no training picture came back as a near-copy in pixel space at any duplication count: 0 of 100 at 2 copies, 0 of 25 at 8, 0 of 6 at 32 (the interval of 0 of 6 still reaches 0.46). In feature space one picture seen once had a near-copy. The nearest training picture is as far for duplicated captions as for others (median distance-ratio 0.95 to 0.96, far from the 1/3 that marks a copy), with a slightly smaller distance at 32 copies (3.40 against 3.76). So this 1.9M-parameter model trained for 32 passes does not memorise even 32-fold duplicates, unlike Stable Diffusion in Carlini et al. (who sampled 500 times per caption from a model of nearly a billion parameters). Absence here is weak evidence at 32 copies (6 pictures) and says nothing about larger models or longer training.

# %% [markdown]
# ## The sampler trade-off: guidance and steps
# Classifier-free guidance g mixes the model's conditional and unconditional predictions as `uncond + g * (cond - uncond)`: g = 1 is the conditional model alone, larger g pushes harder towards the prompt, usually at the cost of variety (Ho & Salimans 2022). The number of DDIM steps (Song et al. 2021) trades time for fidelity to the model's own distribution. For every setting in `TRADEOFF_STEPS` x `TRADEOFF_GUIDANCE`, the same captions and seeds: faithfulness (all right, seen combinations), diversity (mean pairwise pixel distance among a caption's seeds, averaged over captions) and FID in the judge's features (left empty when a setting has no more pictures than the judge has features, 128: the CI-sized run has 30 per setting).

# %%
trade_specs = evaluation.table[~evaluation.table.held_out].head(TRADEOFF_PROMPTS)
sweep = generate_and_judge(pipe, trade_specs, seeds=TRADEOFF_SEEDS, classifier=judge, steps=TRADEOFF_STEPS,
                           guidance=TRADEOFF_GUIDANCE)
assert sweep.table.groupby(["steps", "guidance", "prompt_index"]).size().min() >= 3, "diversity needs 3 seeds"
rows = []
for (steps, g), part in sweep.table.groupby(["steps", "guidance"], sort=True):
    seen = part[~part.held_out.astype(bool)]
    ci = exact_binomial_ci(int(seen.all_correct.sum()), len(seen))  # all right, seen combinations
    row = {"steps": int(steps), "guidance": float(g), "n_images": len(part), "faithfulness": ci.estimate,
           "faithfulness_low": ci.low, "faithfulness_high": ci.high}
    row |= {a: seen[a].dropna().astype(bool).mean() for a in ("colour", "shape", "position")}
    images = sweep.images[part.image.to_numpy()]
    div = diversity_by_prompt(images, list(part.prompt_index.astype(str))).diversity.to_numpy()
    div_ci = bootstrap_ci(div, n_resamples=N_RESAMPLES, seed=SEED)  # over prompts
    row |= {"diversity": div_ci.estimate, "diversity_low": div_ci.low, "diversity_high": div_ci.high}
    feats = judge.features(images).astype(np.float64)
    full_rank = len(feats) > feats.shape[1]  # else no FID, rather than a meaningless one
    fid_ci = frechet_distance_ci(feats, reference, n_resamples=N_RESAMPLES, seed=SEED) if full_rank else None
    row |= {"fid": frechet_distance(feats, reference) if full_rank else np.nan,
            "fid_low": fid_ci.low if full_rank else np.nan, "fid_high": fid_ci.high if full_rank else np.nan}
    rows.append(row)
tradeoff = pd.DataFrame(rows)
genlab.report.record("tradeoff", tradeoff.round(3))

# %%
long = pd.concat([tradeoff.assign(panel=m, x=tradeoff[m], x_low=tradeoff[f"{m}_low"], x_high=tradeoff[f"{m}_high"])
                  for m in ("diversity", "fid")], ignore_index=True)
fig = px.line(long, x="x", y="faithfulness", color=long.steps.astype(str) + " steps", facet_col="panel",
              text=long.guidance.map("g={:g}".format), markers=True, error_x=long.x_high - long.x,
              error_x_minus=long.x - long.x_low, error_y=long.faithfulness_high - long.faithfulness,
              error_y_minus=long.faithfulness - long.faithfulness_low, template="plotly_white", height=430,
              title="Sampler settings: faithfulness against diversity (higher: more varied) and FID (lower: more real)",
              labels={"faithfulness": "all attributes right (seen combinations)", "color": ""})
fig.update_xaxes(matches=None, title_text="")
fig.update_traces(textposition="top center")
genlab.report.record("tradeoff_figure", fig)

# %% tags=["keep_output", "nbval-check-output"]
print("settings:", len(tradeoff), "| pictures per setting:", sorted(set(tradeoff.n_images)))

# %% tags=["full-size-results"]
full_size = committed_table("70", "tradeoff")
if full_size is not None:
    display(full_size)

# %% [markdown]
# **At full size** (100 seen captions x 3 seeds per setting). The most faithful setting is the card's, 5 steps at guidance 2: 0.240 [0.193, 0.292] all right. Guidance has an optimum: at guidance 3 and above, position breaks (0.68 at 10 steps, 0.22 at 25 steps with guidance 3; 0.06 at 25 steps with guidance 5) and faithfulness falls to 0 at 25 steps and guidance 5. More steps trade faithfulness for realism: at guidance 2, FID falls from 438 (5 steps) to 393 (10) and 383 (25) while faithfulness falls from 0.240 to 0.190 and 0.183. Pixel diversity *rises* with guidance (5.3 at guidance 2 to 7.0 at guidance 5, 5 steps), the opposite of what guidance does to real models; here the extra spread is saturated colour and artefacts, not variety (FID rises with it). A diversity number therefore needs a look at the pictures before it is read as variety.

# %% [markdown]
# ## Limitations
# - **A drawn world is not photographs.** Flat shapes on plain backgrounds at 32x32 make every attribute checkable, which is the point; they say nothing about how a model draws faces, hands, text or scenes, or about the social skews of real image models (for those see Bianchi et al. 2023, "Easily accessible text-to-image generation amplifies demographic stereotypes at large scale").
# - **The judge is a model.** The attribute classifier was trained on real pictures of this world; a smeared or half-drawn shape still gets an answer. The ceiling row shows its accuracy on real pictures, not on generated ones, and the combined verdict (classifier and learning-free check must agree) errs towards calling pictures wrong.
# - **FID from a small classifier is not comparable with published FIDs**, which use Inception-v3 features of 50,000 samples. Its bias at small n is large (see the real-to-real curve); compare a model with the real floor at the same n, and models with each other at equal n.
# - **Intervals treat pictures as independent.** Pictures of one caption, or from one seed, are not; per-attribute intervals over few captions with many seeds are too narrow.
# - **Memorisation is measured for the prompted pictures only**, with one near-copy rule (the ratio test at 1/3); a copy that is shifted by a few pixels or recoloured is not caught in pixel space. The rates depend on how many samples each caption gets (Carlini et al. sampled 500 per caption).
# - **Skew** is read by the judge, whose colour errors bias the share towards its confusions; the planted share is the training data's, which the model sees through a 10%-dropped caption.
# - **Not measured:** compositional prompts beyond two objects, text rendering, aesthetics, human preference, and safety filters.
#
# ## Next
# Back to the [contents](00_index.ipynb).
