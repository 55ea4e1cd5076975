"""Is a training picture's own caption enough to get the picture back? Extraction of prompted training pictures.

Carlini et al. (2023, "Extracting Training Data from Diffusion Models", USENIX Security) sample the captions of
training images many times and search the training set for near-copies of the generations; an image is extracted
when a generation from its caption copies it. The rate's denominator is the prompted pictures, not the training set.
genlab's near-copy test is the ratio test of :func:`genlab.metrics.image_generation.nearest_training`.

Two steps, after ``nearest_training`` has found each generation's nearest training picture:

1. :func:`own_picture_copies` marks a generation ``copies_own_picture`` when it is a near-copy *and* its nearest
   training picture is the very picture whose caption prompted it (a near-copy of another picture is not an
   extraction of this one);
2. :func:`prompted_extraction` gives, per feature space and duplication count, the share of prompted pictures that
   some generation of their own caption copies (exact intervals), and how many generations were near-copies of
   anything.

>>> near = pd.DataFrame({"nearest": [0, 2, 1, 1], "near_copy": [True, True, False, True]})
>>> marked = own_picture_copies(near, prompt_image_ids=["a", "a", "b", "b"], prompt_duplicate_counts=[8, 8, 1, 1],
...                             train_image_ids=["a", "b", "c"])
>>> marked.copies_own_picture.tolist()   # row 1 copies picture "c", not its own "a"
[True, False, False, True]
>>> table = prompted_extraction({"pixels": marked})
>>> print(table[["duplicate_count", "n", "k", "extracted", "n_samples", "n_near_copies"]].to_string(index=False))
 duplicate_count  n  k  extracted  n_samples  n_near_copies
               1  1  1        1.0          2              1
               8  1  1        1.0          2              2

**Limitations.** A near-copy in pixel or feature space misses copies that moved or were re-rendered, and nothing
here confirms a candidate by eye, as Carlini et al. do. A handful of samples per caption finds only pictures that
come back often; a rate of 0 from few prompted pictures is weak evidence (read its interval).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from genlab.stats import rate_table

COLUMNS = ["space", "duplicate_count", "n", "k", "extracted", "extracted_low", "extracted_high", "n_samples",
           "n_near_copies"]  # fmt: skip


def own_picture_copies(
    near: pd.DataFrame,
    prompt_image_ids: Sequence,
    prompt_duplicate_counts: Sequence[int],
    train_image_ids: Sequence,
) -> pd.DataFrame:
    """``near`` (one row per generation, from ``nearest_training``) with three columns in front: the prompting
    picture's ``prompt_image_id`` and ``prompt_duplicate_count``, and ``copies_own_picture``: a near-copy whose
    nearest training row (an index into ``train_image_ids``) holds that very picture."""
    if not len(near) == len(prompt_image_ids) == len(prompt_duplicate_counts):
        raise ValueError(f"{len(near)} generations but {len(prompt_image_ids)} prompt ids and "
                         f"{len(prompt_duplicate_counts)} duplicate counts: give one of each per generation")
    ids = np.asarray(train_image_ids, dtype=object)
    prompted = np.asarray(prompt_image_ids, dtype=object)
    out = near.copy()
    out.insert(0, "prompt_image_id", prompted)
    out.insert(1, "prompt_duplicate_count", np.asarray(prompt_duplicate_counts))
    out.insert(2, "copies_own_picture", out["near_copy"].to_numpy(bool) & (ids[out["nearest"].to_numpy()] == prompted))
    return out


def prompted_extraction(nearest: Mapping[str, pd.DataFrame], confidence: float = 0.95) -> pd.DataFrame:
    """Per space (the keys of ``nearest``, e.g. pixels and features) and duplication count: of the training pictures
    whose caption was sampled, ``n``, the ``k`` that some sample of their own caption copies, the share ``extracted``
    with its exact interval, the samples drawn and how many were near-copies of any training picture."""
    parts = []
    for space, near in nearest.items():
        per_picture = near.groupby(["prompt_duplicate_count", "prompt_image_id"]).copies_own_picture.any()
        rates = rate_table(per_picture.reset_index(), "copies_own_picture", "prompt_duplicate_count",
                           name="extracted", confidence=confidence)
        samples = near.groupby("prompt_duplicate_count").near_copy.agg(["size", "sum"])
        parts.append(rates.rename(columns={"prompt_duplicate_count": "duplicate_count"})
                     .assign(space=space, n_samples=samples["size"].to_numpy(),
                             n_near_copies=samples["sum"].to_numpy()))  # fmt: skip
    return pd.concat(parts, ignore_index=True)[COLUMNS]
