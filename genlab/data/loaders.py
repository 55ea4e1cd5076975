"""Read your own data into the forms genlab takes: a list of corpus texts, and a table of prompts.

Sources: a ``.txt`` file, a folder of ``.txt`` files, ``.jsonl``/``.json``, ``.csv`` and ``.parquet`` files (read
with Hugging Face ``datasets``, which needs no network for local files), a ``datasets.Dataset`` or ``DatasetDict``,
or a list of strings. Every error says what was wrong and what to do about it.

>>> read_texts(["A first document.  ", "", "A second one."])
['A first document.', 'A second one.']

**Limits.** Files are read whole (no streaming). CSV cells are always read as strings (``"007"`` stays ``"007"``);
JSON and Parquet values keep their types, so a number or ``null`` in the text column is an error. ``datasets``
caches each table file it reads under ``~/.cache/huggingface/datasets`` (``HF_DATASETS_CACHE`` moves it), keyed
by path and modification time: an edited file is read again.
"""

from __future__ import annotations

import csv
import json
import os
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import datasets
    import pandas as pd

    Source = str | os.PathLike | datasets.Dataset | datasets.DatasetDict | Sequence[str]

TABLE_FORMATS = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet"}
SUPPORTED = ".txt, .jsonl, .json, .csv, .parquet, or a folder of .txt files"


def read_texts(source: Source, *, text_column: str = "text", split: str = "train", min_chars: int = 1) -> list[str]:
    """Corpus texts, one document per item, from a file, a folder, a Dataset (or DatasetDict) or a list of strings.

    A ``.txt`` file: when blank lines separate at least two blocks of text, each block is a document (lines inside
    a block are kept, joined by newlines); otherwise each non-empty line is a document. A folder: each ``*.txt``
    file in it (not in subfolders) is one document, in order of file name. Table files and Datasets: the values
    of ``text_column``; ``split`` picks the split of a DatasetDict. Trailing whitespace is stripped (nothing
    else), and documents shorter than ``min_chars`` characters, or empty, are dropped.

    >>> import datasets
    >>> read_texts(datasets.Dataset.from_dict({"body": ["Rain at noon.", "Sun.", ""]}), text_column="body",
    ...            min_chars=5)
    ['Rain at noon.']
    """
    name, table = _open(source, split, text_file_column=text_column, text_file_reader=_text_file_documents)
    values = _column(table, text_column, name, "text_column")
    texts = [_require_string(value, row, name, text_column).rstrip() for row, value in enumerate(values)]
    kept = [text for text in texts if len(text) >= max(min_chars, 1)]
    if not kept:
        raise ValueError(
            f"No documents left in {name}: {len(texts)} read, all empty or shorter than min_chars={min_chars}. "
            f"Lower min_chars, or check that the column {text_column!r} holds the text (text_column=...)."
        )
    return kept


def read_prompts(
    source: Source,
    *,
    prompt_column: str = "prompt",
    id_column: str | None = "id",
    group_column: str | None = None,
    split: str = "train",
) -> pd.DataFrame:
    """A table of prompts with the columns ``prompt_id`` (string), ``prompt`` and ``group``.

    A ``.txt`` file holds one prompt per non-empty line (the line ending removed, nothing else); in a folder, each
    ``*.txt`` file is one prompt (its final newline removed). Without an id
    column (the default ``"id"`` is absent, or ``id_column=None``) prompts are numbered ``p0000``, ``p0001``, ...;
    ids are read as strings and must be unique. ``group`` is None unless ``group_column`` names a column.

    >>> read_prompts(["The library opens at", "On Monday the weather was"])
      prompt_id                     prompt group
    0     p0000       The library opens at  None
    1     p0001  On Monday the weather was  None
    """
    import pandas as pd

    name, table = _open(source, split, text_file_column=prompt_column, text_file_reader=_text_file_lines)
    prompts = [
        _require_string(value, row, name, prompt_column)
        for row, value in enumerate(_column(table, prompt_column, name, "prompt_column"))
    ]
    if not prompts:
        raise ValueError(f"No prompts in {name}. Add at least one row with a {prompt_column!r} value.")
    ids = _prompt_ids(table, id_column, name, len(prompts))
    groups = [None] * len(prompts)
    if group_column is not None:
        groups = [None if g is None else str(g) for g in _column(table, group_column, name, "group_column")]
    return pd.DataFrame({"prompt_id": ids, "prompt": prompts, "group": pd.Series(groups, dtype=object)})


# --- sources -----------------------------------------------------------------------------------------------------
def _open(
    source: Any, split: str, *, text_file_column: str, text_file_reader: Callable[[Path], list[str]]
) -> tuple[str, Any]:
    """(how errors name the source, a table: a ``datasets.Dataset`` or a dict of column -> list)."""
    import datasets

    if isinstance(source, datasets.DatasetDict):
        if split not in source:
            raise ValueError(
                f"The DatasetDict has no split {split!r}; its splits are "
                f"{_quoted(source)}. Pass split=... to choose one."
            )
        return f"split {split!r} of the DatasetDict", source[split]
    if isinstance(source, datasets.Dataset):
        return "the Dataset", source
    if isinstance(source, (list, tuple)):
        return "the list", {text_file_column: _validated_strings(source)}
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(
            f"Cannot read a {type(source).__name__}. Pass a path ({SUPPORTED}), a datasets.Dataset "
            "or DatasetDict, or a list of strings."
        )
    path = Path(source)
    if path.is_dir():
        return f"folder {str(path)!r}", {text_file_column: _folder_documents(path)}
    if not path.exists():
        raise FileNotFoundError(
            f"No file or folder at {str(path)!r} (looked in {str(path.absolute())!r}). Check "
            "the path; to pass texts themselves, give a list of strings."
        )
    extension = path.suffix.lower()
    if extension == ".txt":
        return repr(str(path)), {text_file_column: text_file_reader(path)}
    if extension not in TABLE_FORMATS:
        raise ValueError(
            f"Cannot read {str(path)!r}: unknown file type {extension or '(no extension)'!r}. "
            f"Supported: {SUPPORTED}. Save it in one of these formats."
        )
    return repr(str(path)), _load_table_file(path, TABLE_FORMATS[extension])


def _load_table_file(path: Path, builder: str):
    """A .jsonl/.json/.csv/.parquet file as a ``datasets.Dataset`` (CSV cells as strings, empty cells as "")."""
    import datasets

    options = {}
    if builder == "csv":
        n_columns = len(_csv_header(path))
        options = {"converters": dict.fromkeys(range(n_columns), str), "na_filter": False, "encoding": "utf-8-sig"}
    from datasets.utils import logging as datasets_logging

    bars = datasets_logging.is_progress_bar_enabled()
    datasets_logging.disable_progress_bar()  # a small local file needs no "Generating train split" bar
    try:
        table = datasets.load_dataset(builder, data_files=str(path), split="train", **options)
        table.data.table.validate(full=True)  # pyarrow's JSON reader keeps bad UTF-8 until a value is read
        return table
    except Exception as error:  # datasets wraps reader errors (DatasetGenerationError) or raises them as they are
        raise _read_error(path, builder, error) from error
    finally:
        if bars:
            datasets_logging.enable_progress_bar()


def _read_error(path: Path, builder: str, error: BaseException) -> ValueError:
    """The error to raise for a table file that ``datasets`` could not read, judged by the chain of causes."""
    chain = [error]
    while chain[-1].__cause__ or chain[-1].__context__:
        chain.append(chain[-1].__cause__ or chain[-1].__context__)
    if any(isinstance(e, UnicodeDecodeError) or "UTF8" in str(e) or "UTF-8" in str(e) for e in chain):
        return _not_utf8(path)
    root = chain[-1]
    return ValueError(
        f"Could not read {str(path)!r} as {builder}: {type(root).__name__}: {root}. Check that the "
        f"file is valid {builder.upper()} ({SUPPORTED} are supported)."
    )


def _csv_header(path: Path) -> list[str]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as file:
            header = next(csv.reader(file), None)
    except UnicodeDecodeError:
        raise _not_utf8(path) from None
    if not header:
        raise ValueError(f"{str(path)!r} is empty: a CSV file needs a header row naming its columns.")
    return header


def _read_utf8(path: Path) -> str:
    """A text file's contents (a UTF-8 byte-order mark is skipped; line endings become "\\n")."""
    try:
        with path.open(encoding="utf-8-sig") as file:
            return file.read()
    except UnicodeDecodeError:
        raise _not_utf8(path) from None


def _not_utf8(path: Path) -> ValueError:
    """An error naming the file and the first byte that is not UTF-8 (the file is read again, whole, to find it)."""
    raw = path.read_bytes()
    problem = "holds text that is not valid UTF-8"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        problem = f"is not UTF-8 text: byte 0x{raw[error.start]:02X} at offset {error.start} (line {line}) is not valid"
    hint = " It looks like UTF-16." if raw.startswith((b"\xff\xfe", b"\xfe\xff")) else ""
    return ValueError(
        f"{str(path)!r} {problem}.{hint} Re-save the file as UTF-8 (in your editor's 'Save as' "
        "encoding menu, or with `iconv -f latin1 -t utf-8 old > new`) and read it again."
    )


def _text_file_documents(path: Path) -> list[str]:
    """Blocks separated by blank lines, or, when there are fewer than two such blocks, the non-empty lines."""
    blocks, current = [], []
    for line in _read_utf8(path).split("\n"):
        if line.strip():
            current.append(line)
        elif current:
            blocks.append("\n".join(current))
            current = []
    if current:
        blocks.append("\n".join(current))
    return blocks if len(blocks) >= 2 else [line for block in blocks for line in block.split("\n")]


def _text_file_lines(path: Path) -> list[str]:
    return [line for line in _read_utf8(path).split("\n") if line.strip()]


def _folder_documents(folder: Path) -> list[str]:
    files = sorted(path for path in folder.glob("*.txt") if path.is_file())
    if not files:
        raise FileNotFoundError(
            f"The folder {str(folder)!r} holds no .txt files (each *.txt file directly in it "
            "is one document; subfolders are not searched)."
        )
    return [_read_utf8(path).removesuffix("\n") for path in files]


# --- columns and values ------------------------------------------------------------------------------------------
def _column(table: Any, column: str, name: str, keyword: str) -> list:
    columns = table.column_names if hasattr(table, "column_names") else list(table)
    if column not in columns:
        raise ValueError(
            f"No column {column!r} in {name}; its columns are {_quoted(columns)}. "
            f"Pass {keyword}=... to name the column to read."
        )
    return list(table[column])


def _validated_strings(items: Sequence) -> list[str]:
    for index, item in enumerate(items):
        if not isinstance(item, str):
            raise ValueError(
                f"Item {index} of the list is {type(item).__name__} {item!r:.60}, not a string. "
                "Pass a list of strings (one per document or prompt)."
            )
    return list(items)


def _require_string(value: Any, row: int, name: str, column: str) -> str:
    if not isinstance(value, str):
        raise ValueError(
            f"Row {row} (counting from 0) of {name} holds {type(value).__name__} {value!r:.60} in "
            f"column {column!r}, not a string. Fix or remove that row."
        )
    return value


def _prompt_ids(table: Any, id_column: str | None, name: str, n: int) -> list[str]:
    columns = table.column_names if hasattr(table, "column_names") else list(table)
    if id_column is None or (id_column == "id" and id_column not in columns):
        return [f"p{i:04d}" for i in range(n)]
    ids = []
    for row, value in enumerate(_column(table, id_column, name, "id_column")):
        if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value) == "":
            raise ValueError(
                f"Row {row} (counting from 0) of {name} has the id {value!r} in column {id_column!r}; "
                "ids must be non-empty strings or integers. Fix that row, or pass id_column=None."
            )
        ids.append(str(value))
    duplicates = [prompt_id for prompt_id, count in Counter(ids).items() if count > 1]
    if duplicates:
        shown = ", ".join(
            f"{d!r} (rows {', '.join(str(r) for r, i in enumerate(ids) if i == d)})" for d in duplicates[:5]
        )
        raise ValueError(
            f"{len(duplicates)} prompt ids in {name} occur more than once: {shown}. Give each prompt its "
            f"own id in column {id_column!r}, or pass id_column=None to number them p0000, p0001, ..."
        )
    return ids


def _quoted(names) -> str:
    return ", ".join(repr(str(n)) for n in names) or "(none)"


# --- sample files ------------------------------------------------------------------------------------------------
SAMPLE_NOTES = (
    "The village library opens at nine on weekdays and at ten on Saturdays. It is closed on Sundays, when the "
    "reading room is lent to the chess club.",
    "Books are lent for three weeks. A book can be renewed twice, at the desk or by telephone, unless another "
    "reader has asked for it.",
    "On Monday the morning was grey and still. By noon a light rain had started, and it kept on until the "
    "streetlamps came on.",
    "Tuesday was bright and cold, with a north wind that rattled the library windows. Frost stayed on the shaded "
    "side of the church roof all day.",
    "The children's corner has a new rug, a shelf of picture books about the sea, and a box of puzzles. Story "
    "time is on Thursday afternoons at half past three.",
    "Oat biscuits for the reading group:\n- 100 g butter\n- 75 g brown sugar\n- 1 tablespoon golden syrup\n"
    "- 150 g rolled oats\nMelt the butter, sugar and syrup, stir in the oats, press into a tin and bake at "
    "180 °C for twenty minutes.",
    "The mobile library van visits the outlying farms every second Wednesday. It carries about four hundred "
    "books, a small heater, and a kettle for the driver.",
    "A leak in the roof above the local history shelves was found after the storm. The sign on the door said "
    '"Mind the bucket" for a week, and the old maps were moved to the back office.',
    "The book sale raised enough for two new armchairs and a reading lamp. The leftover paperbacks went to the "
    "café by the station.",
    "Thursday brought fog so thick that the bus from town arrived forty minutes late. The fog lifted at midday, "
    "and the afternoon was mild.",
    "A simple vegetable soup: soften an onion in oil, add two carrots, a potato and a handful of lentils, cover "
    "with stock and simmer for half an hour. Season it, and serve it with bread.",
    "Volunteers meet on the first Friday of each month to mend torn pages and cover new books in clear film. "
    "New volunteers are welcome, and no experience is needed.",
)
SAMPLE_FILES = {
    "txt": "notes.txt",
    "jsonl": "notes.jsonl",
    "csv": "notes.csv",
    "parquet": "notes.parquet",
    "prompts": "prompts.csv",
}
SAMPLE_PROMPTS = (
    ("lib01", "The village library opens at", "library"),
    ("lib02", "To renew a book, a reader can", "library"),
    ("lib03", "Story time in the children's corner is", "library"),
    ("lib04", "The mobile library van carries", "library"),
    ("wx01", "On Monday the weather was", "weather"),
    ("wx02", "The fog on Thursday", "weather"),
    ("wx03", "A cold north wind", "weather"),
    ("wx04", "After the storm, the roof", "weather"),
)


def write_sample_files(folder: str | os.PathLike) -> dict[str, Path]:
    """Write genlab's small sample (12 notes, 8 prompts) into ``folder``; return the paths by format.

    The notes are written as ``notes.txt`` (paragraphs), ``notes.jsonl``, ``notes.csv`` and ``notes.parquet``
    (columns ``id``, ``text``); the prompts as ``prompts.csv`` (``id``, ``prompt``, ``group``). Same bytes each run.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     paths = write_sample_files(folder)
    ...     sorted(paths), read_texts(paths["txt"]) == read_texts(paths["parquet"]) == list(SAMPLE_NOTES)
    (['csv', 'jsonl', 'parquet', 'prompts', 'txt'], True)
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {kind: folder / name for kind, name in SAMPLE_FILES.items()}
    ids = [f"note{i + 1:02d}" for i in range(len(SAMPLE_NOTES))]
    rows = list(zip(ids, SAMPLE_NOTES, strict=True))
    paths["txt"].write_text("\n\n".join(SAMPLE_NOTES) + "\n", encoding="utf-8")
    lines = [json.dumps({"id": note_id, "text": text}, ensure_ascii=False) + "\n" for note_id, text in rows]
    paths["jsonl"].write_text("".join(lines), encoding="utf-8")
    _write_csv(paths["csv"], ["id", "text"], rows)
    pq.write_table(pa.table({"id": ids, "text": list(SAMPLE_NOTES)}), paths["parquet"])
    _write_csv(paths["prompts"], ["id", "prompt", "group"], SAMPLE_PROMPTS)
    return paths


def _write_csv(path: Path, header: list[str], rows) -> None:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
