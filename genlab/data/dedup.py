"""Exact and near-duplicate documents: a normalised-text hash, and MinHash LSH over n-gram shingles.

- **Exact**: two texts are exact duplicates when their normalised forms are equal (Unicode NFKC, case-folded,
  runs of whitespace collapsed, ends stripped); rows are grouped by the SHA-256 of that form.
- **Near**: a text is a set of shingles (word ``n``-grams of its ``\\w+`` tokens, or character ``n``-grams of its
  normalised form). MinHash (Broder 1997) keeps, for each of ``num_perm`` seeded hash permutations, the smallest
  hashed shingle; the share of positions where two signatures agree is an unbiased estimate of the Jaccard
  similarity ``|A & B| / |A | B|`` of the two sets, with standard error ``sqrt(J (1 - J) / num_perm)`` (at most
  0.044 for 128 permutations). LSH banding (``b`` bands of ``r`` rows; Leskovec, Rajaraman & Ullman, *Mining of
  Massive Datasets*, ch. 3) makes a pair a candidate with probability ``1 - (1 - J**r)**b``. Here it is only a
  filter, tuned for recall (:func:`lsh_bands`: a pair at the threshold is missed with probability at most
  ``lsh_miss`` = 0.001); a candidate is a near duplicate when its *estimated* Jaccard reaches ``threshold``. Lee
  et al. (2022, "Deduplicating Training Data Makes Language Models Better") apply MinHash over word 5-grams to
  language-model training data; genlab's defaults use the same shingles, datasketch's 128 permutations and a
  0.8 threshold.

Rows are visited in order and the first of each cluster is kept: a row is compared only with rows already kept,
so a cluster is a kept row and the rows dropped in its favour, and similarity never chains through a dropped row.

>>> texts = ["The cat sat on the mat by the door all day long.", "the cat  sat on the mat by the door all day long.",
...          "The cat sat on the mat by the door all day long. The end.", "A dog ran to the river at dawn."]
>>> result = find_duplicates(texts)
>>> [(d.row, d.reason, d.duplicate_of) for d in result.duplicates]
[(1, 'exact', 0), (2, 'near', 0)]
>>> result.keep
[0, 3]

Measured with :func:`threshold_scan` on ``generate_corpus(n_train_docs=2000, duplicate_rate=0.1)`` (the default
world: 2,200 training documents, 200 of them planted copies, 100 exact and 100 with a short sentence appended),
word 5-grams: every copy is dropped and nothing else from threshold 0.2 to 0.9 (precision and recall 1.0,
exact 95% intervals 0.982 to 1). At 0.95 five near copies of short documents (true Jaccard below 0.95) are kept
(recall 0.975). At 0.1, 21 distinct documents are dropped: their true Jaccard to the matched row is 0.02 to
0.07, and their estimates of 0.10 to 0.14 are the largest of many noisy estimates (a row is compared with
every candidate and the best one counts). With word 5-grams the templated documents hardly overlap: the most
similar pair of distinct documents has Jaccard 0.10. Character 5-grams see the templates: the median document's
nearest distinct neighbour has Jaccard 0.19 (the most similar pair 0.28), so 8 distinct documents are dropped at
threshold 0.3 and 948 at 0.2.

**Limitations.** Jaccard similarity of shingle sets measures shared wording, not shared meaning: a paraphrase is
not a near duplicate, and two different documents built from the same templates can be (see the character
n-gram numbers above). Word order beyond ``n`` words, counts of repeated shingles and punctuation are ignored
(word shingles drop punctuation; exact matching keeps it). Decisions rest on an estimate: pairs within a few
standard errors of the threshold can fall either side, and taking the best of many candidates favours
over-estimates, which matters at low thresholds; recompute :func:`jaccard` on the reported pairs where that
matters. Keeping the first row of a cluster means the surviving copy depends on row order. Texts shorter than
``n`` words are one shingle (the whole text); empty texts have no shingles and are only ever exact duplicates of
each other. At low thresholds the recall-tuned banding makes almost every pair a candidate, so the LSH pass
grows with the square of the number of rows.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:
    import datasets
    import pandas as pd

Shingle = Literal["word", "char"]

BRODER_1997 = "Broder. On the resemblance and containment of documents. Compression and Complexity of Sequences 1997"
LEE_2022 = "Lee et al. Deduplicating Training Data Makes Language Models Better. ACL 2022"
MMDS = "Leskovec, Rajaraman & Ullman. Mining of Massive Datasets, ch. 3 (locality-sensitive hashing)"

_WORD = re.compile(r"\w+")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class MinHashConfig:
    """How near duplicates are found; every field is validated on construction."""

    threshold: float = 0.8  # estimated Jaccard at or above which a row is a near duplicate of a kept row
    num_perm: int = 128  # hash permutations per signature: standard error of the estimate <= 0.5 / sqrt(num_perm)
    shingle: Shingle = "word"  # "word": n-grams of \w+ tokens; "char": n-grams of characters of the normalised text
    ngram: int = 5  # shingle length, in words or characters
    seed: int = 1  # seeds the permutations: the same seed gives the same signatures
    lsh_miss: float = 0.001  # LSH banding: at most this chance that a pair at the threshold is never compared

    def __post_init__(self) -> None:
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, (int, float)):
            raise ValueError(f"threshold must be a number in (0, 1], got {self.threshold!r}")
        if not 0 < self.threshold <= 1:
            raise ValueError(f"threshold must be in (0, 1] (a Jaccard similarity), got {self.threshold}")
        for name in ("num_perm", "ngram", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise ValueError(f"{name} must be an integer, got {value!r}")
        if self.num_perm < 2:
            raise ValueError(f"num_perm must be at least 2 (128 is usual), got {self.num_perm}")
        if self.ngram < 1:
            raise ValueError(f"ngram must be at least 1 (5 words or 5 characters are usual), got {self.ngram}")
        if isinstance(self.lsh_miss, bool) or not isinstance(self.lsh_miss, (int, float)) or not 0 < self.lsh_miss < 1:
            raise ValueError(f"lsh_miss must be in (0, 1), e.g. 0.001; got {self.lsh_miss!r}")
        if self.shingle not in ("word", "char"):
            raise ValueError(f"shingle must be 'word' or 'char', got {self.shingle!r}")


@dataclass(frozen=True)
class Duplicate:
    row: int  # the dropped row (0-based position in the input)
    duplicate_of: int  # the earlier row it matched: a kept row ("near"), or the first row with its text ("exact")
    kept: int  # the kept row of its cluster (equals duplicate_of unless that row was itself dropped)
    reason: str  # "exact" or "near"
    jaccard: float  # estimated Jaccard similarity of shingles to duplicate_of (1.0 for "exact")


@dataclass
class DedupResult:
    """Which rows to drop and why; rows are 0-based positions in the input."""

    n_rows: int
    duplicates: list[Duplicate]  # in row order
    config: MinHashConfig = field(default_factory=MinHashConfig)

    @property
    def drop(self) -> list[int]:
        return [d.row for d in self.duplicates]

    @property
    def keep(self) -> list[int]:
        dropped = set(self.drop)
        return [i for i in range(self.n_rows) if i not in dropped]

    def clusters(self) -> dict[int, list[int]]:
        """Kept row -> the rows dropped in its favour, for every kept row that has any."""
        out: dict[int, list[int]] = {}
        for d in self.duplicates:
            out.setdefault(d.kept, []).append(d.row)
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per dropped row: ``row``, ``duplicate_of``, ``kept``, ``reason``, ``jaccard``."""
        import pandas as pd

        columns = ["row", "duplicate_of", "kept", "reason", "jaccard"]
        return pd.DataFrame([asdict(d) for d in self.duplicates], columns=columns)


@dataclass(frozen=True)
class Signatures:
    """Per-row exact hashes and MinHash signatures, computed once and clustered at any threshold."""

    exact: list[str]  # SHA-256 of the normalised text
    minhash: np.ndarray  # (n_rows, num_perm) uint32
    n_shingles: np.ndarray  # (n_rows,) shingle-set sizes; 0 for an empty text
    config: MinHashConfig


def normalise(text: str) -> str:
    """The form compared for exact duplicates: NFKC, case-folded, whitespace collapsed, ends stripped.

    >>> normalise("  The\\u00a0CAT\\n sat. ")
    'the cat sat.'
    """
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def shingles(text: str, shingle: Shingle = "word", ngram: int = 5) -> set[str]:
    """The set of ``ngram``-shingles of ``text``: word n-grams of its ``\\w+`` tokens (case-folded), or character
    n-grams of :func:`normalise`'s form. A text shorter than ``ngram`` units is one shingle; an empty one none.

    >>> sorted(shingles("The cat sat, the cat ran.", "word", 2))
    ['cat ran', 'cat sat', 'sat the', 'the cat']
    >>> sorted(shingles("abcd", "char", 3))
    ['abc', 'bcd']
    """
    if shingle == "word":
        units: Sequence[str] = _WORD.findall(unicodedata.normalize("NFKC", text).casefold())
        join = " ".join
    else:
        units = normalise(text)
        join = "".join
    if not units:
        return set()
    if len(units) <= ngram:
        return {join(units)}
    return {join(units[i : i + ngram]) for i in range(len(units) - ngram + 1)}


def jaccard(a: set, b: set) -> float:
    """Exact Jaccard similarity ``|a & b| / |a | b|`` (1.0 for two empty sets).

    >>> jaccard({"a", "b", "c"}, {"b", "c", "d"})
    0.5
    """
    union = len(a | b)
    return 1.0 if union == 0 else len(a & b) / union


def lsh_bands(threshold: float, num_perm: int, miss: float = 0.001) -> tuple[int, int]:
    """``(b, r)``: the LSH banding used as a candidate filter. The longest band ``r`` (fewest candidates) with
    ``b = num_perm // r`` bands such that a pair of Jaccard exactly ``threshold`` is missed with probability
    ``(1 - threshold**r)**b <= miss`` (Leskovec et al., *Mining of Massive Datasets*, section 3.4); one-row bands
    when none is.

    >>> lsh_bands(0.8, 128), lsh_bands(0.5, 128)
    ((25, 5), (64, 2))
    """
    for r in range(num_perm, 0, -1):
        b = num_perm // r
        if (1 - threshold**r) ** b <= miss:
            return b, r
    return num_perm, 1


def _signature_batch(texts: list[str], config: MinHashConfig) -> dict[str, list]:
    """Exact hashes, signatures and shingle counts of a batch (also the function ``Dataset.map`` runs)."""
    from datasketch import MinHash

    template = MinHash(num_perm=config.num_perm, seed=config.seed)  # permutations drawn once per batch
    exact, minhash, sizes = [], [], []
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise ValueError(f"text {i} of the batch is a {type(text).__name__}, not a str; fill or drop missing texts")
        exact.append(hashlib.sha256(normalise(text).encode("utf-8")).hexdigest())
        grams = shingles(text, config.shingle, config.ngram)
        m = MinHash(num_perm=config.num_perm, seed=config.seed, permutations=template.permutations, scheme="affine32")
        m.update_batch([g.encode("utf-8") for g in grams])
        minhash.append(m.hashvalues.tolist())
        sizes.append(len(grams))
    return {"exact": exact, "minhash": minhash, "n_shingles": sizes}


def _check_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, (str, bytes)):
        raise ValueError("texts must be a list of strings or a datasets.Dataset, got a single string; wrap it: [text]")
    texts = list(texts)
    bad = next((i for i, t in enumerate(texts) if not isinstance(t, str)), None)
    if bad is not None:
        raise ValueError(f"texts[{bad}] is a {type(texts[bad]).__name__}, not a str; fill or drop missing texts")
    return texts


def _check_column(dataset: datasets.Dataset, column: str, what: str = "text_column") -> None:
    if column not in dataset.column_names:
        raise ValueError(f"{what}={column!r} is not a column of the dataset; it has {dataset.column_names}")


def signatures(
    data: Sequence[str] | datasets.Dataset,
    config: MinHashConfig | None = None,
    *,
    text_column: str = "text",
    num_proc: int | None = None,
) -> Signatures:
    """Exact hashes and MinHash signatures of every row of a list of texts or of a ``datasets.Dataset``.

    A dataset's signatures are computed with ``Dataset.map(batched=True, num_proc=num_proc)``: one process per
    shard when ``num_proc`` > 1. A list is signed in this process. The input is not changed.

    >>> s = signatures(["a b c d e f", "a b c d e f g"], MinHashConfig(ngram=2, num_perm=64))
    >>> s.minhash.shape, s.n_shingles.tolist()
    ((2, 64), [5, 6])
    """
    config = config or MinHashConfig()
    if hasattr(data, "column_names") and hasattr(data, "map"):  # a datasets.Dataset
        _check_column(data, text_column)
        if num_proc is not None and (not isinstance(num_proc, int) or num_proc < 1):
            raise ValueError(f"num_proc must be a positive integer or None, got {num_proc!r}")
        if len(data) == 0:
            out = {"exact": [], "minhash": [], "n_shingles": []}
        else:
            signed = data.map(
                _signature_batch,
                batched=True,
                input_columns=[text_column],
                remove_columns=data.column_names,
                fn_kwargs={"config": config},
                num_proc=num_proc if num_proc and num_proc > 1 and len(data) >= num_proc else None,
                load_from_cache_file=False,
                desc="MinHash signatures",
            )
            out = signed.to_dict()
    else:
        out = _signature_batch(_check_texts(data), config)
    minhash = np.asarray(out["minhash"], dtype=np.uint32).reshape(len(out["exact"]), config.num_perm)
    return Signatures(out["exact"], minhash, np.asarray(out["n_shingles"], dtype=int), config)


def cluster(sigs: Signatures, threshold: float | None = None) -> DedupResult:
    """Drop exact and near duplicates in row order, keeping the first row of each cluster (see the module).

    ``threshold`` overrides ``sigs.config.threshold`` (signatures do not depend on it). For each row: an earlier
    row with the same normalised text makes it an exact duplicate; otherwise the LSH index of kept rows gives
    candidates, and the candidate with the highest estimated Jaccard (the earliest on ties) makes it a near
    duplicate if that estimate reaches the threshold. A row that is neither is kept and indexed.

    >>> s = signatures(["one two three four five six", "one two three four five six seven", "x y z"])
    >>> [(d.row, d.reason, d.jaccard) for d in cluster(s, threshold=0.5).duplicates]  # exact Jaccard: 2 / 3
    [(1, 'near', 0.7109375)]
    >>> cluster(s, threshold=0.9).drop
    []
    """
    from datasketch import MinHash, MinHashLSH

    config = sigs.config if threshold is None else MinHashConfig(**{**asdict(sigs.config), "threshold": threshold})
    lsh = MinHashLSH(num_perm=config.num_perm, params=lsh_bands(config.threshold, config.num_perm, config.lsh_miss))
    template = MinHash(num_perm=config.num_perm, seed=config.seed)
    first: dict[str, int] = {}
    kept_of: dict[int, int] = {}  # dropped row -> the kept row of its cluster
    duplicates: list[Duplicate] = []
    for i, (digest, signature) in enumerate(zip(sigs.exact, sigs.minhash, strict=True)):
        if digest in first:
            j = first[digest]
            kept = kept_of.get(j, j)
            duplicates.append(Duplicate(i, j, kept, "exact", 1.0))
            kept_of[i] = kept
            continue
        first[digest] = i
        if sigs.n_shingles[i] == 0:  # an empty text: nothing to compare, and not indexed
            continue
        m = MinHash(
            num_perm=config.num_perm, seed=config.seed, hashvalues=signature,
            permutations=template.permutations, scheme="affine32",
        )  # fmt: skip
        candidates = sorted(lsh.query(m))
        if candidates:
            similarity = (sigs.minhash[candidates] == signature).mean(axis=1)  # estimated Jaccard to each
            best = int(np.argmax(similarity))  # the first maximum: the earliest row on ties
            if similarity[best] >= config.threshold:
                j = candidates[best]
                duplicates.append(Duplicate(i, j, j, "near", float(similarity[best])))
                kept_of[i] = j
                continue
        lsh.insert(i, m, check_duplication=False)
    return DedupResult(len(sigs.exact), duplicates, config)


def find_duplicates(
    data: Sequence[str] | datasets.Dataset,
    config: MinHashConfig | None = None,
    *,
    text_column: str = "text",
    num_proc: int | None = None,
) -> DedupResult:
    """Exact and near duplicates in a list of texts or a ``datasets.Dataset`` (its ``text_column``): which rows
    to drop, each with its reason, the row it matched and the estimated Jaccard. The first row of each cluster
    is kept. Signatures are computed in ``num_proc`` processes for a dataset; the LSH pass is single-process.

    >>> result = find_duplicates(["Red fox.", "red   FOX.", "Blue jay."])
    >>> result.drop, result.keep, result.to_frame()["reason"].tolist()
    ([1], [0, 2], ['exact'])
    """
    return cluster(signatures(data, config, text_column=text_column, num_proc=num_proc))


def _binomial(k: int, n: int, confidence: float) -> tuple[float, float, float]:
    """(k / n, low, high): the exact (Clopper-Pearson) interval; NaN when n is 0."""
    if n == 0:
        return float("nan"), float("nan"), float("nan")
    from scipy.stats import binomtest

    ci = binomtest(k, n).proportion_ci(confidence_level=confidence, method="exact")
    return k / n, float(ci.low), float(ci.high)


def duplicate_scores(
    result: DedupResult,
    duplicate_of: Sequence[str | None],
    ids: Sequence[str] | None = None,
    *,
    confidence: float = 0.95,
) -> dict:
    """Precision and recall of the dropped rows against planted duplicates, with exact binomial intervals.

    ``duplicate_of``: per row, the id of the document it was copied from, or None (the world corpus's
    ``Document.duplicate_of``). A dropped row is a true positive when it is a planted copy. Precision =
    k / n_dropped, recall = k / n_planted, each with the Clopper-Pearson interval at ``confidence``
    (``scipy.stats.binomtest(k, n).proportion_ci(method="exact")``); NaN when its n is 0. With ``ids`` (the
    rows' ids), ``k_same_source`` counts true positives whose cluster's kept row is the recorded original.

    Keys: ``n_rows``, ``n_dropped``, ``n_planted``, ``k``, ``false_positive``, ``false_negative``, ``precision``,
    ``precision_low``, ``precision_high``, ``recall``, ``recall_low``, ``recall_high``, ``k_same_source``.

    >>> result = DedupResult(4, [Duplicate(2, 0, 0, "exact", 1.0), Duplicate(3, 1, 1, "near", 0.9)])
    >>> s = duplicate_scores(result, [None, None, "a", None], ids=["a", "b", "c", "d"])
    >>> s["k"], s["precision"], s["recall"], s["k_same_source"], round(s["precision_low"], 4)
    (1, 0.5, 1.0, 1, 0.0126)
    """
    if len(duplicate_of) != result.n_rows:
        raise ValueError(f"duplicate_of has {len(duplicate_of)} entries for {result.n_rows} rows; pass one per row")
    if ids is not None and len(ids) != result.n_rows:
        raise ValueError(f"ids has {len(ids)} entries for {result.n_rows} rows; pass one per row")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), e.g. 0.95; got {confidence!r}")
    planted = {i for i, source in enumerate(duplicate_of) if source is not None}
    dropped = set(result.drop)
    k = len(planted & dropped)
    precision = _binomial(k, len(dropped), confidence)
    recall = _binomial(k, len(planted), confidence)
    same = None
    if ids is not None:
        same = sum(1 for d in result.duplicates if d.row in planted and ids[d.kept] == duplicate_of[d.row])
    return {
        "n_rows": result.n_rows, "n_dropped": len(dropped), "n_planted": len(planted), "k": k,
        "false_positive": len(dropped - planted), "false_negative": len(planted - dropped),
        "precision": precision[0], "precision_low": precision[1], "precision_high": precision[2],
        "recall": recall[0], "recall_low": recall[1], "recall_high": recall[2], "k_same_source": same,
    }  # fmt: skip


def threshold_scan(
    data: Sequence[str] | datasets.Dataset,
    duplicate_of: Sequence[str | None],
    thresholds: Sequence[float] = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95),
    *,
    ids: Sequence[str] | None = None,
    config: MinHashConfig | None = None,
    text_column: str = "text",
    num_proc: int | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """:func:`duplicate_scores` at each threshold, from one set of signatures: one row per threshold, with the
    exact/near split of the dropped rows.

    >>> texts = ["a b c d e f g h", "a b c d e f g h i", "a b c d e f g x"]
    >>> scan = threshold_scan(texts, [None, "0", None], thresholds=(0.3, 0.9), config=MinHashConfig(ngram=2))
    >>> print(scan[["threshold", "n_dropped", "k", "precision", "recall"]].to_string(index=False))
     threshold  n_dropped  k  precision  recall
           0.3          2  1        0.5     1.0
           0.9          0  0        NaN     0.0
    """
    import pandas as pd

    sigs = signatures(data, config, text_column=text_column, num_proc=num_proc)
    rows = []
    for threshold in thresholds:
        result = cluster(sigs, threshold)
        reasons = [d.reason for d in result.duplicates]
        scores = duplicate_scores(result, duplicate_of, ids, confidence=confidence)
        rows.append({"threshold": threshold, "n_exact": reasons.count("exact"), "n_near": reasons.count("near")}
                    | scores)  # fmt: skip
    return pd.DataFrame(rows)
