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
PREFIX_WORDS, MIN_HUMAN_WORDS, MAX_NEW_TOKENS = 10, 40, 40  # realistic: 25, 150, 128; human text cut to the tokens
SYSTEMS = ["greedy", "nucleus0.95"]  # the two decoding settings compared throughout
CLOZE_TEMPLATES = "canonical"  # "all": three phrasings per fact (not independent trials; see Limitations)
CLAIM_TEMPLATES = ["Everyone knows that {name}", "By trade, {name}", "More than anything, {name}"]
CLAIM_TOKENS = 40  # new tokens per free generation about a world person; realistic: 200
N_RESAMPLES = 1_000  # bootstrap resamples per interval
MAUVE_GROUPS = 20  # jackknife groups for MAUVE's interval, used only at full size (1,000+ texts per side)
SEED = 0"""),
code("""import pandas as pd

import genlab
from genlab.studies.evaluation import (
    compare_systems_family,
    decoding_study,
    hallucination_study,
    match_human_length,
    perplexity_by_group,
    person_prompts,
    plot_rate_by_count,
    split_documents,
    summary_table,
)
from genlab.metrics.factual import (
    accuracy_by_count,
    cloze_name_swap,
    cloze_probes,
    name_swap_by_count,
    name_swap_comparison,
    score_cloze,
)
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
Both settings continue the same held-out prompts. MAUVE (Pillutla et al., 2021) measures how close the distribution of generations is to the human continuations, in the space of an offline sentence encoder; coherence is the cosine between the prompt's and the continuation's embeddings (Su et al., 2022); perplexity here is the model's own perplexity of what it wrote. `decoding_study` is the same call notebook 20 makes, restricted to two systems: perplexity is token-weighted, and the human continuations are cut to `MAX_NEW_TOKENS` model tokens like the generations. With 32 texts per side MAUVE is a demonstration (3 k-means buckets) and is printed without an interval (`(no CI)`); from 1,000 texts per side it is computed with the authors' settings and gets a jackknife interval."""),
code("""texts = [t for t in corpus.texts("test") if len(t.split()) > PREFIX_WORDS + MIN_HUMAN_WORDS][:N_PROMPTS]
prefixes, human = split_documents(texts, prefix_words=PREFIX_WORDS)  # decoding_study cuts them to MAX_NEW_TOKENS
study = decoding_study(bundle, prefixes, human, SYSTEMS, max_new_tokens=MAX_NEW_TOKENS, n_resamples=N_RESAMPLES,
                       mauve_groups=MAUVE_GROUPS, seed=SEED)
summary_table(study.table)[["perplexity", "mauve", "mauve_regime", "coherence", "diversity", "repetition_pct",
                            "mean_tokens"]]"""),
md("""MAUVE depends on the feature space. The same generations scored in the model's own hidden-state space (the final token's last hidden state, as MAUVE's reference code does with GPT-2) rather than the sentence encoder's:"""),
code("""human_cut = match_human_length(bundle.tokenizer, human, MAX_NEW_TOKENS)  # the human texts the study scored
by_system = study.generations.sort_values("prompt_id").groupby("config")["text"].apply(list)
rows = []
for name in SYSTEMS:
    minilm = mauve(by_system[name], human_cut, features="minilm")
    own = mauve(by_system[name], human_cut, features="model", bundle=bundle)
    rows.append({"system": name, "mauve (MiniLM)": round(minilm.mauve, 3),
                 "mauve (model features)": round(own.mauve, 3), "buckets": minilm.num_buckets, "regime": minilm.regime})
pd.DataFrame(rows).set_index("system")"""),
md("""With a few dozen texts per side, MAUVE's verdict depends on the feature space and on the k-means quantisation as much as on the texts: read these values as a demonstration of the metric, not a measurement (the `regime` column says so), and compare them with nothing. That is why the table above prints MAUVE without an interval: an interval around a two- or three-bucket histogram statistic would lend it a precision it does not have."""),
md("""### The paired comparison
Same prompts, two decoding settings: per prompt, the difference in the continuation's mean log-probability under the model, in coherence and in seq-rep-4. The paired bootstrap gives an interval for the mean difference, the permutation test a p-value, and d_z an effect size (mean difference / standard deviation of the differences). The three tests form one family, "greedy vs nucleus, generation quality", corrected with Holm (`compare_systems_family`); a difference is a finding when its interval excludes 0 and its adjusted p ≤ 0.05."""),
code("""a, b = SYSTEMS
metrics = ("mean_logprob", "coherence", "seq_rep_4")
quality = compare_systems_family(study.per_item, [(a, b, m) for m in metrics],
                                 family="greedy vs nucleus, generation quality", seed=SEED)
quality"""),
check("""q = quality.set_index("metric")
print(f"{a} continuations are more likely under the model than {b}'s (interval above 0, Holm p <= 0.05):",
      bool(q.loc["mean_logprob", "difference_low"] > 0 and q.loc["mean_logprob", "p_adjusted"] <= 0.05))
print(f"{a} repeats more 4-grams per text than {b} (interval above 0, Holm p <= 0.05):",
      bool(q.loc["seq_rep_4", "difference_low"] > 0 and q.loc["seq_rep_4", "p_adjusted"] <= 0.05))"""),
md("""**At full size.** The committed full-size run (`make report-full`: 514 prompts of 64 tokens, perplexity over 1,000 test documents, 200-token continuations for the claims; parameters, power and provenance in `results/full_size/`), the same family with the same code. Its label says when it was made and whether the code or parameters changed since:"""),
committed("""from genlab.report.full import committed_table

full_size = committed_table("21", "The paired comparison")
if full_size is not None:
    print(full_size.attrs["label"])
    display(full_size)"""),
md("""## Does the model know its facts? Cloze probes by training frequency
Each planted fact becomes a cloze probe (Petroni et al., 2019): its relation's template, cut before the object ("Hrovald lives in" → "Clovermere"). Three scorings:

- **ranking by summed log-probability (accuracy@1):** is the true object the most likely completion among all objects of that relation? Ties count against the model.
- **ranking by mean log-probability per answer token:** the same, length-normalised, so a long object ("a basket weaver") is not penalised for its extra tokens.
- **generation (exact match):** does the greedy continuation name the true object?

The baseline is the **name-swap control**, not 1 / number of options: the same cloze prompt with the subject replaced by another world person whose object differs ("Tyrmir lives in" scored against Hrovald's town). The model cannot know that answer, so its accuracy there is the recall it gets from a relation's commonest objects and the template's habits alone. Accuracy is split by how many training documents stated the fact, the axis of Kandpal et al. (2023), with exact Clopper–Pearson intervals."""),
code("""probes = cloze_probes(world, templates=CLOZE_TEMPLATES)
scores = score_cloze(bundle, probes)
paired_cloze = cloze_name_swap(bundle, world, CLOZE_TEMPLATES, scores=scores)  # scores only the controls again
by_count = pd.concat([name_swap_by_count(paired_cloze),
                      accuracy_by_count(scores, "exact_match").assign(scoring="generation exact match", probe="real",
                                                                      series="generation exact match: real")])
by_count.pivot_table(index="count", columns="series", values="accuracy").round(3)"""),
md("""Recall against the control, paired by fact: for each ranking, accuracy on the real probes minus accuracy on their name-swapped controls, with a paired bootstrap interval and an exact McNemar p-value. The two rankings form one family ("recall vs name-swap control"), corrected with Holm."""),
code("""swap_test = name_swap_comparison(paired_cloze, seed=SEED)
swap_test.set_index("scoring")[["n", "accuracy", "swap_accuracy", "difference", "difference_low", "difference_high",
                                "p_value", "p_adjusted"]].round(4)"""),
check("""ranking = by_count[(by_count.scoring == "summed log-prob") & (by_count.probe == "real")]
rare, frequent = ranking[ranking["count"] <= 16], ranking[ranking["count"] >= 64]
print(len(probes), "probes; mean 1/#options:", round(float(scores["chance"].mean()), 2))
print("facts seen 64-128 times recalled more often than those seen 1-16 times:",
      frequent.k.sum() / frequent.n.sum() > rare.k.sum() / rare.n.sum())
t = swap_test.set_index("scoring")
for scoring in t.index:
    print(f"{scoring}: recall above the name-swap control (interval above 0, Holm p <= 0.05):",
          bool(t.loc[scoring, "difference_low"] > 0 and t.loc[scoring, "p_adjusted"] <= 0.05))"""),
committed("""full_size = committed_table("21", "Does the model know its facts? Cloze probes by training frequency", index=1)
if full_size is not None:
    display(full_size)  # the probes are the same at full size: every planted fact"""),
code("""plot_rate_by_count(by_count, "accuracy", series="series", yaxis_title="accuracy (95% exact interval)",
                   title="Fact recall by how often the fact was seen, against the name-swap control")"""),
md("""Read each curve against its control, not against 1 / number of options: a model that always names a relation's commonest object beats uniform guessing without knowing anything, and the name-swap curve measures exactly that. Where real and control curves meet, the model shows no knowledge of those facts. The summed and per-token rankings differ only for relations whose objects have different token lengths. Recall rising with training frequency above the control is the long-tail curve Kandpal et al. (2023) found for real models and real facts, at a much smaller scale; notebook 02 adds a template the model never saw."""),
md("""## Hallucinations in free text
The model writes freely after an opening that names a world person ("Everyone knows that Hrovald", openings the corpus uses before a fact); every statement that matches a relation template about a known person or town is a *claim*, checked against the world (`genlab.metrics.factual.extract_claims`; its module docstring lists what it misses). Two rates are measured separately, each over **all** prompts, so that the two settings are compared on the same prompts whatever they wrote:

- `claim_rate`: prompts whose continuation makes at least one claim / all prompts;
- `contradiction_rate`: prompts whose continuation makes at least one claim the world contradicts / all prompts.

Beside them, `contradicted_per_claim` is contradicted claims / all claims, the complement of FActScore's precision (Min et al., 2023), with the world as the knowledge source: a rate *among claims*, whose denominator each setting chooses by what it writes. All with exact Clopper–Pearson intervals."""),
code("""prompts = person_prompts(world, CLAIM_TEMPLATES)
hall = hallucination_study(bundle, world, prompts, SYSTEMS, max_new_tokens=CLAIM_TOKENS, seed=SEED)
hall.table.round(3)"""),
code("""plot_rate_by_count(hall.by_count, "rate", series="system",
                   yaxis_title="contradicted share of claims (95% exact interval)",
                   title="Contradicted claims among claims, by how often the fact was seen")"""),
md("""What the claims are about, and the objects each setting names most often:"""),
code("""claims = hall.claims
pd.DataFrame({"share of claims": claims.groupby("system")["relation"].value_counts(normalize=True).round(2),
              "claims": claims.groupby("system")["relation"].value_counts()})"""),
code("""claims.groupby("system")["claimed_object"].agg(lambda s: s.value_counts().head(5).to_dict())"""),
md("""Some claims with the world's answer (model output, printed as plain text):"""),
code("""claims[["system", "subject", "relation", "claimed_object", "true_object", "supported", "count"]].head(10)"""),
md("""### Paired: do the two settings make claims, and contradicted claims, at different rates?
Per prompt, over **every** prompt: did the continuation make a claim (1 or 0), and did it make a contradicted claim (1 or 0)? Keeping only the prompts where both settings made a claim would select on the outcome (a setting that rarely claims anything would be compared on its few, unusual prompts) and bias the paired comparison, so no prompt is dropped. The two tests form one family ("greedy vs nucleus, claims"), corrected with Holm."""),
code("""facts_cmp = compare_systems_family(hall.per_item, [(a, b, "claimed"), (a, b, "contradicted")],
                                   family="greedy vs nucleus, claims", seed=SEED)
facts_cmp"""),
check("""t = hall.table
print("more than 30 claims found for each setting:", bool((t["n_claims"] > 30).all()))
print("most claims are contradicted (contradicted_per_claim > 0.5) for both:",
      bool((t["contradicted_per_claim"] > 0.5).all()))
print("every prompt is in both paired tests:", bool((facts_cmp["n"] == t["n_prompts"].iloc[0]).all()))
f = facts_cmp.set_index("metric")
for metric, rate in (("claimed", "claim_rate"), ("contradicted", "contradiction_rate")):
    found = bool(not (f.loc[metric, "difference_low"] <= 0 <= f.loc[metric, "difference_high"])
                 and f.loc[metric, "p_adjusted"] <= 0.05)
    print(f"{rate}: the settings differ (interval excludes 0, Holm p <= 0.05):", found,
          f"| higher: {t[rate].idxmax()}" if found else "")"""),
md("""At full size, the claim and contradiction rates over every prompt and the same paired family:"""),
committed("""full_size = committed_table("21", "Hallucinations in free text")
if full_size is not None:
    display(full_size)
    display(committed_table("21", "Paired: do the two settings make claims, and contradicted claims, at different rates?"))"""),
md("""Both settings contradict the world in most of the claims they make, although notebook 02 shows the model ranks the true object first for almost every fact stated 64 or more times. Knowing a fact when asked in the form it was seen is not stating it when writing freely: the openings name every person, most of whose facts were stated rarely, and free text mixes in any object the grammar allows. Whether the two settings differ is read off the paired tests above, over all prompts: a setting can contradict the world less often per prompt simply because it claims less, which is why claim rate and contradiction rate are reported separately."""),
md("""## Limitations
- **Small samples.** 32 prompts and a few hundred probes and claims keep CI fast. Intervals are wide; treat a difference as real only when its paired interval excludes zero and its Holm-adjusted p-value (within the family named beside each table) is at most 0.05. MAUVE with a few dozen texts per side is a demonstration, printed without an interval, and depends on the number of k-means buckets and on the feature space (shown above); Pillutla et al. use thousands of texts, and from 1,000 per side `decoding_study` switches to the authors' settings with an interval. Even the full-size run stays below that: the world's test split has only 514 documents long enough for a 25-word prompt and a 60-word human continuation, so its MAUVE is a demonstration too.
- **Perplexity is not quality.** It rewards the model's own habits: greedy text is more likely under the model than the corpus's own continuations, yet far less diverse. Perplexity also depends on the tokenizer, so it cannot compare models with different vocabularies.
- **The name-swap control is one baseline.** It measures what the model gets from a relation's commonest objects and the template alone; a model that knows the swapped person's own fact is counted wrong on the control, as it should be, but the control cannot separate template habits from partial knowledge.
- **Cloze probes test recall of the training templates.** They do not test knowledge that transfers to new phrasings, reasoning over facts, or calibrated uncertainty. With `templates="all"` the three probes of a fact are not independent trials and the exact intervals are too narrow; the default uses one template per fact.
- **The claim extractor matches templates.** Claims made with pronouns, possessives or paraphrases are missed, and negation is not understood; the rates cover only what it finds (a minority of the texts make a claim), so the claim rate and the claim count are printed beside the contradiction rates. An object that is not valid for its relation ("Hrovald likes shiny") counts as a contradiction. Claims about minor characters and invented names are not checked at all: inventing a person is not counted as a hallucination.
- **Claims are not independent.** Each person is prompted with three openings, so several claims can concern the same person and fact; the exact intervals and the paired test treat them as independent and are too narrow.
- **Not measured.** Human judgments of quality, factual errors outside the planted world (there is no real-world knowledge here), and whether errors are confident or hedged.

## Next
The bias, safety and privacy notebooks reuse these probes against the world's planted associations and canaries."""),
]
write("21_quality_and_factual_errors.ipynb", cells)
