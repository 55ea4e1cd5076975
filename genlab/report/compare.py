"""Two runs of the series side by side: what changed, and the paired verdicts the notebooks computed.

``compare_runs(a, b)`` takes two ``results.json`` (paths, dicts or :class:`~genlab.report.results.RunResults`):
two runs of the same series, or the same series with two models. It lines the runs up notebook by notebook and
returns a :class:`RunComparison` of tables (pandas DataFrames) and an HTML section:

- ``notebooks``: status and wall time in each run (and notebooks only one run has);
- ``parameters``: every parameter whose value differs;
- ``checkpoints``: every checkpoint whose printed text differs (matched by position in the notebook);
- ``numbers``: every numeric table value that differs (tables matched by position, rows by their index values);
- ``paired``: the paired comparisons each run's notebooks computed themselves, that is every table row with the
  columns ``difference``, ``difference_low``, ``difference_high`` and ``p_value`` (``compare_systems``,
  ``paired_tests``), with the verdict each run reached;
- ``provenance``: git commit, package versions, models and data hashes that differ.

Differences are ``b - a``. Values are compared as the notebooks showed them (rounded), so a change below the shown
precision is invisible, and one in the last shown digit may be rounding.

>>> from genlab.report.results import NotebookResult, RunResults
>>> def run(p):
...     nb = NotebookResult("20_x.ipynb", "20", "X", parameters={"MODEL": "base", "SEED": 0}, tables=[{
...         "cell": 3, "section": "Paired", "kind": "dataframe", "columns": ["metric", "difference",
...         "difference_low", "difference_high", "p_value"], "index_columns": [], "records": [{"metric": "rep",
...         "difference": p, "difference_low": p - 0.1, "difference_high": p + 0.1, "p_value": 0.01}]}])
...     return RunResults("run", "2026-01-01T00:00:00+00:00", {}, [nb])
>>> c = compare_runs(run(0.05), run(0.3))
>>> c.numbers[["column", "a", "b"]].to_dict("records")[0]
{'column': 'difference', 'a': 0.05, 'b': 0.3}
>>> c.paired[["comparison", "verdict_a", "verdict_b"]].to_dict("records")
[{'comparison': 'metric=rep', 'verdict_a': 'no detectable difference', 'verdict_b': 'above 0'}]
"""

from __future__ import annotations

import difflib
import html
import os
from dataclasses import dataclass
from typing import Any

import pandas as pd

from genlab.report.plots import error_bars
from genlab.report.results import RunResults, load_results

__all__ = ["PAIRED_COLUMNS", "RunComparison", "compare_runs", "paired_verdicts", "plot_paired", "verdict"]

PAIRED_COLUMNS = ("difference", "difference_low", "difference_high", "p_value")
MAX_HTML_ROWS = 200  # rows of a change table shown in the HTML section (the DataFrame keeps all)

ResultsLike = RunResults | dict | str | os.PathLike


def verdict(low: float | None, high: float | None) -> str:
    """What a paired interval on ``difference`` says: ``"above 0"``, ``"below 0"`` or ``"no detectable difference"``.

    >>> verdict(0.1, 0.4), verdict(-0.3, -0.01), verdict(-0.1, 0.2), verdict(None, 0.2)
    ('above 0', 'below 0', 'no detectable difference', 'no interval')
    """
    if low is None or high is None or not all(isinstance(x, (int, float)) for x in (low, high)):
        return "no interval"
    if low > 0:
        return "above 0"
    if high < 0:
        return "below 0"
    return "no detectable difference"


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


#: Columns that hold what a paired comparison measured; the columns before the first of them say what was compared
#: (``paired_tests`` and ``compare_systems`` put their key columns first).
MEASUREMENTS = ("n", "k", "score", "reference_score", "mean_a", "mean_b", *PAIRED_COLUMNS, "cohens_dz", "significant")


def _label(record: dict, index_columns: list[str]) -> str:
    """A readable name for a paired-comparison row: ``metric: a - b`` for ``compare_systems`` rows, else its key
    fields (those before the first measurement column; a default 0, 1, ... index left out).

    >>> row = {"index": 3, "model": "fgm", "kind": "typo", "strength": 0.15, "score": 0.1, "difference": 0.0}
    >>> _label(row, ["index"])
    'model=fgm, kind=typo, strength=0.15'
    """
    if {"metric", "a", "b"} <= set(record):
        return f"{record['metric']}: {record['a']} - {record['b']}"
    parts = []
    for k, v in record.items():
        if k in MEASUREMENTS:
            break
        if not (k == "index" and k in index_columns and _is_number(v)) and v is not None:
            parts.append(f"{k}={v}")
    return ", ".join(parts) or "(unnamed)"


def paired_verdicts(results: ResultsLike) -> pd.DataFrame:
    """Every paired comparison the run's notebooks computed: one row per table row that has the columns
    ``difference``, ``difference_low``, ``difference_high`` and ``p_value``.

    Columns: notebook, section, comparison (a label from the row's other fields), difference, difference_low,
    difference_high, p_value, n (when the table has it), verdict (see :func:`verdict`).
    """
    results = load_results(results)
    rows = []
    for nb in results.notebooks:
        for t in nb.tables:
            if not set(PAIRED_COLUMNS) <= set(t["columns"]):
                continue
            for rec in t["records"]:
                rows.append(
                    {
                        "notebook": nb.name,
                        "section": t["section"],
                        "comparison": _label(rec, t.get("index_columns", [])),
                        **{c: rec.get(c) for c in PAIRED_COLUMNS},
                        "n": rec.get("n"),
                        "verdict": verdict(rec.get("difference_low"), rec.get("difference_high")),
                    }
                )
    return pd.DataFrame(rows, columns=["notebook", "section", "comparison", *PAIRED_COLUMNS, "n", "verdict"])


def _row_keys(table: dict) -> list:
    """How rows are matched between runs: by their index values when those are unique, else by position."""
    idx = table.get("index_columns") or []
    keys = [tuple(r.get(c) for c in idx) for r in table["records"]] if idx else []
    if keys and len(set(keys)) == len(keys):
        return [" / ".join(map(str, k)) for k in keys]
    return [f"row {i}" for i in range(len(table["records"]))]


def _matched(ta: list[dict], tb: list[dict]) -> list[tuple[dict, dict]]:
    """The tables of two runs of a notebook in pairs: by the name each was recorded under, else by position.

    >>> [(x["name"], y["name"]) for x, y in _matched([{"name": "a"}, {"name": "b"}], [{"name": "b"}])]
    [('b', 'b')]
    """
    if all(t.get("name") for t in [*ta, *tb]):
        by_name = {t["name"]: t for t in tb}
        return [(x, by_name[x["name"]]) for x in ta if x["name"] in by_name]
    return list(zip(ta, tb, strict=False))


def _numbers(a: RunResults, b: RunResults, names: list[str], tol: float) -> pd.DataFrame:
    rows = []
    for name in names:
        ta, tb = a.notebook(name).tables, b.notebook(name).tables
        for k, (x, y) in enumerate(_matched(ta, tb)):
            ya = dict(zip(_row_keys(x), x["records"], strict=True))
            yb = dict(zip(_row_keys(y), y["records"], strict=True))
            for key in [k2 for k2 in ya if k2 in yb]:
                for col in [c for c in x["columns"] if c in y["columns"]]:
                    va, vb = ya[key].get(col), yb[key].get(col)
                    if _is_number(va) and _is_number(vb) and abs(vb - va) > tol * max(1.0, abs(va)):
                        rows.append(
                            {
                                "notebook": name,
                                "table": x.get("name") or k,
                                "section": x["section"],
                                "row": key,
                                "column": col,
                                "a": va,
                                "b": vb,
                                "change": vb - va,
                            }
                        )
    return pd.DataFrame(rows, columns=["notebook", "table", "section", "row", "column", "a", "b", "change"])


def _flat(d: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(d, dict):
        out: dict[str, Any] = {}
        for k, v in d.items():
            out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: d}


def _provenance_changes(a: RunResults, b: RunResults) -> pd.DataFrame:
    def summary(r: RunResults) -> dict[str, Any]:
        p = r.provenance or {}
        out = {
            "git.commit": p.get("git", {}).get("commit"),
            "git.dirty": p.get("git", {}).get("dirty"),
            "python": p.get("python"),
            **{f"packages.{k}": v for k, v in (p.get("packages") or {}).items()},
        }
        for m in p.get("models", []):
            out[f"model {m.get('source')}"] = m.get("weights_sha256") or "(no local weights)"
        for h in p.get("data_hashes", []):
            out[f"sha256 of {h.get('what')}"] = h.get("sha256")
        return out

    sa, sb = summary(a), summary(b)
    rows = [{"field": k, "a": sa.get(k), "b": sb.get(k)} for k in dict.fromkeys([*sa, *sb]) if sa.get(k) != sb.get(k)]
    return pd.DataFrame(rows, columns=["field", "a", "b"])


@dataclass
class RunComparison:
    """What differs between run ``a`` and run ``b`` (tables described in the module docstring)."""

    label_a: str
    label_b: str
    notebooks: pd.DataFrame
    parameters: pd.DataFrame
    checkpoints: pd.DataFrame
    numbers: pd.DataFrame
    paired: pd.DataFrame
    provenance: pd.DataFrame

    def summary(self) -> dict[str, int]:
        """How many differences of each kind.

        >>> from genlab.report.results import RunResults
        >>> r = RunResults("run", "2026-01-01T00:00:00+00:00", {}, [])
        >>> compare_runs(r, r).summary()["numbers"]
        0
        """
        changed_verdicts = int((self.paired["verdict_a"] != self.paired["verdict_b"]).sum()) if len(self.paired) else 0
        return {
            "parameters": len(self.parameters),
            "checkpoints": len(self.checkpoints),
            "numbers": len(self.numbers),
            "paired": len(self.paired),
            "changed_verdicts": changed_verdicts,
            "provenance": len(self.provenance),
        }

    def to_html(self) -> str:
        """An HTML section (``<section id="comparison">``) with every table, all text escaped."""
        e = html.escape
        out = [
            '<section class="extra" id="comparison"><h2>Comparison with another run</h2>',
            f'<p class="meta"><b>a</b>: {e(self.label_a)}<br><b>b</b>: {e(self.label_b)}<br>'
            "changes are b - a; values as the notebooks showed them (rounded)</p>",
        ]
        s = self.summary()
        out.append(
            f'<p class="meta">{s["parameters"]} parameter(s), {s["checkpoints"]} checkpoint(s) and '
            f"{s['numbers']} table value(s) differ; {s['paired']} paired comparison(s), "
            f"{s['changed_verdicts']} with a different verdict.</p>"
        )
        for title, df, note in (
            (
                "Paired verdicts",
                self.paired,
                "comparisons the notebooks computed themselves (paired bootstrap "
                "interval of the mean difference, permutation p-value), as each run found them",
            ),
            ("Parameters that differ", self.parameters, ""),
            ("Checkpoints that differ", self.checkpoints, ""),
            ("Table values that differ", self.numbers, ""),
            ("Notebooks", self.notebooks, ""),
            ("Provenance that differs", self.provenance, ""),
        ):
            out.append(f"<h3>{e(title)}</h3>" + (f'<p class="meta">{e(note)}</p>' if note else ""))
            if df.empty:
                out.append('<p class="meta">none</p>')
                continue
            shown = df.head(MAX_HTML_ROWS)
            out.append(_frame_html(shown))
            if len(df) > len(shown):
                out.append(
                    f'<p class="meta">… and {len(df) - len(shown)} more (all of them in the DataFrame '
                    "<code>compare_runs(...)." + e(title.split()[0].lower()) + "</code>)</p>"
                )
        out.append("</section>")
        return "\n".join(out)


def _frame_html(df: pd.DataFrame) -> str:
    """A DataFrame as an escaped HTML table (text cells keep their line breaks in <pre>)."""
    e = html.escape

    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"<td>{v:.4g}</td>"
        text = "" if v is None else str(v)
        if "\n" in text:
            return f'<td style="text-align:left"><pre>{e(text)}</pre></td>'
        return f"<td>{e(text)}</td>"

    head = "".join(f"<th>{e(str(c))}</th>" for c in df.columns)
    body = "".join("<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in df.itertuples(index=False))
    return (
        f'<div class="table-wrap"><table class="dataframe"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _run_label(r: RunResults) -> str:
    models = ", ".join(str(m.get("source")) for m in (r.provenance or {}).get("models", []) if m.get("notebooks"))
    commit = str((r.provenance or {}).get("git", {}).get("commit") or "")[:10]
    return (
        f"{r.title}, built {r.created}"
        + (f", models: {models}" if models else "")
        + (f", commit {commit}" if commit else "")
    )


def compare_runs(
    a_results_json: ResultsLike,
    b_results_json: ResultsLike,
    *,
    tol: float = 1e-9,
    label_a: str | None = None,
    label_b: str | None = None,
) -> RunComparison:
    """What changed from run ``a`` to run ``b`` (see the module docstring). ``tol``: relative change below which two
    numbers count as equal. Raises like :func:`~genlab.report.results.load_results` on a missing file or a file of
    another schema version."""
    a, b = load_results(a_results_json), load_results(b_results_json)
    names_a, names_b = [nb.name for nb in a.notebooks], [nb.name for nb in b.notebooks]
    common = [n for n in names_a if n in names_b]

    nb_rows = []
    for name in dict.fromkeys(names_a + names_b):
        x = a.notebook(name) if name in names_a else None
        y = b.notebook(name) if name in names_b else None
        nb_rows.append(
            {
                "notebook": name,
                "status_a": x.status if x else "(not in run a)",
                "status_b": y.status if y else "(not in run b)",
                "wall_time_s_a": x.wall_time_s if x else None,
                "wall_time_s_b": y.wall_time_s if y else None,
            }
        )

    par_rows, chk_rows = [], []
    for name in common:
        x, y = a.notebook(name), b.notebook(name)
        for key in dict.fromkeys([*x.parameters, *y.parameters]):
            va, vb = x.parameters.get(key, "(unset)"), y.parameters.get(key, "(unset)")
            if va != vb:
                par_rows.append({"notebook": name, "parameter": key, "a": _show(va), "b": _show(vb)})
        for k in range(max(len(x.checkpoints), len(y.checkpoints))):
            ca = x.checkpoints[k] if k < len(x.checkpoints) else None
            cb = y.checkpoints[k] if k < len(y.checkpoints) else None
            ta, tb = (ca or {}).get("text", "(none)"), (cb or {}).get("text", "(none)")
            if ta != tb:
                diff = [
                    line
                    for line in difflib.unified_diff(ta.split("\n"), tb.split("\n"), "a", "b", n=0, lineterm="")
                    if not line.startswith(("---", "+++", "@@"))
                ]
                chk_rows.append(
                    {
                        "notebook": name,
                        "checkpoint": k,
                        "section": (ca or cb or {}).get("section", ""),
                        "diff": "\n".join(diff),
                    }
                )

    pa, pb = paired_verdicts(a), paired_verdicts(b)
    key = ["notebook", "section", "comparison"]
    # the same label twice in a section (two tables of the same shape) pairs up in order
    pa["occurrence"], pb["occurrence"] = pa.groupby(key).cumcount(), pb.groupby(key).cumcount()
    paired = pa.merge(pb, on=[*key, "occurrence"], how="outer", suffixes=("_a", "_b"))
    paired = paired[
        key
        + [
            f"{c}_{s}"
            for s in ("a", "b")
            for c in ("difference", "difference_low", "difference_high", "p_value", "verdict")
        ]
    ]
    paired = paired.astype(object).where(paired.notna(), None)

    return RunComparison(
        label_a=label_a or _run_label(a),
        label_b=label_b or _run_label(b),
        notebooks=pd.DataFrame(nb_rows),
        parameters=pd.DataFrame(par_rows, columns=["notebook", "parameter", "a", "b"]),
        checkpoints=pd.DataFrame(chk_rows, columns=["notebook", "checkpoint", "section", "diff"]),
        numbers=_numbers(a, b, common, tol),
        paired=paired.reset_index(drop=True),
        provenance=_provenance_changes(a, b),
    )


def _show(v: Any) -> str:
    return v if isinstance(v, str) else repr(v)


def plot_paired(
    paired: pd.DataFrame,
    title: str = "Paired differences with 95% intervals",
    xaxis_title: str = "difference (first minus second), 95% paired bootstrap interval",
):
    """A forest plot of paired comparisons: each row's ``difference`` with its [``difference_low``,
    ``difference_high``] interval, one marker per comparison, and a line at 0.

    ``paired``: a table with a ``comparison`` (or ``metric``) column and the paired columns, e.g. rows of
    ``compare_systems`` or :func:`paired_verdicts`.

    >>> df = pd.DataFrame({"metric": ["coverage"], "difference": [0.2], "difference_low": [0.1],
    ...                    "difference_high": [0.3], "p_value": [0.01]})
    >>> fig = plot_paired(df)
    >>> fig.layout.title.text, list(fig.data[0].y)
    ('Paired differences with 95% intervals', ['coverage'])
    """
    import numpy as np
    import plotly.graph_objects as go

    missing = [c for c in ("difference", "difference_low", "difference_high") if c not in paired.columns]
    if missing:
        raise ValueError(f"a paired table needs the columns {missing}; it has {list(paired.columns)}")
    label = "comparison" if "comparison" in paired.columns else "metric" if "metric" in paired.columns else None
    names = paired[label].astype(str).tolist() if label else [f"row {i}" for i in range(len(paired))]
    est = paired["difference"].to_numpy(dtype=float)
    bars = error_bars(
        est, paired["difference_low"].to_numpy(dtype=float), paired["difference_high"].to_numpy(dtype=float)
    )
    hover = [f"p = {p:.3g}" for p in paired["p_value"]] if "p_value" in paired.columns else None
    fig = go.Figure(
        go.Scatter(x=est, y=names, mode="markers", error_x=bars, marker={"size": 10}, text=hover, name="difference")
    )
    fig.add_vline(x=0, line_dash="dash", line_color="grey")
    span = (
        np.nanmax(np.abs(np.r_[paired["difference_low"], paired["difference_high"]].astype(float)))
        if len(paired)
        else 1.0
    )
    fig.update_layout(
        title=title,
        xaxis_title=xaxis_title,
        yaxis_title="",
        template="plotly_white",
        height=max(260, 90 + 45 * len(paired)),
        xaxis_range=[-1.1 * span, 1.1 * span] if np.isfinite(span) and span > 0 else None,
    )
    return fig
