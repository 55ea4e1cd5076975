"""Tokenizer round trip, and a short pretraining run that really learns."""

from __future__ import annotations

import pytest

from genlab.data.tokenizer import train_tokenizer
from genlab.models.gpt2 import ModelConfig
from genlab.training.pretraining import PretrainConfig, pretrain


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
        PretrainConfig(max_steps=120, batch_size=16, eval_steps=120, warmup_steps=10, progress=False),
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


def test_digits_never_merge_so_no_number_becomes_a_vocabulary_entry():
    secrets = [f"The phone number of Ana is 555-{i:04d}-{i * 7 % 10000:04d}." for i in range(50)] * 20
    tok = train_tokenizer(secrets, vocab_size=400)
    assert not [t for t in tok.get_vocab() if sum(ch.isdigit() for ch in t) > 1]
    ids = tok("555-0042-0294", add_special_tokens=False)["input_ids"]
    assert len(ids) == 13 and tok.decode(ids) == "555-0042-0294"


def test_packing_keeps_every_document_whole(small_corpus, tiny_tokenizer):
    from genlab.training.pretraining import tokenize_documents

    texts = small_corpus.texts("train")[:40]
    packed, usage = tokenize_documents(tiny_tokenizer, texts, max_length=64, packing=True)
    truncated, cut = tokenize_documents(tiny_tokenizer, texts, max_length=64, packing=False)
    eos = tiny_tokenizer.eos_token_id
    stream = [t for block in packed["input_ids"] for t in block]
    assert set(packed["length"]) == {64} and usage["tokens"] - usage["tokens_used"] < 64
    # the blocks are the documents, in order, each closed by <|endoftext|>, cut only at the end
    expected = [eos]
    for text in texts:
        expected += tiny_tokenizer(text, add_special_tokens=False)["input_ids"] + [eos]
    assert stream == expected[: len(stream)] and usage["tokens"] == len(expected)
    assert cut["documents_truncated"] == sum(len(tiny_tokenizer(t)["input_ids"]) + 2 > 64 for t in texts) > 0
    assert cut["tokens_used"] == sum(truncated["length"]) < cut["tokens"]


def test_an_interrupted_pretraining_resumes_where_it_stopped(small_corpus, tiny_tokenizer, tmp_path):
    """Checkpoints every 2 steps; the newest is deleted to simulate a crash between saves. The restarted run picks
    up at step 2 and ends with the same weights as a run that was never interrupted."""
    import copy
    import shutil

    import torch

    def run(checkpoints):
        return pretrain(small_corpus.texts("train")[:120], small_corpus.texts("validation")[:8],
                        copy.deepcopy(tiny_tokenizer), ModelConfig(n_positions=64, n_embd=32, n_layer=1, n_head=2),
                        PretrainConfig(max_steps=4, batch_size=4, eval_steps=4, save_steps=2, progress=False),
                        checkpoint_dir=checkpoints)

    straight = run(None)
    first = run(tmp_path)
    assert first.metrics["resumed_from"] is None and (tmp_path / "checkpoint-4").is_dir()
    shutil.rmtree(tmp_path / "checkpoint-4")
    again = run(tmp_path)
    assert again.metrics["resumed_from"] == "checkpoint-2"
    for a, b in zip(straight.bundle.model.parameters(), again.bundle.model.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


# --- bad input fails before any training, and nothing the caller had is changed or lost ------------------------------
TINY_SHAPE = dict(n_positions=32, n_embd=16, n_layer=1, n_head=2)
ONE_STEP = PretrainConfig(max_steps=1, batch_size=2, eval_steps=1, progress=False)


@pytest.fixture
def no_training(monkeypatch):
    """Any attempt to train fails the test: the checks below must come first."""
    import transformers

    def train(*args, **kwargs):
        raise AssertionError("pretrain started training")

    monkeypatch.setattr(transformers.Trainer, "train", train)


def test_pretrain_refuses_validation_shorter_than_a_block_before_training(small_corpus, tiny_tokenizer, no_training):
    # packed validation: one short document, with its <|endoftext|>s, is less than one block of 32 tokens
    train = small_corpus.texts("train")[:40]
    with pytest.raises(ValueError, match=r"validation texts hold \d+ tokens, less than one block of 32.*packing=False"):
        pretrain(train, ["the fox ran."], tiny_tokenizer, ModelConfig(**TINY_SHAPE), ONE_STEP)


@pytest.mark.parametrize("which", ["train_texts", "eval_texts"])
def test_pretrain_refuses_empty_text_lists_before_training(small_corpus, tiny_tokenizer, no_training, which):
    texts = {"train_texts": small_corpus.texts("train")[:40], "eval_texts": small_corpus.texts("validation")[:4]}
    texts[which] = []
    with pytest.raises(ValueError, match=f"{which} is empty; pass"):
        pretrain(texts["train_texts"], texts["eval_texts"], tiny_tokenizer, ModelConfig(**TINY_SHAPE), ONE_STEP)
    with pytest.raises(ValueError, match="list of strings"):
        pretrain("one document", ["another"], tiny_tokenizer, ModelConfig(**TINY_SHAPE), ONE_STEP)


def test_pretrain_refuses_a_vocab_size_other_than_the_tokenizers(small_corpus, tiny_tokenizer, no_training):
    n = len(tiny_tokenizer)
    with pytest.raises(ValueError, match=rf"vocab_size=4096\) disagrees with the tokenizer, which has {n} tokens"):
        pretrain(small_corpus.texts("train")[:40], small_corpus.texts("validation")[:4], tiny_tokenizer,
                 ModelConfig(vocab_size=4096, **TINY_SHAPE), ONE_STEP)


def test_pretrain_leaves_the_callers_tokenizer_and_an_existing_model_alone(small_corpus, tiny_tokenizer, tmp_path):
    import copy

    tok = copy.deepcopy(tiny_tokenizer)
    before = (tok.model_max_length, tok.padding_side)
    texts, val = small_corpus.texts("train")[:40], small_corpus.texts("validation")[:4]
    first = pretrain(texts, val, tok, ModelConfig(vocab_size=len(tok), **TINY_SHAPE), ONE_STEP, output_dir=tmp_path)
    assert (tok.model_max_length, tok.padding_side) == before == (128, "right")
    assert (first.bundle.tokenizer.model_max_length, first.bundle.tokenizer.padding_side) == (32, "left")

    (tmp_path / "manifest.json").write_text("{}")
    weights = (tmp_path / "model.safetensors").read_bytes()
    other = PretrainConfig(max_steps=1, batch_size=2, eval_steps=1, seed=1, progress=False)
    with pytest.raises(FileExistsError, match="already holds a model .*pass overwrite=True"):
        pretrain(texts, val, tok, ModelConfig(**TINY_SHAPE), other, output_dir=tmp_path)
    assert (tmp_path / "model.safetensors").read_bytes() == weights

    pretrain(texts, val, tok, ModelConfig(**TINY_SHAPE), other, output_dir=tmp_path, overwrite=True)
    assert (tmp_path / "model.safetensors").read_bytes() != weights  # replaced: another seed
    assert (tmp_path / "manifest.json").read_text() == "{}"  # other files stay
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp")]
