"""Fine-tuning throughput and memory: full fine-tuning vs LoRA on the default model, same data, same run.

    python benchmarks/bench_training.py [--steps 20] [--batch-size 8] [--task story]

Both runs go through ``genlab.training.finetuning.finetune`` on the same task data, batch size and step count.
Prints training
tokens/s (non-padding tokens inside optimizer steps; evaluation excluded), peak memory added while training (see
``genlab.training.finetuning.PeakMemory`` for what is measured on CPU and CUDA), and the LoRA/full ratios. It also
prints the
model-FLOPs utilisation against the measured matmul rate of this machine (fp32 on CPU, the model's dtype on CUDA):
6N FLOPs per token for full fine-tuning (forward 2N, backward 4N) and 4N for LoRA (the frozen weights need no weight
gradient, only activation gradients), N = parameters (Kaplan et al. 2020, the 6N rule; embeddings included).
"""

from __future__ import annotations

import argparse

import torch
from _common import bench_bundle, best_time

from genlab.training.finetuning import finetune
from genlab.training.tasks import build_task


def matmul_rate(device: torch.device, dtype: torch.dtype, n: int = 2048) -> float:
    """Measured FLOP/s of one large square matmul (2 n^3 FLOPs) on ``device``: the roofline for MFU."""
    a, b = torch.randn(n, n, device=device, dtype=dtype), torch.randn(n, n, device=device, dtype=dtype)

    def run():
        c = a @ b
        if device.type == "cuda":
            torch.cuda.synchronize()
        return c

    seconds, _ = best_time(run, 5)
    return 2 * n**3 / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--task", default="story", choices=["story", "world_qa"])
    args = parser.parse_args()

    bundle = bench_bundle()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    bundle.model.to(device)
    bundle.device = device
    n_params = bundle.n_parameters()
    task = build_task(args.task, seed=0, n_train=max(200, args.steps * args.batch_size // 2), n_eval=8)
    rate = matmul_rate(device, next(bundle.model.parameters()).dtype)
    print(
        f"task: {args.task}, {len(task.train)} training pairs; {args.steps} steps x batch {args.batch_size}; "
        f"device {device}; measured matmul rate {rate / 1e9:.1f} GFLOP/s"
    )

    for method in ("full", "lora"):  # warm-up: one-time allocations and thread pools would bill the first run
        finetune(bundle, task.train, method, steps=2, batch_size=args.batch_size, progress=False)
    results = {}
    for method, flops_per_token in (("full", 6 * n_params), ("lora", 4 * n_params)):
        _, record = finetune(
            bundle,
            task.train,
            method,
            steps=args.steps,
            batch_size=args.batch_size,
            progress=False,
            logging_steps=args.steps,
        )
        mfu = record.tokens_per_s * flops_per_token / rate
        results[method] = record
        print(
            f"{method:>5}: trainable {record.trainable_params:>9,} ({record.trainable_share:.2%}), "
            f"{record.tokens_per_s:8.0f} tokens/s, peak memory +{record.peak_memory_mb:6.1f} MiB "
            f"({record.memory_kind}), MFU {mfu:.1%} of the measured matmul rate"
        )
    full, lora = results["full"], results["lora"]
    print(
        f"LoRA / full: throughput x{lora.tokens_per_s / full.tokens_per_s:.2f}, "
        f"peak memory x{lora.peak_memory_mb / max(full.peak_memory_mb, 1e-9):.2f}, "
        f"trainable parameters x{lora.trainable_params / full.trainable_params:.4f}"
    )


if __name__ == "__main__":
    main()
