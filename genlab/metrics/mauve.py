"""MAUVE (Pillutla et al., NeurIPS 2021): how close the distribution of generated text is to human text.

Embed both sets of texts, quantise the joint embeddings into k-means buckets, and compare the two histograms
P (human) and Q (model) along the divergence frontier: for λ in (0, 1), R_λ = λP + (1-λ)Q and the point
(exp(-c KL(Q||R_λ)), exp(-c KL(P||R_λ))), c = 5. MAUVE is the area under that curve: 1 for identical
distributions, near 0 for disjoint ones. The computation after featurisation is the authors' package
(``mauve-text``: ``mauve.compute_mauve(p_features=..., q_features=...)``), called as is.

Features. The reference featuriser is GPT-2 Large's final-token hidden state, which cannot be downloaded here.
genlab offers (a) ``"model"``: the final-token, last-layer hidden state of a bundle's own model (what MAUVE does
with GPT-2; Su & Xu 2022 use GPT-2 small), or (b) ``"minilm"``: the offline MiniLM sentence encoder.

Buckets. ``num_buckets="auto"`` is MAUVE's own rule, max(2, round(min(n_p, n_q) / 10)), so that each bucket
holds about ten texts of the smaller side; the authors' README asks for a few thousand texts per side (5,000 in
the paper) and warns that small n biases MAUVE upward. For small n, faiss prints "WARNING clustering ... please
provide at least ... training points" on every k-means run; genlab drops that one line (this paragraph says what it
means) and passes on anything else faiss writes.

Two regimes. MAUVE is a statistic of k-means histograms; with a few dozen texts per side it has 2-3 buckets and
is a demonstration of the metric, not a measurement (the authors' README: a few thousand texts per side; small n
biases MAUVE upward). ``MauveResult.regime`` says which one a number is: ``"demonstration"`` when either side has
fewer than ``FULL_SIZE`` (1,000) texts, ``"full"`` from 1,000 texts per side with the authors' settings
(``num_buckets="auto"`` = n/10, c = 5, PCA to 0.9 explained variance, 5 k-means restarts of at most 500 iterations,
25 frontier points, seed 25), and ``"full, non-default settings"`` at full size with any of those changed. Report a
demonstration value without an interval: ``genlab.probes.degeneration.degeneration_scores`` gives MAUVE an interval
only in the full regime.

Identical histograms. When P and Q fall into the buckets in exactly the same proportions, the frontier is the
corner (1, 1) and MAUVE is 1 by definition; mauve-text 0.4 returns 0.75 when those proportions are also exactly
uniform (a tie in the sort before its area computation). genlab returns 1.0 (and MAUVE* 1.0) whenever the
histograms are identical; otherwise it returns mauve-text's numbers unchanged.

Limitations: scores depend on the featuriser, the number of buckets, the seed and n; compare only numbers
computed with identical settings. A small model's own features (a) see what that model sees and no more.
MiniLM carries the coverage and biases of its English web training data.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> human = rng.normal(size=(200, 16)).astype("float32")
>>> round(mauve_from_features(human, human).mauve, 4)                  # identical features
1.0
>>> mauve_from_features(human, human + 3.0).mauve < 0.05               # a shifted distribution
True
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch

from genlab.models.modes import eval_mode

__all__ = ["FULL_SIZE", "MauveResult", "mauve", "mauve_from_features", "mauve_regime", "mauve_score", "model_features"]

#: Texts per side from which MAUVE is treated as a measurement (the README asks for a few thousand; the paper 5,000).
FULL_SIZE = 1000
#: The authors' settings (``mauve.compute_mauve``'s defaults, as used in the paper).
AUTHORS_SETTINGS = {
    "num_buckets": "auto",
    "mauve_scaling_factor": 5.0,
    "kmeans_explained_var": 0.9,
    "kmeans_num_redo": 5,
    "kmeans_max_iter": 500,
    "divergence_curve_discretization_size": 25,
    "seed": 25,
}


@dataclass
class MauveResult:
    mauve: float  # area under the divergence frontier, in [0, 1]; higher: closer to human text
    frontier_integral: float  # lower is better
    mauve_star: float  # with Krichevsky-Trofimov smoothed histograms (Pillutla et al., JMLR 2023)
    num_buckets: int
    n_p: int  # human texts
    n_q: int  # model texts
    regime: str  # "demonstration" (fewer than FULL_SIZE texts on a side), "full" or "full, non-default settings"
    p_hist: np.ndarray = field(repr=False)  # human histogram over buckets
    q_hist: np.ndarray = field(repr=False)  # model histogram over buckets
    divergence_curve: np.ndarray = field(repr=False)


# faiss writes this from C (fprintf to the process's stderr, fd 2) whenever k-means gets fewer than 39 points per
# centroid: every MAUVE on fewer than a few thousand texts, so dozens of lines per study at the notebooks' CI sizes
# (a jackknife re-runs k-means per group). mauve-text gives no way to pass faiss' min_points_per_centroid, so the
# line is filtered where it is written: fd 2 goes to a temporary file during compute_mauve, and every other line
# is written back to stderr afterwards.
_FAISS_SMALL_N = re.compile(
    rb"^WARNING clustering \d+ points to \d+ centroids: please provide at least \d+ training points"
)


@contextlib.contextmanager
def _without_faiss_small_n_warning():
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no fd 2 to redirect (an embedded interpreter): leave stderr as it is
        yield
        return
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            rest = [line for line in captured.read().splitlines(keepends=True) if not _FAISS_SMALL_N.match(line)]
            if rest:
                sys.stderr.write(b"".join(rest).decode("utf-8", errors="replace"))
                sys.stderr.flush()


def mauve_regime(n_p: int, n_q: int, settings: dict | None = None) -> str:
    """Which regime a MAUVE computed on ``n_p`` human and ``n_q`` model texts is in (see the module docstring).

    ``settings``: the keyword values used (missing keys count as the authors' defaults).

    >>> mauve_regime(32, 32), mauve_regime(1000, 5000), mauve_regime(1000, 1000, {"num_buckets": 8})
    ('demonstration', 'full', 'full, non-default settings')
    """
    for name, n in (("n_p", n_p), ("n_q", n_q)):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"{name} must be a count of texts (a non-negative integer), got {n!r}")
    if min(n_p, n_q) < FULL_SIZE:
        return "demonstration"
    settings = settings or {}
    same = all(settings.get(k, v) == v for k, v in AUTHORS_SETTINGS.items())
    return "full" if same else "full, non-default settings"


def mauve_from_features(
    p_features,
    q_features,
    *,
    num_buckets: int | Literal["auto"] = "auto",
    seed: int = 25,
    mauve_scaling_factor: float = 5.0,
    kmeans_explained_var: float = 0.9,
    kmeans_num_redo: int = 5,
    kmeans_max_iter: int = 500,
    divergence_curve_discretization_size: int = 25,
) -> MauveResult:
    """MAUVE of precomputed features: ``p_features`` (human, (n_p, d)) vs ``q_features`` (model, (n_q, d)).

    The defaults are ``mauve.compute_mauve``'s, the authors' settings; see the module docstring for
    ``num_buckets`` and for ``regime``, which is ``"demonstration"`` below ``FULL_SIZE`` texts on either side:

    >>> rng = np.random.default_rng(0)
    >>> r = mauve_from_features(rng.normal(size=(40, 8)), rng.normal(size=(40, 8)))
    >>> r.regime, r.num_buckets, (r.n_p, r.n_q)
    ('demonstration', 4, (40, 40))
    """
    import mauve as mauve_package

    p, q = np.asarray(p_features, dtype=np.float32), np.asarray(q_features, dtype=np.float32)
    if p.ndim != 2 or q.ndim != 2 or p.shape[1] != q.shape[1]:
        raise ValueError(f"features must be 2-d arrays with the same width; got {p.shape} and {q.shape}")
    if min(len(p), len(q)) < 2:
        raise ValueError(
            f"MAUVE needs at least 2 texts per side (a few thousand for stable values); got {len(p)} and {len(q)}"
        )
    if num_buckets != "auto" and (not isinstance(num_buckets, int) or not 2 <= num_buckets <= len(p) + len(q)):
        raise ValueError(f"num_buckets must be 'auto' or an integer in [2, n_p + n_q], got {num_buckets!r}")
    with _without_faiss_small_n_warning():
        out = mauve_package.compute_mauve(
            p_features=p,
            q_features=q,
            num_buckets=num_buckets,
            device_id=-1,
            verbose=False,
            seed=seed,
            mauve_scaling_factor=mauve_scaling_factor,
            kmeans_explained_var=kmeans_explained_var,
            kmeans_num_redo=kmeans_num_redo,
            kmeans_max_iter=kmeans_max_iter,
            divergence_curve_discretization_size=divergence_curve_discretization_size,
        )
    same = np.array_equal(out.p_hist, out.q_hist)  # the frontier is the corner (1, 1): area 1 by definition
    settings = {
        "num_buckets": num_buckets,
        "mauve_scaling_factor": mauve_scaling_factor,
        "kmeans_explained_var": kmeans_explained_var,
        "kmeans_num_redo": kmeans_num_redo,
        "kmeans_max_iter": kmeans_max_iter,
        "divergence_curve_discretization_size": divergence_curve_discretization_size,
        "seed": seed,
    }
    return MauveResult(
        mauve=1.0 if same else float(out.mauve),
        frontier_integral=float(out.frontier_integral),
        mauve_star=1.0 if same else float(out.mauve_star),
        num_buckets=int(out.num_buckets),
        n_p=len(p),
        n_q=len(q),
        regime=mauve_regime(len(p), len(q), settings),
        p_hist=out.p_hist,
        q_hist=out.q_hist,
        divergence_curve=out.divergence_curve,
    )


def model_features(
    bundle, texts: Sequence[str], *, max_text_length: int = 1024, add_bos: bool | None = None, batch_size: int = 16
) -> np.ndarray:
    """(n, hidden) float32: the last-layer hidden state at each text's final token, as MAUVE featurises with GPT-2.

    Texts are truncated to their first ``max_text_length`` tokens (and the model's context). ``add_bos``:
    prepend BOS (``None``: when the tokenizer has one, as genlab models were trained). Batches are right-padded
    with explicit positions, so a text's features do not depend on its batch.
    """
    if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
        raise ValueError("texts must be a list of strings (wrap a single text in a list)")
    model, tok = bundle.model, bundle.tokenizer
    add_bos = tok.bos_token_id is not None if add_bos is None else add_bos
    config = getattr(model, "config", None)
    context = getattr(config, "n_positions", None) or getattr(config, "max_position_embeddings", None) or 1024
    limit = min(max_text_length, context)
    ids = [
        (([tok.bos_token_id] if add_bos else []) + x)[:limit]
        for x in (tok(list(texts), add_special_tokens=False)["input_ids"] if texts else [])
    ]
    if any(not x for x in ids):
        raise ValueError("an empty text has no final token to featurise; drop it or keep add_bos on")
    feats = np.zeros((len(ids), model.config.hidden_size), dtype=np.float32)
    order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
    with eval_mode(model):
        with torch.inference_mode():
            for s in range(0, len(order), batch_size):
                rows = order[s : s + batch_size]
                lengths = torch.tensor([len(ids[i]) for i in rows])
                width = int(lengths.max())
                batch = torch.zeros(len(rows), width, dtype=torch.long)
                for r, i in enumerate(rows):
                    batch[r, : len(ids[i])] = torch.as_tensor(ids[i])
                mask = (torch.arange(width)[None, :] < lengths[:, None]).long()
                out = model(
                    input_ids=batch.to(bundle.device),
                    attention_mask=mask.to(bundle.device),
                    position_ids=torch.arange(width).expand(len(rows), -1).to(bundle.device),
                    output_hidden_states=True,
                    use_cache=False,
                    return_dict=True,
                )
                last = out.hidden_states[-1][torch.arange(len(rows)), (lengths - 1).to(bundle.device)]  # (B, H)
                feats[rows] = last.float().cpu().numpy()
    return feats


def _features(texts: Sequence[str], features: str, bundle, max_text_length: int, batch_size: int) -> np.ndarray:
    if features == "minilm":
        from genlab.metrics.coherence import sentence_embeddings

        return sentence_embeddings(texts, batch_size=max(batch_size, 32))
    if features == "model":
        if bundle is None:
            raise ValueError("features='model' needs bundle=... (the model whose hidden states are the features)")
        return model_features(bundle, texts, max_text_length=max_text_length, batch_size=batch_size)
    raise ValueError(f"features must be 'minilm' or 'model', got {features!r}")


def mauve(
    texts: Sequence[str],
    references: Sequence[str],
    *,
    features: Literal["minilm", "model"] = "minilm",
    bundle=None,
    num_buckets: int | Literal["auto"] = "auto",
    max_text_length: int = 1024,
    seed: int = 25,
    batch_size: int = 16,
) -> MauveResult:
    """MAUVE of generated ``texts`` (Q) against human ``references`` (P); the sets need not pair up.

    ``features``: ``"minilm"`` (offline sentence encoder) or ``"model"`` (``bundle``'s final-token hidden state).
    """
    for name, value in (("texts", texts), ("references", references)):
        if isinstance(value, str) or not all(isinstance(t, str) for t in value):
            raise ValueError(f"{name} must be a list of strings")
    q = _features(texts, features, bundle, max_text_length, batch_size)
    p = _features(references, features, bundle, max_text_length, batch_size)
    return mauve_from_features(p, q, num_buckets=num_buckets, seed=seed)


def mauve_score(
    predictions: Sequence[str],
    references: Sequence[str],
    *,
    features: Literal["minilm", "model"] = "minilm",
    bundle=None,
    num_buckets: int | Literal["auto"] = "auto",
    seed: int = 25,
) -> float:
    """MAUVE of generated texts against human texts, with MiniLM features by default (Pillutla et al. 2021).

    >>> human = ["The baker sold bread.", "A cat slept by the fire.", "Rain fell on the town.", "She read a book."]
    >>> mauve_score(human, human)
    1.0
    >>> mauve_score(["Shares fell 3% in early trading.", "The central bank raised rates."] * 2, human) < 0.5
    True
    """
    return mauve(predictions, references, features=features, bundle=bundle, num_buckets=num_buckets, seed=seed).mauve


mauve_score.tiny_inputs = lambda bundle: (
    (["the cat sat", "a dog ran", "rain fell"], ["the cat", "a bird", "snow"]),
    {"features": "model", "bundle": bundle},
)
