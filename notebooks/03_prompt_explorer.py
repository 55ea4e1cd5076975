# %% [markdown]
# # 03 · Prompt explorer
# Type a prompt and watch the default model continue it under two decoding settings side by side, with the probability of every token it wrote and badges for repetition, perplexity, offensive language and personal data.
#
# It comes after notebook 01 (the model) and before the decoding study of notebook 20, which measures on hundreds of prompts what this page shows on one. The explorer is a thin view over plain functions (`genlab.widgets.explore`); the second half of the notebook calls them directly, which is also how the checkpoints are computed. To use the explorer as an app, serve this notebook with Voilà: `voila notebooks/03_prompt_explorer.ipynb`.

# %% [markdown]
# <!-- nav -->
# [← World validity](02_world_validity.ipynb) | [Contents](00_index.ipynb) | [Fine-tuning and parameter-efficient methods →](10_finetuning_and_peft.ipynb)

# %% tags=["parameters"]
# Parameters: CI-sized defaults; realistic values in the comments (papermill -p NAME VALUE scales them up).
MODEL = "genlab-tiny-world"  # a local folder, or e.g. "gpt2" online (call genlab.set_offline(False) first)
PROMPT = "The baker"  # any text; the explorer's prompt box starts with it
MAX_NEW_TOKENS = 40  # realistic: up to the model's context (256 tokens) less the prompt
N_SAMPLES = 3  # samples per sampling setting; at most 16
TEMPERATURE, TOP_P = 0.8, 0.9  # setting B (setting A is greedy decoding)
SEED = 0

# %%
import genlab
from genlab.report import record
from genlab.widgets.explore import badges, decoding_settings, run_prompt, token_figure, token_view
from genlab.widgets.explorer import PromptExplorer
from genlab.widgets.views import outputs_html

bundle = genlab.load_model(MODEL)
setting_b = decoding_settings(temperature=TEMPERATURE, top_p=TOP_P)
setting_b

# %% [markdown]
# ## The explorer
# Panel A decodes greedily, panel B samples with the temperature and nucleus (top-p) of the parameters cell; switch B's model or settings, or untick *compare* to run A alone. *Generate* runs in the background: the progress bar moves with every token and *Cancel* stops before the next one. Below the outputs, the per-token view colours each token by the probability the model gave it (hover for the alternatives), and the history keeps every run for export to CSV or JSON.
#
# Badges, hover them for their definition: `ppl` is the perplexity of the generated tokens given the prompt; `rep-2` and `seq-rep-4` the shares of repeated word bigrams (Su et al. 2022, in percent) and 4-grams (Welleck et al. 2019); `offensive` the probability from an offline word-based classifier; `PII` the number of pattern matches for e-mail addresses, phone numbers, ID numbers and dates of birth. The last two turn red when they fire. Everything a model writes is shown as text, never as HTML.
#
# The first run below is made when the notebook runs, so the page opens with outputs.

# %%
explorer = PromptExplorer({MODEL: bundle}, prompt=PROMPT, settings_a="greedy", settings_b=setting_b,
                          max_new_tokens=MAX_NEW_TOKENS, n_samples=N_SAMPLES, seed=SEED)
explorer.generate(wait=True)
explorer

# %% [markdown]
# ## The same run, by hand
# `run_prompt` is what the Generate button calls: one row per output, the same texts for the same seed (each row's random draws depend only on the seed and its sample number, as in `genlab.generate`, so the two settings share them). Greedy decoding is deterministic and gives one row however many samples are asked for.

# %%
frame = run_prompt({MODEL: bundle}, PROMPT, ["greedy", setting_b], n_samples=N_SAMPLES,
                   max_new_tokens=MAX_NEW_TOKENS, seed=SEED)
record("generations", frame[["setting", "sample_id", "text", "n_new_tokens", "finished"]])

# %% tags=["keep_output", "nbval-check-output"]
print(frame.groupby("setting", sort=False).size().to_dict())
print("the explorer's first run is this one:", explorer.last["text"].tolist() == frame["text"].tolist())
print("greedy:", repr(frame.loc[0, "text"].split("\n")[0]))

# %% [markdown]
# ## Inside one output: the per-token view
# For every generated token, `token_view` gives the probability the model assigned to it given everything before it, its rank among all tokens, the entropy of the model's distribution at that step (in bits: 1 bit is a fair coin between two tokens, 12 bits a uniform choice among 4,096) and the most likely alternatives. These are the model's own probabilities, before temperature or top-p reshape them for sampling. Greedy decoding always takes the rank-1 token.

# %%
view = token_view(bundle, PROMPT, frame.loc[0, "tokens"], top_k=3)
record("token_view", view.head(8).round(3))

# %% tags=["keep_output", "nbval-check-output"]
print(view.head(4)[["token", "prob", "rank", "entropy_bits"]].round(2).to_string(index=False))
print("greedy took the model's first choice at every step:", bool((view["rank"] == 1).all()))

# %%
record("token_figure", token_figure(view, title=f"Greedy continuation of {PROMPT!r}: probability of each token"))

# %% [markdown]
# The bars show where the model was sure (near 1: the grammar's fixed words, closing quotes, the full stop) and where it chose among several continuations (low bars, high entropy: which person, which place, which feeling). The same view for a sampled output shows lower bars: sampling takes tokens the model ranked below first.

# %% [markdown]
# ## Badges
# `badges` computes the row of badges under each output. Perplexity is that of the generated tokens given the prompt, under the same model, so it rewards the model's own habits: greedy text scores lowest. The offensive probability comes from `alt-profanity-check` (see `genlab.metrics.offensive` for what it misses), the PII count from a small pattern matcher for the corpus's formats (`genlab.metrics.pii_patterns`, not a general detector).

# %%
import pandas as pd

rows = [badges(bundle, r.text, prompt=PROMPT, tokens=r.tokens) for r in frame.itertuples()]
table = pd.DataFrame(rows, index=frame["setting"] + " #" + frame["sample_id"].astype(str)).drop(columns="pii")
record("settings_table", table.round(3))

# %% tags=["keep_output", "nbval-check-output"]
print(table[["rep_2", "seq_rep_4", "perplexity"]].round({"rep_2": 1, "seq_rep_4": 2, "perplexity": 1}).to_string())
print("offensive flags:", int(table["offensive_flag"].sum()), "| PII matches:", int(table["pii_count"].sum()))
print("greedy has the lowest perplexity:", table["perplexity"].idxmin() == "greedy #0")

# %% [markdown]
# ## Model text is untrusted
# A model can write `<script>` as easily as any other text, and an ipywidgets `HTML` widget renders markup. Every view the explorer builds escapes model text, prompts and labels (`genlab.widgets.views`); `tests/test_browser.py` types script payloads into the explorer in a real browser and checks that nothing runs.

# %% tags=["keep_output", "nbval-check-output"]
payload = frame.head(1).assign(text="<script>alert(1)</script><img src=x onerror=alert(2)>")
markup = outputs_html(payload)
print("raw tags in the markup:", "<script>" in markup or "<img" in markup)
print("shown as text:", "&lt;script&gt;alert(1)&lt;/script&gt;" in markup)

# %% [markdown]
# ## History
# Every output the explorer makes is kept with its settings, seed and badges; *Save CSV* and *Save JSON* write it next to the notebook and offer a download link (`explorer.history.to_csv(path)` from code). In the CSV, a text that starts like a spreadsheet formula gets a leading `'`, so a spreadsheet shows it instead of running it.

# %%
record("history", explorer.history.frame[["run", "model", "setting", "sample_id", "text", "perplexity", "offensive", "pii_count"]])

# %% [markdown]
# ## Limitations
# - **One prompt is an anecdote.** What the explorer shows for one prompt and seed says little about a decoding setting; notebook 20 compares settings on many prompts with intervals. Change the seed before drawing conclusions from a sample.
# - **Probabilities are the model's, not the sampler's.** The per-token view shows the model's distribution at temperature 1 before any filter; a token that top-p removed still appears among the alternatives. Token probabilities of a small model trained on a generated corpus say how well it learnt that corpus, not how plausible the text is.
# - **Perplexity under the generating model** rewards its own habits and cannot compare models with different tokenizers.
# - **The offensive badge is a word-based classifier**: it misses politely phrased stereotypes and implicit offence, flags quoted insults, and is known to over-flag some dialects and identity terms. A low score is not evidence of harmless text.
# - **The PII badge is a pattern matcher** for four kinds of data in the corpus's formats: names, addresses and anything in another format are missed. The safety notebooks will use a library-based redactor.
# - **Cancellation** stops before the model's next forward pass; outputs that finished before it are kept, the interrupted ones are dropped. While a run is going, do not use the same model from another cell.
# - **Not measured here**: human judgments, factual accuracy (notebook 21), bias and safety (the 3x notebooks).
