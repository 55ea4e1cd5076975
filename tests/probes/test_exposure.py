"""genlab.probes.exposure: the prefix-tree scorer against one plain forward pass per candidate, the tree's
levels against a direct set of prefixes, and exposure on the default model (inserted canaries against controls)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from genlab.models.continuation import continuation_logprobs
from genlab.models.tiny import tiny_masked_bundle
from genlab.probes import exposure as X
from genlab.worlds.text import load_world, small_world

pytestmark = pytest.mark.usefixtures("one_thread")


def test_the_prefix_tree_equals_one_forward_pass_per_candidate(sharp_bundle):
    world = small_world()
    for canary in world.canaries[:: len(world.canaries) // 4][:4]:  # several kinds and counts
        refs = X.reference_secrets(canary, world, 40, seed=3)
        secrets = [canary.secret, *refs, refs[0], refs[5]]  # duplicates share every node
        # batch_size 7: batches cut the tree, so a node is fed again in the next batch
        fast = X.secret_log2_perplexities(sharp_bundle, canary.prefix, secrets, batch_size=7)
        plain = X.independent_log2_perplexities(sharp_bundle, canary.prefix, secrets)
        assert np.abs(fast - plain).max() < 1e-5, canary.id
        assert abs(fast[-2] - fast[1]) < 1e-6 and abs(fast[-1] - fast[6]) < 1e-6
        assert len(set(np.round(plain, 3))) > len(secrets) // 2  # the scores differ: a wrong token would show


def test_the_prefix_tree_scores_candidates_of_different_lengths_and_one_token(sharp_bundle):
    tok = sharp_bundle.tokenizer
    one_token = next(w for w in ("the", "a", "cat") if len(tok(" " + w, add_special_tokens=False)["input_ids"]) == 1)
    secrets = [one_token, "the cat", "the cat sat on the mat", "the dog", "x"]
    fast = X.secret_log2_perplexities(sharp_bundle, "Once upon a time", secrets, batch_size=2)
    plain = X.independent_log2_perplexities(sharp_bundle, "Once upon a time", secrets)
    np.testing.assert_allclose(fast, plain, atol=1e-5)


def test_trie_levels_feed_each_distinct_continued_prefix_once():
    rng = np.random.default_rng(0)
    seqs = [list(rng.integers(0, 4, size=rng.integers(1, 6))) for _ in range(200)]
    lengths = np.array([len(s) for s in seqs])
    ids = np.full((len(seqs), lengths.max()), -1)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = s
    order = np.lexsort(ids.T[::-1])
    ids, lengths = ids[order], lengths[order]
    levels = X.trie_levels(ids, lengths)
    expected = {tuple(s[: k + 1]) for s in seqs for k in range(len(s) - 1)}  # every prefix some sequence continues
    fed = {tuple(ids[row, : d + 1]) for d, (_, _, first) in enumerate(levels) for row in first}
    assert fed == expected and sum(len(first) for _, _, first in levels) == len(expected)
    for d, (alive, node, first) in enumerate(levels):
        # every row goes through the node that holds its own prefix
        assert (ids[first[node], : d + 1] == ids[alive, : d + 1]).all()


def test_models_without_a_reindexable_cache_are_scored_by_the_continuation_scorer():
    masked = tiny_masked_bundle()
    secrets = ["the cat", "the mat"]
    got = X.secret_log2_perplexities(masked, "a", secrets)
    want = -np.asarray(continuation_logprobs(masked, ["a"], [[" " + s for s in secrets]])[0]) / math.log(2)
    np.testing.assert_allclose(got, want, atol=1e-9)


def test_bad_arguments_say_what_to_do(tiny_bundle):
    with pytest.raises(ValueError, match="batch_size"):
        X.secret_log2_perplexities(tiny_bundle, "a", ["b"], batch_size=0)
    with pytest.raises(ValueError, match="n_references"):
        X.canary_exposure(tiny_bundle, small_world(), n_references=1)
    assert X.secret_log2_perplexities(tiny_bundle, "a", []).shape == (0,)


def test_canary_exposure_ranks_the_secret_among_its_own_references(tiny_bundle):
    world = small_world()
    canary = world.canaries[0]
    df = X.canary_exposure(tiny_bundle, world, [canary], n_references=50, seed=1)
    scores = X.independent_log2_perplexities(
        tiny_bundle, canary.prefix, [canary.secret, *X.reference_secrets(canary, world, 50, seed=1)]
    )
    row = df.iloc[0]
    assert row["rank"] == 1 + int(np.sum(scores[1:] <= row["log2_perplexity"]))
    assert row["exposure_rank"] == pytest.approx(math.log2(50) - math.log2(row["rank"]))
    assert row["log2_perplexity"] == pytest.approx(scores[0], abs=1e-5)


def test_inserted_canaries_are_more_exposed_than_controls_on_the_default_model(default_bundle):
    world = load_world()
    high = [next(c for c in world.canaries if c.kind == k and c.count == 64) for k in ("phone", "email", "member_id")]
    controls = [
        next(c for c in world.canaries if c.kind == k and c.count == 0) for k in ("phone", "email", "member_id")
    ]
    df = X.canary_exposure(default_bundle, world, high + controls, n_references=200).set_index("canary_id")
    high_exposure = df.loc[[c.id for c in high], "exposure_rank"]
    control_exposure = df.loc[[c.id for c in controls], "exposure_rank"]
    # 64 insertions: the secret is more likely than every one of its 200 references (log2(200) = 7.6 bits)
    assert (high_exposure == math.log2(200)).all()
    assert high_exposure.min() > control_exposure.max()
    skew = df["exposure_skewnorm"]
    assert skew.loc[[c.id for c in high]].min() > skew.loc[[c.id for c in controls]].max()
