"""genlab.studies.image_generation: the image study's tables on pipelines and judges whose answers are known."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from genlab.data.drawn_world import build_drawn_world
from genlab.metrics.image_generation import frechet_distance
from genlab.models.diffusion import TinyDiffusionConfig, build_pipeline, predict_clean
from genlab.studies import image_generation as study


class LookupPipeline:
    """A "diffusers" pipeline that draws, for each caption, a fixed picture (or noise for captions it does not
    know): a perfectly memorising model when the lookup holds training pictures."""

    def __init__(self, lookup: dict[str, np.ndarray], noise_seed: int = 0):
        self.lookup, self.rng = lookup, np.random.default_rng(noise_seed)

    def __call__(self, *, prompt, output_type, num_inference_steps, guidance_scale, generator):
        assert output_type == "np" and len(generator) == len(prompt)
        out = [self.lookup[p] / 255.0 if p in self.lookup else self.rng.random((32, 32, 3)) for p in prompt]
        return type("Output", (), {"images": np.stack(out)})()


class FakeJudge:
    """A judge with scripted colour readings; features: the mean pixel plus seeded noise (full-rank covariances)."""

    def __init__(self, colours=None):
        self.colours = colours

    def predict(self, images):
        return pd.DataFrame({"colour": self.colours[: len(images)]})

    def features(self, images):
        mean = np.asarray(images, np.float64).reshape(len(images), -1).mean(1, keepdims=True) / 255.0
        return mean + np.random.default_rng(len(images)).normal(size=(len(images), 16))


@pytest.fixture(scope="module")
def world():
    return build_drawn_world(300, 60, seed=4, duplicates={2: 4, 8: 2})


def test_generate_and_judge_keeps_grid_and_specs_aligned(world):
    ev = world.split("eval")
    lookup = dict(zip(ev.table.caption, ev.images, strict=True))  # draws the real picture of each caption
    specs = ev.table.drop_duplicates("caption").head(6)
    judged = study.generate_and_judge(LookupPipeline(lookup), specs, seeds=[0, 1], steps=(3,), guidance=(1.0, 2.0))
    assert judged.images.shape == (24, 32, 32, 3) and len(judged.table) == len(judged.specs) == 24
    assert list(judged.specs.caption) == list(judged.table.prompt)
    # real pictures under the learning-free checks: count, colour, position and background all right
    t = judged.attribute_table(steps=3, guidance=2.0).set_index(["held_out", "attribute"])
    assert t.xs("count", level="attribute").accuracy.min() == 1.0
    with pytest.raises(ValueError, match="no pictures with"):
        judged.attribute_table(steps=4)
    with pytest.raises(ValueError, match="caption"):
        study.generate_and_judge(LookupPipeline({}), specs.drop(columns="caption"), seeds=[0])


def test_generate_and_judge_runs_genlab_pipeline():
    w = build_drawn_world(0, 3, seed=0, duplicates={})
    judged = study.generate_and_judge(build_pipeline(TinyDiffusionConfig.tiny()), w.table, seeds=[5], steps=(2,))
    again = study.generate_and_judge(build_pipeline(TinyDiffusionConfig.tiny()), w.table, seeds=[5], steps=(2,))
    assert np.array_equal(judged.images, again.images)  # seeded: the same pictures every run


def test_evaluator_ceiling_is_perfect_on_real_pictures_for_classical_checks(world):
    ev = world.split("eval")
    t = study.evaluator_ceiling(ev.images, ev.table, None)
    assert set(t.attribute) >= {"count", "colour", "position", "background", "all"}
    assert t[t.attribute.isin(["count", "position", "background"])].accuracy.eq(1.0).all()


def test_feature_fid_floor_and_interval():
    rng = np.random.default_rng(1)
    ref, real, shifted = rng.normal(size=(600, 4)), rng.normal(size=(300, 4)), rng.normal(2.0, 1.0, size=(150, 4))
    r = study.feature_fid(shifted, ref, real, n_resamples=60)
    assert r["fid"] == pytest.approx(frechet_distance(shifted, ref))
    assert r["real_floor"] < 0.5 < r["fid_low"] <= r["fid_high"]  # the true distance is 4 x 2^2 = 16
    assert abs(r["fid_infinity"] - 16) < abs(r["fid"] - 16) + 2  # extrapolation does not run away
    with pytest.raises(ValueError, match="at least as many real rows"):
        study.feature_fid(shifted, ref, real[:10])
    with pytest.raises(ValueError, match="one width"):
        study.feature_fid(shifted[:, :3], ref)
    with pytest.raises(ValueError, match="rows or more for full rank"):
        study.feature_fid(shifted[:4], ref)
    small = study.feature_fid(shifted[:20], ref, real)
    assert np.isnan(small["fid_infinity"])  # too few rows for the extrapolation


def test_fid_bias_curve_falls_with_n():
    rng = np.random.default_rng(2)
    t = study.fid_bias_curve(rng.normal(size=(800, 6)), rng.normal(size=(800, 6)), [20, 80, 640], repeats=3)
    means = t.groupby("n").fid.mean()
    assert means[20] > means[80] > means[640] > 0
    with pytest.raises(ValueError, match="outside"):
        study.fid_bias_curve(rng.normal(size=(10, 2)), rng.normal(size=(10, 2)), [20])


def _judged_by_hand(images_per_prompt: list[np.ndarray], held_out=False) -> study.Judged:
    rows, images = [], []
    for p, ims in enumerate(images_per_prompt):
        for s, im in enumerate(ims):
            rows.append({"image": len(images), "prompt_index": p, "prompt": f"p{p}", "seed": s, "steps": 5,
                         "guidance": 2.0, "held_out": held_out, "all_correct": s == 0,
                         "colour": True, "shape": pd.NA, "position": False})  # fmt: skip
            images.append(im)
    table = pd.DataFrame(rows)
    return study.Judged(images=np.stack(images).astype(np.uint8), table=table, specs=table[["prompt"]])


def test_sampler_tradeoff_against_hand_computation():
    flat = [np.full((32, 32, 3), v, np.uint8) for v in (0, 255, 0)]  # pixel distances: 0-1 share 3072 -> sqrt
    same = [np.full((32, 32, 3), 7, np.uint8)] * 3
    judged = _judged_by_hand([flat, same])
    ref = np.random.default_rng(0).normal(size=(50, 16))
    t = study.sampler_tradeoff(judged, FakeJudge(), ref, n_resamples=50)
    row = t.iloc[0]
    d = np.sqrt(32 * 32 * 3)  # distance between an all-0 and an all-1 picture
    assert row.diversity == pytest.approx((2 * d / 3 + 0.0) / 2)  # prompt 0: pairs (d, 0, d) / 3; prompt 1: 0
    assert row.faithfulness == pytest.approx(2 / 6) and row.colour == 1.0 and row.position == 0.0
    assert np.isnan(row["shape"]) and row.n_images == 6
    fig = study.plot_tradeoff(t)
    assert len(fig.data) == 2  # one line per steps value, in each of the two panels
    with pytest.raises(ValueError, match="3 seeds"):
        study.sampler_tradeoff(_judged_by_hand([flat[:2]]), FakeJudge(), ref)


def test_skew_study_reads_share_and_tests(world):
    ev = world.split("train").table  # the evaluation split is small here: few captions without a colour
    unnamed = ev[~ev.colour_named].head(5)
    assert len(unnamed) == 5
    lookup = {}
    judged = study.generate_and_judge(LookupPipeline(lookup), unnamed, seeds=[0, 1])
    colours = ["red"] * 8 + ["blue", "green"]
    summary, shares = study.skew_study(judged, FakeJudge(colours), planted=0.8)
    overall = summary.set_index("shape asked").loc["all"]
    assert (overall.n, overall.k_red, overall.share_red) == (10, 8, 0.8)
    assert overall.p_vs_planted == pytest.approx(1.0) and overall.p_vs_chance < 0.001
    assert shares.set_index("colour read").share.to_dict()["blue"] == pytest.approx(0.1)
    assert summary["n"].iloc[1:].sum() == 10  # the per-shape rows split the pictures
    named = study.generate_and_judge(LookupPipeline({}), ev[ev.colour_named].head(2), seeds=[0])
    with pytest.raises(ValueError, match="name no colour"):
        study.skew_study(named, FakeJudge(colours), planted=0.8)


def test_skew_guidance_effect_pairs_pictures_by_caption_and_seed(world):
    unnamed = world.split("train").table
    unnamed = unnamed[~unnamed.colour_named].head(4)
    judged = study.generate_and_judge(LookupPipeline({}), unnamed, seeds=[0, 1, 2], guidance=(1.0, 3.0))
    assert len(judged.where(guidance=3.0).table) == 12 and judged.where(guidance=3.0).table.image.tolist() == list(
        range(12)
    )
    # the judge is asked about guidance a = 3 first (9 of 12 read red), then b = 1 (3 of 12)
    readings = iter([["red"] * 9 + ["green"] * 3, ["red"] * 3 + ["blue"] * 9])
    judge = FakeJudge()
    judge.predict = lambda images: pd.DataFrame({"colour": next(readings)})
    r = study.skew_guidance_effect(judged, judge, a=3.0, b=1.0, n_resamples=500).iloc[0]
    assert (r.n_pairs, r.share_a, r.share_b) == (12, 0.75, 0.25)
    assert r.difference == pytest.approx(0.5) and r.difference_low > 0 and r.p_value < 0.05


def test_memorisation_study_catches_a_memorising_model_and_not_a_noisy_one(world):
    train = world.split("train")
    order = np.argsort(train.table.duplicate_count.to_numpy(), kind="stable")  # duplicated pictures win ties
    lookup = {train.table.caption.iloc[i]: train.images[i] for i in order}
    memo = study.memorisation_study(LookupPipeline(lookup), world, FakeJudge(), seeds=[0, 1], singletons=5)
    ext = memo.extraction.set_index(["space", "duplicate_count"])
    assert set(ext.loc["pixels"].index) == {1, 2, 8} and ext.loc[("pixels", 8), "n"] == 2
    for row in memo.prompts.itertuples():  # a picture comes back exactly when the lookup draws that very picture
        first = train.table.index[train.table.image_id == row.image_id][0]
        expected = np.array_equal(lookup[row.caption], train.images[first])
        got = memo.nearest["pixels"].query("prompt_image_id == @row.image_id").copies_own_picture.any()
        assert got == expected
    assert ext.loc[("pixels", 8), "extracted"] == 1.0 and ext.loc[("pixels", 2), "extracted"] == 1.0
    noisy = study.memorisation_study(LookupPipeline({}), world, FakeJudge(), seeds=[0], singletons=3)
    assert noisy.extraction.k.sum() == 0


def test_plot_sample_grid_escapes_labels_and_checks_rows():
    images = np.zeros((4, 32, 32, 3), np.uint8)
    fig = study.plot_sample_grid(images, ["<script>alert(1)</script>", "b"], columns=2, title="<b>t</b>")
    assert "<script>" not in str(fig.layout.yaxis.ticktext) and "&lt;script&gt;" in fig.layout.yaxis.ticktext[0]
    with pytest.raises(ValueError, match="labels"):
        study.plot_sample_grid(images, ["a"], columns=2)


def test_predict_clean_feeds_coordinates_and_caption_embedding():
    pipe = build_pipeline(TinyDiffusionConfig.tiny())
    assert pipe.unet.config.in_channels == pipe.unet.config.out_channels + 2
    assert pipe.unet.config.class_embed_type == "projection"
    x, t = torch.zeros(2, 12, 16, 16), torch.tensor([500, 500])
    text = pipe.encode_prompts(["a red circle at the top on a dark background", "dark background, a blue square "
                                "at the left"])  # fmt: skip
    out = predict_clean(pipe.unet, x, t, text)
    assert out.shape == x.shape
    plain = build_pipeline(replace(TinyDiffusionConfig.tiny(), coordinate_channels=False, caption_embedding=False))
    assert plain.unet.config.in_channels == 12 and plain.unet.config.class_embed_type is None
    assert predict_clean(plain.unet, x, t, plain.encode_prompts(["a", "b"])).shape == x.shape
