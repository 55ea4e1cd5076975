"""The embedded default model: consistent with the corpus it claims, and it writes the world's sentences."""

from __future__ import annotations

import re

import pytest
import torch

from genlab.recipes.default_model import check
from genlab.worlds.text import generate_corpus


def test_manifest_matches_the_current_corpus_and_spec():
    assert check() == []


@pytest.fixture(scope="module")
def corpus():
    return generate_corpus()  # the default corpus the model was trained on (hash checked above)


def test_the_shipped_tokenizer_was_learned_from_text_without_secrets(default_bundle, corpus):
    """Retraining the tokenizer on the documents without canaries or PII gives the shipped vocabulary exactly, and
    no entry holds two digits: no secret, and no part of one, is in the vocabulary."""
    from genlab.data.tokenizer import train_tokenizer

    shipped = default_bundle.tokenizer.get_vocab()
    assert train_tokenizer(corpus.tokenizer_texts(), vocab_size=len(shipped)).get_vocab() == shipped
    assert not [t for t in shipped if sum(ch.isdigit() for ch in t) > 1]


def test_the_recorded_world_validity_is_what_the_code_measures(default_bundle, corpus):
    """The manifest's fact and association numbers are reproduced on the shipped model (the exposure tables, which
    take minutes, are checked for shape: every kind and count, controls included)."""
    import pandas as pd

    from genlab.core.paths import default_model_dir
    from genlab.probes.next_token_association import association_fit, association_probe
    from genlab.probes.world_validity import fact_recall, recall_by_count

    recorded = default_bundle.provenance["manifest"]["validity"]
    by = recall_by_count(fact_recall(default_bundle, corpus))
    seen = by[by["probe"] == "seen"].sort_values("count")["accuracy"].round(3).tolist()
    assert seen == recorded["facts"]["seen_accuracy"]
    fit = association_fit(association_probe(default_bundle, corpus.world))
    assert round(fit["pearson_r"], 3) == recorded["associations"]["pearson_r"]
    assert round(fit["slope"], 3) == recorded["associations"]["slope"]
    exposure = pd.read_csv(default_model_dir() / "validity" / "exposure.csv")
    assert set(exposure["count"]) == set(corpus.world.config.canary_counts)
    assert set(exposure["kind"]) == {"phone", "email", "member_id"}


def test_manifest_records_the_recipe(default_bundle):
    m = default_bundle.provenance["manifest"]
    for key in ("model_config", "pretrain_config", "corpus", "world", "validation", "samples", "n_parameters",
                "recipe", "validity"):
        assert key in m
    assert m["corpus"]["seed"] == 0 and len(m["corpus"]["sha256"]) == 64
    assert m["n_parameters"] == default_bundle.n_parameters()
    assert m["validation"]["perplexity"] < 10, "a trained model, not an untrained one (vocab 4096)"


@pytest.fixture(scope="module")
def vocabulary():
    corpus = generate_corpus(n_train_docs=3000, n_validation_docs=10, n_test_docs=10)
    return {w.strip('.,!?"').lower() for d in corpus.documents() for w in d.text.split()}


def _words(text: str) -> list[str]:
    return [w.strip('.,!?"').lower() for w in text.split() if w.strip('.,!?"')]


def test_greedy_and_sampled_text_reads_as_the_worlds_sentences(default_bundle, vocabulary):
    tok, model = default_bundle.tokenizer, default_bundle.model
    prompts = [tok.bos_token + p for p in ("The baker", "In the morning,", '"Hello, friend," said', "Once there was")]
    enc = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
    torch.manual_seed(0)
    for kwargs in ({"do_sample": False}, {"do_sample": True, "top_p": 0.9, "top_k": 0}):
        out = model.generate(**enc, max_new_tokens=60, pad_token_id=tok.pad_token_id, **kwargs)
        texts = tok.batch_decode(out[:, enc["input_ids"].shape[1] :], skip_special_tokens=True)
        words = [w for t in texts for w in _words(t)]
        known = sum(w in vocabulary for w in words) / len(words)
        assert known > 0.95, (kwargs, texts)
        assert all(re.search(r"[.!?]", t) for t in texts), texts  # complete sentences


def test_the_model_learned_to_stop(default_bundle):
    tok, model = default_bundle.tokenizer, default_bundle.model
    enc = tok([tok.bos_token] * 8, return_tensors="pt", add_special_tokens=False)
    torch.manual_seed(1)
    out = model.generate(
        **enc,
        do_sample=True,
        top_p=0.95,
        top_k=0,
        max_new_tokens=250,
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
    )
    finished = (out[:, 1:] == tok.eos_token_id).any(dim=1).float().mean().item()
    assert finished >= 0.75


def test_target_problems_name_what_is_missed_or_unmeasured(tmp_path):
    import json

    from genlab.recipes.default_model import target_problems

    (tmp_path / "manifest.json").write_text(json.dumps({"name": "x"}))
    assert target_problems(tmp_path) == [
        "the manifest holds no validity measurement: run `python -m genlab.recipes.default_model measure`"]
    (tmp_path / "manifest.json").write_text(json.dumps({"validity": {"targets_met": {"a": True, "b": False}}}))
    assert target_problems(tmp_path) == ["target missed: b"]


def test_build_resumes_unless_fresh(tmp_path, monkeypatch):
    """`build --fresh` deletes earlier checkpoints before training; without it they are kept for the resume."""
    from genlab.recipes import default_model

    calls = []

    def fake_pretrain(*args, checkpoint_dir, **kwargs):
        calls.append(sorted(p.name for p in checkpoint_dir.iterdir()))
        raise RuntimeError("stop before training")

    monkeypatch.setattr(default_model, "pretrain", fake_pretrain)
    monkeypatch.setattr(default_model, "world_spec_path", lambda: tmp_path / "spec.json")
    checkpoints = tmp_path / "ck"
    (checkpoints / "checkpoint-100").mkdir(parents=True)
    (checkpoints / "corpus.sha256").write_text(generate_corpus().sha256() + "\n")
    for fresh in (False, True):
        with pytest.raises(RuntimeError, match="stop before training"):
            default_model.build(tmp_path / "out", steps=2, checkpoints=checkpoints, fresh=fresh)
    assert calls == [["checkpoint-100", "corpus.sha256"], ["corpus.sha256"]]
