"""Pretraining a GPT-2-architecture model from scratch on ``transformers.Trainer``.

The same function runs in a notebook, in a script, and under ``accelerate launch`` / ``torchrun``
(Trainer picks the distributed set-up up from the environment).

>>> from genlab.data.tokenizer import train_tokenizer
>>> texts = ["the cat sat on the mat."] * 64
>>> tok = train_tokenizer(texts, vocab_size=300)
>>> result = pretrain(texts, texts[:8], tok, ModelConfig(n_embd=32, n_layer=1, n_head=2, n_positions=32),
...                   PretrainConfig(max_steps=2, batch_size=8, eval_steps=2, progress=False))
>>> result.metrics["documents_truncated"], result.metrics["train_tokens_per_epoch"] % 32  # packed: whole blocks
(0, 0)
"""

from __future__ import annotations

import copy
import math
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from genlab.core.progress import progress_enabled
from genlab.models import Bundle
from genlab.models.gpt2 import CAUSAL_LM_LOSS, ModelConfig, build_model, check_vocab_size
from genlab.models.loading import PICKLE_WEIGHTS, SAFE_WEIGHTS

#: the files of a saved model and tokenizer: ``pretrain`` leaves a folder holding any of them alone unless
#: ``overwrite=True``, which replaces them (other files, e.g. a manifest, stay)
MODEL_FILES = ("config.json", "generation_config.json", *SAFE_WEIGHTS, *PICKLE_WEIGHTS, "tokenizer.json",
               "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "vocab.json", "merges.txt")


@dataclass
class PretrainConfig:
    max_steps: int = 3000  # optimizer steps
    batch_size: int = 32  # documents per step (padded to the longest in its length group)
    learning_rate: float = 2e-3  # peak, after linear warm-up; cosine decay to 0
    warmup_steps: int = 100
    weight_decay: float = 0.1
    eval_steps: int = 500  # validation loss every this many steps
    logging_steps: int = 25
    seed: int = 0
    #: True: documents are concatenated (each between <|endoftext|> tokens) and cut into full context-length
    #: blocks, so no document loses its tail (the last partial block is dropped and counted). False: one example
    #: per document, truncated to the context length (the count of truncated tokens is reported).
    packing: bool = True
    save_steps: int = 0  # with a checkpoint_dir: a resumable checkpoint every this many steps (0: at eval_steps)
    progress: bool | None = None  # tqdm bar; None: on, unless CI or TQDM_DISABLE is set
    extra_args: dict = field(default_factory=dict)  # passed to TrainingArguments as they are


@dataclass
class PretrainResult:
    bundle: Bundle
    metrics: dict  # eval_loss, eval_perplexity, train_runtime_s, tokens_seen, ...
    history: list[dict]  # Trainer's log history: loss / eval_loss by step


def tokenize_documents(tokenizer, texts: Sequence[str], max_length: int, packing: bool = False):
    """Training examples from documents, and how many of their tokens the examples keep.

    ``packing=False``: one example per document, ``<|endoftext|> text <|endoftext|>``, truncated to
    ``max_length``. ``packing=True``: the standard ``group_texts`` recipe: every document's tokens followed by
    ``<|endoftext|>``, after one leading ``<|endoftext|>``, concatenated and cut into blocks of exactly
    ``max_length``; only the last partial block is dropped.

    Returns ``(dataset, usage)`` with ``usage = {"tokens": all tokens, "tokens_used": tokens in the examples,
    "documents_truncated": documents that lost tokens}``.

    >>> from genlab.data.tokenizer import train_tokenizer
    >>> tok = train_tokenizer(["one two three four five six"] * 10, vocab_size=300)
    >>> # 3 documents of 6 tokens, each closed by <|endoftext|>, after one leading <|endoftext|>: 22 tokens, 2 blocks
    >>> ds, usage = tokenize_documents(tok, ["one two three four five six"] * 3, max_length=8, packing=True)
    >>> len(ds), set(ds["length"]), usage
    (2, {8}, {'tokens': 22, 'tokens_used': 16, 'documents_truncated': 0})
    """
    import datasets

    bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id
    # whole documents on purpose: they are cut into blocks (or truncated) below, so the tokenizer's "longer than the
    # maximum sequence length" warning does not apply
    encoded = tokenizer(list(texts), add_special_tokens=False, verbose=False)["input_ids"]
    if packing:
        stream = [bos]
        for x in encoded:
            stream += x + [eos]
        n_blocks = len(stream) // max_length
        blocks = [stream[i * max_length:(i + 1) * max_length] for i in range(n_blocks)]
        usage = {"tokens": len(stream), "tokens_used": n_blocks * max_length, "documents_truncated": 0}
    else:
        docs = [[bos] + x + [eos] for x in encoded]
        blocks = [d[:max_length] for d in docs]
        usage = {"tokens": sum(map(len, docs)), "tokens_used": sum(map(len, blocks)),
                 "documents_truncated": sum(len(d) > max_length for d in docs)}
    ds = datasets.Dataset.from_dict({"input_ids": blocks, "length": [len(b) for b in blocks]})
    return ds, usage


def pretrain(train_texts: Sequence[str], eval_texts: Sequence[str], tokenizer, model_config: ModelConfig | None = None,
             config: PretrainConfig | None = None, output_dir: str | os.PathLike | None = None,
             callbacks: Sequence[Any] = (), checkpoint_dir: str | os.PathLike | None = None, *,
             overwrite: bool = False) -> PretrainResult:
    """Train a fresh GPT-2 on ``train_texts``; report validation loss and perplexity on ``eval_texts``.

    Bad input fails before any training: empty text lists, validation texts shorter than one block (with packing),
    a ``model_config.vocab_size`` other than ``len(tokenizer)``, an ``output_dir`` that already holds a model.
    The caller's ``tokenizer`` is left as it was; the returned bundle holds a copy (its ``model_max_length`` set
    to the context length, padded on the left for generation), and that copy is what ``output_dir`` receives.

    ``output_dir``: where the final model and tokenizer are saved (safetensors); ``None`` keeps them in memory.
    A folder that already holds a model is refused (``FileExistsError``) unless ``overwrite=True``, which replaces
    the model's files (written to a temporary folder first, then moved in; other files stay).
    ``callbacks``: extra ``TrainerCallback`` objects, e.g. :class:`genlab.training.live_loss.LiveLossPlot`.
    ``checkpoint_dir``: Trainer checkpoints (model, optimizer, scheduler, random state) go here every
    ``config.save_steps`` steps, and a run started again with the same folder resumes from the newest one.
    The metrics report ``train_tokens_per_epoch`` (tokens in the examples) and ``tokens_dropped`` (what packing
    or truncation left out).
    """
    from transformers import DataCollatorForLanguageModeling, Trainer, TrainingArguments, set_seed

    model_config = model_config or ModelConfig()
    config = config or PretrainConfig()
    train_texts, eval_texts = _text_list(train_texts, "train_texts"), _text_list(eval_texts, "eval_texts")
    if tokenizer.pad_token_id is None or tokenizer.pad_token_id == tokenizer.eos_token_id:
        raise ValueError("the tokenizer needs a pad token distinct from EOS, or the model never learns to stop "
                         "(the collator masks pad labels). Use genlab.data.tokenizer.train_tokenizer, which adds "
                         "<pad>.")
    check_vocab_size(tokenizer, model_config)
    model_config = replace(model_config, vocab_size=len(tokenizer))  # recorded in the provenance
    if output_dir is not None:
        _model_files_in(Path(output_dir), overwrite)  # refuse now, not after training
    tokenizer = copy.deepcopy(tokenizer)  # the caller's stays as it was
    set_seed(config.seed)
    tokenizer.model_max_length = model_config.n_positions
    block = model_config.n_positions
    train_ds, usage = tokenize_documents(tokenizer, train_texts, block, packing=config.packing)
    eval_ds, eval_usage = tokenize_documents(tokenizer, eval_texts, block, packing=config.packing)
    for name, ds, used in (("training", train_ds, usage), ("validation", eval_ds, eval_usage)):
        if len(ds) == 0:  # only with packing: without it, every document is an example
            raise ValueError(
                f"the {name} texts hold {used['tokens']} tokens, less than one block of {block} (with "
                f"PretrainConfig(packing=True) only whole blocks are used), so there would be no {name} example. "
                f"Give at least {block} tokens of {name} text (more or longer documents), lower "
                "ModelConfig(n_positions=...), or set PretrainConfig(packing=False).")
    model = build_model(tokenizer, model_config)
    model.loss_type = CAUSAL_LM_LOSS  # see CAUSAL_LM_LOSS
    saving = {"save_strategy": "no"}
    if checkpoint_dir is not None:
        saving = {"save_strategy": "steps", "save_steps": config.save_steps or config.eval_steps,
                  "save_total_limit": 2}

    with tempfile.TemporaryDirectory(prefix="genlab-pretrain-") as scratch:
        args = TrainingArguments(
            output_dir=str(checkpoint_dir or scratch), max_steps=config.max_steps,
            per_device_train_batch_size=config.batch_size,
            per_device_eval_batch_size=config.batch_size, learning_rate=config.learning_rate,
            warmup_steps=config.warmup_steps, lr_scheduler_type="cosine", weight_decay=config.weight_decay,
            logging_steps=config.logging_steps, eval_strategy="steps", eval_steps=config.eval_steps,
            report_to=[], seed=config.seed, data_seed=config.seed, **saving,
            train_sampling_strategy="random" if config.packing else "group_by_length", length_column_name="length",
            disable_tqdm=not progress_enabled(config.progress), use_cpu=not torch.cuda.is_available(),
            ddp_find_unused_parameters=False, **config.extra_args)
        trainer = Trainer(model=model, args=args, train_dataset=train_ds, eval_dataset=eval_ds,
                          data_collator=DataCollatorForLanguageModeling(tokenizer=tokenizer, mlm=False),
                          processing_class=tokenizer, callbacks=list(callbacks))
        if args.disable_tqdm:  # with the bar off, Trainer prints every log dict; keep quiet runs quiet
            from transformers.trainer_callback import PrinterCallback

            trainer.remove_callback(PrinterCallback)
        resume = None
        if checkpoint_dir is not None:
            from transformers.trainer_utils import get_last_checkpoint

            resume = get_last_checkpoint(str(checkpoint_dir)) if Path(checkpoint_dir).is_dir() else None
        start = time.perf_counter()
        train_out = trainer.train(resume_from_checkpoint=resume)
        runtime = time.perf_counter() - start
        eval_metrics = trainer.evaluate()

    model.eval()
    metrics = {
        "eval_loss": eval_metrics["eval_loss"],
        "eval_perplexity": math.exp(eval_metrics["eval_loss"]),
        "train_loss": train_out.training_loss,
        "train_runtime_s": runtime,
        "steps": config.max_steps,
        "n_parameters": model.num_parameters(),
        "train_tokens_per_epoch": usage["tokens_used"],
        "tokens_dropped": usage["tokens"] - usage["tokens_used"],
        "documents_truncated": usage["documents_truncated"],
        "resumed_from": Path(resume).name if resume else None,
    }
    provenance = {"name": "pretrained", "source": "genlab.training.pretraining.pretrain", "local": True, "path": None,
                  "model_config": asdict(model_config), "pretrain_config": asdict(config)}
    if output_dir is not None:
        out = Path(output_dir)
        _save(model, tokenizer, out, _model_files_in(out, overwrite))
        provenance["path"] = str(out)
    tokenizer.padding_side = "left"
    bundle = Bundle(model=model, tokenizer=tokenizer, device=model.device, kind="causal", provenance=provenance)
    return PretrainResult(bundle=bundle, metrics=metrics, history=list(trainer.state.log_history))


def _text_list(texts: Sequence[str], name: str) -> list[str]:
    if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
        raise ValueError(f"{name} must be a list of strings (wrap a single document in a list)")
    texts = list(texts)
    if not texts:
        what = "the documents to train on" if name == "train_texts" else (
            "held-out documents for the validation loss (a few percent of the corpus, kept out of train_texts)")
        raise ValueError(f"{name} is empty; pass {what}")
    return texts


def _model_files_in(out: Path, overwrite: bool) -> list[str]:
    """The model files ``out`` already holds; a ``FileExistsError`` if there are any and ``overwrite`` is off."""
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"output_dir {out} is a file; pass a folder to save the model in")
    present = sorted(n for n in MODEL_FILES if (out / n).exists())
    if present and not overwrite:
        raise FileExistsError(f"{out} already holds a model ({', '.join(present)}); pass overwrite=True to replace "
                              "it, or choose another output_dir")
    return present


def _save(model, tokenizer, out: Path, present: list[str]) -> None:
    """Write model and tokenizer to ``out``, replacing the model files ``present`` there (as
    :func:`genlab.models.speech.save_speech_model` does)."""
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".tmp-pretrain-", dir=out))
    try:
        model.save_pretrained(staging, safe_serialization=True)
        tokenizer.save_pretrained(staging)
        for name in present:
            (out / name).unlink()
        for path in staging.iterdir():
            os.replace(path, out / path.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
