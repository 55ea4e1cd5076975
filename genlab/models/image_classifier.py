"""A small multi-head CNN that reads a drawn-world picture (32x32 RGB) and names every attribute a caption can ask
for: the evaluator of genlab's text-to-image models, and the feature extractor for their Fréchet distance.

One shared trunk (three conv blocks, then one fully connected layer whose 128 outputs are the *penultimate
features*) and one linear head per attribute (:data:`HEADS`). Relation scenes are read in canonical form
(:func:`genlab.worlds.drawn.canonical`): the first object is the one on the left or on top, so ``relation`` has
two classes, "left of" (side by side) and "above" (one over the other), and ``colour2`` / ``shape2`` / ``size2``
describe the object on the right or below. A head answers for every picture; which answers apply (``position``
only to single scenes, ``relation`` and the second object only to relation scenes) is the caller's business.

Inputs are pixels: uint8 arrays (n, 32, 32, 3), or float arrays in [0, 1] of that shape (values outside are
clipped). The network sees them scaled to [-1, 1], the range a diffusion model samples in; the noise of
:func:`add_pixel_noise` is measured in that range too.

>>> clf = AttributeClassifier(ClassifierConfig(channels=(4, 8, 8), feature_dim=16)).eval()
>>> images = np.zeros((2, 32, 32, 3), dtype=np.uint8)
>>> list(clf.predict(images).columns) == list(HEADS)
True
>>> clf.features(images).shape
(2, 16)
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from genlab.worlds.drawn import BACKGROUNDS, COLOURS, IMAGE_SIZE, KINDS, POSITIONS, SHAPES, SIZES, canonical

__all__ = [
    "CANONICAL_RELATIONS",
    "HEADS",
    "AttributeClassifier",
    "ClassifierConfig",
    "add_pixel_noise",
    "encode_specs",
    "load_attribute_classifier",
    "save_attribute_classifier",
    "to_model_input",
]

#: A relation read from the picture, canonical: the first object on the left ("left of") or on top ("above").
CANONICAL_RELATIONS = ("left of", "above")
#: Every head and its classes, in output order. ``count`` is the number of objects in the picture.
HEADS: dict[str, tuple] = {
    "kind": KINDS,
    "count": (1, 2, 3),
    "colour": tuple(COLOURS),
    "shape": SHAPES,
    "size": SIZES,
    "position": POSITIONS,
    "relation": CANONICAL_RELATIONS,
    "colour2": tuple(COLOURS),
    "shape2": SHAPES,
    "size2": SIZES,
    "background": BACKGROUNDS,
}
IGNORE = -100  # label of a head that does not apply to a picture (torch's cross-entropy ignore_index)
WEIGHTS_FILE, CONFIG_FILE = "model.safetensors", "config.json"


@dataclass(frozen=True)
class ClassifierConfig:
    channels: tuple[int, int, int] = (32, 64, 128)  # conv widths of the three blocks (32x32, 16x16, 8x8)
    feature_dim: int = 128  # width of the penultimate layer: the features FID is computed on
    dropout: float = 0.1  # before the heads, in training only
    heads: dict[str, tuple] = field(default_factory=lambda: dict(HEADS))  # kept in the saved config


class AttributeClassifier(nn.Module):
    """Conv trunk -> penultimate features (``feature_dim``) -> one linear head per attribute of :data:`HEADS`."""

    def __init__(self, config: ClassifierConfig | None = None):
        super().__init__()
        self.config = config or ClassifierConfig()
        c1, c2, c3 = self.config.channels

        def conv(a: int, b: int) -> list[nn.Module]:
            return [nn.Conv2d(a, b, 3, padding=1), nn.BatchNorm2d(b), nn.ReLU()]

        self.trunk = nn.Sequential(
            *conv(3, c1), *conv(c1, c1), nn.MaxPool2d(2),  # (B, c1, 16, 16)
            *conv(c1, c2), *conv(c2, c2), nn.MaxPool2d(2),  # (B, c2, 8, 8)
            *conv(c2, c3), nn.MaxPool2d(2),  # (B, c3, 4, 4): flattened, so where an object sits is kept
            nn.Flatten(),
            nn.Linear(c3 * 16, self.config.feature_dim), nn.ReLU(),
        )  # fmt: skip
        self.dropout = nn.Dropout(self.config.dropout)
        self.heads = nn.ModuleDict({name: nn.Linear(self.config.feature_dim, len(c)) for name, c in HEADS.items()})

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """``x``: (B, 3, 32, 32) in [-1, 1] -> {head: (B, n_classes) logits}."""
        h = self.dropout(self.trunk(x))  # (B, feature_dim)
        return {name: head(h) for name, head in self.heads.items()}

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @torch.no_grad()
    def logits(self, images, *, batch_size: int = 256) -> dict[str, np.ndarray]:
        """{head: (n, n_classes) logits} for pixels ``images``, in eval mode (the module's mode is restored)."""
        x = to_model_input(images)
        was_training = self.training
        self.eval()
        try:
            parts = [self(x[i : i + batch_size].to(self.device)) for i in range(0, len(x), batch_size)]
        finally:
            self.train(was_training)
        return {h: torch.cat([p[h] for p in parts]).cpu().numpy() if parts else np.empty((0, len(HEADS[h])))
                for h in HEADS}  # fmt: skip

    def predict(self, images, *, batch_size: int = 256) -> pd.DataFrame:
        """One row per picture, one column per head (:data:`HEADS`): the most likely class (``count`` an int,
        the rest strings); relation scenes in canonical form."""
        logits = self.logits(images, batch_size=batch_size)
        return pd.DataFrame({h: [HEADS[h][i] for i in logits[h].argmax(1)] for h in HEADS})

    @torch.no_grad()
    def features(self, images, *, batch_size: int = 256) -> np.ndarray:
        """(n, feature_dim) float64: the penultimate layer (after its ReLU), for Fréchet distances and diversity."""
        x = to_model_input(images)
        was_training = self.training
        self.eval()
        try:
            parts = [self.trunk(x[i : i + batch_size].to(self.device)).cpu() for i in range(0, len(x), batch_size)]
        finally:
            self.train(was_training)
        return torch.cat(parts).double().numpy() if parts else np.empty((0, self.config.feature_dim))


def _pixels(images) -> np.ndarray:
    """(n, 32, 32, 3) float32 in [0, 1] from uint8 pixels or floats in [0, 1]."""
    arr = np.asarray(images)
    if arr.ndim != 4 or arr.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE, 3):
        raise ValueError(
            f"images must have shape (n, {IMAGE_SIZE}, {IMAGE_SIZE}, 3) (pixels, channels last); got {arr.shape}"
        )
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / 255.0
    if not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(f"images must be uint8 pixels or floats in [0, 1], got dtype {arr.dtype}")
    if not np.isfinite(arr).all():
        raise ValueError("images hold nan or inf values; clip or fix the generated pixels first")
    return np.clip(arr, 0.0, 1.0).astype(np.float32)


def to_model_input(images) -> torch.Tensor:
    """(n, 3, 32, 32) float32 tensor in [-1, 1] from pixels (uint8, or floats in [0, 1]) of shape (n, 32, 32, 3).

    >>> to_model_input(np.full((1, 32, 32, 3), 255, dtype=np.uint8)).shape, float(to_model_input(
    ...     np.zeros((1, 32, 32, 3), dtype=np.uint8)).min())
    (torch.Size([1, 3, 32, 32]), -1.0)
    """
    return torch.from_numpy(_pixels(images) * 2.0 - 1.0).permute(0, 3, 1, 2).contiguous()


def add_pixel_noise(images, sigma: float | np.ndarray, *, seed: int = 0) -> np.ndarray:
    """uint8 pixels with Gaussian noise of standard deviation ``sigma`` added in the [-1, 1] range (sigma 0.1 is
    about 13 grey levels), then clipped and rounded: what a slightly noisy sample looks like once saved as pixels.
    ``sigma`` is one value or one per picture. Seeded.

    >>> img = np.full((1, 32, 32, 3), 128, dtype=np.uint8)
    >>> noisy = add_pixel_noise(img, 0.1, seed=0)
    >>> noisy.dtype, 9 < float(noisy.astype(float).std()) < 16
    (dtype('uint8'), True)
    """
    x = _pixels(images) * 2.0 - 1.0
    sigma = np.broadcast_to(np.asarray(sigma, dtype=np.float32).reshape(-1, 1, 1, 1), (len(x), 1, 1, 1))
    if (sigma < 0).any():
        raise ValueError("sigma must be non-negative")
    noisy = x + np.random.default_rng(seed).standard_normal(x.shape, dtype=np.float32) * sigma
    return np.round((np.clip(noisy, -1.0, 1.0) + 1.0) * 127.5).astype(np.uint8)


def encode_specs(specs: pd.DataFrame) -> dict[str, np.ndarray]:
    """{head: (n,) int64 class indices} of the canonical specs in ``specs`` (drawn-world table rows);
    :data:`IGNORE` where a head does not apply (position outside single scenes, relation and the second object
    outside relation scenes).

    >>> rows = pd.DataFrame([{"kind": "relation", "colour": "red", "shape": "square", "size": "small",
    ...     "position": "", "count": 2, "relation": "right of", "colour2": "blue", "shape2": "circle",
    ...     "size2": "large", "background": "dark"}])
    >>> labels = encode_specs(rows)
    >>> HEADS["shape"][labels["shape"][0]], HEADS["relation"][labels["relation"][0]], int(labels["position"][0])
    ('circle', 'left of', -100)
    """
    missing = [c for c in HEADS if c not in specs.columns]
    if missing:
        raise ValueError(f"specs lack columns {missing}: pass rows of a drawn world's table")
    out = {h: np.full(len(specs), IGNORE, dtype=np.int64) for h in HEADS}
    for i, row in enumerate(specs[list(HEADS)].to_dict("records")):
        spec = canonical(row)
        for h, classes in HEADS.items():
            value = int(spec[h]) if h == "count" else spec[h]
            if value != "" and value in classes:
                out[h][i] = classes.index(value)
            elif value != "":
                raise ValueError(f"row {i}: {h}={value!r} is not one of {classes}")
    return out


def save_attribute_classifier(
    model: AttributeClassifier, directory: str | Path, *, extra: dict | None = None, overwrite: bool = False
) -> Path:
    """Write ``model.safetensors`` and ``config.json`` (the config, plus ``extra``) under ``directory``. Refuses to
    replace an existing classifier unless ``overwrite=True``."""
    from safetensors.torch import save_file

    directory = Path(directory)
    if not overwrite and (directory / WEIGHTS_FILE).exists():
        raise FileExistsError(f"{directory} already holds a classifier; pass overwrite=True to replace it")
    directory.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(directory / WEIGHTS_FILE), metadata={"format": "pt"})
    config = asdict(model.config) | {"architecture": "genlab.models.image_classifier.AttributeClassifier"}
    config["heads"] = {h: list(c) for h, c in model.config.heads.items()}
    (directory / CONFIG_FILE).write_text(json.dumps(config | dict(extra or {}), indent=1) + "\n", encoding="utf-8")
    return directory


def load_attribute_classifier(directory: str | Path, *, device: str = "cpu") -> AttributeClassifier:
    """The classifier saved by :func:`save_attribute_classifier`, in eval mode (safetensors only).

    >>> import tempfile
    >>> clf = AttributeClassifier(ClassifierConfig(channels=(4, 8, 8), feature_dim=16))
    >>> back = load_attribute_classifier(save_attribute_classifier(clf, tempfile.mkdtemp()))
    >>> all(torch.equal(a, b) for a, b in zip(clf.state_dict().values(), back.state_dict().values()))
    True
    """
    from safetensors.torch import load_file

    directory = Path(directory)
    if not (directory / WEIGHTS_FILE).is_file() or not (directory / CONFIG_FILE).is_file():
        raise FileNotFoundError(f"{directory} holds no {WEIGHTS_FILE} and {CONFIG_FILE}: not a saved classifier")
    raw = json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8"))
    heads = {h: tuple(c) for h, c in raw["heads"].items()}
    if heads != HEADS:
        raise ValueError(f"{directory} was saved with other heads ({sorted(heads)}): rebuild it with this genlab")
    config = ClassifierConfig(channels=tuple(raw["channels"]), feature_dim=raw["feature_dim"], dropout=raw["dropout"])
    model = AttributeClassifier(config)
    model.load_state_dict(load_file(str(directory / WEIGHTS_FILE)))
    return model.to(device).eval()
