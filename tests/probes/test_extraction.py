"""genlab.probes.extraction: each membership metric against a direct computation, precision at k on rankings with
known hits (the interval from scipy's beta quantiles), the hit rule, the prompts and targets, and a short attack
on the default model from owner-name prompts."""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest
import torch
from scipy.stats import beta, rankdata

from genlab.metrics.zlib_entropy import zlib_entropy
from genlab.probes import extraction as E
from genlab.worlds.text import generate_corpus, load_world

pytestmark = pytest.mark.usefixtures("one_thread")


def direct_log_perplexity(bundle, text: str) -> float:
    """Mean -log p(token | BOS and the tokens before it) over the text's tokens, nats, one plain forward pass."""
    tok = bundle.tokenizer
    ids = [tok.bos_token_id] + tok(text, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logp = torch.log_softmax(bundle.model(input_ids=torch.tensor([ids])).logits[0, :-1].double(), dim=-1)
    return -float(logp.gather(1, torch.tensor(ids[1:])[:, None]).mean())


def test_zlib_entropy_is_eight_bits_per_compressed_byte():
    texts = ["", "a", "the cat sat on the mat. " * 20, "naïve café 東京 🙂", "555-1234-5678"]
    assert zlib_entropy(texts) == [8.0 * len(zlib.compress(bytes(t, "utf-8"))) for t in texts]
    assert zlib_entropy(["ab" * 200])[0] < zlib_entropy(["".join(chr(97 + (i * 7) % 26) for i in range(400))])[0]
    with pytest.raises(ValueError, match="list of strings"):
        zlib_entropy("one text")


def test_each_membership_metric_equals_its_direct_computation(tiny_bundle, sharp_bundle):
    texts = ["The Cat sat on the Mat.", "the cat sat on the mat.", "Volarra wrote to Minel at Frostmouth."]
    df = E.membership_scores(sharp_bundle, texts, reference=tiny_bundle)
    target = np.array([direct_log_perplexity(sharp_bundle, t) for t in texts])
    lower = np.array([direct_log_perplexity(sharp_bundle, t.lower()) for t in texts])
    ref = np.array([direct_log_perplexity(tiny_bundle, t) for t in texts])
    bits = np.array([8.0 * len(zlib.compress(t.encode("utf-8"))) for t in texts])
    np.testing.assert_allclose(df["log_perplexity"], target, rtol=1e-6)
    np.testing.assert_allclose(df["score_perplexity"], -target, rtol=1e-6)
    np.testing.assert_allclose(df["score_reference"], ref / target, rtol=1e-5)
    np.testing.assert_allclose(df["score_lowercase"], lower / target, rtol=1e-5)
    np.testing.assert_allclose(df["score_zlib"], bits / target, rtol=1e-6)
    assert df["score_lowercase"].iloc[1] == pytest.approx(1.0)  # already lowercase: the ratio is exactly 1
    assert "score_reference" not in E.membership_scores(sharp_bundle, texts)


def test_a_uniform_model_has_log_perplexity_log_vocabulary(tiny_bundle):
    import copy

    bundle = copy.copy(tiny_bundle)
    bundle.model = copy.deepcopy(tiny_bundle.model)
    torch.nn.init.zeros_(bundle.model.lm_head.weight)  # all logits equal: p = 1 / V for every token
    values = E.log_perplexities(bundle, ["the cat sat.", "a"])
    np.testing.assert_allclose(values, math.log(bundle.model.config.vocab_size), rtol=1e-6)


def clopper_pearson(k: int, n: int) -> tuple[float, float]:
    low = 0.0 if k == 0 else beta.ppf(0.025, k, n - k + 1)
    high = 1.0 if k == n else beta.ppf(0.975, k + 1, n - k)
    return low, high


def test_precision_at_k_on_a_ranking_with_known_hits():
    rng = np.random.default_rng(0)
    scores = rng.permutation(100).astype(float)  # distinct scores 0..99
    hits = scores >= 90  # the top ten are hits ...
    hits[scores == 50] = True  # ... and one in the middle
    df = E.precision_at_k(scores, hits, [5, 10, 20, 60, 500]).set_index("top_k")
    expected = {5: (5, 5), 10: (10, 10), 20: (20, 10), 60: (60, 11), 500: (100, 11)}  # top_k -> (n, hits)
    for top, (n, k) in expected.items():
        row = df.loc[top]
        assert (row["n"], row["k"]) == (n, k)
        assert row["precision"] == pytest.approx(k / n)
        assert (row["precision_low"], row["precision_high"]) == pytest.approx(clopper_pearson(k, n))
    reversed_df = E.precision_at_k(-scores, hits, [10]).iloc[0]
    assert reversed_df["k"] == 0  # the worst ranking finds no hit in its top ten


def test_precision_at_k_ties_keep_order_and_nan_ranks_last():
    df = E.precision_at_k([np.nan, 1.0, 1.0, 0.0], [True, False, True, False], [1, 2, 3])
    assert df["k"].tolist() == [0, 1, 1]  # order: 1.0 (miss), 1.0 (hit), 0.0, then nan
    with pytest.raises(ValueError, match="one score per hit"):
        E.precision_at_k([1.0, 2.0], [True], [1])
    with pytest.raises(ValueError, match=">= 1"):
        E.precision_at_k([1.0], [True], [0])


def test_hit_rule_is_verbatim_with_no_letter_or_digit_around():
    values = ["555-1234-5678", "ab1234@post.example", "KA-123456"]
    texts = [
        "call 555-1234-5678.",  # hit
        "call 555-1234-56789",  # a digit after it: another number
        "x555-1234-5678",  # a letter before it
        "mail ab1234@post.example, or KA-123456",  # two hits
        "mail AB1234@post.example",  # case differs: not verbatim
        "KA-12345",  # truncated
    ]
    assert E.find_hits(texts, values) == [
        ["555-1234-5678"],
        [],
        [],
        ["ab1234@post.example", "KA-123456"],
        [],
        [],
    ]


def test_owner_prompts_are_never_an_exact_canary_prefix():
    world = load_world()
    prompts = E.extraction_prompts(world)
    exact = {c.prefix for c in world.canaries}
    owner = prompts[prompts["prompt_set"] == "owner"]
    assert len(owner) == len(world.canaries) * len(E.owner_templates())
    assert not set(prompts["prompt"]) & exact
    for c in world.canaries:  # every owner gets its name alone and its own sentence cut before the last word
        mine = set(owner.loc[owner["owner"] == c.owner, "prompt"])
        cut = c.prefix.rsplit(" ", 1)[0]
        assert cut in mine and c.owner in mine
    with pytest.raises(ValueError, match="exact canary prefix"):
        E.extraction_prompts(world, templates=["The phone number of {owner} is"])


def test_targets_are_the_canaries_and_the_planted_pii_of_the_training_split(small_corpus):
    world = small_corpus.world
    targets = E.extraction_targets(world, small_corpus, pii_types=("phone", "email"))
    canaries = targets[targets["source"] == "canary"].set_index("canary_id")
    assert {c.id: c.count for c in world.canaries} == canaries["count"].to_dict()
    pii = targets[targets["source"] == "pii"].set_index("value")
    spans = [(d.id, s["text"], s["type"]) for d in small_corpus.train for s in d.pii if s["type"] in ("phone", "email")]
    assert set(pii.index) == {v for _, v, _ in spans}
    for value, row in pii.iterrows():
        assert row["count"] == len({doc for doc, v, _ in spans if v == value})
        assert row["kind"] in ("phone", "email")
    with pytest.raises(ValueError, match="unknown PII type"):
        E.extraction_targets(world, small_corpus, pii_types=("phone", "passport"))


def test_an_attack_from_owner_names_extracts_high_count_secrets_on_the_default_model(default_bundle):
    world = load_world()
    corpus = generate_corpus(n_train_docs=24_000, n_validation_docs=1, n_test_docs=1, seed=0, world=world)
    attacked = [c for c in world.canaries if c.count == 64]  # 30 owners x 4 prompts, one sample each
    config = E.ExtractionConfig(owners_per_count=None, neutral_samples=0, owner_samples=1, cutoffs=(10, 120))
    result = E.extraction_attack(default_bundle, world, corpus=corpus, canaries=attacked, config=config)
    assert (result.candidates["prompt_set"] == "owner").all()
    assert result.candidates["text"].is_unique
    extracted = result.extracted[result.extracted["source"] == "canary"]
    assert (extracted["count"] >= 32).any()  # at least one often-inserted secret comes out
    assert result.by_count.set_index("count").loc[64, "k"] >= 1
    hits = result.candidates["hit"]
    assert result.precision.query("metric == 'base_rate'")["k"].item() == hits.sum()
    # every hit holds a target value that is in the training data, verbatim
    in_training = set(result.targets.loc[result.targets["count"] > 0, "value"])
    for text, values in zip(result.candidates.loc[hits, "text"], result.candidates.loc[hits, "values"], strict=True):
        assert any(v in text for v in set(values) & in_training)
    # a hit is a secret the model finds likely: hits sit in the better half of the perplexity ranking
    ranks = rankdata(-result.candidates["score_perplexity"].to_numpy(), method="ordinal")
    assert np.median(ranks[hits.to_numpy()]) < len(ranks) / 2
