"""genlab's image evaluator: the attribute classifier that judges generated drawn-world pictures, built once.

    python -m genlab.recipes.drawn_classifier build [--steps N] [--overwrite]   # 3-8 minutes on 2 cores

The build draws its own drawn world (seed :data:`WORLD_SEED`, :data:`N_TRAIN` training and :data:`N_EVAL`
evaluation pictures), trains :class:`genlab.models.image_classifier.AttributeClassifier` on the training pictures
with noise, recolouring and mirroring (:func:`genlab.training.image_classifier.train_attribute_classifier`), and
writes ``data/models/genlab-drawn-classifier/``: ``model.safetensors``, ``config.json``, ``manifest.json`` (the
settings and the accuracy measured on the evaluation pictures, per attribute, seen and held-out combinations apart,
clean and noised) and ``README.md``, a card written from the manifest. :func:`load_classifier` reads it back and
names the build command when it is missing.

Two accuracies are measured, since studies use both: the classifier's own (every head), and the evaluator's as
:func:`genlab.metrics.image_faithfulness.faithfulness` applies it (classifier and classical checks together) to
real pictures with the specs that drew them: the ceiling a perfect generator would reach.

**Limitations.** Measured on real pictures only, clean and with Gaussian noise; generated pictures can fail in ways
neither covers (smeared or half-drawn shapes). The evaluator saw held-out colour x shape pairs through recolouring,
but never the vertical held-out arrangement (a triangle above a cross).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
import torch

from genlab.core.paths import data_dir
from genlab.metrics.image_faithfulness import faithfulness, faithfulness_table
from genlab.models.image_classifier import (
    AttributeClassifier,
    ClassifierConfig,
    add_pixel_noise,
    load_attribute_classifier,
    save_attribute_classifier,
)
from genlab.recipes.base import Option, ShippedModel
from genlab.training.image_classifier import train_attribute_classifier
from genlab.worlds.drawn import build_drawn_world

__all__ = ["BUILD_COMMAND", "CLASSIFIER_NAME", "RECIPE", "build", "card", "classifier_dir", "load_classifier"]

CLASSIFIER_NAME = "genlab-drawn-classifier"
BUILD_COMMAND = "python -m genlab.recipes.drawn_classifier build"
WORLD_SEED = 1  # the evaluator's own world, not a generator's
N_TRAIN, N_EVAL = 20_000, 2_000
STEPS, BATCH_SIZE = 3000, 64  # 3,000 steps: shape 0.95 (seen) / 0.90 (held-out) on a 5,000-picture trial
CONFIG = ClassifierConfig(channels=(16, 32, 64), feature_dim=128)
EVAL_NOISE = (0.0, 0.1, 0.3)  # noise levels (standard deviation in the [-1, 1] range) of the measured accuracy


def classifier_dir() -> Path:
    """``data/models/genlab-drawn-classifier``."""
    return data_dir() / "models" / CLASSIFIER_NAME


def load_classifier(path: str | Path | None = None, *, device: str = "cpu") -> AttributeClassifier:
    """The built evaluator (default :func:`classifier_dir`), in eval mode; a ``FileNotFoundError`` names the build
    command when it is not built yet.

    >>> load_classifier("/nonexistent/classifier")
    Traceback (most recent call last):
    ...
    FileNotFoundError: no image classifier at /nonexistent/classifier: build it with `python -m genlab.recipes...`
    """
    return RECIPE.load(path if path is not None else classifier_dir(), device=device)


def build(
    *,
    steps: int = STEPS,
    batch_size: int = BATCH_SIZE,
    n_train: int = N_TRAIN,
    n_eval: int = N_EVAL,
    config: ClassifierConfig = CONFIG,
    out_dir: str | Path | None = None,
    seed: int = 0,
    overwrite: bool = False,
) -> dict:
    """Train the evaluator, measure it, and save weights, manifest and card; returns the manifest. Refuses to
    replace a built classifier unless ``overwrite=True``."""
    out = Path(out_dir) if out_dir is not None else classifier_dir()
    if (out / "model.safetensors").exists() and not overwrite:
        raise FileExistsError(f"{out} already holds a classifier; pass --overwrite (overwrite=True) to rebuild it")
    start = time.time()
    world = build_drawn_world(n_train, n_eval, seed=WORLD_SEED, duplicates={})
    model, record = train_attribute_classifier(
        world, steps=steps, batch_size=batch_size, seed=seed, config=config, eval_noise_sigmas=EVAL_NOISE, log_every=50
    )
    evaluation = world.split("eval")
    evaluator = []
    for sigma in EVAL_NOISE:
        images = add_pixel_noise(evaluation.images, sigma, seed=seed) if sigma else evaluation.images
        table = faithfulness_table(faithfulness(images, evaluation.table, model))
        evaluator.append(table.assign(noise_sigma=sigma))
    manifest = {
        "name": out.name,
        "purpose": "evaluator of generated drawn-world pictures: reads every attribute a caption can ask for",
        "architecture": "genlab.models.image_classifier.AttributeClassifier",
        "build_command": BUILD_COMMAND,
        "world": {"seed": WORLD_SEED, "n_train": n_train, "n_eval": n_eval, "sha256": world.manifest["sha256"]},
        "training": record.settings,
        "loss_every_50_steps": [round(v, 4) for v in record.losses],
        "classifier_accuracy": _records(record.accuracy),
        "evaluator_accuracy": _records(pd.concat(evaluator, ignore_index=True)),
        "torch": torch.__version__,
    }
    save_attribute_classifier(model, out, extra={"name": out.name}, overwrite=overwrite)
    manifest["build_wall_s"] = round(time.time() - start, 1)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    RECIPE.write_card(manifest, out)
    return manifest


def _records(table: pd.DataFrame) -> list[dict]:
    return [
        {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()} for row in table.to_dict("records")
    ]


def card(manifest: dict) -> str:
    """``README.md`` of the built classifier, from its manifest: what, provenance, intended use, measured accuracy
    (clean and noised, seen and held-out combinations), limits."""
    t = manifest["training"]
    acc = pd.DataFrame(manifest["classifier_accuracy"])
    ev = pd.DataFrame(manifest["evaluator_accuracy"])
    size_mb = t["n_parameters"] * 4 / 1e6
    lines = [
        f"# {manifest['name']}: the evaluator of generated drawn-world pictures",
        "",
        f"- **What:** a multi-head CNN (`{manifest['architecture']}`, conv widths {t['config']['channels']}, "
        f"{t['config']['feature_dim']} penultimate features, {t['n_parameters']:,} parameters, float32 safetensors, "
        f"about {size_mb:.1f} MB) that reads a 32x32 picture of the drawn world and names its scene kind, object "
        "count, the colour, shape and size of the first (left or top) and second object, the position, the relation "
        "(canonical: left of / above) and the background. Its penultimate features serve Fréchet distances.",
        f"- **Provenance:** trained from scratch by `{manifest['build_command']}` (about "
        f"{manifest['build_wall_s'] / 60:.0f} minutes here) on the {manifest['world']['n_train']:,} training "
        f"pictures of `build_drawn_world(seed={manifest['world']['seed']})`: {t['steps']} steps of {t['batch_size']} "
        f"pictures, AdamW, learning rate {t['lr']} with warm-up and cosine decay, seed {t['seed']}. Each picture got "
        f"Gaussian noise with a standard deviation drawn from [0, {t['noise_sigma_max']}] (in the [-1, 1] range), "
        f"{t['recolour']:.0%} had their objects repainted in random palette colours and {t['hflip']:.0%} were "
        "mirrored left to right (labels changed to match). `manifest.json` holds every setting, the loss curve and "
        "the tables below in full.",
        "- **Intended use:** judging pictures generated from drawn-world prompts "
        "(`genlab.metrics.image_faithfulness.faithfulness`, which adds classical checks: connected components for "
        "the object count, palette colours, grid positions) and features for `genlab.metrics.image_generation`.",
        "",
        f"**Classifier accuracy** on the {manifest['world']['n_eval']:,} evaluation pictures of its world (real "
        "pictures, never trained on; Clopper-Pearson 95% intervals in the manifest), by noise level and by whether "
        "the spec holds a held-out combination:",
        "",
        _markdown(acc),
        "",
        "**Evaluator accuracy** (`faithfulness` on the same real pictures with the specs that drew them: the "
        "classifier and the classical checks must both be right, `combined`): the ceiling a perfect generator would "
        "reach.",
        "",
        _markdown(ev[ev["check"] == "combined"]),
        "",
        "- **Limits:** measured on real pictures, clean and noised; generated pictures can be wrong in ways these do "
        "not cover (smeared or half-drawn shapes), and the classifier answers anyway. Recolouring showed it the "
        "held-out colour x shape pairs and mirroring the arrangement circle-left-of-square, so its held-out accuracy "
        "is not a generalisation test of its own; the vertical held-out arrangement (a triangle above a cross) it "
        "never saw. It knows nothing outside the drawn world.",
        "",
    ]
    return "\n".join(lines)


def _markdown(table: pd.DataFrame) -> str:
    """Accuracy per attribute (rows) by noise level and seen / held-out (columns), as a markdown table."""
    if table.empty:
        return "(no evaluation pictures)"
    wide = table.pivot_table(index="attribute", columns=["noise_sigma", "held_out"], values="accuracy", sort=False)
    head = ["attribute"] + [f"noise {s}, {'held-out' if h else 'seen'}" for s, h in wide.columns]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for attr, row in wide.iterrows():
        out.append(f"| {attr} | " + " | ".join("" if pd.isna(v) else f"{v:.3f}" for v in row) + " |")
    return "\n".join(out)


def _build(out: Path, *, fresh: bool = False, steps: int = STEPS, overwrite: bool = False) -> dict:
    manifest = build(steps=steps, out_dir=out, overwrite=overwrite or fresh)
    manifest["accuracy_seen"] = {r["attribute"]: r["accuracy"] for r in manifest["classifier_accuracy"]
                                 if r["noise_sigma"] == 0 and not r["held_out"]}  # fmt: skip
    return manifest


RECIPE = ShippedModel(
    name=CLASSIFIER_NAME,
    module="genlab.recipes.drawn_classifier",
    description="Build genlab's image evaluator (the drawn world's classifier).",
    build_fn=_build,
    load_fn=load_attribute_classifier,
    card_fn=card,
    noun="image classifier",
    build_options=(
        Option(("--steps",), {"type": int, "default": STEPS}),
        Option(("--overwrite",), {"action": "store_true", "help": "replace a classifier built before"}),
    ),
    printed=("name", "build_wall_s", "accuracy_seen"),
    fresh_help="replace a classifier built before (as --overwrite; the build keeps no checkpoints)",
)
main = RECIPE.main

if __name__ == "__main__":
    raise SystemExit(main())
