"""The degeneration study, run as notebook 20 runs it (prompts and human continuations, generation per decoding
configuration, per-item scores, each system's row with intervals), checked against values computed directly: a
forward pass for the token-weighted perplexity, the paper's end-repetition rule written out, the human cut in model
tokens, MAUVE's two regimes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from genlab.generation.decoder import generate
from genlab.generation.prompts import match_human_length, split_documents, token_ids
from genlab.metrics.coherence import sentence_embeddings
from genlab.probes.degeneration import continuation_items, degeneration_scores
from genlab.stats import compare_systems, summary_table

pytestmark = pytest.mark.usefixtures("one_thread")


def run_study(bundle, prefixes, human, configs, *, max_new_tokens, n_resamples, mauve=True, mauve_groups=10):
    """Notebook 20's loop: (table, per_item, generations)."""
    human = match_human_length(bundle.tokenizer, human, max_new_tokens)
    gens = generate(bundle, prefixes, configs, max_new_tokens=max_new_tokens, seed=0)
    systems = {"human": (human, token_ids(bundle.tokenizer, human))}
    for name, g in gens.groupby("config", sort=False):
        g = g.sort_values("prompt_id")
        systems[name] = (g["text"].tolist(), [list(t) for t in g["tokens"]])
    prefix_features = sentence_embeddings(prefixes)
    features = {name: sentence_embeddings(texts) for name, (texts, _) in systems.items()}
    rows, items = [], []
    for name, (texts, ids) in systems.items():
        scores = continuation_items(bundle, prefixes, texts, ids, prefix_features, features[name])
        reference = None if name == "human" or not mauve else features["human"]
        row = degeneration_scores(texts, scores, features[name], reference, n_resamples=n_resamples,
                                  mauve_groups=mauve_groups)  # fmt: skip
        rows.append({"system": name, **row})
        items.append(scores.assign(system=name))
    return pd.DataFrame(rows).set_index("system"), pd.concat(items, ignore_index=True), gens


def ends_in_loop_brute_force(tokens: list[int]) -> bool:
    """The paper's rule, written out: for some phrase length L >= 2, the last 3L tokens are one phrase three times."""
    for length in range(2, len(tokens) // 3 + 1):
        tail = tokens[len(tokens) - 3 * length :]
        if tail[:length] == tail[length : 2 * length] == tail[2 * length :]:
            return True
    return False


def test_the_study_on_a_tiny_model(tiny_bundle, small_corpus):
    prefixes, human = split_documents(small_corpus.texts("test")[:6], prefix_words=6, continuation_words=20)
    t, per_item, _ = run_study(
        tiny_bundle, prefixes, human, ["greedy", "nucleus0.95"], max_new_tokens=12, n_resamples=20, mauve_groups=2
    )
    assert list(t.index) == ["human", "greedy", "nucleus0.95"]
    for m in ("perplexity", "self_bleu", "zipf", "rep_2", "diversity", "coherence", "repetition_pct"):
        assert (t[f"{m}_low"] <= t[m] + 1e-9).all() and (t[m] <= t[f"{m}_high"] + 1e-9).all(), m
    assert np.isnan(t.loc["human", "mauve"]) and 0 <= t.loc["greedy", "mauve"] <= 1
    assert summary_table(t).shape[0] == 3
    cmp = compare_systems(per_item, "greedy", "nucleus0.95", "coherence")
    assert cmp["n"] == 6 and cmp["difference_low"] <= cmp["difference"] <= cmp["difference_high"]


def test_the_study_survives_an_empty_continuation(tiny_bundle, small_corpus):
    prefixes, human = split_documents(small_corpus.texts("test")[:5], prefix_words=6, continuation_words=10)
    human[2] = ""  # a document that ends right after its prefix
    t, per_item, _ = run_study(tiny_bundle, prefixes, human, ["greedy"], max_new_tokens=6, n_resamples=20, mauve=False)
    row = t.loc["human"]
    assert row["empty"] == 1 and np.isfinite(row["perplexity"]) and np.isfinite(row["coherence"])
    assert np.isnan(per_item.query("system == 'human'").set_index("prompt_id").loc[2, "coherence"])


def test_bad_input_is_named(tiny_bundle):
    with pytest.raises(ValueError, match="mauve_groups"):
        degeneration_scores(["a", "b"], pd.DataFrame(), mauve_groups=1)
    with pytest.raises(ValueError, match="one prompt, token list and embedding per text"):
        continuation_items(tiny_bundle, ["a"], ["b", "c"], [[1], [2]], np.zeros((2, 3)), np.zeros((2, 3)))


def test_split_documents_keeps_the_boundary_whitespace(tiny_tokenizer, small_corpus):
    """prefix + continuation is the start of the document, and tokenising the two parts separately gives the
    tokens of the whole: the continuation is scored as the document's own text, not as the inside of a word."""
    docs = small_corpus.test[:20]
    prefixes, continuations = split_documents([d.text for d in docs], prefix_words=7, continuation_words=12)
    for doc, prefix, continuation in zip(docs, prefixes, continuations, strict=True):
        assert doc.text.startswith(prefix + continuation)
        assert continuation[0].isspace() and len(continuation.split()) == 12
        whole = tiny_tokenizer(prefix + continuation)["input_ids"]
        assert tiny_tokenizer(prefix)["input_ids"] + tiny_tokenizer(continuation)["input_ids"] == whole
    with pytest.raises(ValueError, match="not more than prefix_words"):
        split_documents(["two words"], prefix_words=2)


# --- faithful to the papers (issue 10) -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def study(tiny_bundle, small_corpus):
    docs = [t for t in small_corpus.texts("test") if len(t.split()) > 40][:6]
    prefixes, human = split_documents(docs, prefix_words=6)  # the whole rest of each document
    result = run_study(
        tiny_bundle, prefixes, human, ["greedy", "sample"], max_new_tokens=10, n_resamples=200, mauve_groups=2
    )
    return prefixes, human, result


def direct_logprobs(bundle, prefix: str, continuation: str) -> np.ndarray:
    """Log-probability of each continuation token given BOS + prefix, from one plain forward pass."""
    tok = bundle.tokenizer
    p = [tok.bos_token_id] + tok(prefix, add_special_tokens=False)["input_ids"]
    c = tok(continuation, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logits = bundle.model(torch.tensor([p + c])).logits[0].double()
    logp = torch.log_softmax(logits, -1)
    return np.array([float(logp[len(p) - 1 + j, t]) for j, t in enumerate(c)])


def test_perplexity_is_token_weighted(tiny_bundle, study):
    prefixes, human, (table, _, gens) = study
    gens = gens.sort_values("prompt_id")
    for system, texts in (("human", None), ("sample", gens[gens.config == "sample"]["text"].tolist())):
        if texts is None:
            texts = match_human_length(tiny_bundle.tokenizer, human, 10)
        per_text = [direct_logprobs(tiny_bundle, p, t) for p, t in zip(prefixes, texts, strict=True)]
        total, tokens = sum(-x.sum() for x in per_text), sum(len(x) for x in per_text)
        assert table.loc[system, "perplexity"] == pytest.approx(np.exp(total / tokens), rel=1e-5)
        mean_of_means = np.exp(-np.mean([x.mean() for x in per_text if len(x)]))
        lengths = {len(x) for x in per_text}
        if len(lengths) > 1:  # texts of different lengths: the two definitions differ
            assert not np.isclose(table.loc[system, "perplexity"], mean_of_means, rtol=1e-6)


def test_repetition_uses_the_generated_token_ids(study):
    _, _, (table, per_item, gens) = study
    for config, g in gens.groupby("config"):
        g = g.sort_values("prompt_id")
        expected = [ends_in_loop_brute_force(list(t)) for t in g["tokens"]]
        got = per_item.query("system == @config").sort_values("prompt_id")["end_repetition"].tolist()
        assert got == expected
        assert table.loc[config, "repetition_pct"] == pytest.approx(100 * np.mean(expected))
    # the random tiny model repeats its last token: greedy ends in a loop on most prompts
    assert table.loc["greedy", "repetition_pct"] > 0


def test_human_continuations_are_cut_to_the_token_budget(tiny_bundle, study):
    _, human, (table, per_item, _) = study
    tok = tiny_bundle.tokenizer
    items = per_item.query("system == 'human'").sort_values("prompt_id")
    assert (items["n_tokens"] == 10).all()  # every document is long enough: exactly max_new_tokens tokens
    cut = match_human_length(tok, human, 10)
    for full, part in zip(human, cut, strict=True):
        assert full.startswith(part) and len(tok(part, add_special_tokens=False)["input_ids"]) == 10
    assert table.loc["human", "mean_tokens"] == 10
    assert (per_item.query("system != 'human'")["n_tokens"] <= 10).all()
    with pytest.raises(ValueError, match="n_tokens"):
        match_human_length(tok, human, 0)


def test_mauve_at_ci_size_is_a_demonstration_without_an_interval(study):
    _, _, (t, _, _) = study
    for config in ("greedy", "sample"):
        assert t.loc[config, "mauve_regime"] == "demonstration"
        assert 0 <= t.loc[config, "mauve"] <= 1
        assert np.isnan(t.loc[config, "mauve_low"]) and np.isnan(t.loc[config, "mauve_high"])
    assert summary_table(t).loc["greedy", "mauve"].endswith("(no CI)")
    assert np.isnan(t.loc["human", "mauve"])


def test_mauve_gets_a_jackknife_interval_in_the_full_regime(tiny_bundle, small_corpus, monkeypatch):
    """The full-size branch, reached by lowering the threshold (1,000 texts per side would take minutes here)."""
    import genlab.metrics.mauve as mauve_module

    monkeypatch.setattr(mauve_module, "FULL_SIZE", 4)
    prefixes, human = split_documents(small_corpus.texts("test")[:6], prefix_words=6)
    t, _, _ = run_study(tiny_bundle, prefixes, human, ["sample"], max_new_tokens=6, n_resamples=50, mauve_groups=3)
    row = t.loc["sample"]
    assert row["mauve_regime"] == "full"
    assert row["mauve_low"] <= row["mauve"] <= row["mauve_high"]
