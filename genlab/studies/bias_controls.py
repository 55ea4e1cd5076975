"""Two small models for validating bias probes: one trained on the genlab corpus (associations planted at 0.1 to
0.9) and a control trained on the same corpus generator with every association at 0.5, from the same small recipe.

A probe that measures bias must give a rising dose-response on the planted model and "no preference" on the
control, scored on the same probe items (the default world's pairs): the control never saw a skew, so whatever
it prefers is a prior, not a planted bias. The models are built once (``python -m genlab.studies.bias_controls
build``, a few minutes on 2 CPU cores) into ``data/models/genlab-small-{planted,control}`` with a manifest.

    python -m genlab.studies.bias_controls build [--steps 600]

The recipe is the default model's at a smaller size (``small_recipe``): the same tokenizer (the default model's,
so both models share one vocabulary), packed 256-token blocks, 2 layers of width 128, a quarter of the training
documents.

**Status.** At 600 steps (14 minutes on a shared 2-core machine) the planted small model learned none of the
associations: on the world pairs its P(majority sentence) was 0.50 at every planted level (slope 0.00
[-0.01, 0.01] for gender), so it cannot tell a probe that tracks bias from one that does not, and no small models
are shipped. The default model needed most of its 1,200 steps at width 256 to learn them; the next attempt should
use that schedule (a background build of about an hour per arm).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, replace
from pathlib import Path

from genlab.core.paths import data_dir, default_model_dir
from genlab.data.world import generate_corpus, load_world
from genlab.data.world_spec import WorldConfig, build_world

__all__ = ["ARMS", "CORPUS_DOCS", "build", "control_world", "model_dir", "small_recipe"]

#: arm -> association levels of its world: the planted one (the default world) and the control (all 0.5).
ARMS = {"planted": None, "control": (0.5,)}
CORPUS_DOCS = 6_000  # training documents of each arm's corpus
CORPUS_SEED = 0


def model_dir(arm: str) -> Path:
    """``data/models/genlab-small-{arm}``."""
    if arm not in ARMS:
        raise ValueError(f"arm must be one of {sorted(ARMS)}, got {arm!r}")
    return data_dir() / "models" / f"genlab-small-{arm}"


def control_world():
    """The default world with every association at 0.5: the same people, places and facts (checked in the tests),
    nothing skewed.

    >>> sorted({a.p_first for a in control_world().associations})
    [0.5]
    """
    return build_world(WorldConfig(association_levels=ARMS["control"]))


def small_recipe(steps: int = 600):
    """(ModelConfig, PretrainConfig) of the small recipe: width 128, 2 layers, 4 heads, 256 positions, batch 16."""
    from genlab.studies.default_model import recipe

    model_config, config = recipe(steps)
    return (replace(model_config, n_embd=128, n_layer=2, n_head=4),
            replace(config, max_steps=steps, batch_size=16, warmup_steps=50, eval_steps=steps, save_steps=0,
                    progress=False))


def build(arm: str, steps: int = 600, seed: int = 0) -> dict:
    """Train the small model of ``arm`` and save it with a manifest; returns the manifest."""
    from genlab.models import load_model
    from genlab.training.pretraining import pretrain

    start = time.time()
    world = load_world() if ARMS[arm] is None else control_world()
    corpus = generate_corpus(n_train_docs=CORPUS_DOCS, n_validation_docs=200, n_test_docs=10, seed=CORPUS_SEED,
                             world=world)
    tokenizer = load_model(default_model_dir()).tokenizer
    model_config, config = small_recipe(steps)
    config = replace(config, seed=seed)
    out = model_dir(arm)
    result = pretrain(corpus.texts("train"), corpus.texts("validation"), tokenizer, model_config, config,
                      output_dir=out)
    manifest = {
        "name": out.name, "arm": arm, "association_levels": sorted({a.p_first for a in world.associations}),
        "n_parameters": result.metrics["n_parameters"], "model_config": asdict(model_config),
        "pretrain_config": {k: v for k, v in asdict(config).items() if k != "extra_args"},
        "corpus": {"seed": CORPUS_SEED, "sha256": corpus.sha256(), "n_train_docs": len(corpus.train)},
        "tokenizer": "the default model's (data/models/genlab-tiny-world)",
        "eval_loss": round(result.metrics["eval_loss"], 4),
        "train_runtime_s": round(result.metrics["train_runtime_s"], 1), "build_wall_s": round(time.time() - start, 1),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    (out / "training_args.bin").unlink(missing_ok=True)
    return manifest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build the small planted and control models for bias probes.")
    parser.add_argument("command", choices=["build"])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--arm", choices=sorted(ARMS), action="append")
    args = parser.parse_args(argv)
    for arm in args.arm or sorted(ARMS, reverse=True):
        manifest = build(arm, steps=args.steps)
        print(json.dumps({k: manifest[k] for k in ("name", "eval_loss", "build_wall_s")}))


if __name__ == "__main__":
    main()
