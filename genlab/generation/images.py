"""Generating pictures for many prompts, seeds and sampler settings, as one array and one tidy table.

Works with genlab's tiny pipeline (``genlab.models.diffusion``) and with any ``diffusers`` text-to-image pipeline
that takes ``num_inference_steps``, ``guidance_scale``, one ``torch.Generator`` per picture and
``output_type="np"`` (Stable Diffusion's do). Every picture's starting noise comes from a generator seeded with its
own seed, so a picture depends only on its (prompt, seed, steps, guidance), not on ``batch_size`` or on the other
prompts of the grid; for genlab's pipeline this holds bit for bit (it runs its models on fixed-size blocks).

>>> from genlab.models.diffusion import TinyDiffusionConfig, build_pipeline
>>> pipe = build_pipeline(TinyDiffusionConfig.tiny(), seed=0)
>>> images, table = generate_grid(pipe, ["a red circle", "a blue square"], [0, 1], steps=(2,), guidance=(1.0, 2.0))
>>> images.shape, list(table.columns)
((8, 32, 32, 3), ['image', 'prompt_index', 'prompt', 'seed', 'steps', 'guidance'])
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from genlab.models.diffusion import TinyTextToImagePipeline, unit_to_uint8

TABLE_COLUMNS = ("image", "prompt_index", "prompt", "seed", "steps", "guidance")


def _as_uint8(images) -> np.ndarray:
    """A pipeline's ``.images`` (floats in [0, 1], uint8, a tensor, or PIL images) -> (n, H, W, 3) uint8."""
    if isinstance(images, torch.Tensor):
        images = images.detach().cpu().numpy()
    if isinstance(images, list):
        images = np.stack([np.asarray(im.convert("RGB") if hasattr(im, "convert") else im) for im in images])
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(f"the pipeline returned images of shape {images.shape}; expected (n, H, W, 3)")
    return images if images.dtype == np.uint8 else unit_to_uint8(images)


def _check(prompts, seeds, steps, guidance, batch_size) -> None:
    if isinstance(prompts, str) or not len(prompts) or not all(isinstance(p, str) for p in prompts):
        raise ValueError("prompts must be a non-empty list of strings")
    for name, values in (("seeds", seeds), ("steps", steps)):
        if isinstance(values, (int, np.integer, str)) or not len(values):
            raise ValueError(f"{name} must be a non-empty list of integers, got {values!r}")
        if any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) for v in values):
            raise ValueError(f"{name} must hold integers, got {list(values)}")
    if any(s < 1 for s in steps):
        raise ValueError(f"steps must be at least 1, got {list(steps)}")
    if any(s < 0 or s >= 2**63 for s in seeds):
        raise ValueError("seeds must be non-negative 64-bit integers")
    if isinstance(guidance, (int, float)) or not len(guidance):
        raise ValueError(f"guidance must be a non-empty list of numbers, got {guidance!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")


def generate_grid(
    pipeline,
    prompts: Sequence[str],
    seeds: Sequence[int],
    *,
    steps: Sequence[int] = (5,),
    guidance: Sequence[float] = (2.0,),
    batch_size: int = 64,
) -> tuple[np.ndarray, pd.DataFrame]:
    """One picture for every (prompt, seed, steps, guidance) in the grid.

    Returns ``(images, table)``: ``images`` (n, H, W, 3) uint8, and a table with one row per picture: ``image`` (its
    row in ``images``), ``prompt_index`` (position in ``prompts``), ``prompt``, ``seed``, ``steps`` and ``guidance``.
    Rows are ordered by steps, then guidance, then prompt, then seed. ``batch_size``: pictures per pipeline call;
    it changes the speed and the memory used, not the pictures.
    """
    _check(prompts, seeds, steps, guidance, batch_size)
    prompts, seeds, steps, guidance = list(prompts), list(seeds), list(steps), list(guidance)
    if hasattr(pipeline, "set_progress_bar_config"):
        pipeline.set_progress_bar_config(disable=True)
    rows = [
        {"prompt_index": p, "prompt": prompts[p], "seed": int(s), "steps": int(k), "guidance": float(g)}
        for k, g, p, s in itertools.product(steps, guidance, range(len(prompts)), seeds)
    ]
    table = pd.DataFrame(rows)
    table.insert(0, "image", np.arange(len(table)))
    chunks = []
    for (k, g), part in table.groupby(["steps", "guidance"], sort=False):
        for start in range(0, len(part), batch_size):
            block = part.iloc[start : start + batch_size]
            generators = [torch.Generator().manual_seed(int(s)) for s in block["seed"]]
            kwargs = {"num_inference_steps": int(k), "guidance_scale": float(g), "generator": generators}
            if isinstance(pipeline, TinyTextToImagePipeline):
                out = pipeline(list(block["prompt"]), output_type="uint8", **kwargs)
            else:  # diffusers pipelines: floats in [0, 1], rounded below as diffusers rounds to PIL
                out = pipeline(prompt=list(block["prompt"]), output_type="np", **kwargs)
            chunks.append(_as_uint8(out.images if hasattr(out, "images") else out[0]))
    images = np.concatenate(chunks)
    if len(images) != len(table):
        raise RuntimeError(f"the pipeline returned {len(images)} pictures for {len(table)} requests")
    return images, table
