"""The decoding study runs end to end and its table carries an interval around every estimate."""

import numpy as np
import pytest

from genlab.studies.evaluation import compare_systems, decoding_study, split_documents, summary_table


def test_decoding_study_on_a_tiny_model(tiny_bundle, small_corpus):
    prefixes, human = split_documents(small_corpus.texts("test")[:6], prefix_words=6, continuation_words=20)
    study = decoding_study(
        tiny_bundle, prefixes, human, ["greedy", "nucleus0.95"], max_new_tokens=12, n_resamples=20, mauve_groups=2
    )
    t = study.table
    assert list(t.index) == ["human", "greedy", "nucleus0.95"]
    for m in ("perplexity", "self_bleu4", "zipf", "rep_2", "diversity", "coherence", "repetition_pct"):
        assert (t[f"{m}_low"] <= t[m] + 1e-9).all() and (t[m] <= t[f"{m}_high"] + 1e-9).all(), m
    assert np.isnan(t.loc["human", "mauve"]) and 0 <= t.loc["greedy", "mauve"] <= 1
    assert summary_table(t).shape[0] == 3
    cmp = compare_systems(study.per_item, "greedy", "nucleus0.95", "coherence")
    assert cmp["n"] == 6 and cmp["difference_low"] <= cmp["difference"] <= cmp["difference_high"]


def test_compare_systems_drops_prompts_missing_a_value():
    import pandas as pd
    import pytest

    per_item = pd.DataFrame(
        {"system": ["a"] * 3 + ["b"] * 3, "prompt_id": [2, 0, 1] * 2, "rate": [np.nan, 0.0, 1.0, 0.5, 1.0, 1.0]}
    )
    r = compare_systems(per_item, "a", "b", "rate")
    # pairs by prompt id (0: 0 vs 1, 1: 1 vs 1); prompt 2 has no value for a
    assert r["n"] == 2 and r["difference"] == pytest.approx(-0.5)
    with pytest.raises(ValueError, match="fewer than 2 prompts"):
        compare_systems(per_item[per_item.prompt_id != 0], "a", "b", "rate")


def test_perplexity_by_group_matches_the_corpus_perplexity(tiny_bundle, small_corpus):
    from genlab.metrics.perplexity import perplexity
    from genlab.studies.evaluation import perplexity_by_group

    docs = small_corpus.test[:8]
    texts, kinds = [d.text for d in docs], [d.kind for d in docs]
    # batch_size=1: every window is scored alone, so a text's float32 logits do not depend on which other windows
    # share its batch (their widths change the kernels' summation order, about 1e-9 relative), and sums match exactly
    df = perplexity_by_group(tiny_bundle, texts, kinds, n_resamples=50, batch_size=1)
    assert df.loc["all", "perplexity"] == pytest.approx(
        perplexity(tiny_bundle, texts, batch_size=1).perplexity, rel=1e-9
    )
    for kind in set(kinds):
        sub = [t for t, k in zip(texts, kinds, strict=True) if k == kind]
        assert df.loc[kind, "perplexity"] == pytest.approx(
            perplexity(tiny_bundle, sub, batch_size=1).perplexity, rel=1e-9
        )
        assert df.loc[kind, "texts"] == len(sub)
    assert ((df.perplexity_low <= df.perplexity + 1e-9) & (df.perplexity <= df.perplexity_high + 1e-9)).all()
    assert df.loc["all", "perplexity_low"] < df.loc["all", "perplexity_high"]


def test_hallucination_study_counts_claims_against_the_world(tiny_bundle, small_corpus):
    from genlab.data.world import small_world
    from genlab.metrics.factual import hallucination_rate
    from genlab.studies.evaluation import hallucination_study, person_prompts

    world = small_world()
    # prompts that already state a claim: the true home for one person, a wrong town for another
    p0, p1 = world.people[:2]
    wrong = next(pl.name for pl in world.places if pl.name != p1.home)
    prompts = [f"{p0.name} lives in {p0.home}.", f"{p1.name} lives in {wrong}."]
    study = hallucination_study(tiny_bundle, world, prompts, ["greedy"], max_new_tokens=4)
    texts = [prompts[i] + t for i, t in enumerate(study.generations.sort_values("prompt_id")["text"])]
    expected = hallucination_rate(texts, world)
    row = study.table.loc["greedy"]
    assert row["n_claims"] == expected.n_claims >= 2 and row["k_contradicted_claims"] == expected.n_contradicted >= 1
    assert row["contradicted_per_claim_low"] <= row["contradicted_per_claim"] <= row["contradicted_per_claim_high"]
    first = study.per_item.set_index("prompt_id")
    assert first.loc[1, "n_contradicted"] >= 1
    assert person_prompts(world)[0] == p0.name


def test_jackknife_keeps_the_estimate_inside_where_the_bootstrap_does_not():
    """Zipf's coefficient of a corpus: bootstrap resamples duplicate texts and shift the statistic."""
    from genlab.metrics.repetition import zipf_coefficient
    from genlab.studies.evaluation import corpus_bootstrap, corpus_jackknife

    rng = np.random.default_rng(0)
    vocab = [f"w{i}" for i in range(400)]
    weights = 1 / np.arange(1, 401)
    texts = [" ".join(rng.choice(vocab, size=30, p=weights / weights.sum())) for _ in range(24)]
    fn = lambda i: zipf_coefficient([texts[j] for j in i])  # noqa: E731
    est, low, high = corpus_jackknife(len(texts), fn, groups=8)
    assert low < est < high
    b_est, b_low, b_high = corpus_bootstrap(len(texts), fn, n_resamples=60)
    assert b_est == est
    # duplicated texts push the bootstrap's Zipf upwards: the estimate sits at the bottom edge of its interval
    assert (est - b_low) / (b_high - b_low) < 0.15
    with pytest.raises(ValueError, match="groups"):
        corpus_jackknife(3, fn, groups=4)


def test_grouped_jackknife_by_hand():
    """Two groups: se = |θ_(1) − θ_(2)| / 2 and the interval is the estimate ± t_{0.975, 1 df} · se."""
    from scipy import stats

    from genlab.studies.evaluation import corpus_jackknife

    x = np.array([1.0, 2.0, 3.0, 10.0])
    label = np.random.default_rng(0).permutation(4) % 2  # the grouping corpus_jackknife deals with seed 0
    without = [x[label != g].mean() for g in (0, 1)]
    est, low, high = corpus_jackknife(4, lambda i: float(x[i].mean()), groups=2, seed=0)
    assert est == pytest.approx(4.0)
    assert high - est == pytest.approx(stats.t.ppf(0.975, 1) * abs(without[0] - without[1]) / 2)
    assert est - low == pytest.approx(high - est)


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


def test_decoding_study_survives_an_empty_continuation(tiny_bundle, small_corpus):
    prefixes, human = split_documents(small_corpus.texts("test")[:5], prefix_words=6, continuation_words=10)
    human[2] = ""  # a document that ends right after its prefix
    study = decoding_study(tiny_bundle, prefixes, human, ["greedy"], max_new_tokens=6, n_resamples=20, mauve_groups=0)
    row = study.table.loc["human"]
    assert row["empty"] == 1 and np.isfinite(row["perplexity"]) and np.isfinite(row["coherence"])
    assert np.isnan(study.per_item.query("system == 'human'").set_index("prompt_id").loc[2, "coherence"])


def test_compare_systems_pairs_by_prompt_id_and_names_bad_input():
    import pandas as pd

    per_item = pd.DataFrame(
        {"system": ["a"] * 3 + ["b"] * 3, "prompt_id": [0, 1, 2, 0, 1, 3], "x": [1.0, 2.0, 3.0, 1.5, 2.0, 9.0]}
    )
    r = compare_systems(per_item, "a", "b", "x")
    assert r["n"] == 2 and r["difference"] == pytest.approx(-0.25)  # prompts 2 and 3 have no partner
    with pytest.raises(ValueError, match="no system 'c'"):
        compare_systems(per_item, "a", "c", "x")
    with pytest.raises(ValueError, match="no 'y' column"):
        compare_systems(per_item, "a", "b", "y")
    with pytest.raises(ValueError, match="several rows for one prompt_id"):
        compare_systems(pd.concat([per_item, per_item.iloc[:1]]), "a", "b", "x")
