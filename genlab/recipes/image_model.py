"""Build genlab's tiny text-to-image model, ``genlab-tiny-diffusion``, on the drawn world's training split.

    python -m genlab.recipes.image_model build [--out DIR] [--steps N] [--fresh]  # about 36 min on 2 cores, resumable
    python -m genlab.recipes.image_model check                                   # matches the world? loads? generates?

The build draws the drawn world (``build_drawn_world(10000, 2000, seed=0)``, the world its card describes), trains
the recipe of ``genlab.training.diffusion`` on the 10,000 training rows, and writes the pipeline (safetensors and
JSON, 7.8 MB), a manifest and a README card to ``data/models/genlab-tiny-diffusion/``. It checkpoints every
``SAVE_STEPS`` steps under ``build/image-model-checkpoints/``; run the same command again after an interruption and
it resumes from the newest checkpoint (of the same world and settings). ``--fresh`` deletes those checkpoints first.
"""

from __future__ import annotations

import json
import platform
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from genlab.core.paths import REPO_DIR, data_dir
from genlab.models.diffusion import TinyDiffusionConfig, TinyTextToImagePipeline, load_image_pipeline
from genlab.recipes.base import Option, ShippedModel
from genlab.training.diffusion import train_text_to_image
from genlab.worlds.drawn import DrawnWorld, build_drawn_world

NAME = "genlab-tiny-diffusion"
BUILD_COMMAND = "python -m genlab.recipes.image_model build"
WORLD = {"n_train": 10_000, "n_eval": 2_000, "seed": 0}  # the drawn world of data/images/README.md
TRAIN_SEED = 0
DEFAULT_STEPS = 5000  # 5000 x 64 = 320k pictures, 32 passes over 10,000; about 2.5 steps/s on 2 idle cores: 33 minutes
BATCH_SIZE = 64
LEARNING_RATE = 1e-3
WARMUP_STEPS = 150
SAVE_STEPS = 100
SAMPLE_SETTINGS = {"num_inference_steps": 5, "guidance_scale": 2.0}  # measured best of 6 settings on 300 captions
MAX_WEIGHTS_MB = 25.0
SHEET_SCALE, SHEET_GAP = 3, 2  # samples.png: each picture scaled 3x (nearest neighbour), 2 px apart
SHEET_CELL = 32 * SHEET_SCALE + SHEET_GAP
FAITHFULNESS_CAPTIONS = 600  # evaluation captions the build judges for the card


def image_model_dir() -> Path:
    """Where the built model lives: ``data/models/genlab-tiny-diffusion``."""
    return data_dir() / "models" / NAME


def read_manifest(source: str | Path = NAME) -> dict | None:
    """The build manifest of an image pipeline (recipe, training curve, world, sampler settings): ``source`` is the
    shipped model's name or a folder. ``None`` where the folder has no ``manifest.json`` (a hub pipeline has none).

    >>> read_manifest("/nonexistent/pipeline") is None
    True
    """
    folder = image_model_dir() if str(source) == NAME else Path(source)
    path = folder / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def checkpoint_root() -> Path:
    return REPO_DIR / "build" / "image-model-checkpoints"


def load_default_image_pipeline(device: str = "cpu") -> TinyTextToImagePipeline:
    """The built ``genlab-tiny-diffusion`` pipeline; if it is missing, a ``FileNotFoundError`` names the command."""
    return RECIPE.load(image_model_dir(), device=device)


def training_world() -> DrawnWorld:
    return build_drawn_world(WORLD["n_train"], WORLD["n_eval"], seed=WORLD["seed"])


def background_check(pipe, world: DrawnWorld, n: int = 64, seed: int = 0) -> dict:
    """A sanity check the card can state without an attribute classifier: for the first ``n`` evaluation captions
    (seed ``seed``, the sample settings), is the picture's border light (median grey above 128) exactly when the
    caption says "light"? The drawn world's backgrounds are grey 222-245 or 12-40, so a model that reads the caption
    gets this right nearly always and one that ignores it about half the time."""
    from genlab.generation.images import generate_grid

    part = world.split("eval").table.iloc[:n]
    images, _ = generate_grid(pipe, list(part.caption), [seed], steps=(SAMPLE_SETTINGS["num_inference_steps"],),
                              guidance=(SAMPLE_SETTINGS["guidance_scale"],))  # fmt: skip
    border = np.concatenate([images[:, 0], images[:, -1], images[:, :, 0], images[:, :, -1]], axis=1)  # (n, 128, 3)
    light = np.median(border.reshape(len(images), -1), axis=1) > 128
    k = int((light == (part.background == "light").to_numpy()).sum())
    return {"n": len(images), "k": k, "accuracy": round(k / len(images), 4), "seed": seed, **SAMPLE_SETTINGS}


def faithfulness_check(pipe, world: DrawnWorld, n: int = FAITHFULNESS_CAPTIONS, seed: int = 0) -> list[dict] | None:
    """Prompt faithfulness of the first ``n`` evaluation captions (one picture each, seed ``seed``, the sample
    settings), judged by the attribute classifier (``genlab-drawn-classifier``): per attribute and ``all``, seen and
    held-out combinations apart, with Clopper-Pearson intervals. ``None`` when the classifier is not built."""
    from genlab.probes.image_judging import generate_and_judge
    from genlab.recipes.drawn_classifier import classifier_dir, load_classifier

    if not (classifier_dir() / "model.safetensors").is_file():
        return None
    specs = world.split("eval").table.head(n)
    judged = generate_and_judge(pipe, specs, seeds=[seed], classifier=load_classifier(),
                                steps=(SAMPLE_SETTINGS["num_inference_steps"],),
                                guidance=(SAMPLE_SETTINGS["guidance_scale"],))  # fmt: skip
    table = judged.attribute_table().round(4)
    return json.loads(table.to_json(orient="records"))


def sample_sheet(pipe, prompts: list[str], seeds: tuple[int, ...], path: Path) -> None:
    """A PNG of one row per prompt and one column per seed, each picture scaled 3x, 2 px apart."""
    from PIL import Image

    from genlab.generation.images import generate_grid

    images, _ = generate_grid(pipe, prompts, list(seeds), steps=(SAMPLE_SETTINGS["num_inference_steps"],),
                              guidance=(SAMPLE_SETTINGS["guidance_scale"],))  # fmt: skip
    cell, side = SHEET_CELL, 32 * SHEET_SCALE
    sheet = Image.new("RGB", (cell * len(seeds), cell * len(prompts)), (255, 255, 255))
    for i, im in enumerate(images):
        row, col = divmod(i, len(seeds))
        sheet.paste(Image.fromarray(im).resize((side, side), Image.NEAREST), (col * cell + 1, row * cell + 1))
    sheet.save(path)


def build(out_dir: Path, steps: int = DEFAULT_STEPS, checkpoints: Path | None = None, fresh: bool = False,
          progress: bool | None = None, config: TinyDiffusionConfig | None = None) -> dict:  # fmt: skip
    """Train the model and write pipeline, manifest, card and sample sheet to ``out_dir`` (replacing what was there,
    with a note on stderr). Resumes from the newest checkpoint under ``checkpoints`` (default ``checkpoint_root()``);
    ``fresh=True`` deletes them first. ``config``: the model's sizes (default: the recipe's; tests pass a tiny one)."""
    start = time.time()
    world = training_world()
    train = world.split("train")
    checkpoints = Path(checkpoints or checkpoint_root())
    if fresh and checkpoints.exists():
        shutil.rmtree(checkpoints)
    checkpoints.mkdir(parents=True, exist_ok=True)
    try:
        pipe, record = train_text_to_image(config or TinyDiffusionConfig(), train.images, list(train.table.caption),
                                           steps=steps, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE,
                                           seed=TRAIN_SEED, warmup_steps=min(WARMUP_STEPS, steps // 2),
                                           output_dir=checkpoints, save_steps=SAVE_STEPS, resume_from_checkpoint=True,
                                           progress=progress)  # fmt: skip
    except ValueError as e:
        if "another run" in str(e):
            raise ValueError(f"{e}. Pass --fresh (fresh=True) to delete those checkpoints and train anew.") from e
        raise
    if record["resumed_from"]:
        print(f"resumed from {record['resumed_from']} (pass --fresh to train from scratch)", file=sys.stderr)
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    pipe.save_pretrained(tmp)
    evals = world.split("eval").table
    prompts = list(evals.drop_duplicates("kind").caption) + list(evals[evals.held_out].caption[:3])
    sample_sheet(pipe, prompts, (0, 1, 2, 3), tmp / "samples.png")
    weights_mb = sum(p.stat().st_size for p in tmp.rglob("*.safetensors")) / 1e6
    manifest = {
        "name": NAME,
        "architecture": "TinyTextToImagePipeline (diffusers UNet2DConditionModel + genlab TinyTextEncoder)",
        "n_parameters": record["n_parameters"],
        "n_parameters_unet": record["n_parameters_unet"],
        "n_parameters_text_encoder": record["n_parameters_text_encoder"],
        "weights_mb": round(weights_mb, 2),
        "unet": json.loads(json.dumps(dict(pipe.unet.config), default=list)),
        "text_encoder": dict(pipe.text_encoder.config),
        "scheduler": {k: v for k, v in dict(pipe.scheduler.config).items() if not k.startswith("_")},
        "tokenizer": {"type": "word-level (genlab.models.diffusion.build_caption_tokenizer)",
                      "vocab_size": len(pipe.tokenizer), "max_length": pipe.tokenizer.model_max_length},
        "recipe": record["recipe"],
        "training": {k: record[k] for k in ("steps", "batch_size", "learning_rate", "warmup_steps", "weight_decay",
                                            "max_grad_norm", "caption_dropout", "seed", "n_images", "data_sha256",
                                            "train_loss_final", "train_runtime_s", "steps_per_s", "resumed_from")},
        "loss_history": record["history"],
        "world": {"build": f"build_drawn_world({WORLD['n_train']}, {WORLD['n_eval']}, seed={WORLD['seed']})",
                  "split": "train", "manifest": world.manifest},
        "sampling": SAMPLE_SETTINGS,
        "samples": {"file": "samples.png", "prompts": prompts, "seeds": [0, 1, 2, 3]},
        "background_check": background_check(pipe, world),
        "faithfulness": faithfulness_check(pipe, world),
        "environment": {"python": platform.python_version(), "torch": __import__("torch").__version__,
                        "diffusers": __import__("diffusers").__version__},
        "build_wall_s": round(time.time() - start, 1),
    }  # fmt: skip
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    RECIPE.write_card(manifest, tmp)
    if out_dir.exists():
        print(f"replacing the image model in {out_dir}", file=sys.stderr)
        shutil.rmtree(out_dir)
    tmp.rename(out_dir)
    return manifest


def card(manifest: dict) -> str:
    """The README card of a built model, from its manifest."""
    t, bg = manifest["training"], manifest["background_check"]
    sizes = ", ".join(map(str, manifest["unet"]["block_out_channels"]))
    knobs = manifest["world"]["manifest"]["knobs"]
    copies = ", ".join(f"{k} at {n} copies" for n, k in knobs["duplicates"].items()) or "none"
    recipe = manifest["recipe"][0].upper() + manifest["recipe"][1:]
    text = f"""# {manifest["name"]}: a tiny text-to-image diffusion model of the drawn world

Written by `genlab.recipes.image_model` (`{BUILD_COMMAND}`); every number below comes from `manifest.json`.

**What it is.** A {manifest["n_parameters"]:,}-parameter text-conditioned diffusion model ({manifest["weights_mb"]} MB
of safetensors) that draws 32x32 pictures of coloured shapes from English captions of the drawn world
(`genlab.worlds.drawn`, card in `data/images/README.md`). A `diffusers` UNet2DConditionModel (channels {sizes}) on
the picture pixel-unshuffled to 12 x 16 x 16, with two coordinate maps appended (CoordConv), predicts the clean
picture; a word-level tokenizer ({manifest["tokenizer"]["vocab_size"]} entries with `<pad>` and `<unk>`) and a
one-layer transformer text encoder ({manifest["n_parameters_text_encoder"]:,} parameters) give the caption, which
the UNet cross-attends to and also receives whole, flattened, through its time embedding.

**Load it.** `genlab.recipes.image_model.load_default_image_pipeline()`, or
`genlab.models.diffusion.load_image_pipeline(folder)` on this folder, or `genlab.load_model("{manifest["name"]}")`.
Sample with DDIM ("trailing" timesteps: the first step starts from pure noise),
{manifest["sampling"]["num_inference_steps"]} steps, classifier-free guidance {manifest["sampling"]["guidance_scale"]},
one seed per picture (`genlab.generation.images.generate_grid`).

**Training data.** The {t["n_images"]:,} training rows of `{manifest["world"]["build"]}` (pixels sha256
`{manifest["world"]["manifest"]["sha256"]["train"][:16]}...`): no held-out colour x shape pair, arrangement or
caption template; duplicated pictures ({copies}: the duplication knob), and unnamed-colour captions drawn red with
probability {knobs["skew"]} (the skew knob). Both are planted on purpose, for the memorisation and bias studies.

**Recipe.** {recipe}. {t["steps"]:,} steps of {t["batch_size"]} pictures, peak learning rate
{t["learning_rate"]}, {t["warmup_steps"]} warm-up steps, weight decay {t["weight_decay"]}, caption dropped
{t["caption_dropout"]:.0%} of the time, seed {t["seed"]}. Final training loss (mean squared error of the clean
picture in [-1, 1], last logging window): {t["train_loss_final"]:.4f}. Trained in {t["train_runtime_s"] / 60:.1f}
minutes at {t["steps_per_s"]} steps/s{" (resumed from a checkpoint)" if t["resumed_from"] else ""}.

**Sanity check.** The background the caption names (light or dark) read back from the border of {bg["n"]} pictures
for evaluation captions: {bg["k"]} of {bg["n"]} right ({bg["accuracy"]:.2f}). This checks that captions reach the
picture at all; colour, shape, size, position, count and relation need the attribute evaluator.
`samples.png`: one row per prompt of `manifest.json`'s `samples`, one column per seed 0-3.
{_faithfulness_text(manifest.get("faithfulness"))}

**Intended use.** Teaching and testing evaluation of text-to-image models against what the prompt asked for:
attribute accuracy, compositional generalisation to held-out pairs, arrangements and paraphrases, bias
amplification of the skew knob, memorisation of duplicated pictures.

**Limitations.**
- A 32x32 world of flat shapes on plain backgrounds: what the model gets right or wrong here is a mechanism to look
  for in real models, not an estimate of its size there.
- Words outside the {manifest["tokenizer"]["vocab_size"]}-entry vocabulary become `<unk>`; the held-out template
  words ("canvas", "sitting", "placed", "exactly", "scene", "showing") are in the vocabulary but never trained, so
  their embeddings are as initialised (shrunk a little by weight decay).
- The duplicated and skewed training rows are there on purpose: the model is expected to copy some duplicated
  pictures and to draw unnamed-colour shapes red.
- One seed, one training run: differences between checkpoints of this size are not measured here.
"""
    return _reflow(text)


def _faithfulness_text(rows: list[dict] | None) -> str:
    if not rows:
        return "\n**Prompt faithfulness.** Not measured: the attribute classifier was not built when this model was."
    table = {(r["held_out"], r["attribute"]): r for r in rows}
    n_seen = table.get((False, "all"), {}).get("n", 0)
    n_held = table.get((True, "all"), {}).get("n", 0)
    lines = ["", f"**Prompt faithfulness** (`manifest.json`'s `faithfulness`): one picture for each of the first "
             f"{n_seen + n_held} evaluation captions ({n_held} with a held-out combination), judged by "
             "`genlab-drawn-classifier` together with learning-free checks (`genlab.metrics.image_faithfulness`); "
             "share right with a 95% Clopper-Pearson interval. Read it against the judge's own accuracy on real "
             "pictures (its card).",
             "", "| attribute | seen combinations | held-out combinations |", "|---|---|---|"]  # fmt: skip
    for a in dict.fromkeys(r["attribute"] for r in rows):
        cells = []
        for held in (False, True):
            r = table.get((held, a))
            cells.append(f"{r['accuracy']:.2f} [{r['accuracy_low']:.2f}, {r['accuracy_high']:.2f}] (n={r['n']})"
                         if r else "")  # fmt: skip
        lines.append(f"| {a} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


def _reflow(markdown: str, width: int = 118) -> str:
    """Re-wrap each paragraph and list item of ``markdown`` (filled-in numbers leave ragged lines)."""
    import textwrap

    out = []
    for block in markdown.strip().split("\n\n"):
        if block.startswith(("#", "|")):  # headings and tables keep their lines
            out.append(block)
            continue
        items, current = [], []
        for line in block.splitlines():
            if line.startswith("- ") and current:
                items.append(current)
                current = []
            current.append(line.strip())
        items.append(current)
        out.append("\n".join(
            textwrap.fill(" ".join(item), width, subsequent_indent="  " if item[0].startswith("- ") else "",
                          break_on_hyphens=False, break_long_words=False)
            for item in items
        ))  # fmt: skip
    return "\n\n".join(out) + "\n"


def check(model_dir: Path | None = None) -> list[str]:
    """Problems between the built model and what the code generates now (empty: consistent)."""
    model_dir = Path(model_dir or image_model_dir())
    if not (model_dir / "manifest.json").is_file():
        return [f"no image model at {model_dir}: build it with `{BUILD_COMMAND}`"]
    manifest = json.loads((model_dir / "manifest.json").read_text())
    problems = []
    if manifest["world"]["manifest"]["sha256"]["all"] != training_world().manifest["sha256"]["all"]:
        problems.append(f"the drawn world's generator changed since the image model was built; run `{BUILD_COMMAND}`")
    weights_mb = sum(p.stat().st_size for p in model_dir.rglob("*.safetensors")) / 1e6
    if weights_mb > MAX_WEIGHTS_MB:
        problems.append(f"the weights take {weights_mb:.1f} MB, over the {MAX_WEIGHTS_MB} MB budget")
    pickles = sorted(p.name for p in model_dir.rglob("*") if p.suffix in (".bin", ".pt", ".pth", ".pkl", ".ckpt"))
    if pickles:
        problems.append(f"pickle files in the model folder: {pickles}")
    pipe = load_image_pipeline(model_dir, device="cpu")
    images = pipe(["a small red circle at the top left on a dark background"] * 2, seeds=[0, 0]).images
    if images.shape != (2, 32, 32, 3) or images.dtype != np.uint8 or not (images[0] == images[1]).all():
        problems.append("the pipeline does not give one reproducible (32, 32, 3) uint8 picture per seed")
    if "README.md" not in {p.name for p in model_dir.iterdir()}:
        problems.append("the model card README.md is missing")
    problems.extend(_check_samples(pipe, manifest, model_dir))
    return problems


def _check_samples(pipe, manifest: dict, model_dir: Path) -> list[str]:
    """Does the pipeline draw again, bit for bit, the first prompt's row of the ``samples.png`` its build wrote?"""
    from PIL import Image

    from genlab.generation.images import generate_grid

    samples = manifest.get("samples")
    if not samples or not (model_dir / samples["file"]).is_file():
        return ["samples.png or its record in manifest.json is missing"]
    sheet = np.asarray(Image.open(model_dir / samples["file"]).convert("RGB"))
    settings = manifest["sampling"]
    images, _ = generate_grid(pipe, samples["prompts"][:1], samples["seeds"], steps=(settings["num_inference_steps"],),
                              guidance=(settings["guidance_scale"],))  # fmt: skip
    cell, side, k = SHEET_CELL, 32 * SHEET_SCALE, SHEET_SCALE
    recorded = [sheet[1 : 1 + side : k, c * cell + 1 : c * cell + 1 + side : k] for c in range(len(samples["seeds"]))]
    if not all(np.array_equal(a, b) for a, b in zip(images, recorded, strict=True)):
        return ["the pipeline no longer draws the pictures of its samples.png (first prompt): weights, scheduler or "
                f"sampling code changed since the build; run `{BUILD_COMMAND}`"]  # fmt: skip
    return []


def _build(out: Path, *, fresh: bool = False, steps: int = DEFAULT_STEPS) -> dict:
    out.parent.mkdir(parents=True, exist_ok=True)
    return build(out, steps=steps, fresh=fresh)


RECIPE = ShippedModel(
    name=NAME,
    module="genlab.recipes.image_model",
    description=__doc__.split("\n")[0],
    build_fn=_build,
    check_fn=lambda folder, quick=False: check(folder),
    load_fn=load_image_pipeline,
    card_fn=card,
    marker="model_index.json",
    noun="image model",
    build_time="about 36 minutes",
    build_options=(Option(("--steps",), {"type": int, "default": DEFAULT_STEPS}),),
    printed=("training", "background_check", "weights_mb"),
)
main = RECIPE.main

if __name__ == "__main__":
    raise SystemExit(main())
