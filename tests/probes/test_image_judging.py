"""genlab.probes.image_judging: generate_and_judge keeps the grid, the verdicts and the specs aligned, on a pipeline
whose pictures are known and on genlab's own (seeded) pipeline."""

from __future__ import annotations

import numpy as np
import pytest

from genlab.models.diffusion import TinyDiffusionConfig, build_pipeline
from genlab.probes.image_judging import generate_and_judge
from genlab.worlds.drawn import build_drawn_world


@pytest.fixture(scope="module")
def world():
    return build_drawn_world(300, 60, seed=4, duplicates={2: 4, 8: 2})


def test_generate_and_judge_keeps_grid_and_specs_aligned(world, lookup_pipeline):
    ev = world.split("eval")
    lookup = dict(zip(ev.table.caption, ev.images, strict=True))  # draws the real picture of each caption
    specs = ev.table.drop_duplicates("caption").head(6)
    judged = generate_and_judge(lookup_pipeline(lookup), specs, seeds=[0, 1], steps=(3,), guidance=(1.0, 2.0))
    assert judged.images.shape == (24, 32, 32, 3) and len(judged.table) == len(judged.specs) == 24
    assert list(judged.specs.caption) == list(judged.table.prompt)
    # real pictures under the learning-free checks: count, colour, position and background all right
    t = judged.attribute_table(steps=3, guidance=2.0).set_index(["held_out", "attribute"])
    assert t.xs("count", level="attribute").accuracy.min() == 1.0
    with pytest.raises(ValueError, match="no pictures with"):
        judged.attribute_table(steps=4)
    with pytest.raises(ValueError, match="caption"):
        generate_and_judge(lookup_pipeline({}), specs.drop(columns="caption"), seeds=[0])


def test_where_selects_one_setting_and_renumbers_its_pictures(world, lookup_pipeline):
    unnamed = world.split("train").table
    unnamed = unnamed[~unnamed.colour_named].head(4)
    judged = generate_and_judge(lookup_pipeline({}), unnamed, seeds=[0, 1, 2], guidance=(1.0, 3.0))
    part = judged.where(guidance=3.0)
    assert len(part.table) == 12 and part.table.image.tolist() == list(range(12)) and len(part.images) == 12
    assert list(part.specs.caption) == list(part.table.prompt)


def test_generate_and_judge_runs_genlab_pipeline():
    w = build_drawn_world(0, 3, seed=0, duplicates={})
    judged = generate_and_judge(build_pipeline(TinyDiffusionConfig.tiny()), w.table, seeds=[5], steps=(2,))
    again = generate_and_judge(build_pipeline(TinyDiffusionConfig.tiny()), w.table, seeds=[5], steps=(2,))
    assert np.array_equal(judged.images, again.images)  # seeded: the same pictures every run
