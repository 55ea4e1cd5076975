"""Repetition metrics against ports of the authors' code (SimCTG, degen, unlikelihood_training), plain-Python
definitions and the hand-worked values of shared/reference/metrics.md §11."""

from __future__ import annotations

import gzip
import io
import math
import operator
import random
import re
from collections import Counter

import numpy as np
import pytest
from nltk.util import ngrams
from scipy import stats

from genlab.metrics import repetition as rep
from genlab.metrics.repetition import (
    compression_ratio,
    compression_ratio_corpus,
    distinct_n,
    distinct_n_corpus,
    diversity,
    diversity_from_rep,
    encode,
    end_repetition,
    end_repetition_rate,
    ngram_counts,
    rep_n,
    seq_rep_n,
    zipf_coefficient,
)

# --------------------------------------------------------------------------------------------------------------
# Reference implementations, ported from the authors' code


def simctg_eval_text(text, ngram):
    """yxuansu/SimCTG simctg/evaluation.py::eval_text (commit 0b56980), verbatim."""
    token_list = text.strip().split()
    start_idx, end_idx = 0, ngram
    total_num = 0
    ngram_set = set()
    while end_idx < len(token_list):
        one_ngram_list = token_list[start_idx:end_idx]
        assert len(one_ngram_list) == ngram
        one_ngram = " ".join(one_ngram_list)
        total_num += 1
        ngram_set.add(one_ngram)
        start_idx += 1
        end_idx += 1
    return len(ngram_set), total_num


def simctg_measure_repetition_and_diversity(text_list):
    """yxuansu/SimCTG simctg/evaluation.py::measure_repetition_and_diversity (the unique-token set, unused in the
    result, is left out)."""
    ngram_list = [2, 3, 4]
    pred_res_dict = {n: {"unique": 0, "total": 0} for n in ngram_list}
    for text in text_list:
        text = text.strip("\n").strip()
        for n in ngram_list:
            n_unique, n_total = simctg_eval_text(text, n)
            pred_res_dict[n]["unique"] += n_unique
            pred_res_dict[n]["total"] += n_total
    pred_seq_2 = 1 - (pred_res_dict[2]["unique"] / pred_res_dict[2]["total"])
    pred_seq_2 = round(pred_seq_2 * 100, 2)
    pred_seq_3 = 1 - (pred_res_dict[3]["unique"] / pred_res_dict[3]["total"])
    pred_seq_3 = round(pred_seq_3 * 100, 2)
    pred_seq_4 = 1 - (pred_res_dict[4]["unique"] / pred_res_dict[4]["total"])
    pred_seq_4 = round(pred_seq_4 * 100, 2)
    pred_div = (1 - pred_seq_2 / 100) * (1 - pred_seq_3 / 100) * (1 - pred_seq_4 / 100)
    return pred_seq_2, pred_seq_3, pred_seq_4, pred_div


def degen_is_repeating(gen, sep="<|endoftext|>", max_n=90):
    """ari-holtzman/degen metrics/repetition.py (commit 3bbf847), the per-generation loop; SEP is a token here."""
    gen = list(gen)
    if gen[-1] == sep:
        gen.pop(-1)
    rev_gen = list(reversed(gen))
    last_n_repeats = [0] * max_n
    for n in range(1, max_n + 1):
        n_repeat = 1
        while (
            len(rev_gen[n * n_repeat : n * (n_repeat + 1)]) == n
            and rev_gen[n * n_repeat : n * (n_repeat + 1)] == rev_gen[:n]
        ):
            n_repeat += 1
        last_n_repeats[n - 1] = n_repeat
    max_repeated_n = max(range(max_n), key=lambda x: last_n_repeats[x])
    return last_n_repeats[max_repeated_n] > 1 and (max_repeated_n + 1 >= 3 or last_n_repeats[max_repeated_n] > 50)


def degen_zipf(token_lists, N=5000):
    """ari-holtzman/degen metrics/zipf.py (commit 3bbf847): returns -slope of scipy.stats.linregress."""
    cnt = Counter()
    for gen in token_lists:
        cnt.update(gen)
    xs = np.arange(1, min(len(cnt), N) + 1)
    ys = np.array(sorted(cnt.values(), key=operator.neg)[:N])
    a, b, r, p, std = stats.linregress(np.log(xs), np.log(ys))
    return -a


def unlikelihood_ngram_metrics(token_list, pad=1):
    """facebookresearch/unlikelihood_training custom/metrics.py::ngram_metrics (padding cut, then 1 - |set|/|all|)."""
    if pad in token_list:
        token_list = token_list[: token_list.index(pad)]
    out = {}
    for n in range(1, 5):
        ngs = list(ngrams(token_list, n))
        counter = Counter(ngs)
        out[n] = 1.0 - len(counter) / len(ngs)
    return out


def paper_ends_in_loop(tokens):
    """Holtzman et al.'s wording, brute force: some phrase of length >= 2 occurs >= 3 times back to back at the end."""
    for length in range(2, len(tokens) + 1):
        copies = [tuple(tokens[len(tokens) - (k + 1) * length : len(tokens) - k * length]) for k in range(3)]
        if 3 * length <= len(tokens) and len(set(copies)) == 1:
            return True
    return False


# --------------------------------------------------------------------------------------------------------------
# Inputs

WORDS = ["the", "cat", "sat", "on", "a", "mat", "Zoë", "東京", "🙂", "naïve", "ok", "a.b", "x"]


def random_corpus(rng: random.Random, n_texts: int, vocab: list[str], max_len: int) -> list[str]:
    seps = [" ", "  ", "\t", "\n", " \u3000 ", "\xa0"] if rng.random() < 0.3 else [" ", "  ", "\n"]
    return [
        rng.choice(["", " "]) + "".join(rng.choice(vocab) + rng.choice(seps) for _ in range(rng.randint(0, max_len)))
        for _ in range(n_texts)
    ]


def corpora(seed: int = 0, count: int = 60):
    rng = random.Random(seed)
    for _ in range(count):
        vocab = rng.sample(WORDS, rng.randint(1, len(WORDS)))
        yield random_corpus(rng, rng.randint(1, 8), vocab, rng.choice([3, 8, 30]))


ADVERSARIAL = [
    ["", "a", "a a a a a a a a"],  # empty and one-token texts next to a real one
    ["a"] * 5 + ["a b a b a b a b"],
    ["東京 東京 東京 🙂 🙂", "naïve café naïve café", "x"],
    ["tok " * 20_000],  # very long
    ["\u3000a\u3000b\u3000a\u3000b\xa0a", "a\x85b a b"],  # non-ASCII whitespace: Python path
    ["ab\x00 ab ab\x00 ab", "\x1c a \x1f a"],  # NUL inside tokens; ASCII control separators
    ["abcdefgh abcdefgh abcdefghi abcdefghX " * 3],  # tokens that differ only after byte 8
]


def naive_counts(texts, n, skip_last=False):
    """(unique per text, total per text, corpus unique) with Python sets of tuples."""
    uniq, total, corpus = [], [], set()
    for t in texts:
        toks = t.split()
        grams = list(zip(*[toks[i:] for i in range(n)], strict=False))
        if skip_last:
            grams = grams[:-1]
        uniq.append(len(set(grams)))
        total.append(len(grams))
        corpus |= set(grams)
    return uniq, total, len(corpus)


# --------------------------------------------------------------------------------------------------------------
# Encoding


def test_whitespace_is_str_isspace_over_all_of_unicode():
    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]  # surrogates cannot be encoded
    others = set(re.findall(f"[{rep.OTHER_WHITESPACE}]", "".join(chars)))
    assert all(c.isspace() for c in others)  # the Python-path list holds only whitespace,
    assert rep._encode_whitespace_arrow([f"a{min(others)}b"]) is None  # and sends its characters to the Python path
    rest = [c for c in chars if c not in others]
    arrow = rep._encode_whitespace_arrow([f"a{c}b" for c in rest])  # Arrow splits exactly where str.split does
    assert arrow is not None and arrow.lengths.tolist() == [1 + c.isspace() for c in rest]


@pytest.mark.parametrize("texts", [*ADVERSARIAL, ["a b", "", "b c a"], ["  ", "\u3000", ""], []])
def test_fast_encoding_equals_python_split(texts):
    fast, slow = encode(texts), encode(texts, tokenizer=str.split)
    assert fast.ids.tolist() == slow.ids.tolist()
    assert fast.lengths.tolist() == [len(t.split()) for t in texts] == slow.lengths.tolist()
    assert fast.vocab_size == slow.vocab_size == len({tok for t in texts for tok in t.split()})


def test_fast_encoding_on_random_strings():
    rng = random.Random(3)
    alphabet = "abcé東🙂\x00\x1c\x1d \t\n\r\x0b\x85\xa0\u2028\u3000\u200b.-"
    for _ in range(200):
        texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(rng.randint(1, 6))]
        fast, slow = encode(texts), encode(texts, tokenizer=str.split)
        assert (fast.ids.tolist(), fast.lengths.tolist()) == (slow.ids.tolist(), slow.lengths.tolist()), texts


def test_python_path_when_arrow_is_unavailable(monkeypatch):
    texts = ["a b a", "\u3000b  c "]
    expected = encode(texts)
    monkeypatch.setattr(rep, "_encode_whitespace_arrow", lambda texts: None)
    assert encode(texts).ids.tolist() == expected.ids.tolist()
    assert rep._encode_whitespace_arrow.__name__ == "<lambda>"


def test_lone_surrogates_take_the_python_path():
    assert encode(["a\ud800 b", "b"]).lengths.tolist() == [2, 1]


def test_an_encoding_can_be_reused():
    texts = ["a b a b", "c d"]
    enc = encode(texts)
    assert distinct_n(enc, 2) == distinct_n(texts, 2) and rep_n(enc, 2) == rep_n(texts, 2)
    with pytest.raises(ValueError, match="already encoded"):
        distinct_n(enc, 2, tokenizer=str.split)


def test_tokenizer_callable_is_used():
    texts = ["a-b-a", "b"]
    assert encode(texts, tokenizer=lambda t: t.split("-")).lengths.tolist() == [3, 1]
    ids = [[5, 7, 5, 7], [7]]
    c = ngram_counts(["x", "y"], 2, tokenizer=lambda t: ids[0] if t == "x" else ids[1])
    assert c.unique.tolist() == [2, 0] and c.total.tolist() == [3, 0]


# --------------------------------------------------------------------------------------------------------------
# n-gram counts, distinct-n, seq-rep-n


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7])
def test_ngram_counts_equal_python_sets(n):
    for texts in [*corpora(n), *ADVERSARIAL]:
        for skip_last in (False, True):
            c = ngram_counts(texts, n, skip_last=skip_last)
            uniq, total, corpus = naive_counts(texts, n, skip_last)
            assert (c.unique.tolist(), c.total.tolist(), c.corpus_unique) == (uniq, total, corpus)


def test_radix_overflow_renumbers_exactly():
    # 3,000 word types and 6-grams: 3000**6 overflows int64, so codes are renumbered densely on the way
    rng = random.Random(1)
    vocab = [f"w{i}" for i in range(3000)]
    texts = [
        " ".join(rng.choice(vocab[: rng.choice([5, 3000])]) for _ in range(rng.randint(0, 40))) for _ in range(300)
    ]
    for n in (5, 6):
        c = ngram_counts(texts, n)
        assert (c.unique.tolist(), c.total.tolist(), c.corpus_unique) == naive_counts(texts, n)


@pytest.mark.parametrize("int64_max", [10**7, 10**4])
def test_codes_stay_exact_when_int64_is_small(int64_max, monkeypatch):
    # a small "int64" forces the dense renumbering (10**7) and the (prefix, token) pair numbering (10**4)
    monkeypatch.setattr(rep, "_INT64_MAX", int64_max)
    rng = random.Random(2)
    vocab = [f"w{i}" for i in range(40)]
    texts = [" ".join(rng.choice(vocab) for _ in range(rng.randint(0, 30))) for _ in range(20)]
    for n in (2, 3, 5):
        c = ngram_counts(texts, n)
        assert (c.unique.tolist(), c.total.tolist(), c.corpus_unique) == naive_counts(texts, n)


def test_distinct_n_equals_nltk_ngrams():
    for texts in [*corpora(5), *ADVERSARIAL]:
        for n in (1, 2, 3):
            expected, by_tokens = [], []
            for t in texts:
                grams = list(ngrams(t.split(), n))
                expected.append(len(set(grams)) / len(grams) if grams else 0.0)
                by_tokens.append(len(set(grams)) / len(t.split()) if t.split() else 0.0)
            assert distinct_n(texts, n) == expected
            assert distinct_n(texts, n, denominator="tokens") == by_tokens
            all_grams = [g for t in texts for g in ngrams(t.split(), n)]
            assert distinct_n_corpus(texts, n) == (len(set(all_grams)) / len(all_grams) if all_grams else 0.0)


def test_seq_rep_n_equals_authors_ngram_metrics():
    rng = random.Random(7)
    for _ in range(100):
        tokens = [rng.randint(2, rng.choice([3, 10, 50])) for _ in range(rng.randint(4, 60))]  # no pad id (1)
        text = " ".join(map(str, tokens))
        expected = unlikelihood_ngram_metrics(tokens)
        for n in range(1, 5):
            assert seq_rep_n([text], n) == pytest.approx([expected[n]], abs=1e-15)
    assert seq_rep_n(["a b c", ""], n=4) == [0.0, 0.0]  # no 4-grams (the authors' code divides by zero)


# --------------------------------------------------------------------------------------------------------------
# rep-n and diversity (SimCTG)


def test_hand_worked_values_section_11_1():
    text = ["a b a b a b"]
    assert [rep_n(text, n) / 100 for n in (2, 3, 4)] == pytest.approx([0.6, 0.5, 1 / 3])
    assert [rep_n(text, n, simctg_compat=True) / 100 for n in (2, 3, 4)] == pytest.approx([0.5, 0.3333, 0.0])
    assert [tuple(naive_counts(text, n, skip_last=True)[:2]) for n in (2, 3, 4)] == [([2], [4]), ([2], [3]), ([2], [2])]


def test_hand_worked_values_section_11_2():
    assert round(diversity_from_rep([3.92, 0.88, 0.28]), 4) == 0.9497
    assert round(diversity_from_rep([69.21, 65.18, 62.05]), 4) == 0.0407


def test_simctg_compat_equals_reference_code():
    checked = 0
    for texts in [*corpora(11, 80), *ADVERSARIAL]:
        try:
            expected = simctg_measure_repetition_and_diversity(texts)
        except ZeroDivisionError:  # the reference divides by zero when a corpus has no 4-gram
            assert rep_n(texts, 4, simctg_compat=True) == 0.0
            continue
        got = (*(rep_n(texts, n, simctg_compat=True) for n in (2, 3, 4)), diversity(texts, simctg_compat=True))
        assert got == expected  # same float steps: equal, not just close
        checked += 1
    assert checked > 40


def test_full_counting_is_the_paper_definition():
    for texts in [*corpora(12), *ADVERSARIAL]:
        reps = []
        for n in (2, 3, 4):
            uniq, total, _ = naive_counts(texts, n)
            expected = 100 * (1 - sum(uniq) / sum(total)) if sum(total) else 0.0
            assert rep_n(texts, n) == pytest.approx(expected, abs=1e-12)
            reps.append(expected)
        assert diversity(texts) == pytest.approx(math.prod(1 - r / 100 for r in reps), abs=1e-12)


def test_simctg_compat_differs_from_full_counting_where_expected():
    # 20 tokens of a 4-token loop: 17 4-grams (4 distinct); SimCTG's loop drops the last one, a repeat
    loop = ["it was good . " * 5]
    assert rep_n(loop, 4) == pytest.approx(100 * (1 - 4 / 17))
    assert rep_n(loop, 4, simctg_compat=True) == 75.0  # 100 * (1 - 4 / 16): a loop looks *less* repetitive


# --------------------------------------------------------------------------------------------------------------
# End-of-text repetition (Holtzman et al.)


def test_end_repetition_hand_worked():
    texts = ["a b c a b c a b c", "a b a b", "a a a", "x x x x x x", "intro then a b a b a b", "a b a b a b c", ""]
    assert end_repetition(texts) == [True, False, False, True, True, False, False]
    # degen: the best phrase length must be >= 3 (or repeat > 50 times); 2 occurrences suffice
    assert end_repetition(texts, degen_compat=True) == [True, False, False, False, False, False, False]
    assert end_repetition(["a b c a b c"], degen_compat=True) == [True]
    assert end_repetition(["a " * 51], degen_compat=True) == [True]  # one token, 51 repeats
    assert end_repetition_rate(texts) == pytest.approx(300 / 7)


def test_end_repetition_drops_a_trailing_eos():
    text = ["a b c a b c a b c <|endoftext|>"]
    assert end_repetition(text) == [True]
    assert end_repetition(text, eos=None) == [False]
    assert end_repetition(["a b c a b c a b c </s>"], eos="</s>") == [True]


def test_end_repetition_paper_rule_equals_brute_force():
    rng = random.Random(5)
    for _ in range(300):
        unit = [rng.choice("abc") for _ in range(rng.randint(1, 4))]
        tokens = [rng.choice("abcd") for _ in range(rng.randint(0, 6))] + unit * rng.randint(0, 5)
        tokens += [rng.choice("abc")] * rng.randint(0, 2)
        assert end_repetition([" ".join(tokens)]) == [paper_ends_in_loop(tokens)], tokens


def test_end_repetition_degen_compat_equals_degen_script():
    rng = random.Random(6)
    cases = [["a"] * 60, ["a"] * 51, ["a"] * 50, ["x", "y"] * 30, ["<|endoftext|>"], ["a", "<|endoftext|>"]]
    for _ in range(300):
        unit = [rng.choice("abcdef") for _ in range(rng.choice([1, 2, 3, 5, 40, 95]))]
        cases.append(
            [rng.choice("abcdef") for _ in range(rng.randint(0, 5))]
            + unit * rng.randint(1, 4)
            + (["<|endoftext|>"] if rng.random() < 0.3 else [])
        )
    for tokens in cases:
        assert end_repetition([" ".join(tokens)], degen_compat=True) == [degen_is_repeating(tokens)], tokens
    assert end_repetition([""], degen_compat=True) == [False]  # the script would fail on an empty generation


# --------------------------------------------------------------------------------------------------------------
# Zipf coefficient and compression ratio


def test_zipf_equals_degen_script_with_scipy_linregress():
    rng = np.random.default_rng(0)
    for exponent, vocab, top_n in [(1.0, 300, 5000), (1.3, 2000, 100), (0.7, 50, 5000), (1.1, 8000, 5000)]:
        ranks = rng.zipf(1 + exponent, size=5000) % vocab
        token_lists = [[f"t{r}" for r in ranks[i : i + 50]] for i in range(0, 5000, 50)]
        texts = [" ".join(t) for t in token_lists]
        assert zipf_coefficient(texts, top_n=top_n) == pytest.approx(degen_zipf(token_lists, top_n), rel=1e-10)


def test_zipf_degenerate_and_exact():
    assert math.isnan(zipf_coefficient(["a a a", ""]))
    assert math.isnan(zipf_coefficient([]))
    assert zipf_coefficient(["a " * 12 + "b " * 6 + "c " * 4 + "d " * 3]) == pytest.approx(1.0)  # 12/rank


def test_compression_ratio_matches_a_gzip_file():
    texts = ["the cat sat on the mat " * 20, "zq xv 9k", "", "東京 " * 30]
    for text, ratio in zip(texts, compression_ratio(texts), strict=True):
        buffer = io.BytesIO()
        with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9, mtime=0) as f:
            f.write(text.encode("utf-8"))
        assert ratio == len(text.encode("utf-8")) / len(buffer.getvalue())
    assert compression_ratio(texts)[0] > 5 > compression_ratio(texts)[1]
    joined = " ".join(texts).encode("utf-8")
    assert compression_ratio_corpus(texts) == len(joined) / len(gzip.compress(joined, 9, mtime=0))


# --------------------------------------------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize(
    "call",
    [
        lambda: distinct_n("a single string"),
        lambda: distinct_n(["ok", 3]),
        lambda: distinct_n(["ok"], n=0),
        lambda: distinct_n(["ok"], n=2.0),
        lambda: distinct_n(["ok"], denominator="words"),
        lambda: zipf_coefficient(["a b"], top_n=1),
        lambda: compression_ratio(["a"], level=10),
        lambda: end_repetition(["a"], eos=5),
    ],
)
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()
