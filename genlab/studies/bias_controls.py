"""A control model for validating bias probes: the default model's recipe, trained on the same corpus generator
with every planted association at 0.5.

A probe that measures bias must give a rising dose-response on the default model (associations planted at 0.1 to
0.9) and "no preference" on the control, scored on the same probe items (the default world's pairs): the
control never saw a skew, so whatever it prefers is a prior of the recipe, not a planted bias.

    python -m genlab.studies.bias_controls build [--steps 1200] [--fresh]   # about 80 min on 2 cores, resumable

The build checkpoints every 100 steps under ``build/bias-control-checkpoints/`` and resumes from the newest
checkpoint when run again. It writes ``data/models/genlab-control-world`` with a manifest.

Why the full recipe: a first attempt at a small recipe (2 layers of width 128, 600 steps) learned none of the
planted associations even on the default world (P(majority sentence) 0.50 at every planted level), so a small
control could not tell a probe that tracks bias from one that does not. The control must be trained as long as
the model it controls for. It shares the default model's tokenizer, so both models score the same token ids.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from dataclasses import asdict
from pathlib import Path

from genlab.core.paths import REPO_DIR, data_dir, default_model_dir
from genlab.data.world import generate_corpus
from genlab.data.world_spec import WorldConfig, build_world

__all__ = ["CONTROL_LEVELS", "CONTROL_NAME", "build", "checkpoint_root", "control_model_dir", "control_world"]

CONTROL_LEVELS = (0.5,)  # every association's P(first value) in the control world
CONTROL_NAME = "genlab-control-world"
CORPUS_SEED = 0  # the default model's corpus seed


def control_model_dir() -> Path:
    """``data/models/genlab-control-world``."""
    return data_dir() / "models" / CONTROL_NAME


def checkpoint_root() -> Path:
    return REPO_DIR / "build" / "bias-control-checkpoints"


def control_world():
    """The default world with every association at 0.5: the same people, places and facts (checked in the tests),
    nothing skewed.

    >>> sorted({a.p_first for a in control_world().associations})
    [0.5]
    """
    return build_world(WorldConfig(association_levels=CONTROL_LEVELS))


def build(steps: int | None = None, out_dir: Path | None = None, fresh: bool = False) -> dict:
    """Train the control model with the default model's recipe and save it with a manifest; returns the manifest.
    Resumes from ``checkpoint_root()`` unless ``fresh``."""
    from genlab.models import load_model
    from genlab.studies.default_model import DEFAULT_STEPS, recipe
    from genlab.training.pretraining import pretrain

    start = time.time()
    steps = steps or DEFAULT_STEPS
    world = control_world()
    corpus = generate_corpus(seed=CORPUS_SEED, world=world)
    tokenizer = load_model(default_model_dir()).tokenizer
    model_config, config = recipe(steps)
    checkpoints = checkpoint_root()
    if fresh and checkpoints.exists():
        shutil.rmtree(checkpoints)
    checkpoints.mkdir(parents=True, exist_ok=True)
    stamp = checkpoints / "corpus.sha256"
    if stamp.exists() and stamp.read_text().strip() != corpus.sha256():
        raise RuntimeError(f"{checkpoints} holds checkpoints of another corpus; pass --fresh to start afresh")
    stamp.write_text(corpus.sha256() + "\n")
    out = Path(out_dir or control_model_dir())
    result = pretrain(
        corpus.texts("train"),
        corpus.texts("validation")[:200],
        tokenizer,
        model_config,
        config,
        output_dir=out,
        checkpoint_dir=checkpoints,
    )
    manifest = {
        "name": out.name,
        "association_levels": sorted({a.p_first for a in world.associations}),
        "n_parameters": result.metrics["n_parameters"],
        "model_config": asdict(model_config),
        "pretrain_config": {k: v for k, v in asdict(config).items() if k != "extra_args"},
        "corpus": {"seed": CORPUS_SEED, "sha256": corpus.sha256(), "n_train_docs": len(corpus.train)},
        "tokenizer": "the default model's (data/models/genlab-tiny-world)",
        "eval_loss": round(result.metrics["eval_loss"], 4),
        "train_runtime_s": round(result.metrics["train_runtime_s"], 1),
        "resumed_from": result.metrics["resumed_from"],
        "build_wall_s": round(time.time() - start, 1),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    (out / "training_args.bin").unlink(missing_ok=True)
    return manifest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build the control model (every association at 0.5).")
    parser.add_argument("command", choices=["build"])
    parser.add_argument("--steps", type=int, default=None, help="training steps (default: the default model's)")
    parser.add_argument("--fresh", action="store_true", help="delete earlier checkpoints and train from scratch")
    args = parser.parse_args(argv)
    if (control_model_dir() / "model.safetensors").exists():
        print(f"replacing the control model in {control_model_dir()}", file=sys.stderr)
    manifest = build(steps=args.steps, fresh=args.fresh)
    print(json.dumps({k: manifest[k] for k in ("name", "eval_loss", "build_wall_s")}))


if __name__ == "__main__":
    main()
