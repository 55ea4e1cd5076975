"""Training genlab's tiny text-to-image diffusion model (``genlab.models.diffusion``) in a plain torch loop.

The recipe (``shared/reference/tooling.md`` section 9): the UNet predicts the *clean* picture from a noised one
(``DDPMScheduler`` with the cosine schedule, ``prediction_type="sample"``; loss ``mse(unet(add_noise(x0, noise, t), t,
text), x0)``, as in Ramesh et al. 2022's decoder), on pictures pixel-unshuffled to 12 x 16 x 16; the caption is
replaced by the empty caption 10% of the time so that one model learns both the conditional and the unconditional
prediction that classifier-free guidance mixes (Ho & Salimans 2022). AdamW, linear warm-up, cosine decay to 0,
gradients clipped at norm 1.

Every random draw of a step (the caption drop, the noise, the timesteps) comes from a generator seeded by
``(seed, step)``, and the order of the pictures from one seeded by ``(seed, epoch)``, so a run resumed from a
checkpoint draws exactly what the uninterrupted run drew. A checkpoint holds the weights, AdamW's moments, the
learning-rate schedule, the torch RNG state and the step, in safetensors and JSON (no pickle).

>>> from genlab.models.diffusion import TinyDiffusionConfig
>>> from genlab.worlds.drawn import build_drawn_world
>>> world = build_drawn_world(8, 0, seed=0, duplicates={})
>>> pipe, record = train_text_to_image(TinyDiffusionConfig.tiny(), world.images, list(world.table.caption),
...                                    steps=3, batch_size=4, seed=0, progress=False)
>>> len(record["losses"]), record["steps"]
(3, 3)
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from genlab.core.progress import progress_enabled
from genlab.models.common import resolve_device
from genlab.models.diffusion import (
    TinyDiffusionConfig,
    TinyTextToImagePipeline,
    build_pipeline,
    encode_captions,
    images_to_model,
    pipeline_summary,
    predict_clean,
)

CHECKPOINT_PREFIX = "checkpoint-"
STATE_FILE = "trainer_state.json"


def data_sha256(images: np.ndarray, captions: Sequence[str]) -> str:
    """sha256 of the pixels (uint8, C order) and the captions (one per line): the identity of a training set."""
    h = hashlib.sha256(np.ascontiguousarray(images, dtype=np.uint8).tobytes())
    h.update("\n".join(captions).encode("utf-8"))
    return h.hexdigest()


def cosine_with_warmup(step: int, warmup_steps: int, total_steps: int) -> float:
    """Learning-rate multiplier: linear from 0 to 1 over ``warmup_steps``, then a half cosine down to 0 at
    ``total_steps`` (the schedule of ``transformers.get_cosine_schedule_with_warmup``).

    >>> [round(cosine_with_warmup(s, 2, 10), 3) for s in (0, 1, 2, 6, 10)]
    [0.0, 0.5, 1.0, 0.5, 0.0]
    """
    if step < warmup_steps:
        return step / max(1, warmup_steps)
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * progress)))


def _seed_for(*key: int) -> int:
    return int(np.random.SeedSequence([int(k) for k in key]).generate_state(1, dtype=np.uint64)[0] >> 1)


class _Order:
    """Which pictures step ``s`` trains on: epoch ``e`` visits every picture once, in a permutation seeded by
    ``(seed, e)``; a batch that crosses the end of an epoch continues into the next one."""

    def __init__(self, n: int, batch_size: int, seed: int):
        self.n, self.batch_size, self.seed = n, batch_size, seed
        self._perms: dict[int, np.ndarray] = {}

    def _perm(self, epoch: int) -> np.ndarray:
        if epoch not in self._perms:
            self._perms = {epoch: np.random.default_rng(_seed_for(self.seed, 1, epoch)).permutation(self.n)}
        return self._perms[epoch]

    def batch(self, step: int) -> np.ndarray:
        k = np.arange(step * self.batch_size, (step + 1) * self.batch_size)
        epochs, positions = np.divmod(k, self.n)
        return np.array([self._perm(int(e))[p] for e, p in zip(epochs, positions, strict=True)])


def _validate(images: np.ndarray, captions: Sequence[str], steps: int, batch_size: int, learning_rate: float,
              caption_dropout: float, warmup_steps: int) -> None:  # fmt: skip
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.shape[1:] != (32, 32, 3):
        got = f"{images.dtype} {images.shape}" if isinstance(images, np.ndarray) else type(images).__name__
        raise ValueError(f"images must be a uint8 array of shape (n, 32, 32, 3), got {got}")
    if isinstance(captions, str) or len(captions) != len(images):
        raise ValueError(f"need one caption per image: {len(images)} images, {len(captions)} captions")
    if len(images) == 0:
        raise ValueError("no training images given")
    for name, v in (("steps", steps), ("batch_size", batch_size)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be positive, got {learning_rate}")
    if not 0.0 <= caption_dropout < 1.0:
        raise ValueError(f"caption_dropout must be a share in [0, 1), got {caption_dropout}")
    if warmup_steps < 0:
        raise ValueError(f"warmup_steps must be non-negative, got {warmup_steps}")


def _checkpoints(output_dir: Path) -> list[Path]:
    steps = {p: p.name[len(CHECKPOINT_PREFIX) :] for p in output_dir.glob(f"{CHECKPOINT_PREFIX}*") if p.is_dir()}
    return sorted((p for p, s in steps.items() if s.isdigit()), key=lambda p: int(steps[p]))


def latest_checkpoint(output_dir: str | os.PathLike) -> Path | None:
    """The newest ``checkpoint-<step>`` folder under ``output_dir`` (None if there is none)."""
    output_dir = Path(output_dir)
    found = _checkpoints(output_dir) if output_dir.is_dir() else []
    return found[-1] if found else None


def _save_checkpoint(folder: Path, pipe, optimizer, scheduler, step: int, run: dict, losses: list[float],
                     history: list[dict], runtime_s: float) -> None:  # fmt: skip
    tmp = folder.with_name(folder.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    weights = {f"unet.{k}": v.detach().cpu().contiguous() for k, v in pipe.unet.state_dict().items()}
    weights |= {f"text_encoder.{k}": v.detach().cpu().contiguous() for k, v in pipe.text_encoder.state_dict().items()}
    save_file(weights, tmp / "model.safetensors")
    opt = optimizer.state_dict()
    tensors = {"rng.torch": torch.get_rng_state()}
    for index, state in opt["state"].items():
        for key, value in state.items():
            tensors[f"state.{index}.{key}"] = torch.as_tensor(value).detach().cpu().contiguous()
    save_file(tensors, tmp / "optimizer.safetensors")
    state = {"step": step, "run": run, "losses": losses, "history": history, "param_groups": opt["param_groups"],
             "lr_scheduler": scheduler.state_dict(), "train_runtime_s": runtime_s}  # fmt: skip
    (tmp / STATE_FILE).write_text(json.dumps(state, indent=1) + "\n", encoding="utf-8")
    if folder.exists():
        shutil.rmtree(folder)
    tmp.rename(folder)


def _load_checkpoint(folder: Path, pipe, optimizer, scheduler, run: dict) -> tuple[int, list[float], list[dict], float]:
    state = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
    if state["run"] != run:
        diff = sorted(k for k in set(run) | set(state["run"]) if run.get(k) != state["run"].get(k))
        raise ValueError(f"{folder} was written by another run (different {', '.join(diff)}); resume with the same "
                         "data and settings, or start afresh in an empty output_dir")  # fmt: skip
    weights = load_file(folder / "model.safetensors")
    for prefix, module in (("unet.", pipe.unet), ("text_encoder.", pipe.text_encoder)):
        module.load_state_dict({k[len(prefix) :]: v for k, v in weights.items() if k.startswith(prefix)}, strict=True)
    tensors = load_file(folder / "optimizer.safetensors")
    opt_state: dict[int, dict] = {}
    for key, value in tensors.items():
        if key.startswith("state."):
            _, index, name = key.split(".", 2)
            opt_state.setdefault(int(index), {})[name] = value
    optimizer.load_state_dict({"state": opt_state, "param_groups": state["param_groups"]})
    scheduler.load_state_dict(state["lr_scheduler"])
    torch.set_rng_state(tensors["rng.torch"])
    return int(state["step"]), list(state["losses"]), list(state["history"]), float(state["train_runtime_s"])


def _notify(callbacks: Sequence[Any], step: int, max_steps: int, logs: dict, end: bool = False) -> None:
    """Tell ``callbacks`` about a log line: ``transformers.TrainerCallback`` objects (e.g.
    ``genlab.training.live_loss.LiveLossPlot``) through ``on_log`` / ``on_train_end``, plain callables as
    ``fn(step, logs)``."""
    trainer_like = [cb for cb in callbacks if hasattr(cb, "on_log")]
    if trainer_like:
        from transformers import TrainerControl, TrainerState

        state, control = TrainerState(), TrainerControl()
        state.global_step, state.max_steps = step, max_steps
        for cb in trainer_like:
            if end:
                cb.on_train_end(None, state, control)
            else:
                cb.on_log(None, state, control, logs=logs)
    if not end:
        for cb in callbacks:
            if not hasattr(cb, "on_log") and callable(cb):
                cb(step, logs)


def train_text_to_image(
    pipeline_or_config: TinyTextToImagePipeline | TinyDiffusionConfig | None,
    images: np.ndarray,
    captions: Sequence[str],
    *,
    steps: int,
    batch_size: int = 64,
    learning_rate: float = 1e-3,
    seed: int = 0,
    caption_dropout: float = 0.1,
    warmup_steps: int | None = None,
    weight_decay: float = 0.01,
    max_grad_norm: float = 1.0,
    output_dir: str | os.PathLike | None = None,
    save_steps: int | None = None,
    save_total_limit: int = 2,
    resume_from_checkpoint: str | os.PathLike | bool | None = None,
    callbacks: Sequence[Any] = (),
    logging_steps: int = 25,
    device: str | torch.device = "cpu",
    progress: bool | None = None,
) -> tuple[TinyTextToImagePipeline, dict]:
    """Train a text-to-image pipeline on ``images`` ((n, 32, 32, 3) uint8) and their ``captions`` for ``steps`` steps.

    Args:
        pipeline_or_config: a :class:`TinyTextToImagePipeline` to train further (changed in place), or a
            :class:`TinyDiffusionConfig` (None: the default) for a fresh one, initialised from ``seed``.
        steps, batch_size, learning_rate: optimizer steps, pictures per step, peak learning rate.
        seed: the model's initialisation (with a config) and every random draw of training.
        caption_dropout: share of pictures trained with the empty caption (for classifier-free guidance).
        warmup_steps: linear warm-up before the cosine decay (default: 5% of ``steps``).
        output_dir, save_steps: with both, a checkpoint ``output_dir/checkpoint-<step>`` every ``save_steps`` steps
            and at the end; only the newest ``save_total_limit`` are kept.
        resume_from_checkpoint: a checkpoint folder, or True for the newest under ``output_dir`` (training starts
            afresh when there is none). The checkpoint must come from the same data and settings.
        callbacks: ``transformers.TrainerCallback`` objects such as ``LiveLossPlot`` (``on_log`` with ``loss`` and
            ``learning_rate`` every ``logging_steps`` steps), or callables ``fn(step, logs)``.

    Returns ``(pipeline, record)``: the trained pipeline (eval mode) and a dict with the loss of every step
    (``losses``), the logged means (``history``), the settings, the data's sha256, parameter counts, the wall time
    of all sessions of the run (``train_runtime_s``; ``steps_per_s`` over it) and the checkpoint it resumed from.
    """
    captions = list(captions)
    warmup_steps = max(1, steps // 20) if warmup_steps is None else warmup_steps
    _validate(images, captions, steps, batch_size, learning_rate, caption_dropout, warmup_steps)
    if isinstance(pipeline_or_config, TinyTextToImagePipeline):
        pipe = pipeline_or_config
    elif pipeline_or_config is None or isinstance(pipeline_or_config, TinyDiffusionConfig):
        pipe = build_pipeline(pipeline_or_config, seed=seed)
    else:
        raise TypeError(f"pipeline_or_config must be a TinyTextToImagePipeline or a TinyDiffusionConfig, got "
                        f"{type(pipeline_or_config).__name__}")  # fmt: skip
    if save_steps is not None and (output_dir is None or save_steps < 1):
        raise ValueError("save_steps needs an output_dir and must be a positive number of steps")
    dev = resolve_device(device)
    pipe.to(dev)
    from diffusers import DDPMScheduler

    noise_scheduler = DDPMScheduler.from_config(pipe.scheduler.config, prediction_type="sample")
    run = {"data_sha256": data_sha256(images, captions), "steps": int(steps), "batch_size": int(batch_size),
           "learning_rate": float(learning_rate), "seed": int(seed), "caption_dropout": float(caption_dropout),
           "warmup_steps": int(warmup_steps), "weight_decay": float(weight_decay),
           "max_grad_norm": float(max_grad_norm), "unet": _public(pipe.unet.config),
           "text_encoder": _public(pipe.text_encoder.config), "vocab_size": len(pipe.tokenizer)}  # fmt: skip
    run = json.loads(json.dumps(run, default=_jsonable))  # as it reads back from a checkpoint

    x0_all = images_to_model(images)  # (n, 12, 16, 16) in [-1, 1]
    ids_all = encode_captions(pipe.tokenizer, captions)  # (n, L)
    empty_ids = encode_captions(pipe.tokenizer, [""])[0]  # (L,): all padding
    params = [p for m in (pipe.unet, pipe.text_encoder) for p in m.parameters()]
    optimizer = torch.optim.AdamW(params, lr=learning_rate, weight_decay=weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: cosine_with_warmup(s, warmup_steps, steps))

    start_step, losses, history, resumed_from, runtime_before = 0, [], [], None, 0.0
    out = Path(output_dir) if output_dir is not None else None
    if resume_from_checkpoint is True:
        if out is None:
            raise ValueError("resume_from_checkpoint=True needs the output_dir that holds the checkpoints")
        resume_from_checkpoint = latest_checkpoint(out)
    if resume_from_checkpoint:
        folder = Path(resume_from_checkpoint)
        if not (folder / STATE_FILE).is_file():
            raise FileNotFoundError(f"{folder} is not a checkpoint written by train_text_to_image (no {STATE_FILE})")
        start_step, losses, history, runtime_before = _load_checkpoint(folder, pipe, optimizer, scheduler, run)
        resumed_from = str(folder)

    order = _Order(len(images), batch_size, seed)
    pipe.unet.train()
    pipe.text_encoder.train()
    bar = None
    if progress_enabled(progress):
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, initial=start_step, desc="training", file=sys.stderr)
    t0, window = time.time(), []
    for step in range(start_step, steps):
        g = torch.Generator().manual_seed(_seed_for(seed, 0, step))  # every draw of this step
        idx = torch.from_numpy(order.batch(step))
        x0 = x0_all[idx].to(dev)  # (B, 12, 16, 16)
        ids = ids_all[idx].clone()
        drop = torch.rand(len(idx), generator=g) < caption_dropout
        ids[drop] = empty_ids
        noise = torch.randn(x0.shape, generator=g).to(dev)
        t = torch.randint(0, noise_scheduler.config.num_train_timesteps, (len(idx),), generator=g).to(dev)
        noisy = noise_scheduler.add_noise(x0, noise, t)
        pred = predict_clean(pipe.unet, noisy, t, pipe.text_encoder(ids.to(dev)))
        loss = torch.nn.functional.mse_loss(pred, x0)  # predict the clean picture
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if max_grad_norm:
            torch.nn.utils.clip_grad_norm_(params, max_grad_norm)
        optimizer.step()
        scheduler.step()
        losses.append(float(loss.detach()))
        window.append(losses[-1])
        done = step + 1
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{losses[-1]:.4f}")
        if done % logging_steps == 0 or done == steps:
            logs = {"loss": float(np.mean(window)), "learning_rate": float(scheduler.get_last_lr()[0])}
            history.append({"step": done, **logs})
            _notify(callbacks, done, steps, logs)
            window = []
        if out is not None and save_steps and (done % save_steps == 0 or done == steps):
            _save_checkpoint(out / f"{CHECKPOINT_PREFIX}{done}", pipe, optimizer, scheduler, done, run, losses,
                             history, runtime_before + time.time() - t0)  # fmt: skip
            for old in _checkpoints(out)[:-save_total_limit]:
                shutil.rmtree(old)
    if bar is not None:
        bar.close()
    _notify(callbacks, steps, steps, {}, end=True)
    runtime = time.time() - t0
    pipe.unet.eval()
    pipe.text_encoder.eval()
    trained_now = steps - start_step
    record = {
        **{k: v for k, v in run.items() if k not in ("unet", "text_encoder")},
        "n_images": len(images),
        "losses": losses,
        "history": history,
        "train_loss_final": float(np.mean(losses[-min(len(losses), logging_steps) :])) if losses else None,
        "train_runtime_s": round(runtime_before + runtime, 2),  # all sessions of this run, checkpoint writes included
        "steps_trained_now": trained_now,
        "steps_per_s": round(steps / (runtime_before + runtime), 3) if runtime_before + runtime > 0 else None,
        "resumed_from": resumed_from,
        "recipe": "clean-picture prediction (prediction_type='sample'), cosine noise schedule of 1000 steps, pictures "
        "pixel-unshuffled to 12x16x16, empty caption for classifier-free guidance, AdamW, linear warm-up, "
        "cosine decay, gradient norm clipped",
        **pipeline_summary(pipe),
    }
    return pipe, record


def _public(config) -> dict:
    return {k: v for k, v in dict(config).items() if not k.startswith("_")}


def _jsonable(value: Any) -> Any:
    if is_dataclass(value):
        return asdict(value)
    if isinstance(value, (tuple, set)):
        return list(value)
    if isinstance(value, np.generic):
        return value.item()
    return str(value)
