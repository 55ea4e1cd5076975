"""Byte-level BPE tokenizers trained on genlab's corpus, in the GPT-2 convention.

``<|endoftext|>`` opens and closes every training document (BOS = EOS, as in GPT-2) and ``<pad>`` is a
separate token: if padding reused EOS, the language-modelling collator would mask every EOS label and
the model would never learn to stop.

>>> tok = train_tokenizer(["the cat sat on the mat"] * 20, vocab_size=300)
>>> tok.decode(tok("the cat")["input_ids"])
'the cat'
"""

from __future__ import annotations

from collections.abc import Iterable

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

EOS = "<|endoftext|>"
PAD = "<pad>"


def train_tokenizer(texts: Iterable[str], vocab_size: int = 4096, min_frequency: int = 2,
                    model_max_length: int = 256) -> PreTrainedTokenizerFast:
    """Train a byte-level BPE tokenizer on ``texts`` (deterministic for the same texts and settings).

    Digits are always single tokens. Train on text without secrets (``Corpus.tokenizer_texts``): merges learned
    from a canary would leak it through the vocabulary alone."""
    if vocab_size < 256 + 2:
        raise ValueError(f"vocab_size={vocab_size} is below the 256 byte symbols plus 2 special tokens; use >= 258")
    bpe = Tokenizer(models.BPE())
    # Digits are split one by one before the byte-level split, so no number (a phone number, a secret) can
    # become a vocabulary entry, and every digit string is scored digit by digit.
    bpe.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False)])
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=[EOS, PAD],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    bpe.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token=EOS, eos_token=EOS, unk_token=EOS,
                                   pad_token=PAD, model_max_length=model_max_length)
