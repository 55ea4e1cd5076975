# %% [markdown]
# # 21 · Quality and factual errors
# How good is the default model's text, and how often is it wrong about its own world? Perplexity of held-out text with bootstrap intervals; MAUVE and coherence of generations; recall of planted facts by cloze probes; and the contradiction rate of free text, each split by how often the fact appeared in training.
#
# The world is its own answer key: every fact was stated a known number of times (1 to 128), so "where does the model fail?" has an exact answer. The last sections compare two decoding settings on the same prompts with paired tests.

# %% [markdown]
# <!-- nav -->
# [← Decoding and repetition](20_decoding_and_repetition.ipynb) | [Contents](00_index.ipynb) | [Bias and fairness →](30_bias_and_fairness.ipynb)

# %% tags=["parameters"]
# Parameters: CI-sized defaults; realistic values in the comments (papermill -p NAME VALUE scales them up).
MODEL = "genlab-tiny-world"  # a local folder, or e.g. "gpt2" online (call genlab.set_offline(False) first)
PPL_DOCS = 200  # held-out test documents for perplexity; realistic: 1_000 (the whole test split)
N_PROMPTS = 32  # prompts for the generation-quality comparison; realistic: 1_000
PREFIX_WORDS, MIN_HUMAN_WORDS, MAX_NEW_TOKENS = 10, 40, 40  # realistic: 25, 150, 128; human text cut to the tokens
SYSTEMS = ["greedy", "nucleus0.95"]  # the two decoding settings compared throughout
CLOZE_TEMPLATES = "canonical"  # "all": three phrasings per fact (not independent trials; see Limitations)
CLAIM_TEMPLATES = ["Everyone knows that {name}", "By trade, {name}", "More than anything, {name}"]
CLAIM_TOKENS = 40  # new tokens per free generation about a world person; realistic: 200
N_RESAMPLES = 1_000  # bootstrap resamples per interval
MAUVE_GROUPS = 20  # jackknife groups for MAUVE's interval, used only at full size (1,000+ texts per side)
SEED = 0

# %%
import numpy as np
import pandas as pd
import plotly.graph_objects as go

import genlab
from genlab.generation.decoder import generate
from genlab.generation.prompts import match_human_length, split_documents, token_ids
from genlab.metrics.coherence import sentence_embeddings
from genlab.metrics.hallucination import hallucination_rate
from genlab.metrics.mauve import mauve
from genlab.metrics.perplexity import perplexity
from genlab.probes.cloze import (
    accuracy_by_count,
    cloze_name_swap,
    cloze_probes,
    name_swap_by_count,
    name_swap_comparison,
    score_cloze,
)
from genlab.probes.degeneration import continuation_items, degeneration_scores
from genlab.report import record
from genlab.report.plots import error_bars
from genlab.stats import compare_systems_family, corpus_bootstrap, exact_binomial_ci, summary_table
from genlab.worlds.text import generate_corpus, load_world

bundle = genlab.load_model(MODEL)
world = load_world()
corpus = generate_corpus(world=world, seed=0)

# %% [markdown]
# ## Perplexity of held-out text
# Perplexity is exp(total negative log-likelihood / total tokens) over held-out test documents, scored with the model's full 256-token window (`genlab.metrics.perplexity`, checked against the strided loop of the Hugging Face guide). The interval comes from a bootstrap over documents that recomputes the token-weighted ratio on each resample, so long documents weigh as much as in the estimate. The split by document kind shows which genres the model has learnt best.

# %%
docs = corpus.test[:PPL_DOCS]
kinds = np.array([d.kind for d in docs], dtype=object)
result = perplexity(bundle, [d.text for d in docs], batch_size=16)
nll, tokens = np.array(result.per_text_nll), np.array(result.per_text_tokens, dtype=float)  # per document
rows = []
for kind in ["all", *sorted(set(kinds))]:
    idx = np.arange(len(docs)) if kind == "all" else np.flatnonzero(kinds == kind)
    estimate, low, high = corpus_bootstrap(
        len(idx), lambda i, idx=idx: float(np.exp(nll[idx][i].sum() / tokens[idx][i].sum())),
        n_resamples=N_RESAMPLES, seed=SEED)
    rows.append({"group": kind, "texts": len(idx), "tokens": int(tokens[idx].sum()), "perplexity": estimate,
                 "perplexity_low": low, "perplexity_high": high})
ppl = pd.DataFrame(rows).set_index("group")
record("perplexity_by_kind", ppl.round(2))

# %%
assert np.isclose(ppl.loc["all", "perplexity"], result.perplexity, rtol=1e-9)  # the corpus perplexity, token-weighted
assert ((ppl.perplexity_low <= ppl.perplexity + 1e-9) & (ppl.perplexity <= ppl.perplexity_high + 1e-9)).all()
assert ppl.drop(index="all")["texts"].sum() == len(docs)

# %% tags=["keep_output", "nbval-check-output"]
print(f"test perplexity {ppl.loc['all', 'perplexity']:.1f} over {ppl.loc['all', 'tokens']} tokens "
      f"of {ppl.loc['all', 'texts']} documents")
print("every kind's interval is narrower than 2:", bool(((ppl.perplexity_high - ppl.perplexity_low) < 2).all()))
print("lowest-perplexity kind:", ppl.drop(index="all")["perplexity"].idxmin())

# %% [markdown]
# Dialogues, the most formulaic kind of document (greetings, questions, stock replies), are the easiest to predict. The other kinds' intervals overlap; letters are rare (a handful of documents), so their interval is the widest, and a percentile bootstrap over so few documents is itself rough.

# %% [markdown]
# ## Quality of generated text: greedy vs nucleus sampling
# Both settings continue the same held-out prompts. MAUVE (Pillutla et al., 2021) measures how close the distribution of generations is to the human continuations, in the space of an offline sentence encoder; coherence is the cosine between the prompt's and the continuation's embeddings (Su et al., 2022); perplexity here is the model's own perplexity of what it wrote. The steps are notebook 20's, restricted to two systems: the human continuations are cut to `MAX_NEW_TOKENS` model tokens like the generations, `continuation_items` scores each continuation and `degeneration_scores` gives each system's row with its intervals (perplexity token-weighted). With 32 texts per side MAUVE is a demonstration (3 k-means buckets) and is printed without an interval (`(no CI)`); from 1,000 texts per side it is computed with the authors' settings and gets a jackknife interval.

# %%
texts = [t for t in corpus.texts("test") if len(t.split()) > PREFIX_WORDS + MIN_HUMAN_WORDS][:N_PROMPTS]
prefixes, human = split_documents(texts, prefix_words=PREFIX_WORDS)
human_cut = match_human_length(bundle.tokenizer, human, MAX_NEW_TOKENS)  # the generations' token budget
gens = generate(bundle, prefixes, SYSTEMS, max_new_tokens=MAX_NEW_TOKENS, seed=SEED, batch_size=32)
systems = {"human": (human_cut, token_ids(bundle.tokenizer, human_cut))}  # system -> (texts, token ids), by prompt
for name, g in gens.groupby("config", sort=False):
    g = g.sort_values("prompt_id")
    systems[name] = (g["text"].tolist(), [list(t) for t in g["tokens"]])

# %%
prefix_features = sentence_embeddings(prefixes)
features = {name: sentence_embeddings(outputs) for name, (outputs, _) in systems.items()}
rows, items = [], []
for name, (outputs, ids) in systems.items():
    scores = continuation_items(bundle, prefixes, outputs, ids, prefix_features, features[name])
    row = degeneration_scores(outputs, scores, features[name], None if name == "human" else features["human"],
                              n_resamples=N_RESAMPLES, seed=SEED, mauve_groups=MAUVE_GROUPS)
    rows.append({"system": name, **row})
    items.append(scores.assign(system=name))
table = pd.DataFrame(rows).set_index("system")
per_item = pd.concat(items, ignore_index=True)  # one row per (system, prompt), for the paired tests
record("study", summary_table(table)[["perplexity", "mauve", "mauve_regime", "coherence", "diversity", "repetition_pct",
                            "mean_tokens"]])

# %% [markdown]
# MAUVE depends on the feature space. The same generations scored in the model's own hidden-state space (the final token's last hidden state, as MAUVE's reference code does with GPT-2) rather than the sentence encoder's:

# %%
rows = []
for name in SYSTEMS:
    minilm = mauve(systems[name][0], human_cut, features="minilm")
    own = mauve(systems[name][0], human_cut, features="model", bundle=bundle)
    rows.append({"system": name, "mauve (MiniLM)": round(minilm.mauve, 3),
                 "mauve (model features)": round(own.mauve, 3), "buckets": minilm.num_buckets, "regime": minilm.regime})
record("systems", pd.DataFrame(rows).set_index("system"))

# %% [markdown]
# With a few dozen texts per side, MAUVE's verdict depends on the feature space and on the k-means quantisation as much as on the texts: read these values as a demonstration of the metric, not a measurement (the `regime` column says so), and compare them with nothing. That is why the table above prints MAUVE without an interval: an interval around a two- or three-bucket histogram statistic would lend it a precision it does not have.

# %% [markdown]
# ### The paired comparison
# Same prompts, two decoding settings: per prompt, the difference in the continuation's mean log-probability under the model, in coherence and in seq-rep-4. The paired bootstrap gives an interval for the mean difference, the permutation test a p-value, and d_z an effect size (mean difference / standard deviation of the differences). The three tests form one family, "greedy vs nucleus, generation quality", corrected with Holm (`compare_systems_family`); a difference is a finding when its interval excludes 0 and its adjusted p ≤ 0.05.

# %%
a, b = SYSTEMS
metrics = ("mean_logprob", "coherence", "seq_rep_4")
quality = compare_systems_family(per_item, [(a, b, m) for m in metrics],
                                 family="greedy vs nucleus, generation quality", seed=SEED)
record("quality", quality)

# %% tags=["keep_output", "nbval-check-output"]
q = quality.set_index("metric")
print(f"{a} continuations are more likely under the model than {b}'s (interval above 0, Holm p <= 0.05):",
      bool(q.loc["mean_logprob", "difference_low"] > 0 and q.loc["mean_logprob", "p_adjusted"] <= 0.05))
print(f"{a} repeats more 4-grams per text than {b} (interval above 0, Holm p <= 0.05):",
      bool(q.loc["seq_rep_4", "difference_low"] > 0 and q.loc["seq_rep_4", "p_adjusted"] <= 0.05))

# %% [markdown]
# **At full size.** The committed full-size run (`make report-full`: 514 prompts of 64 tokens, perplexity over 1,000 test documents, 200-token continuations for the claims; parameters, power and provenance in `results/full_size/`), the same family with the same code. Its label says when it was made and whether the code or parameters changed since:

# %% tags=["full-size-results"]
from genlab.report.full import committed_table

full_size = committed_table("21", "quality")
if full_size is not None:
    print(full_size.attrs["label"])
    display(full_size)

# %% [markdown]
# ## Does the model know its facts? Cloze probes by training frequency
# Each planted fact becomes a cloze probe (Petroni et al., 2019): its relation's template, cut before the object ("Hrovald lives in" → "Clovermere"). Three scorings:
#
# - **ranking by summed log-probability (accuracy@1):** is the true object the most likely completion among all objects of that relation? Ties count against the model.
# - **ranking by mean log-probability per answer token:** the same, length-normalised, so a long object ("a basket weaver") is not penalised for its extra tokens.
# - **generation (exact match):** does the greedy continuation name the true object?
#
# The baseline is the **name-swap control**, not 1 / number of options: the same cloze prompt with the subject replaced by another world person whose object differs ("Tyrmir lives in" scored against Hrovald's town). The model cannot know that answer, so its accuracy there is the recall it gets from a relation's commonest objects and the template's habits alone. Accuracy is split by how many training documents stated the fact, the axis of Kandpal et al. (2023), with exact Clopper–Pearson intervals.

# %%
probes = cloze_probes(world, templates=CLOZE_TEMPLATES)
scores = score_cloze(bundle, probes)
paired_cloze = cloze_name_swap(bundle, world, CLOZE_TEMPLATES, scores=scores)  # scores only the controls again
by_count = pd.concat([name_swap_by_count(paired_cloze),
                      accuracy_by_count(scores, "exact_match").assign(scoring="generation exact match", probe="real",
                                                                      series="generation exact match: real")])
record("cloze_by_count", by_count.pivot_table(index="count", columns="series", values="accuracy").round(3))

# %% [markdown]
# Recall against the control, paired by fact: for each ranking, accuracy on the real probes minus accuracy on their name-swapped controls, with a paired bootstrap interval and an exact McNemar p-value. The two rankings form one family ("recall vs name-swap control"), corrected with Holm.

# %%
swap_test = name_swap_comparison(paired_cloze, seed=SEED)
record("swap_test", swap_test.set_index("scoring")[["n", "accuracy", "swap_accuracy", "difference", "difference_low", "difference_high",
                                "p_value", "p_adjusted"]].round(4))

# %% tags=["keep_output", "nbval-check-output"]
ranking = by_count[(by_count.scoring == "summed log-prob") & (by_count.probe == "real")]
rare, frequent = ranking[ranking["count"] <= 16], ranking[ranking["count"] >= 64]
print(len(probes), "probes; mean 1/#options:", round(float(scores["chance"].mean()), 2))
print("facts seen 64-128 times recalled more often than those seen 1-16 times:",
      frequent.k.sum() / frequent.n.sum() > rare.k.sum() / rare.n.sum())
t = swap_test.set_index("scoring")
for scoring in t.index:
    print(f"{scoring}: recall above the name-swap control (interval above 0, Holm p <= 0.05):",
          bool(t.loc[scoring, "difference_low"] > 0 and t.loc[scoring, "p_adjusted"] <= 0.05))

# %% tags=["full-size-results"]
full_size = committed_table("21", "swap_test")
if full_size is not None:
    display(full_size)  # the probes are the same at full size: every planted fact

# %% [markdown]
# The figure draws each series' accuracy against the training count of the fact, on a log axis, with its exact interval; the same helper draws the hallucination rates below.

# %%
def plot_rate_by_count(frame, y, *, series, title, yaxis_title):
    """A rate ``y`` with its ``{y}_low``/``{y}_high`` interval against how often the fact was seen in training."""
    fig = go.Figure()
    for name, df in frame.groupby(series, sort=False):
        fig.add_trace(go.Scatter(x=df["count"], y=df[y], mode="lines+markers", name=str(name),
                                 error_y=error_bars(df[y], df[f"{y}_low"], df[f"{y}_high"])))
    fig.update_layout(title=title, xaxis_title="training documents stating the fact", xaxis_type="log",
                      yaxis_title=yaxis_title, yaxis_range=[0, 1], template="plotly_white")
    return fig


record("cloze_by_count_figure", plot_rate_by_count(by_count, "accuracy", series="series", yaxis_title="accuracy (95% exact interval)",
                   title="Fact recall by how often the fact was seen, against the name-swap control"))

# %% [markdown]
# Read each curve against its control, not against 1 / number of options: a model that always names a relation's commonest object beats uniform guessing without knowing anything, and the name-swap curve measures exactly that. Where real and control curves meet, the model shows no knowledge of those facts. The summed and per-token rankings differ only for relations whose objects have different token lengths. Recall rising with training frequency above the control is the long-tail curve Kandpal et al. (2023) found for real models and real facts, at a much smaller scale; notebook 02 adds a template the model never saw.

# %% [markdown]
# ## Hallucinations in free text
# The model writes freely after an opening that names a world person ("Everyone knows that Hrovald", openings the corpus uses before a fact); every statement that matches a relation template about a known person or town is a *claim*, checked against the world (`genlab.metrics.hallucination.extract_claims`; its module docstring lists what it misses). Two rates are measured separately, each over **all** prompts, so that the two settings are compared on the same prompts whatever they wrote:
#
# - `claim_rate`: prompts whose continuation makes at least one claim / all prompts;
# - `contradiction_rate`: prompts whose continuation makes at least one claim the world contradicts / all prompts.
#
# Beside them, `contradicted_per_claim` is contradicted claims / all claims, the complement of FActScore's precision (Min et al., 2023), with the world as the knowledge source: a rate *among claims*, whose denominator each setting chooses by what it writes. All with exact Clopper–Pearson intervals.

# %%
prompts = [template.format(name=person.name) for template in CLAIM_TEMPLATES for person in world.people]
claim_gens = generate(bundle, prompts, SYSTEMS, max_new_tokens=CLAIM_TOKENS, seed=SEED, batch_size=32)
print(len(prompts), "prompts; first:", repr(prompts[0]))

# %% [markdown]
# Each prompt is checked with its continuation (`hallucination_rate`), so a claim the prompt starts ("Hrovald lives in") and the model completes counts. Per prompt: did the text make a claim, and a contradicted one (1.0 or 0.0, defined for every prompt, so the paired tests below keep them all)?

# %%
rows, by_count_rows, hall_items, claim_frames = [], [], [], []
for name, g in claim_gens.groupby("config", sort=False):
    g = g.sort_values("prompt_id")
    r = hallucination_rate([prompts[i] + t for i, t in zip(g["prompt_id"], g["text"], strict=True)], world)
    per = r.per_text.rename(columns={"text_id": "prompt_id"})
    per = per.assign(claimed=(per["n_claims"] > 0).astype(float), contradicted=(per["n_contradicted"] > 0).astype(float))
    row = {"system": name, "n_prompts": len(g)}
    for column, k_name, flag in (("claim_rate", "k_claimed", "claimed"),
                                 ("contradiction_rate", "k_contradicted", "contradicted")):
        ci = exact_binomial_ci(int(per[flag].sum()), len(g))  # over ALL prompts
        row |= {k_name: ci.k, column: ci.estimate, f"{column}_low": ci.low, f"{column}_high": ci.high}
    ci = exact_binomial_ci(r.n_contradicted, r.n_claims) if r.n_claims else None  # among claims
    row |= {"n_claims": r.n_claims, "k_contradicted_claims": r.n_contradicted, "contradicted_per_claim": r.overall,
            "contradicted_per_claim_low": ci.low if ci else np.nan,
            "contradicted_per_claim_high": ci.high if ci else np.nan}
    rows.append(row)
    by_count_rows.append(r.by_count.assign(system=name))
    hall_items.append(per.drop(columns="rate").assign(system=name))
    claim_frames.append(r.claims.assign(system=name))
hall_table = pd.DataFrame(rows).set_index("system")
hall_items = pd.concat(hall_items, ignore_index=True)
claims = pd.concat(claim_frames, ignore_index=True)
record("hallucinations", hall_table.round(3))

# %% [markdown]
# Every prompt counts in both rates, and the per-claim rate is the share of contradicted claims among all claims found:

# %%
assert (hall_items.groupby("system").size() == len(prompts)).all()
assert np.allclose(hall_items.groupby("system", sort=False)["contradicted"].mean(), hall_table["contradiction_rate"])
assert (claims.groupby("system", sort=False).size() == hall_table["n_claims"]).all()
assert np.allclose((~claims["supported"]).groupby(claims["system"], sort=False).mean(),
                   hall_table["contradicted_per_claim"])

# %%
record("hallucinations_by_count_figure", plot_rate_by_count(pd.concat(by_count_rows, ignore_index=True), "rate", series="system",
                   yaxis_title="contradicted share of claims (95% exact interval)",
                   title="Contradicted claims among claims, by how often the fact was seen"))

# %% [markdown]
# What the claims are about, and the objects each setting names most often:

# %%
record("claim_relations", pd.DataFrame({"share of claims": claims.groupby("system")["relation"].value_counts(normalize=True).round(2),
              "claims": claims.groupby("system")["relation"].value_counts()}))

# %%
record("claimed_objects", claims.groupby("system")["claimed_object"].agg(lambda s: s.value_counts().head(5).to_dict()))

# %% [markdown]
# Some claims with the world's answer (model output, printed as plain text):

# %%
record("claims", claims[["system", "subject", "relation", "claimed_object", "true_object", "supported", "count"]].head(10))

# %% [markdown]
# ### Paired: do the two settings make claims, and contradicted claims, at different rates?
# Per prompt, over **every** prompt: did the continuation make a claim (1 or 0), and did it make a contradicted claim (1 or 0)? Keeping only the prompts where both settings made a claim would select on the outcome (a setting that rarely claims anything would be compared on its few, unusual prompts) and bias the paired comparison, so no prompt is dropped. The two tests form one family ("greedy vs nucleus, claims"), corrected with Holm.

# %%
facts_cmp = compare_systems_family(hall_items, [(a, b, "claimed"), (a, b, "contradicted")],
                                   family="greedy vs nucleus, claims", seed=SEED)
record("claims_paired", facts_cmp)

# %% tags=["keep_output", "nbval-check-output"]
t = hall_table
print("more than 30 claims found for each setting:", bool((t["n_claims"] > 30).all()))
print("most claims are contradicted (contradicted_per_claim > 0.5) for both:",
      bool((t["contradicted_per_claim"] > 0.5).all()))
print("every prompt is in both paired tests:", bool((facts_cmp["n"] == t["n_prompts"].iloc[0]).all()))
f = facts_cmp.set_index("metric")
for metric, rate in (("claimed", "claim_rate"), ("contradicted", "contradiction_rate")):
    found = bool(not (f.loc[metric, "difference_low"] <= 0 <= f.loc[metric, "difference_high"])
                 and f.loc[metric, "p_adjusted"] <= 0.05)
    print(f"{rate}: the settings differ (interval excludes 0, Holm p <= 0.05):", found,
          f"| higher: {t[rate].idxmax()}" if found else "")

# %% [markdown]
# At full size, the claim and contradiction rates over every prompt and the same paired family:

# %% tags=["full-size-results"]
full_size = committed_table("21", "hallucinations")
if full_size is not None:
    display(full_size)
    display(committed_table("21", "claims_paired"))

# %% [markdown]
# Both settings contradict the world in most of the claims they make, although notebook 02 shows the model ranks the true object first for almost every fact stated 64 or more times. Knowing a fact when asked in the form it was seen is not stating it when writing freely: the openings name every person, most of whose facts were stated rarely, and free text mixes in any object the grammar allows. Whether the two settings differ is read off the paired tests above, over all prompts: a setting can contradict the world less often per prompt simply because it claims less, which is why claim rate and contradiction rate are reported separately.

# %% [markdown]
# ## Limitations
# - **Small samples.** 32 prompts and a few hundred probes and claims keep CI fast. Intervals are wide; treat a difference as real only when its paired interval excludes zero and its Holm-adjusted p-value (within the family named beside each table) is at most 0.05. MAUVE with a few dozen texts per side is a demonstration, printed without an interval, and depends on the number of k-means buckets and on the feature space (shown above); Pillutla et al. use thousands of texts, and from 1,000 per side `degeneration_scores` switches to the authors' settings with an interval. Even the full-size run stays below that: the world's test split has only 514 documents long enough for a 25-word prompt and a 60-word human continuation, so its MAUVE is a demonstration too.
# - **Perplexity is not quality.** It rewards the model's own habits: greedy text is more likely under the model than the corpus's own continuations, yet far less diverse. Perplexity also depends on the tokenizer, so it cannot compare models with different vocabularies.
# - **The name-swap control is one baseline.** It measures what the model gets from a relation's commonest objects and the template alone; a model that knows the swapped person's own fact is counted wrong on the control, as it should be, but the control cannot separate template habits from partial knowledge.
# - **Cloze probes test recall of the training templates.** They do not test knowledge that transfers to new phrasings, reasoning over facts, or calibrated uncertainty. With `templates="all"` the three probes of a fact are not independent trials and the exact intervals are too narrow; the default uses one template per fact.
# - **The claim extractor matches templates.** Claims made with pronouns, possessives or paraphrases are missed, and negation is not understood; the rates cover only what it finds (a minority of the texts make a claim), so the claim rate and the claim count are printed beside the contradiction rates. An object that is not valid for its relation ("Hrovald likes shiny") counts as a contradiction. Claims about minor characters and invented names are not checked at all: inventing a person is not counted as a hallucination.
# - **Claims are not independent.** Each person is prompted with three openings, so several claims can concern the same person and fact; the exact intervals and the paired test treat them as independent and are too narrow.
# - **Not measured.** Human judgments of quality, factual errors outside the planted world (there is no real-world knowledge here), and whether errors are confident or hedged.
#
# ## Next
# The bias, safety and privacy notebooks reuse these probes against the world's planted associations and canaries.
