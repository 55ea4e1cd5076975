"""Perplexity throughput: genlab.metrics.perplexity vs the loop of ``evaluate``'s perplexity measurement.

    python benchmarks/bench_perplexity.py [--n 500] [--repeat 3]

Same model, same texts (``--n`` texts of about 200 tokens), same run. The peer is a port of the loop in
huggingface/evaluate ``measurements/perplexity/perplexity.py`` (batch 16, BOS added, right padding, full logits,
cross-entropy on the transposed logits). Upstream pads every text to the longest of *all* texts; the port pads to
the longest of each batch (the kinder variant, used for the headline ratio); the upstream padding is timed too.
Prints tokens/s, the ratio (target >= 2.5), the largest per-text difference (target < 1e-4) and the share of the
machine's fp32 matmul rate that 2 x parameters FLOPs per token reaches (target >= 60%).
"""

from __future__ import annotations

import argparse
import copy
import time

import numpy as np
import torch
from _common import bench_bundle, best_time, corpus_texts, matmul_flops

from genlab.metrics.perplexity import perplexity


def evaluate_loop(
    model, tokenizer, texts: list[str], batch_size: int = 16, pad_to_batch_max: bool = True, device="cpu"
) -> list[float]:
    """Port of evaluate's perplexity loop (add_start_token=True). Returns per-text perplexities."""
    from torch.nn import CrossEntropyLoss

    tokenizer = copy.copy(tokenizer)
    tokenizer.padding_side = "right"  # the hub GPT-2 tokenizer evaluate is used with pads on the right

    def encode(batch):
        return tokenizer(
            batch, add_special_tokens=False, padding=True, return_tensors="pt", return_attention_mask=True
        ).to(device)

    everything = None if pad_to_batch_max else encode(texts)
    ppls = []
    loss_fct = CrossEntropyLoss(reduction="none")
    for start_index in range(0, len(texts), batch_size):
        end_index = min(start_index + batch_size, len(texts))
        if everything is None:
            enc = encode(texts[start_index:end_index])
            encoded_batch, attn_mask = enc["input_ids"], enc["attention_mask"]
        else:
            encoded_batch = everything["input_ids"][start_index:end_index]
            attn_mask = everything["attention_mask"][start_index:end_index]

        bos_tokens_tensor = torch.tensor([[tokenizer.bos_token_id]] * encoded_batch.size(dim=0)).to(device)
        encoded_batch = torch.cat([bos_tokens_tensor, encoded_batch], dim=1)
        attn_mask = torch.cat([torch.ones(bos_tokens_tensor.size(), dtype=torch.int64).to(device), attn_mask], dim=1)
        labels = encoded_batch

        with torch.no_grad():
            out_logits = model(encoded_batch, attention_mask=attn_mask).logits

        shift_logits = out_logits[..., :-1, :].contiguous()
        shift_labels = labels[..., 1:].contiguous()
        shift_attention_mask_batch = attn_mask[..., 1:].contiguous()

        perplexity_batch = torch.exp(
            (loss_fct(shift_logits.transpose(1, 2), shift_labels) * shift_attention_mask_batch).sum(1)
            / shift_attention_mask_batch.sum(1)
        )
        ppls += perplexity_batch.tolist()
    return ppls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=500, help="number of texts")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per contender (the fastest counts)")
    parser.add_argument("--batch-size", type=int, default=16, help="genlab's windows per forward pass")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads (default: torch's choice); 1 gives steadier numbers on a machine shared with other jobs",
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    bundle = bench_bundle()
    model, tok = bundle.model, bundle.tokenizer
    texts = corpus_texts(tok, args.n, 170, 250)
    n_tokens = sum(len(tok(t, add_special_tokens=False)["input_ids"]) + 1 for t in texts)  # + BOS
    print(f"texts: {len(texts)}, {n_tokens:,} tokens with BOS ({n_tokens / len(texts):.0f} per text)")

    # Alternate the contenders, so that a change in the machine's load hits both; the fastest run of each counts.
    t_peer = t_ours = float("inf")
    peer = ours = None
    for _ in range(args.repeat + 1):  # the first round warms up
        start = time.perf_counter()
        peer = evaluate_loop(model, tok, texts)
        t_peer = min(t_peer, time.perf_counter() - start)
        start = time.perf_counter()
        ours = perplexity(bundle, texts, batch_size=args.batch_size)
        t_ours = min(t_ours, time.perf_counter() - start)
    t_upstream, upstream = best_time(lambda: evaluate_loop(model, tok, texts, pad_to_batch_max=False), 1)
    peak = matmul_flops()

    rel = np.abs(np.array(ours.per_text) / np.array(peer) - 1)
    diff = float(np.max(np.abs(np.array(ours.per_text) - np.array(peer))))
    flops_per_token = 2 * bundle.n_parameters()
    print(f"evaluate loop, batch max padding : {n_tokens / t_peer:9,.0f} tokens/s  ({t_peer:.2f} s)")
    print(f"evaluate loop, upstream padding  : {n_tokens / t_upstream:9,.0f} tokens/s  ({t_upstream:.2f} s)")
    print(f"genlab perplexity                : {n_tokens / t_ours:9,.0f} tokens/s  ({t_ours:.2f} s)")
    print(
        f"ratio genlab / evaluate          : {t_peer / t_ours:.2f}x  (vs upstream padding {t_upstream / t_ours:.2f}x;"
        " target >= 2.5x)"
    )
    print(
        f"per-text perplexity difference   : max relative {rel.max():.1e} (target < 1e-4), max absolute {diff:.1e}; "
        f"corpus {ours.perplexity:.4f}"
    )
    print(f"fp32 matmul rate (2048^2 square) : {peak / 1e9:.1f} GFLOP/s")
    for name, seconds in (("genlab", t_ours), ("evaluate loop", t_peer)):
        achieved = n_tokens / seconds * flops_per_token
        print(
            f"roofline, {name:<23}: {achieved / 1e9:.1f} GFLOP/s = {100 * achieved / peak:.0f}% of the matmul rate"
            " (2 x params FLOPs per token; target >= 60% for genlab)"
        )
    ceiling = peak / flops_per_token
    print(
        f"ceiling at 100% of the matmul rate: {ceiling:,.0f} tokens/s = {ceiling * t_peer / n_tokens:.2f}x the "
        "evaluate loop (attention and element-wise work not counted)"
    )


if __name__ == "__main__":
    main()
