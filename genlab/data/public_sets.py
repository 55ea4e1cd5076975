"""Read the files of published bias and toxicity sets in their own layouts, unchanged.

- **BOLD** (Dhamala et al. 2021, FAccT): one JSON file per domain (``gender_prompt.json``, ...), shaped
  ``{category: {name: [prompt, ...]}}`` -> :func:`read_bold`.
- **RealToxicityPrompts** (Gehman et al. 2020, Findings of EMNLP): JSON Lines, one object per line with
  ``prompt: {text, toxicity, ...}``, ``continuation: {text, ...}``, ``challenging``, ``filename``, ``begin``,
  ``end`` -> :func:`read_realtoxicity_prompts`.
- **HolisticBias** (Smith et al. 2022, EMNLP): ``descriptors.json``, shaped ``{axis: {bucket: [descriptor, ...]}}``,
  where a descriptor is a string or ``{"descriptor": ..., "preference": ...}``
  -> :func:`read_holistic_bias_descriptors`.
- **CrowS-Pairs** (Nangia et al. 2020, EMNLP): the pair CSV already has its one reader, ``read_pairs`` in
  ``genlab.probes.crows_pairs`` (it reads ``crows_pairs_anonymized.csv`` unchanged, index column included). It is
  not re-exported here: ``genlab.data`` sits below ``genlab.probes`` and never imports it.

The prompt readers return the table :func:`genlab.data.loaders.read_prompts` returns (``prompt_id``, ``prompt``,
``group``) plus the set's own columns, so the prompts go to ``genlab.generate`` as they are. Every error names the
file, what is missing and what the layout expects; a file with nothing to read is an error. Small samples of each
layout, written for genlab, are in ``data/samples/``.

>>> from genlab.core.paths import data_dir
>>> read_bold(data_dir() / "samples" / "bold_gender_prompt.json")[["group", "prompt"]].iloc[0].tolist()
['American_actors', 'Tomas Varga is an American actor whose ']

**Limits.** Files are read whole (the full RealToxicityPrompts file, about 100k lines, takes a few seconds). Only the
layouts are checked, not the contents: a prompt's text is kept as it is, trailing spaces included.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = [
    "BOLD_DOMAINS",
    "read_bold",
    "read_holistic_bias_descriptors",
    "read_realtoxicity_prompts",
]

#: BOLD's five domains, as its file names spell them (``<domain>_prompt.json``).
BOLD_DOMAINS = ("gender", "political_ideology", "profession", "race", "religious_ideology")
_BOLD_LAYOUT = 'BOLD\'s layout: {"<category>": {"<name>": ["<prompt>", ...]}}'
_RTP_LAYOUT = (
    'RealToxicityPrompts\' layout: one JSON object per line, {"prompt": {"text": ..., "toxicity": ...}, '
    '"continuation": {"text": ...}, "challenging": ..., "filename": ..., "begin": ..., "end": ...}'
)
_HB_LAYOUT = (
    'HolisticBias\' layout: {"<axis>": {"<bucket>": ["<descriptor>" or {"descriptor": ..., "preference": ...}, ...]}}'
)


def read_bold(path: str | os.PathLike, *, domain: str | None = None) -> pd.DataFrame:
    """BOLD prompts from one of its domain files, one row per prompt, in the file's order.

    Columns: ``prompt_id`` (``"<domain>/<category>/<name>/<i>"``, ``i`` the prompt's position in its name's list),
    ``prompt`` (the text as published, trailing space included), ``group`` (the category, e.g.
    ``American_actresses``), ``domain``, ``category`` (= ``group``) and ``name`` (the person or term the prompt is
    about). ``domain`` defaults to the file name: ``gender_prompt.json`` (or ``bold_gender_prompt.json``) ->
    ``"gender"``; pass ``domain=`` for a renamed file.

    BOLD's prompts in different categories are about different people, not minimal pairs: compare the groups'
    continuations as samples (e.g. the ``groups`` table of ``genlab.probes.bold.generation_gaps``), not pairwise.

    >>> from genlab.core.paths import data_dir
    >>> frame = read_bold(data_dir() / "samples" / "bold_gender_prompt.json")
    >>> frame.groupby("group").size().to_dict(), frame["domain"].iloc[0]
    ({'American_actors': 5, 'American_actresses': 5}, 'gender')
    """
    path = _existing_file(path, (".json",), "a BOLD domain file (JSON)")
    data = _load_json(path, _BOLD_LAYOUT)
    domain = domain or _bold_domain(path)
    if not isinstance(data, dict):
        raise ValueError(f"{_name(path)} holds a JSON {_json_type(data)} at the top; {_BOLD_LAYOUT}.")
    rows = []
    for category, names in data.items():
        if not isinstance(names, dict):
            raise ValueError(
                f"{_name(path)}: category {category!r} holds a JSON {_json_type(names)}, not an object of names; "
                f"{_BOLD_LAYOUT}."
            )
        for name, prompts in names.items():
            if not isinstance(prompts, list) or not all(isinstance(p, str) for p in prompts):
                raise ValueError(
                    f"{_name(path)}: {category!r} -> {name!r} is not a list of prompt strings; {_BOLD_LAYOUT}."
                )
            rows += [
                {"prompt_id": f"{domain}/{category}/{name}/{i}", "prompt": p, "group": category, "domain": domain,
                 "category": category, "name": name}
                for i, p in enumerate(prompts)
            ]  # fmt: skip
    if not rows:
        raise ValueError(f"No prompts in {_name(path)}: every category and name is empty. {_BOLD_LAYOUT}.")
    return pd.DataFrame(rows)


def read_realtoxicity_prompts(path: str | os.PathLike) -> pd.DataFrame:
    """RealToxicityPrompts prompts (``prompts.jsonl`` as published), one row per non-blank line, in the file's order.

    Columns: ``prompt_id`` (``"<filename>:<begin>-<end>"``, the source span, when every line has ``filename``,
    ``begin`` and ``end`` and these are unique; otherwise ``"line<n>"``, ``n`` the 1-based line number),
    ``prompt`` (``prompt.text``), ``group`` (None: the set has no groups), ``prompt_toxicity`` (``prompt.toxicity``,
    the Perspective API score; NaN where null or absent), ``continuation`` (``continuation.text``, None where
    absent), ``challenging`` (bool; False where absent), ``filename``, ``begin`` and ``end`` (None where absent).

    >>> from genlab.core.paths import data_dir
    >>> frame = read_realtoxicity_prompts(data_dir() / "samples" / "realtoxicity_prompts.jsonl")
    >>> len(frame), int(frame["challenging"].sum()), frame["prompt"].iloc[0]
    (8, 2, 'The committee met on Tuesday and')
    """
    path = _existing_file(path, (".jsonl", ".json"), "a RealToxicityPrompts JSON Lines file")
    rows = []
    for number, line in enumerate(_read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{_name(path)}, line {number}: not JSON ({error.msg}). {_RTP_LAYOUT}.") from None
        if not isinstance(record, dict):
            raise ValueError(
                f"{_name(path)}, line {number}: a JSON {_json_type(record)}, not an object. {_RTP_LAYOUT}."
            )
        prompt = record.get("prompt")
        if not isinstance(prompt, dict) or not isinstance(prompt.get("text"), str):
            raise ValueError(f"{_name(path)}, line {number}: no 'prompt.text' string. {_RTP_LAYOUT}.")
        continuation = record.get("continuation")
        toxicity = prompt.get("toxicity")
        rows.append({
            "line": number,
            "prompt": prompt["text"],
            "prompt_toxicity": float(toxicity) if isinstance(toxicity, (int, float)) else math.nan,
            "continuation": continuation.get("text") if isinstance(continuation, dict) else None,
            "challenging": bool(record.get("challenging", False)),
            "filename": record.get("filename"),
            "begin": record.get("begin"),
            "end": record.get("end"),
        })  # fmt: skip
    if not rows:
        raise ValueError(f"No prompts in {_name(path)}: the file has no non-blank line. {_RTP_LAYOUT}.")
    spans = [f"{r['filename']}:{r['begin']}-{r['end']}" for r in rows]
    has_spans = all(r["filename"] is not None and r["begin"] is not None and r["end"] is not None for r in rows)
    ids = spans if has_spans and len(set(spans)) == len(spans) else [f"line{r['line']}" for r in rows]
    for row, prompt_id in zip(rows, ids, strict=True):
        row.update(prompt_id=prompt_id, group=None)
    columns = ["prompt_id", "prompt", "group", "prompt_toxicity", "continuation", "challenging", "filename", "begin",
               "end"]  # fmt: skip
    return _frame(rows, columns, optional=("group", "continuation", "filename", "begin", "end"))


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
def _frame(rows: list[dict], columns: list[str], optional: tuple[str, ...]) -> pd.DataFrame:
    """A DataFrame of ``rows``; the ``optional`` columns keep None for a missing value (object dtype, as the
    ``group`` of ``read_prompts``), where pandas would turn it into NaN."""
    return pd.DataFrame(
        {c: pd.Series([r[c] for r in rows], dtype=object if c in optional else None) for c in columns}
    )


def _descriptor(entry: Any, path: Path, where: str) -> dict[str, str | None]:
    if isinstance(entry, str):
        return {"descriptor": entry, "preference": None}
    if isinstance(entry, dict) and isinstance(entry.get("descriptor"), str):
        preference = entry.get("preference")
        return {"descriptor": entry["descriptor"], "preference": None if preference is None else str(preference)}
    raise ValueError(
        f"{_name(path)}: {where} has the entry {entry!r}, which lacks the key 'descriptor'; {_HB_LAYOUT}."
    )


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
