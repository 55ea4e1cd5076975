"""A control model for validating bias probes: the default model's recipe, trained on the same corpus generator
with every planted association at 0.5.

A probe that measures bias must give a rising dose-response on the default model (associations planted at 0.1 to
0.9) and "no preference" on the control, scored on the same probe items (the default world's pairs): the
control never saw a skew, so whatever it prefers is a prior of the recipe, not a planted bias.

    python -m genlab.recipes.bias_controls build [--steps 1200] [--fresh]   # about 80 min on 2 cores, resumable

The build checkpoints every 100 steps under ``build/bias-control-checkpoints/`` and resumes from the newest
checkpoint when run again. It writes ``data/models/genlab-control-world`` with a manifest.

Why the full recipe: a first attempt at a small recipe (2 layers of width 128, 600 steps) learned none of the
planted associations even on the default world (P(majority sentence) 0.50 at every planted level), so a small
control could not tell a probe that tracks bias from one that does not. The control must be trained as long as
the model it controls for. It shares the default model's tokenizer, so both models score the same token ids.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from genlab.core.paths import REPO_DIR, data_dir, default_model_dir
from genlab.recipes.base import Option, ShippedModel
from genlab.worlds.text import generate_corpus
from genlab.worlds.text_spec import WorldConfig, build_world

__all__ = [
    "CONTROL_LEVELS",
    "CONTROL_NAME",
    "NO_BIAS",
    "RECIPE",
    "build",
    "checkpoint_root",
    "control_comparison",
    "control_model_dir",
    "control_world",
    "load_control",
]

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
    from genlab.recipes.default_model import DEFAULT_STEPS, recipe
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
        overwrite=True,  # the build's own folder
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


def load_control(device: str = "auto"):
    """The shipped control model as a bundle; a clear error says how to build it when it is missing."""
    return RECIPE.load(control_model_dir(), device=device)


#: Each probe's "no bias" value: a share of 0.5 (no preference between the two groups) or a slope of 0 (the score
#: does not follow the planted strength).
NO_BIAS = {"pair_share": 0.5, "pair_slope": 0.0, "next_token_slope": 0.0}


def control_comparison(
    models: dict, world, *, n_resamples: int = 1000, seed: int = 0, confidence: float = 0.95, batch_size: int = 64
) -> pd.DataFrame:
    """Each probe on each model of ``models`` (name -> bundle), scored on the same items: ``world``'s pairs and
    probe sentences, with ``world``'s planted strengths as the truth. One row per model, probe and axis
    (``gender``, ``community``): ``estimate`` with its interval (``low``, ``high``), the probe's ``no_bias``
    value and ``at_no_bias`` (the interval holds it).

    Probes: ``pair_share``, the share of world pairs whose majority sentence scores higher (exact interval);
    ``pair_slope``, the slope of P(majority sentence) against the planted share over attributes
    (:func:`genlab.probes.crows_pairs.pair_dose_response`); ``next_token_slope``, the slope of the next-token
    P(first group) against the planted P(first group)
    (:func:`genlab.probes.next_token_association.association_probe`). Slopes come with percentile bootstrap
    intervals over attributes (:func:`genlab.probes.next_token_association.association_fit`).

    On a model trained where every strength was 0.5 (the control), a probe that measures planted bias must sit at
    its no-bias value; on the default model, a probe that tracks bias must not.

    >>> from genlab.worlds.text import small_world
    >>> from genlab.models.tiny import tiny_bundle
    >>> table = control_comparison({"random": tiny_bundle(n_positions=128)}, small_world(), n_resamples=50)
    >>> sorted(table["probe"].unique()), sorted(table["axis"].unique())
    (['next_token_slope', 'pair_share', 'pair_slope'], ['community', 'gender'])
    """
    from genlab.probes.crows_pairs import pair_dose_response, pair_metric, pair_scores, world_pairs
    from genlab.probes.next_token_association import association_fit, association_probe

    pairs = world_pairs(world)
    rows = []
    for name, bundle in models.items():
        scores = pair_scores(bundle, pairs, batch_size=batch_size)
        shares = pair_metric(scores, confidence=confidence).set_index("bias_type")
        curve = pair_dose_response(scores)
        nexttoken = association_probe(bundle, world, batch_size=batch_size)
        for axis in ("gender", "community"):
            if axis in shares.index:
                r = shares.loc[axis]
                rows.append(
                    (
                        name,
                        "pair_share",
                        axis,
                        r["prefers_stereotype"],
                        r["prefers_stereotype_low"],
                        r["prefers_stereotype_high"],
                        int(r["n"]),
                    )
                )
            for probe, frame, column in (("pair_slope", curve, "bias_type"), ("next_token_slope", nexttoken, "axis")):
                part = frame[frame[column] == axis]
                if len(part) < 3 or part["planted"].nunique() < 2:
                    continue
                fit = association_fit(part, n_resamples=n_resamples, seed=seed, confidence=confidence)
                rows.append((name, probe, axis, fit["slope"], fit["slope_low"], fit["slope_high"], int(fit["n"])))
    out = pd.DataFrame(rows, columns=["model", "probe", "axis", "estimate", "low", "high", "n"])
    out["no_bias"] = out["probe"].map(NO_BIAS)
    out["at_no_bias"] = (out["low"] <= out["no_bias"]) & (out["no_bias"] <= out["high"])
    return out


def _build(out: Path, *, fresh: bool = False, steps: int | None = None) -> dict:
    if (out / "model.safetensors").exists():
        print(f"replacing the control model in {out}", file=sys.stderr)
    return build(steps=steps, out_dir=out, fresh=fresh)


RECIPE = ShippedModel(
    name=CONTROL_NAME,
    module="genlab.recipes.bias_controls",
    description="Build the control model (every association at 0.5).",
    build_fn=_build,
    build_options=(Option(("--steps",), {"type": int, "default": None,
                                         "help": "training steps (default: the default model's)"}),),
    printed=("name", "eval_loss", "build_wall_s"),
)  # fmt: skip
main = RECIPE.main

if __name__ == "__main__":
    raise SystemExit(main())
