"""genlab.experiments.bias_mitigation: the arms' training data, the hierarchical summary, and a resumable study.

Reading the saved runs back and plotting the summary happen in notebook 30, whose cells check them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from genlab.experiments import bias_mitigation as bm
from genlab.training.tasks import build_task
from genlab.worlds.text import small_world


@pytest.fixture(scope="module")
def task():
    return build_task("story", small_world(), seed=0, n_train=60, n_eval=8)


def _pronoun_counts(stories, occupations):
    counts = {}
    for s, o in zip(stories, occupations, strict=True):
        p = bm.first_pronoun(s)
        if p is not None:
            counts.setdefault(o, {"she": 0, "he": 0})[p] += 1
    return counts


def test_cda_doubles_the_stories_and_balances_every_occupation(task):
    data, adversarial = bm.arm_dataset(task, "cda")
    assert adversarial is None and len(data) == 2 * len(task.train)
    occupations = list(task.train["occupation"]) * 2
    for occ, c in _pronoun_counts(data["completion"], occupations).items():
        assert c["she"] == c["he"], occ
    assert data["prompt"][: len(task.train)] == data["prompt"][len(task.train) :]


def test_cleaning_drops_only_the_surplus_pronoun(task):
    stories, occupations = list(task.train["completion"]), list(task.train["occupation"])
    kept = bm.balance_stories(stories, occupations)
    before = _pronoun_counts(stories, occupations)
    kept_occ = [occupations[stories.index(s)] for s in kept]
    after = _pronoun_counts(kept, kept_occ)
    for occ, c in before.items():
        m = min(c["she"], c["he"])
        assert after.get(occ, {"she": 0, "he": 0}) == {"she": m, "he": m}, occ
    data, _ = bm.arm_dataset(task, "cleaned")
    assert list(data["completion"]) == kept


def test_fgm_arm_trains_on_the_plain_stories_adversarially(task):
    plain, none = bm.arm_dataset(task, "plain")
    fgm, config = bm.arm_dataset(task, "fgm")
    assert none is None and config.method == "fgm"
    assert list(plain["completion"]) == list(fgm["completion"]) == list(task.train["completion"])
    with pytest.raises(ValueError, match="unknown arm"):
        bm.arm_dataset(task, "debias")


def test_balance_needs_one_occupation_per_story():
    with pytest.raises(ValueError, match="one per story"):
        bm.balance_stories(["She slept."], [])


def _scores(values: dict) -> pd.DataFrame:
    rows = []
    for arm, table in values.items():
        for s, row in enumerate(table):
            rows += [
                {"arm": arm, "seed": s, "probe": "p", "item": f"i{j}", "planted": 0.9, "score": v}
                for j, v in enumerate(row)
            ]
    return pd.DataFrame(rows)


def test_summary_estimates_are_the_means_and_the_paired_difference():
    from genlab.stats import paired_hierarchical_comparison

    rng = np.random.default_rng(0)
    plain = rng.normal(0.7, 0.05, size=(3, 40))
    cda = plain - 0.2 + rng.normal(0, 0.01, size=(3, 40))
    scores = _scores({"plain": plain, "cda": cda})
    out = bm.summarise(scores, n_resamples=500).set_index("arm")
    assert out.loc["plain", "x"] == pytest.approx(plain.mean())
    assert out.loc["cda", "diff"] == pytest.approx(cda.mean() - plain.mean())
    direct = paired_hierarchical_comparison(scores, "cda", "plain", n_resamples=500)
    assert (out.loc["cda", "diff_low"], out.loc["cda", "diff_high"]) == pytest.approx((direct.low, direct.high))
    assert out.loc["cda", "diff_low"] < -0.19 < out.loc["cda", "diff_high"] < 0
    assert out.loc["cda", "p_permutation"] == pytest.approx(0.1)  # 3 runs per arm: 20 arrangements, 2/20 at best
    assert (out.loc["plain", "n_seeds"], out.loc["plain", "n_items"]) == (3, 40)
    assert np.isnan(out.loc["plain", "diff"]) and out.loc["cda", "interval"] == "mixed model t"


def test_summary_holm_adjusts_within_each_probe():
    rng = np.random.default_rng(2)
    base = rng.normal(0.5, 0.1, size=(3, 30))
    arms = {"plain": base, "a": base + rng.normal(0.0, 0.05, (3, 30)), "b": base + 0.05 + rng.normal(0, 0.05, (3, 30))}
    out = bm.summarise(_scores(arms), n_resamples=200).set_index("arm")
    p = out.loc[["a", "b"], "p_value"].to_numpy()
    expected = np.minimum(1, np.maximum.accumulate(np.sort(p) * [2, 1]))[np.argsort(np.argsort(p))]
    assert out.loc[["a", "b"], "p_adjusted"].to_numpy() == pytest.approx(expected)
    assert set(out.loc[["a", "b"], "family_size"]) == {2}


def test_summary_interval_widens_with_seed_to_seed_variation():
    rng = np.random.default_rng(1)
    items = rng.normal(0.6, 0.05, size=40)
    steady = np.tile(items, (3, 1)) + rng.normal(0, 0.01, size=(3, 40))
    shaky = steady + np.array([[-0.1], [0.0], [0.1]])  # the same items, runs that differ by a shift
    out = bm.summarise(_scores({"steady": steady, "shaky": shaky}), reference="none")
    width = (out["x_high"] - out["x_low"]).to_numpy()
    assert width[1] > 2 * width[0]


def test_a_study_runs_every_arm_and_resumes_from_its_saved_runs(tmp_path, monkeypatch):
    from genlab.models.tiny import tiny_bundle

    world = small_world()
    t = build_task("story", world, seed=0, n_train=16, n_eval=4)
    texts = list(t.train["prompt"]) + list(t.train["completion"])
    base = tiny_bundle(texts=texts, n_positions=256)
    settings = bm.MitigationSettings(
        n_train=16,
        n_eval=4,
        steps=2,
        batch_size=4,
        seeds=(0,),
        n_heldout_docs=3,
        max_new_tokens=8,
        arms=("plain", "cda"),
    )
    first = bm.run_study(base, settings, world=world, out_dir=tmp_path)
    assert set(first.scores["arm"]) == {"base", "plain", "cda"}
    assert set(first.scores["probe"]) >= {"pair_bias", "story_coverage", "heldout_ppl"}
    from genlab.probes.crows_pairs import world_pairs

    n_pairs = int((world_pairs(world)["bias_type"] == "gender").sum())
    pair = first.scores[(first.scores["arm"] == "plain") & (first.scores["probe"] == "pair_bias")]
    assert len(pair) == n_pairs and pair["score"].between(0, 1).all()

    def no_training(*args, **kwargs):
        raise AssertionError("a saved run was trained again")

    monkeypatch.setattr("genlab.training.finetuning.finetune", no_training)
    again = bm.run_study(base, settings, world=world, out_dir=tmp_path)
    pd.testing.assert_frame_equal(again.scores, first.scores, check_dtype=False)
