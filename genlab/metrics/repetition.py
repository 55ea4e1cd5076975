"""Repetition and diversity of generated text, from the text alone (no model).

Every metric here works on **whitespace tokens** (``str.split()``: runs of Unicode whitespace, as SimCTG's
``text.strip().split()``) unless you pass ``tokenizer``, a callable from a text to a sequence of hashable tokens
(e.g. ``bundle.tokenizer.tokenize``; Holtzman et al. and Welleck et al. count GPT-2 BPE tokens). Per-item scores come
first; corpus values are separate functions, and the registry records how per-item scores aggregate.

Speed: the texts are encoded once into integer ids with numpy (the default whitespace split runs on the UTF-8 bytes
and is checked to give exactly ``str.split()``'s tokens); an n-gram becomes one exact int64 code (the ids mixed with
a vocabulary-size radix, re-numbered densely whenever the radix would overflow), and one sort of the codes per
n-gram order yields every count. See benchmarks/bench_ngrams.py.

>>> distinct_n(["the cat the cat", "a b c"], n=2)
[0.6666666666666666, 1.0]
>>> rep_n(["a b a b a b"], n=2)  # 100 x (1 - 2 unique / 5 bigrams)
60.0
"""

from __future__ import annotations

import gzip
import math
import re
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Literal

import numpy as np

from genlab.metrics.registry import register_metric

Tokenizer = Callable[[str], Sequence[Hashable]]

_INT64_MAX = np.iinfo(np.int64).max
# str.split() separators: ASCII ones are found in the UTF-8 bytes; a text holding any non-ASCII one takes the
# Python path (tests/metrics/test_repetition.py checks this list against str.isspace over all of Unicode).
_ASCII_SPACE = np.zeros(256, dtype=bool)
_ASCII_SPACE[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True
NON_ASCII_SPACES = "\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
_NON_ASCII_SPACE_RE = re.compile(f"[{NON_ASCII_SPACES}]")
_MIX = np.uint64(0x9E3779B97F4A7C15)  # golden-ratio multiplier (splitmix64)
_KEEP = np.array([(1 << (8 * k)) - 1 for k in range(9)], dtype=np.uint64)  # _KEEP[k]: the low k bytes of a word


# --------------------------------------------------------------------------------------------------------------
# Encoding: texts -> one flat int64 array of token ids + tokens per text


@dataclass(frozen=True)
class Encoded:
    ids: np.ndarray  # (T,) int64 token ids in [0, vocab_size), all texts back to back
    lengths: np.ndarray  # (N,) int64 tokens per text
    vocab_size: int

    @property
    def offsets(self) -> np.ndarray:  # (N,) index of each text's first token in ids
        return np.cumsum(self.lengths) - self.lengths

    def tokens_of(self, i: int) -> np.ndarray:
        start = int(self.offsets[i])
        return self.ids[start : start + int(self.lengths[i])]


def check_texts(texts: Sequence[str], what: str = "texts") -> list[str]:
    """``texts`` as a list, or a ValueError that says what was wrong."""
    if isinstance(texts, (str, bytes)):
        raise ValueError(f"{what} must be a list of strings, got a single {type(texts).__name__}; wrap it: [text]")
    texts = list(texts)
    bad = next((i for i, t in enumerate(texts) if not isinstance(t, str)), None)
    if bad is not None:
        raise ValueError(f"{what}[{bad}] is a {type(texts[bad]).__name__}, not a str; pass the decoded texts")
    return texts


def _check_n(n: int, name: str = "n") -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{name} must be a positive integer (the n-gram order), got {n!r}")
    return int(n)


def encode(texts: Sequence[str], tokenizer: Tokenizer | None = None) -> Encoded:
    """Token ids of ``texts`` (whitespace tokens, or ``tokenizer``'s), numbered in one vocabulary.

    >>> e = encode(["a b a", "", "b c"])
    >>> e.ids.tolist(), e.lengths.tolist(), e.vocab_size
    ([0, 1, 0, 1, 2], [3, 0, 2], 3)
    """
    texts = check_texts(texts)
    if tokenizer is None:
        fast = _encode_whitespace_bytes(texts)
        if fast is not None:
            return fast
        token_lists = [t.split() for t in texts]
    else:
        token_lists = [list(tokenizer(t)) for t in texts]
    lengths = np.fromiter(map(len, token_lists), dtype=np.int64, count=len(token_lists))
    flat = list(chain.from_iterable(token_lists))
    vocab = {tok: i for i, tok in enumerate(dict.fromkeys(flat))}
    ids = np.fromiter(map(vocab.__getitem__, flat), dtype=np.int64, count=len(flat))
    return Encoded(ids, lengths, len(vocab))


def _encode_whitespace_bytes(texts: list[str]) -> Encoded | None:
    """``str.split()`` tokens numbered from the UTF-8 bytes with numpy; None when the Python path must be taken."""
    chunks = [t.encode("utf-8") for t in texts]
    data = b" ".join(chunks)
    if not data.isascii() and _NON_ASCII_SPACE_RE.search(data.decode("utf-8")):
        return None
    n_bytes = len(data)
    padded = data + bytes(8)
    space = _ASCII_SPACE[np.frombuffer(padded, dtype=np.uint8, count=n_bytes)]
    word = ~space
    starts = np.flatnonzero(word & np.concatenate(([True], space[:-1])))
    size = np.flatnonzero(word & np.concatenate((space[1:], [True]))) + 1 - starts  # (T,) bytes per token
    chunk_len = np.fromiter(map(len, chunks), dtype=np.int64, count=len(chunks)) + 1
    first_token = np.searchsorted(starts, np.cumsum(chunk_len) - chunk_len)  # (N,) index of each text's first token
    lengths = np.diff(np.append(first_token, len(starts)))
    if len(starts) == 0:
        return Encoded(np.zeros(0, np.int64), lengths, 0)
    # the 8 bytes that start at every offset, as little-endian uint64 (unaligned, strided view; no copy)
    at = np.ndarray(shape=(n_bytes + 1,), dtype="<u8", buffer=padded, strides=(1,))
    # A 64-bit hash of (length, bytes) groups the tokens; then the tokens of each group are compared word by word,
    # so the ids are exact (a collision sends the texts to the Python path).
    words = []  # (tokens that have an 8-byte word w, that word), for w = 0, 1, ...
    sel = np.arange(len(starts))
    while len(sel):
        w = len(words)
        words.append((sel, at[starts[sel] + 8 * w] & _KEEP[np.minimum(size[sel] - 8 * w, 8)]))
        sel = sel[size[sel] > 8 * (w + 1)]
    h = size.astype(np.uint64)
    for sel, word_w in words:
        h[sel] = (h[sel] ^ word_w) * _MIX
        h[sel] ^= h[sel] >> np.uint64(29)
    order = np.argsort(h)
    sorted_h = h[order]
    same = np.zeros(len(h), dtype=bool)  # same[k]: the k-th sorted token has the hash of the (k-1)-th
    np.equal(sorted_h[1:], sorted_h[:-1], out=same[1:])
    sorted_size = size[order]
    if not np.array_equal(sorted_size[1:][same[1:]], sorted_size[:-1][same[1:]]):
        return None
    rank_in_sorted = np.empty(len(h), dtype=np.int64)
    rank_in_sorted[order] = np.arange(len(h))
    for sel, word_w in words:  # a group's tokens have one size, so they are neighbours in each word's list too
        pos = np.sort(rank_in_sorted[sel])
        wsorted = np.empty(len(h), dtype=np.uint64)
        wsorted[rank_in_sorted[sel]] = word_w
        wsorted = wsorted[pos]
        pair = same[pos[1:]] & (pos[1:] == pos[:-1] + 1)
        if not np.array_equal(wsorted[1:][pair], wsorted[:-1][pair]):
            return None
    group = np.cumsum(~same) - 1
    n_ids = int(group[-1]) + 1
    ids = np.empty(len(h), dtype=np.int64)
    ids[order] = group
    # number the ids by first occurrence, as the Python path does, so both paths give the same arrays
    first = np.full(n_ids, len(ids), dtype=np.int64)
    np.minimum.at(first, ids, np.arange(len(ids)))
    rank = np.empty(n_ids, dtype=np.int64)
    rank[np.argsort(first)] = np.arange(n_ids)
    return Encoded(rank[ids], lengths, n_ids)
