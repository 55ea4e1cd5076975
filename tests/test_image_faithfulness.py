"""Prompt faithfulness of drawn-world pictures (genlab.metrics.image_faithfulness) and its evaluator, the attribute
classifier (genlab.models / genlab.training .image_classifier, genlab.recipes.drawn_classifier).

The truth here is the drawn world itself: real pictures with the specs that drew them must be judged right, and
the same pictures against a spec that asks for something else must be judged wrong. The classical checks are
compared with the objects' recorded geometry; the tables with a direct count and scipy's beta quantiles."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import beta

from genlab.metrics import image_faithfulness as fa
from genlab.models.image_classifier import (
    HEADS,
    ClassifierConfig,
    add_pixel_noise,
    load_attribute_classifier,
    save_attribute_classifier,
)
from genlab.training.image_classifier import _Batches, classifier_accuracy, train_attribute_classifier
from genlab.worlds import drawn as dw

pytestmark = pytest.mark.usefixtures("one_thread")

SMALL = ClassifierConfig(channels=(8, 16, 32), feature_dim=64)
CLASSICAL = ("count", "colour", "position", "relation", "colour2", "background")


@pytest.fixture(scope="module")
def world():
    return dw.build_drawn_world(800, 300, seed=5, duplicates={})


@pytest.fixture(scope="module")
def trained(world):
    """A small classifier trained briefly (a few seconds): good enough to beat chance, not to be right."""
    return train_attribute_classifier(world, steps=200, batch_size=32, seed=0, lr=5e-3, config=SMALL, log_every=50)


class Truth:
    """A stand-in classifier that reads every picture exactly as its spec says (canonical form)."""

    def __init__(self, specs: pd.DataFrame):
        self.specs = specs

    def predict(self, images, *, batch_size: int = 256) -> pd.DataFrame:
        rows = [dw.canonical(r) for r in self.specs.to_dict("records")]
        return pd.DataFrame({h: [r[h] if r[h] != "" else HEADS[h][0] for r in rows] for h in HEADS})


def _classical_accuracy(per_image: pd.DataFrame) -> dict[str, tuple[int, int]]:
    return {a: (int(per_image[f"{a}_classical"].sum()), int(per_image[f"{a}_classical"].notna().sum()))
            for a in CLASSICAL}  # fmt: skip


# --- the classical reader ---------------------------------------------------------------------------------------


def test_read_objects_agrees_with_the_recorded_geometry(world):
    for i in range(len(world)):
        r, objects, row = fa.read_objects(world.images[i]), world.objects(i), world.table.iloc[i]
        assert r.n_objects == len(objects) == row["count"], (i, row.caption)
        assert sorted(r.colours) == sorted(o["colour"] for o in objects)
        assert r.background == row.background
        for (cx, cy), colour in zip(r.centres, r.colours, strict=True):  # each component sits on an object
            nearest = min(objects, key=lambda o: (o["cx"] - cx) ** 2 + (o["cy"] - cy) ** 2)
            assert nearest["colour"] == colour and abs(nearest["cx"] - cx) <= 1 and abs(nearest["cy"] - cy) <= 1
        if row.kind == "single":
            assert r.positions == (objects[0]["position"],)


def test_classical_checks_are_right_on_real_pictures_and_robust_to_mild_noise(world):
    clean = fa.faithfulness(world.images, world.table)
    assert clean.attrs["checks"] == "classical"
    for attr, (k, n) in _classical_accuracy(clean).items():
        assert n > 0 and k == n, f"{attr}: {k}/{n} right on clean real pictures"
    # relation: undecided only where both objects share a colour (then only a wrong axis would be caught)
    rel = clean[clean.kind == "relation"]
    same = (world.table.loc[rel.index, "colour"] == world.table.loc[rel.index, "colour2"]).to_numpy()
    assert rel.relation_classical.isna().to_numpy().tolist() == same.tolist()
    noisy = fa.faithfulness(add_pixel_noise(world.images, 0.1, seed=1), world.table)  # about 13 grey levels
    for attr, (k, n) in _classical_accuracy(noisy).items():
        assert k >= 0.99 * n, f"{attr}: {k}/{n} right at noise 0.1"


def test_classical_checks_catch_wrong_pictures(world):
    t = world.table
    single = t[t.kind == "single"].index[:40]
    # ask for another colour and the opposite corner: the same pixels must now be judged wrong
    other = {c: list(dw.COLOURS)[(i + 1) % 6] for i, c in enumerate(dw.COLOURS)}
    mirror = {p: dw.POSITIONS[8 - i] for i, p in enumerate(dw.POSITIONS)}
    asked = t.loc[single].assign(colour=t.loc[single, "colour"].map(other),
                                 position=t.loc[single, "position"].map(mirror))  # fmt: skip
    out = fa.faithfulness(world.images[single], asked)
    assert not out.colour_classical.any()
    centre = (t.loc[single, "position"] == "centre").to_numpy()  # the centre is its own mirror
    assert out.position_classical.to_numpy().tolist() == centre.tolist()
    assert not out.all_correct.any()
    # the one-object check: two objects where one was asked for fail even when the classifier reads the spec
    top_left = t.position.isin(["top left", "top", "left"])
    i = t[(t.kind == "single") & t.colour_named & (t["size"] == "large") & top_left].index[0]
    extra = {"shape": "square", "cx": 26.0, "cy": 26.0, "r": 2.5, "rgb": [40, 80, 215]}  # small, bottom right
    two = dw.render([world.objects(i)[0], extra], (30, 30, 30))
    spec = t.loc[[i]].assign(background="dark")
    row = fa.faithfulness(two[None], spec, Truth(spec)).iloc[0]
    assert row.count_classifier and not row.count_classical and not row["count"] and not row.all_correct
    assert row.n_objects == 2 and row.colour and row.position  # the largest object is the asked one


def test_relation_the_wrong_way_round_is_wrong_for_both_readers(world):
    t = world.table
    rel = t[(t.kind == "relation") & (t.colour != t.colour2) & (t["shape"] != t.shape2)].index
    opposite = {"left of": "right of", "right of": "left of", "above": "below", "below": "above"}
    asked = t.loc[rel].assign(relation=t.loc[rel, "relation"].map(opposite))
    out = fa.faithfulness(world.images[rel], asked, Truth(t.loc[rel]))
    assert len(out) >= 10
    assert not out.relation_classical.any() and not out.relation_classifier.any() and not out.relation.any()
    # the objects themselves are there: matched the other way round, their colours and shapes are right
    assert out.colour.all() and out.colour2.all() and out["shape"].all() and out.shape2.all()
    right = fa.faithfulness(world.images[rel], t.loc[rel], Truth(t.loc[rel]))
    assert right.all_correct.all()


# --- the table --------------------------------------------------------------------------------------------------


def test_faithfulness_table_equals_a_direct_computation(world, trained):
    model, _ = trained
    evaluation = world.split("eval")
    asked = evaluation.table.copy()
    asked.loc[asked.index[::3], "background"] = asked["background"].iloc[::3].map({"light": "dark", "dark": "light"})
    per_image = fa.faithfulness(evaluation.images, asked, model)
    table = fa.faithfulness_table(per_image, confidence=0.9)
    predicted = model.predict(evaluation.images)
    # the classifier's verdict on background, computed directly from its predictions
    assert per_image.background_classifier.tolist() == (predicted.background == asked.background).tolist()
    assert per_image.background_classical.sum() == len(asked) - len(asked.index[::3])
    for row in table.itertuples():
        part = per_image[per_image.held_out == row.held_out]
        col = "all_correct" if row.attribute == "all" else row.attribute
        col = col if row.check == "combined" else f"{row.attribute}_{row.check}"
        values = part[col].dropna().astype(bool)
        k, n = int(values.sum()), len(values)
        assert (row.n, row.k) == (n, k)
        low = 0.0 if k == 0 else beta.ppf(0.05, k, n - k + 1)
        high = 1.0 if k == n else beta.ppf(0.95, k + 1, n - k)
        assert row.accuracy == pytest.approx(k / n) and row.accuracy_low == pytest.approx(low)
        assert row.accuracy_high == pytest.approx(high)
    combined = per_image[["count_classifier", "count_classical"]].astype(bool).all(axis=1)
    assert per_image["count"].astype(bool).tolist() == combined.tolist()
    by_prompt = fa.faithfulness_table(per_image, per="prompt")
    assert by_prompt.n.sum() == len(per_image) and by_prompt.k.sum() == per_image.all_correct.sum()


def test_held_out_combinations_are_reported_apart(world):
    evaluation = world.split("eval")
    per_image = fa.faithfulness(evaluation.images, evaluation.table)
    assert per_image.held_out.tolist() == evaluation.table.held_out.tolist()
    table = fa.faithfulness_table(per_image)
    assert set(table.held_out) == {False, True}
    alls = table[table.attribute == "all"].set_index("held_out").n
    assert alls[True] == evaluation.table.held_out.sum() and alls[False] == (~evaluation.table.held_out).sum()
    # without a held_out column it is computed from the spec, with the same answer
    again = fa.faithfulness(evaluation.images, evaluation.table.drop(columns="held_out"))
    assert again.held_out.tolist() == per_image.held_out.tolist()


def test_an_unnamed_colour_is_not_judged(world):
    t = world.table
    rows = t[t.kind == "single"].index[:10]
    asked = t.loc[rows].assign(colour_named=False, colour="purple")
    out = fa.faithfulness(world.images[rows], asked)
    assert out.colour.isna().all() and out.all_correct.all()


# --- the classifier ---------------------------------------------------------------------------------------------


def test_augmented_batches_keep_labels_and_pixels_in_agreement(world):
    """Recoloured and mirrored pictures, read back classically, show what their labels say."""
    batches = _Batches(world.split("train"), recolour=0.5, hflip=0.5, noise_sigma_max=0.0)
    x, y = batches.draw(1000, torch.Generator().manual_seed(0), noise=False)
    images = np.round((x.permute(0, 2, 3, 1).numpy() + 1) * 127.5).astype(np.uint8)
    labels = pd.DataFrame({h: [HEADS[h][int(v)] if v >= 0 else "" for v in y[h]] for h in HEADS})
    # the training split holds no held-out pair and no circle left of a square: the augmented batches do
    pairs = set(zip(labels.colour, labels["shape"], strict=True)) | set(zip(labels.colour2, labels.shape2, strict=True))
    assert pairs & dw.HELD_OUT_PAIRS
    side = labels[labels.relation == "left of"]
    assert ((side["shape"] == "circle") & (side.shape2 == "square")).any()
    for i, img in enumerate(images):
        lab = {h: HEADS[h][int(y[h][i])] if int(y[h][i]) >= 0 else "" for h in HEADS}
        r = fa.read_objects(img)
        assert r.n_objects == lab["count"] and r.background == lab["background"]
        if lab["kind"] == "single":
            assert (r.colours[0], r.positions[0]) == (lab["colour"], lab["position"])
        elif lab["kind"] == "count":
            assert set(r.colours) == {lab["colour"]}
        else:
            axis = 0 if lab["relation"] == "left of" else 1
            order = np.argsort([c[axis] for c in r.centres])
            assert [r.colours[j] for j in order] == [lab["colour"], lab["colour2"]]


def test_classifier_beats_chance_on_real_and_noised_pictures(world, trained):
    model, record = trained
    acc = record.accuracy
    assert set(acc.noise_sigma) == {0.0, 0.3} and len(record.losses) == 4
    assert record.losses[-1] < record.losses[0]
    train = world.split("train").table
    for sigma in (0.0, 0.3):
        seen = acc[(acc.noise_sigma == sigma) & ~acc.held_out].set_index("attribute")
        # 200 steps: the easy heads clearly, colour and size above chance; shape needs the build's longer training
        for attr, margin in {"kind": 0.1, "count": 0.1, "position": 0.5, "relation": 0.3, "background": 0.3,
                             "colour": 0.0, "size": 0.0}.items():  # fmt: skip
            values = train[attr][train[attr].astype(str) != ""]
            majority = values.value_counts(normalize=True).iloc[0]  # always guessing the commonest class
            assert seen.loc[attr, "accuracy_low"] > majority + margin, (sigma, attr, seen.loc[attr, "accuracy"])


def test_classifier_accuracy_equals_a_direct_computation(world, trained):
    model, _ = trained
    evaluation = world.split("eval")
    table = classifier_accuracy(model, evaluation.images, evaluation.table).set_index(["held_out", "attribute"])
    predicted = model.predict(evaluation.images)
    truth = pd.DataFrame([dw.canonical(r) for r in evaluation.table.to_dict("records")])
    for held_out in (False, True):
        part = (evaluation.table.held_out == held_out).to_numpy()
        for attr in ("colour", "position", "shape2"):
            applies = part & (truth[attr].astype(str) != "").to_numpy()
            k = int((predicted[attr].to_numpy()[applies] == truth[attr].to_numpy()[applies]).sum())
            assert (table.loc[(held_out, attr), "n"], table.loc[(held_out, attr), "k"]) == (applies.sum(), k)


def test_saved_classifier_reads_the_same(tmp_path, world, trained):
    model, _ = trained
    images = world.images[:50]
    back = load_attribute_classifier(save_attribute_classifier(model, tmp_path / "clf"))
    assert back.predict(images).equals(model.predict(images))
    assert np.allclose(back.features(images), model.features(images))
    with pytest.raises(FileExistsError, match="overwrite=True"):
        save_attribute_classifier(model, tmp_path / "clf")


def test_build_writes_weights_manifest_and_card(tmp_path):
    from genlab.recipes import drawn_classifier as study

    with pytest.raises(FileNotFoundError, match="python -m genlab.recipes.drawn_classifier build"):
        study.load_classifier(tmp_path / "missing")
    out = tmp_path / "built"
    manifest = study.build(steps=3, batch_size=8, n_train=60, n_eval=30, config=SMALL, out_dir=out)
    assert {p.name for p in out.iterdir()} == {"model.safetensors", "config.json", "manifest.json", "README.md"}
    on_disk = json.loads((out / "manifest.json").read_text())
    assert on_disk["classifier_accuracy"] == manifest["classifier_accuracy"]
    assert {r["noise_sigma"] for r in on_disk["evaluator_accuracy"]} == set(study.EVAL_NOISE)
    card = (out / "README.md").read_text()
    assert "**Limits:**" in card and "| background |" in card
    assert study.load_classifier(out).predict(np.zeros((1, 32, 32, 3), np.uint8)).shape == (1, len(HEADS))
    with pytest.raises(FileExistsError, match="--overwrite"):
        study.build(steps=1, batch_size=8, n_train=60, n_eval=30, config=SMALL, out_dir=out)


# --- bad input --------------------------------------------------------------------------------------------------


def test_bad_input_raises_clear_errors(world):
    images, specs = world.images[:4], world.table[:4]
    with pytest.raises(ValueError, match="4 images but 3 specs"):
        fa.faithfulness(images, specs[:3])
    with pytest.raises(ValueError, match=r"shape \(n, 32, 32, 3\)"):
        fa.faithfulness(images[:, :16], specs)
    with pytest.raises(ValueError, match="lack columns"):
        fa.faithfulness(images, specs.drop(columns="shape"))
    with pytest.raises(ValueError, match="does not know.*'colour': 'pink'"):
        fa.faithfulness(images, specs.assign(colour="pink"))
    with pytest.raises(ValueError, match="no images"):
        fa.faithfulness(images[:0], specs[:0])
    with pytest.raises(ValueError, match="nan"):
        fa.faithfulness(np.full((4, 32, 32, 3), np.nan), specs)
    with pytest.raises(ValueError, match="per must be"):
        fa.faithfulness_table(fa.faithfulness(images, specs), per="image")
    with pytest.raises(ValueError, match="lacks column"):
        fa.faithfulness_table(pd.DataFrame({"x": [1]}))
    with pytest.raises(ValueError, match="positive integer"):
        train_attribute_classifier(world, steps=0, batch_size=8)
    with pytest.raises(ValueError, match="share of training pictures"):
        train_attribute_classifier(world, steps=1, batch_size=8, recolour=1.5)


def test_the_shipped_classifier_reads_a_fresh_drawn_world_as_its_card_says():
    """On real pictures of a world it never saw (another seed), the shipped evaluator is as accurate as its manifest
    records for its own evaluation pictures (within sampling error), and its manifest names the build."""
    from genlab.recipes import drawn_classifier as study

    manifest = json.loads((study.classifier_dir() / "manifest.json").read_text())
    assert manifest["build_command"] == study.BUILD_COMMAND and manifest["world"]["seed"] == study.WORLD_SEED
    fresh = dw.build_drawn_world(0, 400, seed=11, duplicates={})
    per_image = fa.faithfulness(fresh.images, fresh.table, study.load_classifier())
    table = fa.faithfulness_table(per_image).query("check == 'combined' and not held_out").set_index("attribute")
    for attribute in ("count", "colour", "position", "background"):
        assert table.loc[attribute, "accuracy"] >= 0.97, (attribute, table.loc[attribute, "accuracy"])
    assert table.loc["all", "accuracy"] >= 0.85
