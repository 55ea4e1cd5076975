"""Record, don't scrape: a notebook names the table, figure or number it reports, and the report reads it by name.

In the spirit of scrapbook's ``glue``. In a notebook::

    from genlab.report import record

    record("paired", paired.round(3))                 # a DataFrame (or a Series): shown as usual, and recorded
    record("tradeoff_figure", plot_tradeoff(table))   # a plotly figure: drawn as usual, and recorded
    record("n_prompts", len(prompts))                 # a number: shown as its text, and recorded

Each call displays one output that carries two things: the usual rendering (the DataFrame's HTML, the plotly
figure, the number's text) and a ``application/vnd.genlab.record+json`` entry ``{"name", "kind", "data"}`` that is
stored with the cell's output in the ``.ipynb`` (a figure's entry says ``"data_mime":
"application/vnd.plotly.v1+json"`` instead of repeating the figure: its data is that entry of the same output).
Front ends that do not know the mimetype ignore it. Afterwards
:func:`records` gets the values back from the notebook's JSON by name, without executing anything::

    records(json.load(open("executed.ipynb")))["paired"]   # a DataFrame, index restored

Call ``record`` in ordinary cells, not in checkpoint cells (tagged ``nbval-check-output``): nbval compares every
mimetype of a checkpoint's outputs. ``kind`` is ``"table"`` (data: ``columns``, ``index_columns``, ``records`` as
in ``results.json``; MultiIndex column levels joined with ``" / "``, NaN as ``null``), ``"figure"`` (data: plotly's
JSON) or ``"number"`` (data: the int or float). A name is recorded once per notebook; a second record of the same
name replaces the first in :func:`records`, and :func:`recorded` keeps both.

>>> import pandas as pd
>>> d = record_data("t", pd.DataFrame({"x": [0.5, float("nan")]}, index=pd.Index(["a", "b"], name="system")))
>>> d["kind"], d["data"]["index_columns"], d["data"]["records"]
('table', ['system'], [{'system': 'a', 'x': 0.5}, {'system': 'b', 'x': None}])
>>> nb = {"cells": [{"cell_type": "code", "source": "", "metadata": {}, "outputs": [
...     {"output_type": "display_data", "metadata": {}, "data": {RECORD_MIME: d}}]}]}
>>> bool(records(nb)["t"]["x"].isna().loc["b"])  # NaN again
True
"""

from __future__ import annotations

import json
import math
import numbers
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["PLOTLY_MIME", "RECORD_MIME", "Recorded", "record", "record_data", "recorded", "records", "table_frame"]

RECORD_MIME = "application/vnd.genlab.record+json"
PLOTLY_MIME = "application/vnd.plotly.v1+json"
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def _plain(v: Any) -> Any:
    """A value as JSON holds it: numpy scalars as Python numbers, NaN and infinities as None, others as text."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if hasattr(v, "item") and not isinstance(v, (list, tuple, dict)):
        try:
            v = v.item()  # numpy scalar
        except (ValueError, AttributeError):
            pass
    if isinstance(v, bool):
        return v
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, numbers.Real):
        return float(v) if math.isfinite(v) else None
    try:
        import pandas as pd

        if v is pd.NA or v is pd.NaT:
            return None
    except ImportError:
        pass
    return str(v)


def _table(frame) -> dict:
    import pandas as pd

    if isinstance(frame, pd.Series):  # a Series reads as one row: its index labels become the columns
        row = frame.to_frame().T
        columns = [str(c) for c in row.columns]
        values = [{c: _plain(v) for c, v in zip(columns, row.iloc[0].tolist(), strict=True)}]
        return {"columns": columns, "index_columns": [], "records": values}
    frame = frame.copy()
    if isinstance(frame.columns, pd.MultiIndex):
        frame.columns = [" / ".join(dict.fromkeys(str(x) for x in col if str(x))) for col in frame.columns]
    frame.columns = [str(c) for c in frame.columns]
    names = [str(n) if n is not None else ("index" if frame.index.nlevels == 1 else f"level_{i}")
             for i, n in enumerate(frame.index.names)]
    frame.index = frame.index.set_names(names)
    flat = frame.reset_index()
    columns = [str(c) for c in flat.columns]
    rows = [{c: _plain(v) for c, v in zip(columns, row, strict=True)} for row in flat.itertuples(index=False)]
    return {"columns": columns, "index_columns": names, "records": rows}


def record_data(name: str, value: Any) -> dict:
    """The ``{"name", "kind", "data"}`` that :func:`record` stores for ``value`` (JSON only)."""
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ValueError(f"record name {name!r}: use letters, digits, '_', '.' or '-' (e.g. 'paired_tests')")
    import pandas as pd

    if isinstance(value, (pd.DataFrame, pd.Series)):
        kind, data = "table", _table(value)
    elif hasattr(value, "to_plotly_json"):
        kind, data = "figure", json.loads(value.to_json())
    elif isinstance(value, numbers.Real) or (hasattr(value, "item") and getattr(value, "ndim", 1) == 0):
        kind, data = "number", _plain(value)
    else:
        raise TypeError(f"record({name!r}, ...) takes a DataFrame, a Series, a plotly figure or a number, "
                        f"not {type(value).__name__}")
    return {"name": name, "kind": kind, "data": data}


def record(name: str, value: Any) -> None:
    """Show ``value`` as the notebook would, and record it under ``name`` for the report (see the module)."""
    from IPython.display import display

    rec = record_data(name, value)
    if rec["kind"] == "figure":  # stored once: the record points to the plotly entry of the same output
        bundle = {PLOTLY_MIME: rec["data"], "text/plain": f"<plotly figure {name!r}>"}
        rec = {"name": name, "kind": "figure", "data_mime": PLOTLY_MIME}
    elif rec["kind"] == "table":
        bundle = {"text/plain": repr(value)}
        if hasattr(value, "_repr_html_"):  # a DataFrame's usual HTML (a Series has none)
            bundle["text/html"] = value._repr_html_()
    else:
        bundle = {"text/plain": repr(value)}
    display({**bundle, RECORD_MIME: rec}, raw=True)


# --- reading them back ---------------------------------------------------------------------------------------------
@dataclass
class Recorded:
    """One record in an executed notebook: where it is (cell index, the markdown heading above) and what."""

    cell: int
    section: str
    name: str
    kind: str  # "table", "figure" or "number"
    data: Any  # as stored (JSON); see table_frame for a table's DataFrame


def _iter(nb: dict) -> Iterator[Recorded]:
    from genlab.report.extract import walk  # cells with the heading above them, as the checkpoints are read

    for i, section, cell in walk(nb):
        for out in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            rec = out.get("data", {}).get(RECORD_MIME)
            if not isinstance(rec, dict) or not {"name", "kind"} <= set(rec):
                continue
            data = out["data"].get(rec["data_mime"]) if "data_mime" in rec else rec.get("data")
            if data is not None:
                yield Recorded(i, section, rec["name"], rec["kind"], data)


def recorded(nb: dict) -> list[Recorded]:
    """Every record of the notebook (its JSON as ``json.load`` gives it), in order, with cell and section."""
    return list(_iter(nb))


def table_frame(data: dict):
    """A recorded table's data as a DataFrame, index columns restored."""
    import pandas as pd

    df = pd.DataFrame(data["records"], columns=data["columns"])
    return df.set_index(data["index_columns"]) if data.get("index_columns") else df


def records(nb: dict) -> dict[str, Any]:
    """``{name: value}`` for every record of the notebook: a DataFrame for a table, plotly's JSON (a dict) for a
    figure, an int or float for a number. A name recorded twice keeps its last value."""
    out: dict[str, Any] = {}
    for r in _iter(nb):
        out[r.name] = table_frame(r.data) if r.kind == "table" else r.data
    return out
