"""The decoding study runs end to end and its table carries an interval around every estimate."""

import numpy as np

from genlab.evaluation import compare_systems, decoding_study, split_documents, summary_table


def test_decoding_study_on_a_tiny_model(tiny_bundle, small_corpus):
    prefixes, human = split_documents(small_corpus.texts("test")[:6], prefix_words=6, continuation_words=20)
    study = decoding_study(tiny_bundle, prefixes, human, ["greedy", "nucleus0.95"], max_new_tokens=12,
                           n_resamples=20, mauve_resamples=2)
    t = study.table
    assert list(t.index) == ["human", "greedy", "nucleus0.95"]
    for m in ("perplexity", "self_bleu4", "rep_2", "diversity", "coherence", "repetition_pct"):
        assert (t[f"{m}_low"] <= t[m] + 1e-9).all() and (t[m] <= t[f"{m}_high"] + 1e-9).all(), m
    assert np.isnan(t.loc["human", "mauve"]) and 0 <= t.loc["greedy", "mauve"] <= 1
    assert summary_table(t).shape[0] == 3
    cmp = compare_systems(study.per_item, "greedy", "nucleus0.95", "coherence")
    assert cmp["n"] == 6 and cmp["ci_low"] <= cmp["difference"] <= cmp["ci_high"]
