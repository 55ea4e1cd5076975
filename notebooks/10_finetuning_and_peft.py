# %% [markdown]
# # 10 · Fine-tuning and parameter-efficient methods
# Five ways to adapt the default model to a task (full fine-tuning, LoRA, IA3, prompt tuning and prefix tuning), run on the same data with the same step budget and compared on what they cost, how well they do the task, and what they do to the model's general quality. Then: saving an adapter, loading it back, folding it into the weights, and the launch commands for several GPUs or nodes.
#
# It builds on notebook 01 (the world and the default model). Notebook 11 uses the same machinery for adversarial training and data augmentation.

# %% [markdown]
# <!-- nav -->
# [← Prompt explorer](03_prompt_explorer.ipynb) | [Contents](00_index.ipynb) | [Adversarial training and data augmentation →](11_adversarial_training_and_augmentation.ipynb)

# %% tags=["parameters"]
# Parameters: CI-sized defaults; realistic values in the comments (papermill -p NAME VALUE scales them up).
MODEL = "genlab-tiny-world"  # a local folder, or e.g. "gpt2" online (call genlab.set_offline(False) first)
TASK = "story"  # or "world_qa" (exact match on held-out facts; near 0 for this model, see the first section)
METHODS = ["full", "lora", "ia3", "prompt_tuning", "prefix_tuning"]
N_TRAIN, N_EVAL = 200, 16  # training / held-out attribute combinations (facts for world_qa); realistic: 400, 100
STEPS = 12  # optimizer steps, the same for every method; realistic: 400
BATCH_SIZE = 8  # sequences per step; realistic: 16
HELDOUT_DOCS = 16  # validation documents for the general-quality perplexity; realistic: 500
SEEDS = [0]  # training runs per method (a seed fixes data order and initialisation); realistic: [0, 1, 2]
THREADS = 1  # torch CPU threads: 1 is fastest for this tiny model on a busy 2-core machine; realistic: None (all cores)
SEED = 0

# %%
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import torch
from transformers import set_seed

import genlab
from genlab.metrics.perplexity import perplexity
from genlab.report import record
from genlab.report.full import committed_table
from genlab.report.plots import error_bars
from genlab.stats import arm_intervals, replicated_tests
from genlab.training.finetuning import DEFAULT_LEARNING_RATES, finetune, load_finetuned, merge
from genlab.training.live_loss import LiveLossPlot
from genlab.training.tasks import build_task, generate_completions, item_scores
from genlab.worlds.text import generate_corpus, load_world

if THREADS:
    torch.set_num_threads(THREADS)
set_seed(SEED)
bundle = genlab.load_model(MODEL)
world = load_world()
corpus = generate_corpus(world=world, seed=0)
RUN_DIR = Path(tempfile.mkdtemp(prefix="genlab-nb10-"))  # every run is saved here; the last cell deletes it

# %% [markdown]
# ## Choosing the task: can the model answer questions about its world?
# `build_task("world_qa")` asks about facts the corpus states 1 to 128 times (`"Question: Where does Hrovald live?\nAnswer:"` → `" Clovermere"`), holding out whole facts, so a fine-tuned model can only score if pretraining stored the fact and QA fine-tuning teaches it to say it. Before comparing methods on it, score the base model: greedy answers, SQuAD-normalised exact match, Clopper–Pearson intervals, split by how often the fact was seen in pretraining.

# %%
qa = build_task("world_qa", world, seed=SEED)
qa_base = qa.evaluate(bundle)
record("qa_by_count", qa_base.by("count").round(3))

# %% tags=["keep_output", "nbval-check-output"]
k = int(qa_base.items["correct"].sum())
print(f"base model, held-out world questions: exact match {k}/{qa_base.n} "
      f"(95% interval {qa_base.low:.2f} to {qa_base.high:.2f})")

# %% [markdown]
# The default model knows a fact when asked in the sentence form it was seen in (notebook 02: most facts stated 64 or more times), but not when asked in a form it never saw, and a question-and-answer format is such a form: held-out exact match sits at or near zero before fine-tuning. Whether QA fine-tuning teaches the model to say what it stored is what a longer run on this task would test. A comparison on a score that is zero everywhere says nothing about the methods.
#
# The **story** task separates them. The prompt asks for a story with three attributes (`"Write a story about a baker in Clovermere with a cat.\n"`); the target is a corpus-style story that names all three; held-out prompts use attribute combinations never seen in training. The score is **attribute coverage**: the share of requested attributes that a greedy generation mentions, with a bootstrap interval over prompts. One training pair:

# %%
task = build_task(TASK, world, seed=SEED, n_train=N_TRAIN, n_eval=N_EVAL)
example = task.train[0]
print(example["prompt"] + example["completion"])

# %% tags=["keep_output", "nbval-check-output"]
print(task.description)
print("training rows:", len(task.train), "| held-out rows:", len(task.eval))
if TASK == "story":
    combos = lambda ds: set(zip(ds["occupation"], ds["place"], ds["animal"], strict=True))
    print("held-out combinations seen in training:", len(combos(task.train) & combos(task.eval)))

# %% [markdown]
# ## Five methods, one budget
# Every run starts from a copy of the same model, sees the same batches (same seed), takes `STEPS` optimizer steps of `BATCH_SIZE` sequences and puts the loss on the completion tokens only (`genlab.training.finetuning.finetune` on `transformers.Trainer`):
#
# - **full**: every weight is trained.
# - **LoRA** (Hu et al., ICLR 2022): frozen weights plus a low-rank update W + (α/r)·B·A on the attention and projection matrices (r = 8).
# - **IA3** (Liu et al., NeurIPS 2022): learned rescaling vectors on keys, values and feed-forward activations.
# - **prompt tuning** (Lester et al., EMNLP 2021): 16 trainable virtual tokens in front of the input.
# - **prefix tuning** (Li & Liang, ACL 2021): 16 trainable key/value positions in every layer.
#
# Methods that train fewer parameters take larger steps; each gets the default peak learning rate below (AdamW, 10% warm-up, linear decay). The same budget is not the same tuning effort: none of these rates was searched for this task. Each run draws its loss curve live while it trains, and is saved under a temporary folder.
#
# A difference between two training runs is not a difference between methods: two runs of one method differ too. So every method is trained once per seed in `SEEDS` (the seed fixes data order and the initialisation of the new parameters), and intervals and tests below resample runs as well as prompts. The CI run has one seed, and its tests say that run-to-run variation was not measured; the full-size run has three.

# %%
DEFAULT_LEARNING_RATES

# %% [markdown]
# First the model before fine-tuning, the row every method is measured against: its general quality (the perplexity of `HELDOUT_DOCS` validation documents of the corpus, `genlab.metrics.perplexity`) and its coverage of the held-out prompts, kept per prompt for the paired tests below (`item_scores`: the share of the three requested attributes each story mentions). The base model is one fixed system, so it is scored once, under the first seed.

# %%
heldout = corpus.texts("validation")[:HELDOUT_DOCS]
base_ppl = perplexity(bundle, heldout).perplexity
base_score = task.evaluate(bundle)
rows = [{"method": "base", "seed": SEEDS[0], "trainable_params": 0, "trainable_share": 0.0, **base_score.as_row(),
         "heldout_ppl": base_ppl, "heldout_ppl_change": 0.0}]
items = {("base", SEEDS[0]): tuple(item_scores(base_score))}  # per-prompt scores by (method, seed)

# %% [markdown]
# Then every method once per seed. `finetune` trains a copy of the model, draws its loss live (`LiveLossPlot`) and saves the run under `RUN_DIR/seed<k>/<method>`; the tuned model is scored like the base model, and its `RunRecord` (cost, loss curves) is kept. The first seed's models stay in `tuned` for the rest of the notebook.

# %%
tuned, records = {}, {}
for seed in SEEDS:
    for method in METHODS:
        model, run = finetune(bundle, task, method, steps=STEPS, batch_size=BATCH_SIZE, seed=seed,
                              eval_steps=max(STEPS // 2, 1), output_dir=RUN_DIR / f"seed{seed}" / method,
                              callbacks=[LiveLossPlot(title=f"{method} on {task.name}: loss")])
        score = task.evaluate(model)
        ppl = perplexity(model, heldout).perplexity
        rows.append({"method": method, "seed": seed, "trainable_params": run.trainable_params,
                     "trainable_share": run.trainable_share, "wall_time_s": run.wall_time_s,
                     "train_time_s": run.train_time_s, "tokens_per_s": run.tokens_per_s,
                     "peak_memory_mb": run.peak_memory_mb, "eval_loss": run.eval_loss, **score.as_row(),
                     "heldout_ppl": ppl, "heldout_ppl_change": ppl / base_ppl - 1})
        items[(method, seed)] = tuple(item_scores(score))  # tuples, not arrays: pandas compares attrs
        records[f"{method} seed {seed}"] = run.to_dict() | {"seed": seed}
        if seed == SEEDS[0]:
            tuned[method] = model

# %% [markdown]
# One table, one row per run. It carries the per-prompt scores behind each row in `attrs` (keyed by its `item_key` columns), which is what the intervals and tests of `genlab.stats` below resample.

# %%
table = pd.DataFrame(rows)
table.attrs = {"item_key": ("method", "seed"), "items": items}

# %%
assert table[["method", "seed"]].values.tolist() == [["base", SEEDS[0]]] + [[m, s] for s in SEEDS for m in METHODS]
assert all(len(items[(r.method, r.seed)]) == r.n and np.isclose(np.mean(items[(r.method, r.seed)]), r.score)
           for r in table.itertuples())
assert (table.score_low <= table.score).all() and (table.score <= table.score_high).all()
assert (table[table.method == "full"].trainable_share == 1.0).all()
assert all((RUN_DIR / f"seed{s}" / m / "run.json").is_file() for s in SEEDS for m in METHODS)

# %% [markdown]
# ## The comparison
# One row per method and training run (seed), plus the model before fine-tuning. **Cost**: trainable parameters and their share, wall time of the training call, training throughput (non-padding tokens per second inside optimizer steps) and the peak memory added while training (here the sampled resident-set growth of the process on CPU: a rough figure, see `genlab.training.finetuning.PeakMemory`). **Fit**: the validation loss on the held-out completions. **Task**: attribute coverage with its 95% interval. **General quality**: perplexity of held-out corpus documents (validation split: the pretraining distribution, not the task's request-and-story format), and its change relative to the base model.

# %%
columns = ["trainable_params", "trainable_share", "wall_time_s", "tokens_per_s", "peak_memory_mb", "eval_loss",
           "score", "score_low", "score_high", "heldout_ppl", "heldout_ppl_change"]
record("runs", table.set_index(["method", "seed"])[columns].round(3))

# %% tags=["keep_output", "nbval-check-output"]
for row in table.drop_duplicates("method").itertuples():
    print(f"{row.method:14} {row.trainable_params:>9,} trainable parameters ({row.trainable_share:.2%})")
peft = table[~table.method.isin(["base", "full"])]
share = table.drop_duplicates("method").set_index("method")["trainable_share"]  # the same for every seed
print("LoRA trains under 5% of the parameters:", bool(share["lora"] < 0.05))
print("every PEFT method trains under 3%:", bool((peft.trainable_share < 0.03).all()))

# %% [markdown]
# Each method's coverage over its runs and the prompts: with two or more runs, a mixed-model t interval (runs and prompts as crossed random effects, `genlab.stats.mixed_model_ci`); with one run, a bootstrap over prompts that ignores run-to-run variation (the `interval` column says which).

# %%
per_method = arm_intervals(table, seed=SEED)
record("per_method", per_method.round(3))

# %%
fig = go.Figure(go.Bar(x=per_method["method"], y=per_method["score"],
                       error_y=error_bars(per_method["score"], per_method["score_low"], per_method["score_high"])))
fig.update_layout(title=f"Attribute coverage after {STEPS} steps ({len(SEEDS)} run(s) per method, 95% interval)",
                  xaxis_title="fine-tuning method", yaxis_title="task score (95% interval)", template="plotly_white")
record("comparison_figure", fig)

# %% [markdown]
# Each run's loss curves, from its `RunRecord`: training loss solid, validation loss dotted.

# %%
fig = go.Figure()
for name, r in records.items():
    for split, points, dash in (("train", r["train_loss"], "solid"), ("eval", r["eval_loss_curve"], "dot")):
        if points:
            fig.add_trace(go.Scatter(x=[p[0] for p in points], y=[p[1] for p in points], name=f"{name} {split}",
                                     legendgroup=name, line={"dash": dash}))
fig.update_layout(title="Training (solid) and validation (dotted) loss by method", xaxis_title="optimizer step",
                  yaxis_title="loss on completion tokens (nats/token)", template="plotly_white")
record("loss_curves_figure", fig)

# %% [markdown]
# ### Is any difference real?
# Every method is scored on the same held-out prompts as the base model, so the comparison is paired: for each prompt, the difference in coverage. With several runs per method, `replicated_tests` compares a method's runs with the base model by `genlab.stats.paired_hierarchical_comparison`: prompts paired, runs resampled, the base model one fixed system (every run starts from it, so it adds no run-to-run variance); the interval and p-value come from a mixed-model t test. With one run it falls back to a paired bootstrap and permutation test over prompts, and says so in `test`.
#
# The five comparisons are one **family** (does any method change coverage?), so the p-values are Holm-adjusted within it (`p_adjusted`, `correction`); `significant` means adjusted p ≤ 0.05. The intervals are unadjusted 95% intervals.

# %%
versus_base = replicated_tests(table, "method", "base", reference_fixed=True, seed=SEED,
                               family="fine-tuning methods vs the base model, attribute coverage")
record("versus_base", versus_base[["method", "n_runs", "score", "reference_score", "difference", "difference_low", "difference_high",
             "p_value", "p_adjusted", "significant", "test"]].round(3))

# %%
for r in versus_base.itertuples():
    verdict = "significant after Holm" if r.significant else "not significant after Holm"
    print(f"{r.method:14} {r.difference:+.3f} [{r.difference_low:+.3f}, {r.difference_high:+.3f}], "
          f"p = {r.p_value:.3f}, Holm p = {r.p_adjusted:.3f} ({r.family_size} tests): {verdict}")

# %% tags=["keep_output", "nbval-check-output"]
print(f"base attribute coverage: {table.score[0]:.2f} on {table.n[0]} prompts")

# %% [markdown]
# **At full size.** The committed full-size run (`make report-full`: `N_EVAL` = 100 prompts, `STEPS` = 200, three seeds per method; parameters, power and provenance in `results/full_size/`) answers the same questions with the same code. Its label says when it was made and whether the code or parameters changed since:

# %% tags=["full-size-results"]
full_size = committed_table("10", "per_method")
if full_size is not None:
    print(full_size.attrs["label"])
    display(full_size)
    display(committed_table("10", "versus_base"))

# %% [markdown]
# **What the committed full-size run found.** Full fine-tuning and LoRA raise coverage far above the base model, IA3 and prompt tuning by much less, all four significant after Holm; prefix tuning is not shown to differ from the base model, because its three runs disagree so much that the run-to-run variance swamps the prompts (its interval is the widest in the table, and, as a normal-theory interval, can pass the 0–1 range of a share). That is what one seed would have hidden: a single prefix-tuning run could have been read as a win or a loss.

# %% [markdown]
# What the models write for the first held-out prompt (greedy, first 40 tokens):

# %%
print(task.eval[0]["prompt"])
for name, b in {"base": bundle, **tuned}.items():
    print(f"{name:>14}: {generate_completions(b, [task.eval[0]['prompt']], max_new_tokens=40)[0]!r}")

# %% [markdown]
# **Reading it.** The table and the paired tests above are the result; what follows is how to read them, not a claim about this run. At the CI budget (a dozen steps) the methods have barely moved from where they started. Full fine-tuning, LoRA and IA3 start from the base model's behaviour (LoRA's update starts at zero), so their coverage can only drift slowly away from the base row; the validation-loss column shows how far each has begun to fit the story format. Prompt and prefix tuning start from virtual tokens drawn from sampled vocabulary embeddings (prompt tuning) or random key/value vectors (prefix tuning): before they are trained, these *disrupt* the model, so at a small budget they can score below the base model, as the paired tests show when they do. A method is ahead of the base model only where its paired difference is significant and positive; the numbers above are a smoke test of the method, so rerun with the realistic settings of the parameters cell before drawing conclusions.
#
# **General quality.** Held-out perplexity is the price of adaptation: training on one narrow format moves the model away from the corpus it was pretrained on. The `heldout_ppl_change` column shows how much each method paid; a method that touches fewer weights (IA3 rescales activations, LoRA adds a low-rank update) usually pays less, and prompt-learning methods pay through the prefix that conditions every text on the task.

# %% [markdown]
# ## Save, load, merge
# `finetune(..., output_dir=...)` wrote each run atomically: `adapter/` (peft methods) or `model/` (full), `run.json` with the whole `RunRecord`. The adapter records its base portably: the default model by name, a hub id, or a path *relative to the adapter folder*, never an absolute path, so the folder can be moved or shared.

# %%
adapter_dir = RUN_DIR / f"seed{SEEDS[0]}" / "lora" / "adapter"  # one folder per training seed
adapter_config = json.loads((adapter_dir / "adapter_config.json").read_text())
sorted(p.name for p in adapter_dir.iterdir()), adapter_config["base_model_name_or_path"]

# %% tags=["keep_output", "nbval-check-output"]
text_files = [f.read_text() for f in adapter_dir.iterdir() if f.suffix in (".json", ".md")]
machine_paths = [str(RUN_DIR), str(Path(bundle.provenance["path"]).parent)]
print("base recorded as:", adapter_config["base_model_name_or_path"])
print("an absolute path in the adapter's files:", any(p in t for t in text_files for p in machine_paths))

# %% [markdown]
# `load_finetuned` resolves that record (here: loads the default model) and attaches the adapter; `merge` folds LoRA (or IA3) into the weights with peft's `merge_and_unload`, leaving a plain `GPT2LMHeadModel` with the base model's parameter count and no adapter overhead at inference. All three write the same greedy text.

# %%
reloaded = load_finetuned(adapter_dir)
merged = merge(reloaded)
prompts = list(task.eval["prompt"][:4])
writes = {name: generate_completions(b, prompts, max_new_tokens=40)
          for name, b in [("trained", tuned["lora"]), ("reloaded", reloaded), ("merged", merged)]}
print(writes["merged"][0])

# %% tags=["keep_output", "nbval-check-output"]
print("reloaded adapter writes the same text:", writes["reloaded"] == writes["trained"])
print("merged model writes the same text:", writes["merged"] == writes["trained"])
print("merged model:", type(merged.model).__name__, "| same parameter count as the base:",
      merged.n_parameters() == bundle.n_parameters())

# %% [markdown]
# Prompt and prefix tuning add virtual tokens instead of changing weights, so there is nothing to merge; `merge` says so:

# %% tags=["keep_output", "nbval-check-output"]
try:
    merge(tuned["prompt_tuning"])
except ValueError as err:
    print(err)

# %% [markdown]
# ## Scaling out: several GPUs or nodes
# `finetune` is an ordinary function on `transformers.Trainer`, so the same call runs unchanged under the standard launchers; put it in a script (`--steps` etc. as you like):
#
# ```python
# # finetune_story.py
# import genlab
# from genlab.training.finetuning import finetune
# from genlab.training.tasks import build_task
#
# bundle = genlab.load_model("genlab-tiny-world")
# finetune(bundle, build_task("story"), "lora", steps=400, batch_size=16, output_dir="runs/story-lora")
# ```
#
# ```bash
# accelerate launch --multi_gpu --num_processes 8 finetune_story.py          # one node, 8 GPUs
# accelerate launch --config_file multi_node.yaml finetune_story.py          # several nodes, by config
# torchrun --nproc_per_node 8 finetune_story.py
# ```
#
# `batch_size` is per process, so 8 processes see 8 × 16 sequences per step; the `RunRecord` counts tokens over all processes and records `world_size`, and only rank 0 writes the adapter. On CPU, `accelerate launch --cpu --num_processes 2` silently starts one process; use `torchrun --nproc_per_node 2` (the test suite runs `finetune` that way, `tests/test_distributed.py`). Not run here: this notebook stays on one process.

# %% [markdown]
# ## Clean up
# The runs (the full model is 17 MB) were written to a temporary folder; remove it.

# %%
shutil.rmtree(RUN_DIR, ignore_errors=True)

# %% [markdown]
# ## Limitations
# - **Budget, not tuning.** Every method got the same steps and its default learning rate. Methods differ in how fast they converge and how sensitive they are to the rate; a fair "best achievable" comparison needs a search per method, several seeds and far more steps than CI allows.
# - **Small evaluation.** `N_EVAL` prompts give wide intervals; differences of a few points need hundreds of prompts. At CI size one training seed per method: the spread between runs is not measured there (the full-size run has three seeds; three runs pin down run-to-run variation only roughly, so its intervals are wide by design).
# - **One metric per task.** Attribute coverage counts whole-word mentions of three words; a list of the three words scores 1.0 and fluency, coherence and plot are not judged. Exact match on world QA is a string test.
# - **General quality is one perplexity.** Held-out corpus perplexity shows drift away from the pretraining distribution; it does not measure forgetting of specific facts or skills (the cloze probes of notebook 21 would), and it has no interval here.
# - **Cost figures are from this machine.** Wall time and tokens/s on a shared CPU are noisy; peak memory on CPU is a sampled resident-set increase. On a GPU the ordering of methods by memory is the informative part, not the values.
# - **Prompt-learning quirks.** Prompt- and prefix-tuned models are scored and generate with their 16 virtual tokens placed as in training (genlab drives the base model with them as a prefix, since peft's own `generate` mishandles them under transformers 5), so their usable context is 16 tokens shorter than the base model's.

# %% [markdown]
# ## Next
# Notebook 11 trains with adversarial perturbations of the input embeddings, measures robustness to typos and word edits, and tests whether data augmentation helps when training data is scarce.
