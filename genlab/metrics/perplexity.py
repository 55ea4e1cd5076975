"""Perplexity of causal language models: token-weighted, strided for long texts, batched by length.

PPL(X) = exp(-(1/t) sum_i log p(x_i | x_<i)) (Hugging Face, "Perplexity of fixed-length models", metrics.md §8).
A text longer than ``max_length`` is scored with that guide's strided loop: windows of ``max_length`` tokens that
start every ``stride`` tokens; each window scores only the tokens no earlier window scored, so every token is
scored once, with at least ``max_length - stride`` tokens of context once the first window is past.

Speed. Scoring runs through :func:`genlab.models.scoring.scored_logits` (length-sorted batches, the output layer
only on scored tokens, fused GELU); its docstring says how, and what it assumes.

PEFT models score as they were trained: LoRA and IA3 adapters like their merged weights, prompt- and prefix-tuned
models after their virtual tokens, whose positions come off the usable context (see
:func:`genlab.models.scoring.scored_logits`).

>>> import torch
>>> from genlab.models.tiny import tiny_bundle
>>> bundle = tiny_bundle()
>>> model = bundle.model
>>> _ = torch.nn.init.zeros_(model.lm_head.weight)     # all logits 0: the uniform model over the vocabulary
>>> r = perplexity(bundle, ["the cat sat.", "the mat"])
>>> round(r.perplexity, 3) == model.config.vocab_size  # a uniform model's perplexity is the vocabulary size
True
>>> r.n_tokens, r.per_text_tokens     # BOS + 4 tokens and BOS + 2 tokens: every token after BOS is scored
(6, [4, 2])
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from genlab.core.distributed import map_sharded
from genlab.models.scoring import encode_texts, scored_logits

__all__ = ["PerplexityResult", "corpus_perplexity", "perplexity"]


@dataclass
class PerplexityResult:
    perplexity: float  # corpus-level: exp(total NLL / total scored tokens)
    per_text: list[float]  # exp(mean NLL) of each text; nan for a text with no scored token
    nll_sum: float  # total negative log-likelihood, nats
    n_tokens: int  # scored tokens
    per_text_nll: list[float] = field(default_factory=list)  # summed NLL of each text, nats
    per_text_tokens: list[int] = field(default_factory=list)  # scored tokens of each text
    n_unscored: int = 0  # texts with no token to score (empty, or one token without BOS): nan, left out, warned of


def perplexity(
    bundle,
    texts: Sequence[str],
    *,
    stride: int | None = None,
    max_length: int | None = None,
    add_bos: bool = True,
    batch_size: int = 16,
    distributed: bool = False,
) -> PerplexityResult:
    """Perplexity of ``texts`` under ``bundle.model``, per text and over the corpus (token-weighted).

    Args:
        bundle: a :class:`genlab.models.Bundle` with a causal LM; a peft model of any kind genlab trains works too
            (see :func:`scored_logits` for prompt and prefix tuning).
        texts: the texts to score.
        stride: how far each window moves; ``None``: ``max_length`` (no overlap). Smaller strides give each
            token more context and cost more passes (HF guide: GPT-2 Large on WikiText-2, 19.44 at stride 1024,
            16.44 at 512).
        max_length: window size in tokens; ``None``: the model's context (``n_positions``, less the virtual tokens
            of a prompt- or prefix-tuned model).
        add_bos: prepend the BOS token, so the first word is scored too (genlab models were trained that way).
        batch_size: windows per forward pass.
        distributed: split ``texts`` over the processes of the current ``accelerate launch`` / ``torchrun`` run
            (contiguous blocks, :func:`genlab.core.distributed.map_sharded`), score each block where it lands,
            gather every text's NLL sum and token count, and return the full result on every process, combined
            as one process combines it. Each text's value is the one a single process gives up to floating point:
            its windows may share a batch with other texts than in one process (different padding and batch
            shapes can change the last bits). Every process must pass the same texts. Without a launch it changes
            nothing.

    The model is put in eval mode while scoring (and restored after). Texts with fewer than two tokens (``""``, or
    one token with ``add_bos=False``) have nothing to score, as an empty continuation has no log-probability in
    :func:`genlab.probes.degeneration.continuation_items`: their ``per_text`` entry is nan, they add no token to
    the corpus value, ``n_unscored`` counts them, and a ``UserWarning`` names their positions. With no token
    scored at all (``perplexity(bundle, [""])``) the corpus perplexity is nan too.

    >>> from genlab.models.tiny import tiny_bundle
    >>> bundle = tiny_bundle()
    >>> texts = ["the cat sat.", "the mat", "a cat", "the cat sat on the mat."]
    >>> perplexity(bundle, texts) == perplexity(bundle, texts, distributed=True)   # one process: the same
    True
    """
    if not isinstance(distributed, bool):
        raise ValueError(f"distributed must be True or False, got {distributed!r}")
    if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
        raise ValueError("texts must be a list of strings (wrap a single text in a list)")
    texts = list(texts)

    def score(block: list[str]) -> list[tuple[float, int]]:  # (NLL sum in nats, scored tokens) of each text
        token_ids = encode_texts(bundle.tokenizer, block, add_bos)
        nll = torch.zeros(len(token_ids), dtype=torch.float64)
        count = torch.zeros(len(token_ids), dtype=torch.long)
        for text_index, _, target, logits in scored_logits(
            bundle, token_ids, max_length=max_length, stride=stride, batch_size=batch_size
        ):
            token_nll = torch.nn.functional.cross_entropy(logits, target.to(logits.device), reduction="none")
            nll.index_add_(0, text_index, token_nll.double().cpu())
            count.index_add_(0, text_index, torch.ones_like(text_index))
        return list(zip(nll.tolist(), count.tolist(), strict=True))

    scores = map_sharded(score, texts) if distributed else score(texts)
    nll = torch.tensor([s for s, _ in scores], dtype=torch.float64)
    count = torch.tensor([n for _, n in scores], dtype=torch.long)
    nll_sum, n_tokens = float(nll.sum()), int(count.sum())
    per_text = [math.exp(s / n) if n else float("nan") for s, n in zip(nll.tolist(), count.tolist(), strict=True)]
    unscored = [i for i, n in enumerate(count.tolist()) if n == 0]
    if unscored:
        shown = ", ".join(map(str, unscored[:10])) + (", ..." if len(unscored) > 10 else "")
        why = "empty" if add_bos else "empty, or one token: with add_bos=False the first token is not scored"
        warnings.warn(
            f"{len(unscored)} of {len(texts)} texts have no token to score (positions {shown}; {why}): their "
            f"per_text perplexity is nan and the corpus perplexity {'leaves them out' if n_tokens else 'is nan'}. "
            "Drop them before scoring (the result's n_unscored counts them).",
            UserWarning,
            stacklevel=2,
        )
    return PerplexityResult(
        perplexity=math.exp(nll_sum / n_tokens) if n_tokens else float("nan"),
        per_text=per_text,
        nll_sum=nll_sum,
        n_tokens=n_tokens,
        per_text_nll=nll.tolist(),
        per_text_tokens=count.tolist(),
        n_unscored=len(unscored),
    )


def corpus_perplexity(
    bundle,
    texts: Sequence[str],
    *,
    stride: int | None = None,
    max_length: int | None = None,
    add_bos: bool = True,
    batch_size: int = 16,
) -> float:
    """Corpus perplexity of the texts under the model, exp(total NLL / total scored tokens).

    Token-weighted, as in the HF guide; per-text values are in :func:`perplexity`'s result. (The mean of per-text
    perplexities, which ``evaluate``'s perplexity metric reports as ``mean_perplexity``, over-weights short texts.)

    >>> import torch
    >>> from genlab.models.tiny import tiny_bundle
    >>> bundle = tiny_bundle()
    >>> model = bundle.model
    >>> _ = torch.nn.init.zeros_(model.lm_head.weight)
    >>> round(corpus_perplexity(bundle, ["the cat", "a"]), 3)
    270.0
    >>> model.config.vocab_size
    270
    """
    return perplexity(
        bundle, texts, stride=stride, max_length=max_length, add_bos=add_bos, batch_size=batch_size
    ).perplexity


corpus_perplexity.tiny_inputs = lambda bundle: ((bundle, ["the cat sat on the mat", "a", ""]), {})
