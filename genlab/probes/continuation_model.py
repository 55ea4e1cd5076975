"""The model interface that probes score through: ``ContinuationModel`` (continuation log-probabilities and greedy
continuations), the adapter that gives a ``Bundle`` that interface, and ``as_continuation_model``.

Probes (cloze facts, associations, sentence pairs) are written against the protocol, so their ranking and
matching logic can be checked with a fake that knows the answers (``genlab.probes.cloze.FactOracle``) as well as
with a real model. A ``Bundle`` is wrapped by :class:`BundleLM`, which scores with genlab's one continuation scorer
(:func:`genlab.models.continuation.continuation_logprobs`) and decodes with its one greedy decoder
(:func:`genlab.generation.greedy`).

>>> from genlab.models.tiny import tiny_bundle
>>> lm = as_continuation_model(tiny_bundle())
>>> isinstance(lm, ContinuationModel), len(lm.continuation_logprobs(["the cat"], [[" sat", " mat"]])[0])
(True, 2)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from genlab.generation.decoder import greedy
from genlab.models.continuation import continuation_logprobs

__all__ = ["BundleLM", "ContinuationModel", "as_continuation_model"]


@runtime_checkable
class ContinuationModel(Protocol):
    """What the cloze scorings need from a model."""

    def continuation_logprobs(
        self, prompts: Sequence[str], continuations: Sequence[Sequence[str]]
    ) -> list[list[float]]:
        """log p(continuation | prompt), summed over its tokens, for every continuation of every prompt."""
        ...

    def greedy(self, prompts: Sequence[str], max_new_tokens: int) -> list[str]:
        """The greedy continuation of each prompt (new text only)."""
        ...


class BundleLM:
    """A ``Bundle`` as a ``ContinuationModel``.

    ``add_bos``: prepend the tokenizer's BOS to every prompt (when it has one), as genlab models were trained.
    ``batch_size``: prompts per forward pass.
    """

    def __init__(self, bundle, *, batch_size: int = 32, add_bos: bool = True):
        if getattr(bundle, "kind", "causal") not in ("causal", "masked"):
            raise ValueError(f"probes need a causal or masked language model; this bundle is {bundle.kind!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.bundle, self.batch_size, self.add_bos = bundle, batch_size, add_bos

    def continuation_logprobs(
        self, prompts: Sequence[str], continuations: Sequence[Sequence[str]]
    ) -> list[list[float]]:
        return continuation_logprobs(
            self.bundle, prompts, continuations, batch_size=self.batch_size, add_bos=self.add_bos
        )

    def greedy(self, prompts: Sequence[str], max_new_tokens: int) -> list[str]:
        if getattr(self.bundle, "kind", "causal") != "causal":
            raise ValueError("greedy continuations need a causal language model; this bundle is a masked LM")
        tok = self.bundle.tokenizer
        if any(not p for p in prompts) and not (self.add_bos and tok.bos_token_id is not None):
            raise ValueError("an empty prompt cannot be continued without a BOS token; give every prompt some text")
        add_bos = self.add_bos and tok.bos_token_id is not None
        return greedy(self.bundle, prompts, max_new_tokens=max_new_tokens, batch_size=self.batch_size, add_bos=add_bos)


def as_continuation_model(model, *, batch_size: int = 32, add_bos: bool = True) -> ContinuationModel:
    """``model`` itself when it implements ``ContinuationModel``, a ``BundleLM`` when it is a ``Bundle``."""
    if isinstance(model, ContinuationModel):
        return model
    if hasattr(model, "model") and hasattr(model, "tokenizer"):
        return BundleLM(model, batch_size=batch_size, add_bos=add_bos)
    raise ValueError(
        f"expected a genlab Bundle (from genlab.load_model) or an object with continuation_logprobs() "
        f"and greedy(); got {type(model).__name__}"
    )
