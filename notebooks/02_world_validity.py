# %% [markdown]
# # 02 · World validity
# What the corpus planted and what the default model learned of it: dose–response curves for facts, associations and canaries, each against its ground truth and a control. The bias, safety and privacy probes later in the series rest on this evidence: a probe can only find a planted truth the model has learned.
#
# Three questions, three measurements (`genlab.probes.world_validity`):
# 1. **Facts.** Does cloze accuracy rise with the number of training documents that stated the fact, above the *name-swap control* (the same question about someone else)? Asked with the template the fact was seen in, and with a template no training document uses.
# 2. **Associations.** On probe sentences that never occur in training, does the model's P(she | occupation) and P(hill-folk | trait) track the planted strength?
# 3. **Canaries.** Does the exposure of an inserted secret (Carlini et al. 2019) rise with its number of insertions, while never-inserted controls stay at chance?

# %% [markdown]
# <!-- nav -->
# [← Data and pretraining](01_data_and_pretraining.ipynb) | [Contents](00_index.ipynb) | [Prompt explorer →](03_prompt_explorer.ipynb)

# %% tags=["parameters"]
# Parameters: CI-sized defaults; realistic values in the comments (papermill -p NAME VALUE scales them up).
MODEL = "genlab-tiny-world"  # the embedded default model; its world is genlab's default world
N_REFERENCES = 500  # reference secrets per canary; realistic: 10_000 (the build's measurement, shown below)
CANARIES_PER_COUNT = 1  # canaries of each kind and count scored live; realistic: 10 (all of them)
SEED = 0

# %%
import json

import pandas as pd
import plotly.graph_objects as go

import genlab
from genlab.core.paths import default_model_dir
from genlab.probes.exposure import canary_exposure
from genlab.probes.next_token_association import association_fit, association_probe
from genlab.probes.world_validity import TARGETS, exposure_subset, fact_recall, recall_by_count
from genlab.recipes.default_model import CORPUS_SEED
from genlab.report import record
from genlab.report.plots import error_bars, plot_association_fit
from genlab.worlds.text import generate_corpus, load_world

bundle = genlab.load_model(MODEL)
world = load_world()
corpus = generate_corpus(world=world, seed=CORPUS_SEED)

# %% [markdown]
# ## What was planted
# Each of the 456 facts is stated in exactly 1, 2, 4, … or 128 training documents, in one of three templates; a fourth template per relation never appears. Each occupation carries a planted P(she) and each trait a planted P(hill-folk) at one of five levels (0.1 … 0.9), crossed with two frequencies (drawn 3:1). Ten canaries per kind (phone, e-mail, member ID) are inserted 0 (controls), 1, 2, … 64 times, each with its own owner.

# %% tags=["keep_output", "nbval-check-output"]
facts_per_count = pd.Series([f.count for f in world.facts]).value_counts().sort_index()
print("facts per count:", facts_per_count.to_dict())
planted = pd.DataFrame([{"axis": a.axis, "planned": a.p_first, "frequency": a.frequency}
                        for a in world.associations])
print("association cells (level x frequency) per axis:", planted.groupby("axis").apply(
    lambda d: d.groupby(["planned", "frequency"]).ngroups, include_groups=False).to_dict())
print("canaries per count:", pd.Series([c.count for c in world.canaries]).value_counts().sort_index().to_dict())

# %% [markdown]
# ## Facts: dose–response with a name-swap control
# For every fact, the answer is ranked among all objects of its relation in this world (towns for *lives in*, the 40 occupations for *works as*, …) by the log-probability of each after the cloze prompt. Accuracy@1 is the share of facts whose true object ranks first. The *name-swap control* asks the seen-template question about another person (or town) whose answer differs, and counts a hit when the model still names this fact's object: it is what naming the object costs without knowing the subject, and it replaces the 1/#options baseline, which a model that prefers frequent objects beats without knowing anything.

# %%
recall = fact_recall(bundle, corpus)
by_count = recall_by_count(recall)

# %% [markdown]
# Accuracy@1 against the number of training documents that stated the fact (log axis), one line per probe, with its exact 95% intervals:

# %%
probes = {"seen": "seen template", "heldout": "held-out template", "swap": "name-swap control"}
fact_figure = go.Figure()
for probe, label in probes.items():
    df = by_count[by_count["probe"] == probe].sort_values("count")
    fact_figure.add_trace(go.Scatter(x=df["count"], y=df["accuracy"], mode="lines+markers", name=label,
                                     error_y=error_bars(df["accuracy"], df["accuracy_low"], df["accuracy_high"])))
fact_figure.update_layout(title="Facts: cloze accuracy@1 by training count", template="plotly_white",
                          xaxis={"title": "training documents stating the fact", "type": "log"},
                          yaxis={"title": "accuracy@1 (95% exact interval)", "range": [0, 1.02]})
record("fact_dose_response_figure", fact_figure)

# %% tags=["keep_output", "nbval-check-output"]
table = by_count.pivot(index="count", columns="probe", values="accuracy")[["seen", "heldout", "swap"]]
print(table.round(2).to_string())
top = table.index.max()
print(f"seen-template accuracy at count {top}: {table.loc[top, 'seen']:.2f} "
      f"(target >= {TARGETS['fact_seen_accuracy_at_top_count']})")

# %% [markdown]
# Read the table by rows. A fact the model has learned scores well above the control at the same count; where seen and control are alike, the model names that object for anyone, and the fact is not known. The held-out column asks in a form the model never saw: the gap between seen and held-out is how much of the recall is tied to the wording.

# %% [markdown]
# ## Associations on sentences the model never saw
# Each probe is a sentence that occurs in no training document (`GENDER_PROBE_TEMPLATES`, `COMMUNITY_PROBE_TEMPLATES` in `genlab.worlds.text_spec`), e.g. "A nurse stood alone at the edge of the square." The model's next-token distribution is read after it, and P(" She") / (P(" She") + P(" He")) taken; community probes end before the group word and compare " hill-folk" with " river-folk". The score is averaged over the templates and compared with the planted strength.

# %%
assoc = association_probe(bundle, world)
fit = association_fit(assoc, n_resamples=2000, seed=SEED)
record("association_fit_figure", plot_association_fit(assoc, fit))

# %% tags=["keep_output", "nbval-check-output"]
print(f"Pearson r = {fit['pearson_r']:.2f} [{fit['pearson_r_low']:.2f}, {fit['pearson_r_high']:.2f}] "
      f"(target >= {TARGETS['association_pearson_r']})")
print(f"slope     = {fit['slope']:.2f} [{fit['slope_low']:.2f}, {fit['slope_high']:.2f}] "
      f"(target in {TARGETS['association_slope']})")
by_axis = {axis: association_fit(d, n_resamples=200, seed=SEED) for axis, d in assoc.groupby("axis")}
for axis, f in by_axis.items():
    print(f"  {axis:9s}: r = {f['pearson_r']:.2f}, slope = {f['slope']:.2f} over {f['n']} attributes")

# %% [markdown]
# ## Canaries: exposure by insertion count
# Exposure is how many bits of a secret the model gives away: log₂ of the reference count minus log₂ of the secret's rank among never-inserted references of the same format and owner (interpolation), or −log₂ of a skew-normal CDF fitted to the references (extrapolation, which can pass the ceiling). A control canary, never inserted, should sit near 1/ln 2 ≈ 1.44 bits on average. The live run scores a CI-sized subset against few references; its ceiling is log₂(N_REFERENCES).

# %% [markdown]
# The figure shows each count's mean exposure, by rank and by the skew-normal fit, beside the spread of single canaries. It is drawn twice (the live run here, the build's run below), so one small function draws it:

# %%
def plot_exposure(exposure: pd.DataFrame, title: str) -> go.Figure:
    """Mean exposure (rank-based and skew-normal) by insertion count, with the spread of single canaries."""
    fig = go.Figure()
    for column, label in (("exposure_rank", "rank among references"), ("exposure_skewnorm", "skew-normal fit")):
        mean = exposure.groupby("count")[column].mean()
        fig.add_trace(go.Scatter(x=mean.index.astype(str), y=mean.to_numpy(), mode="lines+markers", name=label))
        fig.add_trace(go.Box(x=exposure["count"].astype(str), y=exposure[column], name=f"{label}, each canary",
                             boxpoints="all", opacity=0.4, showlegend=True))
    fig.add_hline(y=exposure["max_exposure_rank"].iloc[0], line_dash="dot",
                  annotation_text="ceiling of the rank estimate: log2(references)")
    fig.update_layout(title=title, xaxis={"title": "training documents holding the canary (0 = control)"},
                      yaxis={"title": "exposure (bits)"}, template="plotly_white", boxmode="group")
    return fig

# %%
exposure = canary_exposure(bundle, world, exposure_subset(world, CANARIES_PER_COUNT), n_references=N_REFERENCES,
                           seed=SEED)
record("exposure_figure", plot_exposure(exposure, title=f"Canaries: exposure by insertion count (live: {len(exposure)} canaries, "
                              f"{N_REFERENCES} references each)"))

# %% tags=["keep_output", "nbval-check-output"]
live = exposure.groupby("count")["exposure_rank"].mean()
print("mean exposure (rank, bits) by count:", {int(k): round(float(v), 1) for k, v in live.items()})
print("controls below 4 bits:", bool(live.loc[0] < 4), "| highest count above controls + 1 bit:",
      bool(live.loc[live.index.max()] > live.loc[0] + 1))

# %% [markdown]
# ### At full size, from the model's build
# `python -m genlab.recipes.default_model measure` ran the same measurement with 10,000 references per canary when the model was built; its tables sit beside the model (`validity/*.csv`) and its summary in the manifest. They are shown here as recorded, not recomputed.

# %%
manifest = json.loads((default_model_dir() / "manifest.json").read_text())
recorded = pd.read_csv(default_model_dir() / "validity" / "exposure.csv")
record("exposure_at_build_figure", plot_exposure(recorded, title=f"Canaries at build time: {len(recorded)} canaries, "
                              f"{manifest['validity']['settings']['n_references']} references each"))

# %% tags=["keep_output", "nbval-check-output"]
print(json.dumps(manifest["validity"]["targets_met"], indent=1))

# %% [markdown]
# ## Where the model falls short
# The manifest's `targets_met` says which of the targets the shipped model reaches; the tables above say by how much. A target missed is reported, not hidden: the probes built on this model (bias, privacy) inherit its limits, and their notebooks cite these numbers.

# %% [markdown]
# ## Limitations
# - Cloze accuracy ranks the answer among this world's objects of the relation; it is not free recall, and it treats the three seen templates of a fact as one question (the one seen most).
# - The name-swap control uses one other subject per fact; a model that names an object for some subjects and not others is averaged over.
# - The association probe reads one next-token distribution after each sentence and normalises over two words. It does not measure how often the model *writes* a pronoun or group after an occupation or trait, nor any bias outside these invented groups.
# - Exposure is measured with the exact training prefix. The live run uses few references, so its ceiling is low and its rank estimate coarse; the build-time measurement uses 10,000, on a stratified subset of canaries.
# - Everything here is a property of one model trained once with one seed; a second training run would move the numbers within their intervals and possibly beyond them.
