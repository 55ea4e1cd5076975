"""Metrics for generated images that take arrays: pixels (n, H, W, C) or features (n, d) from any encoder.

- :func:`frechet_distance`: FID's formula between two feature sets (Heusel et al. 2017), computed as the pytorch-fid
  reference does; :func:`fid_infinity` removes its small-sample bias by extrapolating to infinitely many samples
  (Chong & Forsyth 2020); :func:`frechet_distance_ci`: a bootstrap interval.
- :func:`pairwise_diversity` / :func:`diversity_by_prompt`: mean pairwise distance among the samples of one prompt,
  with a jackknife interval.
- :func:`nearest_training` and :func:`extraction_by_duplication`: near-copies of training images and how their rate
  grows with the training image's duplication count (Carlini et al. 2023).
- :func:`attribute_share`: the share of a planted attribute among images generated for an underspecified prompt,
  against the planted share (exact interval, binomial test).

uint8 inputs are read as pixels and scaled to [0, 1]; any other array is used as given. Every input is flattened
to one row per item. Which features (an attribute classifier's, genlab's evaluator) feed these is the caller's
choice: a Fréchet distance is only as meaningful as its features.

>>> rng = np.random.default_rng(0)
>>> a, b = rng.normal(size=(500, 3)), rng.normal(size=(500, 3))
>>> frechet_distance(a, a)
0.0
>>> 0 < frechet_distance(a, b) < 0.1     # same distribution: small, and positive (the small-sample bias)
True
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import scipy.linalg
from scipy import stats
from scipy.spatial.distance import pdist

from genlab.stats import BootstrapCI, exact_binomial_ci, percentile_interval, rate_table

HEUSEL_2017 = (
    "Heusel et al. 2017, GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash Equilibrium (NeurIPS); "
    "formula and numerics as mseitzer/pytorch-fid calculate_frechet_distance"
)
CHONG_FORSYTH_2020 = (
    "Chong & Forsyth 2020, Effectively Unbiased FID and Inception Score and Where to Find Them (CVPR); "
    "mchong6/FID_IS_infinity"
)
CARLINI_2023 = "Carlini et al. 2023, Extracting Training Data from Diffusion Models (USENIX Security), section 5"
YOON_2023 = (
    "Yoon et al. 2023, Diffusion Probabilistic Models Generalize when They Fail to Memorize (ICML SPIGM workshop); "
    "Gu et al. 2023, On Memorization in Diffusion Models (arXiv 2310.02664)"
)
DistanceMetric = Literal["l2", "cosine"]


def _rows(x, name: str, min_rows: int = 1) -> np.ndarray:
    """(n, d) float64: one flattened row per item; uint8 pixels scaled to [0, 1]."""
    arr = np.asarray(x)
    if arr.ndim < 2:
        raise ValueError(f"{name} must hold one row per item, shape (n, d) or (n, H, W, C); got shape {arr.shape}")
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ValueError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    out = arr.reshape(len(arr), -1).astype(np.float64)
    if arr.dtype == np.uint8:
        out /= 255.0
    if len(out) < min_rows:
        raise ValueError(f"{name} needs at least {min_rows} items, got {len(out)}")
    if not np.isfinite(out).all():
        raise ValueError(f"{name} holds {int((~np.isfinite(out)).sum())} nan/inf value(s); fix the features first")
    return out


# --- Fréchet distance -------------------------------------------------------------------------------------------


def feature_statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean (d,) and covariance (d, d) of the rows of ``features``, the covariance unbiased (ddof=1) as pytorch-fid's
    ``np.cov(act, rowvar=False)``.

    >>> mu, sigma = feature_statistics([[0.0, 1.0], [2.0, 3.0]])
    >>> mu.tolist(), sigma.tolist()
    ([1.0, 2.0], [[2.0, 2.0], [2.0, 2.0]])
    """
    x = _rows(features, "features", min_rows=2)
    return x.mean(0), np.atleast_2d(np.cov(x, rowvar=False))


def frechet_distance_from_statistics(
    mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray, *, eps: float = 1e-6
) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2) (Heusel et al. 2017, eq. 6):

        d^2 = |mu1 - mu2|^2 + tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2))

    Numerics as pytorch-fid: ``scipy.linalg.sqrtm`` of the product; if that is not finite (a singular product),
    ``eps`` is added to both diagonals and the root taken again (with a warning); imaginary parts from rounding
    are dropped, and a diagonal imaginary part above 1e-3 raises.

    >>> frechet_distance_from_statistics(np.zeros(1), np.eye(1) * 4.0, np.ones(1), np.eye(1))  # (0-1)^2 + (2-1)^2
    2.0

    **Limitations.** Gaussians are a model of the features; two different distributions with equal means and
    covariances are at distance 0.
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, dtype=np.float64)), np.atleast_1d(np.asarray(mu2, dtype=np.float64))
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, dtype=np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    d = len(mu1)
    if mu1.shape != mu2.shape or sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise ValueError(
            f"statistics do not match: mu1 {mu1.shape}, mu2 {mu2.shape}, sigma1 {sigma1.shape}, sigma2 {sigma2.shape}"
        )
    diff = mu1 - mu2
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        covmean = scipy.linalg.sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():
        warnings.warn(f"singular product of covariances; adding {eps} to their diagonals", RuntimeWarning, 2)
        offset = np.eye(d) * eps
        covmean = scipy.linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(f"imaginary component {np.max(np.abs(covmean.imag)):.3g} in sqrtm(sigma1 sigma2)")
        covmean = covmean.real
    value = float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))
    return 0.0 if abs(value) < 1e-12 else value


def frechet_distance(features_a, features_b, *, eps: float = 1e-6) -> float:
    """Fréchet distance between the Gaussians fitted to two feature sets (FID when the features are Inception's;
    Heusel et al. 2017). Rows are items; at least 2 per set.

    >>> frechet_distance([[0.0], [2.0]], [[1.0], [5.0]])   # 1-D: (m1 - m2)^2 + (s1 - s2)^2 = 4 + (1.414 - 2.828)^2
    6.0

    **Limitations.** Biased upwards at small n: the same distribution scores above 0, by an amount that grows with
    the feature dimension and shrinks like 1/n (Chong & Forsyth 2020), so only compare values computed with equal
    n, or use :func:`fid_infinity`. With fewer items than dimensions the covariances are singular and the value
    rests on the ``eps`` offset. It compares feature distributions, not whether an image matches its prompt.
    """
    return frechet_distance_from_statistics(*feature_statistics(features_a), *feature_statistics(features_b), eps=eps)


@dataclass(frozen=True)
class FIDInfinity:
    estimate: float  # FID_inf: the intercept of FID against 1/N
    low: float  # interval of the intercept from the regression (t, n_points - 2 degrees of freedom)
    high: float
    slope: float  # d FID / d (1/N)
    ns: tuple[int, ...]  # generated-set sizes N
    fids: tuple[float, ...]  # FID at each N
    confidence: float


def fid_infinity(
    reference_features,
    generated_features,
    *,
    n_points: int = 15,
    n_min: int | None = None,
    confidence: float = 0.95,
    seed: int | None = 0,
) -> FIDInfinity:
    """FID extrapolated to infinitely many generated samples (Chong & Forsyth 2020, "FID_inf").

    As the authors' ``calculate_FID_infinity``: the reference statistics are fixed (all reference rows); for
    ``n_points`` sizes N evenly spaced from ``n_min`` (default a tenth of the generated rows, as their 5,000 of 50,000)
    to all generated rows, shuffle the generated rows and take the first N; fit FID = a + b / N by least squares;
    FID_inf = a. FID's bias is linear in 1/N to first order, so the intercept estimates the FID of infinitely many
    samples.

    >>> rng = np.random.default_rng(0)
    >>> ref, gen = rng.normal(size=(4000, 4)), rng.normal(size=(1000, 4))
    >>> r = fid_infinity(ref, gen)
    >>> bool(abs(r.estimate) < frechet_distance(ref, gen[:100]))   # closer to the true 0 than FID at N = 100
    True

    **Limitations.** Only the generated set's share of the bias is removed: the reference set's own bias (from its
    finite size) stays, so use a large reference set. The interval comes from the regression's residuals; the N
    points share images, so it is narrower than the true uncertainty (use :func:`frechet_distance_ci` for sampling
    variability). The 1/N law holds for N well above the feature dimension.
    """
    ref = _rows(reference_features, "reference_features", min_rows=2)
    gen = _rows(generated_features, "generated_features", min_rows=2)
    if ref.shape[1] != gen.shape[1]:
        raise ValueError(f"feature dimensions differ: reference {ref.shape[1]}, generated {gen.shape[1]}")
    n_min = max(2, len(gen) // 10) if n_min is None else int(n_min)
    if not 2 <= n_min < len(gen) or n_points < 3:
        raise ValueError(f"need 2 <= n_min < n_generated ({len(gen)}) and n_points >= 3; got {n_min}, {n_points}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    rng = np.random.default_rng(seed)
    ref_stats = feature_statistics(ref)
    ns = np.unique(np.linspace(n_min, len(gen), n_points).astype(int))
    if len(ns) < 3:
        raise ValueError(f"only {len(ns)} distinct sizes between n_min={n_min} and {len(gen)}; widen the range")
    fids = []
    for n in ns:
        sub = gen[rng.permutation(len(gen))[:n]]
        fids.append(frechet_distance_from_statistics(*feature_statistics(sub), *ref_stats))
    x, y = 1.0 / ns, np.asarray(fids)
    fit = stats.linregress(x, y)
    t = stats.t.ppf(0.5 + confidence / 2, len(ns) - 2)
    half = t * fit.intercept_stderr
    return FIDInfinity(
        float(fit.intercept),
        float(fit.intercept - half),
        float(fit.intercept + half),
        float(fit.slope),
        tuple(int(n) for n in ns),
        tuple(float(f) for f in fids),
        confidence,
    )


def frechet_distance_ci(
    features_a, features_b, *, n_resamples: int = 200, confidence: float = 0.95, seed: int | None = 0
) -> BootstrapCI:
    """Percentile bootstrap interval of :func:`frechet_distance`: both sets resampled with replacement
    ``n_resamples`` times (Efron & Tibshirani 1993).

    >>> rng = np.random.default_rng(1)
    >>> r = frechet_distance_ci(rng.normal(size=(300, 2)), rng.normal(1.0, 1.0, size=(300, 2)), n_resamples=100)
    >>> bool(r.low < 2.0 < r.high)   # the true distance: |(1, 1)|^2 = 2
    True

    **Limitations.** It describes the variability of FID at this n, not its bias: resamples are as biased as the
    estimate (more so, since a resample holds repeated items), so the interval of two equal distributions excludes
    0. Computing one Fréchet distance per resample costs a (d, d) matrix square root each.
    """
    a, b = _rows(features_a, "features_a", 2), _rows(features_b, "features_b", 2)
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, (int, np.integer)) or n_resamples < 1:
        raise ValueError(f"n_resamples must be a positive integer, got {n_resamples!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    rng = np.random.default_rng(seed)
    estimate = frechet_distance(a, b)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        draws = [
            frechet_distance(a[rng.integers(0, len(a), len(a))], b[rng.integers(0, len(b), len(b))])
            for _ in range(n_resamples)
        ]
    low, high = percentile_interval(draws, confidence)
    return BootstrapCI(estimate, low, high, confidence, "percentile", len(a) + len(b), int(n_resamples))


# --- diversity within a prompt ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Diversity:
    estimate: float  # mean distance over all pairs of samples
    low: float  # jackknife normal interval
    high: float
    confidence: float
    n: int  # samples
    metric: str


def _pairwise(x: np.ndarray, metric: str) -> np.ndarray:
    if metric == "l2":
        return pdist(x, "euclidean")
    if metric == "cosine":
        if (np.linalg.norm(x, axis=1) == 0).any():
            raise ValueError("cosine distance is undefined for an all-zero row; use metric='l2'")
        return pdist(x, "cosine")
    raise ValueError(f"metric must be 'l2' or 'cosine', got {metric!r}")


def pairwise_diversity(samples, *, metric: DistanceMetric = "l2", confidence: float = 0.95) -> Diversity:
    """Mean pairwise distance among the samples generated for one prompt, with a jackknife interval.

    The estimate is the U-statistic mean over the n (n - 1) / 2 pairs (Euclidean on pixels scaled to [0, 1] or on
    features; or cosine distance). Pairs share samples, so the interval resamples samples, not pairs: the
    leave-one-sample-out jackknife standard error (Efron & Stein 1981; Arvesen 1969 for U-statistics) and a normal
    interval. Needs 3 samples or more.

    >>> pairwise_diversity([[0.0, 0.0], [3.0, 4.0], [0.0, 0.0]]).estimate   # pairs at 5, 0, 5
    3.3333333333333335

    **Limitations.** A distance in pixel space counts a shifted object as diverse and is blind to what a viewer
    would call variety; in feature space it inherits the encoder's notion of difference. It rewards noise: a model
    that emits random pixels is maximally "diverse", so read it next to a fidelity score. The normal interval is
    approximate at small n.
    """
    x = _rows(samples, "samples", min_rows=3)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    n = len(x)
    d = _pairwise(x, metric)
    full = np.zeros((n, n))
    full[np.triu_indices(n, 1)] = d
    full += full.T
    total, n_pairs_loo = d.sum(), (n - 1) * (n - 2) / 2
    loo = (total - full.sum(1)) / n_pairs_loo  # mean pairwise distance without sample i
    se = np.sqrt((n - 1) / n * ((loo - loo.mean()) ** 2).sum())
    z = stats.norm.ppf(0.5 + confidence / 2)
    estimate = float(d.mean())
    return Diversity(estimate, estimate - z * se, estimate + z * se, confidence, n, metric)


def diversity_by_prompt(
    samples, prompts: Sequence[str], *, metric: DistanceMetric = "l2", confidence: float = 0.95
) -> pd.DataFrame:
    """:func:`pairwise_diversity` per prompt: columns ``prompt``, ``n``, ``diversity``, ``diversity_low``,
    ``diversity_high``, one row per prompt with 3 samples or more (sorted by prompt).

    >>> x = np.array([[0.0], [1.0], [2.0], [5.0], [5.0], [5.0]])
    >>> diversity_by_prompt(x, ["a", "a", "a", "b", "b", "b"])[["prompt", "n", "diversity"]].round(3).values.tolist()
    [['a', 3, 1.333], ['b', 3, 0.0]]

    **Limitations.** As :func:`pairwise_diversity`; prompts with fewer than 3 samples are left out.
    """
    x = _rows(samples, "samples")
    prompts = list(prompts)
    if len(prompts) != len(x):
        raise ValueError(f"{len(x)} samples but {len(prompts)} prompts; give one prompt per sample")
    rows = []
    for prompt in sorted(set(prompts)):
        idx = [i for i, p in enumerate(prompts) if p == prompt]
        if len(idx) >= 3:
            r = pairwise_diversity(x[idx], metric=metric, confidence=confidence)
            rows.append({"prompt": prompt, "n": r.n, "diversity": r.estimate, "diversity_low": r.low,
                         "diversity_high": r.high})  # fmt: skip
    return pd.DataFrame(rows, columns=["prompt", "n", "diversity", "diversity_low", "diversity_high"])


# --- memorisation -----------------------------------------------------------------------------------------------


def nearest_training(
    generated,
    training,
    *,
    ratio_threshold: float = 1 / 3,
    n_neighbours: int = 50,
    alpha: float = 0.5,
    relative_threshold: float = 1.0,
    batch_size: int = 256,
) -> pd.DataFrame:
    """For each generated item, its nearest training item and two near-copy tests. Works in pixel space (pass
    images) or in feature space (pass features): call it once for each.

    Training rows are deduplicated first (identical rows count once), so "second nearest" is the nearest training
    image *distinct* from the nearest, however often the nearest is repeated. Distances are Euclidean (pixels
    scaled to [0, 1]). Columns, one row per generated item:

    - ``nearest``: index of the nearest training row (the first of identical rows); ``nearest_copies``: how many
      training rows hold that image; ``distance``: d1; ``second_nearest``, ``second_distance``: d2;
    - ``ratio`` = d1 / d2 and ``near_copy`` = ratio < ``ratio_threshold`` (default 1/3): the nearest-neighbour ratio
      test of Yoon et al. 2023 and Gu et al. 2023 (a generated image is a copy when it is three times closer to one
      training image than to any other);
    - ``relative_distance`` = d1 / (alpha * mean distance to the ``n_neighbours`` nearest distinct training images,
      the nearest included) and ``near_copy_relative`` = relative_distance < ``relative_threshold``: the relative
      l2 distance Carlini et al. 2023 (section 5, CIFAR-10) define with alpha = 0.5 and n = 50, after Balle et al.
      2022. The paper's threshold on it was not verified here: 1.0 (nearest closer than half the mean neighbour
      distance) is genlab's default, not the paper's number; set it explicitly when comparing with published rates.

    >>> train = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    >>> t = nearest_training(np.array([[10.0, 0.5], [5.0, 5.0]]), train, n_neighbours=2)
    >>> t[["nearest", "nearest_copies", "distance", "ratio", "near_copy"]].round(3).values.tolist()
    [[1, 2, 0.5, 0.05, True], [0, 1, 7.071, 1.0, False]]

    **Limitations.** Pixel distance misses copies that moved, recoloured or re-rendered, and in a world of simple
    shapes two independent draws of one spec can be close: a low ratio says "much closer to one training image
    than to the rest", which is a copy only if the training set holds no near-twins of that image (the drawn world
    jitters every picture, so it holds none unless duplicated). Measured on the drawn world (seed 9, 5,000
    training rows; 500 fresh draws of the same world against 25 training images with +-3 levels of noise): the
    copies had ratio <= 0.19 and relative distance <= 0.21; the fresh draws were flagged 3/500 times by the ratio
    rule (lowest ratio 0.22) and 38/500 by the relative rule at threshold 1.0 (lowest 0.32), so the relative rule's
    default is loose here and a rate of near-copies needs the rate on fresh draws beside it as a baseline.
    Carlini et al. also confirm candidates by hand;
    nothing here does. Cost: one (n_generated, n_training) distance matrix, computed in batches.
    """
    gen = _rows(generated, "generated")
    train = _rows(training, "training", min_rows=2)
    if gen.shape[1] != train.shape[1]:
        raise ValueError(f"generated items have {gen.shape[1]} values each, training items {train.shape[1]}")
    if not 0 < ratio_threshold <= 1 or alpha <= 0 or relative_threshold <= 0:
        raise ValueError("ratio_threshold must be in (0, 1], alpha and relative_threshold positive")
    first: dict[bytes, int] = {}
    copies: dict[bytes, int] = {}
    for i, row in enumerate(train):
        key = row.tobytes()
        first.setdefault(key, i)
        copies[key] = copies.get(key, 0) + 1
    keep = np.array(sorted(first.values()))
    if len(keep) < 2:
        raise ValueError("the training set holds fewer than 2 distinct items: no second-nearest neighbour exists")
    n_copies = np.array([copies[train[i].tobytes()] for i in keep])
    distinct = train[keep]
    k = min(max(n_neighbours, 2), len(distinct))
    sq = (distinct * distinct).sum(1)
    rows = []
    for start in range(0, len(gen), batch_size):
        g = gen[start : start + batch_size]
        d2 = np.maximum(sq[None, :] + (g * g).sum(1)[:, None] - 2 * g @ distinct.T, 0.0)
        cand = np.argpartition(d2, k - 1, axis=1)[:, :k]
        for j, idx in enumerate(cand):
            exact = np.sqrt(((distinct[idx] - g[j]) ** 2).sum(1))  # recomputed directly: exact copies give 0
            order = np.argsort(exact, kind="stable")
            idx, exact = idx[order], exact[order]
            d1, d_2 = exact[0], exact[1]
            mean_k = exact.mean()
            ratio = d1 / d_2 if d_2 > 0 else 1.0
            rel = d1 / (alpha * mean_k) if mean_k > 0 else 1.0
            rows.append(
                {
                    "nearest": int(keep[idx[0]]),
                    "nearest_copies": int(n_copies[idx[0]]),
                    "distance": float(d1),
                    "second_nearest": int(keep[idx[1]]),
                    "second_distance": float(d_2),
                    "ratio": float(ratio),
                    "relative_distance": float(rel),
                    "near_copy": bool(ratio < ratio_threshold),
                    "near_copy_relative": bool(rel < relative_threshold),
                }
            )
    return pd.DataFrame(rows)


def extraction_by_duplication(
    nearest: pd.DataFrame,
    image_ids: Sequence,
    duplicate_count: Sequence[int],
    *,
    flag: str = "near_copy",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Share of distinct training images that some generated image copies, by how often the image was duplicated
    in training (Carlini et al. 2023, fig. on extraction against duplicates), with Clopper-Pearson intervals.

    ``nearest``: the table of :func:`nearest_training`; ``image_ids`` and ``duplicate_count``: one per training row
    (copies share an id). A training image is extracted when at least one generated row flagged by ``flag``
    (``near_copy`` or ``near_copy_relative``) has it as nearest. Columns: ``duplicate_count``, ``n`` (distinct
    training images with that count), ``k`` (of them extracted), ``extracted``, ``extracted_low``,
    ``extracted_high``, ``n_generated_copies`` (flagged generated rows pointing at them).

    >>> near = pd.DataFrame({"nearest": [0, 0, 2], "near_copy": [True, True, False]})
    >>> t = extraction_by_duplication(near, ["a", "a", "b", "c"], [2, 2, 1, 1])
    >>> print(t[["duplicate_count", "n", "k", "extracted", "n_generated_copies"]].to_string(index=False))
     duplicate_count  n  k  extracted  n_generated_copies
                   1  2  0        0.0                   0
                   2  1  1        1.0                   2

    **Limitations.** The rate depends on how many images were generated and for which prompts (Carlini et al.
    generate many per duplicated caption); compare rates only across runs with the same generation budget. The
    intervals treat training images as independent trials.
    """
    ids, counts = list(image_ids), np.asarray(duplicate_count)
    if len(ids) != len(counts):
        raise ValueError(f"{len(ids)} image ids but {len(counts)} duplicate counts; give one of each per training row")
    for col in ("nearest", flag):
        if col not in nearest.columns:
            raise ValueError(f"the nearest table lacks column {col!r}; pass the output of nearest_training")
    if len(nearest) and (nearest["nearest"].max() >= len(ids) or nearest["nearest"].min() < 0):
        raise ValueError("nearest indices fall outside the training rows: pass the same training set's ids")
    per_image = pd.DataFrame({"image_id": ids, "duplicate_count": counts}).drop_duplicates("image_id")
    flagged = nearest.loc[nearest[flag].astype(bool), "nearest"].to_numpy()
    hit_ids = pd.Series([ids[i] for i in flagged], dtype=object)
    per_image["k"] = per_image["image_id"].isin(set(hit_ids)).astype(int)
    per_image["n_generated_copies"] = per_image["image_id"].map(hit_ids.value_counts()).fillna(0).astype(int)
    table = rate_table(per_image, "k", "duplicate_count", name="extracted", confidence=confidence)
    copies = per_image.groupby("duplicate_count", sort=True)["n_generated_copies"].sum()
    return table.assign(n_generated_copies=copies.to_numpy())


# --- planted skew -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttributeShare:
    target: str  # the planted attribute value, e.g. "red"
    k: int  # generated images showing it
    n: int  # generated images judged
    share: float  # k / n
    share_low: float  # Clopper-Pearson interval
    share_high: float
    planted: float  # its share among the matching training images
    p_value: float  # two-sided exact binomial test of share == planted
    chance: float | None  # the share without skew (e.g. 1 / number of colours), if given
    p_value_chance: float | None  # two-sided exact binomial test of share == chance


def attribute_share(
    values: Sequence[str],
    target: str,
    planted: float,
    *,
    chance: float | None = None,
    confidence: float = 0.95,
) -> AttributeShare:
    """How often images generated for an underspecified prompt ("a circle") show the planted value (red), against
    the share planted in training: k of n, a Clopper-Pearson interval (Clopper & Pearson 1934) and an exact
    two-sided binomial test (``scipy.stats.binomtest``) against ``planted`` and, if given, against ``chance``.

    A share above ``planted`` means the model amplified the skew (Zhao et al. 2017 call this bias amplification);
    at ``planted`` it reproduced it; at ``chance`` it did not learn it.

    ``values``: the attribute as read from each generated image (by genlab's attribute classifier or by hand);
    values the reader could not decide should be dropped before, and their number reported.

    >>> r = attribute_share(["red"] * 45 + ["blue"] * 5, "red", planted=0.8, chance=1 / 6)
    >>> r.k, r.n, r.share, r.p_value > 0.05, r.p_value_chance < 1e-6
    (45, 50, 0.9, True, True)

    **Limitations.** The reading of each image comes from a classifier with its own errors, which bias the share
    towards the classifier's confusions; the test assumes independent images, so do not pool samples that share a
    seed or a noise tensor.
    """
    values = [str(v) for v in values]
    if not values:
        raise ValueError("no values: read the attribute from at least one generated image")
    for name, p in (("planted", planted), ("chance", chance)):
        if p is not None and not 0 <= p <= 1:
            raise ValueError(f"{name} must be a share in [0, 1], got {p!r}")
    k, n = sum(v == target for v in values), len(values)
    ci = exact_binomial_ci(k, n, confidence)
    p_planted = float(stats.binomtest(k, n, planted).pvalue)
    p_chance = None if chance is None else float(stats.binomtest(k, n, chance).pvalue)
    return AttributeShare(target, k, n, ci.estimate, ci.low, ci.high, float(planted), p_planted, chance, p_chance)
