"""Full-size runs of the study notebooks: one parameter set per notebook, run once, committed with provenance.

    python -m genlab.report.full                  # run every notebook of params.json whose results are not current
    python -m genlab.report.full --only 20 21     # some of them
    python -m genlab.report.full --force          # run again even where the committed results are current
    python -m genlab.report.full --check          # which committed results are current, missing or stale

Every notebook keeps its CI-sized defaults in its ``parameters`` cell. ``results/full_size/params.json`` holds, per
notebook, the parameters that differ at full size (papermill injects them after the parameters cell) and a
``power`` note: why that size is enough to detect the notebook's effects. A run writes, to
``results/full_size/<notebook stem>/``:

- ``results.json``: what ``python -m genlab.report.series report`` records for the notebook (checkpoints, the
  tables, figures and numbers it recorded with ``genlab.report.record``, limitations, stderr, errors; schema in
  ``genlab.report.results``);
- ``tables/<name>.csv`` and ``figures/<name>.json`` (plotly JSON): each table and figure it recorded, by name;
- ``<notebook>.ipynb``: the executed notebook (masked, as the report's ``executed/`` copies);
- ``provenance.json``: the full parameter set (``settings``), the overrides, the seeds, ``params_sha256`` and
  ``code_sha256``, commit (and whether the checkout was dirty), wall time, machine, Python and torch versions.

Results committed before notebooks recorded their tables (``kind`` ``"dataframe"`` or ``"series"`` in their
``results.json``) had the name of each table that a notebook reads added to its entry when the records came in, by
matching the table's cell to the recording cell; their CSV files keep their old ``NN-<section>.csv`` names until the
notebook is rerun at full size.

Checkpointing is per notebook: a notebook whose ``provenance.json`` has the current ``params_sha256`` and
``code_sha256`` (and status ``ok``) is skipped, so an interrupted ``make report-full`` resumes with the notebook it
was running. Results are written to a temporary folder and moved into place only when the notebook succeeded; a
failed run leaves the earlier results as they were and saves the failed notebook under ``_failed/``.

What the hashes cover. ``params_sha256``: every parameter the notebook runs with (its defaults with the overrides
applied), so a changed CI default of a parameter that params.json does not override makes the results stale too.
``code_sha256``: the source of every code cell except the parameters cell and the cells tagged
``full-size-results`` (``extract.COMMITTED_TAG``: cells that only show the committed results, so adding one to a
notebook does not make its results stale), in order, with each ``record("name", value)`` statement read as its
``value`` (naming a result for the report does not change the study). Markdown, outputs and the
library code under ``genlab/`` are not covered; the commit in ``provenance.json`` records the library.

A notebook shows its committed numbers beside its live run with :func:`committed_results` (or
:func:`committed_table`, which finds a table by the name the notebook recorded it under), which label them and say
when they are stale::

    from genlab.report.full import committed_table

    full_size = committed_table("20", "study")  # None (and a printed line saying so) until they are committed
    if full_size is not None:
        print(full_size.attrs["label"])  # "FULL-SIZE results (committed, not this run): N_PROMPTS=1000, ..."
        display(full_size)
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import platform
import re
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from genlab.core.paths import REPO_DIR
from genlab.report import extract

__all__ = [
    "FULL_CELL_TIMEOUT_S",
    "PARAMS_FILE",
    "POWER_PENDING",
    "RESULTS_DIR",
    "FullRun",
    "FullStatus",
    "check",
    "code_hash",
    "committed_results",
    "committed_table",
    "effective_parameters",
    "full_size_params",
    "is_current",
    "params_hash",
    "run_full",
]

RESULTS_DIR = REPO_DIR / "results" / "full_size"
PARAMS_FILE = RESULTS_DIR / "params.json"
NOTEBOOK_DIR = REPO_DIR / "notebooks"
FULL_CELL_TIMEOUT_S = 4 * 3600  # nbclient's limit per cell: a full-size training cell can run for an hour or more
FAILED_DIR = "_failed"
_ABOUT_KEY = "_about"  # params.json's free-text header
POWER_PENDING = "PENDING"  # a power note that starts with this is still to be written


# --- the parameter sets ------------------------------------------------------------------------------------------
def _notebook_path(name: str, notebook_dir: Path) -> Path:
    """The notebook called ``name`` ("20", "20_decoding_and_repetition" or the file name) in ``notebook_dir``."""
    for p in sorted(Path(notebook_dir).glob("*.ipynb")):
        if name in (p.name, p.stem, p.name[:2]):
            return p
    names = sorted(p.name for p in Path(notebook_dir).glob("*.ipynb"))
    raise FileNotFoundError(f"no notebook {name!r} in {notebook_dir}; there are {names}")


def _read_nb(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _parameters_cell(nb: dict, where: str) -> dict:
    cells = [
        c
        for c in nb.get("cells", [])
        if c.get("cell_type") == "code" and extract.PARAMETERS_TAG in c.get("metadata", {}).get("tags", [])
    ]
    if len(cells) != 1:
        raise ValueError(f"{where}: {len(cells)} code cells tagged 'parameters'; a full-size run needs exactly one")
    return cells[0]


def full_size_params(path: str | os.PathLike | None = None, notebook_dir: str | os.PathLike | None = None) -> dict:
    """The full-size parameter sets, checked against the notebooks' parameters cells.

    ``path``: the JSON file (default ``results/full_size/params.json``), mapping a notebook's file name to
    ``{"parameters": {NAME: value, ...}, "power": "...", "notes": "..."}`` (``notes`` optional; a top-level key
    ``_about`` holds free text and is skipped). Returns ``{notebook file name: {"parameters", "power", "notes"}}``.
    A power note that starts with ``PENDING`` marks an estimate still to be written (``--check`` lists them).

    Raises ``FileNotFoundError`` for a missing file or notebook and ``ValueError`` for anything else that is wrong:
    not JSON, an entry of the wrong shape, a parameter that the notebook's parameters cell does not define (a typo
    would otherwise be ignored and the run would be CI-sized), a value equal to the CI default (list only what
    differs), or an empty power note.
    """
    path = Path(path) if path is not None else PARAMS_FILE
    notebook_dir = Path(notebook_dir) if notebook_dir is not None else NOTEBOOK_DIR
    if not path.is_file():
        raise FileNotFoundError(f"no full-size parameter file at {path}; write one (see genlab/report/full.py)")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is not JSON ({e})") from e
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected an object mapping notebook file names to their full-size parameters")
    out = {}
    for name, entry in raw.items():
        if name == _ABOUT_KEY:
            continue
        where = f"{path}: {name}"
        if not isinstance(entry, dict) or not {"parameters", "power"} <= set(entry) <= {"parameters", "power", "notes"}:
            raise ValueError(
                f"{where}: expected {{'parameters': {{NAME: value}}, 'power': '...'}} (and optionally 'notes': '...'), "
                f"got {entry!r}"
            )
        params, power, notes = entry["parameters"], entry["power"], entry.get("notes", "")
        if not isinstance(notes, str):
            raise ValueError(f"{where}: 'notes' must be a string")
        if not isinstance(params, dict) or not params:
            raise ValueError(f"{where}: 'parameters' must be a non-empty object {{NAME: value}}")
        if not isinstance(power, str) or not power.strip():
            raise ValueError(f"{where}: 'power' must say why this size detects the notebook's effects (empty)")
        nb_path = notebook_dir / name
        if not nb_path.is_file():
            names = sorted(p.name for p in notebook_dir.glob("*.ipynb"))
            raise FileNotFoundError(f"{where}: no such notebook in {notebook_dir}; there are {names}")
        defaults = extract._assignments(extract._source(_parameters_cell(_read_nb(nb_path), str(nb_path))))
        unknown = sorted(set(params) - set(defaults))
        if unknown:
            raise ValueError(
                f"{where}: {unknown} not defined in the notebook's parameters cell (it defines {sorted(defaults)}); "
                "fix the name, or add the parameter to the notebook's builder first"
            )
        same = sorted(k for k, v in params.items() if extract._jsonable(defaults[k]) == v)
        if same:
            raise ValueError(f"{where}: {same} equal the CI defaults; list only the parameters that differ")
        out[name] = {"parameters": dict(params), "power": power, "notes": notes}
    return out


def effective_parameters(nb: dict, overrides: dict) -> dict:
    """Every parameter the notebook runs with: its parameters cell, then those ``overrides`` it defines (what
    papermill injects), as JSON holds them."""
    defaults = extract.parameters(nb)
    return {**defaults, **{k: extract._jsonable(v) for k, v in overrides.items() if k in defaults}}


def _sha256_json(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def params_hash(nb: dict, overrides: dict) -> str:
    """sha256 of the notebook's effective parameters (defaults with ``overrides`` applied), as sorted JSON."""
    return _sha256_json(effective_parameters(nb, overrides))


def code_hash(nb: dict) -> str:
    """sha256 of the sources of every code cell except the parameters cell and cells tagged ``full-size-results``
    (they only show committed results), in order.

    >>> cell = lambda src, tags=(): {"cell_type": "code", "metadata": {"tags": list(tags)}, "source": src}
    >>> a = {"cells": [cell("N = 2", ["parameters"]), cell("print(N)")]}
    >>> b = {"cells": [cell("N = 3", ["parameters"]), cell("print(N)"), {"cell_type": "markdown", "source": "x"}]}
    >>> shown = {"cells": [*a["cells"], cell("committed_table('20', 'The study')", ["full-size-results"])]}
    >>> code_hash(a) == code_hash(b), code_hash(a) == code_hash({"cells": [cell("print(N + 1)")]})
    (True, False)
    >>> code_hash(a) == code_hash(shown)
    True
    >>> code_hash(a) == code_hash({"cells": [cell("N = 2", ["parameters"]), cell("record('n', print(N))")]})
    True
    """
    sources = [
        _unrecorded(extract._source(c))
        for c in nb.get("cells", [])
        if c.get("cell_type") == "code"
        and extract.PARAMETERS_TAG not in c.get("metadata", {}).get("tags", [])
        and extract.INJECTED_TAG not in c.get("metadata", {}).get("tags", [])
        and extract.COMMITTED_TAG not in c.get("metadata", {}).get("tags", [])
    ]
    return _sha256_json(sources)


def _unrecorded(source: str) -> str:
    """``source`` with every top-level ``record("name", value)`` statement replaced by ``value``'s own text, and
    the line that imports ``record`` (``from genlab.report import record``, or ``import genlab.report``) left out.

    >>> _unrecorded("from genlab.report import record\\nx = 1\\nrecord('paired', paired.round(3))\\nprint(x)")
    'x = 1\\npaired.round(3)\\nprint(x)'
    """
    import ast

    if "record" not in source and "genlab.report" not in source:
        return source
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    lines = source.split("\n")
    for node in reversed(tree.body):
        if (isinstance(node, ast.ImportFrom) and node.module == "genlab.report"
                and [a.name for a in node.names] == ["record"]) or (
                isinstance(node, ast.Import) and [a.name for a in node.names] == ["genlab.report"]):
            del lines[node.lineno - 1 : node.end_lineno]  # the import of record() goes with it
            continue
        call = node.value if isinstance(node, ast.Expr) else None
        if not (isinstance(call, ast.Call) and len(call.args) == 2 and not call.keywords):
            continue
        func = call.func
        if not ((isinstance(func, ast.Name) and func.id == "record")
                or (isinstance(func, ast.Attribute) and func.attr == "record")):
            continue
        value = ast.get_source_segment(source, call.args[1])
        first, last = lines[node.lineno - 1], lines[node.end_lineno - 1]
        text = first[: node.col_offset] + value + last[node.end_col_offset :]
        lines[node.lineno - 1 : node.end_lineno] = text.split("\n")
    return "\n".join(lines)


# --- status of the committed results --------------------------------------------------------------------------------
@dataclass
class FullStatus:
    """Where a notebook's committed full-size results stand."""

    notebook: str  # file name
    state: str  # "current", "missing", "failed", "stale: parameters changed", "stale: code changed", ...
    folder: Path

    @property
    def stale(self) -> bool:
        return self.state.startswith("stale")


def _read_provenance(folder: Path) -> dict | None:
    path = folder / "provenance.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return {}


def _state(nb_path: Path, overrides: dict, folder: Path) -> str:
    prov = _read_provenance(folder)
    if prov is None:
        return "missing"
    if not prov or "params_sha256" not in prov or "code_sha256" not in prov:
        return "stale: provenance.json unreadable or without hashes"
    if prov.get("status") != "ok":
        return "failed"
    nb = _read_nb(nb_path)
    reasons = []
    if prov["params_sha256"] != params_hash(nb, overrides):
        reasons.append("parameters changed")
    if prov["code_sha256"] != code_hash(nb):
        reasons.append("code changed")
    return "stale: " + " and ".join(reasons) if reasons else "current"


def check(
    out: str | os.PathLike = RESULTS_DIR,
    *,
    params_path: str | os.PathLike | None = None,
    notebook_dir: str | os.PathLike | None = None,
) -> list[FullStatus]:
    """The state of every notebook's committed results in ``out``, and of result folders that params.json no longer
    lists (``stale: not in params.json``)."""
    out = Path(out)
    notebook_dir = Path(notebook_dir) if notebook_dir is not None else NOTEBOOK_DIR
    specs = full_size_params(params_path if params_path is not None else out / "params.json", notebook_dir)
    statuses = []
    for name, spec in specs.items():
        folder = out / Path(name).stem
        statuses.append(FullStatus(name, _state(notebook_dir / name, spec["parameters"], folder), folder))
    listed = {Path(n).stem for n in specs}
    for folder in sorted(p for p in out.glob("*") if p.is_dir() and not p.name.startswith(("_", "."))):
        if folder.name not in listed and (folder / "provenance.json").is_file():
            statuses.append(FullStatus(folder.name + ".ipynb", "stale: not in params.json", folder))
    return statuses


PENDING_FILE = "pending_rerun.json"


def pending_reruns(out: str | os.PathLike = RESULTS_DIR) -> dict[str, str]:
    """The stale results that are known and waiting for a rerun: ``{notebook file name: why it went stale}``, from
    ``OUT/pending_rerun.json``. A stale result is shown labelled STALE in its notebook either way; this ledger only
    says that the staleness is known, and why (e.g. the study's code moved into the notebook without a change of
    parameters, and the rerun belongs to a later issue). Missing file: nothing is pending."""
    path = Path(out) / PENDING_FILE
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return dict(data.get("notebooks", {}))


# --- running -------------------------------------------------------------------------------------------------------
@dataclass
class FullRun:
    """What :func:`run_full` did with one notebook."""

    notebook: str  # file name
    status: str  # "ok", "skipped (current)", or "failed: <exception type>"
    folder: Path  # where its results are (for a failure: where the failed notebook was saved)
    wall_time_s: float | None = None


def _slug(name: str) -> str:
    """A record's name as a file name: ``"paired_tests"`` stays, anything but letters, digits, ``_`` ``.`` ``-``
    becomes ``-``."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")[:80] or "untitled"


def _write_tables_and_figures(nb_result: dict, executed_nb: dict, folder: Path, masker: Callable[[str], str]) -> None:
    from genlab.report.mask import mask_deep
    from genlab.report.recording import recorded

    if nb_result["tables"]:
        (folder / "tables").mkdir()
    for t in nb_result["tables"]:
        with (folder / "tables" / f"{_slug(t['name'])}.csv").open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=t["columns"], extrasaction="ignore")
            writer.writeheader()
            writer.writerows(t["records"])
    figs = [r for r in recorded(executed_nb) if r.kind == "figure"]
    if figs:
        (folder / "figures").mkdir()
    for fig in figs:
        path = folder / "figures" / f"{_slug(fig.name)}.json"
        path.write_text(json.dumps(mask_deep(masker, fig.data), ensure_ascii=False) + "\n", encoding="utf-8")


def _seeds(settings: dict) -> dict:
    return {k: v for k, v in settings.items() if k == "SEED" or k.endswith(("_SEED", "SEEDS"))}


def _provenance(
    name: str,
    nb: dict,
    spec: dict,
    settings: dict,
    started: float,
    ran_wall_s: float | None,
    status: str,
    command: str,
    git: dict,
) -> dict:
    """The fields of ``genlab.experiments.provenance.write_provenance`` (a higher layer, so not imported here) and the
    full-size run's own: hashes (of ``nb`` as it was read for the run), overrides, seeds, status. ``git``: the
    checkout as it was when the notebook started (a commit made during a run of hours is not what ran)."""
    from genlab.report.results import package_versions

    return {
        "notebook": name,
        "status": status,
        "settings": settings,
        "overrides": spec["parameters"],
        "seeds": _seeds(settings),
        "power": spec["power"],
        "params_sha256": params_hash(nb, spec["parameters"]),
        "code_sha256": code_hash(nb),
        "commit": git["commit"],
        "git": git,
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "wall_s_this_invocation": round(time.time() - started, 1),
        "wall_s_notebook": None if ran_wall_s is None else round(ran_wall_s, 1),
        "machine": platform.platform(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "torch": package_versions(("torch",))["torch"],
        "command": command,
    }


def run_full(
    notebooks: Sequence[str] | None = None,
    out: str | os.PathLike = RESULTS_DIR,
    force: bool = False,
    *,
    params_path: str | os.PathLike | None = None,
    notebook_dir: str | os.PathLike | None = None,
    timeout: int = FULL_CELL_TIMEOUT_S,
    log: Callable[[str], None] | None = None,
    command: str | None = None,
) -> list[FullRun]:
    """Run each notebook of params.json (those named in ``notebooks``, by number, stem or file name; default all)
    at full size, unless its results in ``out`` are current (same parameters and code hashes) and ``force`` is
    false. See the module's docstring for what is written. ``timeout``: nbclient's limit per cell, in seconds;
    ``log`` gets one line per notebook (default: stderr); ``command``: how the run was started, for provenance."""
    from genlab.report.build import collect, execute_notebook, save_executed
    from genlab.report.mask import world_masker
    from genlab.report.results import git_info, save_results

    out = Path(out)
    notebook_dir = Path(notebook_dir) if notebook_dir is not None else NOTEBOOK_DIR
    log = log if log is not None else (lambda line: print(line, file=sys.stderr, flush=True))
    specs = full_size_params(params_path if params_path is not None else out / "params.json", notebook_dir)
    names = list(specs)
    if notebooks:
        names = []
        for wanted in notebooks:
            match = [n for n in specs if wanted in (n, Path(n).stem, n[:2])]
            if not match:
                raise ValueError(f"no full-size parameters for notebook {wanted!r}; params.json lists {list(specs)}")
            names += [n for n in match if n not in names]
    masker = None
    runs = []
    for name in names:
        nb_path, spec, folder = notebook_dir / name, specs[name], out / Path(name).stem
        state = _state(nb_path, spec["parameters"], folder)
        if state == "current" and not force:
            log(f"{name}: skipped, results in {folder} are current")
            runs.append(FullRun(name, "skipped (current)", folder))
            continue
        log(f"{name}: running at full size ({state}); {spec['parameters']}")
        masker = masker if masker is not None else world_masker()
        started = time.time()
        nb = _read_nb(nb_path)  # hashed as it is now: an edit during a run of hours must not pass for what ran
        git = git_info()  # likewise the commit
        ran = execute_notebook(nb_path, parameters=spec["parameters"], timeout=timeout)
        settings = extract.parameters(ran.nb)
        if ran.status != "ok":
            failed = out / FAILED_DIR
            save_executed([ran], failed, masker)
            log(
                f"{name}: {ran.status} after {ran.wall_time_s:.0f} s; earlier results left as they were, "
                f"the failed notebook is {failed / name}"
            )
            runs.append(FullRun(name, ran.status, failed, ran.wall_time_s))
            continue
        tmp = out / f".{folder.name}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)  # a run interrupted while writing
        tmp.mkdir(parents=True)
        results = collect(
            [ran],
            masker=masker,
            title=f"{name} at full size",
            command=f"python -m genlab.report.full --only {name[:2]}",
        )
        save_results(results, tmp / "results.json")
        if results.notebooks[0].stderr:
            log(f"{name}: {len(results.notebooks[0].stderr)} unexpected stderr line(s), listed in its results.json")
        _write_tables_and_figures(results.to_dict()["notebooks"][0], ran.nb, tmp, masker)
        save_executed([ran], tmp, masker)
        prov = _provenance(
            name,
            nb,
            spec,
            settings,
            started,
            ran.wall_time_s,
            "ok",
            command or f"genlab.report.full.run_full({notebooks!r}, force={force})",
            git,
        )
        (tmp / "provenance.json").write_text(json.dumps(prov, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        old = out / f".{folder.name}.old"
        shutil.rmtree(old, ignore_errors=True)
        if folder.exists():
            log(f"{name}: replacing the earlier results in {folder} ({state})")
            folder.rename(old)  # moved aside, not deleted, until the new results are in place
        tmp.rename(folder)
        shutil.rmtree(old, ignore_errors=True)
        log(f"{name}: ok in {ran.wall_time_s:.0f} s -> {folder}")
        runs.append(FullRun(name, "ok", folder, ran.wall_time_s))
    return runs


# --- reading them from a notebook ------------------------------------------------------------------------------------
def _folder_and_spec(notebook_name: str, out: Path, params_path, notebook_dir: Path) -> tuple[Path, Path, dict]:
    nb_path = _notebook_path(notebook_name, notebook_dir)
    specs = full_size_params(params_path if params_path is not None else out / "params.json", notebook_dir)
    return nb_path, out / nb_path.stem, specs.get(nb_path.name, {"parameters": {}, "power": "", "notes": ""})


def is_current(
    notebook_name: str,
    *,
    out: str | os.PathLike = RESULTS_DIR,
    params_path: str | os.PathLike | None = None,
    notebook_dir: str | os.PathLike | None = None,
) -> bool:
    """Whether ``notebook_name`` (number, stem or file name) has committed full-size results made with the current
    parameters and code cells."""
    notebook_dir = Path(notebook_dir) if notebook_dir is not None else NOTEBOOK_DIR
    nb_path, folder, spec = _folder_and_spec(notebook_name, Path(out), params_path, notebook_dir)
    return _state(nb_path, spec["parameters"], folder) == "current"


def committed_results(
    notebook_name: str,
    *,
    out: str | os.PathLike = RESULTS_DIR,
    params_path: str | os.PathLike | None = None,
    notebook_dir: str | os.PathLike | None = None,
) -> dict | None:
    """The committed full-size results of ``notebook_name`` (number, stem or file name), to show beside a live
    CI-sized run; ``None`` (after printing why) when there are none.

    The dict holds ``label`` (one line to print above them: full size, the parameters that differ, commit, wall
    time, and ``STALE`` when the parameters or code changed since), ``state`` and ``current``, ``overrides``,
    ``settings``, ``provenance``, and the notebook's ``checkpoints``, ``tables`` and ``figures`` as in
    ``results.json`` (cell indices are those of the executed notebook, which has one injected cell more).
    """
    notebook_dir = Path(notebook_dir) if notebook_dir is not None else NOTEBOOK_DIR
    nb_path, folder, spec = _folder_and_spec(notebook_name, Path(out), params_path, notebook_dir)
    state = _state(nb_path, spec["parameters"], folder)
    if state in ("missing", "failed") or not (folder / "results.json").is_file():
        if not spec["parameters"]:
            print(f"{nb_path.name} has no full-size parameter set in params.json, so no committed full-size results.")
            return None
        print(
            f"No committed full-size results for {nb_path.name} in {folder} ({state}): "
            f"`make report-full` (python -m genlab.report.full --only {nb_path.name[:2]}) writes them."
        )
        return None
    from genlab.report.results import load_results

    prov = _read_provenance(folder) or {}
    nb = load_results(folder).notebooks[0]
    overrides = ", ".join(f"{k}={v!r}" for k, v in prov.get("overrides", {}).items())
    label = (
        f"FULL-SIZE results (committed, not this run): {overrides}; commit {str(prov.get('commit'))[:10]}"
        f"{' (dirty checkout)' if prov.get('git', {}).get('dirty') else ''}, finished {prov.get('finished')}, "
        f"{prov.get('wall_s_notebook')} s on {prov.get('machine')}"
    )
    if state != "current":
        label = f"STALE ({state.removeprefix('stale: ')} since they were made) " + label
        print(
            f"Warning: the committed full-size results of {nb_path.name} are stale ({state}); rerun "
            f"`python -m genlab.report.full --only {nb_path.name[:2]}`."
        )
    return {
        "notebook": nb_path.name,
        "label": label,
        "state": state,
        "current": state == "current",
        "overrides": prov.get("overrides", {}),
        "settings": prov.get("settings", {}),
        "provenance": prov,
        "checkpoints": nb.checkpoints,
        "tables": nb.tables,
        "figures": nb.figures,
    }


def committed_table(notebook_name: str, name: str, **where: Any):
    """The table that the committed full-size run of ``notebook_name`` recorded under ``name`` (see
    ``genlab.report.record``), as a DataFrame (index columns restored) whose ``attrs["label"]`` is the results'
    label; ``None`` when there are no committed results. ``where``: ``out``, ``params_path``, ``notebook_dir`` as
    for :func:`committed_results`."""
    from genlab.report.recording import table_frame

    res = committed_results(notebook_name, **where)
    if res is None:
        return None
    tables = {t.get("name"): t for t in res["tables"] if t.get("name")}
    if name not in tables:
        raise KeyError(f"{res['notebook']}'s full-size run recorded no table {name!r}; it recorded {sorted(tables)}")
    df = table_frame(tables[name])
    df.attrs["label"] = res["label"]
    return df


# --- command line ----------------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m genlab.report.full", description="Full-size runs of the study notebooks (results/full_size/)."
    )
    parser.add_argument("--only", nargs="+", metavar="NB", help="notebooks to run, by number or name (default: all)")
    parser.add_argument("--force", action="store_true", help="run even where the committed results are current")
    parser.add_argument(
        "--check",
        action="store_true",
        help="list results that are missing or stale; exit 1 if any is stale (missing is allowed)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="results folder (default: results/full_size)")
    parser.add_argument("--params", type=Path, help="parameter file (default: OUT/params.json)")
    parser.add_argument("--dir", type=Path, default=NOTEBOOK_DIR, help="the notebooks' folder (default: notebooks/)")
    args = parser.parse_args(argv)
    try:
        if args.check:
            statuses = check(args.out, params_path=args.params, notebook_dir=args.dir)
            for s in statuses:
                print(f"{s.notebook}: {s.state}")
            specs = full_size_params(args.params if args.params is not None else args.out / "params.json", args.dir)
            pending = [n for n, spec in specs.items() if spec["power"].startswith(POWER_PENDING)]
            if pending:
                print(f"power estimate pending (params.json 'power' starts with {POWER_PENDING}): {', '.join(pending)}")
            stale = [s.notebook for s in statuses if s.stale]
            pending_why = pending_reruns(args.out)
            for name in stale:
                if name in pending_why:
                    print(f"  {name}: rerun pending ({pending_why[name]})")
            if stale:
                print(
                    f"{len(stale)} stale: rerun them with `python -m genlab.report.full --only "
                    f"{' '.join(n[:2] for n in stale)}` (or remove a folder params.json no longer lists)"
                )
            return 1 if stale else 0
        runs = run_full(
            args.only,
            args.out,
            args.force,
            params_path=args.params,
            notebook_dir=args.dir,
            command=" ".join(["python -m genlab.report.full", *(argv if argv is not None else sys.argv[1:])]),
        )
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    failed = [r.notebook for r in runs if r.status.startswith("failed")]
    print(", ".join(f"{r.notebook}: {r.status}" for r in runs))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
