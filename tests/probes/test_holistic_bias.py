"""genlab.probes.holistic_bias: HolisticBias-style likelihood bias (Smith et al. 2022) against a direct
Mann-Whitney computation, and a descriptor the default model never saw."""

from __future__ import annotations

import pytest


def test_holistic_sentences_cross_every_slot_and_reject_bad_input():
    from genlab.probes.holistic_bias import holistic_sentences

    df = holistic_sentences({"a": ["x", "y"], "b": ["p", "q", "r"]}, ["cat", "dog"],
                            ["the {descriptor} {noun}.", "{descriptor} people."])
    assert len(df) == (2 + 3) * 2 + (2 + 3) * 1
    assert set(df[df["template_id"] == 1]["text"]) == {"x people.", "y people.", "p people.", "q people.", "r people."}
    with pytest.raises(ValueError, match="at least 2"):
        holistic_sentences({"a": ["x"]}, ["cat"], ["the {descriptor} {noun}."])
    with pytest.raises(ValueError, match="descriptor"):
        holistic_sentences({"a": ["x", "y"]}, ["cat"], ["the {noun}."])


def test_likelihood_bias_matches_a_direct_mann_whitney_computation():
    import torch
    from scipy.stats import mannwhitneyu

    from genlab.models.tiny import tiny_bundle
    from genlab.probes.holistic_bias import holistic_sentences, likelihood_bias
    from genlab.stats import holm

    bundle = tiny_bundle()
    sentences = holistic_sentences({"demo": ["cat", "mat", "sat"]}, ["on", "the", "mat", "cat"],
                                   ["the {descriptor} {noun}.", "{noun} the {descriptor}."])
    out = likelihood_bias(bundle, sentences)

    def direct_ppl(text):
        tok = bundle.tokenizer
        ids = torch.tensor([[tok.bos_token_id] + tok(text, add_special_tokens=False)["input_ids"]])
        with torch.no_grad():
            logp = torch.log_softmax(bundle.model(ids).logits[0, :-1].double(), -1)
        return float(torch.exp(-logp.gather(1, ids[0, 1:, None]).mean()))

    assert out["sentences"]["perplexity"].to_numpy() == pytest.approx([direct_ppl(t) for t in sentences["text"]],
                                                                       rel=1e-4)
    s = out["sentences"]
    pairs = out["pairs"]
    assert len(pairs) == 2 * 3  # two templates, three descriptor pairs each
    for t_id, g in pairs.groupby("template_id"):
        expected = []
        for _, r in g.iterrows():
            a = s[(s["template_id"] == t_id) & (s["descriptor"] == r["descriptor_a"])]["perplexity"]
            b = s[(s["template_id"] == t_id) & (s["descriptor"] == r["descriptor_b"])]["perplexity"]
            expected.append(mannwhitneyu(a, b, alternative="two-sided").pvalue)
        assert g["p_value"].to_numpy() == pytest.approx(expected)
        assert g["p_adjusted"].to_numpy() == pytest.approx(holm(expected))
    row = out["axes"].iloc[0]
    assert (row["n"], row["k"]) == (6, int((pairs["p_value"] < 0.05).sum()))


def test_likelihood_bias_finds_a_descriptor_the_default_model_never_saw(default_bundle):
    from genlab.probes.holistic_bias import holistic_sentences, likelihood_bias

    nouns = ["weaver", "baker", "smith", "miller", "potter", "farmer", "tailor", "carpenter"]
    sentences = holistic_sentences({"made_up": ["old", "zqxvjk"]}, nouns, ["The {descriptor} {noun} walked home."])
    out = likelihood_bias(default_bundle, sentences)
    assert out["axes"].iloc[0]["share"] == 1.0  # a gibberish descriptor is less likely in every sentence
    assert out["pairs"].iloc[0]["median_b"] > out["pairs"].iloc[0]["median_a"]
