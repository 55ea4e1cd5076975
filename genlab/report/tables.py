"""Tables out of executed notebooks: pandas' HTML (and a Series' text) read back into rows and records.

A notebook shows a DataFrame as the HTML that pandas writes (``<table class="dataframe">``). The report never
pastes that HTML into its page: :func:`parse_html_table` reads it into a :class:`Table` (the cells as text, with
their row and column spans), and :meth:`Table.to_html` writes it out again with every cell escaped. The same
table gives ``results.json`` its records, one dict per row, index columns first. Values are what the notebook
showed (pandas' rounding and formatting), converted to numbers where the text is one; ``NaN`` becomes ``None``.

A ``pd.Series`` has no HTML form; :func:`parse_series_text` reads its text form (``name  value`` lines ending in
``dtype: ...``), as ``compare_systems`` returns, into a one-row table.

>>> t = parse_html_table('<table class="dataframe"><thead><tr><th></th><th>x</th><th>x_low</th></tr>'
...                      '<tr><th>system</th><th></th><th></th></tr></thead>'
...                      '<tbody><tr><th>greedy</th><td>0.5</td><td>NaN</td></tr></tbody></table>')
>>> t.columns, t.records
(['system', 'x', 'x_low'], [{'system': 'greedy', 'x': 0.5, 'x_low': None}])
>>> "<b>" in parse_html_table('<table class="dataframe"><tr><td>&lt;b&gt;</td></tr></table>').to_html()
False
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser

__all__ = ["Cell", "Table", "is_dataframe_html", "parse_html_table", "parse_series_text", "to_value"]


@dataclass
class Cell:
    text: str
    header: bool = False  # a <th>: a column label, an index label or an index value
    rowspan: int = 1
    colspan: int = 1


@dataclass
class Table:
    """A table as a notebook showed it: header rows and body rows of cells, spans kept."""

    head: list[list[Cell]] = field(default_factory=list)
    body: list[list[Cell]] = field(default_factory=list)
    caption: str = ""  # e.g. "dtype: float64" for a Series, or pandas' "5 rows × 3 columns"

    # --- reading -------------------------------------------------------------------------------------------------
    @property
    def index_levels(self) -> int:
        """How many leading columns are the index (the <th> cells that start the first body row, spans counted)."""
        grid = _expand(self.body)
        if not grid:
            return 0
        n = 0
        for cell in grid[0]:
            if cell is None or not cell.header:
                break
            n += 1
        return n

    @property
    def columns(self) -> list[str]:
        """Column names, index columns first; levels of a column MultiIndex joined with ``" / "``."""
        body, head = _expand(self.body), _expand(self.head)
        width = max((len(r) for r in body + head), default=0)
        k = self.index_levels
        names: list[str] = []
        for j in range(width):
            levels = [r[j].text.strip() for r in head if j < len(r) and r[j] is not None and r[j].text.strip()]
            if j < k:  # the index's name sits in the last header row (pandas), or nowhere
                last = head[-1][j] if head and j < len(head[-1]) and head[-1][j] is not None else None
                name = last.text.strip() if last is not None else ""
                names.append(name or ("index" if k == 1 else f"level_{j}"))
            else:
                names.append(" / ".join(dict.fromkeys(levels)) or f"column_{j}")
        return _unique(names)

    @property
    def records(self) -> list[dict]:
        """One dict per body row: ``{column: value}``, values converted with :func:`to_value`."""
        cols = self.columns
        rows = []
        for r in _expand(self.body):
            r = r + [None] * (len(cols) - len(r))  # a header wider than the body
            rows.append({c: to_value(cell.text) if cell is not None else None for c, cell in zip(cols, r, strict=True)})
        return rows

    def cells(self) -> list[str]:
        """Every cell's text, header first (what masking and searching look at)."""
        return [c.text for row in self.head + self.body for c in row]

    def map_text(self, fn: Callable[[str], str]) -> Table:
        """A copy with ``fn`` applied to every cell's text (e.g. masking secrets)."""

        def rows(part):
            return [[Cell(fn(c.text), c.header, c.rowspan, c.colspan) for c in row] for row in part]

        return Table(rows(self.head), rows(self.body), fn(self.caption))

    # --- writing -------------------------------------------------------------------------------------------------
    def to_html(self, css_class: str = "dataframe") -> str:
        """The table as HTML, every cell's text escaped (notebook output is never trusted as markup)."""

        numeric = self._numeric_cells()

        def row(cells: list[Cell]) -> str:
            out = []
            for c in cells:
                tag = "th" if c.header else "td"
                spans = (f' rowspan="{c.rowspan}"' if c.rowspan > 1 else "") + (
                    f' colspan="{c.colspan}"' if c.colspan > 1 else ""
                )
                # numbers right-aligned (with their headers); short cells such as "6.03 [5.25, 7.20]" kept on one line
                classes = [name for name, on in (("num", id(c) in numeric), ("short", len(c.text) <= 32)) if on]
                cls = f' class="{" ".join(classes)}"' if classes else ""
                out.append(f"<{tag}{spans}{cls}>{html.escape(c.text)}</{tag}>")
            return "<tr>" + "".join(out) + "</tr>"

        head = "<thead>" + "".join(row(r) for r in self.head) + "</thead>" if self.head else ""
        body = "<tbody>" + "".join(row(r) for r in self.body) + "</tbody>"
        caption = f'<p class="table-caption">{html.escape(self.caption)}</p>' if self.caption else ""
        return f'<div class="table-wrap"><table class="{html.escape(css_class)}">{head}{body}</table>{caption}</div>'

    def _numeric_cells(self) -> set[int]:
        """ids of the value cells that hold numbers, and of the header cells above columns of numbers only."""
        body, head = _expand(self.body), _expand(self.head)
        out: set[int] = set()
        width = max((len(r) for r in body + head), default=0)
        for j in range(width):
            values = [r[j] for r in body if j < len(r) and r[j] is not None and not r[j].header]
            numbers = [c for c in values if isinstance(to_value(c.text), (int, float)) or to_value(c.text) is None]
            out.update(id(c) for c in numbers if to_value(c.text) is not None)
            if values and len(numbers) == len(values):
                out.update(id(r[j]) for r in head if j < len(r) and r[j] is not None and r[j].colspan == 1)
        return out


def _expand(rows: list[list[Cell]]) -> list[list[Cell | None]]:
    """The rows as a rectangular grid: a cell spanning r rows and c columns fills r x c slots."""
    grid: list[list[Cell | None]] = []
    pending: dict[tuple[int, int], Cell] = {}  # (row, column) -> a cell spilling down from a row above
    for i, cells in enumerate(rows):
        out: list[Cell | None] = []
        j = 0
        queue = list(cells)
        while queue or (i, j) in pending:
            if (i, j) in pending:
                out.append(pending.pop((i, j)))
                j += 1
                continue
            c = queue.pop(0)
            for dj in range(c.colspan):
                out.append(c)
                for di in range(1, c.rowspan):
                    pending[(i + di, j + dj)] = c
            j += c.colspan
        grid.append(out)
    width = max((len(r) for r in grid), default=0)
    return [r + [None] * (width - len(r)) for r in grid]


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}_{seen[n]}")
    return out


_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def to_value(text: str):
    """A shown value as JSON can hold it: int, float, bool, ``None`` for NaN/None/empty, else the text.

    >>> [to_value(x) for x in ["3", "-0.25", "1e-05", "NaN", "True", "greedy", "", "inf"]]
    [3, -0.25, 1e-05, None, True, 'greedy', None, 'inf']
    """
    t = text.strip()
    if t in ("", "NaN", "nan", "None", "<NA>", "NaT"):
        return None
    if t in ("True", "False"):
        return t == "True"
    if _INT.match(t):
        return int(t)
    if _FLOAT.match(t):
        v = float(t)
        return v if math.isfinite(v) else t
    return t


class _TableParser(HTMLParser):
    """Reads the first <table> of an HTML fragment into rows of cells (text only; tags inside cells dropped)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.head: list[list[Cell]] = []
        self.body: list[list[Cell]] = []
        self.depth = 0  # nested tables are read as text of their cell
        self.done = False
        self.section = "body"
        self.row: list[Cell] | None = None
        self.cell: Cell | None = None
        self.skip = 0  # inside <style> or <script>
        self.caption: list[str] = []
        self.after = False  # text after the table (pandas' "N rows × M columns")

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script"):
            self.skip += 1
            return
        if self.done:
            return
        if tag == "table":
            self.depth += 1
            return
        if self.depth != 1:
            return
        a = dict(attrs)
        if tag == "thead":
            self.section = "head"
        elif tag == "tbody":
            self.section = "body"
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = Cell("", tag == "th", _span(a.get("rowspan")), _span(a.get("colspan")))
        elif tag == "br" and self.cell is not None:
            self.cell.text += "\n"

    def handle_endtag(self, tag):
        if tag in ("style", "script"):
            self.skip = max(0, self.skip - 1)
            return
        if self.done:
            return
        if tag == "table":
            self.depth -= 1
            if self.depth == 0:
                self.done = self.after = True
            return
        if self.depth != 1:
            return
        if tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.cell.text = self.cell.text.strip()
            self.row.append(self.cell)
            self.cell = None
        elif tag == "tr" and self.row is not None:
            (self.head if self.section == "head" else self.body).append(self.row)
            self.row = None
        elif tag == "thead":
            self.section = "body"

    def handle_data(self, data):
        if self.skip:
            return
        if self.cell is not None and self.depth >= 1:
            self.cell.text += data
        elif self.after and data.strip():
            self.caption.append(data.strip())


def _span(value) -> int:
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return 1


def is_dataframe_html(text: str) -> bool:
    """Whether an output's HTML is a pandas table (``<table ... class="dataframe">``)."""
    return bool(re.search(r"<table[^>]*class=\"[^\"]*dataframe", text))


def parse_html_table(text: str) -> Table:
    """The first table in ``text`` (pandas' ``DataFrame._repr_html_``) as a :class:`Table`.

    Raises ``ValueError`` if ``text`` holds no table.
    """
    p = _TableParser()
    p.feed(text)
    p.close()
    if not (p.head or p.body):
        raise ValueError("no <table> with rows in this HTML")
    return Table(p.head, p.body, " ".join(p.caption))


_SERIES_LINE = re.compile(r"^(\S.*?)\s{2,}(\S.*)$")
_SERIES_END = re.compile(r"^(Name: .*, )?(Length: \d+, )?dtype: \w+$")


def parse_series_text(text: str) -> Table | None:
    """A pandas Series' text form (``index  value`` lines, then ``dtype: ...``) as a one-row table, else ``None``.

    >>> t = parse_series_text("metric          rate\\ndifference    -0.05\\np_value        0.31\\ndtype: object")
    >>> t.records
    [{'metric': 'rate', 'difference': -0.05, 'p_value': 0.31}]
    >>> parse_series_text("just some printed text") is None
    True
    """
    lines = [line.rstrip() for line in text.strip().split("\n")]
    if len(lines) < 2 or not _SERIES_END.match(lines[-1]):
        return None
    pairs = []
    for line in lines[:-1]:
        m = _SERIES_LINE.match(line)
        if not m or line.strip() == "...":
            return None  # a MultiIndex, a truncated or an unusual Series: shown as text instead
        pairs.append((m.group(1).strip(), m.group(2).strip()))
    head = [[Cell(k, header=True) for k, _ in pairs]]
    body = [[Cell(v) for _, v in pairs]]
    return Table(head, body, lines[-1])
