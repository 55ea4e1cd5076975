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

Cost. A canary's secret and references are scored as one prefix tree (:func:`secret_log2_perplexities`): one
forward position per distinct prefix that some candidate continues. For the default model's 240 canaries at
10,000 references each that is 13.5 million positions, 114 TFLOP of float32 matmuls: about 50 CPU-minutes on one
core of genlab's 2-core build machine (``benchmarks/bench_exposure.py``), and no less than 10 minutes on 2 cores
at that machine's measured matmul rate. For a quick look, pass a stratified subset of ``canaries`` or fewer
references (the rank-based value then saturates lower, at ``log2(n_references)``).

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

import copy
import math
import random
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from genlab.models.continuation import continuation_logprobs
from genlab.models.modes import eval_mode
from genlab.models.prefix import cache_keyword, virtual_prefix
from genlab.worlds.text_spec import Canary, World, sample_secret

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


def secret_log2_perplexities(bundle, prefix: str, secrets: Sequence[str], *, batch_size: int = 1024) -> np.ndarray:
    """``-log2 P(" " + secret | BOS + prefix)`` for every secret, summed over the secret's tokens.

    The candidates are scored as a prefix tree (:func:`trie_levels`): the prompt is run once, and then the tree's
    nodes one depth at a time, each node fed once with its parent's key-value cache, however many candidates
    share it ("555-", "555-1", ... are fed once for 10,000 phone numbers). ``batch_size`` candidates (sorted, so
    that shared prefixes fall in one batch) go through the tree together. The values are those of a plain forward
    pass of ``BOS + prefix + " " + secret`` per candidate, up to float32 rounding (tests/metrics/test_exposure.py).

    Models whose cache cannot be re-indexed per node (masked LMs, prompt- or prefix-tuned models) are scored by
    :func:`genlab.models.continuation.continuation_logprobs` instead (the same numbers, without the sharing).

    >>> from genlab.models.tiny import tiny_bundle
    >>> bundle = tiny_bundle()
    >>> trie = secret_log2_perplexities(bundle, "the cat", ["sat", "sat on", "mat"])
    >>> plain = -np.asarray(continuation_logprobs(bundle, ["the cat"], [[" sat", " sat on", " mat"]])[0]) / math.log(2)
    >>> bool(np.allclose(trie, plain, atol=1e-5)), bool(trie[1] > trie[0])  # " sat on" adds bits to " sat"
    (True, True)
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    secrets = list(secrets)
    if not secrets:
        return np.empty(0)
    if getattr(bundle, "kind", "causal") != "causal" or virtual_prefix(bundle.model) is not None:
        scores = continuation_logprobs(
            bundle, [prefix], [[" " + s for s in secrets]], batch_size=min(batch_size, 512), strategy="cache"
        )[0]
        return -np.asarray(scores, dtype=float) / math.log(2)
    tok = bundle.tokenizer
    head = [tok.bos_token_id] if tok.bos_token_id is not None else []
    prompt = head + tok(prefix, add_special_tokens=False)["input_ids"]
    if not prompt:
        raise ValueError("an empty prefix with a tokenizer that has no BOS leaves nothing to predict the secret from")
    options = tok([" " + s for s in secrets], add_special_tokens=False)["input_ids"]
    with eval_mode(bundle.model), torch.inference_mode():
        return -_trie_logprobs(bundle, prompt, options, batch_size) / math.log(2)


def independent_log2_perplexities(bundle, prefix: str, secrets: Sequence[str]) -> np.ndarray:
    """The reference scorer: ``-log2 P(" " + secret | BOS + prefix)`` from one plain forward pass of the whole
    sequence per candidate (no cache, no sharing, float64 log-softmax). Slow; it is what
    :func:`secret_log2_perplexities` is checked against (tests) and timed against (``benchmarks/bench_exposure.py``).

    >>> from genlab.models.tiny import tiny_bundle
    >>> bundle = tiny_bundle()
    >>> bool(np.allclose(independent_log2_perplexities(bundle, "the cat", ["sat", "mat"]),
    ...                  secret_log2_perplexities(bundle, "the cat", ["sat", "mat"]), atol=1e-5))
    True
    """
    tok, model = bundle.tokenizer, bundle.model
    prompt = [tok.bos_token_id] + tok(prefix, add_special_tokens=False)["input_ids"]
    out = []
    with eval_mode(model), torch.inference_mode():
        for s in secrets:
            cont = tok(" " + s, add_special_tokens=False)["input_ids"]
            ids = torch.tensor([prompt + cont], device=bundle.device)
            logp = torch.log_softmax(model(input_ids=ids).logits[0, len(prompt) - 1 : -1].double(), dim=-1)
            picked = logp.gather(1, torch.tensor(cont, device=bundle.device)[:, None])
            out.append(-float(picked.sum()) / math.log(2))
    return np.array(out)


def trie_levels(options: np.ndarray, lengths: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The prefix tree of token sequences, one depth at a time, for sequences sorted lexicographically.

    ``options``: (n, L) token ids, right-padded with -1, sorted row-wise; ``lengths``: (n,) their lengths. Entry
    ``d`` describes the tree's nodes at depth ``d``: the distinct prefixes ``options[i, : d + 1]`` of the sequences
    that continue past them (``lengths > d + 1``), each fed to the model once. It is ``(alive, node, first)``:
    ``alive``, the rows that continue; ``node``, the node each alive row passes through (0, 1, ... in order);
    ``first``, for each node, the first alive row through it.

    >>> ids = np.array([[5, 1, 2], [5, 1, 3], [5, 4, 7], [6, -1, -1]])   # [6] ends at once: never fed
    >>> for alive, node, first in trie_levels(ids, np.array([3, 3, 3, 1])):
    ...     print(alive.tolist(), node.tolist(), first.tolist())
    [0, 1, 2] [0, 0, 0] [0]
    [0, 1, 2] [0, 0, 1] [0, 2]
    """
    levels = []
    for d in range(options.shape[1] - 1):
        alive = np.flatnonzero(lengths > d + 1)
        if alive.size == 0:
            break
        prefixes = options[alive, : d + 1]
        new = np.ones(alive.size, dtype=bool)
        new[1:] = (prefixes[1:] != prefixes[:-1]).any(axis=1)  # sorted: equal prefixes are adjacent
        levels.append((alive, np.cumsum(new) - 1, alive[new]))
    return levels


def _trie_logprobs(bundle, prompt: list[int], options: list[list[int]], batch_size: int) -> np.ndarray:
    """log P(option | prompt) in nats for every option, scored through the options' prefix tree."""
    model, dev = bundle.model, bundle.device
    lengths = np.array([len(o) for o in options])
    if lengths.min() == 0:
        raise ValueError("a secret has no tokens; every secret must be non-empty")
    ids = np.full((len(options), lengths.max()), -1, dtype=np.int64)
    for i, o in enumerate(options):
        ids[i, : len(o)] = o
    order = np.lexsort(ids.T[::-1])  # row-wise lexicographic: shared prefixes become neighbours
    ids, lengths = ids[order], lengths[order]
    key = cache_keyword(model)
    out = model(input_ids=torch.tensor([prompt], device=dev), use_cache=True)
    prompt_cache = _cache_of(out)
    first = torch.log_softmax(out.logits[0, -1].double(), dim=-1).cpu().numpy()  # each option's first token
    totals = np.empty(len(options))
    for start in range(0, len(options), batch_size):
        rows, n = ids[start : start + batch_size], lengths[start : start + batch_size]
        total = first[rows[:, 0]]
        cache = copy.deepcopy(prompt_cache)
        parent = np.zeros(len(rows), dtype=np.int64)  # per row: its node at the previous depth (the prompt: 0)
        for d, (alive, node, first_row) in enumerate(trie_levels(rows, n)):
            cache.reorder_cache(torch.from_numpy(parent[first_row]).to(dev))  # each node gets its parent's cache
            feed = torch.from_numpy(rows[first_row, d : d + 1]).to(dev)  # (nodes, 1)
            out = model(input_ids=feed, use_cache=True, **{key: cache})
            cache = _cache_of(out)
            # (nodes, V), float64 as the sums: predicts the (d+1)-th tokens
            logp = torch.log_softmax(out.logits[:, -1].double(), dim=-1)
            nxt = torch.from_numpy(rows[alive, d + 1]).to(dev)
            total[alive] += logp[torch.from_numpy(node).to(dev), nxt].cpu().numpy()
            parent[alive] = node
        totals[order[start : start + len(rows)]] = total
    return totals


def _cache_of(output):
    cache = getattr(output, "cache", None)  # transformers 5.x names it `cache`; earlier ones `past_key_values`
    return output.past_key_values if cache is None else cache


def reference_secrets(canary: Canary, world: World, n: int, seed: int = 0) -> list[str]:
    """``n`` secrets drawn uniformly from the canary's format for its owner, the canary's own secret excluded."""
    rng = random.Random(f"genlab-exposure-{seed}-{canary.id}")
    out: list[str] = []
    while len(out) < n:
        s = sample_secret(rng, canary.kind, canary.owner, world.lexicon)
        if s != canary.secret:
            out.append(s)
    return out


def canary_exposure(
    bundle,
    world: World,
    canaries: Sequence[Canary] | None = None,
    *,
    n_references: int = 10_000,
    seed: int = 0,
    batch_size: int = 1024,
) -> pd.DataFrame:
    """Exposure of every canary (default: all of ``world``'s), each against its own ``n_references``
    never-inserted secrets of the same format and owner.

    Columns: ``canary_id``, ``kind``, ``count`` (training insertions; 0 = control), ``log2_perplexity``,
    ``rank`` (among the references, 1 = more likely than every reference), ``exposure_rank``
    (interpolation), ``exposure_skewnorm`` (extrapolation), ``max_exposure_rank`` (log2 n_references) and
    ``entropy_bits`` (log2 |R|, the most exposure could ever be).

    >>> from genlab.worlds.text import small_world
    >>> from genlab.models.tiny import tiny_bundle
    >>> df = canary_exposure(tiny_bundle(n_positions=128), small_world(), n_references=20)
    >>> len(df), float(df["max_exposure_rank"].iloc[0]) == math.log2(20), bool(df["rank"].between(1, 21).all())
    (9, True, True)
    """
    canaries = list(world.canaries if canaries is None else canaries)
    if n_references < 2:
        raise ValueError(f"n_references={n_references}: exposure needs at least 2 reference secrets")
    rows = []
    for c in canaries:
        refs = reference_secrets(c, world, n_references, seed)
        ppl = secret_log2_perplexities(bundle, c.prefix, [c.secret, *refs], batch_size=batch_size)
        own, ref = ppl[:1], ppl[1:]
        rows.append(
            {
                "canary_id": c.id,
                "kind": c.kind,
                "count": c.count,
                "log2_perplexity": float(own[0]),
                "rank": int(1 + np.sum(ref <= own[0])),
                "exposure_rank": float(exposure_interpolation(own, ref)[0]),
                "exposure_skewnorm": float(exposure_extrapolation(own, ref)[0]),
                "max_exposure_rank": math.log2(n_references),
                "entropy_bits": c.entropy_bits,
            }
        )
    return pd.DataFrame(rows)
