"""Build the evaluation report: execute notebooks, then write ``report.html`` and ``results.json``.

    python -m genlab.report.series report --out reports            # the whole series (what `make report` runs)
    python -m genlab.report.series report --out r --only 02 21     # part of it
    python -m genlab.report.series report --out r -p MODEL=/path/to/model      # the series with another model
    python -m genlab.report.series compare reports/results.json r/results.json --out compare.html

From Python, the same in three steps::

    executed = run_series([NOTEBOOK_DIR / "20_decoding_and_repetition.ipynb"])   # papermill, one fresh kernel each
    report = build_report(executed, "reports")                                      # report.html + results.json
    report.noise                                                                    # {notebook: unexpected stderr}

What a notebook reports is what it records: its tables, figures and numbers named with ``genlab.report.record``
(read back by :func:`genlab.report.recording.recorded`), besides its checkpoints, parameters and Limitations section.
``report.html`` is self-contained (see ``genlab.report.render``), ``results.json`` is described in
``genlab.report.results``. ``series report`` also saves the executed notebooks (masked, with status and wall time)
to ``DIR/executed/``; ``build_report(sorted(Path("DIR/executed").glob("*.ipynb")), DIR)`` rebuilds the report from
them without running anything. Every string taken from a notebook is masked (``genlab.report.mask``) before it is
written to either file.

No library noise. A notebook's stderr is where library warnings land (Python warnings, transformers' and faiss'
logs). :func:`build_report` checks every executed notebook with
:func:`genlab.report.extract.notebook_noise`: a line that no entry of ``extract.ALLOWED_STDERR`` explains is listed
in the report, in ``results.json`` and in ``Report.noise``, and ``python -m genlab.report.series report`` (so
``make report``) exits non-zero with the list. The cure is to fix the warning where it arises, or, where only a
library can fix it, to silence that one message at the call with a comment that says why.
"""

from __future__ import annotations

import contextlib
import copy
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from genlab.report import extract
from genlab.report.mask import mask_deep, world_masker
from genlab.report.recording import recorded
from genlab.report.results import NotebookResult, RunResults, provenance, save_results

__all__ = [
    "KERNEL_ENV",
    "ExecutedNotebook",
    "Report",
    "build_report",
    "collect",
    "execute_notebook",
    "expected_figure_titles",
    "known_parameters",
    "mask_notebook",
    "run_series",
    "save_executed",
]

RUN_METADATA = "genlab_report"  # notebook metadata key for a saved run's status, wall time and error

#: Set in the kernel's environment (over the caller's): reports show results, not progress bars, and the
#: kernel stays offline like the rest of genlab's tooling.
KERNEL_ENV = {
    "TQDM_DISABLE": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # transformers' "Loading weights" bar follows huggingface_hub's switch
    "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",  # the debugger's "frozen modules" notice on kernel start
}


@dataclass
class ExecutedNotebook:
    """A notebook after execution: its JSON (outputs included, up to the failing cell if one failed)."""

    path: Path
    nb: dict = field(repr=False)
    status: str = "ok"  # "ok" or "failed: <exception type>"
    wall_time_s: float | None = None
    error: str | None = None  # the exception's message when execution failed

    @property
    def name(self) -> str:
        return self.path.name


def known_parameters(nb: dict, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Those of ``parameters`` that the notebook's ``parameters`` cell defines, so one mapping can serve a whole
    series (papermill would inject the others too, with a warning).

    >>> nb = {"cells": [{"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": "N = 2\\nSEED = 0"}]}
    >>> known_parameters(nb, {"N": 100, "MODEL": "gpt2"})
    {'N': 100}
    """
    known: dict[str, Any] = {}
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code" and extract.PARAMETERS_TAG in cell.get("metadata", {}).get("tags", []):
            known = extract._assignments(extract._source(cell))
            break
    return {k: v for k, v in parameters.items() if k in known}


@contextlib.contextmanager
def _environment(values: Mapping[str, str]):
    """``values`` set in ``os.environ`` for the block (the kernel papermill starts inherits them), then restored."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def execute_notebook(
    path: str | os.PathLike,
    *,
    parameters: Mapping[str, Any] | None = None,
    timeout: int = 600,
    cwd: str | os.PathLike | None = None,
) -> ExecutedNotebook:
    """Run the notebook at ``path`` top to bottom with papermill, in a fresh kernel of this Python, with
    ``KERNEL_ENV`` set and ``parameters`` injected (those the parameters cell defines: :func:`known_parameters`;
    papermill adds a cell tagged ``injected-parameters`` after the parameters cell). ``timeout``: seconds per cell.
    A failing cell does not raise: the result says ``failed: ...`` and keeps the outputs up to and including the
    error (papermill's error banner cells are left out)."""
    import json
    import tempfile

    import papermill
    from papermill.execute import ERROR_MARKER_TAG

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no notebook at {path}")
    params = known_parameters(json.loads(path.read_text(encoding="utf-8")), parameters or {})
    status, error = "ok", None
    with tempfile.TemporaryDirectory(prefix="genlab-run-") as tmp, _environment(KERNEL_ENV):
        out = Path(tmp) / path.name
        start = time.perf_counter()
        try:
            papermill.execute_notebook(
                str(path), str(out), parameters=params or None, kernel_name="python3", cwd=str(cwd or path.parent),
                execution_timeout=timeout, progress_bar=False, log_output=False, request_save_on_cell_execute=False,
            )
        except Exception as e:  # a failing notebook still gets its section, which shows the error
            status, error = f"failed: {_error_name(e)}", str(getattr(e, "evalue", "") or e)
            if not out.is_file():  # papermill failed before running anything
                raise
        seconds = time.perf_counter() - start
        nb = json.loads(out.read_text(encoding="utf-8"))
    nb["cells"] = [c for c in nb.get("cells", []) if ERROR_MARKER_TAG not in c.get("metadata", {}).get("tags", [])]
    return ExecutedNotebook(path, nb, status, seconds, error)


def _error_name(e: Exception) -> str:
    """What failed: nbclient's ``CellExecutionError`` for a cell that raised (as before papermill), a timeout's
    own name, else the exception's type."""
    if type(e).__name__ == "PapermillExecutionError":
        return "CellExecutionError" if getattr(e, "ename", "") != "CellTimeoutError" else "CellTimeoutError"
    return type(e).__name__


def run_series(
    paths: Iterable[str | os.PathLike],
    *,
    parameters: Mapping[str, Any] | None = None,
    timeout: int = 600,
    log: Callable[[str], None] | None = None,
) -> list[ExecutedNotebook]:
    """Execute each notebook in order (see :func:`execute_notebook`); ``log`` gets one line per notebook."""
    out = []
    for p in paths:
        ran = execute_notebook(p, parameters=parameters, timeout=timeout)
        out.append(ran)
        if log is not None:
            log(f"{ran.name}: {ran.status} in {ran.wall_time_s:.1f} s")
    return out


def _as_executed(item: ExecutedNotebook | dict | str | os.PathLike) -> ExecutedNotebook:
    """An executed notebook from a run, or one read from disk (a notebook saved after execution)."""
    import json

    if isinstance(item, ExecutedNotebook):
        return item
    path = Path(item)
    if not path.is_file():
        raise FileNotFoundError(f"no executed notebook at {path}")
    nb = json.loads(path.read_text(encoding="utf-8"))
    run = nb.get("metadata", {}).get(RUN_METADATA, {})  # written by save_executed
    return ExecutedNotebook(path, nb, run.get("status", "ok"), run.get("wall_time_s"), run.get("error"))


def save_executed(
    executed: Sequence[ExecutedNotebook], out_dir: str | os.PathLike, masker: Callable[[str], str] | None = None
) -> list[Path]:
    """Write each executed notebook (masked; status and wall time in its metadata) to ``out_dir``, so that a report
    can be built again without running anything: ``build_report(sorted(Path(out_dir).glob("*.ipynb")), ...)``."""
    import json

    masker = masker if masker is not None else world_masker()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for ran in executed:
        nb = mask_notebook(ran.nb, masker)
        nb.setdefault("metadata", {})[RUN_METADATA] = {
            "status": ran.status,
            "wall_time_s": ran.wall_time_s,
            "error": masker(ran.error) if ran.error else None,
        }
        path = out / ran.name
        path.write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
        paths.append(path)
    return paths


def collect(
    executed: Sequence[ExecutedNotebook],
    *,
    masker: Callable[[str], str] | None = None,
    title: str = "genlab notebook series",
    command: str | None = None,
) -> RunResults:
    """The :class:`RunResults` of executed notebooks, every string masked by ``masker`` (default: the world's
    canary secrets and planted personal data, :func:`genlab.report.mask.world_masker`)."""
    masker = masker if masker is not None else world_masker()

    def deep(obj):
        return mask_deep(masker, obj)

    results = []
    for ran in executed:
        nb = ran.nb
        number, nb_title, summary = extract.title(nb, ran.path.name)
        recs = recorded(nb)
        results.append(
            NotebookResult(
                name=ran.name,
                number=number,
                title=masker(nb_title),
                summary=masker(summary),
                status=ran.status,
                wall_time_s=None if ran.wall_time_s is None else round(ran.wall_time_s, 2),
                parameters=deep(extract.parameters(nb)),
                checkpoints=[
                    {"cell": c.cell, "section": masker(c.section), "text": masker(c.text)}
                    for c in extract.checkpoints(nb)
                ],
                figures=[
                    {
                        "cell": r.cell,
                        "section": masker(r.section),
                        "name": r.name,
                        "title": masker(extract.figure_title(r.data)),
                        "n_traces": len(r.data.get("data", [])),
                    }
                    for r in recs
                    if r.kind == "figure"
                ],
                tables=[
                    {
                        "cell": r.cell,
                        "section": masker(r.section),
                        "name": r.name,
                        "kind": "table",
                        "columns": [masker(c) for c in r.data["columns"]],
                        "index_columns": [masker(c) for c in r.data["index_columns"]],
                        # in column order (a notebook's JSON keeps its keys sorted)
                        "records": deep([{c: row.get(c) for c in r.data["columns"]} for row in r.data["records"]]),
                    }
                    for r in recs
                    if r.kind == "table"
                ],
                numbers=[
                    {"cell": r.cell, "section": masker(r.section), "name": r.name, "value": r.data}
                    for r in recs
                    if r.kind == "number"
                ],
                limitations=masker(extract.limitations(nb)),
                stderr=[masker(line) for line in extract.notebook_noise(nb)],
                errors=[
                    {"cell": e["cell"], "ename": e["ename"], "evalue": masker(e["evalue"])} for e in extract.errors(nb)
                ],
                data_hashes=extract.data_hashes(nb),
            )
        )
    wall = sum(r.wall_time_s or 0.0 for r in executed)
    return RunResults(
        title=title,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        provenance=provenance(results, command=command, wall_time_s=round(wall, 2)),
        notebooks=results,
    )


@dataclass
class Report:
    html_path: Path
    json_path: Path
    results: RunResults
    noise: dict[str, list[str]]  # notebook -> unexpected stderr lines (only notebooks that have some)


def build_report(
    executed: Sequence[ExecutedNotebook | str | os.PathLike],
    out_dir: str | os.PathLike,
    *,
    title: str = "genlab notebook series",
    compare_with: Any = None,
    masker: Callable[[str], str] | None = None,
    command: str | None = None,
    plotly_js: str | None = None,
) -> Report:
    """Write ``out_dir/report.html`` and ``out_dir/results.json`` for ``executed`` notebooks (results of
    :func:`run_series`, or paths of notebooks saved after execution).

    ``compare_with``: another run's ``results.json`` (path, dict or RunResults); the report then has a
    comparison section, this run being ``b``. ``masker``: see :func:`collect`.
    """
    from genlab.report.render import render_report

    runs = [_as_executed(x) for x in executed]
    masker = masker if masker is not None else world_masker()
    results = collect(runs, masker=masker, title=title, command=command)
    comparison = ""
    if compare_with is not None:
        from genlab.report.compare import compare_runs

        comparison = compare_runs(compare_with, results).to_html()

    def mask(x):
        return mask_deep(masker, x)

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    page = render_report(
        results, {r.name: r.nb for r in runs}, comparison_html=comparison, mask=mask, plotly_js=plotly_js
    )
    html_path = out / "report.html"
    html_path.write_text(page, encoding="utf-8")
    json_path = save_results(results, out / "results.json")
    noise = {nb.name: nb.stderr for nb in results.notebooks if nb.stderr}
    return Report(html_path, json_path, results, noise)


def expected_figure_titles(
    executed: Iterable[ExecutedNotebook | dict | str | os.PathLike] | RunResults | str | os.PathLike,
) -> list[tuple[str, str]]:
    """``(notebook name, figure title)`` for every recorded figure, in report order: what a check of the report
    (parsing it, or rendering it in a browser) should find. Titles are masked as in the report.

    ``executed``: executed notebooks (see :func:`build_report`), or a run's ``results.json`` (a path, the folder
    that holds it, or :class:`RunResults`), which records every figure's title.

    >>> rec = {"name": "loss", "kind": "figure", "data": {"layout": {"title": "Loss"}}}
    >>> nb = {"cells": [{"cell_type": "code", "source": "", "metadata": {}, "outputs": [{"output_type":
    ...        "display_data", "data": {"application/vnd.genlab.record+json": rec}}]}]}
    >>> expected_figure_titles([nb])
    [('notebook 0', 'Loss')]
    """
    if isinstance(executed, RunResults) or (
        isinstance(executed, (str, os.PathLike)) and (Path(executed).is_dir() or Path(executed).suffix == ".json")
    ):
        from genlab.report.results import load_results

        return [(nb.name, f["title"]) for nb in load_results(executed).notebooks for f in nb.figures]
    masker = world_masker()
    out = []
    for i, item in enumerate(executed):
        if isinstance(item, dict):
            name, nb = f"notebook {i}", item
        else:
            ran = _as_executed(item)
            name, nb = ran.name, ran.nb
        out += [(name, masker(extract.figure_title(r.data))) for r in recorded(nb) if r.kind == "figure"]
    return out


def mask_notebook(nb: dict, masker: Callable[[str], str]) -> dict:
    """A copy of ``nb`` with every source and output string masked (for pages written straight from the notebook)."""
    nb = copy.deepcopy(nb)
    for cell in nb.get("cells", []):
        cell["source"] = masker(extract._source(cell))
        if "outputs" in cell:
            cell["outputs"] = mask_deep(masker, cell["outputs"])
    return nb


def print_noise(noise: Mapping[str, list[str]], file=None) -> None:
    """The unexpected stderr lines, one notebook after another, with what to do about them."""
    file = file or sys.stderr
    if not noise:
        return
    print(f"{sum(map(len, noise.values()))} unexpected stderr line(s) in {len(noise)} notebook(s):", file=file)
    for name, lines in noise.items():
        for line in lines:
            print(f"  {name} {line}", file=file)
    print("Fix each where it arises, or allow it with a reason in genlab/report/extract.py ALLOWED_STDERR.", file=file)
