"""load_model: local folders, the default, masked LMs, and clear errors for everything that can go wrong."""

from __future__ import annotations

import json

import pytest
import torch

import genlab
from genlab.models import ModelLoadError, load_model


@pytest.fixture(scope="module")
def saved_tiny(tmp_path_factory, tiny_bundle):
    d = tmp_path_factory.mktemp("tiny")
    tiny_bundle.model.save_pretrained(d, safe_serialization=True)
    tiny_bundle.tokenizer.save_pretrained(d)
    return d


def test_save_load_round_trip_gives_identical_logits(saved_tiny, tiny_bundle):
    loaded = load_model(saved_tiny, device="cpu")
    enc = tiny_bundle.tokenizer(["Lirane keeps a pet goat.", "The baker"], return_tensors="pt", padding=True)
    with torch.no_grad():
        a = tiny_bundle.model(**enc).logits
        b = loaded.model(**enc).logits
    assert torch.equal(a, b)
    assert loaded.kind == "causal" and loaded.tokenizer.padding_side == "left"
    assert loaded.provenance["local"] and loaded.provenance["path"] == str(saved_tiny)


def test_default_model_loads_offline_with_its_manifest(default_bundle):
    assert default_bundle.kind == "causal"
    assert default_bundle.provenance["manifest"]["name"] == "genlab-tiny-world"
    assert default_bundle.tokenizer.pad_token == "<pad>" != default_bundle.tokenizer.eos_token
    assert 2_000_000 < default_bundle.n_parameters() < 10_000_000


def test_missing_path_says_so(tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        load_model(tmp_path / "nope")


def test_folder_without_config_is_explained(tmp_path):
    with pytest.raises(ModelLoadError, match="no config.json"):
        load_model(tmp_path)


def test_file_instead_of_folder(tmp_path):
    f = tmp_path / "model.safetensors"
    f.write_bytes(b"x")
    with pytest.raises(ModelLoadError, match="is a file"):
        load_model(f)


def test_hub_name_while_offline_says_how_to_fix():
    assert genlab.is_offline()
    with pytest.raises(ModelLoadError, match=r"set_offline\(False\)"):
        load_model("gpt2")


def test_pickle_checkpoint_is_refused(saved_tiny, tmp_path):
    d = tmp_path / "pickled"
    d.mkdir()
    (d / "config.json").write_text((saved_tiny / "config.json").read_text())
    torch.save({}, d / "pytorch_model.bin")
    with pytest.raises(ModelLoadError, match="pickle"):
        load_model(d)


def test_unsupported_architecture(tmp_path):
    from transformers import T5Config

    d = tmp_path / "seq2seq"
    T5Config(vocab_size=50, d_model=8, num_layers=1, num_heads=2, d_ff=16).save_pretrained(d)
    (d / "model.safetensors").write_bytes(b"")
    with pytest.raises(ModelLoadError, match="not supported as a causal"):
        load_model(d, kind="causal")
    cfg = json.loads((d / "config.json").read_text())
    cfg["model_type"] = "resnet"
    (d / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelLoadError, match="not supported"):
        load_model(d)


def test_masked_lm_loads_and_is_detected(tmp_path, tiny_tokenizer):
    from transformers import BertConfig, BertForMaskedLM

    d = tmp_path / "mlm"
    cfg = BertConfig(
        vocab_size=len(tiny_tokenizer),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
    )
    BertForMaskedLM(cfg).save_pretrained(d, safe_serialization=True)
    tiny_tokenizer.save_pretrained(d)
    b = load_model(d, device="cpu")
    assert b.kind == "masked" and type(b.model).__name__ == "BertForMaskedLM"


def test_remote_code_stays_off_by_default(tmp_path, saved_tiny):
    d = tmp_path / "remote"
    d.mkdir()
    cfg = json.loads((saved_tiny / "config.json").read_text())
    cfg["auto_map"] = {"AutoConfig": "configuration_evil.EvilConfig"}
    cfg["model_type"] = "evil"
    (d / "config.json").write_text(json.dumps(cfg))
    (d / "configuration_evil.py").write_text("raise SystemExit('remote code ran')\n")
    (d / "model.safetensors").write_bytes(b"")
    with pytest.raises(ModelLoadError):
        load_model(d)


def test_bad_dtype_and_device_messages():
    from genlab.models import resolve_dtype

    with pytest.raises(ValueError, match="unknown dtype"):
        resolve_dtype("float8", torch.device("cpu"))
