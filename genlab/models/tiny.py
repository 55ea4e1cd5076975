"""The one tiny model genlab's examples, tests and benchmarks build: a randomly initialised GPT-2 of genlab's
shape over a byte-level BPE tokenizer trained on a few sentences. It knows nothing; it runs every code path in
milliseconds, so a docstring example or a unit test can exercise a metric end to end.

>>> bundle = tiny_bundle()
>>> bundle.kind, bundle.model.config.n_positions, bundle.model.training
('causal', 64, False)
>>> tiny_bundle(seed=1).model.lm_head.weight.equal(tiny_bundle(seed=1).model.lm_head.weight)   # seeded
True
>>> tiny_masked_bundle().kind, tiny_masked_bundle().tokenizer.mask_token
('masked', '<mask>')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch

from genlab.data.tokenizer import train_tokenizer
from genlab.models.gpt2 import ModelConfig, build_model
from genlab.models.loading import Bundle

__all__ = ["TINY_TEXTS", "tiny_bundle", "tiny_masked_bundle", "tiny_tokenizer"]

#: What the tiny tokenizer is trained on when no texts are given (each repeated 20 times).
TINY_TEXTS = ("the cat sat on the mat.",)


def tiny_tokenizer(texts: Sequence[str] | None = None, *, vocab_size: int = 300, model_max_length: int | None = None):
    """A genlab BPE tokenizer (BOS/EOS ``<|endoftext|>``, ``<pad>``) trained on ``texts`` (default
    :data:`TINY_TEXTS`), each repeated 20 times; its vocabulary stops short of ``vocab_size`` on little text."""
    texts = list(TINY_TEXTS if texts is None else texts) * 20
    kwargs = {} if model_max_length is None else {"model_max_length": model_max_length}
    return train_tokenizer(texts, vocab_size=vocab_size, **kwargs)


def tiny_bundle(
    tokenizer=None,
    *,
    texts: Sequence[str] | None = None,
    n_embd: int = 16,
    n_layer: int = 1,
    n_head: int = 2,
    n_positions: int = 64,
    seed: int = 0,
    padding_side: Literal["left", "right"] = "right",
) -> Bundle:
    """A random GPT-2 (``ModelConfig`` with the given shape) over ``tokenizer`` (default: :func:`tiny_tokenizer`
    of ``texts``), in eval mode on the CPU, its weights drawn with ``torch.manual_seed(seed)``."""
    tok = tiny_tokenizer(texts) if tokenizer is None else tokenizer
    tok.padding_side = padding_side
    state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        model = build_model(tok, ModelConfig(n_embd=n_embd, n_layer=n_layer, n_head=n_head, n_positions=n_positions))
    finally:
        torch.random.set_rng_state(state)  # building a tiny model leaves the caller's random stream alone
    return Bundle(model.eval(), tok, torch.device("cpu"), "causal")


def tiny_masked_bundle(tokenizer=None, *, texts: Sequence[str] | None = None, hidden_size: int = 16,
                       n_layer: int = 1, n_head: int = 2, n_positions: int = 64, seed: int = 0) -> Bundle:
    """A random BERT masked LM (``BertForMaskedLM``) over the tiny tokenizer with a ``<mask>`` token added, in eval
    mode on the CPU, for masked-LM code paths such as pseudo-log-likelihood scoring."""
    from transformers import BertConfig, BertForMaskedLM

    tok = tiny_tokenizer(texts) if tokenizer is None else tokenizer
    if tok.mask_token is None:
        tok.add_special_tokens({"mask_token": "<mask>"})
    config = BertConfig(vocab_size=len(tok), hidden_size=hidden_size, num_hidden_layers=n_layer,
                        num_attention_heads=n_head, intermediate_size=2 * hidden_size,
                        max_position_embeddings=n_positions, pad_token_id=tok.pad_token_id)
    state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        model = BertForMaskedLM(config)
    finally:
        torch.random.set_rng_state(state)
    return Bundle(model.eval(), tok, torch.device("cpu"), "masked")
