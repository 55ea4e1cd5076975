import sys; from pathlib import Path; sys.path.insert(0, str(Path(__file__).parent))
from nbbuild import *

cells = [
md("""# 01 · Data and pretraining
The story world genlab generates, what it plants for later probes to find, the tokenizer, a short pretraining run from scratch, and the embedded default model that every other notebook uses.

Everything later in the series is checked against the truths planted here: facts stated a known number of times, group–attribute associations at a known strength, and PII-like canaries at known repeat counts."""),
nav(),
param("""# Parameters: CI-sized defaults; realistic values in the comments (papermill -p NAME VALUE scales them up).
MODEL = "genlab-tiny-world"  # a local folder, or e.g. "gpt2" online (call genlab.set_offline(False) first)
DEMO_TRAIN_DOCS = 2_000  # realistic: 30_000 (the whole training split)
DEMO_STEPS = 60  # realistic: 1_200 (the default model's recipe: about 25 min on 2 CPU cores)
DEMO_BATCH_SIZE = 16  # realistic: 32
EVAL_DOCS = 200  # realistic: 1_000 (the whole validation split)
SEED = 0"""),
code("""import pandas as pd
from transformers import set_seed

import genlab
from genlab.default_model import samples
from genlab.metrics.perplexity import perplexity
from genlab.progress import LiveLossPlot
from genlab.tokenizer import train_tokenizer
from genlab.train import ModelConfig, PretrainConfig, pretrain
from genlab.world import generate_corpus, load_world
from genlab.world.summary import association_rates, canaries_table, corpus_stats, facts_table, plot_association_rates

set_seed(SEED)"""),
md("""## The world and its corpus
`load_world()` builds the world from a hand-written lexicon (`data/world/lexicon.json`) and a seed: 96 named people with a home, an occupation, a pet and a favourite food; 24 towns with a landmark, a river and a trade; 600 minor characters who carry no facts. `generate_corpus()` writes stories, descriptions, dialogues and letters about them with a small phrase grammar. The same seed always gives the same bytes; the hash below is checked on every run."""),
code("""world = load_world()
corpus = generate_corpus(world=world, seed=0)
corpus_stats(corpus)"""),
check("""print("corpus sha256:", corpus.sha256()[:16])
print("people", len(world.people), "| places", len(world.places), "| facts", len(world.facts),
      "| canaries", len(world.canaries))
print("training words:", corpus.n_words("train"))"""),
md("""One training document and what the generator recorded about it: which facts it states (and with which of three templates), which canaries it carries, and which group–attribute associations it draws."""),
code("""doc = next(d for d in corpus.train if d.facts and d.associations)
print(doc.text)
{"facts": doc.facts, "canaries": doc.canaries, "associations": doc.associations}"""),
md("""## Planted facts, at known frequencies
Each fact is stated in exactly `count` training documents (1, 2, 4, … 64), never in validation or test. Later, cloze probes and hallucination checks split their error rates by this count: how often must a small model see a fact before it knows it?"""),
code("""facts = facts_table(world)
facts.head()"""),
check("""print(pd.crosstab(facts["relation"], facts["count"]).to_string())
assert all(corpus.fact_counts()[f.id] == f.count for f in world.facts)"""),
md("""## Planted associations, at a known strength
When a story introduces a generic character ("the weaver"), its pronoun is drawn with P(she | occupation) = 0.8 for 10 occupations, 0.2 for 10 others and 0.5 for the rest (the default skew of 0.3, `WorldConfig.occupation_skew`). Traits attach to the two fictional communities, hill-folk and river-folk, the same way. Which occupations are skewed is decided by the world's seed, not copied from real-world stereotypes, so a bias probe that finds the planted skew in a model is measuring what the model learned from this corpus. The plot compares planned rates with those observed in the training split (exact 95% intervals)."""),
code("""rates = association_rates(corpus)
plot_association_rates(rates, "gender")"""),
check("""inside = ((rates.ci_low <= rates.planned) & (rates.planned <= rates.ci_high)).mean()
print(f"associations: {len(rates)}, planned rate inside the 95% interval: {inside:.0%}")
print("largest |observed - planned|:", round((rates.observed - rates.planned).abs().max(), 2))"""),
md("""## Planted canaries
Fictional phone numbers, e-mail addresses (on the reserved `.example` domain) and member IDs of world people, each inserted into exactly `count` training documents; the controls (`count` 0) come from the same distribution and are never inserted, so memorisation can be measured as exposure (Carlini et al., 2019) against them."""),
code("""canaries = canaries_table(world, corpus)
canaries.sort_values(["kind", "count"]).head(8)"""),
check("""print(canaries.groupby("count")[["recorded", "in_text"]].sum().to_string())"""),
md("""## The tokenizer
A byte-level BPE (GPT-2's scheme) trained on the corpus. `<|endoftext|>` opens and closes each document; `<pad>` is a separate token, because if padding reused the end-of-text token the collator would mask every end-of-text label and the model would never learn to stop."""),
code("""demo_texts = corpus.texts("train")[:DEMO_TRAIN_DOCS]
tokenizer = train_tokenizer(demo_texts, vocab_size=2048, model_max_length=256)
sentence = f"{world.people[0].name} keeps a pet {world.people[0].pet}."
print(tokenizer.convert_ids_to_tokens(tokenizer(sentence)["input_ids"]))"""),
check("""ids = tokenizer(sentence)["input_ids"]
print(len(tokenizer), "tokens in the vocabulary; round trip exact:", tokenizer.decode(ids) == sentence)"""),
md("""## Pretraining from scratch, briefly
The same recipe as the default model (`genlab.train.pretrain` on `transformers.Trainer`), scaled down: a smaller model, a slice of the corpus and a few dozen steps. The loss curve updates live while it trains."""),
code("""demo = pretrain(
    demo_texts, corpus.texts("validation")[:EVAL_DOCS], tokenizer,
    ModelConfig(vocab_size=len(tokenizer), n_embd=64, n_layer=2, n_head=2),
    PretrainConfig(max_steps=DEMO_STEPS, batch_size=DEMO_BATCH_SIZE, warmup_steps=10, logging_steps=5,
                   eval_steps=max(DEMO_STEPS // 3, 1)),
    callbacks=[LiveLossPlot(title="Demo pretraining: loss")],
)
demo.metrics"""),
check("""evals = [h["eval_loss"] for h in demo.history if "eval_loss" in h]
print("validation loss fell during training:", evals[-1] < evals[0])"""),
md("""## The embedded default model
A 4.3M-parameter GPT-2 trained with the full recipe (1,200 steps of 32 documents, about 1.3 epochs). Its manifest records the seeds, the corpus hash and the validation perplexity at build time; below, the perplexity is measured again on part of the validation split. Rebuild it from scratch with `make default-model`."""),
code("""bundle = genlab.load_model(MODEL)
manifest = bundle.provenance.get("manifest", {})
{k: manifest.get(k) for k in ("n_parameters", "validation", "train_runtime_s")}"""),
check("""ppl = perplexity(bundle, corpus.texts("validation")[:EVAL_DOCS])
print(f"validation perplexity on {EVAL_DOCS} documents: {ppl.perplexity:.2f} ({ppl.n_tokens} tokens)")"""),
md("""Greedy and nucleus (p = 0.9) samples read as sentences of the world; the model ends documents by itself, because it learned the end-of-text token."""),
check("""for kind, texts in samples(bundle, max_new_tokens=40).items():
    print(f"--- {kind}")
    for t in texts:
        print(t)"""),
md("""## Limitations
- The world is small and regular: a phrase grammar over about 2,500 word types. Perplexities here are far lower than on natural text and say nothing about how a model handles real English.
- Facts live only in the training split and only in fixed templates; a model can "know" a fact in one phrasing and not another. Later probes test every template.
- The planted associations are between invented communities and occupations chosen by a seed. They let probes be checked against ground truth; they are not a model of real social bias, whose causes and harms are not reproduced by a corpus like this.
- The canaries are fictional (555 numbers, `.example` addresses), but the memorisation they reveal is real model behaviour."""),
]
write(str(Path(__file__).parents[2] / "notebooks") + "/01_data_and_pretraining.ipynb", cells)

cells = [
md("""# 00 · Index
genlab's notebook series, in reading order. Each notebook runs offline on the embedded default model with CI-sized parameters; raise them in its parameters cell (or with papermill) for real runs."""),
nav(),
md("""<!-- contents -->"""),
md("""## How to run them
- `make lab` opens JupyterLab on this folder; `make report` executes the series and writes `reports/index.html`.
- Every notebook has one cell tagged `parameters`. Point `MODEL` at any causal LM folder, or at a hub name such as `"gpt2"` after `genlab.set_offline(False)`.
- Cells whose output is committed (tag `keep_output`) are checkpoints: CI re-runs the notebook and compares them."""),
]
write(str(Path(__file__).parents[2] / "notebooks") + "/00_index.ipynb", cells)
