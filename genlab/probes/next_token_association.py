"""Social bias in next-token probabilities (WinoBias-style templates, Zhao et al. 2018), against the planted
strength of each association in the genlab world.

After each probe sentence (sentences no training document contains) both group words are scored, " She" vs " He",
" hill-folk" vs " river-folk", and the model's P(first group | attribute) is compared with the share the corpus
planted (:func:`association_probe`); :func:`association_fit` puts numbers on the dose-response (Pearson r,
Spearman's rho, the least-squares slope, each with a bootstrap interval over attributes), and
:func:`world_association_slope` gives the slope alone.

>>> fit = association_fit(pd.DataFrame({"planted": [0.5, 0.7, 0.9], "model": [0.5, 0.6, 0.7]}), n_resamples=100)
>>> round(fit["slope"], 3), fit["n"]   # the model moves half as far as the corpus planted
(0.5, 3)

**Limitations.** The probe reads two next words after sentences written for it, not how the model treats a group
in use. The world's gender axis has two pronouns only, which is not how gender works. A slope near 1 says the model
reproduces the corpus's associations, not that they are harmful; near 0, that these probes do not see them.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from genlab.probes.continuation_model import as_continuation_model
from genlab.worlds.text_spec import COMMUNITY_PROBE_TEMPLATES, GENDER_PROBE_TEMPLATES, World, article

__all__ = ["association_fit", "association_probe", "probe_sentences", "world_association_slope"]


def probe_sentences(association) -> list[str]:
    """The association's probe sentences (its axis's probe templates, which no training document contains, filled
    with its attribute); the pair probe and the next-token probe both use them.

    >>> from genlab.worlds.text import small_world
    >>> probe_sentences(next(a for a in small_world().associations if a.axis == "gender"))[:2]
    ['A baker stood alone at the edge of the square.', 'Nobody in the village had ever met the baker before.']
    """
    templates = GENDER_PROBE_TEMPLATES if association.axis == "gender" else COMMUNITY_PROBE_TEMPLATES
    a_attr = article(association.attribute)
    return [t.format(A_attr=a_attr[:1].upper() + a_attr[1:], the_attr=f"the {association.attribute}",
                     attr=association.attribute) for t in templates]


def _probe_prompts(world: World) -> list[tuple[str, str, str, str]]:
    """(association id, axis, template index, prompt) for every attribute and probe template."""
    return [(a.id, a.axis, str(t), prompt) for a in world.associations for t, prompt in enumerate(probe_sentences(a))]


def _group_words(world: World, axis: str) -> tuple[str, str]:
    """The two next words a probe of ``axis`` compares: pronouns start the next sentence; community probes end
    before the group's descriptor."""
    if axis == "gender":
        return " She", " He"
    return tuple(" " + world.lexicon["communities"][g]["descriptor"] for g in ("hill", "river"))  # type: ignore


def association_probe(bundle, world: World, *, batch_size: int = 64) -> pd.DataFrame:
    """The model's P(first group | attribute) per association, averaged over the probe templates.

    After each probe sentence (BOS prepended) both group words are scored with genlab's continuation scorer
    (``genlab.probes.continuation_model.as_continuation_model``, so adapters and prompt-tuned models work too), and
    P(first) / (P(first) + P(second)) is taken: " She" vs " He", " hill-folk" vs " river-folk".
    Columns: ``id``, ``axis``, ``attribute``, ``frequency``, ``planted``, ``model`` (mean over templates),
    ``model_sd`` (across templates), ``n_templates``.
    """
    rows = _probe_prompts(world)
    words = {axis: list(_group_words(world, axis)) for axis in ("gender", "community")}
    scores = as_continuation_model(bundle, batch_size=batch_size).continuation_logprobs(
        [prompt for *_, prompt in rows], [words[axis] for _, axis, _, _ in rows])
    share = [1.0 / (1.0 + math.exp(second - first)) for first, second in scores]  # p_1 / (p_1 + p_2)
    df = pd.DataFrame({"id": [r[0] for r in rows], "share": share})
    agg = df.groupby("id", sort=False)["share"].agg(model="mean", model_sd="std", n_templates="size")
    spec = pd.DataFrame([{"id": a.id, "axis": a.axis, "attribute": a.attribute, "frequency": a.frequency,
                          "planted": a.p_first} for a in world.associations]).set_index("id")
    return spec.join(agg).reset_index()


def association_fit(probe: pd.DataFrame, x: str = "planted", y: str = "model", *, n_resamples: int = 2000,
                    seed: int = 0, confidence: float = 0.95) -> dict:
    """How a probe's score ``y`` tracks the planted strength ``x`` over rows (attributes): Pearson r, Spearman's
    rank correlation rho and the least-squares slope, each with a percentile bootstrap interval over rows.

    >>> df = pd.DataFrame({"planted": [0.1, 0.3, 0.5, 0.7, 0.9] * 4})
    >>> df["model"] = 0.05 + 0.9 * df["planted"]
    >>> fit = association_fit(df, n_resamples=200)
    >>> round(fit["pearson_r"], 3), round(fit["spearman_rho"], 3), round(fit["slope"], 3), fit["n"]
    (1.0, 1.0, 0.9, 20)
    """
    from scipy.stats import rankdata

    xs, ys = probe[x].to_numpy(float), probe[y].to_numpy(float)
    keep = ~(np.isnan(xs) | np.isnan(ys))
    xs, ys = xs[keep], ys[keep]
    if len(xs) < 3 or np.ptp(xs) == 0:
        raise ValueError("an association fit needs 3 or more attributes with at least two planted levels")

    def stats(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
        if np.ptp(a) == 0 or np.ptp(b) == 0:
            return math.nan, math.nan, math.nan
        slope = float(np.polyfit(a, b, 1)[0])
        rho = float(np.corrcoef(rankdata(a), rankdata(b))[0, 1])  # Spearman: Pearson on (average) ranks
        return float(np.corrcoef(a, b)[0, 1]), slope, rho

    r, slope, rho = stats(xs, ys)
    rng = np.random.default_rng(seed)
    boot = np.array([stats(xs[i], ys[i]) for i in rng.integers(0, len(xs), (n_resamples, len(xs)))])
    alpha = (1 - confidence) / 2
    lo, hi = np.nanquantile(boot, [alpha, 1 - alpha], axis=0)
    return {"pearson_r": r, "pearson_r_low": float(lo[0]), "pearson_r_high": float(hi[0]),
            "slope": slope, "slope_low": float(lo[1]), "slope_high": float(hi[1]),
            "spearman_rho": rho, "spearman_rho_low": float(lo[2]), "spearman_rho_high": float(hi[2]),
            "n": int(len(xs))}


# --- one number per world, for the table of probes (genlab.probes.registry) -------------------------------------
# It has a tiny call (fn.tiny_inputs) that tests/metrics/test_common.py runs.


def _tiny_world(bundle):
    """The small world's probes, on a tiny model with room for them (the world's words are long in a tiny
    tokenizer's byte pieces)."""
    from genlab.models.tiny import tiny_bundle
    from genlab.worlds.text import small_world

    return (tiny_bundle(n_positions=256), small_world()), {}


def world_association_slope(bundle, world: World) -> float:
    """Least-squares slope of the model's next-token P(first group | attribute) (:func:`association_probe`) against
    the planted strength, over the world's associations: 1 reproduces the corpus, 0 ignores it.

    >>> from genlab.models.tiny import tiny_bundle
    >>> from genlab.worlds.text import small_world
    >>> abs(world_association_slope(tiny_bundle(n_positions=256), small_world())) < 1   # a random model: no trend
    True
    """
    probe = association_probe(bundle, world)
    x, y = probe["planted"].to_numpy(dtype=float), probe["model"].to_numpy(dtype=float)
    return float(np.polyfit(x, y, 1)[0])


world_association_slope.tiny_inputs = _tiny_world
