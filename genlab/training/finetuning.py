"""Fine-tuning on prompt/completion data: full, or parameter-efficient with ``peft``, optionally adversarial.

One entry point, :func:`finetune`, on ``transformers.Trainer``. It runs unchanged in a notebook, a script,
``torchrun`` and ``accelerate launch``. It copies the base model (the bundle you pass stays as it was), trains on the
completion tokens only (``genlab.training.tasks.encode_pairs``) and returns the adapted bundle with a
:class:`RunRecord`:
settings, trainable parameters, time, throughput, peak memory and loss curves.

Methods (GPT-2 targets; other architectures use ``peft``'s defaults):

- ``"full"``: every weight.
- ``"lora"``: low-rank updates W + (α/r)·B·A on ``c_attn``/``c_proj`` (Hu et al., ICLR 2022). GPT-2's ``Conv1D``
  stores weights as (fan_in, fan_out), hence ``fan_in_fan_out=True``.
- ``"ia3"``: learned rescaling of keys, values and feed-forward activations (Liu et al., NeurIPS 2022).
- ``"prompt_tuning"``: trainable virtual input tokens, initialised from vocabulary embeddings
  (Lester et al., EMNLP 2021).
- ``"prefix_tuning"``: trainable key/value prefixes in every layer (Li & Liang, ACL 2021).

Adapters save with their base recorded portably (the default model's name, a hub id or a path relative to the
adapter folder, never an absolute path); :func:`load_finetuned` resolves it. Checkpoints are written to a hidden
temporary folder and renamed into place, so an interrupted save never leaves a half-written ``checkpoint-N``.

>>> from genlab.training.tasks import build_task
>>> from genlab.worlds.text import small_world
>>> from genlab.models.tiny import tiny_bundle
>>> task = build_task("world_qa", small_world(), seed=0, n_train=8, n_eval=4)
>>> base = tiny_bundle(texts=list(task.train["prompt"]) + list(task.train["completion"]))
>>> tuned, record = finetune(base, task, "lora", steps=2, batch_size=4, progress=False)
>>> record.method, record.trainable_params < record.total_params, len(record.train_loss) > 0
('lora', True, True)
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import resource
import shutil
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from transformers import PrinterCallback, Trainer, TrainerCallback

from genlab.core.progress import progress_enabled
from genlab.models import DEFAULT_MODEL, Bundle, ModelLoadError, load_model
from genlab.models.gpt2 import CAUSAL_LM_LOSS
from genlab.models.loading import quiet_peft_wrap
from genlab.models.prefix import quiet_peft_prefix_forward
from genlab.training.adversarial import AdversarialConfig, AdversarialTrainer
from genlab.training.tasks import CompletionCollator, Task, encode_pairs

METHODS = ("full", "lora", "ia3", "prompt_tuning", "prefix_tuning")
PROMPT_METHODS = ("prompt_tuning", "prefix_tuning")  # add virtual tokens: nothing to merge into the weights
#: Peak learning rates for a short run (AdamW, linear decay, 10% warm-up). Adapters train few parameters from a
#: neutral start and tolerate (need) larger steps; prompt methods most of all (Lester et al. use 0.3 with Adafactor).
DEFAULT_LEARNING_RATES = {"full": 5e-4, "lora": 3e-3, "ia3": 1e-2, "prompt_tuning": 3e-2, "prefix_tuning": 1e-2}
ADAPTER_INFO = "genlab_adapter.json"


# --- peft configurations -----------------------------------------------------------------------------------------
def peft_config(method: str, model, **options):
    """The ``peft`` config genlab uses for ``method`` on ``model``; ``options`` override its fields (e.g. ``r=16``).

    >>> from transformers import GPT2Config, GPT2LMHeadModel
    >>> cfg = peft_config("lora", GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=8, n_head=2, vocab_size=10)), r=4)
    >>> cfg.r, sorted(cfg.target_modules), cfg.fan_in_fan_out
    (4, ['c_attn', 'c_proj'], True)
    """
    from peft import IA3Config, LoraConfig, PrefixTuningConfig, PromptTuningConfig, PromptTuningInit, TaskType

    gpt2 = getattr(model.config, "model_type", None) == "gpt2"
    if method == "lora":
        base = {"r": 8, "lora_alpha": 16, "lora_dropout": 0.0}
        if gpt2:
            base |= {"target_modules": ["c_attn", "c_proj"], "fan_in_fan_out": True}  # Conv1D: (fan_in, fan_out)
        return LoraConfig(task_type=TaskType.CAUSAL_LM, **(base | options))
    if method == "ia3":
        base = (
            {"target_modules": ["c_attn", "mlp.c_proj"], "feedforward_modules": ["mlp.c_proj"], "fan_in_fan_out": True}
            if gpt2
            else {}
        )
        return IA3Config(task_type=TaskType.CAUSAL_LM, **(base | options))
    if method == "prompt_tuning":
        base = {"num_virtual_tokens": 16, "prompt_tuning_init": PromptTuningInit.SAMPLE_VOCAB}
        return PromptTuningConfig(task_type=TaskType.CAUSAL_LM, **(base | options))
    if method == "prefix_tuning":
        return PrefixTuningConfig(task_type=TaskType.CAUSAL_LM, **({"num_virtual_tokens": 16} | options))
    raise ValueError(f"unknown fine-tuning method {method!r}; choose one of {METHODS}")


# --- measurements ------------------------------------------------------------------------------------------------
class PeakMemory:
    """Peak memory added during a block, in MiB.

    CUDA: ``torch.cuda.max_memory_allocated`` minus the allocation at the start (tensors only, no cache).
    CPU on Linux: the process's resident set size sampled every ``interval_s`` by a thread, peak minus the RSS at
    the start (after returning free heap pages to the OS). It includes allocator caching and anything else the
    process does meanwhile, can miss a spike shorter than the interval, and is noisier than the CUDA figure: compare
    runs in fresh processes when the difference matters. Elsewhere: the ``ru_maxrss`` increase, which stays 0 if
    the process had already peaked higher before the block.
    """

    def __init__(self, device: torch.device, interval_s: float = 0.005):
        self.device, self.interval_s = device, interval_s
        self.peak_mb = 0.0
        self.kind = ""

    @staticmethod
    def _rss_mb() -> float:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    def __enter__(self) -> PeakMemory:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self._start = torch.cuda.memory_allocated(self.device)
            self.kind = "cuda max_memory_allocated increase"
        elif os.path.exists("/proc/self/statm"):
            _release_free_memory()  # else memory freed by an earlier run is reused unseen and the peak reads low
            self._start = self._peak = self._rss_mb()
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
            self.kind = "cpu peak RSS increase (sampled)"
        else:
            self._start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            self.kind = "cpu ru_maxrss increase"
        return self

    def _sample(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._peak = max(self._peak, self._rss_mb())

    def __exit__(self, *exc) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            self.peak_mb = (torch.cuda.max_memory_allocated(self.device) - self._start) / 2**20
        elif self.kind.startswith("cpu peak RSS"):
            self._stop.set()
            self._thread.join()
            self.peak_mb = max(0.0, max(self._peak, self._rss_mb()) - self._start)
        else:
            scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
            self.peak_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - self._start) * scale / 2**20


def _release_free_memory() -> None:
    """Collect garbage and hand the C heap's free pages back to the OS (glibc ``malloc_trim``), so that RSS growth
    measures new allocations. A no-op where glibc is absent."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class _Throughput(TrainerCallback):
    """Time spent inside optimizer steps (evaluation and checkpointing excluded) and tokens seen meanwhile."""

    def __init__(self):
        self.step_time = 0.0
        self.tokens_at_start = 0
        self._t0 = None

    def on_train_begin(self, args, state, control, **kwargs):
        self.tokens_at_start = state.num_input_tokens_seen  # > 0 when resuming

    def on_step_begin(self, args, state, control, **kwargs):
        self._t0 = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        if self._t0 is not None:
            self.step_time += time.perf_counter() - self._t0


# --- the record of a run -----------------------------------------------------------------------------------------
@dataclass
class RunRecord:
    """What a fine-tuning run did and cost. ``to_dict()`` is JSON-ready; ``loss_frame()`` gives the curves."""

    method: str
    settings: dict  # steps, batch size, learning rate, seed, peft options, adversarial config, ...
    trainable_params: int
    total_params: int
    trainable_share: float  # trainable / total (base + adapter)
    wall_time_s: float  # the whole train() call, evaluation included
    train_time_s: float  # inside optimizer steps only
    tokens_seen: int  # non-padding tokens in training batches, all processes together
    tokens_per_s: float  # tokens_seen / train_time_s
    peak_memory_mb: float  # memory added while training, see memory_kind
    memory_kind: str
    train_loss: list[tuple[int, float]]  # (step, loss) as logged
    eval_loss_curve: list[tuple[int, float]]  # (step, eval loss)
    eval_loss: float | None  # final, on the evaluation set
    world_size: int = 1
    output_dir: str | None = None
    saved_to: str | None = None  # the final adapter or model folder
    history: list[dict] = field(default_factory=list, repr=False)  # Trainer's log history

    def to_dict(self) -> dict:
        return asdict(self)

    def loss_frame(self):
        """Long-format DataFrame (method, step, split, loss) for plotting."""
        import pandas as pd

        rows = [{"method": self.method, "step": s, "split": "train", "loss": v} for s, v in self.train_loss]
        rows += [{"method": self.method, "step": s, "split": "eval", "loss": v} for s, v in self.eval_loss_curve]
        return pd.DataFrame(rows, columns=["method", "step", "split", "loss"])


# --- atomic checkpoints ------------------------------------------------------------------------------------------
def _replace_dir(src: Path, dst: Path) -> None:
    """Move folder ``src`` to ``dst`` in one rename; an existing ``dst`` is renamed away first, then deleted."""
    old = dst.with_name(f".old-{dst.name}")
    if dst.exists():
        shutil.rmtree(old, ignore_errors=True)
        os.replace(dst, old)
    os.replace(src, dst)
    shutil.rmtree(old, ignore_errors=True)


class _AtomicCheckpoints:
    """Trainer mixin: each ``checkpoint-N`` is written into ``.tmp-checkpoint-N`` and renamed when complete."""

    _staging: str | None = None
    base_reference: Any = None  # callable(folder) -> portable base reference, for adapter checkpoints

    def _get_output_dir(self, trial) -> str:
        return self._staging or super()._get_output_dir(trial)

    def _save_checkpoint(self, model, trial) -> None:
        from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR, rotate_checkpoints

        run_dir = Path(super()._get_output_dir(trial))
        name = f"{PREFIX_CHECKPOINT_DIR}-{self.state.global_step}"
        staging = run_dir / f".tmp-{name}"
        if self.args.should_save:
            shutil.rmtree(staging, ignore_errors=True)
        self.accelerator.wait_for_everyone()
        self._staging = str(staging)
        try:
            super()._save_checkpoint(model, trial)  # every rank writes its RNG state into the staging folder
        finally:
            self._staging = None
        self.accelerator.wait_for_everyone()
        if self.args.should_save:
            if self.base_reference is not None and (staging / name / "adapter_config.json").is_file():
                make_adapter_portable(staging / name, self.base_reference(run_dir / name))
            _replace_dir(staging / name, run_dir / name)
            shutil.rmtree(staging, ignore_errors=True)
            rotate_checkpoints(
                output_dir=str(run_dir),
                save_total_limit=self.args.save_total_limit,
                best_model_checkpoint=self.state.best_model_checkpoint,
                use_mtime=True,
            )
        self.accelerator.wait_for_everyone()


class FinetuneTrainer(_AtomicCheckpoints, Trainer):
    """``Trainer`` with atomic checkpoints."""


class AdversarialFinetuneTrainer(_AtomicCheckpoints, AdversarialTrainer):
    """``AdversarialTrainer`` (FGM / FreeLB) with atomic checkpoints."""


# --- portable adapters -------------------------------------------------------------------------------------------
def base_reference(bundle: Bundle, adapter_dir: str | os.PathLike) -> str | None:
    """How an adapter saved in ``adapter_dir`` names its base: the default model's name, a hub id, or the base
    folder relative to ``adapter_dir`` (so moving both folders together keeps the pair loadable)."""
    prov = bundle.provenance or {}
    if prov.get("source") == DEFAULT_MODEL and prov.get("local"):
        return DEFAULT_MODEL
    if prov.get("local") and prov.get("path"):
        return os.path.relpath(Path(prov["path"]).resolve(), Path(adapter_dir).resolve())
    if prov.get("source") and prov.get("local") is False:
        return prov["source"]
    return None


def make_adapter_portable(adapter_dir: str | os.PathLike, reference: str | None) -> None:
    """Rewrite ``base_model_name_or_path`` (and the model card's ``base_model``): peft stores an absolute path."""
    adapter_dir = Path(adapter_dir)
    cfg_path = adapter_dir / "adapter_config.json"
    cfg = json.loads(cfg_path.read_text())
    old = cfg.get("base_model_name_or_path")
    cfg["base_model_name_or_path"] = reference
    cfg_path.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")
    card = adapter_dir / "README.md"
    if card.is_file():  # front matter has "base_model: <path>" and a tag "base_model:adapter:<path>"
        text = card.read_text()
        if old and old != reference:
            text = text.replace(old, reference or "unknown")
        card.write_text(text)


def _resolve_base(adapter_dir: Path, reference: str | None) -> str:
    if reference is None:
        raise ModelLoadError(
            f"the adapter in {adapter_dir} does not record its base model (it was trained from an "
            "in-memory model). Pass base=<folder or name> to load_finetuned."
        )
    if reference == DEFAULT_MODEL:
        return reference
    local = (adapter_dir / reference).resolve()
    if local.is_dir():
        return str(local)
    if os.path.isabs(reference) and Path(reference).is_dir():  # adapters saved by plain peft
        return reference
    if reference.startswith((".", "/")) or reference.count("/") > 1:  # a path, not an owner/name hub id
        raise ModelLoadError(
            f"the adapter in {adapter_dir} expects its base model at {reference!r} relative to "
            f"itself ({local}), which does not exist. Move the base and adapter folders together, "
            "or pass base=<folder> to load_finetuned."
        )
    return reference  # a hub id


def load_finetuned(
    path: str | os.PathLike,
    base: str | os.PathLike | None = None,
    *,
    merge_adapter: bool = False,
    device: str | torch.device = "auto",
) -> Bundle:
    """Load what :func:`finetune` saved: an adapter folder (base resolved from its record unless ``base`` is given)
    or a fully fine-tuned model folder. ``merge_adapter=True`` folds LoRA/IA3 weights into the base."""
    path = Path(path)
    if not (path / "adapter_config.json").is_file():
        return load_model(path, device=device)
    reference = json.loads((path / "adapter_config.json").read_text()).get("base_model_name_or_path")
    bundle = load_model(
        str(base) if base is not None else _resolve_base(path, reference), adapter=str(path), device=device
    )
    info = path / ADAPTER_INFO
    if info.is_file():
        bundle.provenance["finetune"] = json.loads(info.read_text())
    return merge(bundle) if merge_adapter else bundle


def merge(bundle: Bundle) -> Bundle:
    """Fold a LoRA or IA3 adapter into the base weights (``merge_and_unload``) and return a plain-model bundle.
    The input bundle is left untouched."""
    from peft import PeftModel

    if not isinstance(bundle.model, PeftModel):
        raise ValueError("merge() needs a bundle with a peft adapter; this model has none (nothing to merge)")
    peft_type = str(bundle.model.peft_config[bundle.model.active_adapter].peft_type.value).lower()
    if peft_type in ("prompt_tuning", "prefix_tuning", "p_tuning"):
        raise ValueError(
            f"{peft_type} adds virtual tokens instead of changing weights, so it cannot be merged; "
            "keep the adapter (load_finetuned without merge_adapter)"
        )
    model = copy.deepcopy(bundle.model).merge_and_unload()
    return Bundle(
        model=model.eval(),
        tokenizer=bundle.tokenizer,
        device=bundle.device,
        kind=bundle.kind,
        provenance={**bundle.provenance, "merged": True},
    )


# --- fine-tuning -------------------------------------------------------------------------------------------------
def _curves(history: list[dict]) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
    train = [(h["step"], float(h["loss"])) for h in history if "loss" in h and "step" in h]
    evals = [(h["step"], float(h["eval_loss"])) for h in history if "eval_loss" in h and "step" in h]
    return train, evals


def finetune(
    bundle: Bundle,
    dataset,
    method: str = "lora",
    *,
    steps: int = 200,
    batch_size: int = 16,
    learning_rate: float | None = None,
    seed: int = 0,
    eval_dataset=None,
    adversarial: AdversarialConfig | None = None,
    method_options: dict | None = None,
    output_dir: str | os.PathLike | None = None,
    save_steps: int | None = None,
    resume_from_checkpoint: str | bool | None = None,
    callbacks: Sequence[TrainerCallback] = (),
    progress: bool | None = None,
    warmup_ratio: float = 0.1,
    weight_decay: float = 0.0,
    eval_steps: int | None = None,
    logging_steps: int | None = None,
    max_length: int | None = None,
    extra_args: dict | None = None,
) -> tuple[Bundle, RunRecord]:
    """Fine-tune a copy of ``bundle.model`` on prompt/completion pairs and return ``(adapted bundle, RunRecord)``.

    Args:
        dataset: a :class:`genlab.training.tasks.Task` (its ``eval`` set becomes ``eval_dataset``) or a
            ``datasets.Dataset``
            with ``prompt`` and ``completion`` columns.
        method: one of ``METHODS``.
        steps, batch_size: optimizer steps and sequences per step (per process under ``torchrun``).
        learning_rate: peak learning rate; default ``DEFAULT_LEARNING_RATES[method]``.
        adversarial: an :class:`~genlab.training.adversarial.AdversarialConfig` to train with FGM or FreeLB.
        method_options: overrides for the peft config, e.g. ``{"r": 16}`` for LoRA.
        output_dir: where checkpoints (``checkpoint-N``, every ``save_steps``), the final adapter (``adapter/``) or
            model (``model/``) and ``run.json`` go; ``None`` keeps everything in memory.
        resume_from_checkpoint: a ``checkpoint-N`` folder, or ``True`` for the latest one in ``output_dir``.
        callbacks: extra ``TrainerCallback`` objects, e.g. :class:`genlab.training.live_loss.LiveLossPlot`.
        progress: tqdm bar; ``None``: on unless ``CI`` or ``TQDM_DISABLE`` is set.
    """
    import tempfile

    from peft import PeftModel, get_peft_model
    from transformers import TrainingArguments, set_seed

    if method not in METHODS:
        raise ValueError(f"unknown fine-tuning method {method!r}; choose one of {METHODS}")
    if steps < 1 or batch_size < 1:
        raise ValueError(f"steps and batch_size must be positive, got steps={steps}, batch_size={batch_size}")
    if isinstance(bundle.model, PeftModel):
        raise ValueError(
            "this bundle already carries a peft adapter; fold it in first with genlab.merge("
            "bundle), or start from the base model"
        )
    if bundle.kind != "causal":
        raise ValueError(f"finetune trains causal language models; this bundle is {bundle.kind!r}")
    if isinstance(dataset, Task):
        eval_dataset = dataset.eval if eval_dataset is None else eval_dataset
        dataset = dataset.train
    if resume_from_checkpoint is True and output_dir is None:
        raise ValueError("resume_from_checkpoint=True looks for the latest checkpoint in output_dir; pass output_dir")
    if save_steps is not None and output_dir is None:
        raise ValueError("save_steps needs an output_dir to write checkpoints to")
    learning_rate = DEFAULT_LEARNING_RATES[method] if learning_rate is None else learning_rate
    tok = bundle.tokenizer
    max_length = max_length or getattr(bundle.model.config, "n_positions", None) or tok.model_max_length
    train_ds = encode_pairs(tok, dataset, max_length)
    eval_ds = encode_pairs(tok, eval_dataset, max_length) if eval_dataset is not None else None

    set_seed(seed)  # the adapter's initialisation is part of the run
    model = copy.deepcopy(bundle.model)
    if getattr(model, "loss_type", None) is None:
        model.loss_type = CAUSAL_LM_LOSS  # see CAUSAL_LM_LOSS
    if method != "full":
        with quiet_peft_wrap():
            model = get_peft_model(model, peft_config(method, model, **(method_options or {})))
    elif method_options:
        raise ValueError(f"method_options apply to peft methods; 'full' takes none (got {method_options})")
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())

    eval_steps = eval_steps or max(1, steps // 5)
    logging_steps = logging_steps or max(1, steps // 20)
    scratch = None if output_dir is not None else tempfile.TemporaryDirectory(prefix="genlab-finetune-")
    run_dir = Path(output_dir) if output_dir is not None else Path(scratch.name)
    args = TrainingArguments(
        output_dir=str(run_dir),
        max_steps=steps,
        per_device_train_batch_size=batch_size,
        per_device_eval_batch_size=batch_size,
        learning_rate=learning_rate,
        lr_scheduler_type="linear",
        warmup_steps=int(warmup_ratio * steps),
        weight_decay=weight_decay,
        logging_steps=logging_steps,
        eval_strategy="steps" if eval_ds is not None else "no",
        eval_steps=eval_steps,
        save_strategy="steps" if save_steps else "no",
        save_steps=save_steps or 500,
        report_to=[],
        seed=seed,
        data_seed=seed,
        disable_tqdm=not progress_enabled(progress),
        use_cpu=not torch.cuda.is_available(),
        ddp_find_unused_parameters=False,
        remove_unused_columns=False,
        label_names=["labels"],
        include_num_input_tokens_seen="non_padding",
        prediction_loss_only=True,
        **(extra_args or {}),
    )
    throughput = _Throughput()
    trainer_cls = AdversarialFinetuneTrainer if adversarial is not None else FinetuneTrainer
    trainer = trainer_cls(
        model=model,
        args=args,
        train_dataset=train_ds,
        eval_dataset=eval_ds,
        data_collator=CompletionCollator(tok.pad_token_id),
        processing_class=tok,
        callbacks=[throughput, *callbacks],
        **({"adversarial": adversarial} if adversarial is not None else {}),
    )
    trainer.base_reference = lambda folder: base_reference(bundle, folder)
    if args.disable_tqdm:  # Trainer then prints every log dict instead; quiet means quiet
        trainer.remove_callback(PrinterCallback)

    quiet = _quiet_transformers() if args.disable_tqdm else contextlib.nullcontext()
    try:
        with quiet, quiet_peft_prefix_forward():
            with PeakMemory(args.device) as memory:
                start = time.perf_counter()
                trainer.train(resume_from_checkpoint=resume_from_checkpoint)
                wall = time.perf_counter() - start
            eval_loss = trainer.evaluate()["eval_loss"] if eval_ds is not None else None
            train_curve, eval_curve = _curves(trainer.state.log_history)
            tokens = int(trainer.state.num_input_tokens_seen - throughput.tokens_at_start)
            peft_cfg = _jsonable(model.peft_config["default"].to_dict()) if method != "full" else None
            if peft_cfg is not None:  # peft's absolute path of the base; adapters record a portable one instead
                peft_cfg["base_model_name_or_path"] = bundle.name
            settings = {
                "method": method,
                "steps": steps,
                "batch_size": batch_size,
                "learning_rate": learning_rate,
                "seed": seed,
                "warmup_ratio": warmup_ratio,
                "weight_decay": weight_decay,
                "max_length": max_length,
                "n_train": len(train_ds),
                "n_eval": len(eval_ds) if eval_ds is not None else 0,
                "method_options": dict(method_options or {}),
                "peft_config": peft_cfg,
                "adversarial": adversarial.to_dict() if adversarial is not None else None,
                "resumed_from": Path(str(resume_from_checkpoint)).name if resume_from_checkpoint else None,
                "base": bundle.name,
                "device": str(args.device),
            }
            record = RunRecord(
                method=method,
                settings=settings,
                trainable_params=trainable,
                total_params=total,
                trainable_share=trainable / total,
                wall_time_s=wall,
                train_time_s=throughput.step_time,
                tokens_seen=tokens,
                tokens_per_s=tokens / throughput.step_time if throughput.step_time else float("nan"),
                peak_memory_mb=memory.peak_mb,
                memory_kind=memory.kind,
                train_loss=train_curve,
                eval_loss_curve=eval_curve,
                eval_loss=eval_loss,
                world_size=args.world_size,
                output_dir=str(run_dir) if output_dir is not None else None,
                history=list(trainer.state.log_history),
            )
            model = trainer.accelerator.unwrap_model(trainer.model)
            if output_dir is not None and trainer.is_world_process_zero():
                record.saved_to = str(_save_final(model, tok, bundle, method, run_dir, record))
            trainer.accelerator.wait_for_everyone()
    finally:
        if scratch is not None:
            scratch.cleanup()

    model.eval()
    provenance = {
        "name": f"{bundle.name}+{method}",
        "source": "genlab.finetune",
        "local": record.saved_to is not None,
        "path": record.saved_to if method == "full" else None,
        "adapter": record.saved_to if method != "full" else None,
        "base": bundle.provenance,
        "method": method,
    }
    return Bundle(
        model=model, tokenizer=tok, device=next(model.parameters()).device, kind="causal", provenance=provenance
    ), record


@contextlib.contextmanager
def _quiet_transformers():
    """No "Writing model shards" / "Loading weights" bars while quiet; the global setting is restored after."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=lambda o: sorted(o) if isinstance(o, set) else str(o)))


def _save_final(model, tokenizer, bundle: Bundle, method: str, run_dir: Path, record: RunRecord) -> Path:
    """Write ``adapter/`` (peft) or ``model/`` (full) and ``run.json`` atomically (temp folder, then rename)."""
    final = run_dir / ("model" if method == "full" else "adapter")
    tmp = run_dir / f".tmp-{final.name}"
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, safe_serialization=True)
    if method == "full":
        tokenizer.save_pretrained(tmp)
    else:
        make_adapter_portable(tmp, base_reference(bundle, final))
        info = {
            "method": method,
            "base": base_reference(bundle, final),
            "base_name": bundle.name,
            "settings": record.settings,
        }
        (tmp / ADAPTER_INFO).write_text(json.dumps(info, indent=2, sort_keys=True, default=str) + "\n")
    _replace_dir(tmp, final)
    record.saved_to = str(final)
    run_json = run_dir / "run.json"
    tmp_json = run_dir / ".tmp-run.json"
    tmp_json.write_text(json.dumps(record.to_dict(), indent=1, default=str) + "\n")
    os.replace(tmp_json, run_json)
    return final
