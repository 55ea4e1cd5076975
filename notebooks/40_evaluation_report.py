# %% [markdown]
# # 40 · Evaluation report
# Two models compared on the same prompts with paired tests, then the whole series gathered into one report: a self-contained `report.html` (every figure, table, checkpoint and Limitations section, with provenance; it opens offline) and a machine-readable `results.json`.
#
# The comparison is the default model against a LoRA fine-tune of it on the story task of notebook 10. `make report` builds the report for a full run of the series; the last sections show what it holds, at CI size.

# %% [markdown]
# <!-- nav -->
# [← Safety and privacy](31_safety_and_privacy.ipynb) | [Contents](00_index.ipynb) | [Speech recognition: who is misheard? →](60_speech_recognition.ipynb)

# %% tags=["parameters"]
# Parameters: CI-sized defaults; realistic values in the comments (papermill -p NAME VALUE scales them up).
MODEL = "genlab-tiny-world"  # the base model: a local folder, or e.g. "gpt2" online (call genlab.set_offline(False) first)
TASK = "story"  # the fine-tuning task: a story that mentions a requested occupation, town and animal
N_TRAIN, N_EVAL = 200, 24  # training / held-out attribute combinations; realistic: 400, 100
STEPS = 30  # LoRA optimizer steps; realistic: 400
BATCH_SIZE = 8  # sequences per step; realistic: 16
MAX_NEW_TOKENS = 64  # story length in tokens; realistic: 120 (the task's default)
EXECUTE_SERIES = False  # True: execute every notebook before building the report, as `make report` does (~15 min)
REPORT_DIR = None  # None: a temporary folder, removed at the end; e.g. "../reports/series" to keep the report
THREADS = 1  # torch CPU threads: 1 is fastest for this tiny model on a busy 2-core machine; realistic: None (all cores)
SEED = 0

# %%
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import torch
from plotly.offline import get_plotlyjs

import genlab
import genlab.report
from genlab.metrics.repetition import seq_rep_n
from genlab.metrics.task_scores import item_scores
from genlab.report.build import build_report, run_series
from genlab.report.compare import plot_paired
from genlab.report.render import inspect_report
from genlab.report.series import NOTEBOOK_DIR, notebooks
from genlab.stats import compare_systems

if THREADS:
    torch.set_num_threads(THREADS)
bundle = genlab.load_model(MODEL)
task = genlab.build_task(TASK, n_train=N_TRAIN, n_eval=N_EVAL, seed=SEED)

# %% [markdown]
# ## Two models on the same prompts
# The second model is a LoRA fine-tune (Hu et al., 2022) of the first on the task's training stories, with `genlab.finetune`'s default learning rate. Both then write a story, greedily, for each held-out prompt: combinations of occupation, town and animal that no training story had. Each story gets two per-prompt scores:
#
# - **coverage**: the share of the three requested attributes the story mentions (the task's metric, `task.evaluate`);
# - **seq-rep-4**: the share of the story's 4-grams that repeat an earlier one (Welleck et al., 2020); lower is less repetitive.
#
# The table gives each model's coverage with its bootstrap interval over prompts.

# %%
tuned, record = genlab.finetune(bundle, task, "lora", steps=STEPS, batch_size=BATCH_SIZE, seed=SEED)
scores = {"default": task.evaluate(bundle, max_new_tokens=MAX_NEW_TOKENS),
          "lora": task.evaluate(tuned, max_new_tokens=MAX_NEW_TOKENS)}
genlab.report.record("coverage", pd.DataFrame([{"model": name, "coverage": s.value, "coverage_low": s.low, "coverage_high": s.high, "n": s.n}
              for name, s in scores.items()]).set_index("model").round(3))

# %% [markdown]
# ### Paired verdicts
# Both models answered the same prompts, so the comparison is paired: per prompt, the LoRA model's score minus the default model's. `compare_systems` gives the mean difference with a paired bootstrap interval, a permutation p-value and the effect size d_z; a difference counts only when its interval excludes 0. Pairing removes the prompt-to-prompt spread that makes the two separate intervals above overlap more than the difference warrants.

# %%
per_item = pd.concat([pd.DataFrame({"system": name, "prompt_id": range(s.n), "coverage": item_scores(s),
                                    "seq_rep_4": seq_rep_n(list(s.items["generation"]), n=4)})
                      for name, s in scores.items()])
paired = pd.DataFrame([compare_systems(per_item, "lora", "default", m, seed=SEED) for m in ("coverage", "seq_rep_4")])
genlab.report.record("paired", paired)

# %%
genlab.report.record("paired_figure", plot_paired(paired, title="LoRA fine-tune minus the default model, same held-out prompts",
            xaxis_title="mean per-prompt difference (LoRA - default), 95% paired bootstrap interval"))

# %% tags=["keep_output", "nbval-check-output"]
p = paired.set_index("metric")
print(len(task.eval), "held-out prompts, each answered by both models")
print("LoRA covers more of the requested attributes (interval above 0):", p.loc["coverage", "difference_low"] > 0)
print("LoRA repeats fewer 4-grams (interval below 0):", p.loc["seq_rep_4", "difference_high"] < 0)

# %% [markdown]
# Two prompts and what each model wrote (model output, printed as plain text):

# %%
for i in range(2):
    print("PROMPT:", task.eval["query"][i])
    for name, s in scores.items():
        print(f"{name:>8} | {s.items['generation'][i]}")
    print()

# %% [markdown]
# The default model was never trained on instructions: it continues the prompt with a line of dialogue from the corpus. After a few dozen steps the fine-tune writes in the stories' form and names the requested occupation, but often not the town or the animal, and it loops on one sentence frame; coverage measures the first, seq-rep-4 only part of the second.

# %% [markdown]
# ## The report of a run
# `build_report` takes executed notebooks (from `run_series`, which runs each in a fresh kernel with nbclient, or files saved after execution) and writes two files:
#
# - `report.html`: per notebook, in series order, every plotly figure (drawn from the notebook's own figure data by plotly.js, which is embedded once: the page needs no network), every table, the checkpoint outputs and the Limitations section; then the provenance: models with their manifests and weight hashes, data hashes, each notebook's parameters and wall time, package versions and the git commit. Notebook output is escaped, never rendered as HTML, and canary secrets and planted personal data are masked.
# - `results.json`: the same results as data, with a versioned schema (`genlab.report.results`).
#
# It also lists what each notebook wrote on stderr that no allow-list entry explains: library warnings that readers should not have to see. `make report` fails when there is any.
#
# At CI size the report is built from the notebooks as committed, without running them: they hold their parameters, checkpoint outputs and Limitations, but no figures or tables (those are stripped before committing). `EXECUTE_SERIES = True` runs every notebook first.

# %%
paths = notebooks(NOTEBOOK_DIR)
this = NOTEBOOK_DIR / "40_evaluation_report.ipynb"  # always as committed: running it from here would recurse
executed = [run_series([p])[0] if EXECUTE_SERIES and p != this else p for p in paths]
out_dir = Path(REPORT_DIR) if REPORT_DIR else Path(tempfile.mkdtemp(prefix="genlab-report-"))
report = build_report(executed, out_dir, title="genlab notebook series")
genlab.report.record("report_notebooks", pd.DataFrame([{"notebook": nb.name, "status": nb.status, "figures": len(nb.figures), "tables": len(nb.tables),
               "checkpoints": len(nb.checkpoints), "limitations": bool(nb.limitations),
               "unexpected stderr": len(nb.stderr)} for nb in report.results.notebooks]).set_index("notebook"))

# %% [markdown]
# The run's provenance: the data the default model was trained on, identified by hash, and the software that ran.

# %%
prov = report.results.provenance
print("git commit:", prov["git"]["commit"], "(uncommitted changes)" if prov["git"]["dirty"] else "")
print("python", prov["python"], "|", ", ".join(f"{k} {v}" for k, v in prov["packages"].items()))
genlab.report.record("data_hashes", pd.DataFrame(prov["data_hashes"])[["what", "sha256"]])

# %% tags=["keep_output", "nbval-check-output"]
page = inspect_report(report.html_path.read_text(encoding="utf-8"))
print("plotly.js embedded once:", sum(s.count(get_plotlyjs()) for s in page.inline_scripts) == 1,
      "| scripts from the network:", len(page.external_scripts))
print("results.json schema version:", report.results.schema_version)
print("every notebook of the series has a section:", len(page.notebook_sections) == len(paths))
evaluation = [nb for nb in report.results.notebooks if nb.number[0] in "234"]
print("evaluation notebooks without a Limitations section:", [nb.name for nb in evaluation if not nb.limitations])

# %% [markdown]
# ## Comparing two runs
# The same series run with two models answers "what changed?" notebook by notebook: `compare_runs(a, b)` (`genlab.report.compare`) lines up two `results.json` and returns the parameters, checkpoint lines and table values that differ, and every paired comparison the notebooks computed themselves (tables with `difference`, `difference_low`, `difference_high` and `p_value` columns, such as `compare_systems` and `paired_tests` make) with each run's verdict. For the fine-tune above, fold the adapter into the weights and save it as a model folder,
# which every notebook's `MODEL` parameter accepts:
#
# ```python
# merged = genlab.merge(tuned)
# merged.model.save_pretrained("runs/story-lora/model")
# merged.tokenizer.save_pretrained("runs/story-lora/model")
# ```
#
# then run the series with each model and compare:
#
# ```bash
# python -m genlab.report.series report --out reports/default
# python -m genlab.report.series report --out reports/lora -p MODEL=runs/story-lora/model --compare reports/default/results.json
# python -m genlab.report.series compare reports/default/results.json reports/lora/results.json --out compare.html
# ```
#
# A full run takes about 15 minutes per model on two cores, so it is not run here.

# %% [markdown]
# ## Clean up

# %%
if not REPORT_DIR:
    shutil.rmtree(out_dir, ignore_errors=True)

# %% [markdown]
# ## Limitations
# - **Small, and one task.** `N_EVAL` held-out prompts, one fine-tuning seed and a `STEPS`-step budget: the paired intervals are wide, and the spread between fine-tuning seeds is not measured. Coverage counts whole-word mentions of three words and judges neither fluency nor plot; seq-rep-4 counts repeated 4-grams and nothing else.
# - **Paired tests assume independent prompts.** The held-out combinations share occupations, towns and animals, so prompts are not fully independent and the intervals are somewhat too narrow. Two metrics are tested without a correction for multiple comparisons.
# - **The CI-sized report has no figures or tables.** It is built from the committed notebooks; only a run (`make report`, or `EXECUTE_SERIES = True`) fills them in. Table values in `results.json` are as the notebooks showed them (rounded), so run comparisons see differences down to that precision only.
# - **Masking is by exact value and shape.** Canary secrets are masked where they appear verbatim, and planted personal data by its formats (555 phone numbers, `.example` addresses); a secret written with other separators or in part, and names of private individuals, are not (`genlab.report.mask`).
# - **Provenance is what genlab can see.** Model manifests and weight hashes for local folders, the corpus and world hashes their manifests record, package versions and the git commit (with a flag for uncommitted changes); hub models are identified by name only, and hardware and library builds beyond version numbers are not recorded.
#
# ## Next
# Back to the [contents](00_index.ipynb). `make report` runs the whole series and writes `reports/report.html` and `reports/results.json`.
