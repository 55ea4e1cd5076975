"""The GPT-2 shape genlab trains: a configuration and a fresh, randomly initialised ``GPT2LMHeadModel``.

>>> from genlab.data.tokenizer import train_tokenizer
>>> tok = train_tokenizer(["the cat sat on the mat."] * 20, vocab_size=300)
>>> model = build_model(tok, ModelConfig(n_embd=16, n_layer=1, n_head=2, n_positions=32))
>>> model.config.n_positions, model.config.vocab_size == len(tok)
(32, True)
>>> build_model(tok, ModelConfig(vocab_size=4096))
Traceback (most recent call last):
...
ValueError: ModelConfig(vocab_size=4096) disagrees with the tokenizer, which has 270 tokens: ...
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ModelConfig:
    """GPT-2 shape. The default, over genlab's 4096-token tokenizer, is its embedded model (about 4.2M parameters)."""

    #: BPE vocabulary, special tokens included. The model's vocabulary is always the tokenizer's (``len(tokenizer)``):
    #: None takes it from there; a number is checked against it (a mismatch is an error, never ignored).
    vocab_size: int | None = None
    n_positions: int = 256  # context length; every corpus document fits
    n_embd: int = 256  # width of the residual stream
    n_layer: int = 4  # transformer blocks
    n_head: int = 4  # attention heads (n_embd must divide by it)
    dropout: float = 0.0  # the corpus is large relative to the model; no need to regularise


#: The loss training code sets on a causal LM (``model.loss_type``). transformers picks a model's loss from its class
#: name, and "GPT2LMHeadModel" names none of its loss groups: every forward pass with labels then logs "`loss_type=None`
#: was set in the config but it is unrecognized. Using the default loss: `ForCausalLMLoss`" and uses this one anyway.
#: Setting it keeps the same loss without the log line.
CAUSAL_LM_LOSS = "ForCausalLM"


def build_model(tokenizer, config: ModelConfig):
    """A randomly initialised ``GPT2LMHeadModel`` of ``config``'s shape over ``tokenizer``'s vocabulary and special
    tokens (BOS, EOS and padding ids are copied into the model config). A ``config.vocab_size`` other than
    ``len(tokenizer)`` is a ``ValueError``."""
    from transformers import GPT2Config, GPT2LMHeadModel

    check_vocab_size(tokenizer, config)
    cfg = GPT2Config(vocab_size=len(tokenizer), n_positions=config.n_positions, n_embd=config.n_embd,
                     n_layer=config.n_layer, n_head=config.n_head, resid_pdrop=config.dropout,
                     embd_pdrop=config.dropout, attn_pdrop=config.dropout, bos_token_id=tokenizer.bos_token_id,
                     eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    return GPT2LMHeadModel(cfg)


def check_vocab_size(tokenizer, config: ModelConfig) -> None:
    """Raise a ``ValueError`` when ``config.vocab_size`` is set and differs from ``len(tokenizer)``: the model's
    embedding must have one row per token id the tokenizer can produce, so the number cannot simply be used."""
    if config.vocab_size is not None and config.vocab_size != len(tokenizer):
        raise ValueError(
            f"ModelConfig(vocab_size={config.vocab_size}) disagrees with the tokenizer, which has {len(tokenizer)} "
            f"tokens: the model's vocabulary must be the tokenizer's. Pass ModelConfig(vocab_size={len(tokenizer)}) "
            "or leave vocab_size out (None takes the tokenizer's size); to get a vocabulary of "
            f"{config.vocab_size} tokens, train the tokenizer with it: train_tokenizer(texts, "
            f"vocab_size={config.vocab_size})."
        )
