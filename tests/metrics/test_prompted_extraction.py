"""Extraction of prompted training pictures, checked against pipelines whose answers are known: a perfectly memorising
one must be caught, picture by picture, and one that draws noise (a model that learnt nothing) must extract nothing.
These are the controls of notebook 70's memorisation study, which composes the same calls."""

from __future__ import annotations

import numpy as np
import pytest

from genlab.generation.images import generate_grid
from genlab.metrics.image_generation import nearest_training
from genlab.metrics.prompted_extraction import own_picture_copies, prompted_extraction
from genlab.worlds.drawn import build_drawn_world


@pytest.fixture(scope="module")
def train():
    return build_drawn_world(300, 60, seed=4, duplicates={2: 4, 8: 2}).split("train")


def _study(pipeline, train, seeds):
    table = train.table.reset_index(drop=True)
    prompts = table.drop_duplicates("image_id").groupby("duplicate_count").head(5)  # every count, 5 pictures at most
    images, grid = generate_grid(pipeline, list(prompts.caption), seeds, steps=(3,), guidance=(1.0,))
    asked = prompts.iloc[grid.prompt_index.to_numpy()]
    near = own_picture_copies(nearest_training(images, train.images), asked.image_id, asked.duplicate_count,
                              table.image_id)  # fmt: skip
    return prompts, near, prompted_extraction({"pixels": near}).set_index("duplicate_count")


def test_a_memorising_pipeline_is_caught_picture_by_picture(train, lookup_pipeline):
    order = np.argsort(train.table.duplicate_count.to_numpy(), kind="stable")  # duplicated pictures win ties
    lookup = {train.table.caption.iloc[i]: train.images[i] for i in order}
    prompts, near, ext = _study(lookup_pipeline(lookup), train, seeds=[0, 1])
    assert set(ext.index) == {1, 2, 8} and ext.loc[8, "n"] == 2 and ext.loc[2, "n"] == 4
    for row in prompts.itertuples():  # a picture comes back exactly when the lookup draws that very picture
        first = train.table.index[train.table.image_id == row.image_id][0]
        expected = np.array_equal(lookup[row.caption], train.images[first])
        assert near.query("prompt_image_id == @row.image_id").copies_own_picture.any() == expected
    assert ext.loc[8, "extracted"] == 1.0 and ext.loc[2, "extracted"] == 1.0
    assert (ext.extracted_low <= ext.extracted).all() and (ext.extracted <= ext.extracted_high).all()


def test_a_pipeline_that_learnt_nothing_extracts_nothing(train, lookup_pipeline):
    _, near, ext = _study(lookup_pipeline({}), train, seeds=[0])
    assert ext.k.sum() == 0 and not near.copies_own_picture.any()


def test_a_near_copy_of_another_picture_is_not_an_extraction():
    import pandas as pd

    near = pd.DataFrame({"nearest": [1], "near_copy": [True]})
    marked = own_picture_copies(near, ["a"], [2], ["a", "b"])
    assert not marked.copies_own_picture.item()
    with pytest.raises(ValueError, match="one of each per generation"):
        own_picture_copies(near, ["a", "b"], [2], ["a", "b"])
