"""Build genlab's default speech recogniser, ``genlab-tiny-speech``: spoken world -> CTC training -> WER by voice.

    python -m genlab.recipes.speech_model build [--fresh] [--minutes N]   # about an hour on 2 cores, resumable
    python -m genlab.recipes.speech_model check [--quick]                 # manifest vs the current recipe

The build synthesises the training spoken world (:mod:`genlab.worlds.spoken`: training sentences read by the 8
training voices), trains the tiny Wav2Vec 2 of :func:`genlab.models.speech.speech_config` with a character CTC
head (:func:`genlab.training.speech.train_ctc`), checkpointing every ``save_steps`` steps under
``build/speech-model-checkpoints/``, and evaluates greedy transcripts of held-out sentences read by all 13 voices:
WER and CER with bootstrap intervals (:mod:`genlab.metrics.speech`) for the training voices and for the held-out
ones, the gap between them, and a table by voice, accent, variant and length. The model, ``manifest.json`` (recipe,
seeds, data manifests, training curve, metrics), the evaluation tables and a README card go to
``data/models/genlab-tiny-speech/``.

Run the same command again after an interruption (or after ``--minutes`` ran out) and it resumes from the newest
checkpoint of the same recipe and data; ``--fresh`` deletes the checkpoints first.

**Limitations.** The voices are espeak-ng's formant synthesis: the rates say how a tiny model copes with those
synthetic voices, not how any recogniser treats people with those accents. Held-out-sentence WER is measured on
sentences of the same grammar and vocabulary as training, so it says little about new words. Voices in the test set
read the same sentences, so their utterances are correlated and the intervals are somewhat too narrow.
"""

from __future__ import annotations

import hashlib
import json
import platform
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from genlab.core.paths import data_dir
from genlab.recipes.base import Option, ShippedModel

__all__ = [
    "BUILD_COMMAND",
    "RECIPE",
    "SPEECH_MODEL_NAME",
    "SpeechRecipe",
    "build",
    "check",
    "checkpoint_root",
    "evaluate",
    "card",
    "load_default_speech_model",
    "recipe",
    "speech_model_dir",
]

SPEECH_MODEL_NAME = "genlab-tiny-speech"
BUILD_COMMAND = "python -m genlab.recipes.speech_model build"
MAX_WEIGHT_BYTES = 25 * 2**20
TARGET_WER = 0.15  # held-out sentences, training voices (the target)
TARGET_BUILD_S = 3600  # on 2 CPU cores


@dataclass(frozen=True)
class SpeechRecipe:
    """Everything that decides the default speech model. Sizes: 8 voices x 400 = 3,200 training utterances (about
    2.2 hours of speech); 3,600 steps of 16 utterances is 18 passes, about 50 minutes on 2 cores (the tooling notes
    measured 1.8-2.0 steps/s on shorter utterances)."""

    name: str = SPEECH_MODEL_NAME
    train_per_voice: int = 400  # training sentences per training voice (each voice draws its own)
    train_voices: tuple[str, ...] | None = None  # None: every training voice of ROSTER
    data_seed: int = 0
    eval_per_voice: int = 40  # held-out sentences, read by every evaluation voice (shared)
    eval_voices: tuple[str, ...] | None = None  # None: the whole roster, held-out voices included
    eval_seed: int = 0
    min_words: int = 3
    max_words: int = 8
    words_per_category: int = 12
    model: dict = field(default_factory=dict)  # speech_config keywords (empty: the recipe's tiny Wav2Vec 2)
    steps: int = 3600
    batch_size: int = 16
    learning_rate: float = 1e-3
    warmup_steps: int = 300
    seed: int = 0  # weights and data order
    save_steps: int = 200
    eval_during_training: int = 48  # held-out-sentence utterances of training voices for the eval-loss curve
    pretrain_steps: int = 0  # wav2vec 2.0 contrastive pretraining on the training audio first (0: none)
    n_resamples: int = 2000  # bootstrap resamples of the reported intervals

    def to_dict(self) -> dict:
        d = asdict(self)
        d["train_voices"] = list(self.train_voices) if self.train_voices is not None else None
        d["eval_voices"] = list(self.eval_voices) if self.eval_voices is not None else None
        return d


def recipe() -> SpeechRecipe:
    """The default speech model's recipe."""
    return SpeechRecipe()


def speech_model_dir() -> Path:
    """``data/models/genlab-tiny-speech``."""
    return data_dir() / "models" / SPEECH_MODEL_NAME


def checkpoint_root() -> Path:
    from genlab.core.paths import REPO_DIR

    return REPO_DIR / "build" / "speech-model-checkpoints"


def load_default_speech_model(device: str = "cpu"):
    """The shipped speech model as a :class:`~genlab.models.speech.SpeechBundle`; a ``FileNotFoundError`` names the
    build command when it is missing."""
    return RECIPE.load(speech_model_dir(), device=device)


def _load(folder: Path, *, device: str = "cpu"):
    from genlab.models.speech import load_speech_model

    return load_speech_model(folder, device=device)


def _sha256_lines(lines: Sequence[str]) -> str:
    return hashlib.sha256("".join(t + "\n" for t in lines).encode("utf-8")).hexdigest()


def _train_voices(r: SpeechRecipe) -> list[str]:
    from genlab.worlds.spoken import ROSTER

    return list(r.train_voices) if r.train_voices is not None else [v.name for v in ROSTER if not v.held_out]


def _condensed(manifest: dict) -> dict:
    keep = ("config", "espeak_ng_version", "format_version", "counts", "audio_sha256", "rows_sha256")
    return {k: manifest[k] for k in keep if k in manifest}


def training_data(r: SpeechRecipe, n_jobs: int | None = None):
    """The training spoken world of ``r``: ``(dataset, data manifest)``, built one voice at a time (the same
    sentences as one call over all voices, without holding every utterance as Python floats at once)."""
    import datasets

    from genlab.worlds.spoken import build_spoken_world, check_distinct_voices

    voices = _train_voices(r)
    check_distinct_voices(voices, n_jobs=n_jobs)
    parts, manifests = [], []
    for v in voices:
        ds, manifest = build_spoken_world(
            r.train_per_voice,
            r.data_seed,
            split="train",
            voices=[v],
            words_per_category=r.words_per_category,
            min_words=r.min_words,
            max_words=r.max_words,
            n_jobs=n_jobs,
            check_voices=False,
        )
        parts.append(ds)
        manifests.append(_condensed(manifest))
    ds = datasets.concatenate_datasets(parts)
    texts = list(ds["text"])
    data = {
        "split": "train",
        "voices": voices,
        "n_utterances": len(ds),
        "seconds": round(sum(m["counts"]["seconds"] for m in manifests), 3),
        "sentences_sha256": _sha256_lines(texts),
        "audio_sha256": hashlib.sha256("".join(m["audio_sha256"] for m in manifests).encode()).hexdigest(),
        "by_voice": manifests,
    }
    return ds, data


def evaluation_data(r: SpeechRecipe, n_jobs: int | None = None):
    """Held-out sentences read by every evaluation voice: ``(dataset, condensed manifest)``."""
    from genlab.worlds.spoken import build_spoken_world

    ds, manifest = build_spoken_world(
        r.eval_per_voice,
        r.eval_seed,
        split="test",
        voices=r.eval_voices,
        words_per_category=r.words_per_category,
        min_words=r.min_words,
        max_words=r.max_words,
        n_jobs=n_jobs,
        check_voices=False,
    )
    data = _condensed(manifest)
    data["sentences_sha256"] = _sha256_lines(list(ds["text"]))
    return ds, data


def _ci(result) -> dict:
    return {
        "estimate": round(result.estimate, 4),
        "low": round(result.low, 4),
        "high": round(result.high, 4),
        "n": result.n,
        "confidence": result.confidence,
        "method": result.method,
    }


def evaluate(bundle, dataset, *, n_resamples: int = 2000, batch_size: int = 16, seed: int = 0):
    """Greedy transcripts of ``dataset`` (a spoken world) and their error rates: ``(summary dict, transcripts
    DataFrame, table by group DataFrame)``. The summary holds WER and CER with 95% percentile-bootstrap intervals on
    training voices (``seen``) and held-out voices (``held_out``) and the held-out minus seen gap."""
    import numpy as np
    import pandas as pd

    from genlab.metrics.speech import error_rate_ci, error_rate_table, held_out_gap, length_bucket

    audio = list(dataset.with_format("numpy", columns=["audio"])["audio"])
    if "sampling_rate" in dataset.column_names:  # each utterance's own rate: resampled to the model's where it differs
        rates = dataset["sampling_rate"]
        audio = [
            a if isinstance(a, dict) else {"array": a, "sampling_rate": int(r)}
            for a, r in zip(audio, rates, strict=True)
        ]
    start = time.perf_counter()
    hyps = bundle.transcribe(audio, batch_size=batch_size)
    wall = time.perf_counter() - start
    refs = list(dataset["text"])
    held = np.array(dataset["voice_held_out"], dtype=bool)
    voices = list(dataset["voice"])
    summary: dict = {
        "n_utterances": len(refs),
        "decoding": "greedy CTC",
        "normalisation": "normalize_transcript",
        "transcribe_wall_s": round(wall, 2),
    }
    for key, sel in (("seen", ~held), ("held_out", held)):
        if sel.any():
            h, t = [hyps[i] for i in np.flatnonzero(sel)], [refs[i] for i in np.flatnonzero(sel)]
            summary[key] = {
                "voices": sorted({voices[i] for i in np.flatnonzero(sel)}),
                "wer": _ci(error_rate_ci(h, t, unit="word", n_resamples=n_resamples, seed=seed)),
                "cer": _ci(error_rate_ci(h, t, unit="char", n_resamples=n_resamples, seed=seed)),
            }
    if held.any() and (~held).any():
        for unit, name in (("word", "wer_gap"), ("char", "cer_gap")):
            g = held_out_gap(hyps, refs, held.tolist(), unit=unit, n_resamples=n_resamples, seed=seed)
            summary[name] = {
                "difference": round(g.difference, 4),
                "low": round(g.low, 4),
                "high": round(g.high, 4),
                "p_value": round(g.p_value, 4),
                "held_out": round(g.held_out, 4),
                "seen": round(g.seen, 4),
            }
    groups = {c: list(dataset[c]) for c in ("voice", "accent", "variant", "held_out_by")}
    groups["length"] = length_bucket(list(dataset["n_words"]))
    table = error_rate_table(hyps, refs, groups, n_resamples=n_resamples, seed=seed)
    transcripts = pd.DataFrame(
        {"id": dataset["id"], "voice": voices, "voice_held_out": held, "reference": refs, "hypothesis": hyps}
    )
    return summary, transcripts, table


def _newest_checkpoint(folder: Path) -> Path | None:
    found = [p for p in folder.glob("checkpoint-*") if p.is_dir() and p.name.split("-")[1].isdigit()]
    return max(found, key=lambda p: int(p.name.split("-")[1])) if found else None


def build(
    out_dir: str | Path | None = None,
    *,
    recipe_: SpeechRecipe | None = None,
    checkpoints: Path | None = None,
    fresh: bool = False,
    minutes: float | None = None,
    callbacks: Sequence = (),
    progress: bool | None = None,
    n_jobs: int | None = None,
) -> dict:
    """Build the speech model of ``recipe_`` (default :func:`recipe`) into ``out_dir`` (default
    :func:`speech_model_dir`); returns the manifest.

    Training resumes from the newest checkpoint in ``checkpoints`` (default :func:`checkpoint_root`) when that folder
    was made by the same recipe and data (another's raises); ``fresh=True`` deletes it first. ``minutes`` caps this
    call's training time: when it runs out (or a callback stops training) a checkpoint is saved and the returned dict
    has ``status="interrupted"``, no model is written, and the next call resumes."""
    from genlab.models.speech import save_speech_model, speech_config
    from genlab.training.speech import pretrain_contrastive, train_ctc

    r = recipe_ or recipe()
    out = Path(out_dir or speech_model_dir())
    checkpoints = Path(checkpoints or checkpoint_root())
    start = time.time()
    if fresh and checkpoints.exists():
        shutil.rmtree(checkpoints)
    train_ds, train_data = training_data(r, n_jobs=n_jobs)
    eval_ds, eval_data = evaluation_data(r, n_jobs=n_jobs)
    data_s = round(time.time() - start, 1)
    stamp = {"recipe": r.to_dict(), "train_audio_sha256": train_data["audio_sha256"]}
    checkpoints.mkdir(parents=True, exist_ok=True)
    stamp_file = checkpoints / "stamp.json"
    if stamp_file.exists() and json.loads(stamp_file.read_text("utf-8")) != stamp:
        raise RuntimeError(
            f"{checkpoints} holds checkpoints of another recipe or training data; pass fresh=True "
            "(--fresh) to delete them and start afresh"
        )
    stamp_file.write_text(json.dumps(stamp, indent=1) + "\n", "utf-8")
    resume = _newest_checkpoint(checkpoints)
    if resume is not None:
        print(f"resuming from {resume} (pass --fresh to train from scratch)", file=sys.stderr)
    config = speech_config(**r.model)
    start_from, pretrain_record = config, None
    if r.pretrain_steps and resume is None:
        start_from, pretrain_record = pretrain_contrastive(
            config, train_ds, steps=r.pretrain_steps, batch_size=r.batch_size, seed=r.seed, progress=progress
        )
    seen_eval = (
        eval_ds.filter(lambda held: not held, input_columns="voice_held_out") if r.eval_during_training else None
    )
    if seen_eval is not None:
        seen_eval = seen_eval.select(range(min(r.eval_during_training, len(seen_eval))))
        seen_eval = seen_eval if len(seen_eval) else None
    bundle, record = train_ctc(
        start_from,
        train_ds,
        steps=r.steps,
        batch_size=r.batch_size,
        learning_rate=r.learning_rate,
        seed=r.seed,
        warmup_steps=r.warmup_steps,
        eval_dataset=seen_eval,
        eval_steps=max(1, r.steps // 6),
        output_dir=checkpoints,
        save_steps=r.save_steps,
        resume_from_checkpoint=str(resume) if resume else None,
        callbacks=callbacks,
        time_limit_s=minutes * 60 if minutes else None,
        progress=progress,
    )
    if not record.completed:
        return {
            "status": "interrupted",
            "steps": record.steps,
            "of_steps": r.steps,
            "stopped_by": record.stopped_by,
            "checkpoints": str(checkpoints),
            "resume_with": BUILD_COMMAND,
        }
    eval_start = time.time()
    summary, transcripts, table = evaluate(bundle, eval_ds, n_resamples=r.n_resamples, seed=r.seed)
    eval_s = round(time.time() - eval_start, 1)
    bundle.provenance["name"] = r.name
    replacing = (out / "model.safetensors").exists()
    if replacing:
        print(f"replacing the speech model in {out}", file=sys.stderr)
    save_speech_model(bundle, out, overwrite=True)  # the build's own output folder
    weights = out / "model.safetensors"
    seen_wer = summary.get("seen", {}).get("wer", {}).get("estimate")
    build_s = round(time.time() - start, 1)
    manifest = {
        "name": r.name,
        "architecture": "Wav2Vec2ForCTC",
        "n_parameters": bundle.n_parameters(),
        "weights_bytes": weights.stat().st_size,
        "weights_sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
        "recipe": r.to_dict(),
        "model_config": {k: v for k, v in config.to_dict().items() if k != "transformers_version"},
        "vocabulary": bundle.processor.tokenizer.get_vocab(),
        "training": {k: v for k, v in record.to_dict().items() if k not in ("history", "output_dir", "saved_to")},
        "pretraining": (
            {k: v for k, v in pretrain_record.to_dict().items() if k != "history"}
            if pretrain_record is not None
            else None
        ),
        "data": {"train": train_data, "evaluation": eval_data},
        "metrics": summary,
        "targets": {
            f"wer_seen_voices_le_{TARGET_WER}": seen_wer is not None and seen_wer <= TARGET_WER,
            "weights_le_25MB": weights.stat().st_size <= MAX_WEIGHT_BYTES,
            f"build_le_{TARGET_BUILD_S // 60}_min": build_s <= TARGET_BUILD_S,
        },
        "timing_s": {
            "data": data_s,
            "training_this_run": round(record.wall_time_s, 1),
            "evaluation": eval_s,
            "build_this_run": build_s,
        },
        "environment": {
            "python": platform.python_version(),
            "torch": __import__("torch").__version__,
            "transformers": __import__("transformers").__version__,
            "espeak_ng": eval_data.get("espeak_ng_version"),
            "machine": platform.machine(),
        },
    }
    transcripts.to_csv(out / "transcripts.csv", index=False)
    table.round(6).to_csv(out / "error_rates_by_group.csv", index=False)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    RECIPE.write_card(manifest, out)
    return manifest


def _rate(m: dict, key: str, unit: str) -> str:
    x = m.get(key, {}).get(unit)
    return f"{x['estimate']:.3f} [{x['low']:.3f}, {x['high']:.3f}]" if x else "n/a"


def card(manifest: dict) -> str:
    """The README card of a built speech model, written from its manifest."""
    r, m, t = manifest["recipe"], manifest["metrics"], manifest["training"]
    train, ev = manifest["data"]["train"], manifest["data"]["evaluation"]
    gap = m.get("wer_gap")
    gap_line = (
        f"- Held-out minus seen voices, WER: {gap['difference']:+.3f} [{gap['low']:+.3f}, {gap['high']:+.3f}]"
        f" (p = {gap['p_value']:.4f})\n"
        if gap
        else ""
    )
    pretrained = f", after {r['pretrain_steps']} steps of wav2vec 2.0 pretraining" if r["pretrain_steps"] else ""
    final_loss = t["train_loss"][-1][1] if t["train_loss"] else float("nan")
    voices = ", ".join(train["voices"])
    target_text = ", ".join(f"{k}: {'met' if v else 'missed'}" for k, v in manifest["targets"].items())
    mb = manifest["weights_bytes"] / 2**20
    return f"""# {manifest["name"]}

A tiny speech recogniser genlab trains from scratch: Wav2Vec 2 ({manifest["n_parameters"]:,} parameters,
{mb:.1f} MB of safetensors) with a character CTC head over lower-case a-z, apostrophe and word delimiter, decoded
greedily. Built by `{BUILD_COMMAND}`; everything below comes from `manifest.json`.

- **Training data:** the spoken world (`genlab.worlds.spoken`, espeak-ng {ev.get("espeak_ng_version")}):
  {train["n_utterances"]:,} utterances ({train["seconds"] / 3600:.2f} h) of training sentences of
  {r["min_words"]}-{r["max_words"]} words, read by {len(train["voices"])} training voices ({voices}); data seed
  {r["data_seed"]}.
- **Training:** {t["steps"]} steps of {r["batch_size"]} length-grouped utterances, AdamW at {r["learning_rate"]}
  with {r["warmup_steps"]} warm-up steps then linear decay, gradient clipping 1.0, per-utterance normalisation,
  seed {r["seed"]}{pretrained}. Final logged training loss {final_loss:.3f} (CTC, per target character).
- **Evaluation:** {ev["counts"]["distinct_sentences"]} held-out sentences read by every one of
  {ev["counts"]["voices"]} voices ({m["n_utterances"]} utterances); WER / CER with 95% bootstrap intervals over
  utterances (`genlab.metrics.speech`):
  - Training voices, new sentences: WER {_rate(m, "seen", "wer")}, CER {_rate(m, "seen", "cer")}
  - Held-out voices (accent `en-029`, variant `f4`, pair `en-us-nyc+f2`): WER {_rate(m, "held_out", "wer")},
    CER {_rate(m, "held_out", "cer")}
{gap_line}  Per voice, accent, variant and length: `error_rates_by_group.csv`; every transcript: `transcripts.csv`.
- **Targets:** {target_text}.
- **Intended use:** teaching and testing genlab's speech track: training, transcribing, and measuring who a model
  mishears, offline, in minutes.
- **Limitations:** trained and tested on synthetic espeak-ng voices reading a small child's-story vocabulary; it
  will not transcribe human speech, and an "accent" or "variant" here is a set of synthesis rules, not a group of
  people (see `data/speech/README.md`). No language model or lexicon: a single wrong character makes a wrong word.
  Test voices read the same sentences, so intervals are somewhat too narrow. Audio must be mono 16 kHz.
"""


def check(model_dir: Path | None = None, recipe_: SpeechRecipe | None = None, *, targets: bool = True) -> list[str]:
    """Problems between the shipped speech model's manifest and the current recipe and data (empty: consistent).
    Compares the recipe, the model config, the vocabulary, the training and evaluation sentences (drawn again,
    without synthesis) and the weights' sha256 and size; with ``targets``, also the manifest's target flags."""
    from genlab.models.speech import make_processor, speech_config
    from genlab.worlds.spoken import sample_sentences

    r = recipe_ or recipe()
    model_dir = Path(model_dir or speech_model_dir())
    path = model_dir / "manifest.json"
    if not path.is_file():
        return [f"no manifest at {path}: build the model with `{BUILD_COMMAND}`"]
    manifest = json.loads(path.read_text("utf-8"))
    problems = []
    if manifest.get("recipe") != r.to_dict():
        diff = sorted(k for k in r.to_dict() if manifest.get("recipe", {}).get(k) != r.to_dict()[k])
        problems.append(
            f"the recipe changed since the model was built ({', '.join(diff)}); rebuild with `{BUILD_COMMAND} --fresh`"
        )
    config = {k: v for k, v in speech_config(**r.model).to_dict().items() if k != "transformers_version"}
    if json.loads(json.dumps(config)) != manifest.get("model_config"):
        problems.append("speech_config() gives another model config than the one the model was built with")
    if manifest.get("vocabulary") != make_processor().tokenizer.get_vocab():
        problems.append("the CTC vocabulary (ALPHABET) changed since the model was built")
    train = manifest.get("data", {}).get("train", {})
    texts = [
        t
        for v in _train_voices(r)
        for t in sample_sentences(
            r.train_per_voice,
            seed=f"{r.data_seed}-{v}",
            split="train",
            min_words=r.min_words,
            max_words=r.max_words,
            words_per_category=r.words_per_category,
        )
    ]
    if train.get("sentences_sha256") != _sha256_lines(texts):
        problems.append("the training sentences the spoken world draws changed since the model was built")
    ev = manifest.get("data", {}).get("evaluation", {})
    n_voices = ev.get("counts", {}).get("voices", 0)
    shared = sample_sentences(
        r.eval_per_voice,
        seed=f"{r.eval_seed}-shared",
        split="test",
        min_words=r.min_words,
        max_words=r.max_words,
        words_per_category=r.words_per_category,
    )
    if ev.get("sentences_sha256") != _sha256_lines(shared * n_voices):
        problems.append("the evaluation sentences the spoken world draws changed since the model was built")
    weights = model_dir / "model.safetensors"
    if not weights.is_file():
        problems.append(f"{weights} is missing")
    else:
        if hashlib.sha256(weights.read_bytes()).hexdigest() != manifest.get("weights_sha256"):
            problems.append("model.safetensors differs from the weights the manifest describes")
        if weights.stat().st_size > MAX_WEIGHT_BYTES:
            problems.append(f"model.safetensors is {weights.stat().st_size / 2**20:.1f} MB, over 25 MB")
    if targets:
        problems += [f"target missed: {k}" for k, met in manifest.get("targets", {}).items() if not met]
    return problems


def _build(out: Path, *, fresh: bool = False, minutes: float | None = None) -> dict:
    if minutes is not None and not minutes > 0:
        raise SystemExit("--minutes must be a positive number")
    return build(out, fresh=fresh, minutes=minutes)


RECIPE = ShippedModel(
    name=SPEECH_MODEL_NAME,
    module="genlab.recipes.speech_model",
    description=__doc__.split("\n")[0],
    build_fn=_build,
    check_fn=lambda folder, quick=False: check(folder, targets=not quick),
    load_fn=_load,
    card_fn=card,
    noun="speech model",
    build_time="about an hour on 2 cores; resumable",
    build_options=(Option(("--minutes",), {"type": float, "default": None,
                                           "help": "stop training after N minutes at a checkpoint; run again to "
                                                   "resume"}),),
    printed=("metrics", "targets", "timing_s"),
    quick_help="consistency only: skip the target flags",
)  # fmt: skip
main = RECIPE.main

if __name__ == "__main__":
    raise SystemExit(main())
