"""Corpus cleaning (genlab.data.cleaning) and the offensive-language filter it uses (genlab.data.offensive): the report
accounts for every row removed or changed, outputs are checked against direct computations with the classifier,
save_cleaned never overwrites, and the filter's recall on the planted insults equals a direct count."""

from __future__ import annotations

import json
import re
import warnings

import datasets
import pytest
from profanity_check import predict_prob

from genlab.data import cleaning
from genlab.data.cleaning import CleaningReport, clean_corpus, cleaned_paths, save_cleaned
from genlab.data.dedup import find_duplicates
from genlab.data.offensive import insult_detection, remove_spans, score_sentences, sentence_spans
from genlab.worlds.text import generate_corpus, small_world

PHONE = re.compile(r"555[-. ]?\d{3,4}[-. ]?\d{4}")


def mask_phones(text: str) -> tuple[str, list[dict]]:
    """A simple redactor for the tests: 555 phone numbers only."""
    spans = [{"type": "phone", "start": m.start(), "end": m.end()} for m in PHONE.finditer(text)]
    return PHONE.sub("[PHONE]", text), spans


@pytest.fixture(scope="module")
def corpus():
    return generate_corpus(n_train_docs=300, n_validation_docs=100, n_test_docs=100, seed=3, world=small_world(),
                           duplicate_rate=0.2)  # fmt: skip


@pytest.fixture(scope="module")
def train(corpus):
    return corpus.to_datasets()["train"]


@pytest.fixture(scope="module")
def cleaned(train):
    before = train.to_dict()
    out = clean_corpus(train, redactor=mask_phones, num_proc=2)
    assert train.to_dict() == before  # the input is unchanged
    return out


def test_report_accounts_for_every_dropped_row(train, cleaned):
    data, report = cleaned
    ids = train["id"]
    dropped = set(find_duplicates(train).drop)
    assert report.n_input - report.n_output == len(train) - len(data) == len(report.removed_ids) == len(dropped)
    assert report.counts["exact_duplicate"] + report.counts["near_duplicate"] == len(dropped)
    assert sorted(report.removed_ids) == sorted(ids[i] for i in dropped)
    assert data["id"] == [i for n, i in enumerate(ids) if n not in dropped]  # order kept
    planted = {d for d, source in zip(ids, train["duplicate_of"], strict=True) if source}
    assert set(report.removed_ids) == planted
    frame = report.to_frame()
    assert frame["rule"].tolist() == ["exact_duplicate", "near_duplicate", "offensive", "pii"]
    assert frame.set_index("rule")["n_rows"].to_dict() == report.counts
    assert f"{len(train)} rows in, {len(data)} out ({len(dropped)} dropped)" in report.summary()


def test_offensive_sentences_are_removed_as_a_direct_count_says(train, cleaned):
    data, report = cleaned
    by_id = dict(zip(train["id"], train["text"], strict=True))
    rule = report.rule("offensive")
    originals = [by_id[i] for i in data["id"]]
    spans = [sentence_spans(t) for t in originals]
    probabilities = iter(predict_prob([t[s:e] for t, sp in zip(originals, spans, strict=True) for s, e in sp]))
    edited, n_sentences = [], 0
    for doc_id, text, original, sp in zip(data["id"], data["text"], originals, spans, strict=True):
        over = [span for span in sp if next(probabilities) >= 0.5]
        expected, _ = mask_phones(remove_spans(original, over))
        assert text == expected
        if over:
            edited.append(doc_id)
            n_sentences += len(over)
    assert rule.action == "edited" and rule.ids == edited and rule.n_rows == len(edited) > 0
    assert rule.n_spans == n_sentences
    assert len(rule.examples) == 3 and all(e["probability"] >= 0.5 for e in rule.examples)
    left = score_sentences(list(data["text"]))  # what is left scores under the threshold
    assert all(s["probability"] < 0.5 for sentences in left for s in sentences)


def test_pii_rule_counts_redactions_and_keeps_the_values_out_of_the_report(train, cleaned):
    data, report = cleaned
    rule = report.rule("pii")
    assert not any(PHONE.search(t) for t in data["text"])
    with_phone = [i for i, t in zip(data["id"], data["text"], strict=True) if "[PHONE]" in t]
    assert rule.ids == with_phone and rule.n_rows == len(with_phone) > 0
    assert rule.n_spans == sum(t.count("[PHONE]") for t in data["text"])
    assert rule.note == f"phone: {rule.n_spans}"
    assert not PHONE.search(json.dumps(report.to_dict()))  # neither examples nor spans copy the numbers


def test_drop_and_flag_modes(train):
    texts = ["A fine day in town. You stupid idiot.", "A fine day in town.", "Rain fell on the roofs of the mill."]
    data = datasets.Dataset.from_dict({"text": texts})
    dropped, report = clean_corpus(data, offensive="drop", redactor=None)
    assert dropped["text"] == texts[1:] and report.removed_ids == [0] and report.counts["offensive"] == 1
    assert report.rule("offensive").action == "dropped"
    flagged, report = clean_corpus(data, offensive="flag", redactor=None, dedup=None)
    assert flagged["text"] == texts and report.n_output == 3 and report.removed_ids == []
    assert flagged["offensive_flag"] == [True, False, False]
    assert flagged["offensive_probability"][0] == pytest.approx(float(predict_prob(["You stupid idiot."])[0]))
    assert report.rule("exact_duplicate").action == "skipped"


def test_sentence_spans_cover_the_corpus_and_keep_each_insult_whole(corpus):
    docs = [d for d in corpus.documents() if d.duplicate_of is None]
    for d in docs:
        spans = sentence_spans(d.text)
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))
        covered = "".join(d.text[s:e] for s, e in spans)
        assert covered == "".join(d.text[s:e] for s, e in spans if d.text[s:e].strip())
        assert re.sub(r"\s", "", covered) == re.sub(r"\s", "", d.text)  # every visible character, once
        for r in d.harmful:
            assert any(s <= r["start"] and r["end"] <= e for s, e in spans)
        assert remove_spans(d.text, spans) == "" and remove_spans(d.text, []) == d.text


def test_insult_detection_equals_a_direct_count(corpus):
    docs = [d for d in corpus.documents() if d.duplicate_of is None]
    table = insult_detection([d.text for d in docs], [d.harmful for d in docs]).set_index("group")
    insults = [d for d in docs if d.harmful]
    sentences = []
    for d in insults:  # the planted sentence, found from how genlab.worlds.text_pii writes it
        r = d.harmful[0]
        opening = "Everyone knows " if r["context"] == "speech" else "Some people in town muttered that "
        start = d.text.rfind(opening, 0, r["start"]) - (r["context"] == "speech")
        end = d.text.index(".", r["end"]) + 1
        sentences.append(d.text[start:end])
    hits = int((predict_prob(sentences) >= 0.5).sum())
    row = table.loc["all insults"]
    assert (row["n"], row["k"]) == (len(insults), hits)
    assert 0 < hits < len(insults)  # a partial signal: some invented insults are missed
    assert table.loc["no insult", "n"] == len(docs) - len(insults)
    assert table.loc[[g for g in table.index if g not in ("all insults", "no insult")], "n"].sum() == len(insults)
    whole = insult_detection([d.text for d in docs], [d.harmful for d in docs], unit="document").set_index("group")
    direct = sum(p >= 0.5 for p in predict_prob([d.text for d in insults]))
    assert whole.loc["all insults", "k"] == direct < hits  # a long document dilutes the insult


def test_save_cleaned_writes_next_to_the_original_and_refuses_to_overwrite(tmp_path, cleaned):
    data, report = cleaned
    original = tmp_path / "corpus.jsonl"
    original.write_text("original\n")
    data_path, report_path = save_cleaned(data, report, original)
    assert (data_path, report_path) == cleaned_paths(original)
    assert data_path.parent == original.parent and data_path.name == "corpus.cleaned.jsonl"
    rows = [json.loads(line) for line in data_path.read_text().splitlines()]
    assert rows == data.to_list()
    assert json.loads(report_path.read_text())["rules"][0]["ids"] == report.rule("exact_duplicate").ids
    with pytest.raises(FileExistsError, match="overwrite=True"):
        save_cleaned(data, report, original)
    report_path.unlink()
    with pytest.raises(FileExistsError, match="corpus.cleaned.jsonl"):  # one existing file stops both
        save_cleaned(data, report, original)
    assert not report_path.exists()
    save_cleaned(data, report, original, overwrite=True)
    assert report_path.exists() and original.read_text() == "original\n"

    linked = tmp_path / "linked.jsonl"
    (tmp_path / "linked.cleaned.jsonl").symlink_to(linked)
    linked.write_text("keep me\n")
    with pytest.raises(ValueError, match="never overwritten"):
        save_cleaned(data, report, linked, overwrite=True)
    assert linked.read_text() == "keep me\n"
    with pytest.raises(ValueError, match="pass the pair"):
        save_cleaned(data.select([0]), report, tmp_path / "other.jsonl")


def test_default_redactor_missing_is_reported(monkeypatch):
    monkeypatch.setattr(cleaning, "_load_default_redactor", lambda: None)
    data = datasets.Dataset.from_dict({"text": ["Ring 555-0100.", "Hello."]})
    with pytest.warns(UserWarning, match="not redacted"):
        out, report = clean_corpus(data, offensive=None)
    assert out["text"] == data["text"] and report.rule("pii").action == "skipped"
    assert "redactor=" in report.rule("pii").note and "skipped (genlab.data.pii" in report.summary()


def test_default_redactor_is_genlab_data_pii():
    pii = pytest.importorskip("genlab.data.pii")
    data = datasets.Dataset.from_dict({"text": ["Ring (555) 123-4567 today."]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, report = clean_corpus(data, offensive=None, dedup=None)
    assert out["text"] == [pii.redact(data["text"][0])[0]] != data["text"]
    assert report.settings["redactor_module"] == "genlab.data.pii"


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"text_column": "body"}, ValueError, r"text_column='body' is not a column.*\['id', 'text', 'n'\]"),
        ({"text_column": "n"}, ValueError, "not strings"),
        ({"id_column": "key"}, ValueError, "id_column='key'"),
        ({"offensive_threshold": 0}, ValueError, "threshold must be in"),
        ({"offensive_threshold": 1.5}, ValueError, "threshold must be in"),
        ({"offensive": "censor"}, ValueError, "offensive must be"),
        ({"redactor": "presidio"}, ValueError, "redactor must be"),
        ({"redactor": 3}, ValueError, "redactor must be a callable"),
        ({"redactor": lambda t: t}, ValueError, r"must return \(redacted_text, spans\)"),
        ({"dedup": 0.8}, ValueError, "MinHashConfig"),
        ({"n_examples": -1}, ValueError, "n_examples"),
        ({"num_proc": 0}, ValueError, "num_proc"),
    ],
)
def test_bad_input_raises(kwargs, error, match):
    data = datasets.Dataset.from_dict({"id": ["a", "b"], "text": ["One.", "Two."], "n": [1, 2]})
    with pytest.raises(error, match=match):
        clean_corpus(data, **kwargs)


def test_a_dataset_dict_or_list_is_refused(train):
    with pytest.raises(ValueError, match="pick a split"):
        clean_corpus(datasets.DatasetDict({"train": train}))
    with pytest.raises(ValueError, match=r"Dataset.from_dict\({'text': texts}\)"):
        clean_corpus(["a", "b"])


def test_report_round_trips_to_json(cleaned):
    _, report = cleaned
    again = json.loads(json.dumps(report.to_dict()))
    assert again["n_output"] == report.n_output and len(again["rules"]) == 4
    assert isinstance(report, CleaningReport) and again["settings"]["dedup"]["threshold"] == 0.8
