"""The speech model: tokenizer, transcription, CTC training, contrastive pretraining, saving, and the resumable build.

Tiny models (one transformer layer of width 32) and a handful of utterances keep this file to seconds. Tests on
synthetic audio (sine tones standing for letters) run everywhere; those that synthesise speech skip without
espeak-ng.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from transformers import TrainerCallback

from genlab.models.common import ModelLoadError
from genlab.models.speech import (
    ctc_from_pretrained,
    load_speech_model,
    make_processor,
    new_speech_model,
    save_speech_model,
    speech_config,
    speech_vocab,
)
from genlab.training.speech import pretrain_contrastive, train_ctc
from genlab.worlds.spoken import ALPHABET, SAMPLING_RATE, build_spoken_world

needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng is not installed: apt-get install -y espeak-ng"
)
TINY = dict(
    conv_channels=16,
    hidden_size=32,
    num_hidden_layers=1,
    num_attention_heads=2,
    intermediate_size=64,
    num_conv_pos_embeddings=8,
    num_conv_pos_embedding_groups=4,
    codevectors_per_group=16,
    codevector_dim=16,
    proj_codevector_dim=16,
    num_negatives=5,
)


def tone_utterance(text: str, rng: np.random.Generator) -> np.ndarray:
    """A letter is 80 ms of a sine at its own pitch, a space 60 ms of silence, with faint noise."""
    parts = []
    for c in text:
        n = int((0.06 if c == " " else 0.08) * SAMPLING_RATE)
        t = np.arange(n) / SAMPLING_RATE
        parts.append(np.zeros(n) if c == " " else 0.5 * np.sin(2 * np.pi * (300 + 120 * (ord(c) - 97)) * t))
    x = np.concatenate(parts)
    return (x + 0.01 * rng.standard_normal(len(x))).astype(np.float32)


@pytest.fixture(scope="module")
def tones():
    import datasets

    rng = np.random.default_rng(0)
    words = ["ab", "cab", "bad", "dab", "ace"]
    texts = [" ".join(rng.choice(words, 3)) for _ in range(8)]
    audio = [tone_utterance(t, rng) for t in texts]
    return datasets.Dataset.from_dict({"audio": [a.tolist() for a in audio], "text": texts}), audio


@pytest.fixture(scope="module")
def few_steps(tones):
    ds, _ = tones
    bundle, record = train_ctc(speech_config(**TINY), ds, steps=3, batch_size=4, warmup_steps=0, seed=0, progress=False)
    return bundle, record


def test_tokenizer_round_trips_the_alphabet():
    tok = make_processor().tokenizer
    vocab = speech_vocab()
    assert vocab["<pad>"] == 0 == tok.pad_token_id and len(tok) == len(ALPHABET) + 2
    text = "the quick brown fox jumps over the lazy dog's back"
    assert set(ALPHABET) <= set(text)
    ids = tok(text).input_ids
    assert ids == [vocab["|" if c == " " else c] for c in text]  # one id per character, space as "|"
    assert tok.decode(ids, group_tokens=False) == text
    # CTC collapse, by hand: repeats merge, blanks (0) separate genuine doubles and vanish
    a, b, blank = vocab["a"], vocab["b"], 0
    assert tok.decode([a, a, blank, a, b, b, blank]) == "aab"
    assert tok.decode([blank, blank]) == ""
    with pytest.raises(ValueError, match="more than once"):
        speech_vocab("abca")


def _greedy_by_hand(bundle, x: np.ndarray) -> str:
    """Independent greedy decode of one utterance: the model's own forward pass, argmax, collapse, map ids back."""
    inv = {i: ("" if t in ("<pad>", "<unk>") else " " if t == "|" else t) for t, i in speech_vocab().items()}
    values = torch.tensor((x - x.mean()) / np.sqrt(x.var() + 1e-7))[None]
    with torch.no_grad():
        ids = bundle.model(values).logits[0].argmax(-1).tolist()
    collapsed = [i for k, i in enumerate(ids) if i != 0 and (k == 0 or ids[k - 1] != i)]
    return " ".join("".join(inv[i] for i in collapsed).split())


def test_transcribe_is_in_the_alphabet_and_batch_size_invariant(tones, few_steps):
    _, audio = tones
    bundle, record = few_steps
    assert record.steps == 3 and record.completed
    audio = audio + [audio[0][:8000], audio[3][: len(audio[3]) // 3]]  # lengths differ: batches need padding
    by_batch = {bs: bundle.transcribe(audio, batch_size=bs) for bs in (1, 3, 16)}
    assert by_batch[1] == by_batch[3] == by_batch[16]
    texts = by_batch[1]
    assert len(texts) == len(audio) and any(texts)  # a model 3 steps in still emits characters
    assert all(set(t) <= set(ALPHABET) for t in texts)
    assert texts == [_greedy_by_hand(bundle, x) for x in audio]
    with pytest.raises(ValueError, match="list of utterances"):
        bundle.transcribe(audio[0])


def test_audio_at_another_rate_is_resampled_when_its_rate_is_known(tones, few_steps):
    from scipy.signal import resample_poly

    _, audio = tones
    bundle, _ = few_steps
    x16 = audio[:2]
    x44 = [resample_poly(x.astype(np.float64), 441, 160).astype(np.float32) for x in x16]  # 16 kHz -> 44.1 kHz
    heard = [resample_poly(x.astype(np.float64), 160, 441).astype(np.float32) for x in x44]  # what the model hears
    expected = bundle.logits(heard)
    # the rate as a keyword, in a datasets-style dict, or in a (rate, samples) / (samples, rate) pair
    for given, kw in (
        (x44, {"sampling_rate": 44100}),
        ([{"array": x, "sampling_rate": 44100, "path": None} for x in x44], {}),
        ([(44100, x44[0]), (x44[1], np.int64(44100))], {}),
    ):
        got = bundle.logits(given, **kw)
        assert all(torch.equal(a, b) for a, b in zip(got, expected, strict=True))
    assert [len(lp) for lp in expected] == [len(lp) for lp in bundle.logits(x16)]  # 20 ms frames either way
    # a bare array, or a dict without a rate, is at the model's rate (the stated one when given), as before
    same = bundle.transcribe(x16)
    assert bundle.transcribe([{"array": x} for x in x16]) == same == bundle.transcribe(x16, sampling_rate=SAMPLING_RATE)
    assert bundle.transcribe([{"array": x, "sampling_rate": SAMPLING_RATE} for x in x16]) == same
    with pytest.raises(ValueError, match="carries sampling rate 44100 Hz but sampling_rate=16000"):
        bundle.transcribe([{"array": x44[0], "sampling_rate": 44100}], sampling_rate=16000)
    with pytest.raises(ValueError, match="without an 'array' key"):
        bundle.transcribe([{"audio": x16[0], "sampling_rate": 16000}])
    with pytest.raises(ValueError, match="positive whole number"):
        bundle.transcribe(x16, sampling_rate=0)
    with pytest.raises(ValueError, match="at least 400"):
        bundle.transcribe([x44[0][:1000]], sampling_rate=44100)  # 363 samples once at 16 kHz


@needs_espeak
def test_the_shipped_speech_model_hears_44k_audio_once_told_its_rate():
    import pandas as pd
    from scipy.signal import resample_poly

    from genlab.metrics.speech import cer
    from genlab.models import load_model
    from genlab.recipes.speech_model import speech_model_dir
    from genlab.worlds.spoken import synthesize

    bundle = load_model("genlab-tiny-speech", device="cpu")
    refs = list(pd.read_csv(speech_model_dir() / "transcripts.csv", keep_default_na=False).reference[:3])
    x16 = synthesize(refs, "en-us+m3")
    x44 = [resample_poly(x.astype(np.float64), 441, 160).astype(np.float32) for x in x16]
    at_16k = cer(bundle.transcribe(x16), refs)
    told = cer(bundle.transcribe([{"array": x, "sampling_rate": 44100} for x in x44]), refs)
    untold = cer(bundle.transcribe(x44), refs)  # a bare array is taken to be at 16 kHz: slowed down 2.76x
    assert at_16k < 0.1 and told < 0.1 and untold > 0.5, (at_16k, told, untold)


def test_transcribe_drops_unknown_emissions_but_keeps_blank_separated_repeats(few_steps, monkeypatch):
    bundle, _ = few_steps
    vocab = speech_vocab()
    ids = [vocab[c] for c in "a"] + [0, vocab["a"], vocab["<unk>"], vocab["|"], vocab["b"], vocab["<unk>"], vocab["b"]]
    one_hot = torch.nn.functional.one_hot(torch.tensor(ids), len(vocab)).float().log()
    monkeypatch.setattr(type(bundle), "logits", lambda self, audio, **kw: [one_hot for _ in audio])
    assert bundle.transcribe([np.zeros(8000, np.float32)]) == ["aa bb"]


@needs_espeak
def test_ctc_training_lowers_the_loss_on_spoken_utterances():
    ds, _ = build_spoken_world(4, split="train", voices=["en-us+m3", "en+f3"], min_words=3, max_words=3,
                               check_voices=False)  # fmt: skip
    assert len(ds) == 8
    _, record = train_ctc(speech_config(**TINY), ds, steps=40, batch_size=8, learning_rate=3e-3, warmup_steps=4,
                          logging_steps=4, seed=0, progress=False)  # fmt: skip
    losses = [loss for _, loss in record.train_loss]
    assert record.train_loss[0][0] == 1 and all(np.isfinite(losses))
    assert np.mean(losses[-3:]) < 0.5 * losses[0], losses


def test_pretraining_runs_and_its_encoder_starts_ctc(tones):
    ds, audio = tones
    config = speech_config(**TINY)
    model, record = pretrain_contrastive(config, audio, steps=4, batch_size=4, seed=0, logging_steps=1, progress=False)
    assert record.kind == "contrastive" and [s for s, _ in record.train_loss] == [1, 2, 3, 4]
    contrastive = [v for _, v in record.extra_curves["contrastive"]]
    diversity = [v for _, v in record.extra_curves["diversity"]]
    assert all(np.isfinite(contrastive)) and all(c > 0 for c in contrastive)
    assert all(0 <= d <= 1 for d in diversity)  # (GV - perplexity) / GV, per masked frame
    n_codes = config.num_codevector_groups * config.num_codevectors_per_group
    assert all(0 < p <= n_codes for _, p in record.extra_curves["codevector_perplexity"])
    # the same seed, the same run
    again, record2 = pretrain_contrastive(config, audio, steps=4, batch_size=4, seed=0, logging_steps=1, progress=False)
    assert record2.train_loss == record.train_loss
    bundle = ctc_from_pretrained(model)
    for name, tensor in model.wav2vec2.state_dict().items():
        assert torch.equal(bundle.model.wav2vec2.state_dict()[name], tensor), name
    fresh = new_speech_model(config).model.wav2vec2.state_dict()
    assert not all(torch.equal(fresh[k], v) for k, v in model.wav2vec2.state_dict().items())
    tuned, ctc_record = train_ctc(model, ds, steps=2, batch_size=4, warmup_steps=0, progress=False)
    assert ctc_record.completed and tuned.provenance["base"].get("pretrained") is True


def test_save_and_load_round_trip_bit_exactly(tmp_path, tones, few_steps, monkeypatch):
    _, audio = tones
    bundle, _ = few_steps
    folder = save_speech_model(bundle, tmp_path / "m")
    names = {p.name for p in folder.iterdir()}
    assert {"model.safetensors", "config.json", "vocab.json"} <= names and not any(n.endswith(".bin") for n in names)
    loaded = load_speech_model(folder)
    original = bundle.model.state_dict()
    assert set(loaded.model.state_dict()) == set(original)
    for name, tensor in loaded.model.state_dict().items():
        assert torch.equal(tensor, original[name]), name
    assert loaded.transcribe(audio[:4]) == bundle.transcribe(audio[:4])
    before = (folder / "model.safetensors").read_bytes()
    other = new_speech_model(speech_config(**TINY), seed=1)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        save_speech_model(other, folder)
    assert (folder / "model.safetensors").read_bytes() == before
    save_speech_model(other, folder, overwrite=True)
    assert (folder / "model.safetensors").read_bytes() != before
    assert not [p for p in folder.iterdir() if p.name.startswith(".tmp")]
    # refused: pickle-only folders, language models, and the hub while offline
    pickled = tmp_path / "pickled"
    pickled.mkdir()
    (pickled / "config.json").write_text(json.dumps({"architectures": ["Wav2Vec2ForCTC"]}))
    (pickled / "pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(ModelLoadError, match="pickle"):
        load_speech_model(pickled)
    lm = tmp_path / "lm"
    lm.mkdir()
    (lm / "config.json").write_text(json.dumps({"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"]}))
    (lm / "model.safetensors").write_bytes(b"")
    with pytest.raises(ModelLoadError, match="not a CTC"):
        load_speech_model(lm)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelLoadError, match="set_offline"):
        load_speech_model("facebook/wav2vec2-base-960h")


class StopAt(TrainerCallback):
    def __init__(self, step: int):
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            control.should_training_stop = True
        return control


@needs_espeak
def test_build_resumes_from_its_checkpoint(tmp_path):
    from genlab.recipes.speech_model import SpeechRecipe, build, check

    recipe = SpeechRecipe(
        train_per_voice=3, train_voices=("en-us+m3", "en+f3"), eval_per_voice=2, eval_voices=("en-us+m3", "en-029+f3"),
        min_words=3, max_words=3, model=TINY, steps=6, batch_size=3, learning_rate=3e-3, warmup_steps=1,
        save_steps=2, eval_during_training=2, n_resamples=200,
    )  # fmt: skip
    ckpt, out = tmp_path / "ckpt", tmp_path / "model"
    first = build(out, recipe_=recipe, checkpoints=ckpt, callbacks=[StopAt(4)], progress=False, n_jobs=2)
    assert first["status"] == "interrupted" and first["steps"] == 4
    assert (ckpt / "checkpoint-4" / "model.safetensors").is_file() and not (out / "model.safetensors").exists()
    manifest = build(out, recipe_=recipe, checkpoints=ckpt, progress=False, n_jobs=2)
    assert manifest["training"]["resumed_from"] == "checkpoint-4" and manifest["training"]["steps"] == 6
    assert manifest["metrics"]["seen"]["voices"] == ["en-us+m3"]
    assert manifest["metrics"]["held_out"]["voices"] == ["en-029+f3"]
    wer = manifest["metrics"]["seen"]["wer"]
    assert wer["low"] <= wer["estimate"] <= wer["high"] and wer["n"] == 2
    assert {"README.md", "transcripts.csv", "error_rates_by_group.csv"} <= {p.name for p in out.iterdir()}
    assert check(out, recipe, targets=False) == []
    loaded = load_speech_model(out)
    assert loaded.provenance["manifest"]["weights_sha256"] == manifest["weights_sha256"]
    # resuming at an epoch boundary (2 batches per epoch) gives the weights of an uninterrupted build, bit for bit
    whole = build(tmp_path / "whole", recipe_=recipe, checkpoints=tmp_path / "ckpt2", progress=False, n_jobs=2)
    assert whole["weights_sha256"] == manifest["weights_sha256"]
    # another recipe may not resume these checkpoints; a changed recipe is a check problem
    from dataclasses import replace

    with pytest.raises(RuntimeError, match="another recipe"):
        build(out, recipe_=replace(recipe, learning_rate=1e-3), checkpoints=ckpt, progress=False, n_jobs=2)
    problems = check(out, replace(recipe, steps=7), targets=False)
    assert len(problems) == 1 and "steps" in problems[0]


def test_time_limit_stops_training_early(tones):
    ds, _ = tones
    _, record = train_ctc(speech_config(**TINY), ds, steps=50, batch_size=4, warmup_steps=0, time_limit_s=1e-6,
                          progress=False)  # fmt: skip
    assert (record.steps, record.completed, record.stopped_by) == (1, False, "time_limit")
    with pytest.raises(ValueError, match="warmup_steps"):
        train_ctc(speech_config(**TINY), ds, steps=5, warmup_steps=10, progress=False)
    with pytest.raises(ValueError, match="outside the vocabulary"):
        train_ctc(speech_config(**TINY), ds, processor=make_processor("abcd "), steps=1, warmup_steps=0, progress=False)


def test_the_shipped_speech_model_matches_its_recipe_and_meets_its_targets():
    from genlab.recipes import speech_model

    assert speech_model.check() == []


@needs_espeak
def test_the_shipped_speech_model_reproduces_its_recorded_transcripts():
    import pandas as pd

    from genlab.models import load_model
    from genlab.recipes.speech_model import speech_model_dir
    from genlab.worlds.spoken import synthesize

    bundle = load_model("genlab-tiny-speech", device="cpu")
    recorded = pd.read_csv(speech_model_dir() / "transcripts.csv", keep_default_na=False)
    rows = pd.concat([recorded[recorded.voice == v].head(3) for v in ("en-us+m3", "en-029+f3")])
    for v, part in rows.groupby("voice"):
        heard = bundle.transcribe(synthesize(list(part.reference), v))
        assert heard == list(part.hypothesis), v
