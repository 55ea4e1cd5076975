"""Prompt- and prefix-tuning adapters as what the base model sees: a key-value cache of virtual positions.

Prompt tuning (Lester et al. 2021) and prefix tuning (Li & Liang 2021) put ``num_virtual_tokens`` learned positions
before every sequence; under transformers 5, ``PeftModel.generate`` and ``PeftModel.forward`` fail or mis-place
them for some uses. :func:`virtual_prefix` turns both into a KV cache of the virtual positions, which generation and
scoring run the base model after: ``[virtual][padding][tokens]``, with positions taken from the attention mask.
"""

from __future__ import annotations

import contextlib
import inspect
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

__all__ = ["VirtualPrefix", "cache_keyword", "context_length", "quiet_peft_prefix_forward", "virtual_prefix"]


def context_length(model) -> int | None:
    """The longest sequence ``model`` takes (``n_positions`` or ``max_position_embeddings``); ``None`` when its
    config names no limit."""
    config = model.config
    return getattr(config, "n_positions", None) or getattr(config, "max_position_embeddings", None)


# --- prompt-learning peft adapters as a KV-cache prefix ------------------------------------------------------------
@dataclass(frozen=True)
class VirtualPrefix:
    """What a prompt- or prefix-tuning adapter puts before every sequence, as the base model sees it: ``length``
    positions held in a KV cache. Real tokens then sit at positions ``length``, ``length + 1``, ... (as in training,
    where peft prepends the virtual tokens), so the usable context shrinks by ``length``."""

    base: torch.nn.Module  # the transformers model under the adapter: run it with ``cache_key=cache(batch)``
    length: int  # virtual positions (``num_virtual_tokens``)
    cache_key: str  # the keyword that passes a cache to forward/generate: "cache" (newer 5.x) or "past_key_values"
    make_cache: Callable[[int], Any]  # batch size -> a fresh cache with the prefix in every row

    def cache(self, batch_size: int):
        """A new cache holding the prefix for ``batch_size`` rows (a forward pass appends to it: one per call)."""
        return self.make_cache(batch_size)

    def extend_mask(self, attention_mask: torch.Tensor) -> torch.Tensor:
        """(B, T) -> (B, length + T): the virtual positions are always attended to."""
        ones = attention_mask.new_ones(attention_mask.shape[0], self.length)
        return torch.cat([ones, attention_mask], dim=1)


@contextlib.contextmanager
def quiet_peft_prefix_forward():
    """While peft's own forward runs a prefix-tuned model (training, loss-based scoring): peft hands its key/value
    prefix to the base model as ``past_key_values``, which transformers 5.x renamed ``cache`` ("FutureWarning:
    `past_key_values` is deprecated ... Use `cache` instead", on every forward pass). Only peft can change that
    call (genlab's own calls pass ``cache_keyword``), so that one warning is ignored here, and nothing else."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="`past_key_values` is deprecated", category=FutureWarning)
        yield


def cache_keyword(model) -> str:
    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


def _embedding_cache(peft_model, base, batch_size: int):
    """The KV cache of prompt tuning's virtual embeddings at positions 0..V-1: causal attention lets them see only
    each other, so this equals their part of the full forward peft runs on [virtual embeddings][tokens]."""
    virtual = peft_model.get_prompt(batch_size=1).to(base.dtype)  # (1, V, d)
    out = base(inputs_embeds=virtual, use_cache=True, return_dict=True)
    cache = getattr(out, "cache", None)
    cache = out.past_key_values if cache is None else cache
    if batch_size > 1:
        cache.batch_repeat_interleave(batch_size)  # the prefix is the same for every row
    return cache


def virtual_prefix(model) -> VirtualPrefix | None:
    """The virtual-token prefix of a prompt-learning peft model; ``None`` for any other model (plain, LoRA, IA3).

    Prompt tuning and p-tuning: the KV cache of the learned input embeddings, run through the base model.
    Prefix tuning: the learned key/value prefix itself (``get_prompt``). Other prompt-learning types raise.

    >>> from peft import PrefixTuningConfig, get_peft_model
    >>> from transformers import GPT2Config, GPT2LMHeadModel
    >>> base = GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=8, n_head=2, vocab_size=10, n_positions=32))
    >>> virtual_prefix(base) is None
    True
    >>> prefix = virtual_prefix(get_peft_model(base, PrefixTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=4)))
    >>> prefix.length, prefix.cache(batch_size=3).get_seq_length()
    (4, 4)
    """
    config = getattr(model, "active_peft_config", None)
    if config is None or not getattr(config, "is_prompt_learning", False):
        return None
    kind = str(getattr(config.peft_type, "value", config.peft_type))
    base = model.get_base_model()
    if kind == "PREFIX_TUNING":
        make = lambda batch_size: model.get_prompt(batch_size=batch_size)
    elif kind in ("PROMPT_TUNING", "P_TUNING"):
        make = lambda batch_size: _embedding_cache(model, base, batch_size)
    else:
        raise ValueError(
            f"genlab cannot run {kind.lower()} adapters (they need inputs genlab does not build); "
            "use prompt_tuning, p_tuning or prefix_tuning, or call the peft model yourself"
        )
    return VirtualPrefix(base=base, length=config.num_virtual_tokens, cache_key=cache_keyword(base), make_cache=make)


