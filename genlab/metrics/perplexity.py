"""Perplexity of causal language models, token-weighted, with a sliding window for long texts.

PPL(X) = exp(-(1/t) sum_i log p(x_i | x_<i)) (Hugging Face, "Perplexity of fixed-length models").
Texts longer than the context are scored with the strided loop of that guide: windows of
``max_length`` tokens moved by ``stride``, each token scored once, with up to ``max_length - stride``
tokens of context carried over.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch


@dataclass
class PerplexityResult:
    perplexity: float  # corpus-level: exp(total NLL / total scored tokens)
    per_text: list[float]  # exp(mean NLL) of each text; nan for a text with no scored token
    nll_sum: float
    n_tokens: int


def _text_nll(model, ids: list[int], max_length: int, stride: int, device) -> tuple[float, int]:
    """Summed NLL (nats) and number of scored tokens of one token sequence, strided as in the HF guide."""
    seq_len, nll, n, prev_end = len(ids), 0.0, 0, 0
    for begin in range(0, seq_len, stride):
        end = min(begin + max_length, seq_len)
        trg_len = end - prev_end  # tokens not scored by an earlier window
        window = torch.tensor([ids[begin:end]], device=device)  # (1, T)
        with torch.no_grad():
            logits = model(window).logits.float()  # (1, T, V)
        logp = torch.log_softmax(logits[0, :-1], dim=-1)  # predicts tokens 1..T-1
        targets = window[0, 1:]
        token_nll = -logp.gather(1, targets[:, None])[:, 0]  # (T-1,)
        scored = token_nll[max(0, len(token_nll) - trg_len):]
        nll += scored.sum().item()
        n += scored.numel()
        prev_end = end
        if end == seq_len:
            break
    return nll, n


def perplexity(bundle, texts: Sequence[str], *, stride: int | None = None, max_length: int | None = None,
               add_bos: bool = True) -> PerplexityResult:
    """Perplexity of ``texts`` under ``bundle.model``.

    ``add_bos``: prepend the BOS token so the first word is scored too (GPT-2 style models, genlab's default).
    ``max_length`` defaults to the model's context; ``stride`` to ``max_length`` (no overlap).

    >>> from genlab.models import load_model
    >>> b = load_model()
    >>> r = perplexity(b, ["Tyrhild keeps a pet turtle."])
    >>> r.n_tokens
    7
    """
    model, tok = bundle.model, bundle.tokenizer
    if max_length is None:
        max_length = getattr(model.config, "n_positions", None) or getattr(model.config, "max_position_embeddings", 1024)
    stride = stride or max_length
    if not 0 < stride <= max_length:
        raise ValueError(f"stride must be in (0, max_length={max_length}], got {stride}")
    total_nll, total_n, per_text = 0.0, 0, []
    for text in texts:
        ids = tok(text, add_special_tokens=False)["input_ids"]
        if add_bos and tok.bos_token_id is not None:
            ids = [tok.bos_token_id] + ids
        nll, n = _text_nll(model, ids, max_length, stride, bundle.device) if len(ids) > 1 else (0.0, 0)
        per_text.append(math.exp(nll / n) if n else float("nan"))
        total_nll += nll
        total_n += n
    ppl = math.exp(total_nll / total_n) if total_n else float("nan")
    return PerplexityResult(perplexity=ppl, per_text=per_text, nll_sum=total_nll, n_tokens=total_n)
