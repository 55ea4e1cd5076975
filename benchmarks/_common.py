"""Shared set-up for the benchmark scripts: the model, the texts, timing and the machine's matmul rate."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch

import genlab  # noqa: F401  (offline before transformers is imported)


def bench_bundle(verbose: bool = True):
    """The embedded default model, or, while it is not built yet, a random GPT-2 of the same shape with a
    tokenizer trained on the corpus (speed depends on the shape, not on the weights)."""
    from genlab.models import ModelLoadError, load_model

    try:
        bundle, what = load_model(device="cpu"), "default model genlab-tiny-world"
    except ModelLoadError:
        from genlab.data.tokenizer import train_tokenizer
        from genlab.models.gpt2 import ModelConfig
        from genlab.models.tiny import tiny_bundle
        from genlab.worlds.text import generate_corpus, load_world

        corpus = generate_corpus(n_train_docs=3000, n_validation_docs=10, n_test_docs=10, seed=0, world=load_world())
        shape = ModelConfig(vocab_size=4096)  # the default model's tokenizer size
        tok = train_tokenizer(corpus.texts("train"), vocab_size=shape.vocab_size)
        bundle = tiny_bundle(tok, n_embd=shape.n_embd, n_layer=shape.n_layer, n_head=shape.n_head,
                             n_positions=shape.n_positions, padding_side="left")
        bundle.provenance = {"name": "random-gpt2-default-shape"}
        what = "random GPT-2 with the default model's shape (default model not built yet)"
    if verbose:
        print(f"model: {what}; {bundle.n_parameters():,} parameters; torch threads: {torch.get_num_threads()}")
    return bundle


def corpus_texts(tokenizer, n: int, min_tokens: int, max_tokens: int, seed: int = 1) -> list[str]:
    """``n`` texts of ``min_tokens``..``max_tokens`` tokens: consecutive corpus documents joined until long enough."""
    from genlab.worlds.text import generate_corpus, load_world

    corpus = generate_corpus(
        n_train_docs=max(3000, 4 * n), n_validation_docs=10, n_test_docs=10, seed=seed, world=load_world()
    )
    texts, current = [], ""
    for doc in corpus.texts("train"):
        current = f"{current} {doc}".strip()
        length = len(tokenizer(current, add_special_tokens=False, verbose=False)["input_ids"])
        if length >= min_tokens:
            if length <= max_tokens:
                texts.append(current)
                if len(texts) == n:
                    return texts
            current = ""
    raise ValueError(f"the corpus gave only {len(texts)} texts of {min_tokens}..{max_tokens} tokens")


def best_time(fn: Callable[[], object], repeat: int = 3) -> tuple[float, object]:
    """Fastest of ``repeat`` runs after one warm-up run (the machine is shared; the minimum is the least noisy)."""
    result = fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def matmul_flops(n: int = 2048, repeat: int = 5) -> float:
    """Measured fp32 FLOP/s of one large square matmul (2 n^3 FLOPs), best of ``repeat``: the roofline."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    seconds, _ = best_time(lambda: a @ b, repeat)
    return 2 * n**3 / seconds
