"""Run a model in eval mode (dropout off) for a block, and put back the mode it had.

>>> import torch
>>> layer = torch.nn.Dropout(0.5).train()
>>> with eval_mode(layer):
...     layer.training
False
>>> layer.training
True
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

__all__ = ["eval_mode"]


@contextlib.contextmanager
def eval_mode(model: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """``model.eval()`` inside the block; afterwards ``model.train(mode)`` with the mode it had before, also when
    the block raises. Scoring and generation use it so that they never run with dropout and never leave a model
    that was training switched to eval."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)
