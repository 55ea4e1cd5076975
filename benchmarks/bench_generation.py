"""Generation throughput for evaluation sweeps: genlab.generate (batched) vs one prompt at a time.

    python benchmarks/bench_generation.py [--n-prompts 128] [--max-new-tokens 64] [--batch-size 64]

Same model, same prompts (the opening words of corpus documents, BOS first), greedy decoding, same run. The
peer calls ``model.generate`` once per prompt, unpadded, as a notebook loop would. Prints new tokens/s of both,
the ratio (target >= 10x) and whether every greedy continuation is identical (it must be). Also times
contrastive search (genlab's ``custom_generate``) batched, for reference.
"""

from __future__ import annotations

import argparse
import time

import torch
from _common import bench_bundle

from genlab.generation.decoder import generate


def one_at_a_time(bundle, prompts: list[str], max_new_tokens: int) -> list[list[int]]:
    """The peer: ``model.generate`` per prompt, no padding; new tokens up to (not including) EOS."""
    tok, out = bundle.tokenizer, []
    for prompt in prompts:
        ids = torch.tensor([[tok.bos_token_id] + tok(prompt, add_special_tokens=False)["input_ids"]])
        seq = bundle.model.generate(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            do_sample=False,
            max_new_tokens=max_new_tokens,
            min_new_tokens=0,
            eos_token_id=tok.eos_token_id,
            pad_token_id=tok.pad_token_id,
        )[0, ids.shape[1] :].tolist()
        out.append(seq[: seq.index(tok.eos_token_id)] if tok.eos_token_id in seq else seq)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-prompts", type=int, default=128)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads (default: torch's choice); 1 gives steadier numbers on a machine shared with other jobs",
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    from genlab.worlds.text import generate_corpus, load_world

    bundle = bench_bundle()
    corpus = generate_corpus(n_train_docs=3000, n_validation_docs=10, n_test_docs=10, seed=2, world=load_world())
    # Prompts of 3 to 12 words: the lengths differ, so batches need padding.
    prompts = [" ".join(doc.split()[: 3 + i % 10]) for i, doc in enumerate(corpus.texts("train")[: args.n_prompts])]

    start = time.perf_counter()
    peer = one_at_a_time(bundle, prompts, args.max_new_tokens)
    t_peer = time.perf_counter() - start
    start = time.perf_counter()
    ours = generate(
        bundle, prompts, "greedy", max_new_tokens=args.max_new_tokens, batch_size=args.batch_size, progress=False
    )
    t_ours = time.perf_counter() - start
    start = time.perf_counter()
    cs = generate(
        bundle, prompts, "contrastive", max_new_tokens=args.max_new_tokens, batch_size=args.batch_size, progress=False
    )
    t_cs = time.perf_counter() - start

    n_peer, n_ours = sum(map(len, peer)), int(ours["n_new_tokens"].sum())
    same = sum(a == b for a, b in zip(peer, ours["tokens"], strict=True))
    print(
        f"prompts: {len(prompts)}, max_new_tokens {args.max_new_tokens}, batch size {args.batch_size}; "
        f"{ours['finished'].mean():.0%} stopped at EOS"
    )
    print(f"one prompt at a time (model.generate): {n_peer / t_peer:9,.0f} new tokens/s  ({t_peer:.1f} s)")
    print(f"genlab.generate, batched             : {n_ours / t_ours:9,.0f} new tokens/s  ({t_ours:.1f} s)")
    print(f"ratio                                : {t_peer / t_ours * n_ours / n_peer:.1f}x  (target >= 10x)")
    print(f"identical greedy continuations       : {same}/{len(prompts)}")
    print(
        f"contrastive search (alpha 0.6, k 5)  : {cs['n_new_tokens'].sum() / t_cs:9,.0f} new tokens/s batched "
        f"({t_cs:.1f} s)"
    )


if __name__ == "__main__":
    main()
