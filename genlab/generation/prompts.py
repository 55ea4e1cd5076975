"""Prompts cut from documents, and the human continuations a generation is compared with.

A continuation study (Holtzman et al. 2020; Su et al. 2022) prompts the model with the start of each held-out
document and compares what it writes with the rest of the document, cut to the same token budget as the
generations: :func:`split_documents` makes the pairs, :func:`match_human_length` cuts the human side, and
:func:`token_ids` gives the model tokens of any text (the human side of a token-level metric).

>>> prefixes, refs = split_documents(["One two three four five six seven eight nine ten."], prefix_words=4)
>>> prefixes, refs
(['One two three four'], [' five six seven eight nine ten.'])
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

__all__ = ["match_human_length", "split_documents", "token_ids"]


def split_documents(
    texts: Sequence[str], prefix_words: int = 8, continuation_words: int | None = None
) -> tuple[list[str], list[str]]:
    """Cut each text after ``prefix_words`` words: (prompts, human continuations).

    The cut keeps the document's own characters: ``prefix + continuation`` is the start of the text, and the
    continuation begins with the whitespace that followed the prefix. A continuation without it would be
    tokenised as the inside of a word ("the" -> "t", "he" instead of " the") and scored as very unlikely.

    >>> split_documents(["One two three four five\\nsix seven."], prefix_words=4, continuation_words=2)
    (['One two three four'], [' five\\nsix'])
    """
    if prefix_words < 1:
        raise ValueError("prefix_words must be at least 1")
    if continuation_words is not None and continuation_words < 1:
        raise ValueError("continuation_words must be at least 1 (or None for the rest of the text)")
    prefixes, continuations = [], []
    for text in texts:
        spans = [m.span() for m in re.finditer(r"\S+", text)]
        if len(spans) <= prefix_words:
            raise ValueError(
                f"a text has {len(spans)} words, not more than prefix_words={prefix_words}: {text[:60]!r}; "
                "choose longer texts or a smaller prefix_words"
            )
        cut = spans[prefix_words - 1][1]
        last = len(spans) if continuation_words is None else min(len(spans), prefix_words + continuation_words)
        prefixes.append(text[:cut])
        continuations.append(text[cut : spans[last - 1][1]])
    return prefixes, continuations


def match_human_length(tokenizer, continuations: Sequence[str], n_tokens: int) -> list[str]:
    """Each human continuation cut to its first ``n_tokens`` model tokens: the budget every generation gets.

    The rule of the decoding study: a generation has at most ``max_new_tokens`` tokens (fewer when the model ends
    the text), so the human continuation of the same prompt is cut to exactly that many tokens of the same
    tokenizer (Holtzman et al. 2020 compare generations and gold continuations of up to 200 tokens; Su & Xu 2022
    keep pairs where both have exactly 128). A continuation with fewer tokens is kept whole; the study reports
    each text's tokens (``n_tokens``) so a mismatch shows. The cut is decoded from the token ids, so it is the
    continuation's own characters whenever the tokenizer round-trips (genlab's byte-level BPE does).

    >>> from genlab.models.tiny import tiny_bundle
    >>> tok = tiny_bundle().tokenizer
    >>> match_human_length(tok, [" the cat sat on the mat", " a"], 3)  # " the", " cat", " sat"; " a" is shorter
    [' the cat sat', ' a']
    """
    if isinstance(n_tokens, bool) or not isinstance(n_tokens, (int, np.integer)) or n_tokens < 1:
        raise ValueError(f"n_tokens must be a positive integer (the generations' max_new_tokens), got {n_tokens!r}")
    if isinstance(continuations, str) or not all(isinstance(t, str) for t in continuations):
        raise ValueError("continuations must be a list of strings")
    ids = tokenizer(list(continuations), add_special_tokens=False)["input_ids"] if continuations else []
    out = []
    for text, x in zip(continuations, ids, strict=True):
        if len(x) <= n_tokens:
            out.append(text)
            continue
        cut = tokenizer.decode(x[:n_tokens], skip_special_tokens=True, clean_up_tokenization_spaces=False)
        out.append(cut)
    return out


def token_ids(tokenizer, texts: Sequence[str]) -> list[list[int]]:
    """The model token ids of each text, without special tokens: the tokens a generation of that text would have.

    >>> from genlab.models.tiny import tiny_bundle
    >>> [len(x) for x in token_ids(tiny_bundle().tokenizer, [" the cat sat", ""])]
    [3, 0]
    """
    return [list(x) for x in tokenizer(list(texts), add_special_tokens=False)["input_ids"]] if texts else []
