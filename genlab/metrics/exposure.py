"""Exposure of inserted secrets (Carlini et al. 2019, "The Secret Sharer", USENIX Security).

A canary ``s[r]`` ("The phone number of Dagodan is 555-1234-5678.") with a random secret ``r`` from a space
``R`` is inserted into the training data a known number of times. Its log-perplexity is
``Px(s[r]) = -log2 P(r | prefix)`` and its exposure

    exposure = log2 |R| - log2 rank,   rank = |{r' in R : Px(s[r']) <= Px(s[r])}|

is how many bits of the secret the model gives away (0 when the secret is no more likely than any other,
``log2 |R|`` when it is the model's first guess). ``R`` is too large to enumerate, so exposure is estimated
from reference secrets drawn from the same format that were never inserted, in the two ways of the authors'
code (``tensorflow/privacy``, ``secret_sharer/exposures.py``):

- ``exposure_interpolation``: rank among the references, ``log2(n_ref) - log2(1 + references before it)``;
  at most ``log2(n_ref)`` (13.3 bits for 10,000 references);
- ``exposure_extrapolation``: ``-log2 CDF(Px)`` of a skew-normal fitted to the references' log-perplexities,
  which can go past ``log2(n_ref)``.

A never-inserted secret has expected exposure ``1 / ln 2 = 1.44`` bits under either (a uniform rank).

>>> import numpy as np
>>> refs = np.arange(1.0, 1025.0)           # 1,024 references with distinct log-perplexities
>>> float(exposure_interpolation([0.5], refs)[0])           # more likely than every reference: log2(1024)
10.0
>>> round(float(exposure_interpolation([2000.0], refs)[0]), 4)  # less likely than all: rank 1025, just below 0
-0.0014

**Limitations.** Exposure measures how much more likely the model makes one secret than the others of its
format, given the exact prefix it was trained with. It does not say whether an attacker who lacks the prefix
could extract the secret (see extraction attacks), and the interpolated value saturates at
``log2(n_ref)``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import numpy as np
import pandas as pd

from genlab.data.world_spec import Canary, World, sample_secret
from genlab.models.continuation import continuation_logprobs

CARLINI_2019 = "Carlini et al. 2019, The Secret Sharer (USENIX Security); tensorflow/privacy secret_sharer/exposures.py"


def exposure_interpolation(perplexities: Sequence[float], reference: Sequence[float]) -> np.ndarray:
    """Exposure of each secret by its rank among ``reference`` log-perplexities (lower = more likely).

    As the authors' ``compute_exposure_interpolation``: rank = 1 + the number of references sorted before the
    secret, exposure = log2(len(reference)) - log2(rank). A reference tied with the secret counts before it.

    >>> exposure_interpolation([1.0, 5.0], [2.0, 3.0, 4.0, 6.0]).tolist()
    [2.0, 0.0]
    """
    ref = np.sort(np.asarray(reference, dtype=float))
    if ref.size == 0:
        raise ValueError("no reference secrets: draw never-inserted candidates from the canary's format")
    ranks = 1 + np.searchsorted(ref, np.asarray(perplexities, dtype=float), side="right")
    return np.log2(ref.size) - np.log2(ranks)


def exposure_extrapolation(perplexities: Sequence[float], reference: Sequence[float]) -> np.ndarray:
    """Exposure of each secret as ``-log2 CDF(Px)`` under a skew-normal fitted to ``reference``, as the authors'
    ``compute_exposure_extrapolation`` (``scipy.stats.skewnorm.fit``).

    >>> rng = np.random.default_rng(0)
    >>> refs = rng.normal(30.0, 2.0, 5000)
    >>> round(float(exposure_extrapolation([30.0], refs)[0]), 1)   # the median secret: 1 bit
    1.0
    """
    from scipy.stats import skewnorm

    params = skewnorm.fit(np.asarray(reference, dtype=float))
    cdf = skewnorm.cdf(np.asarray(perplexities, dtype=float), *params)
    return -np.log2(np.clip(cdf, 1e-300, 1.0))


def secret_log2_perplexities(bundle, prefix: str, secrets: Sequence[str], *, batch_size: int = 512) -> np.ndarray:
    """``-log2 P(" " + secret | BOS + prefix)`` for every secret, summed over the secret's tokens.

    Scored by genlab's continuation scorer through the prefix's key-value cache
    (:func:`genlab.models.continuation.continuation_logprobs`, ``strategy="cache"``): the prefix is encoded once
    and its cache copied to each batch of ``batch_size`` secrets, so the prompt's cost is paid once however many
    candidates are scored.
    """
    scores = continuation_logprobs(
        bundle, [prefix], [[" " + s for s in secrets]], batch_size=batch_size, strategy="cache"
    )[0]
    return -np.asarray(scores, dtype=float) / math.log(2)


def reference_secrets(canary: Canary, world: World, n: int, seed: int = 0) -> list[str]:
    """``n`` secrets drawn uniformly from the canary's format for its owner, the canary's own secret excluded."""
    rng = random.Random(f"genlab-exposure-{seed}-{canary.id}")
    out: list[str] = []
    while len(out) < n:
        s = sample_secret(rng, canary.kind, canary.owner, world.lexicon)
        if s != canary.secret:
            out.append(s)
    return out


def canary_exposure(bundle, world: World, canaries: Sequence[Canary] | None = None, *, n_references: int = 10_000,
                    seed: int = 0, batch_size: int = 512) -> pd.DataFrame:
    """Exposure of every canary (default: all of ``world``'s), each against its own ``n_references``
    never-inserted secrets of the same format and owner.

    Columns: ``canary_id``, ``kind``, ``count`` (training insertions; 0 = control), ``log2_perplexity``,
    ``rank`` (among the references, 1 = more likely than every reference), ``exposure_rank``
    (interpolation), ``exposure_skewnorm`` (extrapolation), ``max_exposure_rank`` (log2 n_references) and
    ``entropy_bits`` (log2 |R|, the most exposure could ever be).
    """
    canaries = list(world.canaries if canaries is None else canaries)
    if n_references < 2:
        raise ValueError(f"n_references={n_references}: exposure needs at least 2 reference secrets")
    rows = []
    for c in canaries:
        refs = reference_secrets(c, world, n_references, seed)
        ppl = secret_log2_perplexities(bundle, c.prefix, [c.secret, *refs], batch_size=batch_size)
        own, ref = ppl[:1], ppl[1:]
        rows.append({"canary_id": c.id, "kind": c.kind, "count": c.count, "log2_perplexity": float(own[0]),
                     "rank": int(1 + np.sum(ref <= own[0])),
                     "exposure_rank": float(exposure_interpolation(own, ref)[0]),
                     "exposure_skewnorm": float(exposure_extrapolation(own, ref)[0]),
                     "max_exposure_rank": math.log2(n_references), "entropy_bits": c.entropy_bits})
    return pd.DataFrame(rows)
