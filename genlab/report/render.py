"""The self-contained HTML report: one file that opens offline and shows what every notebook of a run found.

The page holds, per notebook in series order, what it recorded with ``genlab.report.record`` (figures drawn by
plotly.js from their recorded JSON, tables, numbers; each under its name), its checkpoint outputs and its
Limitations section; then a
comparison with another run (optional) and the run's provenance. plotly.js is embedded once, as an inline script
(``plotly.offline.get_plotlyjs()``); the page loads nothing from the network.

Escaping. Notebook output is data, never markup: tables are written from their recorded values, every cell
escaped, printed text and titles go through ``html.escape``, figure JSON sits in
``<script type="application/json">`` blocks with ``<``, ``>`` and ``&`` written as JSON escapes (so a string such
as ``</script>`` in a hover label cannot close the block), and markdown is rendered with raw HTML escaped. Every
string also passes through the report's masker first (``genlab.report.mask``).

>>> page = render_report(RunResults("demo", "2026-01-01T00:00:00+00:00", {}, []), {}, plotly_js="/*plotly*/")
>>> page.count("/*plotly*/"), "<script src=" in page
(1, False)
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from genlab.report.extract import checkpoints, errors, figure_title, limitations
from genlab.report.recording import Recorded, recorded
from genlab.report.results import RunResults

__all__ = [
    "FIGURE_CLASS",
    "ReportPage",
    "figure_blocks",
    "inspect_report",
    "markdown_html",
    "render_report",
    "table_html",
]

FIGURE_CLASS = "plotly-figure"  # each figure's <div>; its data-title attribute holds the title

CSS = """
:root { --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --soft: #f6f8fa; --accent: #0b5cad; --warn: #9a3412; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); margin: 0; }
main { max-width: 70rem; margin: 0 auto; padding: 1.5rem 2rem 4rem; }
header.run { border-bottom: 2px solid var(--ink); margin-bottom: 1.5rem; padding-bottom: .8rem; }
header.run h1 { margin: 0 0 .3rem; font-size: 1.8rem; }
.meta, .summary { color: var(--muted); margin: .2rem 0; } .summary p { margin: .2rem 0; }
nav.toc ol { columns: 2; margin: .4rem 0 0; padding-left: 1.4rem; }
nav.toc a, a { color: var(--accent); text-decoration: none; }
section.notebook, section.extra { border-top: 1px solid var(--line); margin-top: 2.2rem; padding-top: .6rem; }
h2 { font-size: 1.45rem; margin: .6rem 0 .2rem; }
h3 { font-size: 1.1rem; margin: 1.6rem 0 .5rem; color: var(--ink); }
h4 { font-size: .95rem; margin: 1.1rem 0 .3rem; color: var(--muted); }
.badge { display: inline-block; padding: 0 .5rem; border-radius: 1rem; font-size: .8rem; font-weight: 600; }
.badge.ok { background: #dafbe1; color: #116329; } .badge.failed { background: #ffebe9; color: #a40e26; }
.badge.noise { background: #fff1e5; color: var(--warn); }
.plot { margin: .8rem 0 1.2rem; border: 1px solid var(--line); border-radius: 6px; padding: .3rem; }
.plotly-figure { width: 100%; }
.table-wrap { overflow-x: auto; margin: .5rem 0 1rem; }
table { border-collapse: collapse; font-size: .85rem; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--line); padding: .25rem .6rem; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; } td.short, th.short { white-space: nowrap; }
thead th { border-bottom: 2px solid var(--ink); } tbody th { font-weight: 600; }
tbody tr:nth-child(even) { background: var(--soft); }
table.kv td, table.kv th { text-align: left; }
.table-caption { color: var(--muted); font-size: .8rem; margin: .2rem 0 0; }
pre { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: .6rem .8rem;
      white-space: pre-wrap; word-break: break-word; font-size: .85rem; margin: .4rem 0 1rem; }
pre.checkpoint { border-left: 4px solid #2da44e; }
.params { font: .8rem/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; color: var(--muted); margin: .3rem 0; }
.kind { color: var(--muted); font-size: .78rem; text-transform: uppercase; letter-spacing: .04em; margin: .8rem 0 0; }
.limitations { background: #fff8c5; border: 1px solid #eed888; border-radius: 6px; padding: .2rem 1rem;
               margin-top: 1.6rem; }
.noise { background: #fff1e5; border: 1px solid #f5c99b; border-radius: 6px; padding: .2rem 1rem; margin-top: 1rem; }
.verdict-yes { color: #116329; font-weight: 600; } .verdict-no { color: var(--muted); }
code { font-size: .85em; background: var(--soft); padding: 0 .2rem; border-radius: 3px; }
footer { color: var(--muted); font-size: .8rem; margin-top: 3rem; }
"""

# Draws every figure from its JSON block once plotly.js has loaded (it is inline above this script).
DRAW_JS = """
(function () {
  var divs = document.querySelectorAll("div.FIGURE_CLASS");
  for (var i = 0; i < divs.length; i++) {
    var div = divs[i];
    var fig = JSON.parse(document.getElementById(div.id + "-data").textContent);
    var layout = fig.layout || {};
    layout.autosize = true;
    Plotly.newPlot(div, fig.data || [], layout, {responsive: true, displaylogo: false});
  }
})();
""".replace("FIGURE_CLASS", FIGURE_CLASS)


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def script_json(obj: Any) -> str:
    """JSON that is safe inside ``<script type="application/json">``: ``<``, ``>`` and ``&`` as ``\\u`` escapes.

    >>> script_json({"t": "</script><b>"})
    '{"t": "\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e"}'
    """
    text = json.dumps(obj, ensure_ascii=False, allow_nan=False, default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def markdown_html(text: str) -> str:
    """Markdown rendered to HTML with any raw HTML in it escaped (mistune, which nbconvert installs); without
    mistune, the escaped text in a ``<pre>``.

    >>> markdown_html("- **Small** <b>n</b>")
    '<ul>\\n<li><strong>Small</strong> &lt;b&gt;n&lt;/b&gt;</li>\\n</ul>\\n'
    """
    try:
        import mistune
    except ImportError:
        return f"<pre>{_e(text)}</pre>"
    return mistune.create_markdown(escape=True, plugins=["table", "strikethrough"])(text)


def figure_blocks(fig: Recorded, key: str, mask: Callable[[Any], Any]) -> str:
    """The ``<div>`` plotly draws the recorded figure ``fig`` into, and its JSON block; ``mask`` applies to the
    figure's JSON."""
    data = mask(fig.data)
    height = data.get("layout", {}).get("height") or 450
    return (
        f'<figure class="plot"><div class="{FIGURE_CLASS}" id="{_e(key)}" '
        f'data-title="{_e(mask(figure_title(fig.data)))}" data-name="{_e(fig.name)}" '
        f'style="height:{int(height)}px"></div>'
        f'<script type="application/json" id="{_e(key)}-data">{script_json(data)}</script></figure>'
    )


def _cell_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def table_html(data: Mapping[str, Any], mask: Callable[[Any], Any] | None = None) -> str:
    """A recorded table (``columns``, ``index_columns``, ``records``) as HTML: index columns as row headers,
    numbers right-aligned, every cell escaped (and masked with ``mask``).

    >>> page = table_html({"columns": ["system", "x"], "index_columns": ["system"],
    ...                    "records": [{"system": "<b>", "x": 0.5}]})
    >>> page[page.index("<tbody>"):page.index("</tbody>")]
    '<tbody><tr><th>&lt;b&gt;</th><td class="num">0.5</td></tr>'
    """
    mask = mask or (lambda x: x)
    cols, index = list(data["columns"]), set(data.get("index_columns") or [])
    rows = data["records"]

    def is_num(v):
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    numeric = {c for c in cols if c not in index and all(is_num(r.get(c)) or r.get(c) is None for r in rows)}
    num = ' class="num"'
    head = "".join(f"<th{num if c in numeric else ''}>{_e(mask(c))}</th>" for c in cols)
    body = []
    for r in rows:
        cells = []
        for c in cols:
            tag = "th" if c in index else "td"
            cls = num if is_num(r.get(c)) else ""
            cells.append(f"<{tag}{cls}>{_e(mask(_cell_text(r.get(c))))}</{tag}>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<div class="table-wrap"><table class="dataframe"><thead><tr>{head}</tr></thead>'
        f'<tbody>{"".join(body)}</tbody></table></div>'
    )


def _kv_table(rows: Mapping[str, Any] | list[tuple[str, Any]], head: tuple[str, str] | None = None) -> str:
    items = rows.items() if isinstance(rows, Mapping) else rows
    body = "".join(f"<tr><th>{_e(k)}</th><td>{_e(_short(v))}</td></tr>" for k, v in items)
    thead = f"<thead><tr><th>{_e(head[0])}</th><th>{_e(head[1])}</th></tr></thead>" if head else ""
    return f'<div class="table-wrap"><table class="kv">{thead}<tbody>{body}</tbody></table></div>'


def _short(v: Any) -> str:
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False)
    return "" if v is None else str(v)


def _notebook_section(result, nb: dict | None, index: int, mask) -> str:
    status_ok = result.status == "ok"
    badge = f'<span class="badge {"ok" if status_ok else "failed"}">{_e(result.status)}</span>'
    if result.stderr:
        badge += f' <span class="badge noise">{len(result.stderr)} unexpected stderr line(s)</span>'
    wall = f"{result.wall_time_s:.1f} s" if result.wall_time_s is not None else "not run"
    counts = (
        f"{len(result.figures)} figure(s) · {len(result.tables)} table(s) · {len(result.numbers)} number(s) · "
        f"{len(result.checkpoints)} checkpoint(s) · {wall}"
    )
    out = [
        f'<section class="notebook" id="nb-{_e(result.number)}">',
        f"<h2>{_e(result.number)} · {_e(mask(result.title))}</h2>",
        f'<div class="summary">{markdown_html(mask(result.summary))}</div>',  # markdown, raw HTML escaped
        f'<p class="meta">{badge} {_e(counts)}</p>',
    ]
    if result.parameters:
        shown = ", ".join(f"{k} = {_short(v)}" for k, v in result.parameters.items())
        out.append(f'<p class="params"><b>Parameters</b> {_e(mask(shown))}</p>')
    if nb is not None:
        items: list[tuple[int, int, str, str]] = []  # (cell, order, section, html)
        recs = recorded(nb)
        for k, r in enumerate(x for x in recs if x.kind == "figure"):
            items.append((r.cell, 1, r.section, figure_blocks(r, f"fig-{index}-{k}", mask)))
        for r in recs:
            if r.kind == "table":
                label = f'<p class="kind">table · <code>{_e(r.name)}</code></p>'
                items.append((r.cell, 2, r.section, label + table_html(r.data, mask)))
            elif r.kind == "number":
                label = f'<p class="kind">number · <code>{_e(r.name)}</code></p>'
                items.append((r.cell, 2, r.section, f'{label}<pre class="number">{_e(_cell_text(r.data))}</pre>'))
        for c in checkpoints(nb):
            items.append(
                (
                    c.cell,
                    0,
                    c.section,
                    f'<p class="kind">checkpoint</p><pre class="checkpoint">{_e(mask(c.text))}</pre>',
                )
            )
        current = None
        for _, _, section, block in sorted(items, key=lambda x: (x[0], x[1])):
            if section != current and section:
                out.append(f"<h3>{_e(mask(section))}</h3>")
            current = section
            out.append(block)
        for err in errors(nb):
            out.append(
                f"<h3>Error in cell {err['cell']}: {_e(err['ename'])}</h3>"
                f"<pre>{_e(mask(err['traceback'] or err['evalue']))}</pre>"
            )
        text = limitations(nb)
        if text:
            out.append(f'<div class="limitations"><h3>Limitations</h3>{markdown_html(mask(text))}</div>')
    if result.stderr:
        lines = "\n".join(result.stderr)
        out.append(f'<div class="noise"><h3>Unexpected stderr</h3><pre>{_e(mask(lines))}</pre></div>')
    out.append("</section>")
    return "\n".join(out)


def _provenance_section(results: RunResults, mask) -> str:
    p = results.provenance
    out = ['<section class="extra" id="provenance"><h2>Provenance</h2>']
    git = p.get("git", {})
    out.append(
        _kv_table(
            [
                ("genlab git commit", git.get("commit")),
                ("branch", git.get("branch")),
                ("uncommitted changes", git.get("dirty")),
                ("python", p.get("python")),
                ("platform", p.get("platform")),
                ("command", p.get("command")),
                ("created (UTC)", results.created),
                ("total wall time", f"{p['wall_time_s']:.1f} s" if p.get("wall_time_s") else None),
            ]
        )
    )
    out.append("<h3>Models</h3>")
    for m in p.get("models", []):
        man = m.get("manifest") or {}
        rows = [
            ("source", m.get("source")),
            ("used by", ", ".join(m.get("notebooks", [])) or "(the default model)"),
            ("weights sha256", m.get("weights_sha256")),
        ]
        rows += [
            (k, man[k])
            for k in ("architecture", "n_parameters", "recipe", "model_config", "tokenizer", "validation")
            if k in man
        ]
        out.append(f"<h4>{_e(m.get('name'))}</h4>" + _kv_table(rows))
    if p.get("data_hashes"):
        out.append("<h3>Data hashes</h3>")
        body = "".join(
            f"<tr><td>{_e(mask(h['what']))}</td><td><code>{_e(h['sha256'])}</code></td><td>{_e(h['source'])}</td></tr>"
            for h in p["data_hashes"]
        )
        out.append(
            '<div class="table-wrap"><table class="kv"><thead><tr><th>what</th><th>sha256</th>'
            f"<th>source</th></tr></thead><tbody>{body}</tbody></table></div>"
        )
    if p.get("packages"):
        out.append(
            "<h3>Package versions</h3>"
            + _kv_table([("python", p.get("python"))] + [(k, v or "not installed") for k, v in p["packages"].items()])
        )
    out.append("<h3>Parameters and wall time per notebook</h3>")
    for nb in results.notebooks:
        wall = f"{nb.wall_time_s:.1f} s" if nb.wall_time_s is not None else "not run"
        params = nb.parameters or {"(no parameters cell)": ""}
        out.append(
            f"<h4>{_e(nb.number)} · {_e(nb.title)} ({_e(wall)}, {_e(nb.status)})</h4>"
            + _kv_table({k: mask(_short(v)) for k, v in params.items()})
        )
    out.append("</section>")
    return "\n".join(out)


def render_report(
    results: RunResults,
    executed: Mapping[str, dict],
    *,
    comparison_html: str = "",
    mask: Callable[[Any], Any] | None = None,
    plotly_js: str | None = None,
) -> str:
    """The report page for ``results``; ``executed`` maps each notebook's file name to its executed JSON.

    ``comparison_html``: a section from :func:`genlab.report.compare.RunComparison.to_html`, placed before the
    provenance. ``mask``: applied to every string taken from a notebook (strings and JSON-like values).
    ``plotly_js``: the library to inline (default: the installed plotly's ``get_plotlyjs()``).
    """
    if mask is None:

        def mask(x):
            return x

    if plotly_js is None:
        from plotly.offline import get_plotlyjs

        plotly_js = get_plotlyjs()
    git = results.provenance.get("git", {})
    n_ok = sum(nb.status == "ok" for nb in results.notebooks)
    n_noise = sum(bool(nb.stderr) for nb in results.notebooks)
    wall = results.provenance.get("wall_time_s")
    meta = (
        f"{len(results.notebooks)} notebook(s), {n_ok} ran without error"
        + (f", {n_noise} wrote unexpected stderr" if n_noise else "")
        + (f" · {wall:.0f} s" if wall else "")
        + (
            f" · commit {str(git['commit'])[:10]}" + (" (with uncommitted changes)" if git.get("dirty") else "")
            if git.get("commit")
            else ""
        )
        + f" · built {results.created}"
    )
    toc = "".join(
        f'<li><a href="#nb-{_e(nb.number)}">{_e(nb.number)} · {_e(nb.title)}</a></li>' for nb in results.notebooks
    )
    toc += '<li><a href="#comparison">Comparison with another run</a></li>' if comparison_html else ""
    toc += '<li><a href="#provenance">Provenance</a></li>'
    sections = [_notebook_section(nb, executed.get(nb.name), i, mask) for i, nb in enumerate(results.notebooks)]
    # plotly.js must not see "</script>" in its own source (it has none; this keeps it that way)
    js = re.sub(r"</(script)", r"<\\/\1", plotly_js, flags=re.IGNORECASE)
    return (
        "\n".join(
            [
                "<!doctype html>",
                '<html lang="en"><head><meta charset="utf-8">',
                '<meta name="viewport" content="width=device-width, initial-scale=1">',
                f"<title>{_e(results.title)}</title><style>{CSS}</style>",
                f'<script type="text/javascript">{js}</script>',
                "</head><body><main>",
                f'<header class="run"><h1>{_e(results.title)}</h1><p class="meta">{_e(meta)}</p>',
                f'<nav class="toc"><ol>{toc}</ol></nav></header>',
                *sections,
                comparison_html,
                _provenance_section(results, mask),
                "<footer>Written by <code>genlab.report</code>; machine-readable results in <code>results.json</code> "
                f"(schema version {results.schema_version}). Model output is shown as plain text; canary secrets and "
                "planted personal data are masked.</footer>",
                "</main>",
                f"<script>{DRAW_JS}</script>",
                "</body></html>",
            ]
        )
        + "\n"
    )


@dataclass
class ReportPage:
    """What a report page holds, read from its HTML (see :func:`inspect_report`)."""

    figure_titles: list[str] = field(default_factory=list)  # each figure div's data-title, in page order
    figure_data: list[dict] = field(default_factory=list)  # each figure's JSON block, parsed
    inline_scripts: list[str] = field(default_factory=list)  # the text of every <script> without src
    external_scripts: list[str] = field(default_factory=list)  # the src of every <script src=...>
    notebook_sections: list[str] = field(default_factory=list)  # the ids of the notebooks' <section>s


class _PageParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.page = ReportPage()
        self.script: list[str] | None = None
        self.script_type = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "div" and FIGURE_CLASS in (a.get("class") or "").split():
            self.page.figure_titles.append(a.get("data-title") or "")
        elif tag == "section" and "notebook" in (a.get("class") or "").split():
            self.page.notebook_sections.append(a.get("id") or "")
        elif tag == "script":
            if a.get("src"):
                self.page.external_scripts.append(a["src"])
            self.script, self.script_type = [], a.get("type") or ""

    def handle_data(self, data):
        if self.script is not None:
            self.script.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self.script is not None:
            text = "".join(self.script)
            if self.script_type == "application/json":
                self.page.figure_data.append(json.loads(text))
            else:
                self.page.inline_scripts.append(text)
            self.script = None


def inspect_report(page: str) -> ReportPage:
    """Read a report page back: figure titles and data, scripts, notebook sections. For checks of a built report
    (the tests, a browser test that compares what it sees with :func:`genlab.report.build.expected_figure_titles`).

    >>> p = inspect_report(render_report(RunResults("demo", "2026-01-01T00:00:00+00:00", {}, []), {},
    ...                                  plotly_js="/*plotly*/"))
    >>> p.figure_titles, p.external_scripts, sum(s.count("/*plotly*/") for s in p.inline_scripts)
    ([], [], 1)
    """
    parser = _PageParser()
    parser.feed(page)
    parser.close()
    return parser.page
