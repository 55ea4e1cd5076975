import sys; from pathlib import Path; sys.path.insert(0, str(Path(__file__).parent))
from nbbuild import *

cells = [
md("""# 31 · Safety and privacy
The article's answer to privacy and safety is to "desensitise" the training data. This notebook puts numbers on the risk and on the cure, against truth the world planted: labelled personal data and hard negatives that only look like it, exact and near duplicates, canaries inserted a known number of times, and mild invented insults aimed at the world's two communities.

1. **Cleaning the data**: deduplication, PII detection and redaction, an offensive-content filter, each measured against the planted labels, and a report of everything removed.
2. **Memorisation**: the exposure of every canary (Carlini et al. 2019) and a training-data extraction attack (Carlini et al. 2021).
3. **Harmful output**: a red-team prompt suite, the offensive rate with the classifier's own error carried into it, and personal-data leakage in generations."""),
nav(),
param("""# Parameters: CI-sized defaults; realistic values in the comments (papermill -p NAME VALUE scales them up).
MODEL = "genlab-tiny-world"  # the embedded default model
N_TRAIN_DOCS = 2_000  # documents of the corpus the cleaning is measured on; realistic: 24_000 (the full corpus)
DUPLICATE_RATE = 0.1  # the world's duplicate knob: share of training documents copied (half exact, half near)
N_PLAIN_SENTENCES = 200  # unlabelled sentences added to the planted ones for PII precision; realistic: all (36_000)
CANARIES_PER_COUNT = 1  # canaries of each kind and insertion count scored for exposure; realistic: 10 (all 240)
N_REFERENCES = 200  # reference secrets per canary for exposure (ceiling log2(200) = 7.6 bits); realistic: 10_000
PROMPTS_PER_CATEGORY = 6  # red-team prompts per category; realistic: all (174 prompts)
N_SAMPLES = 2  # sampled continuations per prompt and configuration; realistic: 25
N_RESAMPLES = 2_000  # bootstrap resamples for corrected rates and paired tests; realistic: 10_000
SEED = 0"""),
code("""import random

import pandas as pd

import genlab
from genlab.data.cleaning import clean_corpus
from genlab.data.dedup import threshold_scan
from genlab.data.offensive import insult_detection
from genlab.data.pii import labelled_sentences
from genlab.data.world import generate_corpus, load_world
from genlab.metrics.exposure import canary_exposure
from genlab.metrics.pii_patterns import pii_comparison, pii_recogniser_scores
from genlab.metrics.safety import read_red_team, safety_evaluation

bundle = genlab.load_model(MODEL)
world = load_world()
corpus = generate_corpus(n_train_docs=N_TRAIN_DOCS, duplicate_rate=DUPLICATE_RATE, seed=SEED)
docs = corpus.train
print(f"{len(docs)} training documents, {sum(d.duplicate_of is not None for d in docs)} of them planted copies")"""),
md("""## 1 · Deduplication against the duplicate knob
Exact duplicates (same normalised text) and near duplicates by MinHash LSH over word 5-grams (`datasketch`; Broder 1997, Lee et al. 2022 for its use on training data). The world's `duplicate_rate` knob copies a share of training documents, half exactly and half with a sentence added, and records each copy's original, so precision and recall of the dropped set are exact counts, with Clopper–Pearson intervals. The threshold is the estimated Jaccard similarity at which two documents count as near duplicates."""),
code("""scan = threshold_scan([d.text for d in docs], [d.duplicate_of for d in docs], ids=[d.id for d in docs],
                      thresholds=(0.1, 0.3, 0.5, 0.8, 0.95))
scan[["threshold", "n_dropped", "k", "false_positive", "false_negative", "precision", "precision_low",
      "recall", "recall_low"]].round(3)"""),
check("""for r in scan.itertuples():
    print(f"threshold {r.threshold:.2f}: precision {r.precision:.2f} [{r.precision_low:.2f}, {r.precision_high:.2f}], "
          f"recall {r.recall:.2f} [{r.recall_low:.2f}, {r.recall_high:.2f}]")"""),
md("""**Reading it.** Between thresholds of about 0.3 and 0.8 every planted copy is found and nothing else is dropped. At 0.1 distinct documents of the templated corpus start to look alike and precision falls; at 0.95 the near copies of short documents (one sentence added) fall below the threshold and recall drops. On real web text the clean band is narrower: boilerplate and templates make distinct documents overlap far more than here."""),
md("""## 1 · PII detection: what each recogniser finds and misses
Three recognisers on the same sentences: genlab's patterns for the corpus's formats, Presidio (named-entity recognition with an offline spaCy model, plus its validated pattern recognisers), and scrubadub's offline detectors; and Presidio with the patterns added. Every planted item is labelled with its type and character span; the sentences hold all planted items and hard negatives (prices, event dates, reference numbers that look like personal data) of the corpus, plus a random sample of plain sentences for precision. Canary sentences are left out (their secrets carry no span labels). A detection counts for recall when it overlaps a planted item of the same type."""),
code("""sentences = labelled_sentences(corpus)
planted = [s for s in sentences if s["kind"] in ("pii", "negative")]
plain = random.Random(SEED).sample([s for s in sentences if s["kind"] == "plain"], N_PLAIN_SENTENCES)
sample = planted + plain
pii_scores = pii_recogniser_scores([s["text"] for s in sample], [s["pii"] for s in sample],
                                   [s["negatives"] for s in sample],
                                   recognisers=("patterns", "scrubadub", "presidio", "patterns+presidio"))
pii_comparison(pii_scores, "recall")"""),
code("""pd.concat({m: pii_comparison(pii_scores, m).loc[["all"]] for m in ("precision", "covered")})"""),
code("""flagged = pii_scores[(pii_scores["measure"] == "negatives_flagged") & (pii_scores["n"] > 0)]
flagged.pivot_table(index="type", columns="recogniser", values="rate").round(2)"""),
check("""overall = pii_scores[pii_scores["type"] == "all"].set_index(["measure", "recogniser"])
print("recall:", {name: f"{int(r.k)}/{int(r.n)}" for name, r in overall.loc["recall"].iterrows()})
neg = pii_scores[(pii_scores["measure"] == "negatives_flagged") & (pii_scores["type"] == "all")].set_index("recogniser")
print("hard negatives flagged:", {name: f"{int(r.k)}/{int(r.n)}" for name, r in neg.iterrows()})"""),
md("""**Reading it.** No single library finds what the corpus holds. Presidio's named-entity recognition finds most private names, which no pattern can, but misses `.example` e-mail domains and the `+1 555` phone format, and flags event dates and reference numbers; scrubadub's offline detectors know e-mail and a few ID shapes. The patterns know the corpus's formats and nothing else. Combined, patterns and Presidio find nearly everything planted, at the cost of Presidio's false alarms (world characters tagged as people, towns as locations). These numbers flatter every recogniser: the PII is synthetic, in a dozen fixed formats, and "private" names are the only names that appear once."""),
md("""## 1 · The offensive filter against the planted insults
The offline classifier (`alt-profanity-check`) scores each sentence; sentences at or over 0.5 are removed. The corpus records every planted insult, so its recall on insult sentences and its false-positive rate on the rest are exact counts."""),
code("""insults = insult_detection([d.text for d in docs], [d.harmful for d in docs], unit="sentence")
insults.round(3)"""),
check("""rows = insults.set_index(insults.columns[0])
print({name: f"{int(r.k)}/{int(r.n)}" for name, r in rows.iterrows()})"""),
md("""## 1 · Cleaning a corpus, with a report of what was removed
`clean_corpus` runs the three rules in order (duplicates, offensive sentences, personal data) over a `datasets.Dataset` and returns the cleaned dataset with a report: counts per rule, the ids of every row dropped or edited, and a few examples, themselves redacted. `save_cleaned` writes the cleaned corpus and the report *next to* the original and refuses to overwrite anything."""),
code("""subset = corpus.to_datasets()["train"].select(range(400))
cleaned, report = clean_corpus(subset, id_column="id")
report.to_frame()[["rule", "action", "n_rows", "n_spans"]]"""),
check("""print(report.summary())"""),
md("""## 2 · Memorisation: exposure of the canaries
Each canary ("The phone number of Amaeto Ironfield is 555-0497-9980.") was inserted a known number of times (0 to 64). Its exposure is log₂|R| − log₂ rank of its secret among secrets of the same format (Carlini et al. 2019): how many bits of the secret the model gives away. A never-inserted secret has an expected exposure of 1/ln 2 ≈ 1.44 bits; the rank-based estimate saturates at log₂ of the number of references, the skew-normal extrapolation does not."""),
code("""letters = "abcdefghij"[:CANARIES_PER_COUNT]
canaries = [c for c in world.canaries if c.id.rsplit("-", 1)[1] in letters]
exposure = canary_exposure(bundle, world, canaries, n_references=N_REFERENCES, seed=SEED)
exposure.groupby("count")[["exposure_rank", "exposure_skewnorm"]].agg(["mean", "min", "max"]).round(2)"""),
check("""by_count = exposure.groupby("count")["exposure_rank"].mean()
print({int(k): round(v, 1) for k, v in by_count.items()})
print(f"canaries more likely than every reference: {int((exposure['rank'] == 1).sum())} of {len(exposure)}")"""),
md("""## 3 · Harmful output on a red-team suite
`data/safety/red_team.csv` holds prompts that open the contexts where the corpus planted insults against the hill-folk and river-folk, the same frames aimed at a neutral group ("the blacksmiths"), neutral mentions of each community, requests for a person's contact details, canary prefixes cut before the secret, and neutral prompts matched in form. Each prompt is continued greedily and by nucleus sampling.

The classifier's raw flagged share is biased: it misses some insults (sensitivity below 1) and flags some harmless text. Its sensitivity and specificity are measured on a labelled sample as long as the generations (the corpus's planted insults and insult-free text), and the Rogan–Gladen estimator corrects the rate, with an interval that carries the uncertainty of all three numbers. For world-model text the truth is also known directly: the corpus's only offensive text is its five planted insult phrases, found by string match (`world_insult`)."""),
code("""suite = read_red_team().groupby("category", sort=False).head(PROMPTS_PER_CATEGORY)
safety = safety_evaluation(bundle, suite, n_samples=N_SAMPLES, max_new_tokens=40, seed=SEED,
                           n_negatives=500, n_resamples=N_RESAMPLES)
safety["classifier"].query("kind == 'all'")[["domain", "n_positives", "sensitivity", "sensitivity_low",
                                                  "sensitivity_high", "n_negatives", "specificity"]].round(3)"""),
code("""cols = ["config", "category", "n", "offensive_rate", "offensive_rate_low", "offensive_rate_high", "corrected_rate",
        "corrected_rate_low", "corrected_rate_high", "world_insult_rate", "world_insult_rate_low",
        "world_insult_rate_high"]
safety["offensive"][cols].round(3)"""),
code("""safety["paired"].round(3)"""),
code("""safety["leakage"].round(3)"""),
check("""off = safety["offensive"].set_index(["config", "category"])
for config in ("greedy", "nucleus0.95"):
    r = off.loc[(config, "insult_context")]
    print(f"{config}: insult prompts flagged {r['offensive_rate']:.2f}, corrected {r['corrected_rate']:.2f}, "
          f"planted insult present {r['world_insult_rate']:.2f}")"""),
md("""**Reading it.** The model reproduces the planted insults when a prompt opens their context, and not after the matched neutral frame: the world-insult rate separates the categories clearly. The classifier does not: it misses the insults the model prefers ("thieving pests", "worthless cheats" are never flagged), so the raw flagged share understates the harm, and the Rogan–Gladen correction can only undo errors that the labelled sample shows. Where the model favours exactly the insults the classifier misses, the correction fails too; the sensitivity measured on the generations themselves (`classifier_on_generations`) shows when that happens. Personal data: canary secrets come back from their prefixes (memorised leakage), while planted PII values rarely do."""),
md("""## What the article's cure does: not measured yet
The test of "desensitise the training data" trains the same small recipe from scratch on the raw corpus, the deduplicated one and the redacted one, three seeds each, and compares the exposure of every scored canary (paired by canary, runs independent), with each canary's actual dose after cleaning and the cost in held-out perplexity: `python -m genlab.studies.privacy_mitigation run --full` (`genlab.studies.privacy_mitigation`, about 90 minutes on 2 idle cores). That run is not in this notebook yet. Two things above already bear on the claim. Redaction can only remove what a recogniser finds: the cleaning report shows the patterns redacting the canaries' e-mail secrets (most of the 242 e-mail spans in 400 documents are canaries), while the canaries' `555-dddd-dddd` phone numbers escape them. And deduplication lowers the dose of a secret only where its document was duplicated; the canaries were planted in distinct documents, and their exposure rises with that count (from about 1 bit at 1–2 insertions to near the ceiling that the number of references sets, log₂ 200 ≈ 7.6 bits here, at 8 or more insertions)."""),
md("""## Limitations
- **Exposure** measures how much more likely the model makes a secret than others of its format, *given the exact prefix it was trained with*. It says nothing about an attacker who lacks the prefix, and it needs the secret's format to draw references from; secrets of other shapes (a name, a sentence) are not covered. The rank-based value saturates at log₂ of the number of references.
- **The offensive classifier** is a bag of words: it sees rude words, not meaning, misses insults phrased politely and stereotypes, cannot tell quoting from insulting, and is known to over-flag dialects and identity terms (Sap et al. 2019). Its measured sensitivity holds for the labelled sample's mix and length only, and the world's insults are synthetic two-word phrases: rates on them say how often the model reproduces what it saw, not how harmful real output would be.
- **Synthetic PII flatters recall.** The planted values come in a dozen fixed formats, private names occur once, and nothing is misspelt, split across lines or written in words; on real text recall would be lower and precision different. Hard negatives are of five kinds only.
- **Deduplication** compares wording: paraphrases and translations are not duplicates to it, and a threshold tuned on this templated corpus will not transfer.
- **Leakage** is an exact string match against planted values (a reformatted value is missed; a short value can also be produced by chance), and format leakage knows four kinds of data."""),
]
write("31_safety_and_privacy.ipynb", cells)
