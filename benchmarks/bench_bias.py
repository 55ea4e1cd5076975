"""Bias-probe speed: sentence-pair scoring on the default model, and batched masked pseudo-log-likelihood.

    python benchmarks/bench_bias.py [--pairs 1500] [--repeat 3]

1. ``pair_scores`` on ``--pairs`` causal pairs (the world pair set, repeated) with the default model, against the
   peer: one forward pass per sentence at batch size 1, summing the sentence's token log-probabilities. Target:
   1,500 pairs in 10 s or less; prints the time, the ratio and the largest difference.
2. ``pseudo_log_likelihoods`` (one masked copy per scored token, batched) against one forward pass per masked
   token at batch size 1, on a small random BERT over genlab's tokenizer. Target: 5x or faster, values within 1e-5.
"""

from __future__ import annotations

import argparse

import torch
from _common import bench_bundle, best_time

from genlab.models.continuation import pseudo_log_likelihoods
from genlab.models.tiny import tiny_masked_bundle
from genlab.probes.crows_pairs import pair_scores, pairs_path, read_pairs


def sentence_loglik_one_by_one(bundle, sentences: list[str]) -> list[float]:
    tok, model = bundle.tokenizer, bundle.model
    out = []
    with torch.inference_mode():
        for s in sentences:
            ids = torch.tensor([[tok.bos_token_id] + tok(s, add_special_tokens=False)["input_ids"]])
            logp = torch.log_softmax(model(input_ids=ids).logits[0, :-1].float(), dim=-1)
            out.append(float(logp.gather(1, ids[0, 1:, None]).sum()))
    return out


def pll_one_by_one(bundle, sequences: list[list[int]]) -> list[float]:
    tok, model = bundle.tokenizer, bundle.model
    out = []
    with torch.inference_mode():
        for seq in sequences:
            total = 0.0
            for j in range(len(seq)):
                masked = torch.tensor([seq])
                masked[0, j] = tok.mask_token_id
                logits = model(input_ids=masked).logits[0, j]
                total += float(torch.log_softmax(logits.float(), dim=-1)[seq[j]])
            out.append(total)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=1500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    bundle = bench_bundle()
    world = read_pairs(pairs_path("world"))
    pairs = world.sample(n=args.pairs, replace=True, random_state=0).reset_index(drop=True)
    t_ours, scores = best_time(lambda: pair_scores(bundle, pairs, batch_size=64), args.repeat)
    sentences = list(pairs["sent_more"]) + list(pairs["sent_less"])
    t_peer, peer = best_time(lambda: sentence_loglik_one_by_one(bundle, sentences), 1)
    ours = list(scores["score_more"]) + list(scores["score_less"])
    diff = max(abs(a - b) for a, b in zip(ours, peer, strict=True))
    print(f"causal pairs: {args.pairs} pairs in {t_ours:.2f} s (target <= 10 s for 1,500); one sentence at a time "
          f"{t_peer:.2f} s; ratio {t_peer / t_ours:.1f}x; largest difference {diff:.2e}")

    masked = tiny_masked_bundle(hidden_size=128, n_layer=2, n_head=4, n_positions=64)
    tok = masked.tokenizer
    texts = [f"the cat sat on the mat {i % 7} times." for i in range(60)]
    sequences = tok(texts, add_special_tokens=False)["input_ids"]
    positions = [range(len(s)) for s in sequences]
    t_batched, batched = best_time(lambda: pseudo_log_likelihoods(masked, sequences, positions, batch_size=64),
                                   args.repeat)
    t_single, single = best_time(lambda: pll_one_by_one(masked, sequences), 1)
    diff = max(abs(a - b) for a, b in zip(batched, single, strict=True))
    n_tokens = sum(map(len, sequences))
    print(f"masked PLL: {n_tokens} masked tokens, batched {t_batched:.2f} s vs one at a time {t_single:.2f} s: "
          f"ratio {t_single / t_batched:.1f}x (target >= 5x); largest difference {diff:.2e} (target < 1e-5)")


if __name__ == "__main__":
    main()
