# %% [markdown]
# # 11 · Adversarial training and data augmentation
# Two ideas for making fine-tuning sturdier: adversarial training, which perturbs the input embeddings during training (FGM and FreeLB), and data augmentation, which adds edited copies of the training data (EDA and counterfactual CDA). The first is tested by scoring models on prompts with typos and deleted words; the second by a learning curve in the low-data regime, with and without augmentation.
#
# It uses the story task and the `finetune` entry point of notebook 10.

# %% [markdown]
# <!-- nav -->
# [← Fine-tuning and parameter-efficient methods](10_finetuning_and_peft.ipynb) | [Contents](00_index.ipynb) | [Decoding and repetition →](20_decoding_and_repetition.ipynb)

# %% tags=["parameters"]
# Parameters: CI-sized defaults; realistic values in the comments (papermill -p NAME VALUE scales them up).
MODEL = "genlab-tiny-world"  # a local folder, or e.g. "gpt2" online (call genlab.set_offline(False) first)
N_TRAIN, N_EVAL = 200, 24  # training / held-out story prompts; realistic: 400, 100
METHOD = "full"  # what the adversarial comparison trains ("full", as in the FGM and FreeLB papers, or "lora")
STEPS = 10  # optimizer steps per variant; realistic: 400
BATCH_SIZE = 8  # realistic: 16
EPSILON = 1.0  # FGM step length / FreeLB radius, L2 norm per sequence (see the embedding scale below)
FREELB_STEPS = 2  # FreeLB ascent steps K (forward/backward passes per batch); realistic: 3
KINDS = ["typo", "word_swap", "word_delete"]  # perturbations scored (synonym leaves these requests unchanged)
STRENGTHS = [0.0, 0.15, 0.3]  # share of letters / words changed; realistic: [0.0, 0.05, 0.1, 0.2, 0.4]
MAX_NEW_TOKENS = 48  # tokens generated per story when scoring; realistic: 120 (the task's default)
CURVE_SIZES = [16, 64]  # training rows on the learning curve; realistic: [16, 32, 64, 128, 256]
CURVE_STEPS = 8  # steps per learning-curve run, LoRA; realistic: 200
AUGMENTATIONS = [None, "eda", "cda"]
N_AUG = 4  # EDA variants per training row
CURVE_SEEDS = [0]  # realistic: [0, 1, 2] (the spread between seeds is part of the answer)
SEEDS = [0]  # training runs per adversarial variant; realistic: [0, 1, 2]
THREADS = 1  # torch CPU threads: 1 is fastest for this tiny model on a busy 2-core machine; realistic: None (all cores)
SEED = 0

# %%
import dataclasses
import random
from functools import partial

import datasets
import pandas as pd
import plotly.graph_objects as go
import torch
from transformers import set_seed

import genlab
from genlab.data.augment import counterfactual, eda
from genlab.data.perturb import PERTURBATIONS, edit_rate, perturb
from genlab.report import record
from genlab.report.full import committed_table
from genlab.report.plots import error_bars
from genlab.stats import arm_intervals, replicated_tests
from genlab.training.adversarial import AdversarialConfig, describe, embedding_scale
from genlab.training.finetuning import finetune
from genlab.training.tasks import build_task, encode_pairs, item_scores, story_coverage
from genlab.worlds.text import load_world

if THREADS:
    torch.set_num_threads(THREADS)
set_seed(SEED)
bundle = genlab.load_model(MODEL)
task = build_task("story", load_world(), seed=SEED, n_train=N_TRAIN, n_eval=N_EVAL)
# score the first MAX_NEW_TOKENS tokens of each story: the same rule for every model
task = dataclasses.replace(task, metric=partial(story_coverage, max_new_tokens=MAX_NEW_TOKENS))

# %% [markdown]
# ## The task and its perturbations
# The story task of notebook 10: a request names an occupation, a town and an animal (`"Write a story about a baker in Clovermere with a cat."`); the score is the share of the three that a greedy generation mentions, with a bootstrap interval over prompts. (Held-out QA would be the natural robustness test, but the default model answers almost none of its held-out questions, perturbed or not; see notebook 10.)
#
# `genlab.data.perturb.perturb(text, kind, strength, seed)` changes each letter (typos) or word with probability `strength`, with coupled draws: the edits at 0.15 are a subset of those at 0.3. Only the request is perturbed, never the prompt's scaffolding. What each kind does to the first held-out request, and the measured edit rate (Levenshtein distance per letter or word) over all of them:

# %%
query = task.eval[0]["query"]
for kind in ["typo", "word_swap", "word_delete", "synonym"]:
    print(f"{kind:12} 0.3: {perturb(query, kind, 0.3, seed=SEED)}")


# %% tags=["keep_output", "nbval-check-output"]
def mean_edit_rate(kind, strength):  # seeds as in the robustness section: item i uses SEED + i
    edited = [perturb(q, kind, strength, seed=SEED + i) for i, q in enumerate(task.eval["query"])]
    return sum(map(edit_rate, task.eval["query"], edited, [PERTURBATIONS[kind].unit] * len(edited))) / len(edited)


kinds = ["typo", "word_swap", "word_delete", "synonym"]
rates = pd.DataFrame({k: [mean_edit_rate(k, s) for s in (0.1, 0.3, 0.5)] for k in kinds}, index=[0.1, 0.3, 0.5])
print("mean edit rate of the requests, by strength:")
print(rates.round(2).to_string())

# %% [markdown]
# Two things to take from this before training anything. A typo strength of 0.3 hits 30% of the letters (a measured edit rate of about a quarter), those of the three attribute words included: a model that copies the requested words can no longer copy them correctly, so part of any drop is information destroyed, not fragility. And `synonym` is a no-op on these requests: the synonym list (`data/augment/synonyms.json`) deliberately leaves out occupations, animals and towns, and has no entry for the rest of the request, so synonym substitution is shown here but not scored.

# %% [markdown]
# ## Adversarial training in embedding space
# Text is discrete, so the adversary perturbs the input embeddings e instead of the tokens (`genlab.training.adversarial`):
#
# - **FGM** (Miyato, Dai & Goodfellow, ICLR 2017): one step of length ε along the loss gradient, r = ε · g / ‖g‖₂ with g = ∇ₑL, per sequence; the update uses L(e) + L(e + r). Two forward/backward passes per batch.
# - **FreeLB** (Zhu et al., ICLR 2020): K ascent steps on δ inside the ball ‖δ‖_F ≤ ε, δₜ = Π(δₜ₋₁ + α · g_δ/‖g_δ‖_F), with the parameter gradients of all K steps averaged ("free" adversarial training). K passes per batch.
#
# ε is a norm over a whole sequence of T tokens, so each token moves by about ε/√T. Compared with the size of a token embedding:

# %% tags=["keep_output", "nbval-check-output"]
scale = embedding_scale(bundle.model)
T = round(sum(encode_pairs(bundle.tokenizer, task.train)["length"]) / len(task.train))  # tokens per sequence
print(f"median token-embedding norm: {scale:.2f}")
print(f"epsilon {EPSILON:g} over about {T} tokens moves each by about {EPSILON / T ** 0.5:.2f} "
      f"({EPSILON / T ** 0.5 / scale:.0%} of a typical embedding)")

# %% [markdown]
# Three models from the same start, data, seed and number of steps: clean training, FGM and FreeLB, each trained once per seed in `SEEDS` (one at CI size, three at full size), because two runs of the same recipe differ and a difference between single runs is not a difference between recipes. Adversarial steps cost more passes; the table shows what that does to wall time and throughput (tokens per second counts each training token once).

# %%
variants = {
    "clean": None,
    "fgm": AdversarialConfig("fgm", epsilon=EPSILON),
    "freelb": AdversarialConfig("freelb", epsilon=EPSILON, alpha=0.3, steps=FREELB_STEPS),
}
trained, records = {}, {}  # (variant, seed) -> model; "variant seed k" -> its RunRecord
for seed in SEEDS:
    for name, adversarial in variants.items():
        model, run = finetune(bundle, task, METHOD, steps=STEPS, batch_size=BATCH_SIZE, seed=seed,
                              adversarial=adversarial, eval_steps=STEPS + 1)  # validation loss once, after training
        trained[(name, seed)] = model
        records[f"{name} seed {seed}"] = run.to_dict() | {"variant": describe(adversarial), "seed": seed}
runs = pd.DataFrame([{"run": name, "variant": r["variant"], "wall_time_s": r["wall_time_s"],
                      "tokens_per_s": r["tokens_per_s"], "validation_loss": r["eval_loss"]}
                     for name, r in records.items()]).set_index("run")
record("runs", runs.round(3))

# %% tags=["keep_output", "nbval-check-output"]
for name, config in variants.items():
    print(f"{name:7} {describe(config)}")

# %% [markdown]
# The validation loss is measured on clean completions, so it shows whether the adversarial objective cost anything on unperturbed data at this budget. The logged *training* loss of an adversarial run is its adversarial objective (FGM: clean plus adversarial loss), so training curves are not comparable across variants.
#
# ## Robustness under perturbations
# Each model scores the held-out requests at every strength of every kind. Only the request is perturbed (`task.map_queries` rebuilds the prompt around it), and item i uses perturbation seed `SEED + i`, whatever the training seed, so every run of every variant sees exactly the same perturbed prompts:

# %%
perturbed = {(kind, strength): task.map_queries(lambda q, i, k=kind, s=strength: perturb(q, k, s, seed=SEED + i))
             for kind in KINDS for strength in STRENGTHS}

# %%
first = task.eval[0]["query"]
assert perturbed[(KINDS[0], STRENGTHS[-1])][0]["prompt"] == task.template.format(
    query=perturb(first, KINDS[0], STRENGTHS[-1], seed=SEED))
assert all(list(perturbed[(k, 0.0)]["prompt"]) == list(task.eval["prompt"]) for k in KINDS if 0.0 in STRENGTHS)

# %% [markdown]
# Greedy scoring is deterministic, so a model is scored once per distinct set of prompts: the clean prompts (strength 0, the same under every kind) cost one evaluation per model, not one per kind. The table keeps each row's per-prompt scores for the intervals and tests (`attrs`, keyed by its `item_key` columns).

# %%
rows, items, scored = [], {}, {}
for seed in SEEDS:
    for (kind, strength), data in perturbed.items():
        for name in variants:
            key = (name, seed, tuple(data["prompt"]))
            if key not in scored:
                scored[key] = task.evaluate(trained[(name, seed)], data)
            score = scored[key]
            items[(name, seed, kind, strength)] = tuple(item_scores(score))  # tuples: pandas compares attrs
            rows.append({"model": name, "seed": seed, "kind": kind, "strength": strength, "score": score.value,
                         "score_low": score.low, "score_high": score.high, "n": score.n, "interval": score.interval})
robust = pd.DataFrame(rows)
robust.attrs = {"item_key": ("model", "seed", "kind", "strength"), "items": items}

# %%
n_prompt_sets = len({tuple(d["prompt"]) for d in perturbed.values()})
assert len(scored) == len(variants) * len(SEEDS) * n_prompt_sets
assert len(robust) == len(variants) * len(SEEDS) * len(KINDS) * len(STRENGTHS)

# %% [markdown]
# Each point is a variant's mean over its runs, with a mixed-model interval over runs and prompts when there are several runs (`genlab.stats.arm_intervals`; one run: a bootstrap over prompts).

# %%
per_variant = arm_intervals(robust, seed=SEED)
fig = go.Figure()
for (model, kind), g in per_variant.groupby(["model", "kind"], sort=False):
    g = g.sort_values("strength")
    fig.add_trace(go.Scatter(x=g["strength"], y=g["score"], name=f"{model}, {kind}", mode="lines+markers",
                             error_y=error_bars(g["score"], g["score_low"], g["score_high"])))
fig.update_layout(title=f"Attribute coverage under perturbed requests ({N_EVAL} prompts, {len(SEEDS)} run(s) per variant, 95% intervals)",
                  xaxis_title="perturbation strength (share of units changed)", yaxis_title="task score (95% interval)",
                  template="plotly_white")
record("robustness_figure", fig)

# %%
record("robustness", per_variant.pivot_table(index=["kind", "strength"], columns="model", values="score").round(3))

# %% [markdown]
# Two questions, each answered on the same prompts (`genlab.stats.replicated_tests`: prompts paired; with several runs per arm, runs resampled too, by a mixed-model t test; with one run, a paired bootstrap and permutation test over prompts, and `test` says that run-to-run variation was not measured). Each question is one **family** of tests, Holm-adjusted within it (`p_adjusted`); `significant` means adjusted p ≤ 0.05.
#
# First, does a perturbation hurt each model (score at the strength minus score on the clean prompts)? Family: every variant × kind × non-zero strength. The two arms here are the same trained models on two prompt sets, so treating their runs as independent is conservative.

# %%
SHOWN = ["n_runs", "score", "reference_score", "difference", "difference_low", "difference_high", "p_value",
         "p_adjusted", "significant"]
drop = replicated_tests(robust, "strength", 0.0, seed=SEED, family="drop under perturbation")
record("drop", drop[["model", "kind", "strength", *SHOWN]].round(3))

# %% [markdown]
# Second, the question adversarial training is meant to answer: at each kind and strength, does FGM or FreeLB score higher than clean training? The table scores the clean prompts once per kind; that is one comparison, so it is kept once (under the first kind, renamed `none`) before the family is formed: 2 variants × (1 + kinds × non-zero strengths) tests.

# %%
once = robust[(robust.strength != 0) | (robust.kind == KINDS[0])].reset_index(drop=True)
once["kind"] = once.kind.where(once.strength != 0, "none")
once.attrs = {"item_key": robust.attrs["item_key"],
              "items": {(m, s, k if st != 0 else "none", st): v for (m, s, k, st), v in items.items()
                        if st != 0 or k == KINDS[0]}}
gain = replicated_tests(once, "model", "clean", seed=SEED, family="adversarial variant vs clean training")
record("gain", gain[["model", "kind", "strength", *SHOWN]].round(3))

# %%
nonzero = sum(s != 0 for s in STRENGTHS)
assert gain.family_size.iloc[0] == (len(variants) - 1) * (int(0.0 in STRENGTHS) + len(KINDS) * nonzero)
assert set(once.attrs["items"]) == {(m, s, k, st) for m, s, k, st in zip(once.model, once.seed, once.kind, once.strength,
                                                                        strict=True)}

# %% tags=["keep_output", "nbval-check-output"]
conditions = robust[["kind", "strength"]].drop_duplicates()
print("prompts per condition:", robust.n.iloc[0], "| conditions per model:", len(conditions),
      "| tests in the gain family:", gain.family_size.iloc[0])
better = gain.significant & (gain.difference > 0)
print("an adversarial variant significantly above clean training anywhere (Holm):", bool(better.any()))

# %% [markdown]
# **At full size.** The committed full-size run (`make report-full`: 100 prompts, 200 steps per run, three seeds per variant; parameters, power and provenance in `results/full_size/`) answers the same questions with the same code:

# %% tags=["full-size-results"]
full_size = committed_table("11", "gain")
if full_size is not None:
    print(full_size.attrs["label"])
    display(full_size)

# %% [markdown]
# **What the committed full-size run found.** Neither adversarial variant scores above clean training in any condition after Holm's correction. FreeLB scores *below* clean training on the unperturbed prompts, and under word swaps and word deletion both variants fall below it at some strengths, while typos hurt all three alike. Adversarial training in embedding space did not buy robustness to these edits at this budget: a finding, at the power stated in `results/full_size/params.json`, and for this task, ε and number of steps only.

# %% [markdown]
# **Reading it.** The `drop` table says which perturbations hurt each model significantly: typos edit the attribute words the task asks for, and word deletion can remove one outright, so both should lower coverage as the strength grows. The `gain` table compares each adversarial variant with clean training on the same perturbed prompts; the checkpoint above says whether any variant is significantly *better* after Holm's correction over the family. Beside the adjusted p-values, look for a consistent sign across strengths: a real robustness gain would show as one. What to expect from the mechanism: an adversarial step is a small fraction of an embedding's length (the scale above), so it stays closest to the same token, whereas a typo replaces the token sequence itself, a large, discrete move that embedding-space training never sees. FGM and FreeLB aim at smoothness around the clean input (and, in the papers, better clean accuracy on classification), not at spelling errors; for those, training on perturbed text is the direct route.

# %% [markdown]
# ## Data augmentation in the low-data regime
# - **EDA** (Wei & Zou, EMNLP 2019): synonym replacement, random insertion, random swap and random deletion, `N_AUG` edited copies of each request (the story target is kept). WordNet is not available offline; the synonyms come from the project's hand-written list.
# - **CDA**, counterfactual data augmentation (Lu et al., 2018): one copy of each example with gendered words swapped (she ↔ he, her ↔ his/him, ...) and the two communities swapped (hill-folk ↔ river-folk), from `data/augment/cda_pairs.json`. In stories the request has no gendered words, so CDA copies the story with the other pronoun. Its purpose is to weaken the occupation–pronoun association planted in the corpus, a bias question; here we only check what it does to the task.
#
# What each does to one training example:

# %%
row = task.train[0]
print("EDA variants of the request:")
for variant in eda(row["query"], num_aug=N_AUG, seed=SEED, clean=False)[:-1]:
    print("  ", variant)
print("\nCDA copy of the story:\n  ", counterfactual(row["completion"]))

# %% [markdown]
# A training set with its augmented copies: EDA's edited requests (the story kept), or CDA's copy with request and story swapped. Copies that come out identical to the original are dropped, so fewer than `N_AUG` EDA copies per row survive: with a synonym list that skips the attribute words, most of EDA's edits are swaps and deletions of the request's words. CDA adds a copy only where a swap changed something.


# %%
def augmented(rows, kind, seed):
    """``rows`` plus their augmented copies ("eda" or "cda"), each copy's prompt rebuilt from its request."""
    out = list(rows)
    for i, row in enumerate(rows):
        if kind == "cda":
            copies = [dict(row, query=counterfactual(row["query"]), completion=counterfactual(row["completion"]))]
        else:
            copies = [dict(row, query=q) for q in eda(row["query"], num_aug=N_AUG, seed=seed * 1_000_003 + i, clean=False)[:-1]]
        out += [dict(c, prompt=task.template.format(query=c["query"])) for c in copies if c != row]
    return datasets.Dataset.from_list(out)


# %%
sample = augmented(task.train.select(range(6)).to_list(), "cda", SEED)
assert len(sample) > 6 and all(r["prompt"] == task.template.format(query=r["query"]) for r in sample)

# %% [markdown]
# The learning curve: LoRA runs on the first *n* rows of one seeded shuffle (nested subsets: a larger size adds rows), with and without augmentation, the same number of steps for every run, scored on the same held-out prompts.

# %%
assert max(CURVE_SIZES) <= len(task.train), "a size exceeds the task's training rows"
rows, curve_items = [], {}
for seed in CURVE_SEEDS:
    order = list(range(len(task.train)))
    random.Random(f"genlab-learning-curve-{seed}").shuffle(order)
    for n in CURVE_SIZES:
        subset = task.train.select(order[:n])
        for aug in AUGMENTATIONS:
            data = subset if aug is None else augmented(subset.to_list(), aug, seed)
            model, run = finetune(bundle, data, "lora", steps=CURVE_STEPS, batch_size=BATCH_SIZE, seed=seed,
                                  eval_dataset=task.eval, eval_steps=CURVE_STEPS + 1)
            score = task.evaluate(model)
            curve_items[(n, aug or "none", seed)] = tuple(item_scores(score))
            rows.append({"n_train": n, "augmentation": aug or "none", "seed": seed, "n_examples": len(data),
                         "score": score.value, "score_low": score.low, "score_high": score.high,
                         "eval_loss": run.eval_loss})
curve = pd.DataFrame(rows)
curve.attrs = {"item_key": ("n_train", "augmentation", "seed"), "items": curve_items}

# %%
plain = curve[curve.augmentation == "none"]
assert plain.n_examples.tolist() == plain.n_train.tolist()
for aug in ("eda", "cda"):
    if aug in AUGMENTATIONS and None in AUGMENTATIONS:
        assert (curve[curve.augmentation == aug].n_examples.to_numpy() > plain.n_examples.to_numpy()).all()

# %% [markdown]
# One line per augmentation through the mean over seeds. With one seed each point carries its own 95% interval; with several, each seed's score is drawn as a point with its own interval (an interval belongs to one run, not to the mean).

# %%
several = len(CURVE_SEEDS) > 1
fig = go.Figure()
for aug, g in curve.groupby("augmentation", sort=False):
    mean = g.groupby("n_train", as_index=False).agg(
        score=("score", "mean"), score_low=("score_low", "first"), score_high=("score_high", "first"))
    fig.add_trace(go.Scatter(x=mean["n_train"], y=mean["score"], name=aug, legendgroup=aug,
                             mode="lines" if several else "lines+markers",
                             error_y=None if several else error_bars(mean["score"], mean["score_low"], mean["score_high"])))
    if several:
        fig.add_trace(go.Scatter(x=g["n_train"], y=g["score"], name=f"{aug} (each seed)", legendgroup=aug,
                                 mode="markers", error_y=error_bars(g["score"], g["score_low"], g["score_high"])))
fig.update_layout(title=f"Attribute coverage against training rows ({CURVE_STEPS} LoRA steps each)",
                  xaxis_title="training examples (before augmentation)", xaxis_type="log",
                  yaxis_title="task score (95% interval)", template="plotly_white")
record("learning_curve_figure", fig)

# %%
record("learning_curve", curve.round(3))

# %% [markdown]
# Augmented against plain training at each size, as one family (augmentations × sizes, Holm). With several seeds the runs are resampled too; a seed fixes the same subset for both arms, so treating their runs as independent is conservative.

# %%
versus_none = replicated_tests(curve, "augmentation", "none", seed=SEED, family="augmentation vs none")
record("versus_none", versus_none[["n_train", "augmentation", *SHOWN]].round(3))

# %% tags=["full-size-results"]
full_size = committed_table("11", "versus_none")
if full_size is not None:
    print(full_size.attrs["label"])
    display(full_size)

# %% [markdown]
# **At full size**, with three seeds per point, neither EDA nor CDA changes coverage at any size after Holm's correction; the runs of one recipe at one size differ by several points (the per-seed table of the full-size run), which is the spread a single-seed curve hides.

# %% tags=["keep_output", "nbval-check-output"]
print(curve[["n_train", "augmentation", "n_examples"]].drop_duplicates().to_string(index=False))

# %% [markdown]
# **Reading it.** Each augmentation is compared with plain training at the same size, on the same held-out prompts; the tests say whether augmentation changed coverage at that size, after Holm's correction over the curve. Wei & Zou report EDA's largest gains on their smallest training sets, so a benefit, if any, should show first at the smallest size. CDA is not expected to change coverage (it edits pronouns, not requests); what it is for, weakening the occupation–pronoun association, needs a bias measurement. At CI size there is one seed per point; the full-size run has three (`CURVE_SEEDS`) before reading a shape into the curve.

# %% [markdown]
# ## Limitations
# - **CI budget.** About ten steps and one seed leave every model close to the base model and the spread between runs unmeasured; the full-size run (three seeds per arm) is what a conclusion needs, and three runs pin down run-to-run variation only roughly.
# - **Perturbations are synthetic.** Uniform keyboard typos and random deletions are not how people mistype or abbreviate; a strength is a per-unit probability, not a calibrated difficulty, and high typo strengths destroy the attribute words the task asks for. Synonym substitution does not touch these requests at all: the synonym list holds only words of the world's lexicon (so it can never rename a planted attribute), and the request scaffold ("Write a story about …") has none, so that kind is measured (edit rate 0) but not scored.
# - **Embedding-space adversaries.** genlab perturbs raw, tied GPT-2 embeddings (Miyato et al. normalise them first), with one ε and FreeLB step size, untuned; other settings might behave differently. The FGM/FreeLB formulas follow the project's metrics reference, flagged there as not yet checked against the papers.
# - **One task, one metric.** Attribute coverage counts whole-word mentions within the first `MAX_NEW_TOKENS` tokens; fluency and coherence are not judged, and stories cut at `MAX_NEW_TOKENS` tokens can miss an animal mentioned later (the same rule for every model).
# - **Many tests.** Each table is one family with Holm's correction (family-wise error 5% per family, not across the notebook's three families). Holm controls false positives at the cost of power: a real but small effect spread over many conditions can stay below every adjusted threshold.
# - **Augmentation noise.** EDA's random deletion sometimes removes an attribute word from a request while the target story still names it, which teaches the model to mention attributes it was not asked for.
# - **Augmentation resources.** EDA's synonyms are a small hand-written list (no WordNet); CDA knows two binary axes and swaps words by a list, with the failure modes listed in `genlab.data.augment`. Whether CDA reduces the planted occupation–pronoun association is not measured here.
