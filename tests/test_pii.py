"""PII recognisers and redaction (genlab.data.pii) and their scores against the corpus's planted truth
(genlab.metrics.pii_patterns). Presidio's engine loads once for the module (about 7 s)."""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys

import datasets
import pandas as pd
import pytest
from scipy.stats import binomtest

from genlab.data import pii
from genlab.data.pii import (
    GENLAB_PII_TYPES,
    PATTERN_KINDS,
    detect,
    find_pii,
    labelled_sentences,
    merge_spans,
    pattern_spans,
    presidio_spans,
    redact,
    redact_dataset,
    redact_texts,
    scrubadub_spans,
)
from genlab.metrics import pii_patterns
from genlab.metrics.pii_patterns import pii_comparison, pii_recogniser_scores, pii_span_scores
from genlab.worlds.text_corpus import PlantingRates, generate_corpus, small_world
from genlab.worlds.text_pii import hard_negative_sentence, pii_sentence
from genlab.worlds.text_spec import load_lexicon

RECOGNISERS = ("patterns", "presidio", "scrubadub", "patterns+presidio")


@pytest.fixture(scope="module")
def corpus():
    # many planted items per document, so a few hundred sentences hold every type
    return generate_corpus(
        n_train_docs=200,
        n_validation_docs=0,
        n_test_docs=0,
        seed=3,
        world=small_world(),
        rates=PlantingRates(pii=0.6, negative=0.6),
    )


@pytest.fixture(scope="module")
def sample(corpus):
    """Every sentence with planted personal data or a look-alike, and 100 plain ones: about 350 sentences."""
    sentences = labelled_sentences(corpus)
    planted = [s for s in sentences if s["kind"] in ("pii", "negative")]
    plain = random.Random(0).sample([s for s in sentences if s["kind"] == "plain"], 100)
    return planted + plain


@pytest.fixture(scope="module")
def predictions(sample):
    texts = [s["text"] for s in sample]
    return {name: detect(texts, name) for name in RECOGNISERS}


def test_sentences_keep_every_planted_item_and_their_positions(corpus):
    sentences = labelled_sentences(corpus)
    by_doc = {d.id: d for d in corpus.train}
    for key in ("pii", "negatives"):
        planted = sorted((d.id, s["start"], s["end"], s["text"]) for d in corpus.train for s in getattr(d, key))
        found = sorted(
            (s["document"], p["start"] + s["offset"], p["end"] + s["offset"], p["text"])
            for s in sentences
            for p in s[key]
        )
        assert found == planted and len(found) > 100
    for s in sentences:
        doc = by_doc[s["document"]].text
        assert doc[s["offset"] : s["offset"] + len(s["text"])] == s["text"] and s["text"].strip() == s["text"]
        assert all(s["text"][p["start"] : p["end"]] == p["text"] for p in s["pii"] + s["negatives"])
    secrets = [c.secret for c in corpus.world.canaries]
    canary = [s for s in sentences if s["kind"] == "canary"]
    assert canary and all(any(x in s["text"] for x in secrets) for s in canary)
    assert not any(x in s["text"] for s in sentences if s["kind"] != "canary" for x in secrets)


# ------------------------------------------------------------------------------------------------ recognisers


def test_patterns_find_every_planted_item_of_all_six_kinds_but_names():
    lexicon, rng = load_lexicon(), random.Random(5)
    planted = found = 0
    for _ in range(400):
        text, spans = pii_sentence(rng, lexicon, ["Ambermere", "Rosecross"])
        matches = {(m["type"], m["start"], m["end"]) for m in pattern_spans(text)}
        for s in spans:
            if s["type"] in PATTERN_KINDS:
                planted += 1
                found += (s["type"], s["start"], s["end"]) in matches
        assert {t for t, _, _ in matches} <= {s["type"] for s in spans}, (text, matches)
    assert planted > 300 and found == planted
    for _ in range(300):
        text, spans = hard_negative_sentence(rng, lexicon)
        assert pattern_spans(text) == [], (text, spans)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Please send the papers to Saorela Mosston at 12 Mill Lane, Ambermere.", "12 Mill Lane, Ambermere"),
        ("Write to Ro Lee, Flat 3, 45 Heron Close, or call later.", "Flat 3, 45 Heron Close"),
        ("Write to No. 7 Ash Row.", "No. 7 Ash Row"),
    ],
)
def test_address_pattern(text, expected):
    assert [s["text"] for s in pattern_spans(text) if s["type"] == "address"] == [expected]


def test_address_pattern_documented_misses():
    assert find_pii("She lives on Ash Lane in Ambermere, SW1A 1AA.", PATTERN_KINDS) == []
    assert find_pii("We met at 7 o'clock near the Mill.", PATTERN_KINDS) == []


def test_presidio_finds_names_phones_and_dates_but_not_example_mail():
    spans = presidio_spans("For bookings, ring Tovaldin Harrowby on (555) 123-4567. He was born on 7 March 1968.")
    assert {(s["type"], s["text"]) for s in spans} >= {
        ("person", "Tovaldin Harrowby"),
        ("phone", "(555) 123-4567"),
        ("date_of_birth", "7 March 1968"),
    }
    # documented: the e-mail recogniser rejects a domain outside the public-suffix list (.example)
    assert not any(s["type"] == "email" for s in presidio_spans("The clerk reads mail sent to ana.bee@post.example."))
    # and it cannot tell an event date from a birth date
    assert [s["type"] for s in presidio_spans("The great fair began on 7 March 1868.")] == ["date_of_birth"]


def test_scrubadub_finds_mail_ssn_and_cued_birth_dates_but_not_555_phones():
    spans = scrubadub_spans("Mail ana.bee@post.example, SSN 123-45-6789; she was born on 7 March 1968.")
    assert [(s["type"], s["entity"]) for s in spans] == [
        ("email", "email"),
        ("id_number", "social_security_number"),
        ("date_of_birth", "date_of_birth"),
    ]
    assert spans[2]["text"].endswith("7 March 1968")
    assert scrubadub_spans("For bookings, ring (555) 123-4567 or +1 555 123 4567.") == []  # 555: no such numbers
    assert scrubadub_spans("The fair began on 7 March 1868.") == []  # no birth cue
    # documented quirk: its e-mail pattern takes "<word> at <word>." as an address written out
    assert [s["text"] for s in scrubadub_spans("She ran to the kitchen at midnight.")] == ["kitchen at midnight"]


def test_every_span_is_a_slice_of_its_text(sample, predictions):
    for name, spans in predictions.items():
        for s, found in zip(sample, spans, strict=True):
            assert all(s["text"][p["start"] : p["end"]] == p["text"] for p in found), name
            assert all(a["end"] <= b["start"] for a, b in zip(found, found[1:], strict=False)), (
                "merged spans never overlap"
            )
            assert all(p["type"] in (*GENLAB_PII_TYPES, "other") for p in found)


# ------------------------------------------------------------------------------------------------- scoring


def _direct_counts(sample, spans_per_text):
    """Independent count with character sets: {(measure, type): (n, k)}."""
    counts: dict = {}

    def add(key, ok):
        n, k = counts.get(key, (0, 0))
        counts[key] = (n + 1, k + ok)

    for s, found in zip(sample, spans_per_text, strict=True):
        chars = {i for p in found for i in range(p["start"], p["end"])}
        typed = {}
        for p in found:
            typed.setdefault(p["type"], set()).update(range(p["start"], p["end"]))
        for t in s["pii"]:
            own = set(range(t["start"], t["end"]))
            add(("recall", t["type"]), bool(own & typed.get(t["type"], set())))
            add(("recall_any_type", t["type"]), bool(own & chars))
            add(("covered", t["type"]), own <= chars)
        truth_chars = {}
        for t in s["pii"]:
            truth_chars.setdefault(t["type"], set()).update(range(t["start"], t["end"]))
        for p in found:
            own = set(range(p["start"], p["end"]))
            add(("precision", p["type"]), bool(own & truth_chars.get(p["type"], set())))
        for g in s["negatives"]:
            add(("negatives_flagged", g["type"]), bool(set(range(g["start"], g["end"])) & chars))
    return counts


@pytest.mark.parametrize("name", RECOGNISERS)
def test_scores_match_a_direct_count_and_exact_intervals(sample, predictions, name):
    table = pii_span_scores(
        predictions[name], [s["pii"] for s in sample], [s["negatives"] for s in sample], recogniser=name
    )
    direct = _direct_counts(sample, predictions[name])
    rows = table[(table["type"] != "all") & (table["n"] > 0) & (table["measure"] != "precision_any_type")]
    assert {(r.measure, r.type): (r.n, r.k) for r in rows.itertuples()} == {
        key: v for key, v in direct.items() if key[0] != "precision" or key[1] != "other"
    }
    for r in table[table["n"] > 0].itertuples():
        ci = binomtest(int(r.k), int(r.n)).proportion_ci(confidence_level=0.95, method="exact")
        assert r.rate == pytest.approx(r.k / r.n) and r.recogniser == name
        assert (r.rate_low, r.rate_high) == pytest.approx((ci.low, ci.high), abs=1e-9)
    for measure in ("recall", "covered", "negatives_flagged"):
        part = table[table["measure"] == measure]
        pooled = part[part["type"] == "all"].iloc[0]
        assert pooled.n == part[part["type"] != "all"]["n"].sum() and pooled.k == part[part["type"] != "all"]["k"].sum()


def test_what_each_library_finds_on_the_corpus(sample, predictions):
    """The behaviour the Limitations describe, measured on the sample."""
    truth, negatives = [s["pii"] for s in sample], [s["negatives"] for s in sample]
    scores = {name: pii_span_scores(predictions[name], truth, negatives) for name in RECOGNISERS}

    def rate(name, measure, typ):
        t = scores[name]
        return t[(t["measure"] == measure) & (t["type"] == typ)].iloc[0]

    for typ in PATTERN_KINDS:  # the patterns were written for these formats
        assert rate("patterns", "covered", typ).rate == 1.0
    assert rate("patterns", "negatives_flagged", "all").k == 0
    assert rate("patterns", "recall", "person").k == 0 and rate("scrubadub", "recall", "person").k == 0
    assert rate("presidio", "recall", "person").rate > 0.6
    assert rate("presidio", "recall", "email").k == 0 and rate("scrubadub", "recall", "email").rate == 1.0
    assert rate("scrubadub", "recall", "phone").k == 0
    assert rate("presidio", "negatives_flagged", "event_date").rate == 1.0  # every date is a DATE_TIME
    combined, alone = rate("patterns+presidio", "recall", "all"), rate("presidio", "recall", "all")
    assert combined.k > alone.k and combined.k >= rate("patterns", "recall", "all").k


def test_recogniser_scores_stack_and_compare(sample):
    part = sample[:40]
    texts, truth, negs = [s["text"] for s in part], [s["pii"] for s in part], [s["negatives"] for s in part]
    table = pii_recogniser_scores(texts, truth, negs, recognisers=["patterns", "scrubadub"])
    assert list(table.columns) == ["recogniser", "measure", "type", "n", "k", "rate", "rate_low", "rate_high"]
    parts = [pii_span_scores(detect(texts, n), truth, negs, recogniser=n) for n in ("patterns", "scrubadub")]
    assert table.equals(pd.concat(parts, ignore_index=True))
    view = pii_comparison(table, "recall")
    assert list(view.columns) == ["patterns", "scrubadub"] and list(view.index) == [*GENLAB_PII_TYPES, "all"]
    row = table[(table.measure == "recall") & (table.type == "all") & (table.recogniser == "patterns")].iloc[0]
    assert view.loc["all", "patterns"].endswith(f"({row.k}/{row.n})")
    with pytest.raises(ValueError, match="unknown measure"):
        pii_comparison(table, "recal")


def test_score_input_is_checked():
    with pytest.raises(ValueError, match="one list of spans per text"):
        pii_span_scores([[]], [[], []])
    with pytest.raises(ValueError, match="integer 'start' < 'end'"):
        pii_span_scores([[{"type": "phone", "start": 3, "end": 3}]], [[]])


# ----------------------------------------------------------------------------------------------- redaction


def test_redaction_removes_each_span_and_keeps_the_rest(sample):
    texts = [s["text"] for s in sample]
    redacted, spans = redact_texts(texts, "patterns+presidio")
    placeholder = re.compile(r"\[(PERSON|ADDRESS|PHONE|EMAIL|DATE_OF_BIRTH|ID_NUMBER|OTHER)\]")
    n_spans = 0
    for text, red, found in zip(texts, redacted, spans, strict=True):
        pieces = placeholder.split(red)
        kept, types = pieces[::2], pieces[1::2]
        between = [
            text[a["end"] : b["start"]]
            for a, b in zip([{"end": 0}, *found], [*found, {"start": len(text)}], strict=True)
        ]
        assert kept == between and types == [s["type"].upper() for s in found]
        n_spans += len(found)
    assert n_spans > 300
    one = texts.index(next(s["text"] for s in sample if s["kind"] == "pii"))
    assert redact(texts[one], "patterns+presidio") == (redacted[one], spans[one])


def test_overlapping_spans_merge_into_one_placeholder():
    spans = [
        {"type": "other", "start": 0, "end": 4, "text": "abcd", "recogniser": "b", "entity": "X"},
        {"type": "phone", "start": 2, "end": 7, "text": "cdefg", "recogniser": "a", "entity": "P"},
        {"type": "date_of_birth", "start": 6, "end": 9, "text": "ghi", "recogniser": "a", "entity": "D"},
        {"type": "email", "start": 9, "end": 11, "text": "jk", "recogniser": "a", "entity": "E"},  # touches: apart
        {"type": "person", "start": 20, "end": 22, "text": "uv", "recogniser": "a", "entity": "N"},
        {"type": "address", "start": 20, "end": 22, "text": "uv", "recogniser": "b", "entity": "L"},  # tie
    ]
    merged = merge_spans(spans)
    assert [(s["type"], s["start"], s["end"], s["text"]) for s in merged] == [
        ("phone", 0, 9, "abcdefghi"),
        ("email", 9, 11, "jk"),
        ("person", 20, 22, "uv"),
    ]
    assert merged[0]["recogniser"] == "b+a" and merged[0]["entity"] == "X+P+D" and merged[2]["entity"] == "N+L"
    # presidio reads "0555" as a date inside the phone number; the combination gives one placeholder
    text = "Write to Ro Lee, Flat 3, 45 Heron Close, or call 0555 123 456."
    raw = presidio_spans(text) + pattern_spans(text)
    assert any(a is not b and a["start"] < b["end"] and b["start"] < a["end"] for a in raw for b in raw)
    assert redact(text, "patterns+presidio")[0] == "Write to [PERSON], [ADDRESS], or call [PHONE]."


def test_dataset_redaction_returns_a_new_dataset(sample):
    texts = [s["text"] for s in sample[:120]]
    ds = datasets.Dataset.from_dict({"text": texts, "id": list(range(len(texts)))})
    before = (ds.column_names, ds.to_dict(), ds._fingerprint)
    out = redact_dataset(ds, num_proc=2, batch_size=16)
    assert (ds.column_names, ds.to_dict(), ds._fingerprint) == before
    expected, spans = redact_texts(texts)
    assert list(out["text_redacted"]) == expected and list(out["id"]) == list(range(len(texts)))
    assert [list(x) for x in out["text_pii"]] == spans
    small = ds.select(range(5))
    assert (
        list(redact_dataset(small, recognisers="presidio")["text_redacted"]) == redact_texts(texts[:5], "presidio")[0]
    )
    with pytest.raises(ValueError, match="already has column"):
        redact_dataset(out)
    with pytest.raises(ValueError, match="no column 'body'"):
        redact_dataset(ds, column="body")
    with pytest.raises(ValueError, match="must hold strings"):
        redact_dataset(ds, column="id")
    with pytest.raises(ValueError, match="redact each split"):
        redact_dataset(datasets.DatasetDict({"train": ds}))


def test_bad_input_is_refused_clearly():
    with pytest.raises(ValueError, match="unknown recogniser 'presido'; did you mean 'presidio'"):
        redact("x", "patterns+presido")
    with pytest.raises(ValueError, match="must be a string, got int"):
        redact(3)
    with pytest.raises(ValueError, match="must be a string, got NoneType"):
        detect(["ok", None])
    with pytest.raises(ValueError, match="wrap it"):
        detect("a single text")
    with pytest.raises(ValueError, match="kinds must be"):
        find_pii("x", kinds="email")
    assert detect([], "patterns+presidio") == [] and redact("") == ("", [])


def test_the_explorer_matcher_moved_here_and_is_reexported():
    assert pii_patterns.find_pii is pii.find_pii and pii_patterns.PII_PATTERN_KINDS is pii.PII_PATTERN_KINDS
    assert not hasattr(pii_patterns, "_PATTERNS")  # moved, not copied
    assert find_pii("Stenidan Swiftford lives at 78 Willow Way, Ambermere.") == []  # default kinds: no addresses
    for module in (pii, pii_patterns):
        assert "**Limitations.**" in module.__doc__


def test_no_stderr_and_no_network_attempt_in_a_fresh_process():
    """tldextract would fetch the public-suffix list (and log a traceback) if the variable were not cleared;
    with the network forbidden any attempt would fail loudly on stderr."""
    code = (
        "import genlab; from genlab.data.pii import detect; "
        "spans = detect(['Mail jo@post.example, born 7 March 1968'], 'presidio')[0]; "
        "print('date_of_birth' in {s['type'] for s in spans})"
    )
    env = {
        **os.environ,
        "GENLAB_FORBID_NETWORK": "1",
        "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "https://publicsuffix.org/list/public_suffix_list.dat",
    }
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert done.stdout.strip() == "True"
