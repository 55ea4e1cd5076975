"""Build genlab's embedded default model from scratch: corpus -> tokenizer -> pretraining -> manifest.

    python -m genlab.recipes.default_model build [--out DIR] [--steps N] [--fresh]  # about 80 min on 2 cores, resumable
    python -m genlab.recipes.default_model measure [--model DIR]            # world validity into the manifest (~10 min)
    python -m genlab.recipes.default_model check [--quick]                  # matches the corpus? meets its targets?

The build checkpoints every ``SAVE_STEPS`` steps under ``build/default-model-checkpoints/``; run the same
command again after an interruption and it resumes from the newest checkpoint (of the same corpus). ``--fresh``
deletes those checkpoints first: without it, a second build after a finished one resumes at its last step and
trains nothing new.

The manifest records everything needed to reproduce and audit the model: seeds, steps, the corpus
hash, the world spec hash, validation perplexity and greedy / nucleus samples.
"""

from __future__ import annotations

import hashlib
import json
import platform
import shutil
import sys
import time
from dataclasses import asdict
from pathlib import Path

from genlab.core.paths import data_dir, default_model_dir
from genlab.models.loading import DEFAULT_MODEL
from genlab.recipes.base import Command, Option, ShippedModel
from genlab.training.pretraining import pretrain
from genlab.worlds.text import generate_corpus, load_world
from genlab.worlds.text_corpus import GENERATOR_VERSION

CORPUS_SEED = 0
DEFAULT_STEPS = 1200  # 1200 x 32 blocks x 256 tokens = 9.8M tokens, about 3.4 passes over the 2.85M-token corpus
SAVE_STEPS = 100


def recipe(steps: int = DEFAULT_STEPS):
    """The default model's recipe: (ModelConfig, PretrainConfig). Packed 256-token blocks, no dropout (the
    model must memorise planted facts), peak learning rate 2e-3 with cosine decay."""
    from genlab.models.gpt2 import ModelConfig
    from genlab.training.pretraining import PretrainConfig

    return ModelConfig(vocab_size=4096), PretrainConfig(
        max_steps=steps,
        batch_size=32,
        learning_rate=2e-3,
        warmup_steps=100,
        weight_decay=0.1,
        eval_steps=200,
        save_steps=SAVE_STEPS,
        packing=True,
    )


def checkpoint_root() -> Path:
    from genlab.core.paths import REPO_DIR

    return REPO_DIR / "build" / "default-model-checkpoints"


def world_spec_path() -> Path:
    return data_dir() / "world" / "spec.json"


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sample_prompts() -> tuple[str, ...]:
    """Prompts for the manifest's samples: a world person, a generic character, a line of dialogue."""
    return (f"{load_world().people[0].name} woke up", "The baker", "\"Hello, friend,\" said")


def samples(bundle, prompts: tuple[str, ...] | None = None, max_new_tokens: int = 40,
            seed: int = 0) -> dict[str, list[str]]:
    """Greedy and nucleus (p=0.9) continuations of ``prompts``, decoded without special tokens."""
    import torch

    prompts = prompts or sample_prompts()
    out: dict[str, list[str]] = {}
    settings = (("greedy", {"do_sample": False}), ("nucleus_p0.9", {"do_sample": True, "top_p": 0.9, "top_k": 0}))
    for name, kwargs in settings:
        torch.manual_seed(seed)
        texts = []
        for prompt in prompts:
            enc = bundle.tokenizer(bundle.tokenizer.bos_token + prompt, return_tensors="pt", add_special_tokens=False)
            ids = bundle.model.generate(**enc.to(bundle.device), max_new_tokens=max_new_tokens,
                                        pad_token_id=bundle.tokenizer.pad_token_id, **kwargs)
            texts.append(bundle.tokenizer.decode(ids[0], skip_special_tokens=True))
        out[name] = texts
    return out


def build(out_dir: Path, steps: int = DEFAULT_STEPS, checkpoints: Path | None = None, fresh: bool = False) -> dict:
    """Generate the corpus, train tokenizer and model, and write model + manifest to ``out_dir``.

    ``checkpoints``: where resumable training checkpoints go (default ``checkpoint_root()``). Training resumes
    from the newest one there (a folder left by a build of another corpus is refused, not mixed in);
    ``fresh=True`` deletes the folder first and trains from scratch."""
    from genlab.data.tokenizer import train_tokenizer
    from genlab.metrics.perplexity import perplexity

    start = time.time()
    world = load_world()
    world_spec_path().write_text(world.to_json(), encoding="utf-8")
    corpus = generate_corpus(seed=CORPUS_SEED, world=world)
    model_config, config = recipe(steps)
    checkpoints = Path(checkpoints or checkpoint_root())
    if fresh and checkpoints.exists():
        shutil.rmtree(checkpoints)
    earlier = sorted(checkpoints.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    if earlier:
        print(f"resuming from {earlier[-1]} (pass --fresh to train from scratch)", file=sys.stderr)
    checkpoints.mkdir(parents=True, exist_ok=True)
    stamp = checkpoints / "corpus.sha256"
    if stamp.exists() and stamp.read_text().strip() != corpus.sha256():
        raise RuntimeError(f"{checkpoints} holds checkpoints of another corpus; delete the folder to start afresh")
    stamp.write_text(corpus.sha256() + "\n")
    # the tokenizer never sees a canary or planted PII, so no secret can become a vocabulary entry
    tokenizer = train_tokenizer(corpus.tokenizer_texts(), vocab_size=model_config.vocab_size,
                                model_max_length=model_config.n_positions)
    result = pretrain(corpus.texts("train"), corpus.texts("validation")[:200], tokenizer, model_config, config,
                      output_dir=out_dir, checkpoint_dir=checkpoints, overwrite=True)  # the build's own folder
    val = perplexity(result.bundle, corpus.texts("validation"))
    manifest = {
        "name": "genlab-tiny-world",
        "architecture": "GPT2LMHeadModel",
        "n_parameters": result.metrics["n_parameters"],
        "model_config": asdict(model_config),
        "pretrain_config": asdict(config),
        "corpus": {"seed": CORPUS_SEED, "sha256": corpus.sha256(), "generator_version": GENERATOR_VERSION,
                   "n_train_docs": len(corpus.train), "n_train_words": corpus.n_words("train"),
                   "train_tokens_per_epoch": result.metrics["train_tokens_per_epoch"],
                   "epochs": round(steps * config.batch_size * model_config.n_positions
                                   / result.metrics["train_tokens_per_epoch"], 2)},
        "recipe": "packed 256-token blocks; tokenizer trained on documents without canaries or PII; digits split; "
                  "no dropout; AdamW, peak lr 2e-3, 100 warm-up steps, cosine decay",
        "world": {"seed": world.config.seed, "spec_sha256": sha256_text(world.to_json())},
        "tokenizer": {"type": "byte-level BPE, digits split one by one", "vocab_size": len(tokenizer),
                      "bos_eos": tokenizer.eos_token, "pad": tokenizer.pad_token,
                      "trained_on": "training documents without canaries or planted PII"},
        "validation": {"perplexity": round(val.perplexity, 4), "n_docs": len(corpus.validation),
                       "n_tokens": val.n_tokens, "method": "genlab.metrics.perplexity, BOS prepended, token-weighted"},
        "train_loss_final": result.metrics["train_loss"],
        "train_runtime_s": round(result.metrics["train_runtime_s"], 1),
        "resumed_from": result.metrics["resumed_from"],
        "samples": samples(result.bundle),
        "environment": {"python": platform.python_version(), "torch": __import__("torch").__version__,
                        "transformers": __import__("transformers").__version__},
        "build_wall_s": round(time.time() - start, 1),
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    for junk in ("training_args.bin",):
        (out_dir / junk).unlink(missing_ok=True)
    return manifest


def measure(model_dir: Path | None = None, canaries_per_count: int | None = 2, n_references: int = 10_000) -> dict:
    """Measure what the model at ``model_dir`` learned of its world (``genlab.probes.world_validity``),
    write the tables to ``model_dir/validity/*.csv`` and the summary into the manifest's ``validity`` entry."""
    from genlab.models import load_model
    from genlab.probes.world_validity import validity_summary, world_validity

    model_dir = Path(model_dir or default_model_dir())
    bundle = load_model(str(model_dir))
    corpus = generate_corpus(seed=CORPUS_SEED, world=load_world())
    start = time.time()
    results = world_validity(bundle, corpus, canaries_per_count=canaries_per_count, n_references=n_references)
    summary = validity_summary(results)
    summary["settings"] = {"canaries_per_count": canaries_per_count, "n_references": n_references,
                           "wall_s": round(time.time() - start, 1)}
    tables = model_dir / "validity"
    tables.mkdir(exist_ok=True)
    for name in ("facts_by_count", "associations", "exposure"):
        results[name].round(6).to_csv(tables / f"{name}.csv", index=False)
    path = model_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["validity"] = summary
    path.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return summary


def target_problems(model_dir: Path | None = None) -> list[str]:
    """The targets the manifest's measured validity misses (empty: all met); a missing measurement is a problem."""
    model_dir = Path(model_dir or default_model_dir())
    validity = json.loads((model_dir / "manifest.json").read_text()).get("validity")
    if validity is None:
        return ["the manifest holds no validity measurement: run `python -m genlab.recipes.default_model measure`"]
    return [f"target missed: {name}" for name, met in validity["targets_met"].items() if not met]


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


def _build(out: Path, *, fresh: bool = False, steps: int = DEFAULT_STEPS) -> dict:
    """The build command: build into ``out``, then measure what the model learned of its world."""
    if out == default_model_dir() and (out / "model.safetensors").exists():
        print(f"replacing the embedded model in {out}", file=sys.stderr)
    out.mkdir(parents=True, exist_ok=True)
    manifest = build(out, steps=steps, fresh=fresh)
    print(json.dumps({k: manifest[k] for k in ("validation", "train_runtime_s", "samples")}, indent=1))
    manifest["validity"] = measure(out)
    return manifest


def _check(folder: Path, *, quick: bool = False) -> list[str]:
    return check(folder) + ([] if quick else target_problems(folder))


def _measure(args) -> int:
    print(json.dumps(measure(args.model, canaries_per_count=args.canaries_per_count or None), indent=1))
    return 0


RECIPE = ShippedModel(
    name=DEFAULT_MODEL,
    module="genlab.recipes.default_model",
    description=__doc__.split("\n")[0],
    build_fn=_build,
    check_fn=_check,
    build_options=(Option(("--steps",), {"type": int, "default": DEFAULT_STEPS}),),
    printed=("validity",),
    commands=(
        Command("measure", "measure what the model learned of its world; write it into the manifest", _measure, (
            Option(("--model",), {"type": Path, "default": None,
                                  "help": "model folder (default: the embedded model)"}),
            Option(("--canaries-per-count",), {"type": int, "default": 2,
                                               "help": "canaries per kind and count (0: all)"}),
        )),
    ),
)  # fmt: skip
main = RECIPE.main

if __name__ == "__main__":
    raise SystemExit(main())
