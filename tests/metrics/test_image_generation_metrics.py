"""Image-generation metrics against closed forms and planted effects: the Fréchet distance of Gaussians, its
small-sample bias and FID_inf, pairwise diversity against a direct computation, a near-copy detector on planted
copies and fresh draws of the drawn world, and the share of a planted attribute."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import cdist

from genlab.metrics import image_generation as ig
from genlab.stats import exact_binomial_ci
from genlab.worlds.drawn import build_drawn_world


def _closed_form(mu1, s1, mu2, s2) -> float:
    """Fréchet distance of two Gaussians via the symmetric form tr((S1^1/2 S2 S1^1/2)^1/2), by eigendecomposition."""
    w, v = np.linalg.eigh(s1)
    root1 = v @ np.diag(np.sqrt(np.clip(w, 0, None))) @ v.T
    inner = np.linalg.eigvalsh(root1 @ s2 @ root1)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.sum(np.sqrt(np.clip(inner, 0, None))))


def _random_cov(rng, d):
    a = rng.normal(size=(d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


# --- Fréchet distance -------------------------------------------------------------------------------------------


def test_identical_sets_give_zero_and_distance_is_symmetric():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(200, 6)), rng.normal(1.0, 2.0, size=(150, 6))
    assert ig.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)
    assert ig.frechet_distance(a, b) == pytest.approx(ig.frechet_distance(b, a), rel=1e-8)
    assert ig.frechet_distance(a + 5.0, b + 5.0) == pytest.approx(ig.frechet_distance(a, b), rel=1e-8)


def test_one_dimension_is_mean_and_sd_difference():
    rng = np.random.default_rng(1)
    a, b = rng.normal(0.0, 1.0, 300), rng.normal(2.0, 3.0, 400)
    expected = (a.mean() - b.mean()) ** 2 + (a.std(ddof=1) - b.std(ddof=1)) ** 2
    assert ig.frechet_distance(a[:, None], b[:, None]) == pytest.approx(expected, rel=1e-10)


def test_statistics_match_closed_forms():
    rng = np.random.default_rng(2)
    d = 5
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    a, b = rng.uniform(0.5, 3, d), rng.uniform(0.5, 3, d)  # diagonal: sum (sqrt a - sqrt b)^2
    diag = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert ig.frechet_distance_from_statistics(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(diag, rel=1e-10)
    s1, s2 = _random_cov(rng, d), _random_cov(rng, d)  # general covariances: the symmetric form
    expected = _closed_form(mu1, s1, mu2, s2)
    assert ig.frechet_distance_from_statistics(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-8)
    s = _random_cov(rng, d)  # equal covariances: only the means differ
    assert ig.frechet_distance_from_statistics(mu1, s, mu2, s) == pytest.approx(np.sum((mu1 - mu2) ** 2), rel=1e-7)


def test_samples_converge_to_the_population_distance():
    rng = np.random.default_rng(3)
    d = 4
    mu1, mu2, s1, s2 = rng.normal(size=d), rng.normal(size=d), _random_cov(rng, d), _random_cov(rng, d)
    a = rng.multivariate_normal(mu1, s1, size=40_000)
    b = rng.multivariate_normal(mu2, s2, size=40_000)
    assert ig.frechet_distance(a, b) == pytest.approx(_closed_form(mu1, s1, mu2, s2), rel=0.03)


def test_singular_covariances_stay_finite():
    rng = np.random.default_rng(4)
    a = rng.normal(size=(5, 20))  # 5 items in 20 dimensions: rank-4 covariance
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert ig.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-3)
        assert np.isfinite(ig.frechet_distance(a, rng.normal(size=(6, 20))))


def test_small_n_bias_and_fid_infinity():
    rng = np.random.default_rng(5)
    d = 8
    ref, gen = rng.normal(size=(20_000, d)), rng.normal(size=(2_000, d))  # one distribution: the true FID is 0
    small = np.mean([ig.frechet_distance(ref, gen[i * 100 : (i + 1) * 100]) for i in range(5)])
    assert small > 0.05  # FID's bias at n = 100 is about d(d+1)/(2n) for unit covariances: ~0.36 here
    r = ig.fid_infinity(ref, gen, n_points=10, n_min=200, seed=0)
    assert len(r.ns) == 10 and r.ns[0] == 200 and r.ns[-1] == 2000
    assert abs(r.estimate) < 0.25 * small and abs(r.estimate) < abs(r.fids[-1])  # nearer 0 than any single n
    assert r.slope > 0 and r.low <= r.estimate <= r.high
    # with a real difference the intercept sits at the population value (mean shift 0.5 in one dimension: 0.25)
    shifted = gen + np.eye(d)[0] * 0.5
    r2 = ig.fid_infinity(ref, shifted, n_points=10, n_min=200, seed=0)
    assert r2.estimate == pytest.approx(0.25, abs=0.06)


def test_bootstrap_interval_covers_the_truth():
    rng = np.random.default_rng(6)
    a, b = rng.normal(size=(400, 2)), rng.normal([1.0, 0.0], 1.0, size=(400, 2))  # truth: 1
    r = ig.frechet_distance_ci(a, b, n_resamples=150, seed=0)
    assert r.low < 1.0 < r.high and r.low < r.estimate < r.high and r.n_resamples == 150


# --- diversity --------------------------------------------------------------------------------------------------


def test_diversity_is_the_mean_pairwise_distance_with_a_jackknife_interval():
    rng = np.random.default_rng(7)
    x = rng.integers(0, 256, size=(12, 8, 8, 3), dtype=np.uint8)
    r = ig.pairwise_diversity(x)
    flat = x.reshape(12, -1) / 255.0
    d = cdist(flat, flat)
    assert r.estimate == pytest.approx(d[np.triu_indices(12, 1)].mean(), rel=1e-12)
    loo = []
    for i in range(12):  # brute-force leave-one-out
        keep = [j for j in range(12) if j != i]
        sub = d[np.ix_(keep, keep)]
        loo.append(sub[np.triu_indices(11, 1)].mean())
    se = np.sqrt(11 / 12 * np.sum((np.array(loo) - np.mean(loo)) ** 2))
    assert r.high - r.estimate == pytest.approx(stats.norm.ppf(0.975) * se, rel=1e-9)
    same = ig.pairwise_diversity(np.repeat(x[:1], 5, axis=0))
    assert (same.estimate, same.low, same.high) == (0.0, 0.0, 0.0)
    cos = ig.pairwise_diversity(flat, metric="cosine")
    assert 0 < cos.estimate < 1


def test_diversity_by_prompt_orders_prompts_by_spread():
    w = build_drawn_world(0, 200, seed=2, eval_held_out_share=0.0, kind_shares={"single": 1.0})
    t = w.table
    prompts = np.where(t["size"] == "large", "large", "small")
    table = ig.diversity_by_prompt(w.images, list(prompts)).set_index("prompt")
    assert table.loc["large", "diversity"] > table.loc["small", "diversity"]  # bigger shapes differ in more pixels
    assert (table.diversity_low < table.diversity).all() and (table.diversity < table.diversity_high).all()


# --- memorisation -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def memorisation_world():
    return build_drawn_world(400, 0, seed=9, duplicates={4: 6, 16: 3})


def test_near_copies_flagged_and_fresh_draws_not(memorisation_world):
    train = memorisation_world.split("train")
    rng = np.random.default_rng(0)
    picked = rng.choice(len(train), size=25, replace=False)
    noise = rng.integers(-3, 4, size=train.images[picked].shape)  # a near copy: +-3 levels of 255 per channel
    copies = np.clip(train.images[picked].astype(int) + noise, 0, 255).astype(np.uint8)
    fresh = build_drawn_world(0, 40, seed=123, eval_held_out_share=0.0).images  # new draws of the same world
    table = ig.nearest_training(np.concatenate([copies, fresh]), train.images)
    assert table.near_copy[:25].all() and not table.near_copy[25:].any()
    # the relative rule at its default threshold also flags all copies, but is looser on same-spec twins: it flags a
    # few fresh draws (15 of 500 in a measurement at this size); a threshold between the groups still exists
    assert table.near_copy_relative[:25].all() and table.near_copy_relative[25:].mean() < 0.1
    assert table.relative_distance[:25].max() < table.relative_distance[25:].min()
    same_image = train.table.image_id.to_numpy()
    assert (same_image[table.nearest[:25]] == same_image[picked]).all()  # it found the copied image
    assert (table.nearest_copies[:25].to_numpy() == train.table.duplicate_count.to_numpy()[picked]).all()
    assert (table.second_distance >= table.distance).all()
    assert (same_image[table.second_nearest] != same_image[table.nearest]).all()  # second is a distinct image

    # in a feature space (8x8 average-pooled colour), the same copies are found
    def pool(images):
        return images.reshape(len(images), 8, 4, 8, 4, 3).mean((2, 4))

    feat = ig.nearest_training(pool(np.concatenate([copies, fresh])), pool(train.images))
    assert feat.near_copy[:25].all() and feat.near_copy[25:].mean() < 0.1


def test_extraction_rate_by_duplication_count(memorisation_world):
    train = memorisation_world.split("train")
    t = train.table
    # a model that regenerates every picture seen 16 times and nothing else
    first_rows = t.drop_duplicates("image_id")
    memorised = first_rows.index[first_rows.duplicate_count == 16]
    fresh = build_drawn_world(0, 30, seed=77, eval_held_out_share=0.0).images
    generated = np.concatenate([train.images[np.repeat(memorised, 2)], fresh])
    near = ig.nearest_training(generated, train.images)
    table = ig.extraction_by_duplication(near, t.image_id, t.duplicate_count).set_index("duplicate_count")
    assert table.loc[16, ["n", "k", "n_generated_copies"]].tolist() == [3, 3, 6]
    assert table.loc[4, "k"] == 0 and table.loc[4, "n"] == 6 and table.loc[1, "k"] == 0
    ci = exact_binomial_ci(0, int(table.loc[1, "n"]))
    assert table.loc[1, ["extracted_low", "extracted_high"]].tolist() == pytest.approx([ci.low, ci.high])


# --- planted skew -----------------------------------------------------------------------------------------------


def test_attribute_share_against_the_planted_share():
    r = ig.attribute_share(["red"] * 90 + ["blue"] * 10, "red", planted=0.8, chance=1 / 6)
    assert (r.k, r.n, r.share) == (90, 100, 0.9)
    assert r.p_value == pytest.approx(stats.binomtest(90, 100, 0.8).pvalue) and r.p_value < 0.05  # amplified
    ci = exact_binomial_ci(90, 100)
    assert (r.share_low, r.share_high) == pytest.approx((ci.low, ci.high))
    # the drawn world's own training images for unnamed-colour captions reproduce the planted share
    w = build_drawn_world(800, 0, seed=4, unnamed_share=0.5, kind_shares={"single": 1.0}, duplicates={})
    unnamed = w.table[~w.table.colour_named]
    r2 = ig.attribute_share(unnamed.colour, "red", planted=0.8, chance=1 / 6)
    assert r2.share_low <= 0.8 <= r2.share_high and r2.p_value > 0.01 and r2.p_value_chance < 1e-10


# --- bad input --------------------------------------------------------------------------------------------------


def test_bad_input_raises_clear_errors():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="at least 2 items"):
        ig.frechet_distance(rng.normal(size=(1, 3)), rng.normal(size=(5, 3)))
    with pytest.raises(ValueError, match="do not match"):
        ig.frechet_distance(rng.normal(size=(5, 3)), rng.normal(size=(5, 4)))
    with pytest.raises(ValueError, match="nan"):
        ig.frechet_distance(np.full((3, 2), np.nan), rng.normal(size=(5, 2)))
    with pytest.raises(ValueError, match="one row per item"):
        ig.pairwise_diversity(np.arange(5.0))
    with pytest.raises(ValueError, match="at least 3"):
        ig.pairwise_diversity(rng.normal(size=(2, 3)))
    with pytest.raises(ValueError, match="metric"):
        ig.pairwise_diversity(rng.normal(size=(4, 3)), metric="manhattan")
    with pytest.raises(ValueError, match="one prompt per sample"):
        ig.diversity_by_prompt(rng.normal(size=(4, 3)), ["a"])
    with pytest.raises(ValueError, match="values each"):
        ig.nearest_training(rng.normal(size=(2, 3)), rng.normal(size=(5, 4)))
    with pytest.raises(ValueError, match="fewer than 2 distinct"):
        ig.nearest_training(rng.normal(size=(2, 3)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="planted"):
        ig.attribute_share(["red"], "red", planted=1.5)
    with pytest.raises(ValueError, match="no values"):
        ig.attribute_share([], "red", planted=0.5)
    with pytest.raises(ValueError, match="n_min"):
        ig.fid_infinity(rng.normal(size=(50, 2)), rng.normal(size=(20, 2)), n_min=30)
