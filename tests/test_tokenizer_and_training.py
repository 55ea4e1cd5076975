"""Tokenizer round trip, and a short pretraining run that really learns."""

from __future__ import annotations

import pytest

from genlab.tokenizer import train_tokenizer
from genlab.train import ModelConfig, PretrainConfig, pretrain


def test_tokenizer_round_trips_corpus_text(small_corpus, tiny_tokenizer):
    for text in small_corpus.texts("validation") + ["Ünïcode “quotes” — and\nnew lines", ""]:
        ids = tiny_tokenizer(text, add_special_tokens=False)["input_ids"]
        assert tiny_tokenizer.decode(ids) == text


def test_tokenizer_special_tokens_and_determinism(small_corpus, tiny_tokenizer):
    assert tiny_tokenizer.eos_token == tiny_tokenizer.bos_token == "<|endoftext|>"
    assert tiny_tokenizer.pad_token == "<pad>" and tiny_tokenizer.pad_token_id != tiny_tokenizer.eos_token_id
    again = train_tokenizer(small_corpus.texts("train"), vocab_size=600, model_max_length=128)
    assert again.get_vocab() == tiny_tokenizer.get_vocab()


def test_tokenizer_rejects_a_vocabulary_smaller_than_the_bytes():
    with pytest.raises(ValueError, match="vocab_size"):
        train_tokenizer(["a"], vocab_size=100)


def test_short_pretraining_lowers_validation_loss_and_learns_to_stop(small_corpus, tiny_tokenizer, tmp_path):
    import copy

    tok = copy.deepcopy(tiny_tokenizer)
    mc = ModelConfig(n_positions=128, n_embd=64, n_layer=2, n_head=2)
    texts, val = small_corpus.texts("train"), small_corpus.texts("validation")
    untrained = pretrain(
        texts,
        val,
        tok,
        mc,
        PretrainConfig(max_steps=1, learning_rate=1e-9, batch_size=16, eval_steps=1, progress=False),
    )
    trained = pretrain(
        texts,
        val,
        tok,
        mc,
        PretrainConfig(max_steps=80, batch_size=16, eval_steps=80, warmup_steps=10, progress=False),
        output_dir=tmp_path,
    )
    assert trained.metrics["eval_loss"] < untrained.metrics["eval_loss"] - 2.0
    assert (tmp_path / "model.safetensors").is_file() and (tmp_path / "tokenizer.json").is_file()
    losses = [h["loss"] for h in trained.history if "loss" in h]
    assert losses[-1] < losses[0]


def test_pretrain_refuses_pad_equal_to_eos(small_corpus, tiny_tokenizer):
    import copy

    tok = copy.deepcopy(tiny_tokenizer)
    tok.pad_token = tok.eos_token
    with pytest.raises(ValueError, match="pad token distinct from EOS"):
        pretrain(
            ["a b"],
            ["a b"],
            tok,
            ModelConfig(n_positions=16, n_embd=8, n_layer=1, n_head=1),
            PretrainConfig(max_steps=1, progress=False),
        )
