"""The suite runner: its generation throughput against one prompt at a time, and a cached rerun against a fresh run.

    python benchmarks/bench_suite.py [--n-prompts 128] [--max-new-tokens 64] [--batch-size 64]

Same model, same prompts, greedy decoding, one run. The peer calls ``model.generate`` once per prompt
(``bench_generation.one_at_a_time``). The runner's time is its model step for the ``decoding`` suite: batched
generation *and* scoring every continuation (its log-probability under the model), so the ratio understates the
generation speed-up. Then the same run again, every item from the cache. Prints new tokens/s of both, the ratios
(target >= 10x for generation) and whether the greedy continuations agree.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch
from _common import bench_bundle
from bench_generation import one_at_a_time

from genlab.suites import SUITES, run_suite


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-prompts", type=int, default=128)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    from genlab.worlds.text import generate_corpus, load_world

    bundle = bench_bundle()
    corpus = generate_corpus(n_train_docs=3000, n_validation_docs=10, n_test_docs=10, seed=2, world=load_world())
    prompts = [" ".join(doc.split()[: 3 + i % 10]) for i, doc in enumerate(corpus.texts("train")[: args.n_prompts])]
    prompts = list(dict.fromkeys(prompts))  # one item per distinct prompt
    settings = {"decoding": {"configs": ["greedy"], "max_new_tokens": args.max_new_tokens, "coherence": False,
                             "n_resamples": 100}}  # fmt: skip

    start = time.perf_counter()
    peer = one_at_a_time(bundle, prompts, args.max_new_tokens)
    t_peer = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "prompts.txt").write_text("\n".join(prompts) + "\n", encoding="utf-8")
        kw = dict(prompts=Path(tmp) / "prompts.txt", out_dir=Path(tmp) / "out", settings=settings,
                  batch_size=args.batch_size, progress=False)  # fmt: skip
        fresh = run_suite(bundle, SUITES["decoding"], **kw)
        cached = run_suite(bundle, SUITES["decoding"], **kw)
        records = [json.loads(x) for x in (Path(tmp) / "out" / "samples.jsonl").read_text().splitlines()]
    tokens = [bundle.tokenizer(r["output"], add_special_tokens=False)["input_ids"] for r in records]
    t_model = fresh["timings"]["decoding_model_s"]
    n_peer, n_ours = sum(map(len, peer)), sum(r["scores"]["n_tokens"] for r in records)
    same = sum(a == b for a, b in zip(peer, tokens, strict=True))
    print(f"prompts: {len(prompts)}, max_new_tokens {args.max_new_tokens}, batch size {args.batch_size}")
    print(f"one prompt at a time (model.generate)     : {n_peer / t_peer:9,.0f} new tokens/s  ({t_peer:.1f} s)")
    print(f"suite runner (generate + score, batched)  : {n_ours / t_model:9,.0f} new tokens/s  ({t_model:.1f} s)")
    print(f"ratio                                     : {t_peer / t_model * n_ours / n_peer:.1f}x  (target >= 10x)")
    print(f"identical greedy continuations (re-tokenised text): {same}/{len(prompts)}")
    print(
        f"fresh run {fresh['timings']['total_s']:.2f} s, cached rerun {cached['timings']['total_s']:.2f} s "
        f"(cache hits {cached['cache_hits']}, misses {cached['cache_misses']}): "
        f"{fresh['timings']['total_s'] / cached['timings']['total_s']:.1f}x"
    )


if __name__ == "__main__":
    main()
