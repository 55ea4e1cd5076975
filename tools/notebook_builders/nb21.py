import sys; from pathlib import Path; sys.path.insert(0, str(Path(__file__).parent))
from nbbuild import *

cells = [
md("""# 21 · Quality and factual errors
How good is the default model's text, and how often is it wrong about its own world? Perplexity of held-out text with bootstrap intervals; MAUVE and coherence of generations; recall of planted facts by cloze probes; and the contradiction rate of free text, each split by how often the fact appeared in training.

The world is its own answer key: every fact was stated a known number of times (1 to 128), so "where does the model fail?" has an exact answer. The last sections compare two decoding settings on the same prompts with paired tests."""),
nav(),
param("""# Parameters: CI-sized defaults; realistic values in the comments (papermill -p NAME VALUE scales them up).
MODEL = "genlab-tiny-world"  # a local folder, or e.g. "gpt2" online (call genlab.set_offline(False) first)
PPL_DOCS = 200  # held-out test documents for perplexity; realistic: 1_000 (the whole test split)
N_PROMPTS = 32  # prompts for the generation-quality comparison; realistic: 1_000
PREFIX_WORDS, HUMAN_WORDS, MAX_NEW_TOKENS = 10, 30, 40  # realistic: 25, 100, 128
SYSTEMS = ["greedy", "nucleus0.95"]  # the two decoding settings compared throughout
CLOZE_TEMPLATES = "canonical"  # "all": three phrasings per fact (not independent trials; see Limitations)
CLAIM_TEMPLATES = ["Everyone knows that {name}", "By trade, {name}", "More than anything, {name}"]
CLAIM_TOKENS = 40  # new tokens per free generation about a world person; realistic: 200
N_RESAMPLES = 1_000  # bootstrap resamples per interval
MAUVE_GROUPS = 8  # jackknife groups for MAUVE's interval (each re-runs k-means); realistic: 20
SEED = 0"""),
code("""import pandas as pd

import genlab
from genlab.studies.evaluation import (
    compare_systems,
    decoding_study,
    hallucination_study,
    perplexity_by_group,
    person_prompts,
    plot_rate_by_count,
    split_documents,
    summary_table,
)
from genlab.metrics.factual import accuracy_by_count, cloze_probes, score_cloze
from genlab.metrics.mauve import mauve
from genlab.data.world import generate_corpus, load_world

bundle = genlab.load_model(MODEL)
world = load_world()
corpus = generate_corpus(world=world, seed=0)"""),
md("""## Perplexity of held-out text
Perplexity is exp(total negative log-likelihood / total tokens) over held-out test documents, scored with the model's full 256-token window (`genlab.metrics.perplexity`, checked against the strided loop of the Hugging Face guide). The interval comes from a bootstrap over documents that recomputes the token-weighted ratio on each resample. The split by document kind shows which genres the model has learnt best."""),
code("""docs = corpus.test[:PPL_DOCS]
ppl = perplexity_by_group(bundle, [d.text for d in docs], [d.kind for d in docs], n_resamples=N_RESAMPLES, seed=SEED)
ppl.round(2)"""),
check("""print(f"test perplexity {ppl.loc['all', 'perplexity']:.1f} over {ppl.loc['all', 'tokens']} tokens "
      f"of {ppl.loc['all', 'texts']} documents")
print("every kind's interval is narrower than 2:", bool(((ppl.perplexity_high - ppl.perplexity_low) < 2).all()))
print("lowest-perplexity kind:", ppl.drop(index="all")["perplexity"].idxmin())"""),
md("""Dialogues, the most formulaic kind of document (greetings, questions, stock replies), are the easiest to predict. The other kinds' intervals overlap; letters are rare (a handful of documents), so their interval is the widest, and a percentile bootstrap over so few documents is itself rough."""),
md("""## Quality of generated text: greedy vs nucleus sampling
Both settings continue the same held-out prompts. MAUVE (Pillutla et al., 2021) measures how close the distribution of generations is to the human continuations, in the space of an offline sentence encoder; coherence is the cosine between the prompt's and the continuation's embeddings (Su et al., 2022); perplexity here is the model's own perplexity of what it wrote. `decoding_study` is the same call notebook 20 makes, restricted to two systems."""),
code("""texts = [t for t in corpus.texts("test") if len(t.split()) > PREFIX_WORDS + HUMAN_WORDS][:N_PROMPTS]
prefixes, human = split_documents(texts, prefix_words=PREFIX_WORDS, continuation_words=HUMAN_WORDS)
study = decoding_study(bundle, prefixes, human, SYSTEMS, max_new_tokens=MAX_NEW_TOKENS, n_resamples=N_RESAMPLES,
                       mauve_groups=MAUVE_GROUPS, seed=SEED)
summary_table(study.table)[["perplexity", "mauve", "coherence", "diversity", "repetition_pct"]]"""),
md("""MAUVE depends on the feature space. The same generations scored in the model's own hidden-state space (the final token's last hidden state, as MAUVE's reference code does with GPT-2) rather than the sentence encoder's:"""),
code("""by_system = study.generations.sort_values("prompt_id").groupby("config")["text"].apply(list)
pd.DataFrame([{"system": name,
               "mauve (MiniLM)": mauve(by_system[name], human, features="minilm").mauve,
               "mauve (model features)": mauve(by_system[name], human, features="model", bundle=bundle).mauve}
              for name in SYSTEMS]).set_index("system").round(3)"""),
md("""With a few dozen texts per side, MAUVE's verdict depends on the feature space and on the k-means quantisation as much as on the texts: read these values as a demonstration of the metric, not a measurement. The jackknife intervals in the table above say the same."""),
md("""### The paired comparison
Same prompts, two decoding settings: per prompt, the difference in the continuation's mean log-probability under the model and in coherence. The paired bootstrap gives an interval for the mean difference, the permutation test a p-value, and d_z an effect size (mean difference / standard deviation of the differences)."""),
code("""a, b = SYSTEMS
metrics = ("mean_logprob", "coherence", "seq_rep_4")
quality = pd.DataFrame([compare_systems(study.per_item, a, b, m, seed=SEED) for m in metrics])
quality"""),
check("""q = quality.set_index("metric")
print(f"{a} continuations are more likely under the model than {b}'s (interval above 0):",
      q.loc["mean_logprob", "difference_low"] > 0)
print(f"{a} repeats more 4-grams per text than {b} (interval above 0):", q.loc["seq_rep_4", "difference_low"] > 0)"""),
md("""## Does the model know its facts? Cloze probes by training frequency
Each planted fact becomes a cloze probe (Petroni et al., 2019): its relation's template, cut before the object ("Hrovald lives in" → "Clovermere"). Two scorings:

- **ranking (accuracy@1):** is the true object the most likely completion among all objects of that relation? Ties count against the model. Chance is 1 / number of options.
- **generation (exact match):** does the greedy continuation name the true object?

Accuracy is then split by how many training documents stated the fact, the axis of Kandpal et al. (2023), with exact Clopper–Pearson intervals."""),
code("""probes = cloze_probes(world, templates=CLOZE_TEMPLATES)
scores = score_cloze(bundle, probes)
by_count = pd.concat([accuracy_by_count(scores, "correct").assign(scoring="ranking accuracy@1"),
                      accuracy_by_count(scores, "exact_match").assign(scoring="generation exact match")])
chance = scores.groupby("count")["chance"].mean().rename("chance")
by_count.merge(chance, on="count").round(3)"""),
check("""ranking = by_count[by_count.scoring.str.startswith("ranking")].merge(chance, on="count")
rare, frequent = ranking[ranking["count"] <= 16], ranking[ranking["count"] >= 64]
print(len(probes), "probes; mean chance accuracy:", round(float(scores["chance"].mean()), 2))
print("facts seen 64-128 times recalled more often than those seen 1-16 times:",
      frequent.k.sum() / frequent.n.sum() > rare.k.sum() / rare.n.sum())"""),
code("""plot_rate_by_count(by_count, "accuracy", series="scoring", yaxis_title="accuracy (95% exact interval)",
                   title="Fact recall by how often the fact was seen")"""),
md("""Read the curve against its floor: chance here is 1 / number of options, which a model that always names a relation's commonest object beats without knowing anything. Notebook 02 measures the same curve against a stronger baseline, the name-swap control (the same question about someone else), and with a template the model never saw. Recall rising with training frequency is the long-tail curve Kandpal et al. (2023) found for real models and real facts, at a much smaller scale; later probes that ask whether the model "knows" something must be read against it."""),
md("""## Hallucinations in free text
The model writes freely after an opening that names a world person ("Everyone knows that Hrovald", openings the corpus uses before a fact); every statement that matches a relation template about a known person or town is a *claim*, checked against the world (`genlab.metrics.factual.extract_claims`; its module docstring lists what it misses). The hallucination rate is contradicted claims / all claims, the complement of FActScore's precision (Min et al., 2023), with the world as the knowledge source."""),
code("""prompts = person_prompts(world, CLAIM_TEMPLATES)
hall = hallucination_study(bundle, world, prompts, SYSTEMS, max_new_tokens=CLAIM_TOKENS, seed=SEED)
hall.table.round(3)"""),
code("""plot_rate_by_count(hall.by_count, "rate", series="system", yaxis_title="hallucination rate (95% exact interval)",
                   title="Contradicted claims by how often the fact was seen")"""),
md("""What the claims are about, and the objects each setting names most often:"""),
code("""claims = hall.claims
pd.DataFrame({"share of claims": claims.groupby("system")["relation"].value_counts(normalize=True).round(2),
              "claims": claims.groupby("system")["relation"].value_counts()})"""),
code("""claims.groupby("system")["claimed_object"].agg(lambda s: s.value_counts().head(5).to_dict())"""),
md("""Some claims with the world's answer (model output, printed as plain text):"""),
code("""claims[["system", "subject", "relation", "claimed_object", "true_object", "supported", "count"]].head(10)"""),
md("""### Paired: do the two settings hallucinate at different rates?
Per prompt, the share of contradicted claims, for prompts where both settings made at least one claim."""),
code("""facts_cmp = compare_systems(hall.per_item, a, b, "rate", seed=SEED)
facts_cmp"""),
check("""t = hall.table
print("more than 30 claims found for each setting:", bool((t["n"] > 30).all()))
print("most claims are contradicted (rate > 0.5) for both:", bool((t["rate"] > 0.5).all()))
excludes = not (facts_cmp["difference_low"] <= 0 <= facts_cmp["difference_high"])
print("paired interval for the rate difference excludes 0:", excludes)
if excludes:
    print("lower hallucination rate:", t["rate"].idxmin())"""),
md("""Both settings contradict the world in most of the claims they make, although notebook 02 shows the model ranks the true object first for almost every fact stated 64 or more times. Knowing a fact when asked in the form it was seen is not stating it when writing freely: the openings name every person, most of whose facts were stated rarely, and free text mixes in any object the grammar allows. Whether the two settings differ is read off the paired interval above, the one procedure this section relies on; the prompts that draw a claim from both settings are few, so a difference needs to be large to show."""),
md("""## Limitations
- **Small samples.** 32 prompts and a few hundred probes and claims keep CI fast. Intervals are wide; treat a difference as real only when its paired interval excludes zero. MAUVE with a few dozen texts per side is noisy and depends on the number of k-means buckets and on the feature space (shown above); Pillutla et al. use thousands of texts.
- **Perplexity is not quality.** It rewards the model's own habits: greedy text is more likely under the model than the corpus's own continuations, yet far less diverse. Perplexity also depends on the tokenizer, so it cannot compare models with different vocabularies.
- **Cloze probes test recall of the training templates.** They do not test knowledge that transfers to new phrasings, reasoning over facts, or calibrated uncertainty. With `templates="all"` the three probes of a fact are not independent trials and the exact intervals are too narrow; the default uses one template per fact.
- **The claim extractor matches templates.** Claims made with pronouns, possessives or paraphrases are missed, and negation is not understood; the rate covers only what it finds (a minority of the texts make a claim), so the claim count is printed beside it. An object that is not valid for its relation ("Hrovald likes shiny") counts as a contradiction. Claims about minor characters and invented names are not checked at all: inventing a person is not counted as a hallucination.
- **Claims are not independent.** Each person is prompted with three openings, so several claims can concern the same person and fact; the exact intervals and the paired test treat them as independent and are too narrow.
- **Not measured.** Human judgments of quality, factual errors outside the planted world (there is no real-world knowledge here), and whether errors are confident or hedged.

## Next
The bias, safety and privacy notebooks reuse these probes against the world's planted associations and canaries."""),
]
write("21_quality_and_factual_errors.ipynb", cells)
