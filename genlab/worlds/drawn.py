"""The drawn world: seeded 32x32 RGB pictures of coloured shapes with captions, whose truth is known.

Every picture comes from a *spec* (its objects with colour, shape, size and grid cell, a relation between two
objects, a background), and both the pixels and the caption are rendered from it, so an evaluator can ask of any
generated picture exactly what its prompt asked for. Three kinds of scene:

- ``single``: one object at one of nine grid positions ("a small red circle at the top left on a dark background");
- ``count``: two or three copies of one object anywhere ("three large blue squares on a light background");
- ``relation``: two different objects in one row or column ("a red circle left of a blue square ...").

What is held out of training, for generalisation tests (the evaluation split has it, the training split never):

- colour x shape pairs (:data:`HELD_OUT_PAIRS`), in any object of any scene;
- arrangements of two shapes (:data:`HELD_OUT_ARRANGEMENTS`): a circle to the left of a square, whichever way the
  caption says it ("circle left of square" and "square right of circle" draw the same picture);
- caption templates (:data:`HELD_OUT_TEMPLATES`): paraphrases the model never read.

Two knobs plant failure modes a study can then measure:

- ``skew``: captions that leave the colour unnamed ("a large circle at the top ...") are drawn red with this
  probability (default 0.8; the other colours share the rest), so a model learns "circle" -> red;
- ``duplicates``: ``{N: k}`` draws k training pictures that each appear N times (the whole row, caption included),
  recorded per row in ``duplicate_count``, for a memorisation study.

Shapes are rasterised with numpy (a pixel belongs to a shape when its centre does; no anti-aliasing), so the mask of
every object is exact and the world needs no imaging library. Positions, sizes and shades are jittered within their
class, so no two pictures are identical unless duplicated on purpose (checked: every distinct training image is drawn
once, and no evaluation image equals a training image).

>>> world = build_drawn_world(n_train=60, n_eval=20, seed=0, duplicates={3: 2})
>>> world.images.shape, world.images.dtype
((80, 32, 32, 3), dtype('uint8'))
>>> int((world.table.duplicate_count == 3).sum())   # two pictures, three rows each
6
>>> row = world.table.iloc[0]
>>> row.split, row.kind in KINDS, isinstance(row.caption, str)
('train', True, True)
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

GENERATOR_VERSION = 1  # bump when a change alters the pictures or captions drawn for the same seed
IMAGE_SIZE = 32

#: Palette (RGB); each object's shade is jittered by up to ``COLOUR_JITTER`` per channel. The closest two colours
#: (blue and purple) stay more than 80 apart in every jittered draw.
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (210, 40, 40),
    "orange": (240, 135, 25),
    "yellow": (230, 215, 40),
    "green": (40, 160, 60),
    "blue": (40, 80, 215),
    "purple": (145, 55, 185),
}
COLOUR_JITTER = 15
SHAPES = ("circle", "square", "triangle", "cross")
SIZES = ("small", "large")
RADIUS = {"small": (2.5, 3.5), "large": (4.5, 5.5)}  # half-width of the shape's box, px, uniform in this range
#: 3x3 grid, row-major; a position's cell centre is (CELL_CENTRES[col], CELL_CENTRES[row]) in pixel coordinates.
POSITIONS = ("top left", "top", "top right", "left", "centre", "right", "bottom left", "bottom", "bottom right")
CELL_CENTRES = (5.0, 15.5, 26.0)
POSITION_JITTER = 1.5  # px, uniform in each axis, then clamped so the shape stays inside the picture
RELATIONS = ("left of", "right of", "above", "below")
BACKGROUNDS = ("light", "dark")
BACKGROUND_GREY = {"light": (222, 245), "dark": (12, 40)}  # grey level range; +-5 per channel on top
KINDS = ("single", "count", "relation")
COUNT_WORDS = {1: "one", 2: "two", 3: "three"}
MIN_GAP = 2.0  # px between two objects' boxes (on one axis at least): their pixels never touch

HELD_OUT_PAIRS: frozenset[tuple[str, str]] = frozenset(
    {("blue", "triangle"), ("green", "cross"), ("yellow", "circle"), ("purple", "square")}
)  # never red: unnamed-colour captions are drawn red most of the time and would leak the pair into training
#: (axis, shape on the left / top, shape on the right / bottom)
HELD_OUT_ARRANGEMENTS: frozenset[tuple[str, str, str]] = frozenset(
    {("horizontal", "circle", "square"), ("vertical", "triangle", "cross")}
)
N_TEMPLATES = 5
HELD_OUT_TEMPLATES = (3, 4)
TRAIN_TEMPLATES = tuple(t for t in range(N_TEMPLATES) if t not in HELD_OUT_TEMPLATES)

_TEMPLATES = {  # {a_obj}: noun phrase with article; {objs}: "two small red circles"
    "single": (
        "{a_obj} at the {pos} on a {bg} background",
        "{bg} background, {a_obj} at the {pos}",
        "there is {a_obj} at the {pos}; the background is {bg}",
        "{a_obj} sitting at the {pos} of a {bg} canvas",
        "a {bg} scene showing {a_obj} at the {pos}",
    ),
    "count": (
        "{objs} on a {bg} background",
        "{bg} background, {objs}",
        "there are {objs}; the background is {bg}",
        "exactly {objs} on a {bg} canvas",
        "a {bg} scene showing {objs}",
    ),
    "relation": (
        "{a_obj} {rel} {a_obj2} on a {bg} background",
        "{bg} background, {a_obj} {rel} {a_obj2}",
        "there is {a_obj} {rel} {a_obj2}; the background is {bg}",
        "{a_obj} placed {rel} {a_obj2} on a {bg} canvas",
        "a {bg} scene showing {a_obj} {rel} {a_obj2}",
    ),
}
SPEC_COLUMNS = ("kind", "colour", "shape", "size", "position", "count", "relation", "colour2", "shape2", "size2",
                "background")  # fmt: skip
SPLITS = ("train", "eval")
SAVED_FILES = ("images.npz", "table.json.gz", "manifest.json")


# --- rendering --------------------------------------------------------------------------------------------------

_YS, _XS = np.mgrid[0:IMAGE_SIZE, 0:IMAGE_SIZE].astype(np.float64)  # pixel-centre coordinates, (32, 32) each


def shape_mask(shape: str, cx: float, cy: float, r: float) -> np.ndarray:
    """(32, 32) bool: the pixels whose centre lies inside ``shape`` centred at (cx, cy) with half-width ``r``.

    circle: radius r; square: half-side 0.886 r (the circle's area); triangle: apex up, base 2r wide; cross: two
    bars 2r long and 0.7 r thick.

    >>> int(shape_mask("square", 10.0, 10.0, 2.0).sum())   # half-side 1.77: pixels 9, 10, 11 in each axis
    9
    """
    dx, dy = _XS - cx, _YS - cy
    if shape == "circle":
        return dx * dx + dy * dy <= r * r
    if shape == "square":
        s = r * np.sqrt(np.pi) / 2
        return (np.abs(dx) <= s) & (np.abs(dy) <= s)
    if shape == "triangle":
        return (dy >= -r) & (dy <= r) & (np.abs(dx) <= (dy + r) / 2)
    if shape == "cross":
        t = 0.35 * r
        return ((np.abs(dx) <= t) & (np.abs(dy) <= r)) | ((np.abs(dy) <= t) & (np.abs(dx) <= r))
    raise ValueError(f"unknown shape {shape!r}; choose one of {SHAPES}")


def render(objects: list[dict], background_rgb: tuple[int, int, int]) -> np.ndarray:
    """(32, 32, 3) uint8 picture: ``background_rgb`` everywhere, each object's ``rgb`` on its mask.

    >>> obj = {"shape": "circle", "cx": 15.5, "cy": 15.5, "r": 4.0, "rgb": [200, 0, 0]}
    >>> img = render([obj], (30, 30, 30))
    >>> img[15, 15].tolist(), img[0, 0].tolist()
    ([200, 0, 0], [30, 30, 30])
    """
    img = np.empty((IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
    img[:] = background_rgb
    for o in objects:
        img[shape_mask(o["shape"], o["cx"], o["cy"], o["r"])] = o["rgb"]
    return img


# --- specs ------------------------------------------------------------------------------------------------------


def _article(phrase: str) -> str:
    return ("an " if phrase[0] in "aeiou" else "a ") + phrase


def _plural(shape: str) -> str:
    return shape + ("es" if shape.endswith("s") else "s")


def arrangement(spec: Mapping) -> tuple[str, str, str] | None:
    """(axis, shape on the left or top, shape on the right or bottom) of a relation spec; None for other kinds.

    >>> arrangement({"kind": "relation", "shape": "square", "relation": "right of", "shape2": "circle"})
    ('horizontal', 'circle', 'square')
    """
    if spec["kind"] != "relation":
        return None
    a, b, rel = spec["shape"], spec["shape2"], spec["relation"]
    axis = "horizontal" if rel in ("left of", "right of") else "vertical"
    first, second = (a, b) if rel in ("left of", "above") else (b, a)
    return axis, first, second


def canonical(spec: Mapping) -> dict:
    """The same picture's spec with the relation read as "left of" or "above" (the objects swapped if need be):
    "a square right of a circle" and "a circle left of a square" describe one scene.

    >>> c = canonical({"kind": "relation", "colour": "red", "shape": "square", "size": "small", "relation": "right of",
    ...                "colour2": "blue", "shape2": "circle", "size2": "large"})
    >>> c["relation"], c["shape"], c["shape2"]
    ('left of', 'circle', 'square')
    """
    out = dict(spec)
    if spec["kind"] == "relation" and spec["relation"] in ("right of", "below"):
        out["relation"] = {"right of": "left of", "below": "above"}[spec["relation"]]
        for a in ("colour", "shape", "size"):
            out[a], out[a + "2"] = spec[a + "2"], spec[a]
    return out


def is_held_out(spec: Mapping) -> bool:
    """Whether a spec holds a held-out colour x shape pair or a held-out arrangement (never in training).

    >>> is_held_out({"kind": "single", "colour": "blue", "shape": "triangle"})
    True
    """
    if (spec["colour"], spec["shape"]) in HELD_OUT_PAIRS:
        return True
    if spec["kind"] == "relation":
        return (spec["colour2"], spec["shape2"]) in HELD_OUT_PAIRS or arrangement(spec) in HELD_OUT_ARRANGEMENTS
    return False


def caption(spec: Mapping, template: int, colour_named: bool = True) -> str:
    """The caption of ``spec`` in paraphrase ``template`` (0 to 4; 3 and 4 are held out of training).

    >>> spec = {"kind": "relation", "colour": "red", "shape": "circle", "size": "small", "relation": "left of",
    ...         "colour2": "blue", "shape2": "square", "size2": "large", "background": "dark"}
    >>> caption(spec, 0)
    'a small red circle left of a large blue square on a dark background'
    """
    if not 0 <= template < N_TEMPLATES:
        raise ValueError(f"template must be in 0..{N_TEMPLATES - 1}, got {template}")
    colour = f"{spec['colour']} " if colour_named else ""
    obj = f"{spec['size']} {colour}{spec['shape']}"
    fields = {"bg": spec["background"], "a_obj": _article(obj)}
    if spec["kind"] == "single":
        fields["pos"] = spec["position"]
    elif spec["kind"] == "count":
        fields["objs"] = f"{COUNT_WORDS[spec['count']]} {spec['size']} {colour}{_plural(spec['shape'])}"
    elif spec["kind"] == "relation":
        fields["rel"] = spec["relation"]
        fields["a_obj2"] = _article(f"{spec['size2']} {spec['colour2']} {spec['shape2']}")
    else:
        raise ValueError(f"unknown kind {spec['kind']!r}; choose one of {KINDS}")
    return _TEMPLATES[spec["kind"]][template].format(**fields)


def spec_key(spec: Mapping) -> tuple:
    """The spec as a tuple (``SPEC_COLUMNS``): what a caption with a named colour pins down."""
    return tuple(spec[c] for c in SPEC_COLUMNS)


def spec_space() -> pd.DataFrame:
    """Number of distinct specs per kind, in all and without the held-out combinations (what training can show).

    >>> int(spec_space().set_index("kind").loc["single", "n_specs"])   # 6 colours x 4 shapes x 2 sizes x 9 cells x 2
    864
    """
    rows = []
    cs = [(c, s) for c in COLOURS for s in SHAPES]
    for kind in KINDS:
        n = n_allowed = 0
        for colour, shape in cs:
            for size in SIZES:
                for bg in BACKGROUNDS:
                    base = {"kind": kind, "colour": colour, "shape": shape, "size": size, "background": bg}
                    if kind == "single":
                        variants = [dict(base, position=p) for p in POSITIONS]
                    elif kind == "count":
                        variants = [dict(base, count=k) for k in (2, 3)]
                    else:
                        variants = [
                            dict(base, relation=rel, colour2=c2, shape2=s2, size2=z2)
                            for rel in RELATIONS
                            for c2, s2 in cs
                            if (c2, s2) != (colour, shape)
                            for z2 in SIZES
                        ]
                    n += len(variants)
                    n_allowed += sum(not is_held_out(v) for v in variants)
        rows.append({"kind": kind, "n_specs": n, "n_specs_trainable": n_allowed})
    return pd.DataFrame(rows)


class _Sampler:
    """Draws specs and their geometry from one random stream."""

    def __init__(self, rng: np.random.Generator, skew: float, unnamed_share: float, kind_shares: Mapping):
        self.rng = rng
        self.skew = skew
        self.unnamed_share = unnamed_share
        self.kinds = list(kind_shares)
        p = np.array([kind_shares[k] for k in self.kinds], dtype=float)
        self.kind_p = p / p.sum()

    def choice(self, options):
        return options[int(self.rng.integers(len(options)))]

    def spec(self, held_out: bool | None, templates: tuple[int, ...]) -> dict:
        """A spec with caption fields; ``held_out``: True forces a held-out combination, False forbids one, None
        draws from the full space."""
        kind = self.kinds[int(self.rng.choice(len(self.kinds), p=self.kind_p))]
        colour_named = not (kind == "single" and held_out is not True and self.rng.random() < self.unnamed_share)
        # half the forced held-out relation scenes hold a held-out arrangement (pairs alone would rarely give one)
        need_arrangement = held_out is True and kind == "relation" and self.rng.random() < 0.5
        for _ in range(1000):
            spec = {c: "" for c in SPEC_COLUMNS} | {"kind": kind, "count": 1}
            spec["shape"] = self.choice(SHAPES)
            spec["size"] = self.choice(SIZES)
            spec["background"] = self.choice(BACKGROUNDS)
            if colour_named:
                spec["colour"] = self.choice(list(COLOURS))
            else:  # the planted skew: an unnamed colour is red with probability `skew`
                others = [c for c in COLOURS if c != "red" and (c, spec["shape"]) not in HELD_OUT_PAIRS]
                spec["colour"] = "red" if self.rng.random() < self.skew else self.choice(others)
            if kind == "single":
                spec["position"] = self.choice(POSITIONS)
            elif kind == "count":
                spec["count"] = int(self.rng.integers(2, 4))
            else:
                spec["count"] = 2
                spec["relation"] = self.choice(RELATIONS)
                spec["colour2"], spec["shape2"] = self.choice(list(COLOURS)), self.choice(SHAPES)
                spec["size2"] = self.choice(SIZES)
                if (spec["colour2"], spec["shape2"]) == (spec["colour"], spec["shape"]):
                    continue
            if need_arrangement and arrangement(spec) not in HELD_OUT_ARRANGEMENTS:
                continue
            if held_out is None or is_held_out(spec) == held_out:
                template = int(self.choice(templates))
                return spec | {"colour_named": colour_named, "template_id": template}
        raise RuntimeError(f"could not draw a {kind} spec with held_out={held_out}")  # pragma: no cover

    def geometry(self, spec: Mapping) -> tuple[list[dict], tuple[int, int, int]]:
        """Objects (shape, colour, size, cell, centre, half-width, rgb) and the background colour of one picture."""
        if spec["kind"] == "relation":
            parts = [(spec["colour"], spec["shape"], spec["size"]), (spec["colour2"], spec["shape2"], spec["size2"])]
        else:
            parts = [(spec["colour"], spec["shape"], spec["size"])] * spec["count"]
        for _ in range(1000):
            cells = self._cells(spec)
            objects = []
            for (colour, shape, size), (row, col) in zip(parts, cells, strict=True):
                r = float(self.rng.uniform(*RADIUS[size]))
                cx, cy = (CELL_CENTRES[i] + self.rng.uniform(-POSITION_JITTER, POSITION_JITTER) for i in (col, row))
                cx, cy = (float(np.clip(v, r, IMAGE_SIZE - 1 - r)) for v in (cx, cy))
                shade = self.rng.integers(-COLOUR_JITTER, COLOUR_JITTER + 1, 3)
                rgb = np.clip(np.array(COLOURS[colour]) + shade, 0, 255).tolist()
                cell = POSITIONS[3 * row + col]
                objects.append({"colour": colour, "shape": shape, "size": size, "position": cell,
                                "cx": round(cx, 3), "cy": round(cy, 3), "r": round(r, 3), "rgb": rgb})  # fmt: skip
            if _apart(objects):
                grey = int(self.rng.integers(*BACKGROUND_GREY[spec["background"]], endpoint=True))
                bg = np.clip(grey + self.rng.integers(-5, 6, 3), 0, 255)
                return objects, tuple(int(v) for v in bg)
        raise RuntimeError(f"could not place the objects of {dict(spec)} apart")  # pragma: no cover

    def _cells(self, spec: Mapping) -> list[tuple[int, int]]:
        if spec["kind"] == "single":
            return [divmod(POSITIONS.index(spec["position"]), 3)]
        if spec["kind"] == "count":
            flat = self.rng.choice(9, size=spec["count"], replace=False)
            return [divmod(int(i), 3) for i in flat]
        line = int(self.rng.integers(3))
        a, b = sorted(self.rng.choice(3, size=2, replace=False).tolist())  # a before b along the axis
        if spec["relation"] in ("right of", "below"):
            a, b = b, a  # the first object is the later one
        if spec["relation"] in ("left of", "right of"):
            return [(line, a), (line, b)]
        return [(a, line), (b, line)]


def _apart(objects: list[dict]) -> bool:
    for i, o in enumerate(objects):
        for p in objects[i + 1 :]:
            gap_x = abs(o["cx"] - p["cx"]) - o["r"] - p["r"]
            gap_y = abs(o["cy"] - p["cy"]) - o["r"] - p["r"]
            if max(gap_x, gap_y) < MIN_GAP:
                return False
    return True


# --- the world --------------------------------------------------------------------------------------------------


@dataclass
class DrawnWorld:
    images: np.ndarray  # (n, 32, 32, 3) uint8, row i of `table` is picture i
    table: pd.DataFrame  # caption, spec columns, split, image_id, duplicate_count, template_id, objects (JSON), ...
    manifest: dict  # seed, knobs, held-out sets, counts, sha256 of the pixels

    def __post_init__(self):
        if len(self.images) != len(self.table):
            raise ValueError(f"{len(self.images)} images but {len(self.table)} table rows")

    def __len__(self) -> int:
        return len(self.table)

    def split(self, name: str) -> DrawnWorld:
        """The rows of one split ("train" or "eval"), as a DrawnWorld with the same manifest."""
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}; choose one of {SPLITS}")
        keep = (self.table["split"] == name).to_numpy()
        return DrawnWorld(self.images[keep], self.table[keep].reset_index(drop=True), self.manifest)

    def objects(self, i: int) -> list[dict]:
        """The objects of row ``i`` (colour, shape, size, position, cx, cy, r, rgb)."""
        return json.loads(self.table["objects"].iloc[i])

    def to_dataset(self, split: str | None = None):
        """A ``datasets.Dataset`` (one split, or all rows): ``image`` as a (32, 32, 3) uint8 array, then the table's
        columns."""
        import datasets

        part = self if split is None else self.split(split)
        features = datasets.Features(
            {"image": datasets.Array3D(shape=(IMAGE_SIZE, IMAGE_SIZE, 3), dtype="uint8")}
            | {c: datasets.Value(_arrow_type(part.table[c])) for c in part.table.columns}
        )
        data = {"image": list(part.images)} | {c: part.table[c].tolist() for c in part.table.columns}
        return datasets.Dataset.from_dict(data, features=features)

    def save(self, directory: str | Path, *, overwrite: bool = False) -> Path:
        """Write ``images.npz`` (compressed pixels), ``table.json.gz`` (the table, gzipped JSON) and
        ``manifest.json`` (readable) under ``directory``. Refuses to replace an existing world unless
        ``overwrite=True``.
        """
        directory = Path(directory)
        targets = [directory / name for name in SAVED_FILES]
        if not overwrite and any(t.exists() for t in targets):
            raise FileExistsError(f"{directory} already holds a drawn world; pass overwrite=True to replace it")
        directory.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(targets[0], images=self.images)
        table = {"columns": list(self.table.columns), "data": self.table.to_dict("list")}
        targets[1].write_bytes(gzip.compress(json.dumps(table).encode("utf-8"), mtime=0))
        targets[2].write_text(json.dumps(self.manifest, indent=1, sort_keys=True) + "\n")
        return directory


def _arrow_type(column: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(column):
        return "bool"
    if pd.api.types.is_integer_dtype(column):
        return "int64"
    return "string"


def pixels_sha256(images: np.ndarray) -> str:
    """sha256 of the pixels (C order, uint8): same seed and knobs -> same hash."""
    return hashlib.sha256(np.ascontiguousarray(images, dtype=np.uint8).tobytes()).hexdigest()


def load_drawn_world(directory: str | Path) -> DrawnWorld:
    """Read a world written by :meth:`DrawnWorld.save`; the pixels must match the manifest's sha256.

    >>> import tempfile
    >>> w = build_drawn_world(20, 5, seed=0, duplicates={})
    >>> back = load_drawn_world(w.save(tempfile.mkdtemp()))
    >>> bool((back.images == w.images).all()), back.table.equals(w.table)
    (True, True)
    """
    directory = Path(directory)
    missing = [name for name in SAVED_FILES if not (directory / name).exists()]
    if missing:
        raise FileNotFoundError(f"{directory} lacks {missing}: not a directory written by DrawnWorld.save")
    with np.load(directory / SAVED_FILES[0]) as f:
        images = f["images"]
    table = json.loads(gzip.decompress((directory / SAVED_FILES[1]).read_bytes()))
    manifest = json.loads((directory / SAVED_FILES[2]).read_text())
    if pixels_sha256(images) != manifest["sha256"]["all"]:
        raise ValueError(f"{directory}/images.npz does not match its manifest's sha256: the files were changed")
    return DrawnWorld(images, pd.DataFrame(table["data"], columns=table["columns"]), manifest)


def _default_duplicates(n_train: int) -> dict[int, int]:
    """About 2% of training rows at each of 2, 8 and 32 copies; the largest N dropped while they fill over half."""
    dup = {2: max(1, n_train // 100), 8: max(1, n_train // 400), 32: max(1, n_train // 1600)}
    while dup and sum(n * k for n, k in dup.items()) > n_train // 2:
        dup.pop(max(dup))
    return dup


def build_drawn_world(
    n_train: int,
    n_eval: int,
    seed: int = 0,
    *,
    skew: float = 0.8,
    duplicates: Mapping[int, int] | None = None,
    unnamed_share: float = 0.1,
    eval_held_out_share: float = 0.3,
    kind_shares: Mapping[str, float] | None = None,
) -> DrawnWorld:
    """Draw ``n_train`` training rows and ``n_eval`` evaluation rows of the drawn world.

    ``skew``: share of unnamed-colour captions drawn red. ``duplicates``: ``{N: k}``, k distinct training pictures
    repeated N times each (``{}`` for none; default: about 2% of the rows at each of N = 2, 8, 32, see
    ``_default_duplicates``). ``unnamed_share``: share of ``single`` scenes whose caption leaves the colour out (in
    both splits). ``eval_held_out_share``: share of evaluation rows forced to hold a held-out pair or arrangement; the
    other evaluation rows come from the training distribution (half the forced relation scenes hold a held-out
    arrangement, the rest a held-out pair), and every evaluation row uses any of the 5 templates
    (training rows only the 3 training templates). ``kind_shares``: mix of scene kinds (default single 0.5, count
    0.2, relation 0.3).

    Columns of ``table``: ``split``, ``image_id`` (copies share it), ``caption``, ``template_id``,
    ``template_held_out``, ``colour_named``, the spec (``kind``, ``colour``, ``shape``, ``size``, ``position`` (single
    scenes), ``count`` (objects in the picture), ``relation``, ``colour2``, ``shape2``, ``size2`` (relation scenes),
    ``background``; "" where not applicable), ``held_out`` (a held-out combination), ``duplicate_count``,
    ``objects`` (JSON: each object's colour, shape, size, grid cell, centre, half-width and drawn rgb).

    Training rows are shuffled, so copies are scattered. The training split does not depend on ``n_eval``, and
    the evaluation split not on ``n_train`` beyond the images it must avoid.

    >>> w = build_drawn_world(40, 10, seed=3, duplicates={})
    >>> w.manifest["counts"]["train"], bool(w.table.query("split == 'train'").held_out.any())
    (40, False)
    """
    for name, v in (("n_train", n_train), ("n_eval", n_eval), ("seed", seed)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {v!r}")
    for name, v in (("skew", skew), ("unnamed_share", unnamed_share), ("eval_held_out_share", eval_held_out_share)):
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"{name} must be a share in [0, 1], got {v!r}")
    kind_shares = dict(kind_shares or {"single": 0.5, "count": 0.2, "relation": 0.3})
    if not kind_shares or set(kind_shares) - set(KINDS) or min(kind_shares.values()) < 0:
        raise ValueError(f"kind_shares must map some of {KINDS} to non-negative weights, got {kind_shares}")
    duplicates = _default_duplicates(n_train) if duplicates is None else dict(duplicates)
    for n_copies, k in duplicates.items():
        if not isinstance(n_copies, (int, np.integer)) or not isinstance(k, (int, np.integer)) or n_copies < 2 or k < 0:
            raise ValueError(f"duplicates maps copies N >= 2 to a number of pictures k >= 0, got {duplicates}")
    n_copied_rows = sum(n * k for n, k in duplicates.items())
    if n_copied_rows > n_train:
        raise ValueError(f"duplicates {duplicates} need {n_copied_rows} training rows, more than n_train={n_train}")

    train_rng, eval_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    seen: set[bytes] = set()

    def draw(sampler: _Sampler, held_out: bool | None, templates: tuple[int, ...]) -> tuple[np.ndarray, dict]:
        while True:  # a picture equal to one already drawn is redrawn: copies come only from `duplicates`
            spec = sampler.spec(held_out, templates)
            objects, bg = sampler.geometry(spec)
            img = render(objects, bg)
            digest = hashlib.sha1(img.tobytes()).digest()
            if digest not in seen:
                seen.add(digest)
                spec["caption"] = caption(spec, spec["template_id"], spec["colour_named"])
                spec["objects"] = json.dumps(objects)
                spec["background_rgb"] = json.dumps(list(bg))
                spec["held_out"] = is_held_out(spec)
                return img, spec

    # training: distinct pictures, then the chosen ones repeated
    sampler = _Sampler(train_rng, skew, unnamed_share, kind_shares)
    copies = [n for n, k in sorted(duplicates.items()) for _ in range(k)]
    n_unique = n_train - n_copied_rows + len(copies)
    train = [draw(sampler, False, TRAIN_TEMPLATES) for _ in range(n_unique)]
    counts = np.ones(n_unique, dtype=int)
    counts[train_rng.choice(n_unique, size=len(copies), replace=False)] = copies
    order = train_rng.permutation(np.repeat(np.arange(n_unique), counts))
    sampler = _Sampler(eval_rng, skew, unnamed_share, kind_shares)
    all_templates = tuple(range(N_TEMPLATES))
    evals = [draw(sampler, bool(eval_rng.random() < eval_held_out_share), all_templates) for _ in range(n_eval)]

    rows, images = [], []
    for i in order:
        img, spec = train[i]
        rows.append(spec | {"split": "train", "image_id": f"train-{i:06d}", "duplicate_count": int(counts[i])})
        images.append(img)
    for j, (img, spec) in enumerate(evals):
        rows.append(spec | {"split": "eval", "image_id": f"eval-{j:06d}", "duplicate_count": 1})
        images.append(img)
    table = pd.DataFrame(rows)
    if len(table):
        table["template_held_out"] = table["template_id"].isin(HELD_OUT_TEMPLATES)
        first = ["split", "image_id", "caption", "template_id", "template_held_out", "colour_named", *SPEC_COLUMNS]
        rest = ["held_out", "duplicate_count", "objects", "background_rgb"]
        table = table[first + rest]
    pixels = np.stack(images) if images else np.empty((0, IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
    manifest = {
        "generator": "genlab.worlds.drawn",
        "generator_version": GENERATOR_VERSION,
        "image_size": IMAGE_SIZE,
        "seed": int(seed),
        "knobs": {
            "skew": skew,
            "duplicates": {str(n): k for n, k in sorted(duplicates.items())},
            "unnamed_share": unnamed_share,
            "eval_held_out_share": eval_held_out_share,
            "kind_shares": kind_shares,
        },
        "held_out": {
            "pairs": sorted(map(list, HELD_OUT_PAIRS)),
            "arrangements": sorted(map(list, HELD_OUT_ARRANGEMENTS)),
            "templates": list(HELD_OUT_TEMPLATES),
        },
        "counts": {"train": int(n_train), "train_unique_images": int(n_unique), "eval": int(n_eval)},
        "sha256": {
            "all": pixels_sha256(pixels),
            "train": pixels_sha256(pixels[: len(order)]),
            "eval": pixels_sha256(pixels[len(order) :]),
        },
    }
    return DrawnWorld(pixels, table, manifest)


# --- how hard is it ---------------------------------------------------------------------------------------------

ATTRIBUTES = ("kind", "colour", "shape", "size", "position", "count", "relation", "colour2", "shape2", "size2",
              "background")  # fmt: skip


def nearest_neighbour_baseline(world: DrawnWorld, *, batch_size: int = 256) -> pd.DataFrame:
    """Attribute accuracy of a 1-nearest-neighbour "model" on pixels: each evaluation picture takes the spec of the
    closest training picture (Euclidean distance on raw RGB). Relation scenes are compared in :func:`canonical` form
    ("B right of A" is the picture of "A left of B"). One row per attribute, scored on the evaluation rows
    where the attribute applies, split by ``held_out``; columns ``attribute``, ``held_out``, ``n``, ``k`` (correct),
    ``accuracy``.

    A world in which this baseline reads every attribute right would be too easy to say anything about a model.

    >>> w = build_drawn_world(200, 40, seed=0, duplicates={})
    >>> table = nearest_neighbour_baseline(w)
    >>> bool((table.accuracy < 1).any())
    True
    """
    train, test = world.split("train"), world.split("eval")
    if len(train) == 0 or len(test) == 0:
        raise ValueError("need both training and evaluation rows for the nearest-neighbour baseline")
    a = train.images.reshape(len(train), -1).astype(np.float32)
    a_sq = (a * a).sum(1)
    nearest = np.empty(len(test), dtype=int)
    for start in range(0, len(test), batch_size):
        b = test.images[start : start + batch_size].reshape(-1, a.shape[1]).astype(np.float32)
        d = a_sq[None, :] - 2 * b @ a.T  # + |b|^2, the same for every candidate
        nearest[start : start + len(b)] = d.argmin(1)
    guess = pd.DataFrame([canonical(r) for r in train.table.iloc[nearest].to_dict("records")])
    truth = pd.DataFrame([canonical(r) for r in test.table.to_dict("records")])
    rows = []
    for held_out in (False, True):
        part = (truth["held_out"] == held_out).to_numpy()
        for attr in ATTRIBUTES:
            applies = part & (truth[attr].astype(str) != "").to_numpy()
            n = int(applies.sum())
            if n:
                k = int((truth[attr].to_numpy()[applies] == guess[attr].to_numpy()[applies]).sum())
                rows.append({"attribute": attr, "held_out": held_out, "n": n, "k": k, "accuracy": k / n})
    return pd.DataFrame(rows)


def difficulty_report(world: DrawnWorld) -> dict:
    """How varied and how hard the world is: distinct specs (``SPEC_COLUMNS``) per split against the number
    possible (:func:`spec_space`), distinct pictures, and the nearest-neighbour baseline's accuracy.

    >>> r = difficulty_report(build_drawn_world(100, 30, seed=1, duplicates={2: 5}))
    >>> r["distinct_images"]["train"], r["possible_specs"]
    (95, 18720)
    """
    out: dict = {"distinct_specs": {}, "distinct_images": {}}
    for name in SPLITS:
        part = world.split(name)
        out["distinct_specs"][name] = int(part.table[list(SPEC_COLUMNS)].drop_duplicates().shape[0])
        out["distinct_images"][name] = int(part.table["image_id"].nunique())
    space = spec_space()
    out["possible_specs"] = int(space["n_specs"].sum())
    out["trainable_specs"] = int(space["n_specs_trainable"].sum())
    out["nearest_neighbour"] = nearest_neighbour_baseline(world)
    return out
