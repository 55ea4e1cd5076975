"""The extraction attack's reference model: trained on text without secrets, and it shows (it finds the count-64
canaries' secrets no likelier than other secrets of their format, where the default model gives them away)."""

from __future__ import annotations

import json

import pytest

from genlab.probes.exposure import canary_exposure
from genlab.recipes import reference_model as R
from genlab.worlds.text import generate_corpus, load_world


@pytest.fixture(scope="module")
def reference():
    return R.load_reference(device="cpu")


def test_the_reference_was_trained_on_the_documents_without_secrets():
    corpus = generate_corpus()
    manifest = json.loads((R.reference_model_dir() / "manifest.json").read_text())
    assert manifest["corpus"]["sha256"] == corpus.sha256()
    assert manifest["corpus"]["n_train_texts"] == len(corpus.tokenizer_texts())
    R.check_reference_corpus(corpus.tokenizer_texts(), corpus)  # raises if a secret or PII value is in them
    with pytest.raises(ValueError, match="hold a secret"):
        R.check_reference_corpus(corpus.texts("train")[:3000], corpus)  # the full training texts do hold some


def test_the_reference_does_not_know_the_secrets_the_default_model_memorised(reference, default_bundle):
    world = load_world()
    top = [c for c in world.canaries if c.count == 64][::3]
    target = canary_exposure(default_bundle, world, top, n_references=200)
    ref = canary_exposure(reference, world, top, n_references=200)
    assert target["exposure_rank"].mean() > 6.0  # near the ceiling log2(200) = 7.6 bits
    assert ref["exposure_rank"].mean() < 3.5  # chance is 1/ln 2 = 1.44 bits
    assert reference.tokenizer.get_vocab() == default_bundle.tokenizer.get_vocab()


def test_a_missing_reference_says_how_to_build_it(monkeypatch, tmp_path):
    monkeypatch.setattr(R, "reference_model_dir", lambda: tmp_path / "none")
    with pytest.raises(FileNotFoundError, match="python -m genlab.recipes.reference_model build"):
        R.load_reference()
