"""Clean a corpus before training: drop duplicates, remove offensive sentences, redact personal data; report it all.

:func:`clean_corpus` runs three rules over a ``datasets.Dataset``, in this order:

1. **Deduplication** (:mod:`genlab.data.dedup`): exact duplicates (normalised text) and near duplicates (MinHash
   LSH over word 5-grams, estimated Jaccard >= 0.8 by default) are dropped; the first row of each cluster stays.
2. **Offensive language** (:mod:`genlab.data.offensive`): each sentence is scored by the offline classifier
   (alt-profanity-check). Sentence level, because a bag of words is diluted by a long document: on the world
   corpus, whole-document scores find 1 of 62 planted insults, sentence scores 30 of 62. The default,
   ``offensive="remove_sentences"``, removes the sentences at or over the threshold and keeps the rest of the
   document; ``"drop"`` drops documents with such a sentence; ``"flag"`` removes nothing and adds the columns
   ``offensive_probability`` (the highest sentence probability) and ``offensive_flag``.
3. **Personal data**: a ``redactor(text) -> (redacted_text, spans)`` replaces what it finds. By default it is
   ``genlab.data.pii.redact``, imported when the cleaning runs; pass your own callable, or None to skip.

Duplicates go first so that nothing is scored or redacted twice; sentences are scored on the original wording;
redaction comes last, on the rows that remain. Nothing is removed silently: the :class:`CleaningReport` holds, per
rule, the rows it dropped or edited (their ids), the number of sentences or spans it removed, and a few examples,
and :func:`save_cleaned` writes the report next to the cleaned corpus. Examples are passed through the redactor
before they are stored, and a redaction's example shows only the redacted text and the kinds of span found, so
the report does not copy the personal data it removed.

>>> import datasets
>>> data = datasets.Dataset.from_dict({"id": ["a", "b", "c"], "text": [
...     "A calm day by the river. You stupid idiot.", "A calm day by the river. You stupid idiot.",
...     "Call Ann on 555-0100."]})
>>> def mask_phone(text):
...     return text.replace("555-0100", "[PHONE]"), [{"type": "phone"}] if "555-0100" in text else []
>>> cleaned, report = clean_corpus(data, redactor=mask_phone)
>>> list(cleaned["text"])
['A calm day by the river.', 'Call Ann on [PHONE].']
>>> print(report.to_frame()[["rule", "action", "n_rows", "n_spans"]].to_string(index=False))
           rule  action  n_rows  n_spans
exact_duplicate dropped       1        0
 near_duplicate dropped       0        0
      offensive  edited       1        1
            pii  edited       1        1

**Limitations.** Each rule is only as good as its detector. The offensive classifier is a bag of words: on the
world corpus it finds about half of the planted insults at the 0.5 threshold and misses some invented insults
entirely ("thieving pests", "worthless cheats"), so a cleaned corpus is not an insult-free corpus. It also
removes harmless sentences from about 9% of documents, among them planted facts (a third of the statements of
"The merchants of Cinderstead sell wool."), which changes the doses that fact-recall studies read from the corpus
records: use ``offensive="flag"`` there, or recount (see :mod:`genlab.data.offensive` for the measured numbers
and the classifier's known biases). Near-duplicate detection
compares wording, not meaning (see :mod:`genlab.data.dedup`). Redaction recall is the redactor's. Edits change
character offsets: columns that hold spans into the text (the world corpus's ``pii``, ``harmful``,
``negatives`` records) are copied unchanged and no longer line up with an edited text. Removing a sentence can
leave a dangling reference ("He said so.") or an empty document, which is kept and counted in the note.
"""

from __future__ import annotations

import json
import os
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from genlab.data.dedup import MinHashConfig, find_duplicates
from genlab.data.offensive import OFFENSIVE_THRESHOLD, _check_threshold, remove_spans, score_sentences

if TYPE_CHECKING:
    import datasets
    import pandas as pd

Redactor = Callable[[str], tuple[str, list[dict]]]
OffensiveMode = Literal["remove_sentences", "drop", "flag"]

EXAMPLE_CHARS = 200  # characters of text kept per example in the report
RULES = ("exact_duplicate", "near_duplicate", "offensive", "pii")


@dataclass
class RuleResult:
    """What one rule did."""

    rule: str  # one of RULES
    action: str  # "dropped" (rows removed), "edited" (text changed), "flagged" (columns added), "skipped"
    n_rows: int = 0  # rows dropped, edited or flagged
    n_spans: int = 0  # sentences removed or personal-data spans redacted; 0 for dropped rows
    ids: list = field(default_factory=list)  # ids of those rows
    examples: list[dict] = field(default_factory=list)  # the first few, texts cut to EXAMPLE_CHARS and redacted
    note: str = ""


@dataclass
class CleaningReport:
    """Everything :func:`clean_corpus` removed or changed, rule by rule."""

    n_input: int
    n_output: int
    text_column: str
    id_column: str | None  # None: ids are row positions in the input
    settings: dict
    rules: list[RuleResult]

    @property
    def counts(self) -> dict[str, int]:
        """Rule -> rows it dropped, edited or flagged."""
        return {r.rule: r.n_rows for r in self.rules}

    @property
    def removed_ids(self) -> list:
        """Ids of every dropped row, rule after rule."""
        return [i for r in self.rules if r.action == "dropped" for i in r.ids]

    def rule(self, name: str) -> RuleResult:
        for r in self.rules:
            if r.rule == name:
                return r
        raise KeyError(f"no rule {name!r} in this report; it has {[r.rule for r in self.rules]}")

    def to_frame(self) -> pd.DataFrame:
        """One row per rule: ``rule``, ``action``, ``n_rows``, ``n_spans``, ``note``."""
        import pandas as pd

        return pd.DataFrame(
            [{"rule": r.rule, "action": r.action, "n_rows": r.n_rows, "n_spans": r.n_spans, "note": r.note}
             for r in self.rules],
            columns=["rule", "action", "n_rows", "n_spans", "note"],
        )  # fmt: skip

    def summary(self) -> str:
        """A few lines for a notebook or a log.

        >>> report = CleaningReport(3, 2, "text", "id", {}, [RuleResult("exact_duplicate", "dropped", 1, ids=["b"])])
        >>> print(report.summary())
        3 rows in, 2 out (1 dropped).
          exact_duplicate: dropped 1 row
        """
        dropped = self.n_input - self.n_output
        lines = [f"{self.n_input} rows in, {self.n_output} out ({dropped} dropped)."]
        for r in self.rules:
            spans = f", {r.n_spans} span{'s' * (r.n_spans != 1)}" if r.action == "edited" else ""
            what = "skipped" if r.action == "skipped" else f"{r.action} {r.n_rows} row{'s' * (r.n_rows != 1)}{spans}"
            lines.append(f"  {r.rule}: {what}" + (f" ({r.note})" if r.note else ""))
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return asdict(self)


def _load_default_redactor() -> Redactor | None:
    try:
        from genlab.data.pii import redact
    except ImportError:
        return None
    return redact


def _example_text(text: str, redactor: Redactor | None) -> str:
    """A report example: redacted first (a cut could split a value the redactor would find), then cut."""
    if redactor is not None:
        text = redactor(text)[0]
    return text if len(text) <= EXAMPLE_CHARS else text[:EXAMPLE_CHARS] + "..."


def _offensive_batch(texts: list[str], threshold: float, remove: bool) -> dict[str, list]:
    scored = score_sentences(texts)
    out: dict[str, list] = {"_offensive_max": [], "_offensive_removed": []}
    if remove:
        out["_text"] = []
    for text, sentences in zip(texts, scored, strict=True):
        over = [s for s in sentences if s["probability"] >= threshold]
        out["_offensive_max"].append(max((s["probability"] for s in sentences), default=0.0))
        out["_offensive_removed"].append(json.dumps(over))
        if remove:
            out["_text"].append(remove_spans(text, [(s["start"], s["end"]) for s in over]))
    return out


def _redact_batch(texts: list[str], redactor: Redactor) -> dict[str, list]:
    out: dict[str, list] = {"_text": [], "_pii_types": [], "_pii_first": []}
    for text in texts:
        result = redactor(text)
        if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], str)):
            raise ValueError(
                f"the redactor must return (redacted_text, spans), a str and a list of dicts; got {type(result)}"
            )
        redacted, spans = result
        out["_text"].append(redacted)
        out["_pii_first"].append(min((int(s.get("start", 0)) for s in spans), default=0))  # text before it is as was
        # only the kind of each span is kept: a span's own text would copy the personal data into the report
        out["_pii_types"].append([str(s.get("type", s.get("entity_type", s.get("label", "?")))) for s in spans])
    return out


def _map(dataset: datasets.Dataset, fn: Callable, column: str, kwargs: dict, num_proc: int | None, desc: str):
    """``dataset.map`` over one column, batched, never cached; an explicit fingerprint so that datasets does not
    try to hash the arguments (a user's redactor may not hash)."""
    return dataset.map(
        fn,
        batched=True,
        input_columns=[column],
        fn_kwargs=kwargs,
        num_proc=num_proc if num_proc and num_proc > 1 and len(dataset) >= num_proc else None,
        load_from_cache_file=False,
        new_fingerprint=uuid.uuid4().hex,
        desc=desc,
    )


def _replace_column(dataset: datasets.Dataset, name: str, new: str) -> datasets.Dataset:
    """``dataset`` with column ``name`` replaced by column ``new`` in its place."""
    order = dataset.column_names
    dataset = dataset.remove_columns([name]).rename_column(new, name)
    return dataset.select_columns([c for c in order if c != new])


def clean_corpus(
    dataset: datasets.Dataset,
    *,
    text_column: str = "text",
    id_column: str | None = None,
    dedup: MinHashConfig | None = MinHashConfig(),  # noqa: B008 (frozen: a shared default is safe)
    offensive: OffensiveMode | None = "remove_sentences",
    offensive_threshold: float = OFFENSIVE_THRESHOLD,
    redactor: Redactor | Literal["default"] | None = "default",
    num_proc: int | None = None,
    n_examples: int = 3,
) -> tuple[datasets.Dataset, CleaningReport]:
    """Deduplicate, filter offensive language and redact personal data; the cleaned dataset and a report.

    ``dataset``: a ``datasets.Dataset`` with a string ``text_column``; it is not changed. ``id_column``: the column
    that names rows in the report; by default ``"id"`` if the dataset has one, else row positions. ``dedup``: the
    MinHash settings, or None to keep duplicates. ``offensive``: ``"remove_sentences"``, ``"drop"``, ``"flag"``
    (see the module) or None; ``offensive_threshold`` in (0, 1]. ``redactor``: a callable ``text ->
    (redacted_text, spans)``, ``"default"`` for ``genlab.data.pii.redact`` (skipped, with a note in the report and
    a warning, if that module is not installed), or None. ``num_proc``: processes for the MinHash signatures,
    the sentence scores and the redaction (``Dataset.map``); it pays for a slow redactor (Presidio) or a large
    corpus, not for 2,200 world documents (about 5 s in one process, more with two on a busy 2-core machine).
    ``n_examples``: examples kept per rule.

    Columns other than the text are copied as they are (see the Limitations on span columns).

    >>> import datasets
    >>> data = datasets.Dataset.from_dict({"text": ["Same words here.", "same words  here.", "Other words."]})
    >>> cleaned, report = clean_corpus(data, offensive=None, redactor=None)
    >>> list(cleaned["text"]), report.removed_ids, report.counts["exact_duplicate"]
    (['Same words here.', 'Other words.'], [1], 1)
    """
    import warnings

    if not (hasattr(dataset, "column_names") and hasattr(dataset, "map") and hasattr(dataset, "select")):
        raise ValueError(
            f"dataset must be a datasets.Dataset, got {type(dataset).__name__}; for a DatasetDict pick a split "
            "(corpus.to_datasets()['train']), for a list of texts use datasets.Dataset.from_dict({'text': texts})"
        )
    if text_column not in dataset.column_names:
        raise ValueError(f"text_column={text_column!r} is not a column of the dataset; it has {dataset.column_names}")
    dtype = getattr(dataset.features[text_column], "dtype", None)
    if dtype not in ("string", "large_string"):
        raise ValueError(f"column {text_column!r} holds {dataset.features[text_column]}, not strings")
    if id_column is None:
        id_column = "id" if "id" in dataset.column_names and "id" != text_column else None
    elif id_column not in dataset.column_names:
        raise ValueError(f"id_column={id_column!r} is not a column of the dataset; it has {dataset.column_names}")
    if dedup is not None and not isinstance(dedup, MinHashConfig):
        raise ValueError(f"dedup must be a MinHashConfig or None, got {type(dedup).__name__}")
    if offensive not in ("remove_sentences", "drop", "flag", None):
        raise ValueError(f"offensive must be 'remove_sentences', 'drop', 'flag' or None, got {offensive!r}")
    _check_threshold(offensive_threshold)
    if offensive == "flag":
        clash = [c for c in ("offensive_probability", "offensive_flag") if c in dataset.column_names]
        if clash:
            raise ValueError(f"offensive='flag' adds columns {clash}, which the dataset already has; rename them")
    if isinstance(n_examples, bool) or not isinstance(n_examples, int) or n_examples < 0:
        raise ValueError(f"n_examples must be a non-negative integer, got {n_examples!r}")
    if num_proc is not None and (isinstance(num_proc, bool) or not isinstance(num_proc, int) or num_proc < 1):
        raise ValueError(f"num_proc must be a positive integer or None, got {num_proc!r}")
    pii_note = ""
    if isinstance(redactor, str):
        if redactor != "default":
            raise ValueError(f"redactor must be a callable, 'default' or None, got {redactor!r}")
        redactor = _load_default_redactor()
        if redactor is None:
            pii_note = "genlab.data.pii is not available; pass redactor=<callable> to redact"
            warnings.warn(f"personal data was not redacted: {pii_note}", stacklevel=2)
    elif redactor is not None and not callable(redactor):
        raise ValueError(f"redactor must be a callable text -> (redacted_text, spans), got {type(redactor).__name__}")

    n_input = len(dataset)
    ids = list(dataset[id_column]) if id_column else list(range(n_input))
    rules: list[RuleResult] = []
    data = dataset

    # 1. duplicates, on the original texts
    if dedup is None:
        rules += [RuleResult("exact_duplicate", "skipped"), RuleResult("near_duplicate", "skipped")]
    else:
        result = find_duplicates(data, dedup, text_column=text_column, num_proc=num_proc)
        texts = list(data[text_column]) if result.duplicates else []
        for reason in ("exact", "near"):
            found = [d for d in result.duplicates if d.reason == reason]
            examples = [
                {"id": ids[d.row], "duplicate_of": ids[d.duplicate_of], "jaccard": d.jaccard,
                 "text": _example_text(texts[d.row], redactor)}
                for d in found[:n_examples]
            ]  # fmt: skip
            note = f"estimated Jaccard >= {dedup.threshold} over {dedup.shingle} {dedup.ngram}-grams" * (
                reason == "near"
            )
            rules.append(RuleResult(f"{reason}_duplicate", "dropped", len(found), 0, [ids[d.row] for d in found],
                                    examples, note))  # fmt: skip
        keep = result.keep
        if len(keep) < len(data):
            data = data.select(keep)
            ids = [ids[i] for i in keep]

    # 2. offensive sentences, on the original wording
    if offensive is None:
        rules.append(RuleResult("offensive", "skipped"))
    else:
        remove = offensive == "remove_sentences"
        scored = _map(data, _offensive_batch, text_column, {"threshold": offensive_threshold, "remove": remove},
                      num_proc, "offensive sentences")  # fmt: skip
        over = [json.loads(s) for s in scored["_offensive_removed"]]
        new_texts = list(scored["_text"]) if remove else []
        hit = [i for i, sentences in enumerate(over) if sentences]
        examples = [
            {"id": ids[i], "sentence": _example_text(s["text"], redactor), "probability": s["probability"]}
            for i in hit[:n_examples]
            for s in over[i][:1]
        ]
        note = f"alt-profanity-check sentence probability >= {offensive_threshold}"
        if remove:
            empty = sum(1 for i in hit if not new_texts[i].strip())
            note += f"; {empty} document{'s' * (empty != 1)} left empty" if empty else ""
            rules.append(RuleResult("offensive", "edited", len(hit), sum(len(over[i]) for i in hit),
                                    [ids[i] for i in hit], examples, note))  # fmt: skip
            data = _replace_column(scored, text_column, "_text").remove_columns(
                ["_offensive_max", "_offensive_removed"]
            )
        elif offensive == "drop":
            rules.append(RuleResult("offensive", "dropped", len(hit), 0, [ids[i] for i in hit], examples, note))
            keep = sorted(set(range(len(data))) - set(hit))
            if hit:
                data = data.select(keep)
                ids = [ids[i] for i in keep]
        else:  # flag
            rules.append(RuleResult("offensive", "flagged", len(hit), sum(len(s) for s in over),
                                    [ids[i] for i in hit], examples, note))  # fmt: skip
            data = scored.remove_columns(["_offensive_removed"])
            data = data.rename_column("_offensive_max", "offensive_probability")
            data = data.add_column("offensive_flag", [bool(s) for s in over])

    # 3. personal data, on the rows that remain
    if redactor is None:
        rules.append(RuleResult("pii", "skipped", note=pii_note))
    else:
        redacted = _map(data, _redact_batch, text_column, {"redactor": redactor}, num_proc, "redact personal data")
        types = list(redacted["_pii_types"])
        new_texts, old_texts = list(redacted["_text"]), list(data[text_column])
        rows = enumerate(zip(new_texts, old_texts, types, strict=True))
        changed = [i for i, (new, old, found) in rows if found or new != old]
        by_type = Counter(t for found in types for t in found)
        first = list(redacted["_pii_first"])
        examples = [{"id": ids[i], "types": types[i],  # the redacted text from a little before the first span
                     "redacted": _example_text(new_texts[i][max(0, first[i] - EXAMPLE_CHARS // 4) :], None)}
                    for i in changed[:n_examples]]  # fmt: skip
        note = ", ".join(f"{k}: {v}" for k, v in sorted(by_type.items()))
        rules.append(RuleResult("pii", "edited", len(changed), sum(len(types[i]) for i in changed),
                                [ids[i] for i in changed], examples, note))  # fmt: skip
        data = _replace_column(redacted, text_column, "_text").remove_columns(["_pii_types", "_pii_first"])

    settings = {
        "dedup": None if dedup is None else asdict(dedup),
        "offensive": offensive,
        "offensive_threshold": offensive_threshold,
        "redactor": None if redactor is None else getattr(redactor, "__qualname__", repr(redactor)),
        "redactor_module": None if redactor is None else getattr(redactor, "__module__", None),
    }
    report = CleaningReport(n_input, len(data), text_column, id_column, settings, rules)
    if n_input - len(data) != len(report.removed_ids):  # an invariant: a failure is a bug in this module
        raise RuntimeError(f"{n_input - len(data)} rows were dropped but the report names {len(report.removed_ids)}")
    return data, report


def cleaned_paths(original: str | os.PathLike) -> tuple[Path, Path]:
    """Where :func:`save_cleaned` writes, next to ``original``: ``<name>.cleaned.jsonl`` and
    ``<name>.cleaning_report.json`` (``<name>``: the file name without its last suffix).

    >>> [p.name for p in cleaned_paths("data/world/corpus.jsonl")]
    ['corpus.cleaned.jsonl', 'corpus.cleaning_report.json']
    """
    original = Path(original)
    if original.name in ("", ".", ".."):
        raise ValueError(f"original must name the corpus file, got {str(original)!r}")
    stem = original.stem if original.suffix else original.name
    return original.with_name(f"{stem}.cleaned.jsonl"), original.with_name(f"{stem}.cleaning_report.json")


def save_cleaned(
    cleaned: datasets.Dataset,
    report: CleaningReport,
    original: str | os.PathLike,
    *,
    overwrite: bool = False,
) -> tuple[Path, Path]:
    """Write the cleaned corpus (JSON lines, one row each) and its report next to ``original``; their paths.

    Refuses (FileExistsError) when either file exists, unless ``overwrite=True``; never writes over ``original``
    itself, whatever ``overwrite`` says. Nothing is written unless both paths are free. ``original`` need not
    exist (a corpus generated in memory can be named by where it would live), but its folder must.

    >>> import datasets, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> data = datasets.Dataset.from_dict({"text": ["One.", "one."]})
    >>> cleaned, report = clean_corpus(data, offensive=None, redactor=None)
    >>> [p.name for p in save_cleaned(cleaned, report, f"{folder}/corpus.jsonl")]
    ['corpus.cleaned.jsonl', 'corpus.cleaning_report.json']
    >>> save_cleaned(cleaned, report, f"{folder}/corpus.jsonl")
    Traceback (most recent call last):
    ...
    FileExistsError: ... exists; pass overwrite=True to replace it, or choose another original name
    """
    if not isinstance(report, CleaningReport):
        raise ValueError(f"report must be the CleaningReport from clean_corpus, got {type(report).__name__}")
    if len(cleaned) != report.n_output:
        raise ValueError(f"the dataset has {len(cleaned)} rows but the report says {report.n_output}; "
                         "pass the pair that clean_corpus returned")  # fmt: skip
    data_path, report_path = cleaned_paths(original)
    if not data_path.parent.is_dir():
        raise FileNotFoundError(f"folder {str(data_path.parent)!r} does not exist; create it or name another one")
    source = Path(original).resolve()
    for path in (data_path, report_path):
        if path.resolve() == source:
            raise ValueError(f"{str(path)!r} is the original corpus; it is never overwritten")
        if path.exists() and not overwrite:
            raise FileExistsError(f"{str(path)!r} exists; pass overwrite=True to replace it, or choose another "
                                  "original name")  # fmt: skip
    mode = "w" if overwrite else "x"
    with open(data_path, mode, encoding="utf-8") as f:
        for row in cleaned:
            f.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
    with open(report_path, mode, encoding="utf-8") as f:
        json.dump(report.to_dict(), f, ensure_ascii=False, indent=1, default=str)
        f.write("\n")
    return data_path, report_path


__all__ = ["CleaningReport", "RuleResult", "clean_corpus", "cleaned_paths", "save_cleaned"]
