"""The drawn world: pixels that agree with their spec, held-out combinations kept out of training, the planted skew
and duplication, reproducibility, save/load, and a world that a nearest-neighbour lookup does not solve.

Pixel checks read the pictures back with connected components (scipy.ndimage.label), independently of the code that
drew them: every object is one component of exactly its drawn colour, in its grid cell, of its size class."""

from __future__ import annotations

import hashlib
import json
from collections import Counter

import numpy as np
import pytest
from scipy import ndimage

from genlab.stats import exact_binomial_ci
from genlab.worlds import drawn as dw


@pytest.fixture(scope="module")
def world():
    return dw.build_drawn_world(300, 150, seed=7, duplicates={3: 4, 10: 2})


def _components(img: np.ndarray, bg: list[int]):
    """(labels, n) of the pixels that differ from the background colour, 8-connected."""
    fg = (img != np.array(bg, dtype=np.uint8)).any(-1)
    return ndimage.label(fg, structure=np.ones((3, 3)))


def _nearest_palette(rgb) -> str:
    return min(dw.COLOURS, key=lambda c: sum((a - b) ** 2 for a, b in zip(dw.COLOURS[c], rgb, strict=True)))


def _cell(cx: float, cy: float) -> str:
    """Grid position of a point from the picture's thirds (independent of the drawing's cell centres)."""
    col, row = (min(int(v // (dw.IMAGE_SIZE / 3)), 2) for v in (cx, cy))
    return dw.POSITIONS[3 * row + col]


def test_every_object_is_one_component_of_its_spec_colour_cell_and_size(world):
    areas: dict[tuple[str, str], list[int]] = {}
    fills: dict[str, list[float]] = {}
    for i in range(len(world)):
        img, row, objects = world.images[i], world.table.iloc[i], world.objects(i)
        bg = json.loads(row.background_rgb)
        labels, n = _components(img, bg)
        assert n == len(objects) == row["count"], (i, row.caption)
        grey = np.mean(bg)
        assert (grey > 200) if row.background == "light" else (grey < 50)
        for o in objects:
            # the component under the object's centre area: the one whose centroid is nearest its centre
            centroids = ndimage.center_of_mass(np.ones_like(labels), labels, range(1, n + 1))
            lab = 1 + int(np.argmin([(cy - o["cy"]) ** 2 + (cx - o["cx"]) ** 2 for cy, cx in centroids]))
            mask = labels == lab
            pixels = np.unique(img[mask], axis=0)
            assert pixels.tolist() == [o["rgb"]], "one flat colour per object, exactly as recorded"
            assert _nearest_palette(o["rgb"]) == o["colour"]
            cy, cx = centroids[lab - 1]
            assert _cell(cx, cy) == o["position"], (i, o)
            ys, xs = np.nonzero(mask)
            areas.setdefault((o["shape"], o["size"]), []).append(int(mask.sum()))
            fills.setdefault(o["shape"], []).append(mask.sum() / ((np.ptp(ys) + 1) * (np.ptp(xs) + 1)))
        spec_objects = [(row["colour"], row["shape"], row["size"])]
        if row["kind"] == "relation":
            spec_objects.append((row["colour2"], row["shape2"], row["size2"]))
        assert {(o["colour"], o["shape"], o["size"]) for o in objects} == set(spec_objects)
        if row.kind == "single":
            assert objects[0]["position"] == row.position
    for shape in dw.SHAPES:  # size classes do not overlap in pixel area, shape by shape
        assert max(areas[(shape, "small")]) < min(areas[(shape, "large")]), shape
    assert min(fills["square"]) == 1.0 and max(fills["circle"] + fills["triangle"] + fills["cross"]) < 1.0


def test_relations_hold_in_the_pixels(world):
    rel = world.table.index[world.table.kind == "relation"]
    assert len(rel) > 30
    for i in rel:
        row, (a, b) = world.table.loc[i], world.objects(i)
        labels, _ = _components(world.images[i], json.loads(row.background_rgb))
        (ya, xa), (yb, xb) = (ndimage.center_of_mass(labels == labels[round(o["cy"]), round(o["cx"])]) for o in (a, b))
        gap = {"left of": xb - xa, "right of": xa - xb, "above": yb - ya, "below": ya - yb}[row.relation]
        assert gap > 5, (row.caption, a, b)
        assert (a["colour"], a["shape"]) == (row["colour"], row["shape"])


def test_captions_name_the_spec(world):
    t = world.table
    for row in t.itertuples():
        assert row.shape in row.caption and row.background in row.caption and row.size in row.caption
        if row.kind == "count":
            assert dw.COUNT_WORDS[row.count] in row.caption and dw._plural(row.shape) in row.caption
        if row.kind == "relation":
            assert f" {row.relation} " in row.caption
        named = [c for c in dw.COLOURS if c in row.caption.split()]
        if row.colour_named:
            assert row.colour in named
        else:
            assert named == [] and row.kind == "single"
    assert set(t[t.split == "train"].template_id) == set(dw.TRAIN_TEMPLATES)
    assert set(t[t.split == "eval"].template_id) == set(range(dw.N_TEMPLATES))
    assert t.template_held_out.equals(t.template_id.isin(dw.HELD_OUT_TEMPLATES))


def test_held_out_combinations_never_in_training_and_present_in_eval():
    w = dw.build_drawn_world(1500, 300, seed=3, duplicates={})
    train, test = w.split("train"), w.split("eval")

    def pairs_and_arrangements(part):
        pairs, arrangements = set(), set()
        for i in range(len(part)):
            objects = part.objects(i)
            pairs |= {(o["colour"], o["shape"]) for o in objects}
            if part.table.kind.iloc[i] == "relation":  # read the arrangement from the geometry, not the caption
                a, b = objects
                axis = "horizontal" if abs(a["cx"] - b["cx"]) > abs(a["cy"] - b["cy"]) else "vertical"
                key = "cx" if axis == "horizontal" else "cy"
                first, second = sorted((a, b), key=lambda o: o[key])
                arrangements.add((axis, first["shape"], second["shape"]))
        return pairs, arrangements

    train_pairs, train_arr = pairs_and_arrangements(train)
    eval_pairs, eval_arr = pairs_and_arrangements(test)
    assert not train_pairs & dw.HELD_OUT_PAIRS and not train_arr & dw.HELD_OUT_ARRANGEMENTS
    assert dw.HELD_OUT_PAIRS <= eval_pairs and dw.HELD_OUT_ARRANGEMENTS <= eval_arr
    assert not train.table.held_out.any() and not train.table.template_held_out.any()
    assert 0.2 < test.table.held_out.mean() < 0.45  # eval_held_out_share 0.3 plus none from the seen rows
    assert not any(w in c for c in train.table.caption for w in ("canvas", "scene showing"))
    # no evaluation picture equals a training picture
    train_hashes = {hashlib.sha1(img.tobytes()).digest() for img in train.images}
    assert not any(hashlib.sha1(img.tobytes()).digest() in train_hashes for img in test.images)


@pytest.mark.parametrize("skew", [0.8, 0.3])
def test_unnamed_colour_is_red_at_the_planted_share(skew):
    w = dw.build_drawn_world(1200, 0, seed=11, skew=skew, unnamed_share=0.5, kind_shares={"single": 1.0},
                             duplicates={})  # fmt: skip
    t = w.table
    unnamed, named = t[~t.colour_named], t[t.colour_named]
    ci = exact_binomial_ci(int((unnamed.colour == "red").sum()), len(unnamed), 0.99)
    assert len(unnamed) > 500 and ci.low <= skew <= ci.high
    # named colour-shape pairs are drawn uniformly among the 20 allowed in training, 4 of them red
    ci_named = exact_binomial_ci(int((named.colour == "red").sum()), len(named), 0.99)
    assert ci_named.low <= 4 / 20 <= ci_named.high
    other = unnamed[unnamed.colour != "red"].colour
    assert "red" not in set(other) and len(set(other)) == 5


def test_duplicates_repeat_exactly_n_times(world):
    train = world.split("train")
    t = train.table
    per_id = t.groupby("image_id").agg(rows=("caption", "size"), n=("duplicate_count", "first"))
    assert (per_id.rows == per_id.n).all()
    assert Counter(per_id.n[per_id.n > 1]) == {3: 4, 10: 2}
    assert len(t) == 300 and world.manifest["counts"]["train_unique_images"] == 300 - 4 * 2 - 2 * 9
    hashes = [hashlib.sha1(img.tobytes()).hexdigest() for img in train.images]
    by_id: dict[str, set[str]] = {}
    for image_id, h in zip(t.image_id, hashes, strict=True):
        by_id.setdefault(image_id, set()).add(h)
    assert all(len(v) == 1 for v in by_id.values())  # copies are pixel-identical
    assert len({next(iter(v)) for v in by_id.values()}) == len(by_id)  # distinct ids are distinct pictures
    copied = t.index[t.duplicate_count == 10]
    assert copied.max() - copied.min() > 50  # shuffled, not in a block


def test_default_duplicates_fit_and_seed_reproduces():
    a = dw.build_drawn_world(200, 20, seed=5)
    b = dw.build_drawn_world(200, 20, seed=5)
    c = dw.build_drawn_world(200, 20, seed=6)
    assert a.manifest == b.manifest and np.array_equal(a.images, b.images) and a.table.equals(b.table)
    assert a.manifest["sha256"]["all"] != c.manifest["sha256"]["all"]
    assert a.manifest["sha256"]["all"] == hashlib.sha256(a.images.tobytes()).hexdigest()
    assert sum(int(n) * k for n, k in a.manifest["knobs"]["duplicates"].items()) <= 100
    d = dw.build_drawn_world(200, 50, seed=5)  # the training split does not depend on n_eval
    assert np.array_equal(d.split("train").images, a.split("train").images)


def test_save_load_round_trip_and_refuses_to_overwrite(tmp_path, world):
    world.save(tmp_path / "w")
    back = dw.load_drawn_world(tmp_path / "w")
    assert np.array_equal(back.images, world.images) and back.manifest == world.manifest
    assert back.table.equals(world.table)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        world.save(tmp_path / "w")
    tampered = world.images.copy()
    tampered[0, 0, 0] ^= 1
    np.savez_compressed(tmp_path / "w" / "images.npz", images=tampered)
    with pytest.raises(ValueError, match="sha256"):
        dw.load_drawn_world(tmp_path / "w")


def test_to_dataset(world):
    ds = world.to_dataset("eval")
    assert len(ds) == 150 and {"image", "caption", "duplicate_count", "held_out"} <= set(ds.column_names)
    assert ds.features["image"].dtype == "uint8"
    assert np.array_equal(np.asarray(ds[0]["image"]), world.split("eval").images[0])


def test_spec_space_counts_by_hand():
    space = dw.spec_space().set_index("kind")
    n_cs = len(dw.COLOURS) * len(dw.SHAPES)  # 24 colour-shape pairs
    assert space.loc["single", "n_specs"] == n_cs * 2 * 9 * 2
    assert space.loc["count", "n_specs"] == n_cs * 2 * 2 * 2
    assert space.loc["relation", "n_specs"] == 4 * 2 * (n_cs * (n_cs - 1)) * 2 * 2
    assert space.loc["single", "n_specs_trainable"] == (n_cs - 4) * 2 * 9 * 2


def test_nearest_neighbour_does_not_solve_the_world(world):
    report = dw.difficulty_report(world)
    nn = report["nearest_neighbour"].set_index(["attribute", "held_out"])
    assert nn.loc[("background", False), "accuracy"] == 1.0  # the easy attribute is read right
    assert nn.loc[("shape", True), "accuracy"] < 0.8 and nn.loc[("relation", False), "accuracy"] < 0.8
    assert report["distinct_specs"]["train"] > 150 and report["possible_specs"] == 18720


def test_bad_input_raises_clear_errors():
    with pytest.raises(ValueError, match="more than n_train"):
        dw.build_drawn_world(10, 0, duplicates={5: 3})
    with pytest.raises(ValueError, match="skew"):
        dw.build_drawn_world(10, 0, skew=1.5)
    with pytest.raises(ValueError, match="n_train"):
        dw.build_drawn_world(-1, 0)
    with pytest.raises(ValueError, match="kind_shares"):
        dw.build_drawn_world(10, 0, kind_shares={"pie": 1.0})
    with pytest.raises(ValueError, match="unknown split"):
        dw.build_drawn_world(10, 0, duplicates={}).split("test")
