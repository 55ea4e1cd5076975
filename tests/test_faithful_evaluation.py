"""Faithful to the papers (issue 10): token-weighted perplexity, Holtzman's end-repetition on model tokens, human
continuations cut to the generations' token budget, MAUVE's two regimes, cloze against the name-swap control with a
length-normalised variant, hallucination rates over all prompts, TOST for "close to human" and Holm within a family.
Each check computes the expected value directly (a forward pass, a brute-force rule, a reference test)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from genlab.metrics.multiplicity import holm
from genlab.metrics.repetition import end_repetition, end_repetition_ids
from genlab.studies.evaluation import (
    compare_systems,
    compare_systems_family,
    decoding_study,
    equivalence_to_human,
    match_human_length,
    split_documents,
    summary_table,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def ends_in_loop_brute_force(tokens: list[int]) -> bool:
    """The paper's rule, written out: for some phrase length L >= 2, the last 3L tokens are one phrase three times."""
    for length in range(2, len(tokens) // 3 + 1):
        tail = tokens[len(tokens) - 3 * length :]
        if tail[:length] == tail[length : 2 * length] == tail[2 * length :]:
            return True
    return False


# --- end repetition on model token ids ------------------------------------------------------------------------------
def test_end_repetition_ids_is_the_papers_rule_on_random_sequences():
    rng = np.random.default_rng(0)
    seqs = []
    for _ in range(400):
        body = rng.integers(0, 4, rng.integers(0, 12)).tolist()
        phrase = rng.integers(0, 4, rng.integers(1, 4)).tolist()
        seqs.append(body + phrase * int(rng.integers(0, 5)))
    flags = end_repetition_ids(seqs)
    assert flags == [ends_in_loop_brute_force(s) for s in seqs]
    assert 0.1 < np.mean(flags) < 0.9  # both outcomes occur: the comparison means something


def test_end_repetition_ids_agree_with_the_text_rule_when_each_word_is_one_token():
    texts = ["a b c a b c a b c", "x y x y x y", "the cat sat", "go go go go go go", ""]
    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(w, len(vocab)) for w in t.split()] for t in texts]
    assert end_repetition_ids(ids) == end_repetition(texts) == [True, True, False, True, False]
    assert end_repetition_ids([[3, 4, 3, 4, 3, 4, 0]], eos_id=0) == [True]  # a trailing EOS is dropped
    with pytest.raises(ValueError, match="token ids"):
        end_repetition_ids(["a b a b a b"])


# --- the decoding study ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def study(tiny_bundle, small_corpus):
    docs = [t for t in small_corpus.texts("test") if len(t.split()) > 40][:6]
    prefixes, human = split_documents(docs, prefix_words=6)  # the whole rest of each document
    result = decoding_study(
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
    prefixes, _, result = study
    gens = result.generations.sort_values("prompt_id")
    for system, texts in (("human", None), ("sample", gens[gens.config == "sample"]["text"].tolist())):
        if texts is None:
            texts = match_human_length(tiny_bundle.tokenizer, study[1], 10)
        per_text = [direct_logprobs(tiny_bundle, p, t) for p, t in zip(prefixes, texts, strict=True)]
        total, tokens = sum(-x.sum() for x in per_text), sum(len(x) for x in per_text)
        assert result.table.loc[system, "perplexity"] == pytest.approx(np.exp(total / tokens), rel=1e-5)
        mean_of_means = np.exp(-np.mean([x.mean() for x in per_text if len(x)]))
        lengths = {len(x) for x in per_text}
        if len(lengths) > 1:  # texts of different lengths: the two definitions differ
            assert not np.isclose(result.table.loc[system, "perplexity"], mean_of_means, rtol=1e-6)


def test_repetition_uses_the_generated_token_ids(study):
    _, _, result = study
    for config, g in result.generations.groupby("config"):
        g = g.sort_values("prompt_id")
        expected = [ends_in_loop_brute_force(list(t)) for t in g["tokens"]]
        got = result.per_item.query("system == @config").sort_values("prompt_id")["end_repetition"].tolist()
        assert got == expected
        assert result.table.loc[config, "repetition_pct"] == pytest.approx(100 * np.mean(expected))
    # the random tiny model repeats its last token: greedy ends in a loop on most prompts
    assert result.table.loc["greedy", "repetition_pct"] > 0


def test_human_continuations_are_cut_to_the_token_budget(tiny_bundle, study):
    _, human, result = study
    tok = tiny_bundle.tokenizer
    items = result.per_item.query("system == 'human'").sort_values("prompt_id")
    assert (items["n_tokens"] == 10).all()  # every document is long enough: exactly max_new_tokens tokens
    cut = match_human_length(tok, human, 10)
    for full, part in zip(human, cut, strict=True):
        assert full.startswith(part) and len(tok(part, add_special_tokens=False)["input_ids"]) == 10
    assert result.table.loc["human", "mean_tokens"] == 10
    assert (result.per_item.query("system != 'human'")["n_tokens"] <= 10).all()
    with pytest.raises(ValueError, match="n_tokens"):
        match_human_length(tok, human, 0)


def test_mauve_at_ci_size_is_a_demonstration_without_an_interval(study):
    _, _, result = study
    t = result.table
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
    result = decoding_study(tiny_bundle, prefixes, human, ["sample"], max_new_tokens=6, n_resamples=50, mauve_groups=3)
    row = result.table.loc["sample"]
    assert row["mauve_regime"] == "full"
    assert row["mauve_low"] <= row["mauve"] <= row["mauve_high"]


def test_mauve_regimes():
    from genlab.metrics.mauve import FULL_SIZE, mauve_from_features, mauve_regime

    assert FULL_SIZE == 1000
    assert mauve_regime(999, 5000) == "demonstration"
    assert mauve_regime(1000, 1000) == "full"
    assert mauve_regime(1000, 1000, {"mauve_scaling_factor": 2.0}) == "full, non-default settings"
    rng = np.random.default_rng(0)
    p, q = rng.normal(size=(1000, 8)).astype("float32"), rng.normal(size=(1000, 8)).astype("float32")
    full = mauve_from_features(p, q)
    assert full.regime == "full" and full.num_buckets == 100  # the authors' rule: n / 10
    assert mauve_from_features(p[:40], q[:40]).regime == "demonstration"
    with pytest.raises(ValueError, match="count of texts"):
        mauve_regime(-1, 10)


# --- "close to human" by TOST, families by Holm ----------------------------------------------------------------------
def planted_per_item() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    human = rng.uniform(0, 0.3, 30)
    rows = {"human": human, "close": human + rng.normal(0, 0.01, 30), "far": human + 0.2 + rng.normal(0, 0.01, 30)}
    return pd.concat(
        [pd.DataFrame({"system": k, "prompt_id": range(30), "seq_rep_4": v}) for k, v in rows.items()],
        ignore_index=True,
    )


def test_equivalence_to_human_is_a_paired_tost_with_holm():
    from scipy import stats

    per_item = planted_per_item()
    eq = equivalence_to_human(per_item, "seq_rep_4", 0.05).set_index("system")
    assert eq.loc["close", "equivalent"] and not eq.loc["far", "equivalent"]
    # direct: the two one-sided paired t-tests on the differences, max of the two p-values, then Holm
    p = []
    for name in ("close", "far"):
        d = (
            per_item.query("system == @name")["seq_rep_4"].to_numpy()
            - per_item.query("system == 'human'")["seq_rep_4"].to_numpy()
        )
        se = d.std(ddof=1) / np.sqrt(len(d))
        p_low = stats.t.sf((d.mean() + 0.05) / se, len(d) - 1)
        p_high = stats.t.cdf((d.mean() - 0.05) / se, len(d) - 1)
        p.append(max(p_low, p_high))
        assert eq.loc[name, "difference"] == pytest.approx(d.mean())
    np.testing.assert_allclose(eq["p_value"], p, rtol=1e-9)
    np.testing.assert_allclose(eq["p_adjusted"], holm(p), rtol=1e-9)
    assert (eq["correction"] == "holm").all() and (eq["family_size"] == 2).all()
    assert not equivalence_to_human(per_item, "seq_rep_4", 0.001).set_index("system").loc["close", "equivalent"]
    with pytest.raises(ValueError, match="no 'human' rows"):
        equivalence_to_human(per_item.query("system != 'human'"), "seq_rep_4", 0.05)


def test_compare_systems_family_adjusts_within_the_family():
    per_item = planted_per_item()
    pairs = [("close", "human", "seq_rep_4"), ("far", "human", "seq_rep_4"), ("far", "close", "seq_rep_4")]
    fam = compare_systems_family(per_item, pairs, family="decoding vs human")
    raw = [compare_systems(per_item, a, b, m)["p_value"] for a, b, m in pairs]
    np.testing.assert_allclose(fam["p_value"], raw)
    np.testing.assert_allclose(fam["p_adjusted"], holm(raw))
    assert (fam["family"] == "decoding vs human").all() and (fam["family_size"] == 3).all()
    with pytest.raises(ValueError, match="tuples"):
        compare_systems_family(per_item, [("close", "human")], family="x")


# --- hallucination: every prompt counts ------------------------------------------------------------------------------
def test_hallucination_rates_count_every_prompt(tiny_bundle):
    from genlab.data.world import small_world
    from genlab.metrics.factual import extract_claims
    from genlab.studies.evaluation import hallucination_study

    world = small_world()
    p0, p1 = world.people[:2]
    wrong = next(pl.name for pl in world.places if pl.name != p1.home)
    prompts = [f"{p0.name} lives in {p0.home}.", f"{p1.name} lives in {wrong}.", "A quiet day.", "Rain fell."]
    hall = hallucination_study(tiny_bundle, world, prompts, ["greedy", "sample"], max_new_tokens=4)
    for system, g in hall.generations.groupby("config"):
        texts = [prompts[i] + t for i, t in zip(g["prompt_id"], g["text"], strict=True)]
        claims = extract_claims(texts, world)
        claimed = claims.groupby("text_id").size().reindex(range(4), fill_value=0) > 0
        contradicted = (~claims["supported"]).groupby(claims["text_id"]).sum().reindex(range(4), fill_value=0) > 0
        row = hall.table.loc[system]
        assert row["n_prompts"] == 4
        assert row["claim_rate"] == pytest.approx(claimed.mean()) and row["k_claimed"] == claimed.sum()
        assert row["contradiction_rate"] == pytest.approx(contradicted.mean())  # over all prompts, not over claims
        assert row["contradicted_per_claim"] == pytest.approx((~claims["supported"]).mean())
        assert row["claim_rate_low"] <= row["claim_rate"] <= row["claim_rate_high"]
        assert contradicted[1] and claimed[0]
    # every prompt has a value for both systems: the paired comparison keeps all of them
    for metric in ("claimed", "contradicted"):
        assert hall.per_item[metric].notna().all()
        assert compare_systems(hall.per_item, "greedy", "sample", metric)["n"] == 4


# --- cloze: length-normalised ranking and the name-swap control ------------------------------------------------------
class LengthModel:
    """A fake ContinuationModel: log p = -len(text) x (1 for the true answer, 1.2 for other options); tokens are
    characters. The per-token score always ranks the answer first; the summed score only when it is short."""

    def __init__(self, answers: dict[str, str]):  # prompt -> " " + answer
        self.answers = answers

    def continuation_logprobs(self, prompts, continuations):
        return [
            [-len(c) * (1.0 if c == self.answers[p] else 1.2) for c in conts]
            for p, conts in zip(prompts, continuations, strict=True)
        ]

    def count_tokens(self, texts):
        return [len(t) for t in texts]

    def greedy(self, prompts, max_new_tokens):
        return [""] * len(prompts)


def test_length_normalised_ranking_by_hand():
    from genlab.data.world import small_world
    from genlab.metrics.factual import candidate_ranking, cloze_probes

    probes = [p for p in cloze_probes(small_world(), "canonical") if p.relation in ("lives_in", "works_as")]
    df = candidate_ranking(LengthModel({p.prompt: " " + p.answer for p in probes}), probes)
    assert df["correct_per_token"].all()
    expected = [len(p.answer) + 1 < 1.2 * min(len(c) + 1 for c in p.candidates) for p in probes]
    assert df["correct"].tolist() == expected and 0 < sum(expected) < len(expected)
    np.testing.assert_allclose(df["logprob_per_token"], df["logprob"] / df["n_answer_tokens"])
    assert df["n_answer_tokens"].tolist() == [len(p.answer) + 1 for p in probes]


def test_per_token_logprob_of_a_bundle_counts_its_tokens(tiny_bundle):
    from genlab.data.world import small_world
    from genlab.metrics.factual import candidate_ranking, cloze_probes

    probes = cloze_probes(small_world(), "canonical")[:6]
    df = candidate_ranking(tiny_bundle, probes)
    tok = tiny_bundle.tokenizer
    assert df["n_answer_tokens"].tolist() == [
        len(tok(" " + p.answer, add_special_tokens=False)["input_ids"]) for p in probes
    ]
    np.testing.assert_allclose(df["logprob_per_token"], df["logprob"] / df["n_answer_tokens"])


def test_name_swap_comparison_is_paired_and_matches_mcnemar():
    from genlab.data.world import small_world
    from genlab.metrics.factual import FactOracle, cloze_name_swap, name_swap_comparison

    world = small_world()
    paired = cloze_name_swap(FactOracle(world, min_count=2), world)
    assert (paired["subject"] != paired["swap_subject"]).all()
    t = name_swap_comparison(paired).set_index("scoring")
    a, b = paired["correct"].to_numpy(), paired["correct_swap"].to_numpy()
    row = t.loc["summed log-prob"]
    assert row["accuracy"] == a.mean() and row["swap_accuracy"] == b.mean()
    assert row["difference"] == pytest.approx(a.mean() - b.mean())
    assert row["difference_low"] <= row["difference"] <= row["difference_high"]
    # exact McNemar by hand: twice the binomial(n_discordant, 1/2) tail at the smaller discordant count, at most 1
    only_a, only_b = int((a & ~b).sum()), int((~a & b).sum())
    n = only_a + only_b
    tail = sum(math.comb(n, i) for i in range(min(only_a, only_b) + 1)) / 2**n
    assert only_a > only_b > 0 and row["p_value"] == pytest.approx(min(1.0, 2 * tail), rel=1e-9)
    assert (t["family_size"] == 2).all() and (t["p_adjusted"] >= t["p_value"]).all()


def test_name_swap_reuses_scores_of_the_real_probes():
    from genlab.data.world import small_world
    from genlab.metrics.factual import FactOracle, cloze_name_swap, cloze_probes, score_cloze

    world = small_world()
    oracle = FactOracle(world, min_count=4)
    scores = score_cloze(oracle, cloze_probes(world, "canonical"))
    pd.testing.assert_frame_equal(cloze_name_swap(oracle, world, scores=scores), cloze_name_swap(oracle, world))
    with pytest.raises(ValueError, match="scores must be"):
        cloze_name_swap(oracle, world, scores=scores.iloc[:3])
