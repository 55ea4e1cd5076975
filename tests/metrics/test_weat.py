"""genlab.metrics.weat: WEAT against the published definition by brute force, and SEAT on the real MiniLM
encoder with the standard word sets."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest

from genlab.metrics import weat as W


def _weat_by_definition(x, y, a, b):
    def cos(u, v):
        return float(u @ v / np.linalg.norm(u) / np.linalg.norm(v))

    def s(w):
        return np.mean([cos(w, q) for q in a]) - np.mean([cos(w, q) for q in b])

    sx, sy = [s(w) for w in x], [s(w) for w in y]
    stat = sum(sx) - sum(sy)
    d = (np.mean(sx) - np.mean(sy)) / np.std(sx + sy, ddof=1)
    both = list(x) + list(y)
    n = len(x)
    null = []
    for idx in combinations(range(2 * n), n):
        xi = [both[i] for i in idx]
        yi = [both[i] for i in range(2 * n) if i not in idx]
        null.append(sum(s(w) for w in xi) - sum(s(w) for w in yi))
    return stat, d, float(np.mean(np.array(null) >= stat - 1e-12))


def test_weat_matches_the_published_definition_by_brute_force():
    rng = np.random.default_rng(5)
    x, y, a, b = (rng.normal(size=(5, 12)) for _ in range(4))
    x += 0.5 * a[:5].mean(axis=0)
    r = W.weat(x, y, a, b)
    stat, d, p = _weat_by_definition(x, y, a, b)
    assert (r.statistic, r.effect_size, r.p_value) == pytest.approx((stat, d, p))
    assert r.exact and r.n_permutations == 252
    swapped = W.weat(y, x, a, b)
    assert swapped.effect_size == pytest.approx(-r.effect_size)
    sampled = W.weat(x, y, a, b, n_resamples=100, seed=1)
    assert not sampled.exact and sampled.n_permutations == 101 and abs(sampled.p_value - p) < 0.1
    with pytest.raises(ValueError, match="equal size"):
        W.weat(x[:3], y, a, b)


def test_seat_on_the_real_minilm_encoder_shows_the_flowers_insects_association():
    from genlab.metrics.coherence import sentence_embeddings

    table = W.weat_table(sentence_embeddings, n_resamples=2000)
    assert list(table["test"]) == ["weat1", "weat6", "weat7", "weat8"] and table["p_value"].between(0, 1).all()
    weat1 = table.set_index("test").loc["weat1"]
    assert weat1["effect_size"] > 0.8 and weat1["p_value"] < 0.01  # flowers pleasant, insects unpleasant
    seat = W.weat_table(sentence_embeddings, sentences=True, tests=["weat7"], n_resamples=500)
    assert list(seat["test"]) == ["weat7"] and 0 < seat["p_value"].iloc[0] <= 1
    with pytest.raises(ValueError, match="unknown WEAT"):
        W.weat_table(sentence_embeddings, tests=["weat99"])
