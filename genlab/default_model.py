"""Build genlab's embedded default model from scratch: corpus -> tokenizer -> pretraining -> manifest.

    python -m genlab.default_model build [--out DIR] [--steps N]   # about 25 min on 2 CPU cores
    python -m genlab.default_model check                            # does the shipped model match the corpus?

The manifest records everything needed to reproduce and audit the model: seeds, steps, the corpus
hash, the world spec hash, validation perplexity and greedy / nucleus samples.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import sys
import time
from dataclasses import asdict
from pathlib import Path

from genlab.paths import data_dir, default_model_dir
from genlab.train import ModelConfig, PretrainConfig, pretrain
from genlab.world import generate_corpus, load_world
from genlab.world.corpus import GENERATOR_VERSION

CORPUS_SEED = 0
DEFAULT_STEPS = 1200


def world_spec_path() -> Path:
    return data_dir() / "world" / "spec.json"


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sample_prompts() -> tuple[str, ...]:
    """Prompts for the manifest's samples: a world person, a generic character, a line of dialogue."""
    return (f"{load_world().people[0].name} woke up", "The baker", "\"Hello, friend,\" said")


def samples(bundle, prompts: tuple[str, ...] | None = None, max_new_tokens: int = 40, seed: int = 0) -> dict[str, list[str]]:
    """Greedy and nucleus (p=0.9) continuations of ``prompts``, decoded without special tokens."""
    import torch

    prompts = prompts or sample_prompts()
    out: dict[str, list[str]] = {}
    for name, kwargs in (("greedy", {"do_sample": False}), ("nucleus_p0.9", {"do_sample": True, "top_p": 0.9, "top_k": 0})):
        torch.manual_seed(seed)
        texts = []
        for prompt in prompts:
            enc = bundle.tokenizer(bundle.tokenizer.bos_token + prompt, return_tensors="pt", add_special_tokens=False)
            ids = bundle.model.generate(**enc.to(bundle.device), max_new_tokens=max_new_tokens,
                                        pad_token_id=bundle.tokenizer.pad_token_id, **kwargs)
            texts.append(bundle.tokenizer.decode(ids[0], skip_special_tokens=True))
        out[name] = texts
    return out


def build(out_dir: Path, steps: int = DEFAULT_STEPS) -> dict:
    """Generate the corpus, train tokenizer and model, and write model + manifest to ``out_dir``."""
    from genlab.metrics.perplexity import perplexity
    from genlab.tokenizer import train_tokenizer

    start = time.time()
    world = load_world()
    world_spec_path().write_text(world.to_json(), encoding="utf-8")
    corpus = generate_corpus(seed=CORPUS_SEED, world=world)
    model_config = ModelConfig()
    tokenizer = train_tokenizer(corpus.texts("train"), vocab_size=model_config.vocab_size,
                                model_max_length=model_config.n_positions)
    config = PretrainConfig(max_steps=steps)
    result = pretrain(corpus.texts("train"), corpus.texts("validation")[:200], tokenizer, model_config, config,
                      output_dir=out_dir)
    val = perplexity(result.bundle, corpus.texts("validation"))
    manifest = {
        "name": "genlab-tiny-world",
        "architecture": "GPT2LMHeadModel",
        "n_parameters": result.metrics["n_parameters"],
        "model_config": asdict(model_config),
        "pretrain_config": asdict(config),
        "corpus": {"seed": CORPUS_SEED, "sha256": corpus.sha256(), "generator_version": GENERATOR_VERSION,
                   "n_train_docs": len(corpus.train), "n_train_words": corpus.n_words("train"),
                   "train_tokens_per_epoch": result.metrics["train_tokens_per_epoch"]},
        "world": {"seed": world.config.seed, "spec_sha256": sha256_text(world.to_json())},
        "tokenizer": {"type": "byte-level BPE", "vocab_size": len(tokenizer), "bos_eos": tokenizer.eos_token,
                      "pad": tokenizer.pad_token},
        "validation": {"perplexity": round(val.perplexity, 4), "n_docs": len(corpus.validation),
                       "n_tokens": val.n_tokens, "method": "genlab.metrics.perplexity, BOS prepended, token-weighted"},
        "train_loss_final": result.metrics["train_loss"],
        "train_runtime_s": round(result.metrics["train_runtime_s"], 1),
        "samples": samples(result.bundle),
        "environment": {"python": platform.python_version(), "torch": __import__("torch").__version__,
                        "transformers": __import__("transformers").__version__},
        "build_wall_s": round(time.time() - start, 1),
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    for junk in ("training_args.bin",):
        (out_dir / junk).unlink(missing_ok=True)
    return manifest


def check(model_dir: Path | None = None) -> list[str]:
    """Problems between the shipped model's manifest and what the code generates now (empty: consistent)."""
    model_dir = model_dir or default_model_dir()
    manifest = json.loads((model_dir / "manifest.json").read_text())
    world = load_world()
    problems = []
    if manifest["world"]["spec_sha256"] != sha256_text(world.to_json()):
        problems.append("the world spec changed since the default model was built")
    if world_spec_path().read_text(encoding="utf-8") != world.to_json():
        problems.append(f"{world_spec_path()} is stale: rebuild the model or rewrite the spec")
    corpus = generate_corpus(seed=manifest["corpus"]["seed"], world=world)
    if manifest["corpus"]["sha256"] != corpus.sha256():
        problems.append("the corpus generator's output changed since the default model was built; "
                        "run `make default-model` to rebuild")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m genlab.default_model", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="rebuild the default model from scratch")
    b.add_argument("--out", type=Path, default=None, help="output folder (default: the embedded model's folder)")
    b.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    sub.add_parser("check", help="check the shipped model against the current corpus generator")
    args = parser.parse_args(argv)
    if args.command == "build":
        out = args.out or default_model_dir()
        if args.out is None and (out / "model.safetensors").exists():
            print(f"replacing the embedded model in {out}", file=sys.stderr)
        out.mkdir(parents=True, exist_ok=True)
        manifest = build(out, steps=args.steps)
        print(json.dumps({k: manifest[k] for k in ("validation", "train_runtime_s", "samples")}, indent=1))
        return 0
    problems = check()
    for p in problems:
        print("problem:", p)
    print("consistent" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
