"""Fixtures of the suite tests: the tiny model (in memory and saved to a folder) and small data files."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def bundle():
    from genlab.models.tiny import tiny_bundle

    return tiny_bundle(padding_side="left")


@pytest.fixture
def data(tmp_path):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("the cat sat\na mat\nthe cat\non the mat the\nthe\nsat on\n", encoding="utf-8")
    texts = tmp_path / "texts.txt"
    texts.write_text(
        "the cat sat on the mat. the cat sat on the mat and the cat sat.\n\n"
        "the mat sat on the cat. a cat sat on a mat, the mat on the cat.\n\n"
        "the cat. the mat. the cat sat on the mat the cat sat the mat sat.\n",
        encoding="utf-8",
    )
    pairs = tmp_path / "pairs.csv"
    pairs.write_text(
        "sent_more,sent_less,stereo_antistereo,bias_type\n"
        "the cat sat.,the mat sat.,stereo,a\nthe mat sat.,the cat sat.,antistereo,b\n"
        "a cat sat on the mat.,a mat sat on the cat.,stereo,a\n",
        encoding="utf-8",
    )
    return {"prompts": prompts, "texts": texts, "pairs": pairs}


#: Small settings, so a run takes a fraction of a second.
FAST = {
    "decoding": {
        "coherence": False,
        "n_resamples": 30,
        "configs": ["greedy", "sample"],
        "max_new_tokens": 6,
        "prefix_words": 4,
    },
    "quality": {"n_resamples": 30},
}


@pytest.fixture
def fast():
    return FAST
