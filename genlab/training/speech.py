"""Training speech recognisers: character CTC on ``transformers.Trainer``, and wav2vec 2.0 self-supervised pretraining.

- :func:`train_ctc`: fine-tune (or train from scratch) a ``Wav2Vec2ForCTC`` on audio with transcripts, the recipe of
  the tooling notes (section 9): AdamW at 1e-3, 300 warm-up steps then linear decay, batches of 16 utterances of
  similar length (``LengthGroupedSampler``), gradient clipping at 1.0, each utterance normalised to zero mean and unit
  variance, CTC loss averaged over target lengths (Graves et al. 2006). Checkpoints every ``save_steps`` are written
  atomically and resumable; ``time_limit_s`` stops at a checkpoint once the time is spent.
- :func:`pretrain_contrastive`: ``Wav2Vec2ForPreTraining`` on unlabelled audio (Baevski et al. 2020, wav2vec 2.0):
  spans of the latent frames are masked (``mask_prob`` 0.65 of frames start a span of ``mask_length`` 10), the
  transformer's output at each masked frame must pick the true quantised latent among ``num_negatives`` distractors
  drawn from the same utterance (contrastive loss, cosine similarity at temperature 0.1), plus a diversity loss
  (weight 0.1) that keeps the Gumbel-softmax codebooks in use. :func:`genlab.models.speech.ctc_from_pretrained`
  (or passing the returned model to :func:`train_ctc`) starts CTC fine-tuning from its encoder.

>>> import numpy as np, datasets
>>> ds = datasets.Dataset.from_dict({"audio": [np.zeros(16000, "float32")], "text": ["Hello, world!"]})
>>> list(prepare_speech_dataset(ds, make_processor())["text"])
['hello world']

**Limitations.** Trainer's length grouping sorts within mega-batches of 50 batches, so a batch still pads its
shorter utterances a little, and the first convolution's group norm sees that padding while training (transcription
does not; see :meth:`genlab.models.speech.SpeechBundle.logits`). Pretraining here is a small loop without
checkpoints, meant for minutes, not the paper's 400k updates; on a few thousand synthetic utterances it may not beat
training CTC from scratch for the same time.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import PrinterCallback, Trainer, TrainerCallback

from genlab.core.progress import progress_enabled
from genlab.models.speech import (
    MIN_SAMPLES,
    SpeechBundle,
    ctc_from_pretrained,
    make_processor,
    new_speech_model,
    save_speech_model,
    speech_config,
)
from genlab.training.finetuning import _AtomicCheckpoints, _curves, _quiet_transformers
from genlab.worlds.spoken import normalize_text

__all__ = [
    "CTCCollator",
    "SpeechRunRecord",
    "TimeLimit",
    "prepare_speech_dataset",
    "pretrain_contrastive",
    "train_ctc",
]

FRAME_SAMPLES = 320  # samples per frame of genlab's feature encoder (strides 5 x 2^6)


@dataclass
class SpeechRunRecord:
    """What a speech training run did. ``to_dict()`` is JSON-ready."""

    kind: str  # "ctc" or "contrastive"
    settings: dict  # steps, batch size, learning rate, seed, warm-up, ...
    n_parameters: int
    steps: int  # optimizer steps reached (the global step, counting steps before a resume)
    completed: bool  # reached the requested number of steps
    stopped_by: str | None  # "time_limit", "callback" or None
    wall_time_s: float  # this call's training time (evaluation inside training included)
    audio_seconds: float  # seconds of audio per pass over the training set
    train_loss: list[tuple[int, float]]  # (step, loss) as logged; CTC: mean over target lengths; contrastive: per
    # masked frame
    eval_loss_curve: list[tuple[int, float]] = field(default_factory=list)
    eval_loss: float | None = None
    resumed_from: str | None = None
    output_dir: str | None = None
    saved_to: str | None = None
    extra_curves: dict = field(default_factory=dict)  # contrastive: diversity loss, codebook perplexity, temperature
    history: list[dict] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict:
        return asdict(self)


class TimeLimit(TrainerCallback):
    """Stop training after ``seconds`` of wall time (measured from the start of training), saving a checkpoint
    first when the run checkpoints, so the next run resumes from it."""

    def __init__(self, seconds: float):
        if not seconds > 0:
            raise ValueError(f"the time limit must be a positive number of seconds; got {seconds!r}")
        self.seconds = float(seconds)
        self.hit = False
        self._start: float | None = None

    def on_train_begin(self, args, state, control, **kwargs):
        self._start = time.monotonic()

    def on_step_end(self, args, state, control, **kwargs):
        if (
            self._start is not None
            and time.monotonic() - self._start >= self.seconds
            and not control.should_training_stop
        ):
            self.hit = True
            control.should_training_stop = True
            control.should_save = args.save_strategy != "no"
        return control


# --- data ------------------------------------------------------------------------------------------------------------
def _audio_lengths(dataset) -> list[int]:
    import pyarrow as pa
    import pyarrow.compute as pc

    if dataset._indices is not None:  # a selection or filter: dataset.data still holds every row
        dataset = dataset.flatten_indices()
    column = dataset.data.column("audio")
    if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
        return [int(n) for n in pc.list_value_length(column).to_pylist()]
    return [len(a["array"] if isinstance(a, dict) else a) for a in dataset["audio"]]


def prepare_speech_dataset(dataset, processor, *, name: str = "dataset"):
    """``dataset`` (a ``datasets.Dataset`` with ``audio``: 1-D samples at 16 kHz, and ``text``) reduced to ``audio``,
    normalised ``text`` (:func:`genlab.worlds.spoken.normalize_text`) and ``length`` (samples), formatted to give
    numpy audio. Raises when a transcript holds characters outside the tokenizer's vocabulary, or is longer than
    the audio has 20 ms frames (CTC needs a frame per character)."""
    import datasets

    if not isinstance(dataset, datasets.Dataset):
        raise ValueError(
            f"{name} must be a datasets.Dataset with 'audio' and 'text' columns; got "
            f"{type(dataset).__name__} (genlab.worlds.spoken.build_spoken_world makes one)"
        )
    missing = [c for c in ("audio", "text") if c not in dataset.column_names]
    if missing:
        raise ValueError(f"{name} lacks the column(s) {missing}; it needs 'audio' (samples) and 'text' (transcript)")
    if len(dataset) == 0:
        raise ValueError(f"{name} is empty")
    if "sampling_rate" in dataset.column_names:
        rates = set(dataset["sampling_rate"])
        expected = processor.feature_extractor.sampling_rate
        if rates != {expected}:
            raise ValueError(f"{name} has sampling rates {sorted(rates)}; the model reads {expected} Hz: resample")
    vocab = set(processor.tokenizer.get_vocab()) | {" "}
    texts = [normalize_text(t) for t in dataset["text"]]
    lengths = _audio_lengths(dataset)
    for i, (text, n) in enumerate(zip(texts, lengths, strict=True)):
        unknown = sorted(set(text) - vocab)
        if unknown or not text:
            problem = f"holds characters {unknown} outside the vocabulary" if unknown else "is empty"
            raise ValueError(f"{name} row {i}: transcript {text!r} {problem}")
        if n < MIN_SAMPLES or len(text) > n // FRAME_SAMPLES:
            raise ValueError(
                f"{name} row {i}: {len(text)} characters in {n} samples ({n // FRAME_SAMPLES} frames of "
                "20 ms); CTC needs at least one frame per character"
            )
    out = dataset.select_columns(["audio"]).add_column("text", texts).add_column("length", lengths)
    return out.with_format("numpy", columns=["audio"], output_all_columns=True)


class CTCCollator:
    """Pads a batch: audio normalised per utterance and padded with zeros (``input_values``, ``attention_mask``),
    transcripts tokenised and padded with -100 (``labels``), which the CTC loss ignores."""

    def __init__(self, processor):
        self.processor = processor

    def __call__(self, rows: list[dict]) -> dict[str, torch.Tensor]:
        fe, tok = self.processor.feature_extractor, self.processor.tokenizer
        audio = [
            np.asarray(r["audio"]["array"] if isinstance(r["audio"], dict) else r["audio"], dtype=np.float32)
            for r in rows
        ]
        enc = fe(audio, sampling_rate=fe.sampling_rate, padding=True, return_attention_mask=True, return_tensors="pt")
        ids = [tok(normalize_text(r["text"])).input_ids for r in rows]
        labels = torch.full((len(ids), max(len(x) for x in ids)), -100, dtype=torch.long)
        for i, x in enumerate(ids):
            labels[i, : len(x)] = torch.tensor(x, dtype=torch.long)
        return {"input_values": enc["input_values"], "attention_mask": enc["attention_mask"], "labels": labels}


# --- CTC -------------------------------------------------------------------------------------------------------------
def _start_bundle(start, processor, seed: int) -> SpeechBundle:
    from transformers import PretrainedConfig, Wav2Vec2ForPreTraining

    if isinstance(start, SpeechBundle):
        if processor is not None and processor is not start.processor:
            raise ValueError("pass a processor only with a config or a pretrained model; a bundle brings its own")
        return SpeechBundle(
            model=copy.deepcopy(start.model),
            processor=start.processor,
            provenance={"name": start.name, "base": start.provenance},
        )
    if isinstance(start, Wav2Vec2ForPreTraining):
        return ctc_from_pretrained(start, processor, seed=seed)
    if start is None or isinstance(start, PretrainedConfig):
        return new_speech_model(start if start is not None else speech_config(), processor, seed=seed)
    raise ValueError(
        f"train_ctc starts from a SpeechBundle, a Wav2Vec2Config, a Wav2Vec2ForPreTraining model or "
        f"None (the default config); got {type(start).__name__}"
    )


class _SpeechTrainer(_AtomicCheckpoints, Trainer):
    """``Trainer`` with atomic checkpoints (``.tmp-checkpoint-N`` renamed when complete)."""


def _stop_reason(stopped_by: TimeLimit | None, completed: bool) -> str | None:
    if completed:
        return None
    return "time_limit" if stopped_by is not None and stopped_by.hit else "callback"


def train_ctc(
    bundle_or_config=None,
    train_dataset=None,
    *,
    steps: int = 3600,
    batch_size: int = 16,
    learning_rate: float = 1e-3,
    seed: int = 0,
    warmup_steps: int = 300,
    weight_decay: float = 0.0,
    max_grad_norm: float = 1.0,
    eval_dataset=None,
    eval_steps: int | None = None,
    output_dir: str | os.PathLike | None = None,
    save_steps: int | None = None,
    save_total_limit: int | None = 2,
    resume_from_checkpoint: str | bool | None = None,
    callbacks: Sequence[TrainerCallback] = (),
    time_limit_s: float | None = None,
    logging_steps: int | None = None,
    processor=None,
    progress: bool | None = None,
    extra_args: dict | None = None,
) -> tuple[SpeechBundle, SpeechRunRecord]:
    """Train a character CTC speech recogniser; returns ``(SpeechBundle in eval mode, SpeechRunRecord)``.

    Args:
        bundle_or_config: a :class:`SpeechBundle` to continue from (copied; the original is unchanged), a
            ``Wav2Vec2Config`` for a new model (weights drawn with ``seed``), a ``Wav2Vec2ForPreTraining`` model from
            :func:`pretrain_contrastive` (its encoder, a new CTC head), or None for :func:`speech_config`'s default.
        train_dataset: ``datasets.Dataset`` with ``audio`` (1-D float samples at 16 kHz) and ``text``.
        steps, batch_size, learning_rate, warmup_steps: optimizer steps, utterances per step, peak AdamW learning
            rate reached after ``warmup_steps`` (then linear decay to 0 at ``steps``).
        eval_dataset: held-out utterances; CTC loss on them every ``eval_steps`` (default ``steps // 5``).
        output_dir: run folder: ``checkpoint-N`` every ``save_steps``, the final model in ``model/`` and ``run.json``.
            None keeps everything in memory.
        resume_from_checkpoint: a ``checkpoint-N`` folder, or True for the newest in ``output_dir``.
        callbacks: extra ``TrainerCallback`` objects, e.g. :class:`genlab.training.live_loss.LiveLossPlot`.
        time_limit_s: stop once training has run this long (saving a checkpoint when ``save_steps`` is set); the
            record's ``completed`` is then False and ``stopped_by`` is ``"time_limit"``.
        processor: a ``Wav2Vec2Processor`` for a new model (default :func:`make_processor`).
    """
    from transformers import TrainingArguments, set_seed

    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer; got {steps!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}")
    if not 0 <= warmup_steps <= steps:
        raise ValueError(
            f"warmup_steps must lie in [0, steps={steps}]; got {warmup_steps} (pass fewer warm-up steps "
            "for a short run)"
        )
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be positive; got {learning_rate!r}")
    if train_dataset is None:
        raise ValueError("train_dataset is missing: pass a datasets.Dataset with 'audio' and 'text' columns")
    if save_steps is not None and output_dir is None:
        raise ValueError("save_steps needs an output_dir to write checkpoints to")
    if resume_from_checkpoint is True and output_dir is None:
        raise ValueError("resume_from_checkpoint=True looks for the newest checkpoint in output_dir; pass output_dir")

    set_seed(seed)
    bundle = _start_bundle(bundle_or_config, processor, seed)
    processor = bundle.processor
    train_ds = prepare_speech_dataset(train_dataset, processor, name="train_dataset")
    eval_ds = prepare_speech_dataset(eval_dataset, processor, name="eval_dataset") if eval_dataset is not None else None
    model = bundle.model
    model.config.ctc_loss_reduction = "mean"
    model.config.ctc_zero_infinity = True
    model.train()

    time_limit = TimeLimit(time_limit_s) if time_limit_s is not None else None
    scratch = None if output_dir is not None else tempfile.TemporaryDirectory(prefix="genlab-ctc-")
    run_dir = Path(output_dir) if output_dir is not None else Path(scratch.name)
    eval_steps = eval_steps or max(1, steps // 5)
    args = TrainingArguments(
        output_dir=str(run_dir),
        max_steps=steps,
        per_device_train_batch_size=batch_size,
        per_device_eval_batch_size=batch_size,
        learning_rate=learning_rate,
        lr_scheduler_type="linear",
        warmup_steps=warmup_steps,
        weight_decay=weight_decay,
        max_grad_norm=max_grad_norm,
        train_sampling_strategy="group_by_length",
        length_column_name="length",
        logging_steps=logging_steps or max(1, steps // 50),
        logging_first_step=True,
        eval_strategy="steps" if eval_ds is not None else "no",
        eval_steps=eval_steps,
        save_strategy="steps" if save_steps else "no",
        save_steps=save_steps or 500,
        save_total_limit=save_total_limit,
        report_to=[],
        seed=seed,
        data_seed=seed,
        disable_tqdm=not progress_enabled(progress),
        use_cpu=not torch.cuda.is_available(),
        remove_unused_columns=False,
        label_names=["labels"],
        prediction_loss_only=True,
        dataloader_num_workers=0,
        **(extra_args or {}),
    )
    trainer = _SpeechTrainer(
        model=model,
        args=args,
        train_dataset=train_ds,
        eval_dataset=eval_ds,
        data_collator=CTCCollator(processor),
        processing_class=processor,
        callbacks=[*([time_limit] if time_limit else []), *callbacks],
    )
    if args.disable_tqdm:
        trainer.remove_callback(PrinterCallback)
    if resume_from_checkpoint is True:
        from transformers.trainer_utils import get_last_checkpoint

        resume_from_checkpoint = get_last_checkpoint(str(run_dir))
        if resume_from_checkpoint is None:
            raise ValueError(f"no checkpoint-N folder in {run_dir} to resume from; pass resume_from_checkpoint=None")

    quiet = _quiet_transformers() if args.disable_tqdm else contextlib.nullcontext()
    try:
        with quiet:
            start = time.perf_counter()
            trainer.train(resume_from_checkpoint=resume_from_checkpoint)
            wall = time.perf_counter() - start
            completed = trainer.state.global_step >= steps
            eval_loss = trainer.evaluate()["eval_loss"] if eval_ds is not None and completed else None
        model = trainer.accelerator.unwrap_model(trainer.model).eval()
        train_curve, eval_curve = _curves(trainer.state.log_history)
        settings = {
            "steps": steps,
            "batch_size": batch_size,
            "learning_rate": learning_rate,
            "seed": seed,
            "warmup_steps": warmup_steps,
            "lr_schedule": "linear warm-up, then linear decay to 0",
            "weight_decay": weight_decay,
            "max_grad_norm": max_grad_norm,
            "optimizer": "AdamW",
            "batching": "transformers LengthGroupedSampler (length-sorted within mega-batches of 50 batches)",
            "normalisation": "zero mean, unit variance per utterance (Wav2Vec2FeatureExtractor)",
            "loss": "CTC, mean over target lengths, zero_infinity",
            "n_train": len(train_ds),
            "n_eval": len(eval_ds) if eval_ds is not None else 0,
            "device": str(args.device),
            "time_limit_s": time_limit_s,
        }
        record = SpeechRunRecord(
            kind="ctc",
            settings=settings,
            n_parameters=sum(p.numel() for p in model.parameters()),
            steps=trainer.state.global_step,
            completed=completed,
            stopped_by=_stop_reason(time_limit, completed),
            wall_time_s=wall,
            audio_seconds=round(sum(train_ds["length"]) / processor.feature_extractor.sampling_rate, 3),
            train_loss=train_curve,
            eval_loss_curve=eval_curve,
            eval_loss=eval_loss,
            resumed_from=Path(str(resume_from_checkpoint)).name if resume_from_checkpoint else None,
            output_dir=str(run_dir) if output_dir is not None else None,
            history=list(trainer.state.log_history),
        )
        result = SpeechBundle(
            model=model,
            processor=processor,
            provenance={
                "name": f"{bundle.name}+ctc",
                "source": "genlab.training.speech.train_ctc",
                "base": bundle.provenance,
                "training": {**settings, "steps_done": record.steps},
            },
        )
        if output_dir is not None and completed:
            record.saved_to = str(save_speech_model(result, run_dir / "model", overwrite=True))
            result.provenance["path"] = record.saved_to
            (run_dir / "run.json").write_text(json.dumps(record.to_dict(), indent=1, default=str) + "\n", "utf-8")
    finally:
        if scratch is not None:
            scratch.cleanup()
    return result, record


# --- contrastive pretraining -----------------------------------------------------------------------------------------
def _audio_arrays(unlabelled_audio) -> list[np.ndarray]:
    try:
        import datasets

        if isinstance(unlabelled_audio, datasets.Dataset):
            unlabelled_audio = unlabelled_audio.with_format("numpy", columns=["audio"])["audio"]
    except ImportError:  # pragma: no cover - datasets is a dependency
        pass
    arrays = [np.asarray(a["array"] if isinstance(a, dict) else a, dtype=np.float32) for a in unlabelled_audio]
    if not arrays:
        raise ValueError("unlabelled_audio is empty; pass a list of 1-D sample arrays or a Dataset with 'audio'")
    for i, a in enumerate(arrays):
        if a.ndim != 1 or len(a) < 10 * FRAME_SAMPLES:
            raise ValueError(f"utterance {i} has shape {a.shape}; pretraining needs 1-D audio of at least 0.2 s")
    return arrays


@contextlib.contextmanager
def _numpy_seed(seed: int):
    """transformers' mask and negative samplers draw from numpy's global generator: seed it, then restore it."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def pretrain_contrastive(
    config=None,
    unlabelled_audio=(),
    *,
    steps: int = 1000,
    batch_size: int = 16,
    learning_rate: float = 5e-4,
    warmup_steps: int | None = None,
    seed: int = 0,
    mask_prob: float = 0.65,
    mask_length: int = 10,
    gumbel_temperature: tuple[float, float, float] = (2.0, 0.5, 0.999995),
    weight_decay: float = 0.01,
    max_grad_norm: float = 1.0,
    logging_steps: int | None = None,
    progress: bool | None = None,
) -> tuple[Any, SpeechRunRecord]:
    """Self-supervised wav2vec 2.0 pretraining of a ``Wav2Vec2ForPreTraining`` built from ``config`` (default
    :func:`speech_config`); returns ``(model in eval mode, SpeechRunRecord)``. Pass the model to :func:`train_ctc`.

    Each step: a length-bucketed batch, per-utterance normalisation, masks drawn with transformers'
    ``_compute_mask_indices`` (``mask_prob``, ``mask_length``, padding never masked), negatives drawn with
    ``_sample_negative_indices`` among the utterance's own (unpadded) frames; the loss is contrastive + 0.1 x
    diversity, divided by the number of masked frames. AdamW with linear warm-up (default a tenth of ``steps``) and
    linear decay; the Gumbel temperature decays as ``max(start * decay**step, end)`` for
    ``gumbel_temperature = (start, end, decay)``. The record's ``train_loss`` is that per-frame loss; its
    ``extra_curves`` hold the contrastive and diversity parts and the codebook perplexity.
    """
    from transformers import Wav2Vec2ForPreTraining, get_linear_schedule_with_warmup
    from transformers.models.wav2vec2.modeling_wav2vec2 import _compute_mask_indices, _sample_negative_indices

    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer; got {steps!r}")
    if not 0 < mask_prob < 1:
        raise ValueError(f"mask_prob must be a share in (0, 1); got {mask_prob!r}")
    arrays = _audio_arrays(unlabelled_audio)
    config = config if config is not None else speech_config()
    warmup_steps = max(1, steps // 10) if warmup_steps is None else warmup_steps
    if not 0 <= warmup_steps <= steps:
        raise ValueError(f"warmup_steps must lie in [0, steps={steps}]; got {warmup_steps}")
    fe = make_processor().feature_extractor
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = Wav2Vec2ForPreTraining(config)
    model.config.architectures = ["Wav2Vec2ForPreTraining"]
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=weight_decay)
    schedule = get_linear_schedule_with_warmup(optimizer, warmup_steps, steps)
    rng = np.random.default_rng(seed)
    order = np.argsort([len(a) for a in arrays], kind="stable")
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    logging_steps = logging_steps or max(1, steps // 50)
    curves: dict[str, list] = {"contrastive": [], "diversity": [], "codevector_perplexity": [], "temperature": []}
    losses: list[tuple[int, float]] = []
    t_start, t_end, decay = gumbel_temperature
    show = progress_enabled(progress)
    start = time.perf_counter()
    queue: list = []
    with _numpy_seed(seed), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for step in range(1, steps + 1):
            if not queue:
                queue = [batches[i] for i in rng.permutation(len(batches))]
            idx = queue.pop()
            enc = fe(
                [arrays[i] for i in idx],
                sampling_rate=fe.sampling_rate,
                padding=True,
                return_attention_mask=True,
                return_tensors="pt",
            )
            frames = int(model._get_feat_extract_output_lengths(enc.input_values.shape[1]))
            sub_mask = model._get_feature_vector_attention_mask(frames, enc.attention_mask)  # (B, T) bool
            shape = (len(idx), frames)
            mask = _compute_mask_indices(shape, mask_prob, mask_length, attention_mask=sub_mask, min_masks=2)
            negatives = _sample_negative_indices(shape, config.num_negatives, mask_time_indices=sub_mask.numpy())
            temperature = max(t_start * decay ** (step - 1), t_end)
            model.set_gumbel_temperature(temperature)
            out = model(
                enc.input_values,
                attention_mask=enc.attention_mask,
                mask_time_indices=torch.tensor(mask, dtype=torch.bool),
                sampled_negative_indices=torch.tensor(negatives, dtype=torch.long),
            )
            n_masked = max(int(mask.sum()), 1)
            loss = out.loss / n_masked
            if not torch.isfinite(loss):
                raise FloatingPointError(f"pretraining loss became {float(loss)} at step {step}; lower learning_rate")
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
            if step == 1 or step % logging_steps == 0 or step == steps:
                losses.append((step, float(loss.detach())))
                curves["contrastive"].append((step, float(out.contrastive_loss.detach()) / n_masked))
                curves["diversity"].append((step, float(out.diversity_loss.detach()) / n_masked))
                curves["codevector_perplexity"].append((step, float(out.codevector_perplexity.detach())))
                curves["temperature"].append((step, temperature))
                if show:
                    print(f"pretraining step {step}/{steps}: loss {losses[-1][1]:.4f}", flush=True)
    wall = time.perf_counter() - start
    model.eval()
    settings = {
        "steps": steps,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "warmup_steps": warmup_steps,
        "seed": seed,
        "mask_prob": mask_prob,
        "mask_length": mask_length,
        "num_negatives": config.num_negatives,
        "gumbel_temperature": list(gumbel_temperature),
        "weight_decay": weight_decay,
        "max_grad_norm": max_grad_norm,
        "diversity_loss_weight": config.diversity_loss_weight,
        "n_train": len(arrays),
        "loss": "contrastive + diversity_loss_weight x diversity, per masked frame",
    }
    record = SpeechRunRecord(
        kind="contrastive",
        settings=settings,
        n_parameters=sum(p.numel() for p in model.parameters()),
        steps=steps,
        completed=True,
        stopped_by=None,
        wall_time_s=wall,
        audio_seconds=round(sum(len(a) for a in arrays) / fe.sampling_rate, 3),
        train_loss=losses,
        extra_curves=curves,
    )
    return model, record
