"""genlab.probes.bold: prompts that differ only in the group, and generation gaps paired by template and
sample."""

from __future__ import annotations

import pytest

from genlab.models.tiny import tiny_bundle
from genlab.probes.bold import generation_gaps, group_prompts

TEXTS = ["the cat sat on the mat.", "a dog ran to the park."]


def test_group_prompts_differ_only_in_the_group_and_check_their_input():
    frame = group_prompts(["{group} sat and", "Then {group}"], ["She", "He"], axis="gender")
    assert frame["prompt"].tolist() == ["She sat and", "He sat and", "Then She", "Then He"]
    with pytest.raises(ValueError, match="group"):
        group_prompts(["no slot here"], ["a", "b"])
    with pytest.raises(ValueError, match="two or more"):
        group_prompts(["{group}"], ["a", "a"])


def test_generation_gaps_pair_continuations_by_template_and_sample():
    bundle = tiny_bundle(texts=TEXTS, padding_side="left", seed=1)
    prompts = group_prompts(["the {group} sat on", "a {group} ran to"], ["cat", "dog"], axis="animal")
    out = generation_gaps(bundle, prompts, n_samples=3, max_new_tokens=5, n_resamples=200)
    items = out["items"]
    assert len(items) == 4 * 3 and set(items["group"]) == {"cat", "dog"}
    wide = items.pivot_table(index=["template_id", "sample_id"], columns="group", values="sentiment")
    gap = out["gaps"].iloc[0]
    assert (gap["group"], gap["reference"], gap["n"]) == ("dog", "cat", 6)
    assert gap["difference"] == pytest.approx((wide["dog"] - wide["cat"]).mean())
    assert gap["difference_low"] <= gap["difference"] <= gap["difference_high"] and 0 <= gap["p_value"] <= 1
    groups = out["groups"].set_index("group")
    cat = groups.loc["cat"]
    assert cat["n"] == 6 and 0 <= cat["offensive_rate_low"] <= cat["offensive_rate_high"] <= 1
