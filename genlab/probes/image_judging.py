"""GenEval's protocol on a text-to-image pipeline: draw pictures for prompts x seeds x sampler settings, then judge
every picture against the spec its prompt was written from (Ghosh, Hajishirzi & Schmidt 2023).

:func:`generate_and_judge` takes a pipeline (genlab's :class:`~genlab.models.diffusion.TinyTextToImagePipeline`, or
any ``diffusers`` text-to-image pipeline that accepts ``num_inference_steps``, ``guidance_scale`` and
``generator``), drawn-world rows whose ``caption`` is the prompt (:mod:`genlab.worlds.drawn`), and optionally the
attribute classifier (``genlab-drawn-classifier``); it returns a :class:`Judged`: the pictures, one row per picture
with the grid (:func:`genlab.generation.images.generate_grid`) and every verdict of
:func:`genlab.metrics.image_faithfulness.faithfulness`, and the spec each picture asked for. Notebook 70 and the
image model's recipe (its faithfulness check) use it.

>>> from genlab.worlds.drawn import build_drawn_world
>>> from genlab.models.diffusion import TinyDiffusionConfig, build_pipeline
>>> world = build_drawn_world(0, 4, seed=0, duplicates={})
>>> judged = generate_and_judge(build_pipeline(TinyDiffusionConfig.tiny()), world.table, seeds=[0, 1], steps=(2,))
>>> judged.images.shape, len(judged.table), "all_correct" in judged.table
((8, 32, 32, 3), 8, True)

**Limitations.** The verdicts are :func:`~genlab.metrics.image_faithfulness.faithfulness`'s, with its limits (a
judge trained on real pictures of the drawn world; classical checks that assume its look). Pictures of one caption
or one seed are not independent, so intervals that treat every picture as an item are too narrow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from genlab.generation.images import generate_grid
from genlab.metrics.image_faithfulness import faithfulness, faithfulness_table


@dataclass
class Judged:
    """Generated pictures and one row per picture: the grid (``image``, ``prompt_index``, ``prompt``, ``seed``,
    ``steps``, ``guidance``), the spec's ``kind`` and ``held_out``, and every verdict of :func:`faithfulness`;
    ``specs``: the spec each picture's prompt asked for (the drawn-world row, one per picture)."""

    images: np.ndarray
    table: pd.DataFrame
    specs: pd.DataFrame

    def where(self, **keys) -> Judged:
        """The pictures whose grid columns equal ``keys`` (e.g. ``guidance=2.0``), with their rows and specs."""
        mask = np.ones(len(self.table), bool)
        for k, v in keys.items():
            mask &= (self.table[k] == v).to_numpy()
        if not mask.any():
            raise ValueError(f"no pictures with {keys}; the grid holds steps {sorted(set(self.table.steps))} and "
                             f"guidance {sorted(set(self.table.guidance))}")  # fmt: skip
        table = self.table[mask].reset_index(drop=True)
        table["image"] = np.arange(len(table))
        return Judged(self.images[mask], table, self.specs[mask].reset_index(drop=True))

    def attribute_table(self, **keys) -> pd.DataFrame:
        """:func:`faithfulness_table` (combined verdicts) of the pictures whose grid columns equal ``keys``."""
        part = self.where(**keys).table
        return faithfulness_table(part).query("check == 'combined'").drop(columns="check").reset_index(drop=True)


def _spec_frame(specs) -> pd.DataFrame:
    frame = pd.DataFrame(specs).reset_index(drop=True)
    if "caption" not in frame.columns:
        raise ValueError("specs need a 'caption' column (the prompt each spec is drawn from): pass drawn-world rows")
    if frame.empty:
        raise ValueError("no prompts given")
    return frame


def generate_and_judge(
    pipeline,
    specs: pd.DataFrame,
    *,
    seeds: Sequence[int],
    classifier=None,
    steps: Sequence[int] = (5,),
    guidance: Sequence[float] = (2.0,),
    batch_size: int = 64,
) -> Judged:
    """One picture per (spec's caption, seed, steps, guidance), judged against the spec.

    ``specs``: drawn-world table rows (their ``caption`` is the prompt). ``classifier``: the attribute classifier;
    ``None`` judges with the classical checks only (shape and size unjudged). See the module example."""
    frame = _spec_frame(specs)
    images, grid = generate_grid(pipeline, list(frame.caption), list(seeds), steps=steps, guidance=guidance,
                                 batch_size=batch_size)  # fmt: skip
    asked = frame.iloc[grid.prompt_index.to_numpy()].reset_index(drop=True)
    verdicts = faithfulness(images, asked, classifier)
    table = pd.concat([grid, verdicts.drop(columns=["prompt"])], axis=1)
    return Judged(images=images, table=table, specs=asked)
