"""genlab.data.loaders: every source format, Dataset inputs, and each error a user can meet, with its message."""

from __future__ import annotations

import json
import os
import re

import datasets
import pandas as pd
import pytest

from genlab.core.paths import data_dir
from genlab.data.loaders import SAMPLE_NOTES, SAMPLE_PROMPTS, read_prompts, read_texts, write_sample_files


@pytest.fixture(autouse=True)
def datasets_cache(tmp_path_factory, monkeypatch):
    """Keep the Arrow files that ``datasets.load_dataset`` caches out of the user's ~/.cache."""
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path_factory.mktemp("hf_datasets_cache"))


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    return write_sample_files(tmp_path_factory.mktemp("samples"))


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


# --- formats -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["txt", "jsonl", "csv", "parquet"])
def test_each_format_reads_back_the_sample_notes(samples, kind):
    texts = read_texts(samples[kind])
    assert texts == list(SAMPLE_NOTES)
    assert any("\n- 150 g rolled oats\n" in t for t in texts)  # a multi-line document survives every format
    assert any("café" in t for t in texts) and any('"Mind the bucket"' in t for t in texts)


def test_sample_files_are_deterministic_and_the_committed_copies_are_current(samples, tmp_path):
    again = write_sample_files(tmp_path)
    committed = data_dir() / "samples"
    for kind, path in samples.items():
        assert again[kind].read_bytes() == path.read_bytes(), kind
        if kind != "parquet":  # parquet bytes name the pyarrow version that wrote them; compare the contents
            assert (committed / path.name).read_bytes() == path.read_bytes(), kind
    assert read_texts(committed / "notes.parquet") == list(SAMPLE_NOTES)
    card = (committed / "README.md").read_text(encoding="utf-8")
    assert f"{len(SAMPLE_NOTES)} notes" in card and f"{len(SAMPLE_PROMPTS)} prompts" in card
    total = sum(p.stat().st_size for p in committed.iterdir())
    assert total < 50_000


def test_txt_blocks_separated_by_blank_lines_are_documents(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes("\ufeff  Indented first line\r\nsecond line   \r\n \t\r\n\r\nNext block.\n\n\n".encode())
    assert read_texts(path) == ["  Indented first line\nsecond line", "Next block."]


def test_txt_without_blank_lines_is_one_document_per_line(tmp_path):
    path = tmp_path / "lines.txt"
    path.write_text("  first line\nsecond line  \n\nthird\n\n \n", encoding="utf-8")
    assert read_texts(path) == ["  first line\nsecond line", "third"]  # blank lines between text: paragraphs
    path.write_text("\n  first line\nsecond line  \n\n \n", encoding="utf-8")
    assert read_texts(path) == ["  first line", "second line"]  # blank lines only around the text: lines


def test_folder_reads_each_txt_file_as_one_document_in_name_order(tmp_path):
    (tmp_path / "b.txt").write_text("Second.\n\nStill second.\n", encoding="utf-8")
    (tmp_path / "a.txt").write_text("First.", encoding="utf-8")
    (tmp_path / "notes.md").write_text("not read", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.txt").write_text("not read either", encoding="utf-8")
    assert read_texts(tmp_path) == ["First.", "Second.\n\nStill second."]
    assert read_texts(str(tmp_path)) == read_texts(tmp_path)


def test_csv_cells_are_read_as_strings(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("\ufeffid,text\n007,NA\n008,\n009,42\n", encoding="utf-8")  # BOM as Excel writes it
    assert read_texts(path) == ["NA", "42"]  # the empty cell is an empty document, dropped
    assert read_prompts(path, prompt_column="text")["prompt_id"].tolist() == ["007", "008", "009"]


def test_an_edited_file_is_read_again_not_taken_from_the_cache(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("text\nold note\n", encoding="utf-8")
    assert read_texts(path) == ["old note"]
    path.write_text("text\nnew note\n", encoding="utf-8")
    os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 10))  # the cache is keyed by modification time
    assert read_texts(path) == ["new note"]


def test_folder_of_prompts_is_one_prompt_per_file(tmp_path):
    (tmp_path / "2.txt").write_text("Second prompt\n", encoding="utf-8")
    (tmp_path / "1.txt").write_text("First prompt:\nwith two lines\n", encoding="utf-8")
    assert read_prompts(tmp_path)["prompt"].tolist() == ["First prompt:\nwith two lines", "Second prompt"]


def test_json_array_file_and_other_text_column(tmp_path):
    path = tmp_path / "docs.json"
    path.write_text(json.dumps([{"body": "One."}, {"body": "Two."}]), encoding="utf-8")
    assert read_texts(path, text_column="body") == ["One.", "Two."]


# --- in-memory sources -------------------------------------------------------------------------------------------
def test_dataset_and_dataset_dict():
    train = datasets.Dataset.from_dict({"text": ["Train one.", "Train two."]})
    test = datasets.Dataset.from_dict({"text": ["Test one."]})
    splits = datasets.DatasetDict({"train": train, "test": test})
    assert read_texts(train) == ["Train one.", "Train two."]
    assert read_texts(splits) == ["Train one.", "Train two."]
    assert read_texts(splits, split="test") == ["Test one."]
    with pytest.raises(ValueError, match=r"no split 'validation'; its splits are 'train', 'test'\. Pass split="):
        read_texts(splits, split="validation")


def test_lists_and_tuples_are_validated_stripped_and_filtered():
    assert read_texts(("Keep this.  \n", "   ", "", "ok")) == ["Keep this.", "ok"]
    assert read_texts(["Keep this.", "ok"], min_chars=3) == ["Keep this."]
    with pytest.raises(ValueError, match=r"Item 1 of the list is int 5, not a string"):
        read_texts(["fine", 5])


def test_unsupported_source_type():
    with pytest.raises(TypeError, match=r"Cannot read a dict\. Pass a path"):
        read_texts({"text": ["a"]})


# --- errors ------------------------------------------------------------------------------------------------------
def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"No file or folder at .*nowhere\.txt.*give a list of strings"):
        read_texts(tmp_path / "nowhere.txt")


def test_folder_without_txt_files(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"holds no \.txt files"):
        read_texts(tmp_path)


def test_unknown_extension_lists_the_supported_ones(tmp_path):
    path = tmp_path / "notes.docx"
    path.write_bytes(b"PK")
    with pytest.raises(
        ValueError,
        match=r"unknown file type '\.docx'\. Supported: \.txt, \.jsonl, \.json, \.csv, "
        r"\.parquet, or a folder of \.txt files",
    ):
        read_texts(path)


def test_missing_column_names_the_column_the_columns_and_the_keyword(samples):
    with pytest.raises(
        ValueError,
        match=r"No column 'body' in .*notes\.csv'; its columns are 'id', 'text'\. "
        r"Pass text_column=",
    ):
        read_texts(samples["csv"], text_column="body")
    with pytest.raises(ValueError, match=r"No column 'text' in the Dataset; its columns are 'body'"):
        read_texts(datasets.Dataset.from_dict({"body": ["x"]}))


def latin1_error_pattern(name, offset, line):
    return rf"{re.escape(name)}' is not UTF-8 text: byte 0xE9 at offset {offset} \(line {line}\).*Re-save .* as UTF-8"


@pytest.mark.parametrize(
    ("name", "content", "offset", "line"),
    [
        ("notes.txt", "First paragraph.\n\nCaf\xe9 au lait.\n", 21, 3),
        # past the header's read-ahead: the UnicodeDecodeError comes wrapped from inside datasets' CSV reader
        ("notes.csv", "id,text\n" + "1,fine\n" * 2000 + "2,caf\xe9\n", 14013, 2002),
        ("head.csv", "id,t\xe9xt\n1,x\n", 4, 1),  # the header row, read before datasets
        # pyarrow's JSON reader keeps the bad bytes; validating the loaded table finds them
        ("notes.jsonl", '{"text": "ok"}\n{"text": "caf\xe9"}\n', 28, 2),
    ],
)
def test_non_utf8_file_names_the_file_and_the_byte(tmp_path, name, content, offset, line):
    path = tmp_path / name
    path.write_bytes(content.encode("latin-1"))
    assert path.read_bytes()[offset] == 0xE9
    with pytest.raises(ValueError, match=latin1_error_pattern(name, offset, line)):
        read_texts(path)


def test_non_utf8_file_in_a_folder_names_that_file(tmp_path):
    (tmp_path / "a.txt").write_text("fine", encoding="utf-8")
    (tmp_path / "b.txt").write_bytes("na\xefve".encode("latin-1"))
    with pytest.raises(ValueError, match=r"b\.txt' is not UTF-8 text: byte 0xEF at offset 2"):
        read_texts(tmp_path)


def test_non_string_value_names_the_row(tmp_path):
    path = write_jsonl(tmp_path / "docs.jsonl", [{"text": "fine"}, {"text": "also fine"}, {"text": None}])
    with pytest.raises(
        ValueError,
        match=r"Row 2 \(counting from 0\) of .*docs\.jsonl' holds NoneType None in "
        r"column 'text', not a string\. Fix or remove that row",
    ):
        read_texts(path)
    numbers = datasets.Dataset.from_dict({"q": [1, 42]})  # an Arrow column has one type: the first row is named
    with pytest.raises(ValueError, match=r"Row 0 \(counting from 0\) of the Dataset holds int 1 in column 'q'"):
        read_prompts(numbers, prompt_column="q")


def test_malformed_json_is_a_value_error(tmp_path):
    path = tmp_path / "broken.jsonl"
    path.write_text('{"text": "a"}\n{"text": \n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"Could not read .*broken\.jsonl' as json"):
        read_texts(path)


def test_empty_csv(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("", encoding="utf-8")
    with pytest.raises(ValueError, match=r"empty\.csv' is empty: a CSV file needs a header row"):
        read_texts(path)


def test_nothing_left_after_filtering(samples):
    with pytest.raises(
        ValueError,
        match=r"No documents left in .*notes\.jsonl': 12 read, all empty or shorter than "
        r"min_chars=1000\. Lower min_chars",
    ):
        read_texts(samples["jsonl"], min_chars=1000)
    with pytest.raises(ValueError, match=r"No documents left in the list: 2 read"):
        read_texts(["", "  "])


# --- prompts -----------------------------------------------------------------------------------------------------
def test_read_prompts_from_the_sample_csv(samples):
    prompts = read_prompts(samples["prompts"], group_column="group")
    assert list(prompts.columns) == ["prompt_id", "prompt", "group"]
    assert list(prompts.itertuples(index=False, name=None)) == list(SAMPLE_PROMPTS)
    assert prompts.groupby("group").size().to_dict() == {"library": 4, "weather": 4}


def test_read_prompts_without_an_id_column_numbers_them(tmp_path):
    path = tmp_path / "prompts.txt"
    path.write_text("The library opens at\n\n  \nThe fog on Thursday \n", encoding="utf-8")
    prompts = read_prompts(path)
    assert prompts["prompt_id"].tolist() == ["p0000", "p0001"]
    assert prompts["prompt"].tolist() == ["The library opens at", "The fog on Thursday "]  # only the newline goes
    assert prompts["group"].tolist() == [None, None]
    assert read_prompts(["a", "b", "c"])["prompt_id"].tolist() == ["p0000", "p0001", "p0002"]


def test_read_prompts_from_a_dataset_with_integer_ids_and_groups():
    table = datasets.Dataset.from_dict({"q": ["A?", "B?"], "qid": [7, 8], "kind": ["x", None]})
    prompts = read_prompts(table, prompt_column="q", id_column="qid", group_column="kind")
    assert prompts.to_dict("list") == {"prompt_id": ["7", "8"], "prompt": ["A?", "B?"], "group": ["x", None]}
    assert isinstance(prompts, pd.DataFrame)
    assert read_prompts(table, prompt_column="q", id_column=None)["prompt_id"].tolist() == ["p0000", "p0001"]


def test_duplicate_prompt_ids_name_the_first_duplicates(tmp_path):
    path = tmp_path / "prompts.csv"
    path.write_text("id,prompt\na,one\nb,two\na,three\nc,four\nb,five\n", encoding="utf-8")
    with pytest.raises(
        ValueError,
        match=r"2 prompt ids in .*prompts\.csv' occur more than once: 'a' \(rows 0, 2\), "
        r"'b' \(rows 1, 4\)\. .*id_column=None",
    ):
        read_prompts(path)
    assert read_prompts(path, id_column=None)["prompt_id"].tolist() == ["p0000", "p0001", "p0002", "p0003", "p0004"]


def test_read_prompts_column_errors(samples, tmp_path):
    with pytest.raises(
        ValueError,
        match=r"No column 'question' in .*; its columns are 'id', 'prompt', 'group'\. "
        r"Pass prompt_column=",
    ):
        read_prompts(samples["prompts"], prompt_column="question")
    with pytest.raises(ValueError, match=r"No column 'qid' in .* Pass id_column="):
        read_prompts(samples["prompts"], id_column="qid")  # only the default "id" may be absent
    with pytest.raises(ValueError, match=r"No column 'topic' in .* Pass group_column="):
        read_prompts(samples["prompts"], group_column="topic")
    path = write_jsonl(tmp_path / "p.jsonl", [{"id": "a", "prompt": "x"}, {"id": None, "prompt": "y"}])
    with pytest.raises(ValueError, match=r"Row 1 \(counting from 0\) of .* has the id None in column 'id'"):
        read_prompts(path)
