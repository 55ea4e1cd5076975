"""World validity and exposure: the estimators against their published definitions, the cached scorer against a
plain forward pass, and the measurements against fakes whose answers are known."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from genlab.probes.cloze import FactOracle
from genlab.probes.exposure import (
    exposure_extrapolation,
    exposure_interpolation,
    reference_secrets,
    secret_log2_perplexities,
)
from genlab.probes.next_token_association import association_fit, association_probe
from genlab.probes.world_validity import fact_recall, recall_by_count, seen_templates, validity_summary
from genlab.worlds.text import generate_corpus, small_world

pytestmark = pytest.mark.usefixtures("one_thread")


def _authors_interpolation(perplexities: dict, reference: list[float]) -> dict:
    """tensorflow/privacy secret_sharer compute_exposure_interpolation, written out from its published code:
    sort secrets and references together; a secret's rank is 1 + the references sorted before it."""
    reps = list(perplexities)
    concat = np.concatenate([perplexities[r] for r in reps] + [reference])
    labels = np.concatenate([[r] * len(perplexities[r]) for r in reps] + [[0] * len(reference)])
    labels = labels[np.argsort(concat, kind="stable")]
    cum = np.cumsum(labels == 0)
    return {r: np.log2(len(reference)) - np.log2(cum[labels == r] + 1) for r in reps}


def test_interpolation_matches_the_authors_rule_on_distinct_values():
    rng = np.random.default_rng(1)
    reference = rng.normal(40, 3, 3000)
    secrets = {8: rng.normal(35, 4, 20), 64: rng.normal(25, 4, 20)}
    expected = _authors_interpolation(secrets, list(reference))
    for r, values in secrets.items():
        # the authors' function returns exposures in sorted order; compare as sorted arrays
        assert np.allclose(np.sort(exposure_interpolation(values, reference)), np.sort(expected[r]))


def test_exposure_examples_from_the_definition():
    refs = np.arange(1024.0)
    assert exposure_interpolation([-1.0], refs)[0] == 10.0  # rank 1 of 1024: log2 |R|
    assert exposure_interpolation([1023.0], refs)[0] == pytest.approx(np.log2(1024) - np.log2(1025))


def test_a_never_inserted_secret_averages_one_over_ln2_bits():
    """E[-log2 U] = 1/ln 2 for a uniform rank (Carlini et al.): both estimators, on secrets drawn like references."""
    rng = np.random.default_rng(0)
    reference = rng.gamma(5.0, 2.0, 4000)
    fresh = rng.gamma(5.0, 2.0, 4000)
    assert exposure_interpolation(fresh, reference).mean() == pytest.approx(1 / math.log(2), abs=0.08)
    assert exposure_extrapolation(fresh, reference).mean() == pytest.approx(1 / math.log(2), abs=0.1)


def test_extrapolation_is_the_skew_normal_tail():
    from scipy.stats import skewnorm

    reference = skewnorm.rvs(4.0, loc=30, scale=3, size=5000, random_state=2)
    params = skewnorm.fit(reference)
    value = 22.0
    assert exposure_extrapolation([value], reference)[0] == pytest.approx(-np.log2(skewnorm.cdf(value, *params)))
    assert exposure_extrapolation([value], reference)[0] > np.log2(len(reference))  # past the rank ceiling


def test_cached_secret_scores_equal_a_plain_forward_pass(sharp_bundle):
    import torch

    tok, model = sharp_bundle.tokenizer, sharp_bundle.model
    prefix = "The phone number of Dagodan is"
    secrets = ["555-1234-5678", "555-0000-9999", "a@b.example", "7"]  # unequal token lengths: padding is masked
    cached = secret_log2_perplexities(sharp_bundle, prefix, secrets, batch_size=3)
    for secret, got in zip(secrets, cached, strict=True):
        p_ids = [tok.bos_token_id] + tok(prefix, add_special_tokens=False)["input_ids"]
        s_ids = tok(" " + secret, add_special_tokens=False)["input_ids"]
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([p_ids + s_ids])).logits[0]
        lp = torch.log_softmax(logits.double(), -1)[len(p_ids) - 1 : -1].gather(1, torch.tensor(s_ids)[:, None])
        assert got == pytest.approx(float(-lp.sum() / math.log(2)), rel=1e-4, abs=1e-4)


def test_reference_secrets_follow_the_format_and_exclude_the_canary():
    world = small_world()
    for canary in world.canaries:
        refs = reference_secrets(canary, world, 200, seed=3)
        assert canary.secret not in refs and len(set(refs)) > 190
        shape = lambda s: "".join("D" if ch.isdigit() else "L" if ch.isupper() else ch  # noqa: E731
                                  for ch in s.split("@")[0])
        assert {shape(r) for r in refs} == {shape(canary.secret)}
    assert reference_secrets(world.canaries[0], world, 5, seed=3) == reference_secrets(world.canaries[0], world, 5, 3)


@pytest.fixture(scope="module")
def corpus():
    return generate_corpus(n_train_docs=200, n_validation_docs=0, n_test_docs=0, world=small_world())


def test_seen_template_is_the_one_used_most(corpus):
    seen = seen_templates(corpus)
    statements = corpus.fact_statements()
    for fact in corpus.world.facts:
        used = [t for _, t in statements[fact.id]]
        assert used.count(seen[fact.id]) == max(used.count(t) for t in set(used))


def test_fact_recall_against_an_oracle(corpus):
    """The oracle knows every fact seen twice or more: seen accuracy is exactly that, the held-out template
    (which it never saw) scores nothing, and the name-swap control stays below the seen accuracy."""
    recall = fact_recall(FactOracle(corpus.world, min_count=2), corpus)
    assert (recall["correct_seen"] == (recall["count"] >= 2)).all()
    assert not recall["correct_heldout"].any()
    by = recall_by_count(recall).set_index(["probe", "count"])
    assert by.loc[("swap", 4), "accuracy"] < by.loc[("seen", 4), "accuracy"]
    assert (by["accuracy_low"] <= by["accuracy"]).all() and (by["accuracy"] <= by["accuracy_high"]).all()


def test_association_fit_recovers_a_known_line_and_its_uncertainty():
    rng = np.random.default_rng(0)
    planted = np.repeat([0.1, 0.3, 0.5, 0.7, 0.9], 12)
    df = pd.DataFrame({"planted": planted, "model": 0.1 + 0.8 * planted + rng.normal(0, 0.05, planted.size)})
    fit = association_fit(df, n_resamples=1000, seed=1)
    assert fit["slope_low"] < 0.8 < fit["slope_high"]
    assert fit["pearson_r"] > 0.95 and fit["n"] == 60
    with pytest.raises(ValueError, match="two planted levels"):
        association_fit(pd.DataFrame({"planted": [0.5] * 5, "model": rng.random(5)}))


def test_association_probe_reads_the_two_group_words(tiny_bundle):
    world = small_world()
    probe = association_probe(tiny_bundle, world)
    assert len(probe) == len(world.associations)
    assert probe["model"].between(0, 1).all() and (probe["n_templates"] >= 3).all()
    assert set(probe.columns) >= {"planted", "model", "axis", "frequency"}


def test_summary_reports_targets_from_the_tables(corpus):
    recall = fact_recall(FactOracle(corpus.world, min_count=2), corpus)
    assoc = pd.DataFrame({"planted": [0.1, 0.3, 0.5, 0.7, 0.9] * 2, "model": [0.1, 0.3, 0.5, 0.7, 0.9] * 2})
    exposure = pd.DataFrame({"count": [0, 0, 2, 2], "exposure_rank": [1.0, 2.0, 8.0, 9.0]})
    summary = validity_summary({"facts_by_count": recall_by_count(recall), "associations": assoc,
                                "exposure": exposure})
    assert summary["facts"]["seen_accuracy"] == [0.0, 1.0, 1.0]
    met = summary["targets_met"]
    assert met["fact_seen_accuracy_at_top_count"] and met["association_pearson_r"] and met["association_slope"]
    assert met["exposure_rises_with_count"] and met["fact_count1_not_above_swap"]
