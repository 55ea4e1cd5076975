"""Repetition and diversity of generated text, from the text alone (no model).

Every metric here works on **whitespace tokens** (``str.split()``: runs of Unicode whitespace, as SimCTG's
``text.strip().split()``) unless you pass ``tokenizer``, a callable from a text to a sequence of hashable tokens
(e.g. ``bundle.tokenizer.tokenize``; Holtzman et al. and Welleck et al. count GPT-2 BPE tokens). Per-item scores come
first; corpus values are separate functions, and the registry records how per-item scores aggregate.

Speed: ``encode`` turns the texts into integer ids once (pass its result to several metrics to reuse it); an n-gram
becomes one exact int64 code (the ids mixed with a vocabulary-size radix, renumbered densely whenever the radix
would overflow), and one sort of the codes per n-gram order yields every count. See benchmarks/bench_ngrams.py.

>>> distinct_n(["the cat the cat", "a b c"], n=2)
[0.6666666666666666, 1.0]
>>> rep_n(["a b a b a b"], n=2)  # 100 x (1 - 2 unique / 5 bigrams)
60.0
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Literal

import numpy as np

Tokenizer = Callable[[str], Sequence[Hashable]]

_INT64_MAX = np.iinfo(np.int64).max


# --------------------------------------------------------------------------------------------------------------
# Encoding: texts -> one flat int64 array of token ids + tokens per text


@dataclass(frozen=True)
class Encoded:
    ids: np.ndarray  # (T,) int64 token ids in [0, vocab_size), all texts back to back
    lengths: np.ndarray  # (N,) int64 tokens per text
    vocab_size: int
    # n-gram counts already computed on this encoding, by (n, skip_last): metrics that share an encoding share them
    counts: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:  # read-only, so that cached counts stay true
        self.ids.flags.writeable = False
        self.lengths.flags.writeable = False

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
    if not all(issubclass(kind, str) for kind in set(map(type, texts))):  # set(map(...)) runs in C: fast
        bad = next(i for i, t in enumerate(texts) if not isinstance(t, str))
        raise ValueError(f"{what}[{bad}] is a {type(texts[bad]).__name__}, not a str; pass the decoded texts")
    return texts


def _check_n(n: int, name: str = "n") -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{name} must be a positive integer (the n-gram order), got {n!r}")
    return int(n)


def encode(texts: Sequence[str] | Encoded, tokenizer: Tokenizer | None = None) -> Encoded:
    """Token ids of ``texts`` (whitespace tokens, or ``tokenizer``'s), numbered by first occurrence.

    Encode once and pass the result to several metrics to split the texts only once. Whitespace tokens come
    from Arrow's ``ascii_split_whitespace`` and ``dictionary_encode`` (C++), or from ``str.split`` and a dict
    when pyarrow is missing or a text holds whitespace outside \\t \\n \\v \\f \\r and space (tests check
    both paths agree with ``str.split`` over all of Unicode).

    >>> e = encode(["a b a", "", "b c"])
    >>> e.ids.tolist(), e.lengths.tolist(), e.vocab_size
    ([0, 1, 0, 1, 2], [3, 0, 2], 3)
    """
    if isinstance(texts, Encoded):
        if tokenizer is not None:
            raise ValueError("texts are already encoded; pass tokenizer to encode(), not to the metric")
        return texts
    texts = check_texts(texts)
    if tokenizer is None:
        fast = _encode_whitespace_arrow(texts)
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


# Characters that str.split() treats as whitespace but Arrow's ascii_split_whitespace does not (Arrow splits on
# \t \n \v \f \r and space); texts holding one take the Python path. (Arrow's utf8_split_whitespace knows them,
# but with pyarrow 26 it sometimes keeps a lone U+2028 as a token, depending on earlier calls.)
OTHER_WHITESPACE = "\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_OTHER_WHITESPACE = re.compile(f"[{OTHER_WHITESPACE}]")


def _encode_whitespace_arrow(texts: list[str]) -> Encoded | None:
    """``str.split()`` tokens and first-occurrence ids with pyarrow; None if pyarrow is missing, refuses the texts
    (e.g. lone surrogates) or a text holds whitespace that Arrow's ASCII splitter does not know."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
    except ImportError:
        return None
    try:
        array = pa.array(texts, type=pa.large_string())
    except (pa.ArrowException, UnicodeError):
        return None
    joined = "".join(texts)
    if any(c in joined for c in "\x1c\x1d\x1e\x1f") or (not joined.isascii() and _OTHER_WHITESPACE.search(joined)):
        return None
    lists = pc.ascii_split_whitespace(array)
    # Arrow keeps an empty piece for whitespace at either end of a text (and for an empty text): drop those
    pieces = lists.flatten()
    keep = pc.binary_length(pieces).to_numpy(zero_copy_only=False) > 0
    kept_before = np.concatenate(([0], np.cumsum(keep)))
    offsets = lists.offsets.to_numpy() - lists.offsets[0].as_py()
    lengths = (kept_before[offsets[1:]] - kept_before[offsets[:-1]]).astype(np.int64)
    codes = pc.dictionary_encode(pieces)  # indices in order of first occurrence
    ids = codes.indices.to_numpy(zero_copy_only=False).astype(np.int64)[keep]
    empty = codes.dictionary.index("").as_py()  # -1 if no text had an empty piece
    if empty >= 0:
        ids -= ids > empty
    return Encoded(ids, lengths, len(codes.dictionary) - int(empty >= 0))


# --------------------------------------------------------------------------------------------------------------
# n-gram counting: one exact int64 code per n-gram, one sort per order


@dataclass(frozen=True)
class NgramCounts:
    unique: np.ndarray  # (N,) distinct n-grams in each text
    total: np.ndarray  # (N,) n-grams in each text
    tokens: np.ndarray  # (N,) tokens in each text
    corpus_unique: int | None  # distinct n-grams over all texts (None unless asked for)

    def __post_init__(self) -> None:
        self.unique.flags.writeable = False
        self.total.flags.writeable = False


def _ngram_codes(enc: Encoded, n: int, skip_last: bool = False) -> tuple[np.ndarray, np.ndarray, int]:
    """(codes, text of each n-gram, bound): equal n-grams get equal codes in [0, bound), and text * bound + code
    fits in int64. ``skip_last`` drops each text's last n-gram (SimCTG's loop)."""
    n_texts = len(enc.lengths)
    per_text = np.maximum(enc.lengths - n + 1 - int(skip_last), 0)  # (N,) n-grams in each text
    total = int(per_text.sum())
    text_of = np.repeat(np.arange(n_texts, dtype=np.int64), per_text)
    starts = np.arange(total, dtype=np.int64) + np.repeat(enc.offsets - (np.cumsum(per_text) - per_text), per_text)
    vocab = max(enc.vocab_size, 1)
    limit = _INT64_MAX // max(n_texts, 1)  # keep text * bound + code below 2**63
    codes, bound = enc.ids[starts], vocab
    for k in range(1, n):
        if bound > limit // vocab:  # the radix would overflow: renumber the (k)-gram prefixes densely first
            uniq, codes = np.unique(codes, return_inverse=True)
            bound = max(len(uniq), 1)
        if bound > limit // vocab:  # still too wide (a huge corpus): number the (prefix, token) pairs directly
            pairs = np.stack([codes, enc.ids[starts + k]], axis=1)
            uniq, codes = np.unique(pairs, axis=0, return_inverse=True)
            codes, bound = codes.reshape(-1), max(len(uniq), 1)
            continue
        codes = codes * vocab + enc.ids[starts + k]
        bound *= vocab
    return codes, text_of, bound


def ngram_counts(
    texts: Sequence[str] | Encoded,
    n: int,
    *,
    tokenizer: Tokenizer | None = None,
    skip_last: bool = False,
    corpus: bool = True,
) -> NgramCounts:
    """Distinct and total n-grams per text (and over the corpus if ``corpus``): the counts the metrics derive from.

    ``skip_last=True`` reproduces SimCTG's loop, which never counts a text's last n-gram. Given an ``Encoded``
    (from ``encode``), the counts are computed once per (n, skip_last), corpus included, and kept with it, so
    several metrics on one encoding share the work.

    >>> c = ngram_counts(["a b a b a b", "a b"], n=2)
    >>> c.unique.tolist(), c.total.tolist(), c.corpus_unique
    ([2, 1], [5, 1], 2)
    """
    n = _check_n(n)
    shared = isinstance(texts, Encoded)
    enc = encode(texts, tokenizer)
    if (n, skip_last) in enc.counts:
        return enc.counts[n, skip_last]
    result = _count_ngrams(enc, n, skip_last, corpus or shared)
    if shared:  # the caller keeps the encoding: keep the counts with it
        enc.counts[n, skip_last] = result
    return result


def _count_ngrams(enc: Encoded, n: int, skip_last: bool, corpus: bool) -> NgramCounts:
    codes, text_of, bound = _ngram_codes(enc, n, skip_last)
    n_texts = len(enc.lengths)
    total = np.bincount(text_of, minlength=n_texts).astype(np.int64)
    if len(codes) == 0:
        return NgramCounts(np.zeros(n_texts, np.int64), total, enc.lengths, 0 if corpus else None)
    # one sort by (n-gram, text) gives both counts: a new key is a text's first copy of an n-gram, a new n-gram
    # (key // N) is a corpus-level distinct one
    keys = np.sort(codes * n_texts + text_of)  # fits: bound * N <= 2**63 - 1
    new = np.empty(len(keys), dtype=bool)
    new[0] = True
    np.not_equal(keys[1:], keys[:-1], out=new[1:])
    unique = np.bincount(keys[new] % n_texts, minlength=n_texts).astype(np.int64)
    corpus_unique = None
    if corpus:
        gram = keys[new] // n_texts
        corpus_unique = int(np.count_nonzero(gram[1:] != gram[:-1])) + 1
    return NgramCounts(unique, total, enc.lengths, corpus_unique)


def _ratio(num: np.ndarray, den: np.ndarray) -> list[float]:
    """num / den per item, 0.0 where den is 0 (no n-grams: nothing to count)."""
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    out = np.zeros(len(num))
    np.divide(num, den, out=out, where=den > 0)
    return out.tolist()


Denominator = Literal["ngrams", "tokens"]


def _check_denominator(denominator: str) -> None:
    if denominator not in ("ngrams", "tokens"):
        raise ValueError(
            f"denominator must be 'ngrams' (library practice) or 'tokens' (Li et al.'s wording), got {denominator!r}"
        )


# --------------------------------------------------------------------------------------------------------------
# distinct-n (Li et al. 2016)


def distinct_n(
    texts: Sequence[str] | Encoded,
    n: int = 2,
    *,
    denominator: Denominator = "ngrams",
    tokenizer: Tokenizer | None = None,
) -> list[float]:
    """Share of distinct n-grams in each text ("intra" distinct-n; Li et al. 2016).

    distinct-n = |unique n-grams of the text| / D, where D is, by default, the text's number of n-grams
    (``denominator="ngrams"``, what most libraries compute), or its number of tokens (``denominator="tokens"``, the
    paper's wording: "scaled by total number of generated tokens"). A text without n-grams scores 0.0.

    >>> distinct_n(["the cat the cat", "a b c"], n=2)
    [0.6666666666666666, 1.0]
    >>> distinct_n(["the cat the cat"], n=2, denominator="tokens")
    [0.5]
    """
    _check_denominator(denominator)
    c = ngram_counts(texts, n, tokenizer=tokenizer, corpus=False)
    return _ratio(c.unique, c.total if denominator == "ngrams" else c.tokens)


def distinct_n_corpus(
    texts: Sequence[str] | Encoded,
    n: int = 2,
    *,
    denominator: Denominator = "ngrams",
    tokenizer: Tokenizer | None = None,
) -> float:
    """Share of distinct n-grams over the whole corpus ("system" distinct-n; Li et al. 2016).

    |unique n-grams over all texts| / (all n-grams, or all tokens with ``denominator="tokens"``); 0.0 if none.
    An n-gram never spans two texts.

    >>> distinct_n_corpus(["the cat the cat", "the cat"], n=2)
    0.5
    """
    _check_denominator(denominator)
    c = ngram_counts(texts, n, tokenizer=tokenizer)
    return _ratio([c.corpus_unique], [(c.total if denominator == "ngrams" else c.tokens).sum()])[0]


# --------------------------------------------------------------------------------------------------------------
# seq-rep-n (Welleck et al. 2019)


def seq_rep_n(texts: Sequence[str] | Encoded, n: int = 4, *, tokenizer: Tokenizer | None = None) -> list[float]:
    """Share of repeated n-grams in each continuation: 1 - |unique n-grams| / |n-grams| (Welleck et al. 2019).

    As the authors' ``custom/metrics.py::ngram_metrics`` (``1 - len(Counter(ngrams)) / len(ngrams)``); the paper
    reports the mean over continuations of seq-rep-4 on GPT-2 BPE tokens. A text without n-grams scores 0.0 (the
    authors' code would divide by zero).

    >>> seq_rep_n(["a b a b a b", "a b c d e"], n=2)
    [0.6, 0.0]
    """
    c = ngram_counts(texts, n, tokenizer=tokenizer, corpus=False)
    return [1.0 - r if t else 0.0 for r, t in zip(_ratio(c.unique, c.total), c.total.tolist(), strict=True)]


# --------------------------------------------------------------------------------------------------------------
# rep-n and diversity (Su et al. 2022, SimCTG)


def rep_n(
    texts: Sequence[str] | Encoded, n: int = 2, *, simctg_compat: bool = False, tokenizer: Tokenizer | None = None
) -> float:
    """Corpus repetition in percent: rep-n = 100 x (1 - sum_texts unique_n / sum_texts total_n) (Su et al. 2022).

    Distinct n-grams are counted within each text, then micro-summed over the corpus. By default every n-gram is
    counted (the paper's definition). ``simctg_compat=True`` reproduces the authors' ``measure_repetition_and_
    diversity``: its loop skips each text's last n-gram, and the value is rounded to 2 decimals. 0.0 when the
    corpus has no n-grams (the authors' code divides by zero).

    >>> rep_n(["a b a b a b"], n=2)
    60.0
    >>> rep_n(["a b a b a b"], n=2, simctg_compat=True)
    50.0
    """
    c = ngram_counts(texts, n, tokenizer=tokenizer, skip_last=simctg_compat, corpus=False)
    return _rep(int(c.unique.sum()), int(c.total.sum()), simctg_compat)


def _rep(unique: int, total: int, simctg_compat: bool) -> float:
    if total == 0:
        return 0.0
    if simctg_compat:  # the authors' exact float steps: round((1 - u / t) * 100, 2)
        return round((1 - unique / total) * 100, 2)
    return 100.0 * (1.0 - unique / total)


def diversity_from_rep(reps: Sequence[float]) -> float:
    """SimCTG diversity from rep-n values in percent: prod_n (1 - rep_n / 100) (Su et al. 2022).

    >>> round(diversity_from_rep([3.92, 0.88, 0.28]), 4)  # human text, Wikitext-103 (SimCTG Table 1)
    0.9497
    """
    out = 1.0
    for r in reps:
        out *= 1 - r / 100
    return out


def diversity(
    texts: Sequence[str] | Encoded, *, simctg_compat: bool = False, tokenizer: Tokenizer | None = None
) -> float:
    """SimCTG diversity = prod_{n=2..4} (1 - rep-n / 100), in [0, 1] (Su et al. 2022).

    ``simctg_compat=True``: rep-n as the authors' code computes it (last n-gram skipped, rounded to 2 decimals
    before the product), so the result equals ``measure_repetition_and_diversity``'s.

    >>> round(diversity(["a b a b a b"]), 4)  # (1 - .6)(1 - .5)(1 - 1/3)
    0.1333
    """
    enc = encode(texts, tokenizer)
    reps = []
    for n in (2, 3, 4):
        c = ngram_counts(enc, n, skip_last=simctg_compat, corpus=False)
        reps.append(_rep(int(c.unique.sum()), int(c.total.sum()), simctg_compat))
    return diversity_from_rep(reps)


# --------------------------------------------------------------------------------------------------------------
# Repetition at the end of a text (Holtzman et al. 2020)


def _ends_in_loop(tokens: list, min_phrase_len: int = 2, min_repeats: int = 3) -> bool:
    """The paper's rule: some phrase of >= 2 tokens repeats >= 3 times back to back at the very end."""
    size = len(tokens)
    for length in range(min_phrase_len, size // min_repeats + 1):
        tail = tokens[size - length :]
        if all(tokens[size - (k + 1) * length : size - k * length] == tail for k in range(1, min_repeats)):
            return True
    return False


def _ends_in_loop_degen(tokens: list, max_n: int = 90) -> bool:
    """degen metrics/repetition.py: the phrase length (1..90) with most back-to-back repeats at the end (shortest on
    ties) counts if it repeats more than once and is >= 3 tokens long, or repeats more than 50 times."""
    rev = tokens[::-1]
    best_n, best_repeats = 1, 0
    for n in range(1, max_n + 1):
        repeats = 1
        while len(rev[n * repeats : n * (repeats + 1)]) == n and rev[n * repeats : n * (repeats + 1)] == rev[:n]:
            repeats += 1
        if repeats > best_repeats:
            best_n, best_repeats = n, repeats
    return best_repeats > 1 and (best_n >= 3 or best_repeats > 50)


def end_repetition(
    texts: Sequence[str],
    *,
    degen_compat: bool = False,
    eos: str | None = "<|endoftext|>",
    tokenizer: Tokenizer | None = None,
) -> list[bool]:
    """Whether each text ends in a repeating loop (Holtzman et al. 2020, Table 1 "Repetition %").

    Default, the paper's rule: a phrase of at least 2 tokens repeats at least 3 times back to back at the end (so
    one token repeated 6 times counts, as the phrase "x x" 3 times). ``degen_compat=True``: the authors' script
    (``metrics/repetition.py``): for phrase lengths 1..90 count the back-to-back repeats at the end, take the
    length with most repeats (shortest on ties); it counts if repeats > 1 and (length >= 3 or repeats > 50). A
    trailing ``eos`` token is dropped first, as the script does. The mean x 100 is the paper's Repetition %
    (``end_repetition_rate``).

    >>> end_repetition(["it was good . it was good . it was good .", "a b a b a b", "a b c a b c"])
    [True, True, False]
    >>> end_repetition(["it was good . it was good . it was good .", "a b a b a b", "a b c a b c"], degen_compat=True)
    [True, False, True]
    """
    texts = check_texts(texts)
    if eos is not None and not isinstance(eos, str):
        raise ValueError(f"eos must be a string (the end-of-text marker) or None, got {eos!r}")
    enc = encode(texts + [eos or ""], tokenizer)  # encode eos with the texts, so its ids are theirs
    eos_tokens = enc.tokens_of(len(texts)).tolist()
    rule = _ends_in_loop_degen if degen_compat else _ends_in_loop
    out = []
    for i in range(len(texts)):
        tokens = enc.tokens_of(i).tolist()
        if eos_tokens and tokens[-len(eos_tokens) :] == eos_tokens:
            del tokens[-len(eos_tokens) :]
        out.append(rule(tokens))
    return out


def end_repetition_ids(
    token_ids: Sequence[Sequence[int]], *, degen_compat: bool = False, eos_id: int | None = None
) -> list[bool]:
    """Whether each sequence of **model token ids** ends in a repeating loop (Holtzman et al. 2020, "Repetition %").

    The rule of :func:`end_repetition` applied to the ids the model generated, as the paper counts GPT-2 BPE tokens
    (degen's ``metrics/repetition.py`` reads ``obj['tokens']``): by default a phrase of at least 2 tokens repeats
    at least 3 times back to back at the very end; ``degen_compat=True`` is the authors' script. Retokenising the
    decoded text can give other ids than the ones generated, so studies that have the generated ids pass them
    here. A trailing ``eos_id`` is dropped first, as the script drops ``<|endoftext|>``.

    >>> end_repetition_ids([[5, 7, 5, 7, 5, 7], [1, 2, 3, 1, 2, 3], [9, 9, 9, 9, 9, 9, 0]], eos_id=0)
    [True, False, True]
    >>> end_repetition_ids([[5, 7, 5, 7, 5, 7], [1, 2, 3, 1, 2, 3]], degen_compat=True)
    [False, True]

    **Limitations.** Only loops that repeat the same ids verbatim at the very end count: a text that loops over a
    sentence frame with new nouns each time ("the red cup was ..., the blue cup was ...") is not counted; seq-rep-n
    and rep-n see those.
    """
    if isinstance(token_ids, (str, bytes)):
        raise ValueError("token_ids must be a list of token-id sequences (one per text), not a string")
    rule = _ends_in_loop_degen if degen_compat else _ends_in_loop
    out = []
    for i, seq in enumerate(token_ids):
        if isinstance(seq, (str, bytes)):
            raise ValueError(f"token_ids[{i}] is a string; pass the model's token ids (use end_repetition for texts)")
        tokens = [int(t) for t in seq]
        if eos_id is not None and tokens and tokens[-1] == eos_id:
            tokens.pop()
        out.append(rule(tokens))
    return out


def end_repetition_rate(
    texts: Sequence[str],
    *,
    degen_compat: bool = False,
    eos: str | None = "<|endoftext|>",
    tokenizer: Tokenizer | None = None,
) -> float:
    """Percentage of texts that end in a repeating loop (Holtzman et al. 2020, "Repetition %"); 0.0 for no texts.

    >>> end_repetition_rate(["a b a b a b", "a b c d"])
    50.0
    """
    flags = end_repetition(texts, degen_compat=degen_compat, eos=eos, tokenizer=tokenizer)
    return 100.0 * sum(flags) / len(flags) if flags else 0.0


# --------------------------------------------------------------------------------------------------------------
# Zipf coefficient (Holtzman et al. 2020)


def zipf_coefficient(texts: Sequence[str] | Encoded, *, top_n: int = 5000, tokenizer: Tokenizer | None = None) -> float:
    """Zipf coefficient of the corpus's token frequencies (Holtzman et al. 2020, degen ``metrics/zipf.py``).

    Count every token of all texts, keep the ``top_n`` largest counts in descending order, fit log(count) =
    a + b log(rank) by least squares (ranks 1..k), and return -b. Human text scores about 0.93 (GPT-2 BPE tokens,
    WebText); neither direction is better: compare with human text. nan when fewer than 2 distinct tokens (no line
    can be fitted).

    >>> round(zipf_coefficient(["a a a a a a b b b c c"]), 6)  # counts 6, 3, 2 = 6 / rank: exactly Zipf's law
    1.0
    """
    if isinstance(top_n, bool) or not isinstance(top_n, (int, np.integer)) or top_n < 2:
        raise ValueError(f"top_n must be an integer >= 2 (how many of the most frequent tokens to fit), got {top_n!r}")
    enc = encode(texts, tokenizer)
    counts = np.sort(np.bincount(enc.ids, minlength=enc.vocab_size))[::-1][:top_n]
    if len(counts) < 2:
        return float("nan")
    x = np.log(np.arange(1, len(counts) + 1, dtype=np.float64))
    y = np.log(counts.astype(np.float64))
    dx = x - x.mean()
    return float(-(dx @ (y - y.mean())) / (dx @ dx))


# --------------------------------------------------------------------------------------------------------------
# Compression ratio


def _compression_ratio(data: bytes, level: int) -> float:
    return len(data) / len(gzip.compress(data, compresslevel=level, mtime=0))


def _check_level(level: int) -> None:
    if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 9:
        raise ValueError(f"level must be a gzip compression level 0..9, got {level!r}")


def compression_ratio(texts: Sequence[str], *, level: int = 9) -> list[float]:
    """UTF-8 bytes / gzip-compressed bytes of each text: higher means more redundant (after Shaib et al. 2024).

    gzip (``compresslevel=level``, ``mtime=0`` so the bytes are reproducible) adds about 20 bytes of header and
    trailer, so short texts score below 1 and per-text values only compare between texts of similar length; an
    empty text scores 0.0. Works on bytes, not tokens.

    >>> [round(r, 2) for r in compression_ratio(["ab" * 200, "the quick brown fox"])]  # 400 / 27, 19 / 39 bytes
    [14.81, 0.49]
    """
    _check_level(level)
    return [_compression_ratio(t.encode("utf-8"), level) for t in check_texts(texts)]


def compression_ratio_corpus(texts: Sequence[str], *, level: int = 9) -> float:
    """Compression ratio of the whole corpus: the texts joined with single spaces, as Shaib et al.'s ``diversity``
    package does, UTF-8 bytes / gzip bytes. Repeated phrasing *across* texts raises it too.

    >>> round(compression_ratio_corpus(["the cat sat"] * 50), 2)  # 599 / 37 bytes
    16.19
    """
    _check_level(level)
    return _compression_ratio(" ".join(check_texts(texts)).encode("utf-8"), level)
