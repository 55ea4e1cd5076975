"""Canary exposure speed: every canary of the default model against 10,000 references, the prefix-tree scorer vs
scoring each candidate on its own.

    python benchmarks/bench_exposure.py [--references 10000] [--per-count 10] [--peer-candidates 150] [--threads N]
                                        [--previous] [--full]

1. ``canary_exposure`` on all canaries (``--per-count``: the first K of every kind and insertion count; 10 = all
   240), each against ``--references`` never-inserted secrets: one timed run, wall and CPU seconds, with the load
   average before and after (the machine may be shared). Target: 60 s or less on 2 cores for all canaries at
   10,000 references. It runs only with ``--full`` (about 25 minutes on 2 idle cores, an hour on one), so that
   ``make bench`` stays short; the other steps always run.
2. Side by side, per kind on its first canary and back to back (a shared machine's load changes by the minute):
   the prefix tree on all of the canary's candidates; the peer, one full forward pass of
   ``BOS + prefix + " " + candidate`` per candidate at batch size 1 (no cache, no sharing), on the first
   ``--peer-candidates`` of them; with ``--previous``, genlab's scorer before the prefix tree (the prompt's KV
   cache copied to batches of 512 candidates, no shared prefixes) on all of them. Each is **extrapolated** to the
   candidates of step 1 (per kind: seconds per candidate x candidates) and its ratio to the prefix tree timed
   alongside is printed, by wall and by CPU time (the steadier of the two on a shared machine), with the largest
   difference between the prefix tree and the peer (bits).
3. The compute floor: the prefix tree's nodes over all canaries (each one forward position) x 2 x the model's
   matmul parameters per position, divided by this machine's measured fp32 matmul rate: no exact fp32 scorer that
   feeds every distinct prefix once can be faster here.
4. The exposure summary by insertion count (step 1).
"""

from __future__ import annotations

import argparse
import math
import os
import time
from collections import Counter

import numpy as np
import pandas as pd
import torch
from _common import bench_bundle, matmul_flops

from genlab.models.continuation import continuation_logprobs
from genlab.probes.exposure import (
    canary_exposure,
    independent_log2_perplexities,
    reference_secrets,
    secret_log2_perplexities,
    trie_levels,
)
from genlab.worlds.text import load_world


def tree_positions(bundle, canaries, world, n_references: int, batch_size: int = 1024) -> int:
    """Forward positions the prefix-tree scorer feeds for these canaries (as ``_trie_logprobs`` batches them)."""
    tok, total = bundle.tokenizer, 0
    for c in canaries:
        options = tok(
            [" " + s for s in [c.secret, *reference_secrets(c, world, n_references)]], add_special_tokens=False
        )["input_ids"]
        lengths = np.array([len(o) for o in options])
        ids = np.full((len(options), lengths.max()), -1, dtype=np.int64)
        for i, o in enumerate(options):
            ids[i, : len(o)] = o
        order = np.lexsort(ids.T[::-1])
        ids, lengths = ids[order], lengths[order]
        for start in range(0, len(ids), batch_size):
            levels = trie_levels(ids[start : start + batch_size], lengths[start : start + batch_size])
            total += sum(len(first) for _, _, first in levels)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--references", type=int, default=10_000)
    parser.add_argument("--per-count", type=int, default=10, help="canaries per kind and count (10 = all)")
    parser.add_argument("--peer-candidates", type=int, default=150, help="candidates per kind timed for the peer")
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="torch threads (default: torch's choice); 1 gives steadier numbers on a machine shared with other jobs",
    )
    parser.add_argument("--previous", action="store_true", help="also time the previous scorer (continuation cache)")
    parser.add_argument("--full", action="store_true", help="also run step 1 (all canaries; about 25 minutes)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    bundle = bench_bundle()
    world = load_world()
    seen: Counter = Counter()
    canaries = []
    for c in world.canaries:
        if seen[(c.kind, c.count)] < args.per_count:
            seen[(c.kind, c.count)] += 1
            canaries.append(c)
    n_candidates = len(canaries) * (args.references + 1)
    print(
        f"{len(canaries)} canaries x ({args.references:,} references + the secret) = {n_candidates:,} candidates; "
        f"{os.cpu_count()} CPUs; load average before: {os.getloadavg()[0]:.1f}"
    )

    exposure = None
    if args.full:
        wall, cpu = time.perf_counter(), time.process_time()
        exposure = canary_exposure(bundle, world, canaries, n_references=args.references)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(
            f"prefix tree: {wall:.1f} s wall, {cpu:.1f} s CPU (all threads) for all canaries (target <= 60 s on 2 "
            f"cores); load average after: {os.getloadavg()[0]:.1f}"
        )

    def per_candidate(n: int, fn, *fn_args, **fn_kwargs) -> tuple[np.ndarray, object]:
        """(wall, CPU) seconds per candidate of ``fn(*fn_args, **fn_kwargs)`` over ``n`` candidates, and its result."""
        w, p = time.perf_counter(), time.process_time()
        result = fn(*fn_args, **fn_kwargs)
        return np.array([time.perf_counter() - w, time.process_time() - p]) / n, result

    # Per kind, on its first canary, back to back (the load of a shared machine changes by the minute): the prefix
    # tree on all its candidates, the peer on the first --peer-candidates of them, the previous scorer on all.
    totals = {"prefix tree": np.zeros(2), "one pass per candidate": np.zeros(2), "continuation cache": np.zeros(2)}
    diffs = []
    for kind in sorted({c.kind for c in canaries}):
        c = next(x for x in canaries if x.kind == kind)
        secrets = [c.secret, *reference_secrets(c, world, args.references)]
        few = secrets[: args.peer_candidates]
        times = {"prefix tree": per_candidate(len(secrets), secret_log2_perplexities, bundle, c.prefix, secrets)[0]}
        times["one pass per candidate"], theirs = per_candidate(
            len(few), independent_log2_perplexities, bundle, c.prefix, few
        )
        diffs.append(float(np.abs(secret_log2_perplexities(bundle, c.prefix, few) - theirs).max()))
        if args.previous:  # genlab's scorer before the prefix tree: the prompt's KV cache, no shared prefixes
            options = [[" " + s for s in secrets]]
            times["continuation cache"] = per_candidate(
                len(secrets), continuation_logprobs, bundle, [c.prefix], options, batch_size=512, strategy="cache"
            )[0]
        n_kind = sum(x.kind == kind for x in canaries) * (args.references + 1)
        for name, t in times.items():
            totals[name] += t * n_kind
        print(
            f"  {kind} ({c.id}; load {os.getloadavg()[0]:.1f}), ms per candidate wall / CPU: "
            + "; ".join(f"{name} {t[0] * 1e3:.2f} / {t[1] * 1e3:.2f}" for name, t in times.items())
        )
    ours = totals["prefix tree"]
    print(
        f"extrapolated to all {n_candidates:,} candidates (per kind: seconds per candidate x candidates), wall / CPU:"
    )
    for name, t in totals.items():
        if t.any():
            print(
                f"  {name}: {t[0]:.0f} / {t[1]:.0f} s; ratio to the prefix tree timed alongside: "
                f"{t[0] / ours[0]:.1f}x / {t[1] / ours[1]:.1f}x"
            )
    measured = "" if exposure is None else f"; step 1 measured {wall:.0f} / {cpu:.0f} s"
    print(f"  (the peer timed on {args.peer_candidates} candidates per kind{measured})")
    print(f"  largest difference, prefix tree vs one pass per candidate: {max(diffs):.1e} bits")

    positions = tree_positions(bundle, canaries, world, args.references)
    model = bundle.model
    matmul_params = sum(p.numel() for p in model.transformer.h.parameters() if p.dim() == 2)
    matmul_params += model.lm_head.weight.numel()
    flops = 2 * matmul_params * positions
    rate = matmul_flops()
    print(
        f"compute floor: {positions:,} tree positions x {2 * matmul_params / 1e6:.1f} MFLOP = {flops / 1e12:.1f} "
        f"TFLOP; at this machine's measured matmul rate of {rate / 1e9:.0f} GFLOP/s ({torch.get_num_threads()} "
        f"threads, load {os.getloadavg()[0]:.1f}): {flops / rate:.0f} s; the prefix tree timed alongside reached "
        f"{flops / ours[0] / 1e9:.0f} GFLOP/s by wall, {flops / ours[1] / 1e9:.0f} by CPU time"
    )
    if exposure is None:
        return

    summary = exposure.groupby("count").agg(
        n=("canary_id", "size"),
        exposure_rank=("exposure_rank", "mean"),
        exposure_rank_min=("exposure_rank", "min"),
        exposure_skewnorm=("exposure_skewnorm", "mean"),
        rank_1=("rank", lambda r: int((r == 1).sum())),
        median_rank=("rank", "median"),
    )
    with pd.option_context("display.width", 120, "display.max_columns", 20, "display.precision", 2):
        print(
            f"exposure by insertion count (bits; at most log2({args.references}) = "
            f"{math.log2(args.references):.2f} by rank):\n{summary}"
        )


if __name__ == "__main__":
    main()
