"""Deduplication (genlab.data.dedup): the planted duplicates of the world corpus are found, the scores equal a direct
count with Clopper-Pearson intervals from the beta quantiles, and MinHash LSH agrees with brute-force Jaccard
within the estimate's binomial error."""

from __future__ import annotations

import random
import re
import unicodedata

import datasets
import numpy as np
import pytest
from scipy.stats import beta, binom

from genlab.data.dedup import (
    DedupResult,
    Duplicate,
    MinHashConfig,
    cluster,
    duplicate_scores,
    find_duplicates,
    jaccard,
    lsh_bands,
    shingles,
    signatures,
    threshold_scan,
)
from genlab.worlds.text import generate_corpus, small_world


@pytest.fixture(scope="module")
def corpus():
    return generate_corpus(n_train_docs=300, n_validation_docs=0, n_test_docs=0, seed=3, world=small_world(),
                           duplicate_rate=0.2)  # fmt: skip


def _word_shingles(text: str, n: int) -> set[str]:
    """Word n-grams written again from the definition, for an independent Jaccard."""
    words = re.findall(r"\w+", unicodedata.normalize("NFKC", text).casefold())
    if len(words) <= n:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


def _clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    a = 1 - confidence
    return (0.0 if k == 0 else beta.ppf(a / 2, k, n - k + 1)), (1.0 if k == n else beta.ppf(1 - a / 2, k + 1, n - k))


def test_finds_every_planted_copy_on_the_small_corpus(corpus):
    docs = corpus.train
    row = {d.id: i for i, d in enumerate(docs)}
    planted = [(i, d) for i, d in enumerate(docs) if d.duplicate_of is not None]
    exact = [i for i, d in planted if d.text == docs[row[d.duplicate_of]].text]
    near = [i for i, d in planted if d.text != docs[row[d.duplicate_of]].text]
    assert len(planted) == 60 and exact and near  # 20% of 300, half of each kind

    data = corpus.to_datasets()["train"]
    result = find_duplicates(data, num_proc=2)
    found = {d.row: d for d in result.duplicates}
    for i in exact:
        assert found[i].reason == "exact" and found[i].duplicate_of == row[docs[i].duplicate_of]
        assert found[i].jaccard == 1.0
    for i in near:
        assert found[i].reason == "near" and found[i].kept == row[docs[i].duplicate_of]
        assert result.config.threshold <= found[i].jaccard <= 1  # an estimate: 1.0 happens at a true 0.97
    assert set(found) == {i for i, _ in planted}  # nothing else: the originals are distinct documents
    assert result.keep == [i for i in range(len(docs)) if i not in found]
    assert result.clusters() == {row[d.duplicate_of]: [i] for i, d in planted}


def test_list_and_dataset_give_the_same_signatures_and_inputs_stay_unchanged(corpus):
    texts = corpus.texts("train")
    before = list(texts)
    data = datasets.Dataset.from_dict({"body": texts})
    a, b = signatures(texts), signatures(data, text_column="body", num_proc=2)
    assert a.exact == b.exact and np.array_equal(a.minhash, b.minhash) and a.minhash.dtype == np.uint32
    assert texts == before and data["body"] == before and data.column_names == ["body"]
    assert a.n_shingles.tolist() == [len(_word_shingles(t, 5)) for t in texts]


def test_scores_equal_a_direct_count(corpus):
    docs = corpus.train
    ids, truth = [d.id for d in docs], [d.duplicate_of for d in docs]
    sigs = signatures([d.text for d in docs])
    result = cluster(sigs, threshold=0.05)  # low enough to drop some distinct documents: a precision below 1
    scores = duplicate_scores(result, truth, ids)

    dropped = {d.row for d in result.duplicates}
    planted = {i for i, d in enumerate(docs) if d.duplicate_of}
    tp = len(dropped & planted)
    assert scores["false_positive"] == len(dropped - planted) > 0
    assert (scores["k"], scores["n_dropped"], scores["n_planted"]) == (tp, len(dropped), len(planted))
    assert scores["false_negative"] == len(planted - dropped)
    assert scores["precision"] == tp / len(dropped) and scores["recall"] == tp / len(planted)
    assert (scores["precision_low"], scores["precision_high"]) == pytest.approx(_clopper_pearson(tp, len(dropped)))
    assert (scores["recall_low"], scores["recall_high"]) == pytest.approx(_clopper_pearson(tp, len(planted)))
    kept_is_source = sum(1 for d in result.duplicates if d.row in planted and ids[d.kept] == docs[d.row].duplicate_of)
    assert scores["k_same_source"] == kept_is_source

    scan = threshold_scan([d.text for d in docs], truth, thresholds=(0.05, 0.8), ids=ids)
    assert scan.loc[0, "k"] == tp and scan.loc[0, "precision"] == scores["precision"]
    at_default = duplicate_scores(cluster(sigs, 0.8), truth, ids)
    assert scan.loc[1, ["precision", "recall"]].tolist() == [at_default["precision"], at_default["recall"]] == [1, 1]
    assert (scan["n_exact"] + scan["n_near"] == scan["n_dropped"]).all()


def test_scores_handle_nothing_dropped():
    s = duplicate_scores(DedupResult(3, []), [None, "a", None])
    assert np.isnan(s["precision"]) and s["recall"] == 0.0 and s["recall_high"] == pytest.approx(0.975)


def _variants(seed: int = 0) -> list[str]:
    """Texts of the small world and copies with a share of words replaced: Jaccards spread over (0, 1]."""
    rng = random.Random(seed)
    base = generate_corpus(n_train_docs=40, n_validation_docs=0, n_test_docs=0, seed=5, world=small_world()).texts()
    vocabulary = sorted({w for t in base for w in t.split()})
    texts = list(base)
    for i, text in enumerate(base):
        words = text.split()
        share = (0.005, 0.01, 0.02, 0.04, 0.08, 0.15)[i % 6]
        for j in rng.sample(range(len(words)), max(1, round(share * len(words)))):
            words[j] = rng.choice(vocabulary)
        texts.append(" ".join(words))
    rng.shuffle(texts)
    return texts


def test_minhash_estimates_agree_with_brute_force_jaccard():
    texts = _variants()
    config = MinHashConfig()
    sets = [_word_shingles(t, config.ngram) for t in texts]
    assert sets == [shingles(t) for t in texts]
    sigs = signatures(texts, config)
    k = config.num_perm
    errors, pairs = [], 0
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            exact = len(sets[i] & sets[j]) / len(sets[i] | sets[j])
            assert jaccard(sets[i], sets[j]) == pytest.approx(exact)
            agree = int((sigs.minhash[i] == sigs.minhash[j]).sum())
            # each position agrees with probability J: the count lies inside the central 1 - 1e-6 binomial range
            assert binom.ppf(5e-7, k, exact) - 1 <= agree <= binom.ppf(1 - 5e-7, k, exact) + 1, (i, j, exact, agree)
            errors.append(agree / k - exact)
            pairs += 1
    assert pairs > 3000
    assert abs(np.mean(errors)) < 4 * np.std(errors) / np.sqrt(pairs)  # unbiased, up to sampling error


def test_lsh_clusters_agree_with_brute_force_jaccard():
    """Every near drop is plausible given its true Jaccard, and no two kept rows are a pair that LSH plus the
    estimate would miss with probability below 1e-6."""
    texts = _variants(1)
    threshold, k = 0.8, 128
    sets = [_word_shingles(t, 5) for t in texts]
    result = find_duplicates(texts, MinHashConfig(threshold=threshold))
    cutoff = int(np.ceil(threshold * k))  # an estimate reaches the threshold with at least this many agreements
    b, r = lsh_bands(threshold, k)
    near = [d for d in result.duplicates if d.reason == "near"]
    assert len(near) >= 10  # the variants with few replaced words
    for d in near:
        exact = jaccard(sets[d.row], sets[d.duplicate_of])
        assert binom.sf(cutoff - 1, k, exact) > 1e-6, (d, exact)  # P(estimate >= threshold | J)
    kept = result.keep
    close_kept = 0
    for x, i in enumerate(kept):
        for j in kept[x + 1 :]:
            exact = jaccard(sets[i], sets[j])
            miss = (1 - exact**r) ** b + binom.cdf(cutoff - 1, k, exact)  # not a candidate, or estimated below
            assert miss > 1e-6, (i, j, exact)
            close_kept += exact >= threshold
    assert close_kept <= 2  # pairs at or just over the threshold may be estimated below it; not many


def test_exact_matching_normalises_case_and_spaces_but_not_punctuation():
    texts = ["Red fox, at dawn.", " red\u00a0FOX,  at dawn.\n", "Red fox at dawn", "", "", "x"]
    result = find_duplicates(texts, MinHashConfig(threshold=0.5))
    assert [(d.row, d.reason, d.duplicate_of) for d in result.duplicates] == [
        (1, "exact", 0), (2, "near", 0), (4, "exact", 3),
    ]  # fmt: skip
    assert result.to_frame().columns.tolist() == ["row", "duplicate_of", "kept", "reason", "jaccard"]


def test_exact_copy_of_a_dropped_row_points_to_its_cluster():
    texts = ["a b c d e f g h i j", "a b c d e f g h i j k", "a b c d e f g h i j k"]
    result = find_duplicates(texts, MinHashConfig(threshold=0.5))
    last = result.duplicates[-1]
    assert (last.row, last.reason, last.duplicate_of, last.kept) == (2, "exact", 1, 0)
    assert result.clusters() == {0: [1, 2]}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"threshold": 0}, "threshold must be in"),
        ({"threshold": 1.5}, "threshold must be in"),
        ({"threshold": True}, "threshold must be a number"),
        ({"num_perm": 1}, "num_perm"),
        ({"ngram": 0}, "ngram"),
        ({"shingle": "token"}, "shingle"),
        ({"lsh_miss": 1}, "lsh_miss"),
    ],
)
def test_bad_settings_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MinHashConfig(**kwargs)


def test_bad_inputs_raise():
    data = datasets.Dataset.from_dict({"body": ["a", "b"]})
    with pytest.raises(ValueError, match=r"text_column='text' is not a column.*\['body'\]"):
        find_duplicates(data)
    with pytest.raises(ValueError, match="wrap it"):
        find_duplicates("one text")
    with pytest.raises(ValueError, match=r"texts\[1\] is a NoneType"):
        find_duplicates(["a", None])
    with pytest.raises(ValueError, match="num_proc"):
        find_duplicates(data, text_column="body", num_proc=0)
    with pytest.raises(ValueError, match="one per row"):
        duplicate_scores(DedupResult(2, [Duplicate(1, 0, 0, "exact", 1.0)]), [None])
