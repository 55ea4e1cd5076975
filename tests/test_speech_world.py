"""The spoken world: its sentences, its roster of voices, espeak-ng synthesis, the saved dataset and added noise.

Tests that synthesise skip, with the reason, where espeak-ng is not installed; the rest run everywhere.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import wave
from collections import Counter

import numpy as np
import pytest
from scipy.signal import resample

from genlab.worlds import spoken as sw
from genlab.worlds.text import load_world

needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None,
    reason="espeak-ng is not installed (apt-get install -y espeak-ng); the spoken world synthesises with it",
)


def _snr_db(clean: np.ndarray, noisy: np.ndarray) -> float:
    x = clean.astype(np.float64)
    return float(10 * np.log10(np.sum(x**2) / np.sum((noisy.astype(np.float64) - x) ** 2)))


# --- sentences -------------------------------------------------------------------------------------------------------
def test_sentences_are_seeded_distinct_short_and_in_the_ctc_alphabet():
    a = sw.sample_sentences(300, seed=3, split="train", min_words=3, max_words=8)
    assert a == sw.sample_sentences(300, seed=3, split="train", min_words=3, max_words=8)
    assert a != sw.sample_sentences(300, seed=4, split="train")
    assert len(set(a)) == 300
    assert all(3 <= len(t.split()) <= 8 for t in a)
    assert all(set(t) <= set(sw.ALPHABET) and t == " ".join(t.split()) for t in a)
    assert len({len(t.split()) for t in a}) >= 4  # short and long sentences, not one length


def test_train_and_test_sentences_never_overlap_and_the_split_follows_the_text():
    train = sw.sample_sentences(400, seed=0, split="train")
    test = sw.sample_sentences(100, seed=0, split="test")
    assert not set(train) & set(test)
    assert {sw.sentence_split(t) for t in train} == {"train"} and {sw.sentence_split(t) for t in test} == {"test"}
    # a test sentence is a test sentence whatever seed drew it
    assert not set(sw.sample_sentences(400, seed=9, split="train")) & set(test)
    # the hash sends about TEST_SHARE of arbitrary texts to test (binomial sd 0.0057 at n=5000)
    rng = np.random.default_rng(0)
    texts = {"".join(rng.choice(list("abcdefgh "), 12)) for _ in range(5000)}
    share = np.mean([sw.sentence_split(t) == "test" for t in texts])
    assert abs(share - sw.TEST_SHARE) < 0.02


def test_sentences_use_the_world_vocabulary_cut_to_words_per_category():
    lexicon = load_world().lexicon
    small = sw.sample_sentences(500, seed=1, words_per_category=6)
    words = Counter(w for t in small for w in t.split())
    allowed = {w for key in sw._WORD_LISTS for item in lexicon[key][:6] for w in sw.normalize_text(item).split()}
    for key in ("objects", "adjectives", "rooms", "colors"):  # words only these lists supply
        cut = {w for item in lexicon[key][6:] for w in item.split()} - allowed
        assert not cut & set(words), f"{key}: words beyond the first 6 appear: {sorted(cut & set(words))[:5]}"
        assert {w for item in lexicon[key][:6] for w in item.split()} & set(words), f"no {key} word used"
    full = sw.sample_sentences(500, seed=1, words_per_category=None)
    assert len({w for t in full for w in t.split()}) > 1.5 * len(words)
    place_words = {w for p in load_world().places for w in sw.normalize_text(p.name).split()}
    assert not place_words & {w for t in full for w in t.split()}, "no invented town name is spoken"


def test_normalize_text_and_bad_arguments():
    assert sw.normalize_text("  The CAT's hat-stand, 3 times!\n") == "the cat's hat stand times"
    with pytest.raises(ValueError, match="min_words"):
        sw.sample_sentences(3, min_words=5, max_words=4)
    with pytest.raises(ValueError, match="only"):
        sw.sample_sentences(50, min_words=1, max_words=1)
    with pytest.raises(ValueError, match="words_per_category"):
        sw.sample_sentences(3, words_per_category=1)


# --- the roster ------------------------------------------------------------------------------------------------------
def test_roster_holds_out_an_accent_a_variant_and_a_pair_each_seen_apart_in_training():
    train = [v for v in sw.ROSTER if not v.held_out]
    held = {kind: [v for v in sw.ROSTER if v.held_out_by == kind] for kind in ("accent", "variant", "pair")}
    assert all(held.values()) and len(train) >= 6
    train_accents, train_variants = {v.accent for v in train}, {v.variant for v in train}
    train_pairs = {(v.accent, v.variant) for v in train}
    # a held-out accent never speaks in training, but its variants do: the gap is the accent's
    assert len({v.accent for v in held["accent"]}) == 1 and not {v.accent for v in held["accent"]} & train_accents
    assert {v.variant for v in held["accent"]} <= train_variants
    # a held-out variant never speaks in training, but its accents do
    assert len({v.variant for v in held["variant"]}) == 1 and not {v.variant for v in held["variant"]} & train_variants
    assert {v.accent for v in held["variant"]} <= train_accents
    # the held-out pair: its accent and its variant are each in training, never together
    for v in held["pair"]:
        assert v.accent in train_accents and v.variant in train_variants and (v.accent, v.variant) not in train_pairs
    assert all(v.accent in sw.ACCENTS and not v.name.startswith("en-gb+") for v in sw.ROSTER)
    assert len({v.name for v in sw.ROSTER}) == len(sw.ROSTER)
    with pytest.raises(ValueError, match="look like"):
        sw.voice("en-us")


def test_missing_espeak_says_what_to_install(monkeypatch):
    monkeypatch.setattr(sw.shutil, "which", lambda name: None)
    with pytest.raises(sw.EspeakMissingError, match="apt-get install -y espeak-ng"):
        sw.synthesize(["the cat slept"], "en-us+m3")
    with pytest.raises(sw.EspeakMissingError, match="espeak-ng was not found"):
        sw.build_spoken_world(1)


# --- synthesis -------------------------------------------------------------------------------------------------------
@needs_espeak
def test_synthesis_is_deterministic_16k_and_matches_an_independent_decode(tmp_path):
    texts = ["the cat slept", "a doctor ate some cheese in the kitchen"]
    one = sw.synthesize(texts, "en-us+m3", n_jobs=1)
    two = sw.synthesize(texts, "en-us+m3", n_jobs=2)
    assert all(np.array_equal(a, b) for a, b in zip(one, two, strict=True))
    assert all(a.dtype == np.float32 for a in one)
    assert all(np.array_equal(np.round(a * 32768), a * 32768) for a in one), "16-bit values, lossless as PCM"
    secs = [len(a) / sw.SAMPLING_RATE for a in one]
    assert secs[0] < secs[1] and all(0.15 < s / len(t.split()) < 1.0 for s, t in zip(secs, texts, strict=True))
    # independent path: espeak-ng writes a proper file, the wave module reads it, an FFT resampler converts it
    out = tmp_path / "ref.wav"
    subprocess.run(["espeak-ng", "-v", "en-us+m3", "-s", "150", "-w", str(out), texts[1]], check=True)
    with wave.open(str(out)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (22050, 1, 2)
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2") / 32768.0
    ref = resample(pcm, int(np.ceil(len(pcm) * 16000 / 22050)))
    assert len(ref) == len(one[1])
    assert np.corrcoef(ref, one[1])[0, 1] > 0.99


@needs_espeak
def test_text_goes_through_stdin_and_bad_voices_or_texts_fail_clearly():
    audio = sw.synthesize(["--version"], "en+f3")  # spoken, not taken as an option
    assert len(audio[0]) > 0.3 * sw.SAMPLING_RATE
    with pytest.raises(ValueError, match="could not speak with voice 'xx-nowhere\\+m3'"):
        sw.synthesize(["hello"], "xx-nowhere+m3")
    with pytest.raises(ValueError, match="empty"):
        sw.synthesize(["hello", " "], "en+f3")
    with pytest.raises(ValueError, match="not one string"):
        sw.synthesize("hello", "en+f3")


@needs_espeak
def test_roster_voices_are_all_distinct_and_the_en_gb_trap_is_caught():
    digests = sw.check_distinct_voices(n_jobs=2)
    assert list(digests) == [v.name for v in sw.ROSTER] and len(set(digests.values())) == len(sw.ROSTER)
    with pytest.raises(ValueError, match=r"identical audio.*en-gb\+f3"):
        sw.check_distinct_voices(["en+m3", "en-gb+f3"])


# --- the dataset -----------------------------------------------------------------------------------------------------
@needs_espeak
def test_build_save_load_and_rebuild_bit_for_bit(tmp_path):
    voices = ["en-us+m3", "en-029+f3"]
    ds, manifest = sw.build_spoken_world(2, seed=5, voices=voices, n_jobs=2)
    assert len(ds) == 4 and set(ds.column_names) >= {
        "id", "audio", "sampling_rate", "text", "voice", "accent", "variant", "split", "n_words", "voice_held_out"
    }  # fmt: skip
    rows = ds.remove_columns("audio").to_list()
    assert [r["voice"] for r in rows] == ["en-us+m3"] * 2 + ["en-029+f3"] * 2
    assert [r["voice_held_out"] for r in rows] == [False, False, True, True]
    assert [r["text"] for r in rows[:2]] == [r["text"] for r in rows[2:]], "test voices read the same sentences"
    assert all(r["split"] == "test" == sw.sentence_split(r["text"]) for r in rows)
    assert all(r["n_words"] == len(r["text"].split()) and r["sampling_rate"] == 16000 for r in rows)
    assert len({r["id"] for r in rows}) == 4 and manifest["espeak_ng_version"] == sw.espeak_version()
    direct = sw.synthesize([rows[0]["text"]], "en-us+m3")[0]
    assert np.array_equal(np.asarray(ds[0]["audio"], np.float32), direct)

    path = sw.save_spoken_world(ds, manifest, tmp_path / "eval")
    raw_bytes = 2 * sum(len(a) for a in ds["audio"])
    assert (path / "audio.npz").stat().st_size < raw_bytes
    loaded, manifest2 = sw.load_spoken_world(path)
    assert manifest2 == json.loads(json.dumps(manifest))
    assert loaded.remove_columns("audio").to_list() == rows
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(loaded["audio"], ds["audio"], strict=True))
    with pytest.raises(FileExistsError, match="overwrite=True"):
        sw.save_spoken_world(ds, manifest, path)

    again, manifest3 = sw.rebuild_spoken_world(manifest2, n_jobs=2)
    assert manifest3["audio_sha256"] == manifest["audio_sha256"] and manifest3["rows_sha256"] == manifest["rows_sha256"]

    lines = (path / "utterances.jsonl").read_text().splitlines()
    lines[0] = lines[0].replace(rows[0]["text"], "a different sentence")
    (path / "utterances.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match="do not match the manifest"):
        sw.load_spoken_world(path)


@needs_espeak
def test_training_sets_use_training_voices_and_sentences_only():
    ds, manifest = sw.build_spoken_world(2, seed=1, split="train", voices=["en+m3", "en-us+f2"], check_voices=False)
    assert set(ds["split"]) == {"train"} and not any(ds["voice_held_out"])
    texts = list(ds["text"])
    assert not set(texts[:2]) & set(texts[2:]), "training voices draw their own sentences"
    assert manifest["counts"]["by_voice"] == {"en+m3": 2, "en-us+f2": 2}
    with pytest.raises(ValueError, match="held-out voices"):
        sw.build_spoken_world(1, split="train", voices=["en-029+m3"])


# --- noise -----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("snr", [-5.0, 0.0, 10.0, 30.0])
def test_add_noise_reaches_the_snr_and_is_seeded(snr):
    t = np.arange(16000) / 16000
    x = (0.3 * np.sin(2 * np.pi * 220 * t) * np.exp(-3 * t)).astype(np.float32)  # a decaying tone
    y = sw.add_noise(x, snr, seed=1)
    assert y.dtype == np.float32 and abs(_snr_db(x, y) - snr) < 0.1
    assert np.array_equal(y, sw.add_noise(x, snr, seed=1)) and not np.array_equal(y, sw.add_noise(x, snr, seed=2))
    noise = y.astype(np.float64) - x
    assert abs(np.corrcoef(noise[1:], noise[:-1])[0, 1]) < 0.05, "white: successive samples uncorrelated"
    with pytest.raises(ValueError, match="silent"):
        sw.add_noise(np.zeros(10), snr)


@needs_espeak
def test_add_noise_on_speech():
    x = sw.synthesize(["the cat slept in the kitchen"], "en+f3")[0]
    assert abs(_snr_db(x, sw.add_noise(x, 5.0, seed=0)) - 5.0) < 0.1
