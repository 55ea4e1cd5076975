"""MAUVE: the wrapper against mauve-text called directly, the definition's edge cases, and the featurisers."""

from __future__ import annotations

import mauve as mauve_package
import numpy as np
import pytest
import torch

from genlab.metrics.mauve import mauve, mauve_from_features, mauve_score, model_features

pytestmark = pytest.mark.usefixtures("one_thread")


def gaussian(n: int, shift: float = 0.0, seed: int = 0, dim: int = 16) -> np.ndarray:
    return (np.random.default_rng(seed).normal(size=(n, dim)) + shift).astype(np.float32)


@pytest.mark.parametrize("num_buckets", ["auto", 4, 12])
def test_wrapper_equals_mauve_text_called_directly(num_buckets):
    p, q = gaussian(120, seed=1), gaussian(100, shift=0.4, seed=2)
    ours = mauve_from_features(p, q, num_buckets=num_buckets)
    ref = mauve_package.compute_mauve(p_features=p, q_features=q, num_buckets=num_buckets, device_id=-1, verbose=False)
    assert ours.mauve == ref.mauve and ours.frontier_integral == ref.frontier_integral
    assert ours.mauve_star == ref.mauve_star and ours.num_buckets == ref.num_buckets
    np.testing.assert_array_equal(ours.p_hist, ref.p_hist)
    assert 0.05 < ours.mauve < 0.999  # neither degenerate end: the comparison means something


def test_auto_buckets_follow_the_authors_rule():
    assert mauve_from_features(gaussian(300), gaussian(90, seed=3)).num_buckets == 9  # round(min(n) / 10)
    assert mauve_from_features(gaussian(12), gaussian(12, seed=3)).num_buckets == 2  # at least 2


def test_identical_features_give_one():
    x = gaussian(200)
    assert mauve_from_features(x, x).mauve == pytest.approx(1.0)
    assert mauve_from_features(x, x).frontier_integral == pytest.approx(0.0)


def test_identical_uniform_histograms_give_one_where_mauve_text_gives_three_quarters():
    x = gaussian(4)  # 4 points, 2 buckets of 2: P = Q = (1/2, 1/2)
    upstream = mauve_package.compute_mauve(p_features=x, q_features=x, device_id=-1, verbose=False)
    ours = mauve_from_features(x, x)
    np.testing.assert_array_equal(upstream.p_hist, [0.5, 0.5])
    assert upstream.mauve == pytest.approx(0.75)  # the documented upstream tie; if this changes, drop the fix
    assert ours.mauve == 1.0 and ours.mauve_star == 1.0


def test_different_distributions_score_low():
    assert mauve_from_features(gaussian(200), gaussian(200, shift=3.0, seed=5)).mauve < 0.05
    near = mauve_from_features(gaussian(200), gaussian(200, seed=5)).mauve
    far = mauve_from_features(gaussian(200), gaussian(200, shift=0.5, seed=5)).mauve
    assert near > 0.8 > far


def test_model_features_match_mauves_own_featuriser(tiny_bundle, small_corpus):
    from mauve.utils import featurize_tokens_from_model

    tok = tiny_bundle.tokenizer
    texts = small_corpus.texts("test")[:6] + ["a"]
    ours = model_features(tiny_bundle, texts, max_text_length=40, batch_size=3)
    tokens = [torch.tensor([([tok.bos_token_id] + tok(t, add_special_tokens=False)["input_ids"])[:40]]) for t in texts]
    with torch.no_grad():
        ref = featurize_tokens_from_model(tiny_bundle.model, tokens, batch_size=4).numpy()  # right-padded as well
    assert ours.shape == (7, tiny_bundle.model.config.n_embd)
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-5)
    assert not np.allclose(ours[0], ours[1])


def test_mauve_on_texts_with_both_featurisers(tiny_bundle, small_corpus):
    short = [" ".join(t.split()[:12]) for t in small_corpus.texts("train")[:60]]  # short: MiniLM costs per token
    human, more_human = short[:30], short[30:]
    other = [f"{i} {i * 7} {i * 13} {i * 17}." for i in range(30)]
    assert mauve(human, human, features="model", bundle=tiny_bundle).mauve == 1.0
    assert mauve_score(other, human) < 0.2 < mauve_score(more_human, human)


@pytest.mark.parametrize(
    "args,kwargs,match",
    [
        ((np.zeros((5, 3)), np.zeros((5, 4))), {}, "same width"),
        ((np.zeros((1, 3)), np.zeros((5, 3))), {}, "at least 2"),
        ((gaussian(10), gaussian(10)), {"num_buckets": 1}, "num_buckets"),
    ],
)
def test_bad_features(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        mauve_from_features(*args, **kwargs)


def test_model_features_need_a_bundle():
    with pytest.raises(ValueError, match="bundle"):
        mauve(["a", "b"], ["c", "d"], features="model")
    with pytest.raises(ValueError, match="'minilm' or 'model'"):
        mauve(["a", "b"], ["c", "d"], features="gpt2-large")
