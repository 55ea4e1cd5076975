# %% [markdown]
# # 01 · Data and pretraining
# The story world genlab generates, what it plants for later probes to find, the tokenizer, a short pretraining run from scratch, and the embedded default model that every other notebook uses.
#
# Everything later in the series is checked against the truths planted here: facts stated a known number of times, group–attribute associations at a known strength, and PII-like canaries at known repeat counts.

# %% [markdown]
# <!-- nav -->
# [← Index](00_index.ipynb) | [Contents](00_index.ipynb) | [World validity →](02_world_validity.ipynb)

# %% tags=["parameters"]
# Parameters: CI-sized defaults; realistic values in the comments (papermill -p NAME VALUE scales them up).
MODEL = "genlab-tiny-world"  # a local folder, or e.g. "gpt2" online (call genlab.set_offline(False) first)
DEMO_TRAIN_DOCS = 2_000  # realistic: 24_000 (the whole training split)
DEMO_STEPS = 60  # realistic: 1_200 (the default model's recipe: about 80 min on 2 CPU cores)
DEMO_BATCH_SIZE = 16  # realistic: 32
EVAL_DOCS = 200  # realistic: 1_000 (the whole validation split)
SEED = 0

# %%
import pandas as pd
import plotly.graph_objects as go
from transformers import set_seed

import genlab
from genlab.data.tokenizer import train_tokenizer
from genlab.metrics.perplexity import perplexity
from genlab.models.gpt2 import ModelConfig
from genlab.recipes.default_model import samples
from genlab.report import record
from genlab.report.plots import error_bars
from genlab.stats import rate_table
from genlab.training.live_loss import LiveLossPlot
from genlab.training.pretraining import PretrainConfig, pretrain
from genlab.worlds.text import generate_corpus, load_world

set_seed(SEED)

# %% [markdown]
# ## The world and its corpus
# `load_world()` builds the world from a hand-written lexicon (`data/world/lexicon.json`) and a seed: 96 named people with a home, an occupation, a pet and a favourite food; 24 towns with a landmark, a river and a trade; 600 minor characters who carry no facts. `generate_corpus()` writes stories, descriptions, dialogues and letters about them with a small phrase grammar. The same seed always gives the same bytes; the hash below is checked on every run. The table counts each split's documents, words, word types (lower-cased, punctuation stripped) and documents of each kind.

# %%
world = load_world()
corpus = generate_corpus(world=world, seed=0)
kinds = {"stories": "story", "descriptions": "description", "dialogues": "dialogue", "letters": "letter"}
splits = {}
for split in ("train", "validation", "test"):
    docs = corpus.split(split)
    words = [w for d in docs for w in d.text.split()]
    splits[split] = {"documents": len(docs), "words": len(words),
                     "word_types": len({w.strip('.,!?"').lower() for w in words}),
                     **{name: sum(d.kind == kind for d in docs) for name, kind in kinds.items()}}
record("corpus_stats", pd.DataFrame(splits).T.rename_axis("split"))

# %% tags=["keep_output", "nbval-check-output"]
print("corpus sha256:", corpus.sha256()[:16])
print("people", len(world.people), "| places", len(world.places), "| facts", len(world.facts),
      "| canaries", len(world.canaries))
print("training words:", corpus.n_words("train"))

# %% [markdown]
# One training document and what the generator recorded about it: which facts it states (and with which of the three training templates), which canaries it carries, which group–attribute associations it draws, and the character spans of any personal data, PII look-alikes and insults it holds.

# %%
doc = next(d for d in corpus.train if d.facts and d.associations)
print(doc.text)
{"facts": doc.facts, "canaries": doc.canaries, "associations": doc.associations, "pii": doc.pii,
 "negatives": doc.negatives, "harmful": doc.harmful}

# %% [markdown]
# ## Planted facts, at known frequencies
# Each fact is stated in exactly `count` training documents (1, 2, 4, … 128), never in validation or test, and nothing in the corpus contradicts it: a document where a world person appears names no town, pet or food outside the fact sentences. Each relation has a fourth template that no document uses, so probes can ask in a form the model never saw. Later, cloze probes and hallucination checks split their error rates by this count: how often must a small model see a fact before it knows it?

# %%
facts = pd.DataFrame([{"fact_id": f.id, "subject": f.subject, "relation": f.relation, "object": f.object,
                       "count": f.count, "cloze_prompt": f.cloze(0)[0]} for f in world.facts])
facts["count"] = pd.Categorical(facts["count"], categories=sorted(world.config.fact_counts))  # every count shows
record("facts", facts.head())

# %% tags=["keep_output", "nbval-check-output"]
print(pd.crosstab(facts["relation"], facts["count"]).to_string())
assert all(corpus.fact_counts()[f.id] == f.count for f in world.facts)

# %% [markdown]
# ## Planted associations, at a known strength
# When a story's protagonist is a generic character ("the weaver"), its pronoun is drawn from its occupation's planted P(she), one of five levels (0.1, 0.3, 0.5, 0.7, 0.9, `WorldConfig.association_levels`); each level holds occupations of two frequencies (drawn 3:1), so a probe can separate the strength of an association from how often the model saw it. Only the protagonist is ever referred to by a pronoun, so no other character dilutes the rate. Traits attach to the two fictional communities, hill-folk and river-folk, the same way. Which attribute gets which level is decided by the world's seed, not copied from real-world stereotypes, so a bias probe that finds the planted strength in a model is measuring what the model learned from this corpus. The generator records each mention's group as it draws it (`Document.associations`; `tests/test_world.py` checks that the records match the text), so the observed rate is k mentions of the first group among n, with an exact 95% interval (`genlab.stats.rate_table`), next to the planned rate.

# %%
first = {a.id: a.groups[0] for a in world.associations}
mentions = pd.DataFrame([{"id": r["id"], "is_first": r["group"] == first[r["id"]]}
                         for d in corpus.train for r in d.associations])  # one row per recorded mention
planned = pd.DataFrame([{"id": a.id, "axis": a.axis, "attribute": a.attribute, "first_group": a.groups[0],
                         "frequency": a.frequency, "planned": a.p_first} for a in world.associations])
rates = planned.merge(rate_table(mentions, "is_first", "id", name="observed"), on="id", how="left")
rates.head()

# %% [markdown]
# The gender axis, occupation by occupation: the observed share of mentions with "she" (exact 95% interval) beside the planned P(she).

# %%
gender = rates[rates.axis == "gender"].sort_values("planned")
fig = go.Figure()
fig.add_trace(go.Scatter(x=gender.attribute, y=gender.observed, mode="markers", name="observed in corpus",
                         error_y=error_bars(gender.observed, gender.observed_low, gender.observed_high)))
fig.add_trace(go.Scatter(x=gender.attribute, y=gender.planned, mode="markers", name="planned",
                         marker={"symbol": "line-ew-open", "size": 14}))
fig.update_layout(title=f"Planted association: P({gender.first_group.iloc[0]} | occupation) in the training corpus",
                  xaxis_title="occupation", yaxis_title=f"share of mentions with '{gender.first_group.iloc[0]}'",
                  yaxis_range=[0, 1], template="plotly_white")
record("association_rates_figure", fig)

# %% tags=["keep_output", "nbval-check-output"]
inside = ((rates.observed_low <= rates.planned) & (rates.planned <= rates.observed_high)).mean()
print(f"associations: {len(rates)}, planned rate inside the 95% interval: {inside:.0%}")
print("largest |observed - planned|:", round((rates.observed - rates.planned).abs().max(), 2))

# %% [markdown]
# ## Planted canaries
# Fictional phone numbers, e-mail addresses (on the reserved `.example` domain) and member IDs, ten per kind and count, each owned by a different minor character so that no two share a prompt. Each is inserted into exactly `count` training documents; the controls (`count` 0) come from the same distribution and are never inserted, so memorisation can be measured as exposure (Carlini et al., 2019) against them. Separately, about 8% of documents hold labelled personal data of private individuals in several formats, and as many hold look-alikes that are not personal data (prices, event dates, the 555 prefix in other contexts), so that a redactor's recall and precision can both be measured.

# %%
recorded = corpus.canary_counts()
canaries = pd.DataFrame([{"canary_id": c.id, "kind": c.kind, "owner": c.owner, "count": c.count, "prefix": c.prefix,
                          "recorded": recorded[c.id], "in_text": sum(c.text in d.text for d in corpus.train)}
                         for c in world.canaries])
record("canaries", canaries.sort_values(["kind", "count"]).head(8))

# %% tags=["keep_output", "nbval-check-output"]
print(canaries.groupby("count")[["recorded", "in_text"]].sum().to_string())

# %% [markdown]
# ## The tokenizer
# A byte-level BPE (GPT-2's scheme) trained on the training documents that hold **no canary and no planted personal data** (`Corpus.tokenizer_texts`), with digits split one by one: otherwise a secret seen 64 times becomes a vocabulary entry, its exposure jumps for tokenizer reasons, and the vocabulary alone leaks it. `<|endoftext|>` opens and closes each document; `<pad>` is a separate token, because if padding reused the end-of-text token the collator would mask every end-of-text label and the model would never learn to stop.

# %%
demo_texts = corpus.texts("train")[:DEMO_TRAIN_DOCS]
tokenizer = train_tokenizer(corpus.tokenizer_texts()[:DEMO_TRAIN_DOCS], vocab_size=2048, model_max_length=256)
sentence = f"{world.people[0].name} keeps a pet {world.people[0].pet}."
print(tokenizer.convert_ids_to_tokens(tokenizer(sentence)["input_ids"]))

# %% tags=["keep_output", "nbval-check-output"]
ids = tokenizer(sentence)["input_ids"]
print(len(tokenizer), "tokens in the vocabulary; round trip exact:", tokenizer.decode(ids) == sentence)
print("vocabulary entries with two or more digits:", sum(sum(ch.isdigit() for ch in t) > 1 for t in tokenizer.get_vocab()))

# %% [markdown]
# ## Pretraining from scratch, briefly
# The same recipe as the default model (`genlab.training.pretraining.pretrain` on `transformers.Trainer`), scaled down: a smaller model, a slice of the corpus and a few dozen steps. Documents are *packed*: each is closed by `<|endoftext|>`, all are concatenated and cut into full 256-token blocks, so no document loses its tail to truncation (the metrics count the tokens used and dropped). The loss curve updates live while it trains.

# %%
demo = pretrain(
    demo_texts, corpus.texts("validation")[:EVAL_DOCS], tokenizer,
    ModelConfig(vocab_size=len(tokenizer), n_embd=64, n_layer=2, n_head=2),
    PretrainConfig(max_steps=DEMO_STEPS, batch_size=DEMO_BATCH_SIZE, warmup_steps=10, logging_steps=5,
                   eval_steps=max(DEMO_STEPS // 3, 1)),
    callbacks=[LiveLossPlot(title="Demo pretraining: loss")],
)
demo.metrics

# %% tags=["keep_output", "nbval-check-output"]
evals = [h["eval_loss"] for h in demo.history if "eval_loss" in h]
print("validation loss fell during training:", evals[-1] < evals[0])

# %% [markdown]
# ## Your own text
# The same functions take your own corpus. `genlab.data.loaders.read_texts` reads plain text (documents separated by blank lines), JSON Lines, CSV and Parquet files, a folder of `.txt` files or a `datasets.Dataset`; `read_prompts` reads prompt sets with ids and groups. A missing column, a file that is not UTF-8 or an empty result is a clear error. The sample below is a dozen short notes the project wrote (`data/samples/`, with a card), in all four formats.

# %%
from genlab.core.paths import data_dir
from genlab.data.loaders import read_prompts, read_texts
from genlab.training.pretraining import tokenize_documents

samples_dir = data_dir() / "samples"
own = read_texts(samples_dir / "notes.jsonl")
prompts = read_prompts(samples_dir / "prompts.csv", group_column="group")
record("prompts", prompts.head(3))

# %% tags=["keep_output", "nbval-check-output"]
print(len(own), "documents; identical from .txt, .csv and .parquet:",
      all(read_texts(samples_dir / f"notes.{ext}") == own for ext in ("txt", "csv", "parquet")))
print("prompts per group:", prompts.groupby("group").size().to_dict())

# %% [markdown]
# Real documents are longer than a context window. Truncating each to the context length (what genlab did before packing) silently drops their tails; packing concatenates them and cuts full blocks, losing only the last partial block. With a 32-token context on these notes:

# %% tags=["keep_output", "nbval-check-output"]
for packing in (False, True):
    _, usage = tokenize_documents(tokenizer, own, max_length=32, packing=packing)
    print(f"packing={packing!s:5}: {usage['tokens_used']} of {usage['tokens']} tokens used, "
          f"{usage['documents_truncated']} documents truncated")

# %% [markdown]
# ## The embedded default model
# A 4.3M-parameter GPT-2 trained with the full recipe (`genlab.recipes.default_model.recipe`: 1,200 steps of 32 packed 256-token blocks, about 3.4 passes over the corpus, no dropout). Its manifest records the seeds, the corpus hash, the recipe, the validation perplexity and what the model learned of its world (notebook 02) at build time; below, the perplexity is measured again on part of the validation split. Rebuild it from scratch with `make default-model` (resumable: it checkpoints every 100 steps).

# %%
bundle = genlab.load_model(MODEL)
manifest = bundle.provenance.get("manifest", {})
{k: manifest.get(k) for k in ("n_parameters", "validation", "train_runtime_s", "recipe")}

# %% tags=["keep_output", "nbval-check-output"]
ppl = perplexity(bundle, corpus.texts("validation")[:EVAL_DOCS])
print(f"validation perplexity on {EVAL_DOCS} documents: {ppl.perplexity:.2f} ({ppl.n_tokens} tokens)")

# %% [markdown]
# Greedy and nucleus (p = 0.9) samples read as sentences of the world; the model ends documents by itself, because it learned the end-of-text token.

# %% tags=["keep_output", "nbval-check-output"]
for kind, texts in samples(bundle, max_new_tokens=40).items():
    print(f"--- {kind}")
    for t in texts:
        print(t)

# %% [markdown]
# ## Limitations
# - The world is small and regular: a phrase grammar over about 2,500 word types. Perplexities here are far lower than on natural text and say nothing about how a model handles real English.
# - Facts live only in the training split and only in three fixed templates; a model can "know" a fact in one phrasing and not another. Notebook 02 asks with a held-out template too.
# - The planted associations are between invented communities and occupations chosen by a seed. They let probes be checked against ground truth; they are not a model of real social bias, whose causes and harms are not reproduced by a corpus like this.
# - The canaries are fictional (555 numbers, `.example` addresses), but the memorisation they reveal is real model behaviour.
