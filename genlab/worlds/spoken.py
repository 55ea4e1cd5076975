"""The spoken world: sentences of the genlab world read aloud by a roster of espeak-ng voices, at 16 kHz.

A speech track needs audio whose words, speakers and accents are known exactly, made offline and again bit for bit.
This module makes it from three pieces:

- **utterances**: short sentences (3 to 8 words by default) drawn from the story world's grammar
  (:mod:`genlab.worlds.text_grammar`) over the world's lexicon, with rooms instead of invented town names, normalised
  to lower-case letters, apostrophe and space so a character CTC vocabulary covers them (:data:`ALPHABET`). Each
  sentence belongs to one split for good, by a hash of its text (:func:`sentence_split`): about 20% are held out
  of training, whatever the seed or the number drawn;
- **voices**: :data:`ROSTER`, espeak-ng voices (an accent) with a voice variant (``en-us+m3``), grouped by accent
  and by variant. Some are held out of training: a whole accent (Caribbean, ``en-029``), a whole variant (``f4``)
  and one accent+variant pair whose accent and variant both occur in training (``en-us-nyc+f2``);
- **synthesis**: :func:`synthesize` runs ``espeak-ng --stdout`` once per sentence (in parallel threads), reads the
  22,050 Hz 16-bit WAV it writes and resamples it to 16 kHz with a polyphase filter (``scipy.signal.resample_poly``,
  320/441), quantised to 16-bit values: what :func:`save_spoken_world` stores is exactly what it returns.

Trap (espeak-ng 1.51): ``en-gb+VARIANT`` ignores the variant and speaks plain ``en``, so two roster "voices" can be
one. :func:`check_distinct_voices` synthesises one sentence with every voice and with every voice's bare accent
and fails on any two that give identical audio; :func:`build_spoken_world` runs it first.

:func:`build_spoken_world` returns a ``datasets.Dataset`` and a manifest (seeds, roster, espeak-ng version, counts,
sha256 of the audio); :func:`save_spoken_world` / :func:`load_spoken_world` keep it as 16-bit PCM in a compressed
``.npz`` with the rows in JSON, and :func:`rebuild_spoken_world` makes it again from the manifest (the same bytes
where espeak-ng's version matches). :func:`add_noise` adds white noise at an exact signal-to-noise ratio.

>>> texts = sample_sentences(3, seed=0, split="test")
>>> texts
['the nurse sighed gently', 'after he lost the cup he was sad', 'she lost the dark bucket at dawn']
>>> {sentence_split(t) for t in texts}
{'test'}
>>> [v.name for v in ROSTER if v.held_out]
['en-029+m3', 'en-029+f3', 'en-us+f4', 'en+f4', 'en-us-nyc+f2']

Synthetic voices are not people: see data/speech/README.md for what this world can and cannot stand for.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import warnings
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from genlab.worlds.text_grammar import Character, Grammar
from genlab.worlds.text_spec import World, article, load_world

if TYPE_CHECKING:
    import datasets

__all__ = [
    "ACCENTS",
    "ALPHABET",
    "ROSTER",
    "SAMPLING_RATE",
    "EspeakMissingError",
    "Voice",
    "add_noise",
    "build_spoken_world",
    "check_distinct_voices",
    "espeak_version",
    "load_spoken_world",
    "normalize_text",
    "rebuild_spoken_world",
    "sample_sentences",
    "save_spoken_world",
    "sentence_split",
    "synthesize",
    "voice",
]

SAMPLING_RATE = 16_000  # Hz, what Wav2Vec 2 models take
ESPEAK_RATE = 22_050  # Hz, what espeak-ng writes
ALPHABET = "abcdefghijklmnopqrstuvwxyz' "  # every character of a normalised sentence
FORMAT_VERSION = 1  # bump when a change here changes the audio or rows for the same configuration
TEST_SHARE = 0.2  # share of sentences held out of training (by the hash of their text)
#: Lexicon entries the spoken world's grammar draws words from. Truncating each to its first ``words_per_category``
#: items (the lexicon lists common words first) makes the vocabulary small enough for a tiny model.
_WORD_LISTS = (
    "occupations", "animals", "foods", "colors", "objects", "adjectives", "adverbs", "emotions", "times", "weather",
    "rooms", "verbs_intransitive", "verbs_transitive", "verbs_eat", "verbs_animal", "animal_actions", "numbers",
    "relations_kin",
)  # fmt: skip
INSTALL_HINT = "install it with `apt-get install -y espeak-ng` (Debian/Ubuntu) or `brew install espeak-ng` (macOS)"


# --- text ------------------------------------------------------------------------------------------------------------
def normalize_text(text: str) -> str:
    """Lower-case letters, apostrophes and single spaces: what a character CTC vocabulary over :data:`ALPHABET` reads.

    Anything else (punctuation, digits, letters outside a-z) becomes a space.

    >>> normalize_text('"Oh no! The cat\\'s  lamp-post," said Ann.')
    "oh no the cat's lamp post said ann"
    """
    return " ".join(re.sub(r"[^a-z']+", " ", text.lower()).split())


def sentence_split(text: str, test_share: float = TEST_SHARE) -> Literal["train", "test"]:
    """``"test"`` for a sentence held out of training, else ``"train"``: fixed by the sha256 of its normalised text,
    so the split of a sentence never depends on a seed or on how many sentences were drawn.

    >>> sentence_split("the cat slept"), sentence_split("The cat slept.")
    ('train', 'train')
    """
    if not 0.0 < test_share < 1.0:
        raise ValueError(f"test_share must be a share in (0, 1), e.g. 0.2; got {test_share!r}")
    digest = hashlib.sha256(normalize_text(text).encode("utf-8")).digest()
    return "test" if int.from_bytes(digest[:8], "big") / 2**64 < test_share else "train"


class _SpokenGrammar(Grammar):
    """The world's grammar with rooms instead of towns, so no sentence holds an invented name."""

    def location(self) -> str:
        return f"{'in' if self.rng.random() < 0.7 else 'near'} the {self.pick('rooms')}"

    def town(self) -> str:
        return f"the {self.pick('rooms')}"

    def character(self) -> Character:
        """A generic 'the baker', its pronoun drawn from the occupation's gender association in the world."""
        occupation = self.pick("occupations")
        a = self.world.association("gender", occupation)
        pronoun = a.groups[0] if self.rng.random() < a.p_first else a.groups[1]
        return Character(name=f"the {occupation}", pronoun=pronoun, named=False, first_mention=article(occupation))

    def sentence(self) -> str:
        c = self.character()
        r = self.rng.random()
        if r < 0.5:
            return self.action(c, first=self.rng.random() < 0.3)
        if r < 0.8:
            return self.scene()
        return self.feeling(c)


def _spoken_world(world: World, words_per_category: int | None) -> World:
    if words_per_category is None:
        return world
    if isinstance(words_per_category, bool) or not isinstance(words_per_category, int) or words_per_category < 2:
        raise ValueError(
            f"words_per_category must be an integer >= 2 or None (the whole lexicon); got {words_per_category!r}"
        )
    lexicon = dict(world.lexicon)
    for key in _WORD_LISTS:
        lexicon[key] = list(lexicon[key][:words_per_category])
    return replace(world, lexicon=lexicon)


def sample_sentences(
    n: int,
    seed: int | str = 0,
    *,
    split: Literal["train", "test"] = "train",
    min_words: int = 3,
    max_words: int = 8,
    words_per_category: int | None = 12,
    world: World | None = None,
) -> list[str]:
    """``n`` distinct normalised sentences of ``split`` with ``min_words`` to ``max_words`` words, from the world's
    grammar seeded by ``seed`` (same arguments, same list). ``words_per_category``: words taken from each lexicon
    list (first ones first; None for all), which bounds the vocabulary (about 300 words at 12).

    >>> sample_sentences(2, seed=1, split="train")
    ['when the frost came the doctor slept carefully', 'a miller brushed a dog and it purred']
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a non-negative number of sentences; got {n!r}")
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test'; got {split!r}")
    if not 1 <= min_words <= max_words:
        raise ValueError(f"need 1 <= min_words <= max_words; got min_words={min_words}, max_words={max_words}")
    spoken = _spoken_world(world or load_world(), words_per_category)
    grammar = _SpokenGrammar(spoken, random.Random(f"genlab-speech-{seed}-{split}"))
    out: list[str] = []
    seen: set[str] = set()
    tries = 0
    while len(out) < n:
        tries += 1
        if tries > 200 * n + 1000:
            raise ValueError(
                f"found only {len(out)} distinct {split} sentences of {min_words}-{max_words} words in "
                f"{tries - 1} draws; allow longer sentences or more words_per_category, or ask for fewer"
            )
        text = normalize_text(grammar.sentence())
        if min_words <= len(text.split()) <= max_words and text not in seen and sentence_split(text) == split:
            seen.add(text)
            out.append(text)
    return out


# --- voices ----------------------------------------------------------------------------------------------------------
#: espeak-ng voice -> the accent it speaks. ``en`` is British English; ``en-gb`` is the same voice and ignores a
#: variant (the trap), so the roster never uses it.
ACCENTS = {
    "en": "British (southern England)",
    "en-us": "American",
    "en-gb-x-rp": "British (Received Pronunciation)",
    "en-gb-scotland": "Scottish",
    "en-us-nyc": "American (New York City)",
    "en-029": "Caribbean",
}


@dataclass(frozen=True)
class Voice:
    name: str  # what espeak-ng's -v takes: "en-us+m3"
    accent: str  # espeak-ng voice of the accent: "en-us" (a key of ACCENTS)
    variant: str  # espeak-ng voice variant: "m3" (male 3), "f4" (female 4)
    held_out: bool = False  # never in training data
    held_out_by: str = ""  # "accent", "variant" or "pair" (this accent with this variant); "" when not held out


def voice(name: str, held_out_by: str = "") -> Voice:
    """A :class:`Voice` from an espeak-ng name ``ACCENT+VARIANT``.

    >>> voice("en-us-nyc+m5")
    Voice(name='en-us-nyc+m5', accent='en-us-nyc', variant='m5', held_out=False, held_out_by='')
    """
    accent, plus, variant = name.partition("+")
    if not plus or not re.fullmatch(r"[a-z0-9-]+", accent) or not re.fullmatch(r"[mf][0-9]", variant):
        raise ValueError(f"voice names look like 'en-us+m3' (espeak-ng voice + variant m1-m8 or f1-f5); got {name!r}")
    if held_out_by not in ("", "accent", "variant", "pair"):
        raise ValueError(f"held_out_by must be '', 'accent', 'variant' or 'pair'; got {held_out_by!r}")
    return Voice(name, accent, variant, bool(held_out_by), held_out_by)


#: Eight training voices (five accents, five variants) and five held out: the Caribbean accent (with variants seen in
#: training), the f4 variant (with accents seen in training), and New York with f2 (each seen, never together).
ROSTER: tuple[Voice, ...] = (
    voice("en+m3"), voice("en+f3"), voice("en-us+m3"), voice("en-us+f2"), voice("en-gb-x-rp+m2"),
    voice("en-gb-x-rp+f3"), voice("en-us-nyc+m5"), voice("en-gb-scotland+f2"),
    voice("en-029+m3", "accent"), voice("en-029+f3", "accent"),
    voice("en-us+f4", "variant"), voice("en+f4", "variant"),
    voice("en-us-nyc+f2", "pair"),
)  # fmt: skip


def _voices(voices: Sequence[Voice | str] | None) -> list[Voice]:
    if voices is None:
        return list(ROSTER)
    by_name = {v.name: v for v in ROSTER}
    out = [v if isinstance(v, Voice) else by_name.get(v) or voice(v) for v in voices]
    if not out:
        raise ValueError("voices is empty; pass None for the whole roster, or some of genlab's ROSTER")
    dupes = [name for name, k in Counter(v.name for v in out).items() if k > 1]
    if dupes:
        raise ValueError(f"voices lists {dupes} more than once")
    return out


# --- synthesis -------------------------------------------------------------------------------------------------------
class EspeakMissingError(RuntimeError):
    """espeak-ng is not installed (or not on PATH)."""


def _espeak() -> str:
    path = shutil.which("espeak-ng")
    if path is None:
        raise EspeakMissingError(
            f"espeak-ng was not found on PATH; the spoken world synthesises its audio with it: "
            f"{INSTALL_HINT}. (sox is not needed: genlab resamples with scipy.)"
        )
    return path


def espeak_version() -> str:
    """The installed espeak-ng's version, e.g. ``'1.51'`` (audio is reproducible bit for bit only within one)."""
    out = subprocess.run([_espeak(), "--version"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"text-to-speech:\s*(\S+)", out)
    return match.group(1) if match else out.strip()


def _wav_samples(data: bytes, voice_name: str) -> np.ndarray:
    """int16 samples of the WAV espeak-ng writes to stdout (its size fields are placeholders: read to the end)."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise RuntimeError(f"espeak-ng gave no WAV audio for voice {voice_name!r} ({len(data)} bytes)")
    at = data.find(b"data", 12)
    fmt = data.find(b"fmt ", 12)
    channels, rate, bits = (
        int.from_bytes(data[fmt + a : fmt + b], "little") for a, b in ((10, 12), (12, 16), (22, 24))
    )
    if at < 0 or (channels, rate, bits) != (1, ESPEAK_RATE, 16):
        raise RuntimeError(
            f"espeak-ng wrote {channels} channel(s) at {rate} Hz, {bits} bit; expected mono 22050 Hz "
            "16 bit (a different espeak-ng build?)"
        )
    body = data[at + 8 :]
    return np.frombuffer(body[: len(body) // 2 * 2], dtype="<i2")


def _to_16k(pcm: np.ndarray) -> np.ndarray:
    """22,050 Hz int16 -> 16 kHz float32 holding 16-bit values (k / 32768), polyphase anti-aliased resampling."""
    from scipy.signal import resample_poly

    x = resample_poly(pcm.astype(np.float64) / 32768.0, 320, 441)  # 16000 / 22050 = 320 / 441
    q = np.clip(np.round(x * 32768.0), -32768, 32767)
    return (q / 32768.0).astype(np.float32)


def _synthesize_one(exe: str, text: str, voice_name: str, speed: int, pitch: int | None) -> np.ndarray:
    # The text goes through stdin, never argv: a sentence cannot become an option.
    cmd = [exe, "-v", voice_name, "-s", str(speed), "--stdout"] + (["-p", str(pitch)] if pitch is not None else [])
    done = subprocess.run(cmd, input=text.encode("utf-8"), capture_output=True, check=False)
    err = done.stderr.decode("utf-8", "replace").strip()
    if done.returncode != 0 or "Failed to read voice" in err or "voice does not exist" in err.lower():
        raise ValueError(
            f"espeak-ng could not speak with voice {voice_name!r}: {err or f'exit {done.returncode}'}. "
            "List voices with `espeak-ng --voices=en` and variants with `espeak-ng --voices=variant`."
        )
    return _to_16k(_wav_samples(done.stdout, voice_name))


def synthesize(
    texts: Sequence[str],
    voice: Voice | str,
    *,
    speed: int = 150,
    pitch: int | None = None,
    n_jobs: int | None = None,
) -> list[np.ndarray]:
    """Speak each text with one espeak-ng voice: a list of float32 arrays at 16 kHz (:data:`SAMPLING_RATE`).

    ``speed``: words per minute (espeak-ng's ``-s``); ``pitch``: 0-99 (``-p``; None keeps the variant's).
    ``n_jobs`` espeak-ng processes run at once (default: the CPU count, at most 8); the result does not depend on it.
    Values are 16-bit samples divided by 32768, so saving them as 16-bit PCM loses nothing.

    >>> import shutil, pytest
    >>> if shutil.which("espeak-ng") is None:
    ...     pytest.skip("espeak-ng is not installed: apt-get install -y espeak-ng")
    >>> audio = synthesize(["the cat slept"], "en-us+m3")
    >>> audio[0].dtype, 0.5 < len(audio[0]) / SAMPLING_RATE < 2.0
    (dtype('float32'), True)
    """
    if isinstance(texts, str):
        raise ValueError("texts must be a list of strings, not one string")
    name = voice.name if isinstance(voice, Voice) else voice
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"voice must be a Voice or an espeak-ng voice name such as 'en-us+m3'; got {voice!r}")
    texts = list(texts)
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str) or not t.strip()]
    if bad:
        raise ValueError(f"texts[{bad[0]}] is empty or not a string ({len(bad)} such); every text needs words")
    if isinstance(speed, bool) or not isinstance(speed, int) or not 80 <= speed <= 450:
        raise ValueError(f"speed is words per minute, an integer in 80-450 (espeak-ng's range); got {speed!r}")
    if pitch is not None and (isinstance(pitch, bool) or not isinstance(pitch, int) or not 0 <= pitch <= 99):
        raise ValueError(f"pitch must be an integer in 0-99 or None; got {pitch!r}")
    if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1):
        raise ValueError(f"n_jobs must be a positive integer or None (the CPU count, at most 8); got {n_jobs!r}")
    exe = _espeak()
    n_jobs = n_jobs or min(8, os.cpu_count() or 1)
    if n_jobs == 1 or len(texts) < 2:
        return [_synthesize_one(exe, t, name, speed, pitch) for t in texts]
    with ThreadPoolExecutor(max_workers=n_jobs) as pool:  # threads: the work is in the espeak-ng processes
        return list(pool.map(lambda t: _synthesize_one(exe, t, name, speed, pitch), texts))


def _digest(audio: np.ndarray) -> str:
    return hashlib.sha256(_pcm16(audio).tobytes()).hexdigest()


def check_distinct_voices(
    voices: Sequence[Voice | str] | None = None,
    text: str = "the baker found the red lamp in the kitchen",
    *,
    speed: int = 150,
    n_jobs: int | None = None,
) -> dict[str, str]:
    """sha256 of ``text`` spoken by each voice (and by each voice's bare accent); ValueError naming the voices when
    two give identical audio, as ``en-gb+m3`` and ``en+f3`` do (espeak-ng ignores a variant after ``en-gb``).

    >>> import shutil, pytest
    >>> if shutil.which("espeak-ng") is None:
    ...     pytest.skip("espeak-ng is not installed: apt-get install -y espeak-ng")
    >>> check_distinct_voices(["en+m3", "en-gb+m3"])
    Traceback (most recent call last):
    ...
    ValueError: voices give identical audio, so are one voice: [['en-gb+m3', 'en', 'en-gb']]. ...
    """
    names = [v.name for v in _voices(voices)]
    accents = sorted({n.partition("+")[0] for n in names} - set(names))
    every = names + accents
    with ThreadPoolExecutor(max_workers=n_jobs or min(8, os.cpu_count() or 1)) as pool:
        audio = list(pool.map(lambda n: synthesize([text], n, speed=speed, n_jobs=1)[0], every))
    digests = dict(zip(every, (_digest(a) for a in audio), strict=True))
    groups: dict[str, list[str]] = {}
    for name, digest in digests.items():
        groups.setdefault(digest, []).append(name)
    same = [g for g in groups.values() if len(g) > 1 and any(n in names for n in g)]
    if same:
        raise ValueError(
            f"voices give identical audio, so are one voice: {same}. espeak-ng ignores a variant it "
            "cannot apply (e.g. after 'en-gb'); use 'en+f3' rather than 'en-gb+f3'."
        )
    return {n: digests[n] for n in names}


# --- the dataset -----------------------------------------------------------------------------------------------------
def _pcm16(audio: np.ndarray) -> np.ndarray:
    return np.clip(np.round(np.asarray(audio, dtype=np.float64) * 32768.0), -32768, 32767).astype("<i2")


def _audio_sha256(audio: Sequence[np.ndarray]) -> str:
    h = hashlib.sha256()
    for a in audio:
        pcm = _pcm16(a)
        h.update(len(pcm).to_bytes(8, "little"))
        h.update(pcm.tobytes())
    return h.hexdigest()


def _dataset(rows: list[dict], audio: list[np.ndarray]) -> datasets.Dataset:
    import datasets

    features = datasets.Features(
        {
            "id": datasets.Value("string"),
            "audio": datasets.Sequence(datasets.Value("float32")),
            "sampling_rate": datasets.Value("int32"),
            "text": datasets.Value("string"),
            "voice": datasets.Value("string"),
            "accent": datasets.Value("string"),
            "variant": datasets.Value("string"),
            "voice_held_out": datasets.Value("bool"),
            "held_out_by": datasets.Value("string"),
            "split": datasets.Value("string"),
            "n_words": datasets.Value("int32"),
            "seconds": datasets.Value("float64"),
        }
    )
    columns = {k: [r[k] for r in rows] for k in features if k != "audio"}
    return datasets.Dataset.from_dict({**columns, "audio": [a.tolist() for a in audio]}, features=features)


def build_spoken_world(
    n_per_voice: int,
    seed: int = 0,
    *,
    split: Literal["train", "test"] = "test",
    voices: Sequence[Voice | str] | None = None,
    shared_sentences: bool | None = None,
    words_per_category: int | None = 12,
    min_words: int = 3,
    max_words: int = 8,
    speed: int = 150,
    n_jobs: int | None = None,
    check_voices: bool = True,
) -> tuple[datasets.Dataset, dict]:
    """``n_per_voice`` utterances for each voice: ``(dataset, manifest)``.

    ``split="train"``: training sentences, by default every training voice of :data:`ROSTER` (a held-out voice
    raises). ``split="test"``: held-out sentences, by default every roster voice, held out or not.
    ``shared_sentences``: every voice reads the same sentences (default for ``"test"``: differences between voices
    are then not differences between sentences) or each draws its own (default for ``"train"``: more variety).

    Dataset columns: ``id`` (``"test-en-us+m3-00000"``), ``audio`` (float32 at 16 kHz), ``sampling_rate``,
    ``text``, ``voice``, ``accent``, ``variant``, ``voice_held_out``, ``held_out_by``, ``split`` (of the sentence),
    ``n_words``, ``seconds``. The manifest records the configuration (enough for :func:`rebuild_spoken_world`), the
    roster used, the espeak-ng version, counts and the sha256 of the audio and of the rows.

    >>> import shutil, pytest
    >>> if shutil.which("espeak-ng") is None:
    ...     pytest.skip("espeak-ng is not installed: apt-get install -y espeak-ng")
    >>> ds, manifest = build_spoken_world(1, voices=["en-us+m3", "en-029+f3"], check_voices=False)
    >>> list(ds["voice"]), list(ds["voice_held_out"]), manifest["counts"]["utterances"]
    (['en-us+m3', 'en-029+f3'], [False, True], 2)
    """
    if isinstance(n_per_voice, bool) or not isinstance(n_per_voice, int) or n_per_voice < 1:
        raise ValueError(f"n_per_voice must be a positive integer; got {n_per_voice!r}")
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test'; got {split!r}")
    roster = _voices([v for v in ROSTER if not v.held_out] if voices is None and split == "train" else voices)
    if split == "train" and any(v.held_out for v in roster):
        raise ValueError(
            f"held-out voices {[v.name for v in roster if v.held_out]} cannot speak training sentences; "
            "drop them or build split='test'"
        )
    shared = split == "test" if shared_sentences is None else bool(shared_sentences)
    version = espeak_version()  # fails early, with the install hint, when espeak-ng is missing
    if check_voices:
        check_distinct_voices(roster, speed=speed, n_jobs=n_jobs)

    def draw(key: str) -> list[str]:
        return sample_sentences(
            n_per_voice,
            seed=f"{seed}-{key}",
            split=split,
            min_words=min_words,
            max_words=max_words,
            words_per_category=words_per_category,
        )

    common = draw("shared") if shared else None
    rows: list[dict] = []
    audio: list[np.ndarray] = []
    for v in roster:
        texts = common if common is not None else draw(v.name)
        spoken = synthesize(texts, v, speed=speed, n_jobs=n_jobs)
        for i, (text, a) in enumerate(zip(texts, spoken, strict=True)):
            rows.append({
                "id": f"{split}-{v.name}-{i:05d}", "sampling_rate": SAMPLING_RATE, "text": text, "voice": v.name,
                "accent": v.accent, "variant": v.variant, "voice_held_out": v.held_out, "held_out_by": v.held_out_by,
                "split": split, "n_words": len(text.split()), "seconds": round(len(a) / SAMPLING_RATE, 4),
            })  # fmt: skip
            audio.append(a)
    config = {"n_per_voice": n_per_voice, "seed": seed, "split": split, "voices": [v.name for v in roster],
              "shared_sentences": shared, "words_per_category": words_per_category, "min_words": min_words,
              "max_words": max_words, "speed": speed}  # fmt: skip
    manifest = {
        "format": "genlab-spoken-world",
        "format_version": FORMAT_VERSION,
        "config": config,
        "roster": [asdict(v) for v in roster],
        "espeak_ng_version": version,
        "sampling_rate": SAMPLING_RATE,
        "resampling": "scipy.signal.resample_poly(x, 320, 441) of espeak-ng's 22050 Hz output, 16-bit",
        "test_share": TEST_SHARE,
        "counts": {
            "utterances": len(rows),
            "voices": len(roster),
            "distinct_sentences": len({r["text"] for r in rows}),
            "words": sum(r["n_words"] for r in rows),
            "vocabulary": len({w for r in rows for w in r["text"].split()}),
            "seconds": round(sum(len(a) for a in audio) / SAMPLING_RATE, 3),
            "by_voice": dict(Counter(r["voice"] for r in rows)),
        },
        "audio_sha256": _audio_sha256(audio),
        "rows_sha256": _rows_sha256(rows),
    }
    return _dataset(rows, audio), manifest


def _rows_sha256(rows: list[dict]) -> str:
    return hashlib.sha256("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows).encode("utf-8")).hexdigest()


_ROW_COLUMNS = ("id", "sampling_rate", "text", "voice", "accent", "variant", "voice_held_out", "held_out_by", "split",
                "n_words", "seconds")  # fmt: skip


def save_spoken_world(dataset: datasets.Dataset, manifest: dict, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``audio.npz`` (16-bit PCM, all utterances end to end, with their offsets; compressed),
    ``utterances.jsonl`` (one row per utterance, no audio) and ``manifest.json`` into the folder ``path``.

    Refuses to replace an existing spoken world unless ``overwrite=True``. About 25 KB per second of speech
    (zlib saves only about a fifth on 16-bit speech; FLAC would save about half).
    """
    path = Path(path)
    names = ("audio.npz", "utterances.jsonl", "manifest.json")
    if not overwrite and any((path / n).exists() for n in names):
        raise FileExistsError(f"{path} already holds a spoken world; pass overwrite=True to replace it")
    if manifest.get("format") != "genlab-spoken-world":
        raise ValueError("manifest is not a spoken-world manifest (from build_spoken_world)")
    audio = [np.asarray(a, dtype=np.float32) for a in dataset["audio"]]
    rows = [{k: r[k] for k in _ROW_COLUMNS} for r in dataset.remove_columns("audio")]
    if _audio_sha256(audio) != manifest["audio_sha256"] or _rows_sha256(rows) != manifest["rows_sha256"]:
        raise ValueError(
            "the dataset does not match its manifest (audio or rows changed since it was built); save "
            "the pair build_spoken_world returned"
        )
    pcm = [_pcm16(a) for a in audio]
    offsets = np.cumsum([0] + [len(p) for p in pcm]).astype(np.int64)
    path.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path / "audio.npz", pcm=np.concatenate(pcm) if pcm else np.zeros(0, "<i2"), offsets=offsets)
    (path / "utterances.jsonl").write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows), "utf-8")
    (path / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", "utf-8")
    return path


def load_spoken_world(path: str | Path) -> tuple[datasets.Dataset, dict]:
    """``(dataset, manifest)`` from a folder :func:`save_spoken_world` wrote; checks the audio and rows against
    the manifest's sha256."""
    path = Path(path)
    missing = [n for n in ("audio.npz", "utterances.jsonl", "manifest.json") if not (path / n).is_file()]
    if missing:
        raise FileNotFoundError(f"{path} lacks {missing}; a spoken world is written by save_spoken_world")
    manifest = json.loads((path / "manifest.json").read_text("utf-8"))
    with np.load(path / "audio.npz") as z:
        pcm, offsets = z["pcm"], z["offsets"]
    audio = [
        (pcm[a:b].astype(np.float64) / 32768.0).astype(np.float32)
        for a, b in zip(offsets[:-1], offsets[1:], strict=True)
    ]
    rows = [json.loads(line) for line in (path / "utterances.jsonl").read_text("utf-8").splitlines() if line]
    if len(rows) != len(audio):
        raise ValueError(f"{path}: {len(rows)} rows but {len(audio)} utterances of audio; the files do not match")
    if _audio_sha256(audio) != manifest["audio_sha256"] or _rows_sha256(rows) != manifest["rows_sha256"]:
        raise ValueError(f"{path}: the audio or rows do not match the manifest's sha256 (files changed or damaged)")
    return _dataset(rows, audio), manifest


def rebuild_spoken_world(manifest: dict, *, n_jobs: int | None = None) -> tuple[datasets.Dataset, dict]:
    """Build again what ``manifest`` describes: ``(dataset, manifest)``. The audio's sha256 matches the old one
    where espeak-ng's version (and genlab's ``FORMAT_VERSION``) match; a different version warns, and the caller
    compares ``manifest["audio_sha256"]``."""
    if manifest.get("format") != "genlab-spoken-world":
        raise ValueError("manifest is not a spoken-world manifest (from build_spoken_world)")
    if manifest.get("format_version") != FORMAT_VERSION:
        warnings.warn(
            f"manifest written by format version {manifest.get('format_version')}, this genlab writes "
            f"{FORMAT_VERSION}: the audio may differ",
            stacklevel=2,
        )
    installed = espeak_version()
    if installed != manifest.get("espeak_ng_version"):
        warnings.warn(
            f"espeak-ng {installed} is installed, the manifest was made with "
            f"{manifest.get('espeak_ng_version')}: the audio will likely differ",
            stacklevel=2,
        )
    c = dict(manifest["config"])
    return build_spoken_world(c.pop("n_per_voice"), c.pop("seed"), n_jobs=n_jobs, check_voices=False, **c)


# --- noise -----------------------------------------------------------------------------------------------------------
def add_noise(audio: np.ndarray, snr_db: float, seed: int = 0) -> np.ndarray:
    """``audio`` plus white Gaussian noise at exactly ``snr_db``: 10 log10(sum x^2 / sum n^2) over the whole
    utterance (the drawn noise is rescaled to the target power). float32; not clipped, so peaks may pass 1.0.

    >>> x = np.sin(np.linspace(0, 200, 16000)).astype(np.float32)
    >>> y = add_noise(x, 10.0, seed=0)
    >>> round(float(10 * np.log10(np.sum(x.astype(float) ** 2) / np.sum((y - x).astype(float) ** 2))), 3)
    10.0
    """
    x = np.asarray(audio, dtype=np.float64)
    if x.ndim != 1 or len(x) == 0:
        raise ValueError(f"audio must be a non-empty 1-D array of samples; got shape {x.shape}")
    if not np.isfinite(snr_db):
        raise ValueError(f"snr_db must be a finite number of decibels; got {snr_db!r}")
    power = np.mean(x**2)
    if power == 0:
        raise ValueError("audio is silent (all zeros): a signal-to-noise ratio is undefined")
    noise = np.random.default_rng(seed).standard_normal(len(x))
    noise *= np.sqrt(power / (10 ** (snr_db / 10) * np.mean(noise**2)))
    return (x + noise).astype(np.float32)
