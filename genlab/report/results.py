"""``results.json``: what a run of the notebook series found, machine-readable, with a versioned schema.

Schema version 1 (``SCHEMA_VERSION``; the dataclasses below say what each field holds, ``JSON_SCHEMA`` is the
same as a JSON Schema, draft 2020-12)::

    {
      "schema_version": 1,
      "title": "genlab notebook series",
      "created": "2026-11-30T12:00:00+00:00",          # UTC, when the report was built
      "provenance": {
        "python": "3.11.7", "platform": "Linux-...",
        "packages": {"torch": "2.13.0", "transformers": "5.24.0", "datasets": ..., "peft": ..., "genlab": ...},
        "git": {"commit": "7395414...", "branch": "layout", "dirty": true},
        "models": [{"name": "genlab-tiny-world", "source": "genlab-tiny-world", "notebooks": ["02_...", ...],
                    "weights_sha256": "...", "manifest": {"n_parameters": ..., "corpus": {"sha256": ...}, ...}}],
        "data_hashes": [{"what": "training corpus (genlab-tiny-world manifest)", "sha256": "45cb...",
                         "source": "data/models/genlab-tiny-world/manifest.json"}, ...],
        "command": "python -m genlab.report.series report --out reports",
        "wall_time_s": 412.3                              # all notebooks together
      },
      "notebooks": [{
        "name": "20_decoding_and_repetition.ipynb", "number": "20", "title": "Decoding and repetition",
        "summary": "...", "status": "ok",                 # or "failed: CellExecutionError"
        "wall_time_s": 61.2,
        "parameters": {"N_PROMPTS": 16, "SEED": 0, ...},  # the parameters cell (and any injected values)
        "checkpoints": [{"cell": 7, "section": "Prompts and human continuations", "text": "16 prompts; ..."}],
        "figures": [{"cell": 14, "section": "The trade-off", "name": "tradeoff_figure", "title": "...",
                     "n_traces": 8}],
        "tables": [{"cell": 9, "section": "The study", "name": "study", "kind": "table",
                    "columns": ["system", "perplexity", ...], "index_columns": ["system"],
                    "records": [{"system": "greedy", "perplexity": 1.9, ...}, ...]}],
        "numbers": [{"cell": 11, "section": "The study", "name": "n_prompts", "value": 16}],
        "limitations": "- **Scale.** 16 prompts ...",     # markdown
        "stderr": ["cell 9: ..."],                        # stderr lines no allow-list entry explains
        "errors": [{"cell": 12, "ename": "ValueError", "evalue": "..."}],
        "data_hashes": [{"cell": 3, "sha256": "...", "context": "corpus sha256 ..."}]
      }, ...]
    }

``figures``, ``tables`` and ``numbers`` are what the notebook recorded with ``genlab.report.record``, each under
its ``name`` (``section`` is the markdown heading above the recording cell, for context only). Values in
``records`` are the recorded DataFrame's values (round in the notebook what should be shown rounded), ``null`` for
NaN; columns follow genlab's naming convention (``x``, ``x_low``, ``x_high``; ``p_value``; ``n``).
All text has been through the report's masker (canary secrets and planted personal data replaced).

A change that removes or renames a field, or changes its meaning, raises ``SCHEMA_VERSION``; :func:`load_results`
refuses any other version with a clear error. Adding a field does not.

>>> results = RunResults(title="demo", created="2026-01-01T00:00:00+00:00", provenance={}, notebooks=[])
>>> load_results(results.to_dict()).title
'demo'
>>> load_results({"schema_version": 99, "notebooks": []})
Traceback (most recent call last):
...
ValueError: results: schema_version 99, but this genlab reads schema_version 1 (rebuild the results ...)
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from genlab.core.paths import REPO_DIR

__all__ = [
    "JSON_SCHEMA",
    "PACKAGES",
    "SCHEMA_VERSION",
    "NotebookResult",
    "RunResults",
    "git_info",
    "load_results",
    "model_provenance",
    "package_versions",
    "save_results",
]

SCHEMA_VERSION = 1
PACKAGES = (
    "torch",
    "transformers",
    "tokenizers",
    "datasets",
    "peft",
    "accelerate",
    "numpy",
    "pandas",
    "plotly",
    "genlab",
)


class CheckpointRecord(TypedDict):
    cell: int  # index of the cell in the notebook
    section: str  # the nearest markdown heading above the cell
    text: str  # what the checkpoint printed


class FigureRecord(TypedDict):
    cell: int
    section: str
    name: str  # the name it was recorded under
    title: str  # the figure's layout title ("" if it has none)
    n_traces: int


class TableRecord(TypedDict):
    cell: int
    section: str
    name: str  # the name it was recorded under
    kind: str  # "table" ("dataframe" or "series" in results made before records: see genlab.report.full)
    columns: list[str]  # index columns first; MultiIndex column levels joined with " / "
    index_columns: list[str]
    records: list[dict]  # one per row, {column: value}


class NumberRecord(TypedDict):
    cell: int
    section: str
    name: str
    value: float | int | None


@dataclass
class NotebookResult:
    """One executed notebook of the series."""

    name: str  # file name, e.g. "20_decoding_and_repetition.ipynb"
    number: str  # "20"
    title: str  # from the first cell's "# NN · Title"
    summary: str = ""  # the first line under the title
    status: str = "ok"  # "ok", or "failed: <exception type>"
    wall_time_s: float | None = None  # seconds to execute the notebook (kernel start included)
    parameters: dict[str, Any] = field(default_factory=dict)  # the parameters cell's values (injected ones applied)
    checkpoints: list[CheckpointRecord] = field(default_factory=list)  # cells tagged nbval-check-output
    figures: list[FigureRecord] = field(default_factory=list)  # every recorded plotly figure, in order
    tables: list[TableRecord] = field(default_factory=list)  # every recorded DataFrame (or Series), in order
    limitations: str = ""  # markdown of the Limitations section
    stderr: list[str] = field(default_factory=list)  # unexpected stderr lines ("cell N: line")
    errors: list[dict] = field(default_factory=list)  # {"cell", "ename", "evalue"} of failed cells
    data_hashes: list[dict] = field(default_factory=list)  # {"cell", "sha256", "context"} printed by the notebook
    numbers: list[NumberRecord] = field(default_factory=list)  # every recorded number, in order


@dataclass
class RunResults:
    """A run of (part of) the notebook series: provenance and one :class:`NotebookResult` per notebook."""

    title: str
    created: str  # ISO 8601, UTC
    provenance: dict[str, Any]  # python, platform, packages, git, models, data_hashes, command, wall_time_s
    notebooks: list[NotebookResult]
    schema_version: int = SCHEMA_VERSION

    def notebook(self, name: str) -> NotebookResult:
        """The notebook called ``name`` (a file name, or its number "20")."""
        for nb in self.notebooks:
            if name in (nb.name, nb.number, Path(nb.name).stem):
                return nb
        raise KeyError(f"no notebook {name!r} in these results; they hold {[nb.name for nb in self.notebooks]}")

    def to_dict(self) -> dict:
        d = asdict(self)
        return {"schema_version": d.pop("schema_version"), **d}


def save_results(results: RunResults, path: str | os.PathLike) -> Path:
    """Write ``results`` as JSON (UTF-8, sorted as the schema lists the fields); return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(results.to_dict(), indent=1, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8"
    )
    return path


def load_results(source: str | os.PathLike | dict | RunResults) -> RunResults:
    """Read a ``results.json`` (a path, its parsed dict, or :class:`RunResults` as is) and check its schema.

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` for a file that is not JSON, not a genlab
    results file, or of another schema version.
    """
    if isinstance(source, RunResults):
        return source
    where = "results"
    if not isinstance(source, dict):
        path = Path(source)
        where = str(path)
        if path.is_dir():
            path = path / "results.json"
            where = str(path)
        if not path.is_file():
            raise FileNotFoundError(
                f"no results file at {path}; build one with "
                "`python -m genlab.report.series report --out DIR` (it writes DIR/results.json)"
            )
        try:
            source = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise ValueError(f"{path} is not JSON ({e}); expected a genlab results.json") from e
    if not isinstance(source, dict) or "schema_version" not in source:
        raise ValueError(f"{where} is not a genlab results file: it has no 'schema_version' field")
    if source["schema_version"] != SCHEMA_VERSION:
        raise ValueError(
            f"{where}: schema_version {source['schema_version']!r}, but this genlab reads schema_version "
            f"{SCHEMA_VERSION} (rebuild the results with this version of genlab)"
        )
    missing = [k for k in ("title", "created", "provenance", "notebooks") if k not in source]
    if missing:
        raise ValueError(f"{where} lacks the field(s) {missing} that schema_version {SCHEMA_VERSION} requires")
    known = set(NotebookResult.__dataclass_fields__)
    notebooks = []
    for i, nb in enumerate(source["notebooks"]):
        if not isinstance(nb, dict) or not {"name", "number", "title"} <= set(nb):
            raise ValueError(f"{where}: notebook entry {i} needs 'name', 'number' and 'title'")
        notebooks.append(NotebookResult(**{k: v for k, v in nb.items() if k in known}))
    return RunResults(
        title=source["title"], created=source["created"], provenance=source["provenance"], notebooks=notebooks
    )


# --- provenance --------------------------------------------------------------------------------------------------
def package_versions(packages: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    """Installed version of each package (``None`` if it is not installed), without importing them.

    >>> sorted(package_versions(("genlab", "surely-not-installed")).items())
    [('genlab', '0.1.0'), ('surely-not-installed', None)]
    """
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {}
    for name in packages:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def git_info(repo: Path = REPO_DIR) -> dict[str, Any]:
    """``{"commit", "branch", "dirty"}`` of the checkout at ``repo`` (``None`` values where git is unavailable).

    ``dirty``: whether tracked or untracked files differ from the commit, so the commit alone does not say what ran.
    """

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    status = git("status", "--porcelain")
    return {
        "commit": git("rev-parse", "HEAD"),
        "branch": git("rev-parse", "--abbrev-ref", "HEAD"),
        "dirty": None if status is None else bool(status),
    }


MANIFEST_KEYS = (
    "name",
    "architecture",
    "n_parameters",
    "model_config",
    "pretrain_config",
    "corpus",
    "world",
    "tokenizer",
    "validation",
    "recipe",
)  # not its sample generations: model output, and long


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def model_provenance(source: str) -> dict[str, Any]:
    """What is known about model ``source`` (a notebook's ``MODEL`` value) without loading it: for a local folder
    (or the default ``"genlab-tiny-world"``), its manifest's main fields and the sha256 of its weights.

    >>> p = model_provenance("genlab-tiny-world")
    >>> p["name"], len(p["manifest"]["corpus"]["sha256"]), len(p["weights_sha256"])
    ('genlab-tiny-world', 64, 64)
    """
    from genlab.core.paths import default_model_dir
    from genlab.models import DEFAULT_MODEL

    path = default_model_dir() if source == DEFAULT_MODEL else Path(os.path.expanduser(source))
    out: dict[str, Any] = {
        "name": path.name if path.is_dir() else source,
        "source": source,
        "local": path.is_dir(),
        "weights_sha256": None,
        "manifest": None,
    }
    if not path.is_dir():
        return out  # a hub id: its revision is whatever the hub served
    weights = path / "model.safetensors"
    if weights.is_file():
        out["weights_sha256"] = _sha256_file(weights)
    manifest = path / "manifest.json"
    if manifest.is_file():
        m = json.loads(manifest.read_text(encoding="utf-8"))
        out["manifest"] = {k: m[k] for k in MANIFEST_KEYS if k in m}
    return out


def provenance(
    notebooks: list[NotebookResult], *, command: str | None = None, wall_time_s: float | None = None
) -> dict[str, Any]:
    """The run's provenance: interpreter, packages, git, the models the notebooks' ``MODEL`` parameters name (the
    default model always), data hashes from their manifests and from the notebooks' printouts."""
    from genlab.models import DEFAULT_MODEL

    sources: dict[str, list[str]] = {DEFAULT_MODEL: []}
    for nb in notebooks:
        model = nb.parameters.get("MODEL")
        if isinstance(model, str):
            sources.setdefault(model, []).append(nb.name)
    models = [{**model_provenance(s), "notebooks": names} for s, names in sources.items()]
    hashes = []
    for m in models:
        man = m.get("manifest") or {}
        where = f"{m['source']} manifest.json"
        if man.get("corpus", {}).get("sha256"):
            c = man["corpus"]
            hashes.append(
                {
                    "what": f"training corpus of {m['name']} (seed {c.get('seed')}, "
                    f"generator v{c.get('generator_version')})",
                    "sha256": c["sha256"],
                    "source": where,
                }
            )
        if man.get("world", {}).get("spec_sha256"):
            hashes.append(
                {
                    "what": f"world specification of {m['name']} (seed {man['world'].get('seed')})",
                    "sha256": man["world"]["spec_sha256"],
                    "source": where,
                }
            )
        if m.get("weights_sha256"):
            hashes.append(
                {
                    "what": f"weights of {m['name']} (model.safetensors)",
                    "sha256": m["weights_sha256"],
                    "source": m["source"],
                }
            )
    for nb in notebooks:
        for h in nb.data_hashes:
            hashes.append(
                {"what": h.get("context", ""), "sha256": h["sha256"], "source": f"{nb.name}, cell {h['cell']}"}
            )
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": package_versions(),
        "git": git_info(),
        "models": models,
        "data_hashes": hashes,
        "command": command if command is not None else _command(),
        "wall_time_s": wall_time_s,
    }


def _command() -> str:
    """How this process was started, for the record (a kernel's own command line says nothing useful)."""
    if "ipykernel" in Path(sys.argv[0]).name:
        return "genlab.report.build.build_report, called in a Jupyter kernel"
    return " ".join(["python", Path(sys.argv[0]).name, *sys.argv[1:]])


# --- the JSON Schema -----------------------------------------------------------------------------------------------
_CELL = {"cell": {"type": "integer", "minimum": 0}, "section": {"type": "string"}}
JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "genlab-results-v1",
    "title": "genlab report results (results.json), schema version 1",
    "type": "object",
    "required": ["schema_version", "title", "created", "provenance", "notebooks"],
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "title": {"type": "string"},
        "created": {"type": "string", "description": "ISO 8601 time (UTC) the report was built"},
        "provenance": {
            "type": "object",
            "required": ["python", "packages", "git", "models", "data_hashes", "wall_time_s"],
            "properties": {
                "python": {"type": "string"},
                "platform": {"type": "string"},
                "packages": {"type": "object", "additionalProperties": {"type": ["string", "null"]}},
                "git": {
                    "type": "object",
                    "properties": {
                        "commit": {"type": ["string", "null"]},
                        "branch": {"type": ["string", "null"]},
                        "dirty": {"type": ["boolean", "null"]},
                    },
                },
                "models": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["name", "source", "manifest", "weights_sha256"],
                        "properties": {
                            "name": {"type": "string"},
                            "source": {"type": "string"},
                            "notebooks": {"type": "array", "items": {"type": "string"}},
                            "weights_sha256": {"type": ["string", "null"]},
                            "manifest": {"type": ["object", "null"]},
                        },
                    },
                },
                "data_hashes": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["what", "sha256", "source"],
                        "properties": {
                            "what": {"type": "string"},
                            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                            "source": {"type": "string"},
                        },
                    },
                },
                "command": {"type": "string"},
                "wall_time_s": {"type": ["number", "null"]},
            },
        },
        "notebooks": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "name",
                    "number",
                    "title",
                    "status",
                    "wall_time_s",
                    "parameters",
                    "checkpoints",
                    "figures",
                    "tables",
                    "limitations",
                    "stderr",
                    "errors",
                ],
                "properties": {
                    "name": {"type": "string"},
                    "number": {"type": "string"},
                    "title": {"type": "string"},
                    "summary": {"type": "string"},
                    "status": {"type": "string", "pattern": "^(ok|failed: .+)$"},
                    "wall_time_s": {"type": ["number", "null"]},
                    "parameters": {"type": "object"},
                    "checkpoints": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["cell", "section", "text"],
                            "properties": {**_CELL, "text": {"type": "string"}},
                        },
                    },
                    "figures": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["cell", "section", "title", "n_traces"],
                            "properties": {
                                **_CELL,
                                "name": {"type": ["string", "null"]},
                                "title": {"type": "string"},
                                "n_traces": {"type": "integer"},
                            },
                        },
                    },
                    "tables": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["cell", "section", "kind", "columns", "index_columns", "records"],
                            "properties": {
                                **_CELL,
                                "name": {"type": ["string", "null"]},
                                "kind": {"enum": ["table", "dataframe", "series"]},
                                "columns": {"type": "array", "items": {"type": "string"}},
                                "index_columns": {"type": "array", "items": {"type": "string"}},
                                "records": {"type": "array", "items": {"type": "object"}},
                            },
                        },
                    },
                    "numbers": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["cell", "section", "name", "value"],
                            "properties": {
                                **_CELL,
                                "name": {"type": "string"},
                                "value": {"type": ["number", "null"]},
                            },
                        },
                    },
                    "limitations": {"type": "string"},
                    "stderr": {"type": "array", "items": {"type": "string"}},
                    "errors": {"type": "array", "items": {"type": "object", "required": ["cell", "ename", "evalue"]}},
                    "data_hashes": {"type": "array", "items": {"type": "object", "required": ["cell", "sha256"]}},
                },
            },
        },
    },
}
