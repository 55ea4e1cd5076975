"""Read the files of published bias and toxicity sets in their own layouts, unchanged.

- **BOLD** (Dhamala et al. 2021, FAccT): one JSON file per domain (``gender_prompt.json``, ...), shaped
  ``{category: {name: [prompt, ...]}}`` -> :func:`read_bold`.
- **RealToxicityPrompts** (Gehman et al. 2020, Findings of EMNLP): JSON Lines, one object per line with
  ``prompt: {text, toxicity, ...}``, ``continuation: {text, ...}``, ``challenging``, ``filename``, ``begin``,
  ``end`` -> :func:`read_realtoxicity_prompts`.
- **HolisticBias** (Smith et al. 2022, EMNLP): ``descriptors.json``, shaped ``{axis: {bucket: [descriptor, ...]}}``,
  where a descriptor is a string or ``{"descriptor": ..., "preference": ...}``
  -> :func:`read_holistic_bias_descriptors`.
- **CrowS-Pairs** (Nangia et al. 2020, EMNLP): ``crows_pairs_anonymized.csv``, an unnamed index column then
  ``sent_more``, ``sent_less``, ``stereo_antistereo``, ``bias_type``, ``annotations``, ``anon_writer``,
  ``anon_annotators`` -> :func:`read_crows_pairs`, the table ``genlab.probes.crows_pairs.pair_scores`` takes.

The prompt readers return the table :func:`genlab.data.loaders.read_prompts` returns (``prompt_id``, ``prompt``,
``group``) plus the set's own columns, so the prompts go to ``genlab.generate`` as they are. Every error names the
file, what is missing and what the layout expects; a file with nothing to read is an error. Small samples of each
layout, written for genlab, are in ``data/samples/``.

Besides a local file, the CrowS-Pairs, BOLD and RealToxicityPrompts readers take a ``datasets.Dataset`` (or a
``DatasetDict`` and ``split=``) with the set's columns, as the Hub copies have them, or a Hub dataset name
(``"owner/name"``, e.g. ``"allenai/real-toxicity-prompts"``), which goes to ``datasets.load_dataset`` and needs the
network (or the ``datasets`` cache) the first time. A path that exists, or ends in the format's extension, is
always read as a file.

>>> from genlab.core.paths import data_dir
>>> read_bold(data_dir() / "samples" / "bold_gender_prompt.json")[["group", "prompt"]].iloc[0].tolist()
['American_actors', 'Tomas Varga is an American actor whose ']

**Limits.** Files are read whole (the full RealToxicityPrompts file, about 100k lines, takes a few seconds). Only the
layouts are checked, not the contents: a prompt's text is kept as it is, trailing spaces included. The Hub route is
tested offline only (on a Dataset built in the test); a Hub copy whose columns differ from the published files'
(e.g. a loading script that renames them) is refused with the columns it has. HolisticBias' descriptors are read
from the JSON file only.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    import datasets

    Source = str | os.PathLike | datasets.Dataset | datasets.DatasetDict

__all__ = [
    "BOLD_DOMAINS",
    "CROWS_PAIRS_COLUMNS",
    "read_bold",
    "read_crows_pairs",
    "read_holistic_bias_descriptors",
    "read_realtoxicity_prompts",
]

#: The CrowS-Pairs columns pair scoring needs; a file's other columns are kept as they are.
CROWS_PAIRS_COLUMNS = ("sent_more", "sent_less", "stereo_antistereo", "bias_type")

#: BOLD's five domains, as its file names spell them (``<domain>_prompt.json``).
BOLD_DOMAINS = ("gender", "political_ideology", "profession", "race", "religious_ideology")
_BOLD_LAYOUT = 'BOLD\'s layout: {"<category>": {"<name>": ["<prompt>", ...]}}'
_RTP_LAYOUT = (
    'RealToxicityPrompts\' layout: one JSON object per line, {"prompt": {"text": ..., "toxicity": ...}, '
    '"continuation": {"text": ...}, "challenging": ..., "filename": ..., "begin": ..., "end": ...}'
)
_CROWS_LAYOUT = (
    "CrowS-Pairs' layout: a CSV with a header row holding sent_more, sent_less, stereo_antistereo "
    "(stereo/antistereo) and bias_type, one pair a row"
)
#: A Hub dataset name, ``owner/name``: tried with ``datasets.load_dataset`` when no file is there.
_HUB_NAME = re.compile(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*")
_HB_LAYOUT = (
    'HolisticBias\' layout: {"<axis>": {"<bucket>": ["<descriptor>" or {"descriptor": ..., "preference": ...}, ...]}}'
)


def read_crows_pairs(source: Source, *, split: str = "train") -> pd.DataFrame:
    """CrowS-Pairs sentence pairs, one row per pair, in the file's order: the table pair scoring takes
    (``genlab.probes.crows_pairs.pair_scores``).

    Columns: every column of the file as it is, e.g. for ``crows_pairs_anonymized.csv`` the unnamed index column
    (as ``"Unnamed: 0"``), ``sent_more`` (the more stereotyping sentence), ``sent_less``, ``stereo_antistereo``
    (``"stereo"`` or ``"antistereo"``), ``bias_type`` (e.g. ``"gender"``), ``annotations``, ``anon_writer`` and
    ``anon_annotators`` (the last three as the text the CSV holds). Only the four of
    :data:`CROWS_PAIRS_COLUMNS` are required. The file is read with a CSV parser (one published record holds a
    line break); no cell is read as NaN. From a Dataset, class-label columns (the Hub copy's
    ``stereo_antistereo`` and ``bias_type``) become their names.

    >>> from genlab.core.paths import data_dir
    >>> pairs = read_crows_pairs(data_dir() / "samples" / "crows_pairs.csv")
    >>> len(pairs), pairs.loc[0, ["stereo_antistereo", "bias_type"]].tolist()
    (8, ['stereo', 'age'])
    """
    name, table = _open(source, split, (".csv",), "a CrowS-Pairs CSV file")
    if isinstance(table, Path):
        try:
            frame = pd.read_csv(table, keep_default_na=False)
        except pd.errors.EmptyDataError:
            raise ValueError(f"{name} is empty. {_CROWS_LAYOUT}.") from None
        except UnicodeDecodeError as error:
            raise ValueError(f"{name} is not UTF-8 text (byte {error.start}); save it as UTF-8.") from None
        except pd.errors.ParserError as error:
            raise ValueError(f"{name} is not a readable CSV file ({error}). {_CROWS_LAYOUT}.") from None
    else:
        frame = _class_label_names(table)
    missing = [c for c in CROWS_PAIRS_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{name} lacks the CrowS-Pairs column(s) {missing}; it has {list(frame.columns)}. A pair file needs "
            "sent_more, sent_less, stereo_antistereo (stereo/antistereo) and bias_type."
        )
    if frame.empty:
        raise ValueError(f"No pairs in {name}: it has the columns but no row. {_CROWS_LAYOUT}.")
    bad = sorted(set(map(str, frame["stereo_antistereo"])) - {"stereo", "antistereo"})
    if bad:
        raise ValueError(
            f"stereo_antistereo must be 'stereo' or 'antistereo'; {name} also has {bad}. Fix those rows: 'stereo' "
            "if sent_more states the stereotype, 'antistereo' if sent_less violates it."
        )
    blank = [i for i, (m, s) in enumerate(zip(frame["sent_more"], frame["sent_less"], strict=True))
             if not (isinstance(m, str) and m.strip() and isinstance(s, str) and s.strip())]  # fmt: skip
    if blank:
        raise ValueError(
            f"{name}: rows {blank[:5]} have an empty sentence (sent_more or sent_less); fill or drop them."
        )
    return frame


def read_bold(source: Source, *, domain: str | None = None, split: str = "train") -> pd.DataFrame:
    """BOLD prompts from one of its domain files, one row per prompt, in the file's order.

    Columns: ``prompt_id`` (``"<domain>/<category>/<name>/<i>"``, ``i`` the prompt's position in its name's list),
    ``prompt`` (the text as published, trailing space included), ``group`` (the category, e.g.
    ``American_actresses``), ``domain``, ``category`` (= ``group``) and ``name`` (the person or term the prompt is
    about). ``domain`` defaults to the file name: ``gender_prompt.json`` (or ``bold_gender_prompt.json``) ->
    ``"gender"``; pass ``domain=`` for a renamed file. A Dataset (the Hub copy, ``"AlexaAI/bold"``) has one row per
    name with the columns ``domain``, ``category``, ``name`` and ``prompts`` (a list); there ``domain=`` keeps the
    rows of that domain (or labels the rows, when the Dataset has no ``domain`` column).

    BOLD's prompts in different categories are about different people, not minimal pairs: compare the groups'
    continuations as samples (e.g. the ``groups`` table of ``genlab.probes.bold.generation_gaps``), not pairwise.

    >>> from genlab.core.paths import data_dir
    >>> frame = read_bold(data_dir() / "samples" / "bold_gender_prompt.json")
    >>> frame.groupby("group").size().to_dict(), frame["domain"].iloc[0]
    ({'American_actors': 5, 'American_actresses': 5}, 'gender')
    """
    where, table = _open(source, split, (".json",), "a BOLD domain file (JSON)")
    lists = _bold_file_lists(table, where, domain) if isinstance(table, Path) else _bold_rows(table, where, domain)
    rows = []
    for dom, category, name, prompts in lists:
        if not isinstance(prompts, list) or not all(isinstance(p, str) for p in prompts):
            raise ValueError(f"{where}: {category!r} -> {name!r} is not a list of prompt strings; {_BOLD_LAYOUT}.")
        rows += [
            {"prompt_id": f"{dom}/{category}/{name}/{i}", "prompt": p, "group": category, "domain": dom,
             "category": category, "name": name}
            for i, p in enumerate(prompts)
        ]  # fmt: skip
    if not rows:
        raise ValueError(f"No prompts in {where}: every category and name is empty. {_BOLD_LAYOUT}.")
    return pd.DataFrame(rows)


def _bold_file_lists(path: Path, where: str, domain: str | None) -> Iterable[tuple[str, str, str, Any]]:
    """(domain, category, name, prompts) from a BOLD domain file."""
    data = _load_json(path, _BOLD_LAYOUT)
    domain = domain or _bold_domain(path)
    if not isinstance(data, dict):
        raise ValueError(f"{where} holds a JSON {_json_type(data)} at the top; {_BOLD_LAYOUT}.")
    for category, names in data.items():
        if not isinstance(names, dict):
            raise ValueError(
                f"{where}: category {category!r} holds a JSON {_json_type(names)}, not an object of names; "
                f"{_BOLD_LAYOUT}."
            )
        for name, prompts in names.items():
            yield domain, category, name, prompts


def _bold_rows(table: Any, where: str, domain: str | None) -> list[tuple[str, str, str, Any]]:
    """(domain, category, name, prompts) from a Dataset with a row per name, as the Hub copy of BOLD has it."""
    _require_columns(table, ("category", "name", "prompts"), where, "BOLD's Hub layout: one row per name with "
                     "the columns domain, category, name and prompts (a list of strings)")  # fmt: skip
    if "domain" not in table.column_names:
        if domain is None:
            raise ValueError(f"{where} has no 'domain' column; pass domain=... (e.g. 'gender') to name it.")
        return [(domain, c, n, p) for c, n, p in zip(table["category"], table["name"], table["prompts"], strict=True)]
    rows = list(zip(table["domain"], table["category"], table["name"], table["prompts"], strict=True))
    if domain is not None:
        kept = [r for r in rows if r[0] == domain]
        if not kept:
            raise ValueError(
                f"{where} has no row of domain {domain!r}; its domains are {sorted({r[0] for r in rows})}."
            )
        rows = kept
    return rows


def read_realtoxicity_prompts(source: Source, *, split: str = "train") -> pd.DataFrame:
    """RealToxicityPrompts prompts (``prompts.jsonl`` as published), one row per non-blank line, in the file's order.

    Columns: ``prompt_id`` (``"<filename>:<begin>-<end>"``, the source span, when every line has ``filename``,
    ``begin`` and ``end`` and these are unique; otherwise ``"line<n>"``, ``n`` the 1-based line number, or
    ``"row<i>"``, the 0-based row of a Dataset), ``prompt`` (``prompt.text``), ``group`` (None: the set has no
    groups), ``prompt_toxicity`` (``prompt.toxicity``, the Perspective API score; NaN where null or absent),
    ``continuation`` (``continuation.text``, None where absent), ``challenging`` (bool; False where absent),
    ``filename``, ``begin`` and ``end`` (None where absent). A Dataset (the Hub copy,
    ``"allenai/real-toxicity-prompts"``) has the same fields as columns, one row per line.

    >>> from genlab.core.paths import data_dir
    >>> frame = read_realtoxicity_prompts(data_dir() / "samples" / "realtoxicity_prompts.jsonl")
    >>> len(frame), int(frame["challenging"].sum()), frame["prompt"].iloc[0]
    (8, 2, 'The committee met on Tuesday and')
    """
    where, table = _open(source, split, (".jsonl", ".json"), "a RealToxicityPrompts JSON Lines file")
    if isinstance(table, Path):
        unit, records = "line", _json_lines(table, where)
    else:
        _require_columns(table, ("prompt",), where, _RTP_LAYOUT)
        unit, records = "row", enumerate(table)
    rows = []
    for number, record in records:
        if not isinstance(record, dict):
            raise ValueError(f"{where}, {unit} {number}: a JSON {_json_type(record)}, not an object. {_RTP_LAYOUT}.")
        prompt = record.get("prompt")
        if not isinstance(prompt, dict) or not isinstance(prompt.get("text"), str):
            raise ValueError(f"{where}, {unit} {number}: no 'prompt.text' string. {_RTP_LAYOUT}.")
        continuation = record.get("continuation")
        toxicity = prompt.get("toxicity")
        rows.append({
            "number": number,
            "prompt": prompt["text"],
            "prompt_toxicity": float(toxicity) if isinstance(toxicity, (int, float)) else math.nan,
            "continuation": continuation.get("text") if isinstance(continuation, dict) else None,
            "challenging": bool(record.get("challenging") or False),
            "filename": record.get("filename"),
            "begin": record.get("begin"),
            "end": record.get("end"),
        })  # fmt: skip
    if not rows:
        raise ValueError(f"No prompts in {where}: it has no non-blank {unit}. {_RTP_LAYOUT}.")
    spans = [f"{r['filename']}:{r['begin']}-{r['end']}" for r in rows]
    has_spans = all(r["filename"] is not None and r["begin"] is not None and r["end"] is not None for r in rows)
    ids = spans if has_spans and len(set(spans)) == len(spans) else [f"{unit}{r['number']}" for r in rows]
    for row, prompt_id in zip(rows, ids, strict=True):
        row.update(prompt_id=prompt_id, group=None)
    columns = ["prompt_id", "prompt", "group", "prompt_toxicity", "continuation", "challenging", "filename", "begin",
               "end"]  # fmt: skip
    return _frame(rows, columns, optional=("group", "continuation", "filename", "begin", "end"))


def _json_lines(path: Path, where: str) -> Iterable[tuple[int, Any]]:
    """(1-based line number, the parsed JSON) for every non-blank line of ``path``."""
    for number, line in enumerate(_read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{where}, line {number}: not JSON ({error.msg}). {_RTP_LAYOUT}.") from None


def read_holistic_bias_descriptors(path: str | os.PathLike) -> pd.DataFrame:
    """HolisticBias descriptors (``descriptors.json``), one row per descriptor, in the file's order.

    Columns: ``axis`` (e.g. ``age``), ``bucket`` (the group within the axis, e.g. ``young``; None when the axis
    holds a list directly), ``descriptor`` (the term) and ``preference`` (the entry's ``"preference"``, e.g.
    ``"dispreferred"``; None for a plain string). For ``genlab.probes.holistic_bias.holistic_sentences``, take
    ``frame.groupby("axis", sort=False)["descriptor"].apply(list).to_dict()``.

    >>> from genlab.core.paths import data_dir
    >>> frame = read_holistic_bias_descriptors(data_dir() / "samples" / "holistic_bias_descriptors.json")
    >>> frame.groupby("axis", sort=False).size().to_dict()
    {'age': 5, 'hair': 4, 'sleep': 3}
    >>> frame.query("preference == 'dispreferred'")["descriptor"].tolist()
    ['over-the-hill']
    """
    path = _existing_file(path, (".json",), "a HolisticBias descriptor file (JSON)")
    data = _load_json(path, _HB_LAYOUT)
    if not isinstance(data, dict):
        raise ValueError(f"{_name(path)} holds a JSON {_json_type(data)} at the top; {_HB_LAYOUT}.")
    rows = []
    for axis, buckets in data.items():
        if isinstance(buckets, list):
            buckets = {None: buckets}
        if not isinstance(buckets, dict):
            raise ValueError(
                f"{_name(path)}: axis {axis!r} holds a JSON {_json_type(buckets)}, not an object of buckets; "
                f"{_HB_LAYOUT}."
            )
        for bucket, entries in buckets.items():
            where = f"axis {axis!r}" + ("" if bucket is None else f", bucket {bucket!r}")
            if not isinstance(entries, list):
                raise ValueError(f"{_name(path)}: {where} is not a list of descriptors; {_HB_LAYOUT}.")
            for entry in entries:
                rows.append({"axis": axis, "bucket": bucket, **_descriptor(entry, path, where)})
    if not rows:
        raise ValueError(f"No descriptors in {_name(path)}: every axis and bucket is empty. {_HB_LAYOUT}.")
    return _frame(rows, ["axis", "bucket", "descriptor", "preference"], optional=("bucket", "preference"))


# --- helpers -----------------------------------------------------------------------------------------------------
def _open(source: Any, split: str, suffixes: tuple[str, ...], what: str) -> tuple[str, Any]:
    """(how errors name the source, a local file's Path or a ``datasets.Dataset``). A path that exists or ends in
    one of ``suffixes`` is a file; an ``owner/name`` with no file there is a Hub dataset name."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.exists() or path.suffix.lower() in suffixes or not _HUB_NAME.fullmatch(str(source)):
            return _name(path), _existing_file(path, suffixes, what)
        return f"Hub dataset {str(source)!r}", _load_hub(str(source), split, what)
    import datasets

    if isinstance(source, datasets.DatasetDict):
        if split not in source:
            raise ValueError(f"The DatasetDict has no split {split!r}; its splits are {list(source)}. Pass split=...")
        return f"split {split!r} of the DatasetDict", source[split]
    if isinstance(source, datasets.Dataset):
        return "the Dataset", source
    raise TypeError(
        f"Cannot read a {type(source).__name__} as {what}. Pass a path, a Hub dataset name, or a datasets.Dataset."
    )


def _load_hub(name: str, split: str, what: str):
    import datasets

    try:
        return datasets.load_dataset(name, split=split)
    except Exception as error:  # offline, unknown name, no such split, a script the installed datasets refuses
        kind = FileNotFoundError if isinstance(error, OSError) else ValueError
        raise kind(
            f"No file at {name!r} (looked in {str(Path(name).absolute())!r}), so it was taken as a Hub dataset "
            f"name, and datasets.load_dataset({name!r}, split={split!r}) failed: {type(error).__name__}: {error}. "
            f"Pass the path of {what}, or go online (unset HF_DATASETS_OFFLINE) to download it."
        ) from error


def _require_columns(table: Any, columns: tuple[str, ...], where: str, layout: str) -> None:
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise ValueError(f"{where} lacks the column(s) {missing}; it has {table.column_names}. {layout}.")


def _class_label_names(table: Any) -> pd.DataFrame:
    """A Dataset as a DataFrame, each class-label column as its label names (the Hub's ``stereo_antistereo``)."""
    import datasets

    frame = table.to_pandas()
    for column, feature in table.features.items():
        if isinstance(feature, datasets.ClassLabel):
            frame[column] = [feature.int2str(int(v)) for v in frame[column]]
    return frame


def _frame(rows: list[dict], columns: list[str], optional: tuple[str, ...]) -> pd.DataFrame:
    """A DataFrame of ``rows``; the ``optional`` columns keep None for a missing value (object dtype, as the
    ``group`` of ``read_prompts``), where pandas would turn it into NaN."""
    return pd.DataFrame({c: pd.Series([r[c] for r in rows], dtype=object if c in optional else None) for c in columns})


def _descriptor(entry: Any, path: Path, where: str) -> dict[str, str | None]:
    if isinstance(entry, str):
        return {"descriptor": entry, "preference": None}
    if isinstance(entry, dict) and isinstance(entry.get("descriptor"), str):
        preference = entry.get("preference")
        return {"descriptor": entry["descriptor"], "preference": None if preference is None else str(preference)}
    raise ValueError(f"{_name(path)}: {where} has the entry {entry!r}, which lacks the key 'descriptor'; {_HB_LAYOUT}.")


def _bold_domain(path: Path) -> str:
    stem = path.stem.removesuffix("_prompts").removesuffix("_prompt")
    known = [d for d in BOLD_DOMAINS if stem == d or stem.endswith(f"_{d}")]
    return max(known, key=len) if known else stem


def _existing_file(path: str | os.PathLike, suffixes: tuple[str, ...], what: str) -> Path:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No file at {str(path)!r} (looked in {str(path.absolute())!r}); expected {what}.")
    if path.suffix.lower() not in suffixes:
        raise ValueError(
            f"Cannot read {_name(path)} as {what}: its extension is {path.suffix or '(none)'!r}, expected "
            f"{' or '.join(suffixes)}."
        )
    return path


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"{_name(path)} is not UTF-8 text (byte {error.start}); save it as UTF-8.") from None


def _load_json(path: Path, layout: str) -> Any:
    text = _read_text(path)
    if not text.strip():
        raise ValueError(f"{_name(path)} is empty. {layout}.")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{_name(path)} is not one JSON document ({error.msg}, line {error.lineno}). {layout}."
        ) from None


def _json_type(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number"
    )


def _name(path: Path) -> str:
    return repr(str(path))
