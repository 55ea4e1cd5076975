"""Prompt faithfulness of generated pictures, GenEval-style: did the picture show what its prompt asked for?

GenEval (Ghosh, Hajishirzi & Schmidt 2023) asks an object detector, per generated image, whether each requested
object is there in the requested number, colour and relative position, and reports the share of images that get
everything right. The drawn world knows every prompt's spec exactly, so genlab asks the same questions of each
picture (:func:`faithfulness`), per attribute, with two kinds of reader:

=============  ==========================================  ====================================================
attribute      classifier (:mod:`genlab.models.image_      classical check (no learning; :func:`read_objects`)
               classifier`, trained on real pictures)
=============  ==========================================  ====================================================
count          ``count`` head                              number of connected components that differ from the
                                                           background (the one-object check)
colour         ``colour`` head (first object)              nearest palette colour of each component's mean
                                                           colour: the largest component (single), every
                                                           component (count), some component (relation)
colour2        ``colour2`` head                            some *other* component has the second colour
shape, size,   heads                                       none (left to the classifier)
shape2, size2
position       ``position`` head                           grid cell (3x3) of the largest component's box centre
relation       ``relation`` head and the order of the      the component of the first colour lies on the asked
               objects it reads (see below)                side of the one of the second colour, along the
                                                           asked axis; undecided when both colours are equal
                                                           (only a wrong axis is then caught) or missing
background     ``background`` head                         median grey level of the picture above 127.5
=============  ==========================================  ====================================================

An attribute is **right** (column ``<attribute>``) when the classifier reads it right *and* the classical check,
where it decides, agrees: the classical checks catch what a CNN trained on single scenes accepts (two shapes where
one was asked for), and the classifier reads what pixels alone cannot (shape, size). ``<attribute>_classifier`` and
``<attribute>_classical`` keep each reader's verdict; NA where a reader does not apply or cannot decide. With
``classifier=None`` only the classical checks run, and shape and size stay unjudged.

Relation scenes are compared in canonical form ("a square right of a circle" is the picture of "a circle left of a
square"). The classifier reads the left (top) object and the right (bottom) one; when its reading matches the
asked objects better swapped than in order, the picture shows them the wrong way round: the relation is wrong and
each object's attributes are scored against the object it matched. Colour is not judged where the caption left it
unnamed (``colour_named`` False). ``all_correct``: every judged attribute right (GenEval's image-level score).

The evaluator's own accuracy is this function applied to *real* pictures with the specs that drew them; measure it
on noised copies too (:func:`genlab.models.image_classifier.add_pixel_noise`), since samples are rarely clean.

>>> from genlab.worlds.drawn import build_drawn_world
>>> world = build_drawn_world(0, 40, seed=0, duplicates={})
>>> per_image = faithfulness(world.images, world.table)          # classical checks only: real pictures
>>> t = faithfulness_table(per_image)
>>> float(t.query("check == 'classical' and attribute in ('count', 'colour', 'position')").accuracy.min())
1.0
>>> asked = world.table["count"].where(world.table.kind != "count", 5 - world.table["count"])   # 2 <-> 3
>>> bool(faithfulness(world.images, world.table.assign(count=asked)).query("kind == 'count'").count_classical.any())
False

**Limitations.** The classical checks assume the drawn world's look: flat colours from a six-colour palette on a
plain light or dark grey background, objects that do not touch (blurred or touching objects merge into one). They
are robust to mild noise only. Measured on the 1,100 pictures of ``build_drawn_world(800, 300, seed=5)`` noised by
``add_pixel_noise`` (standard deviation in the [-1, 1] range): count, colour, position, relation, second colour
and background right on every picture clean and at 0.1 (about 13 grey levels); at 0.15 count 983/1,100 and colour
1,038/1,052; at 0.2 count 24/1,100 (noise pixels form phantom objects) and colour 824/1,052, while position,
relation and background held. Check how noisy samples are before trusting the classical verdicts: past that, the
combined verdict counts pictures wrong, so it errs towards "unfaithful". The classifier was trained on real
pictures of this world only (held-out colour x shape pairs seen only through recolouring, the vertical held-out
arrangement never): a generated picture unlike any real one (smeared, half-drawn shapes) gets an answer anyway.
A right verdict is therefore evidence, not proof; report the evaluator's accuracy on real pictures (in the built
classifier's manifest) beside any faithfulness rate, since that is the ceiling a perfect generator would reach.
Per-prompt rates on a few images each have wide intervals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import ndimage

from genlab.models.image_classifier import AttributeClassifier
from genlab.stats import exact_binomial_ci
from genlab.worlds.drawn import (
    BACKGROUNDS,
    CELL_CENTRES,
    COLOURS,
    IMAGE_SIZE,
    KINDS,
    POSITIONS,
    RELATIONS,
    SHAPES,
    SIZES,
    SPEC_COLUMNS,
    canonical,
    caption,
    is_held_out,
)

__all__ = [
    "ATTRIBUTES",
    "CLASSICAL_ATTRIBUTES",
    "GHOSH_2023",
    "ObjectReading",
    "faithfulness",
    "faithfulness_table",
    "read_objects",
]

GHOSH_2023 = (
    "Ghosh, Hajishirzi & Schmidt 2023, GenEval: An Object-Focused Framework for Evaluating Text-to-Image Alignment "
    "(NeurIPS Datasets and Benchmarks)"
)
#: Attributes a prompt can ask for, in column order.
ATTRIBUTES = ("count", "colour", "shape", "size", "position", "relation", "colour2", "shape2", "size2", "background")
#: Attributes with a classical (learning-free) check.
CLASSICAL_ATTRIBUTES = ("count", "colour", "position", "relation", "colour2", "background")
CHECKS = ("combined", "classifier", "classical")
_PALETTE = np.array(list(COLOURS.values()), dtype=np.float64)  # (6, 3)
_CELL_EDGES = ((CELL_CENTRES[0] + CELL_CENTRES[1]) / 2, (CELL_CENTRES[1] + CELL_CENTRES[2]) / 2)  # 10.25, 20.75


# --- the classical reader ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ObjectReading:
    background: str  # "light" or "dark"
    background_rgb: tuple[float, float, float]  # per-channel median of the picture
    colours: tuple[str, ...]  # per component, largest first: nearest palette colour of its mean colour
    areas: tuple[int, ...]  # pixels per component
    centres: tuple[tuple[float, float], ...]  # (x, y) of each component's bounding-box centre, in pixels
    positions: tuple[str, ...]  # grid cell of each centre

    @property
    def n_objects(self) -> int:
        return len(self.colours)


def _cell(v: float) -> int:
    return 0 if v < _CELL_EDGES[0] else (1 if v < _CELL_EDGES[1] else 2)


def read_objects(image, *, threshold: float = 50.0, min_area: int = 4) -> ObjectReading:
    """Read one picture without learning: background = per-channel median (objects cover under half the picture);
    foreground = pixels farther than ``threshold`` (Euclidean, RGB levels) from it; objects = 8-connected components
    of the foreground with at least ``min_area`` pixels (smaller ones are noise). Each object's colour is the palette
    colour nearest its mean colour, its position the grid cell of its bounding-box centre (cell edges half-way
    between the drawn world's cell centres).

    The defaults fit the drawn world: every palette colour lies at least 100 levels from either background and the
    smallest shape covers 9 pixels, so 50 sits half-way and speckles of 1 to 3 noise pixels are dropped.

    >>> from genlab.worlds.drawn import render
    >>> img = render([{"shape": "circle", "cx": 5.0, "cy": 26.0, "r": 3.0, "rgb": [40, 80, 215]}], (30, 30, 30))
    >>> r = read_objects(img)
    >>> r.background, r.colours, r.positions
    ('dark', ('blue',), ('bottom left',))
    """
    img = np.asarray(image)
    if img.shape != (IMAGE_SIZE, IMAGE_SIZE, 3):
        raise ValueError(f"a picture has shape ({IMAGE_SIZE}, {IMAGE_SIZE}, 3); got {img.shape}")
    pixels = img.astype(np.float64) * (255.0 if img.dtype != np.uint8 else 1.0)  # floats are read as [0, 1]
    bg = np.median(pixels.reshape(-1, 3), axis=0)
    foreground = np.linalg.norm(pixels - bg, axis=-1) > threshold
    labels, n = ndimage.label(foreground, structure=np.ones((3, 3), dtype=bool))
    found = []
    for lab, box in enumerate(ndimage.find_objects(labels), start=1):
        mask = labels[box] == lab
        area = int(mask.sum())
        if area < min_area:
            continue
        mean = pixels[box][mask].mean(0)
        colour = list(COLOURS)[int(np.argmin(((_PALETTE - mean) ** 2).sum(1)))]
        ys, xs = box
        cx, cy = (xs.start + xs.stop - 1) / 2, (ys.start + ys.stop - 1) / 2
        found.append((area, colour, (cx, cy), POSITIONS[3 * _cell(cy) + _cell(cx)]))
    found.sort(key=lambda f: -f[0])  # largest first; ties keep reading order
    return ObjectReading(
        background="light" if bg.mean() > 127.5 else "dark",
        background_rgb=tuple(float(v) for v in bg),
        colours=tuple(f[1] for f in found),
        areas=tuple(f[0] for f in found),
        centres=tuple(f[2] for f in found),
        positions=tuple(f[3] for f in found),
    )


def _classical(spec: Mapping, r: ObjectReading) -> dict[str, bool | None]:
    """Classical verdict per attribute of one canonical spec (None: undecided or not applicable)."""
    kind = spec["kind"]
    out: dict[str, bool | None] = {
        "count": r.n_objects == int(spec["count"]),
        "background": r.background == spec["background"],
    }
    if kind == "single":
        out["colour"] = bool(r.n_objects) and r.colours[0] == spec["colour"]
        out["position"] = bool(r.n_objects) and r.positions[0] == spec["position"]
    elif kind == "count":
        out["colour"] = bool(r.n_objects) and all(c == spec["colour"] for c in r.colours)
    else:
        first = [i for i, c in enumerate(r.colours) if c == spec["colour"]]
        second = [i for i, c in enumerate(r.colours) if c == spec["colour2"] and i not in first[:1]]
        out["colour"], out["colour2"] = bool(first), bool(second)
        out["relation"] = None
        axis = 0 if spec["relation"] == "left of" else 1  # canonical: the first object has the smaller x (or y)
        if spec["colour"] != spec["colour2"] and first and second:
            a, b = np.array(r.centres[first[0]]), np.array(r.centres[second[0]])  # the largest of each colour
            d = b - a
            out["relation"] = bool(abs(d[axis]) > abs(d[1 - axis]) and d[axis] > 0)
        elif spec["colour"] == spec["colour2"] and r.n_objects == 2:
            d = np.array(r.centres[1]) - np.array(r.centres[0])
            if abs(d[axis]) <= abs(d[1 - axis]):
                out["relation"] = False  # the objects lie along the other axis; which is which stays unread
    return out


# --- the classifier's verdicts ----------------------------------------------------------------------------------


def _classifier(spec: Mapping, p: Mapping) -> dict[str, bool | None]:
    """Classifier verdict per attribute of one canonical spec, given its canonical prediction ``p``."""
    out: dict[str, bool | None] = {
        "count": int(p["count"]) == int(spec["count"]),
        "colour": p["colour"] == spec["colour"],
        "shape": p["shape"] == spec["shape"],
        "size": p["size"] == spec["size"],
        "background": p["background"] == spec["background"],
    }
    if spec["kind"] == "single":
        out["position"] = p["position"] == spec["position"]
    elif spec["kind"] == "relation":
        in_order = sum(p[a] == spec[a] for a in ("colour", "shape", "colour2", "shape2"))
        swapped = sum(p[a + "2"] == spec[a] for a in ("colour", "shape")) + sum(
            p[a] == spec[a + "2"] for a in ("colour", "shape")
        )
        flip = swapped > in_order  # the picture shows the objects the other way round
        out["relation"] = p["relation"] == spec["relation"] and not flip
        for a in ("colour", "shape", "size"):
            out[a] = (p[a + "2"] if flip else p[a]) == spec[a]
            out[a + "2"] = (p[a] if flip else p[a + "2"]) == spec[a + "2"]
    return out


# --- the metric -------------------------------------------------------------------------------------------------


def _specs(specs) -> pd.DataFrame:
    frame = pd.DataFrame(list(specs)) if not isinstance(specs, pd.DataFrame) else specs.reset_index(drop=True)
    missing = [c for c in SPEC_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"specs lack columns {missing}: give the drawn-world spec of each prompt (table rows)")
    allowed = {"kind": KINDS, "colour": tuple(COLOURS), "shape": SHAPES, "size": SIZES, "background": BACKGROUNDS}
    of_kind = {
        "single": {"position": POSITIONS},
        "relation": {"relation": RELATIONS, "colour2": tuple(COLOURS), "shape2": SHAPES, "size2": SIZES},
    }
    for i, row in enumerate(frame[list(SPEC_COLUMNS)].to_dict("records")):
        checks = allowed | of_kind.get(row["kind"], {})
        bad = {c: row[c] for c, ok in checks.items() if row[c] not in ok}
        expected = {"single": (1,), "count": (2, 3), "relation": (2,)}.get(row["kind"], ())
        if str(row["count"]) not in map(str, expected):
            bad["count"] = row["count"]
        if bad:
            raise ValueError(f"spec {i} has values the drawn world does not know: {bad}")
    return frame


def faithfulness(
    images,
    specs: pd.DataFrame | Sequence[Mapping],
    classifier: AttributeClassifier | None = None,
    *,
    threshold: float = 50.0,
    min_area: int = 4,
    batch_size: int = 256,
) -> pd.DataFrame:
    """Per-image prompt faithfulness (GenEval-style, Ghosh et al. 2023): one row per picture.

    ``images``: (n, 32, 32, 3) uint8 pixels (or floats in [0, 1]); ``specs``: the spec each picture's prompt asked
    for (drawn-world table rows, or dicts with :data:`~genlab.worlds.drawn.SPEC_COLUMNS`; optional ``caption``,
    ``held_out`` and ``colour_named``). ``classifier``: genlab's attribute classifier (``load_classifier()`` of
    :mod:`genlab.recipes.drawn_classifier`); ``None`` runs the classical checks only.

    Columns: ``prompt`` (the caption, else caption template 0 of the spec), ``kind``, ``held_out`` (the spec holds
    a held-out combination; from ``specs`` if given, else computed), ``n_objects`` (components found), then for each
    of :data:`ATTRIBUTES` the combined verdict ``<a>`` and the readers' ``<a>_classifier``, ``<a>_classical``
    (nullable booleans: NA where not judged), and ``all_correct``. How the verdicts are formed is in the module
    docstring.

    >>> from genlab.worlds.drawn import build_drawn_world
    >>> w = build_drawn_world(0, 3, seed=1, duplicates={})
    >>> row = faithfulness(w.images[:1], w.table[:1]).iloc[0]
    >>> bool(row["count"]), bool(row["all_correct"]), row["shape"] is pd.NA     # shape needs the classifier
    (True, True, True)

    **Limitations.** See the module docstring: the readers' own errors (measure them on real pictures), the
    drawn-world look the classical checks assume, and judgements of pictures unlike any real one.
    """
    frame = _specs(specs)
    n = len(frame)
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE, 3):
        raise ValueError(f"images must have shape (n, {IMAGE_SIZE}, {IMAGE_SIZE}, 3); got {images.shape}")
    if len(images) != n:
        raise ValueError(f"{len(images)} images but {n} specs; give the spec each picture's prompt asked for")
    if n == 0:
        raise ValueError("no images to judge")
    if images.dtype != np.uint8 and not np.isfinite(images).all():
        raise ValueError("images hold nan or inf values; clip or fix the generated pixels first")
    predictions = None if classifier is None else classifier.predict(images, batch_size=batch_size)
    named = frame["colour_named"].astype(bool).to_numpy() if "colour_named" in frame.columns else np.ones(n, bool)
    rows = []
    for i, raw in enumerate(frame.to_dict("records")):
        spec = canonical(raw)
        reading = read_objects(images[i], threshold=threshold, min_area=min_area)
        classical = _classical(spec, reading)
        learned = {} if predictions is None else _classifier(spec, predictions.iloc[i])
        row = {
            "prompt": raw.get("caption") or caption(raw, 0),
            "kind": raw["kind"],
            "held_out": bool(raw["held_out"]) if "held_out" in raw else is_held_out(spec),
            "n_objects": reading.n_objects,
        }
        verdicts = []
        for a in ATTRIBUTES:
            applies = a in learned or a in classical
            if a == "colour" and not named[i]:
                applies = False
            c, k = learned.get(a), classical.get(a)
            if not applies:
                combined = c = k = None
            elif predictions is None:
                combined = k
            else:
                combined = bool(c) and k is not False
            row |= {a: combined, f"{a}_classifier": c, f"{a}_classical": k}
            if combined is not None:
                verdicts.append(combined)
        row["all_correct"] = all(verdicts)
        rows.append(row)
    out = pd.DataFrame(rows)
    for a in ATTRIBUTES:
        for col in (a, f"{a}_classifier", f"{a}_classical"):
            out[col] = out[col].astype("boolean")
    out.attrs["checks"] = "classifier+classical" if classifier is not None else "classical"
    return out


def faithfulness_table(per_image: pd.DataFrame, *, per: str = "attribute", confidence: float = 0.95) -> pd.DataFrame:
    """Accuracy with Clopper-Pearson intervals (Clopper & Pearson 1934) from :func:`faithfulness`'s per-image table.

    ``per="attribute"``: one row per ``held_out`` (seen combinations, then held-out ones, never pooled), attribute
    (:data:`ATTRIBUTES`, then ``all``: GenEval's share of images with every judged attribute right) and ``check``
    (``combined``: the verdict; ``classifier``, ``classical``: each reader alone), over the images where that
    verdict exists. ``per="prompt"``: one row per prompt (and ``held_out``), the share of its images with every
    judged attribute right. Columns: those keys, ``n``, ``k`` (right), ``accuracy``, ``accuracy_low``,
    ``accuracy_high``.

    >>> per_image = pd.DataFrame({"held_out": [False, False, True], "prompt": ["a", "a", "b"],
    ...     "count": pd.array([True, False, True], dtype="boolean"), "all_correct": [True, False, False]})
    >>> faithfulness_table(per_image)[["held_out", "attribute", "n", "k"]].values.tolist()
    [[False, 'count', 2, 1], [False, 'all', 2, 1], [True, 'count', 1, 1], [True, 'all', 1, 0]]

    **Limitations.** Intervals treat images as independent trials; images generated for one prompt, or from one
    seed, are not, so per-attribute intervals are too narrow when few prompts have many images each.
    """
    for col in ("held_out", "prompt", "all_correct"):
        if col not in per_image.columns:
            raise ValueError(f"per_image lacks column {col!r}: pass the table faithfulness() returns")
    if len(per_image) == 0:
        raise ValueError("per_image is empty: judge at least one image")
    if per not in ("attribute", "prompt"):
        raise ValueError(f"per must be 'attribute' or 'prompt', got {per!r}")

    def rate(values: pd.Series, keys: dict) -> dict | None:
        judged = values.dropna().astype(bool)
        if judged.empty:
            return None
        ci = exact_binomial_ci(int(judged.sum()), len(judged), confidence)
        return keys | {"n": ci.n, "k": ci.k, "accuracy": ci.estimate, "accuracy_low": ci.low, "accuracy_high": ci.high}

    rows = []
    if per == "prompt":
        for (prompt, ho), group in per_image.groupby(["prompt", "held_out"], sort=True):
            rows.append(rate(group["all_correct"], {"prompt": prompt, "held_out": bool(ho)}))
        return pd.DataFrame(rows)
    for ho in (False, True):
        part = per_image[per_image["held_out"].astype(bool) == ho]
        if part.empty:
            continue
        for a in (*ATTRIBUTES, "all"):
            for check in CHECKS:
                col = "all_correct" if a == "all" else (a if check == "combined" else f"{a}_{check}")
                if col in part.columns and (a != "all" or check == "combined"):
                    row = rate(part[col], {"held_out": ho, "attribute": a, "check": check})
                    if row is not None:
                        rows.append(row)
    return pd.DataFrame(rows)
