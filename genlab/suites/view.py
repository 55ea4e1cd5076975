"""One self-contained HTML page for one suite run, or for several side by side (``genlab report DIR [DIR ...]``).

Everything read from a run is data, never markup: tables go through :func:`genlab.report.render.table_html`, which
escapes every cell, and model outputs, inputs and provenance through ``html.escape``. The page loads nothing.

>>> import json, tempfile, pathlib
>>> run = pathlib.Path(tempfile.mkdtemp())
>>> _ = (run / "results.json").write_text(json.dumps({"spec": {"model": {"source": "m"}}, "suites": {"quality":
...     {"version": "1", "n_items": 1, "tables": {"perplexity": [{"perplexity": 2.0, "n": 1}]}}}}))
>>> _ = (run / "samples.jsonl").write_text(json.dumps({"suite": "quality", "item_id": "t1", "system": "model",
...     "sample": 0, "input": {"text": "<script>x</script>"}, "output": "ok", "scores": {}}) + "\\n")
>>> page = render_runs([run])
>>> "<script>x" in page, "&lt;script&gt;x" in page
(False, True)
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Sequence
from pathlib import Path

from genlab.report.render import CSS, table_html

__all__ = ["load_run", "render_runs"]

#: Samples shown per suite and run (the whole log is in samples.jsonl).
SHOWN_SAMPLES = 50


def _e(x) -> str:
    return html.escape(str(x), quote=True)


def load_run(folder: str | os.PathLike) -> dict:
    """A run's ``results.json``, with ``samples`` (the records of ``samples.jsonl``) and ``folder`` added."""
    folder = Path(folder)
    path = folder / "results.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"{folder} holds no results.json: is it the --out folder of a finished `genlab eval` run?"
        )
    run = json.loads(path.read_text(encoding="utf-8"))
    samples = folder / "samples.jsonl"
    lines = samples.read_text(encoding="utf-8").splitlines() if samples.is_file() else []
    run["samples"] = [json.loads(line) for line in lines if line.strip()]
    run["folder"] = str(folder)
    return run


def _label(run: dict, index: int) -> str:
    model = run.get("spec", {}).get("model", {})
    return f"run {index + 1}: {model.get('source', '?')} ({Path(run['folder']).name})"


def _table(records: list[dict], index: list[str] | None = None) -> str:
    columns = list(dict.fromkeys(k for r in records for k in r))
    return table_html({"columns": columns, "index_columns": index or [], "records": records})


def _short(x, limit: int = 300) -> str:
    text = x if isinstance(x, str) else json.dumps(x, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + " …"


def render_runs(folders: Sequence[str | os.PathLike]) -> str:
    """The page for the runs in ``folders``: per suite, each table (rows of several runs stacked, with a ``run``
    column), then the first samples of each run, then each run's provenance and cache counts."""
    runs = [load_run(f) for f in folders]
    if not runs:
        raise ValueError("give at least one run folder")
    labels = [_label(r, i) for i, r in enumerate(runs)]
    title = "genlab eval: " + (labels[0] if len(runs) == 1 else f"{len(runs)} runs compared")
    out = [f"<header class='run'><h1>{_e(title)}</h1>"]
    out += [f"<p class='meta'>{_e(label)}</p>" for label in labels]
    out.append("</header>")
    suites = list(dict.fromkeys(name for r in runs for name in r.get("suites", {})))
    for name in suites:
        out.append(f"<section class='notebook'><h2>{_e(name)}</h2>")
        tables = list(dict.fromkeys(t for r in runs for t in r.get("suites", {}).get(name, {}).get("tables", {})))
        for table in tables:
            rows = []
            for label, r in zip(labels, runs, strict=True):
                part = r.get("suites", {}).get(name, {}).get("tables", {}).get(table, [])
                rows += [({"run": label} if len(runs) > 1 else {}) | row for row in part]
            out.append(f"<p class='kind'>table · <code>{_e(table)}</code></p>")
            out.append(_table(rows, ["run"] if len(runs) > 1 else []) if rows else "<p>(empty)</p>")
        for label, r in zip(labels, runs, strict=True):
            recs = [s for s in r["samples"] if s.get("suite") == name]
            shown = [
                {
                    "item_id": s.get("item_id"),
                    "system": s.get("system"),
                    "sample": s.get("sample"),
                    "input": _short(s.get("input")),
                    "output": _short(s.get("output")),
                    "scores": _short(s.get("scores")),
                }
                for s in recs[:SHOWN_SAMPLES]
            ]
            out.append(f"<h3>Samples · {_e(label)} ({len(shown)} of {len(recs)}; all in samples.jsonl)</h3>")
            out.append(_table(shown) if shown else "<p>(none)</p>")
        out.append("</section>")
    out.append("<section class='extra' id='provenance'><h2>Provenance</h2>")
    for label, r in zip(labels, runs, strict=True):
        facts = {
            "cache hits": r.get("cache_hits"),
            "cache misses": r.get("cache_misses"),
            "created": r.get("created"),
            "timings (s)": r.get("timings"),
            **{k: v for k, v in r.get("spec", {}).items()},
        }
        rows = [{"what": k, "value": _short(v, 2000)} for k, v in facts.items()]
        out.append(f"<h3>{_e(label)}</h3>" + _table(rows, ["what"]))
    out.append("</section>")
    return (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body><main>\n"
        + "\n".join(out)
        + "\n<footer>Written by <code>genlab.suites</code>. Model output is shown as plain text.</footer>"
        "</main></body></html>\n"
    )
