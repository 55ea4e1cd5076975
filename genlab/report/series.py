"""The notebook series: naming, navigation cells, the generated index, hygiene, and the HTML report.

    python -m genlab.report.series nav                 # rewrite navigation cells and the contents of 00_index
    python -m genlab.report.series strip               # drop outputs except cells tagged keep_output
    python -m genlab.report.series refresh NB.ipynb    # execute, then keep only keep_output cells' outputs
    python -m genlab.report.series check               # hygiene problems, one a line (exit 1 if any)
    python -m genlab.report.series report --out DIR    # execute every notebook -> DIR/report.html, results.json,
                                                       #   a page per notebook and index.html (genlab.report.build)
    python -m genlab.report.series compare A.json B.json --out cmp.html   # what changed between two runs

Anatomy every notebook follows (checked by ``check``): ``NN_snake_name.ipynb``; a first markdown cell
``# NN · Title`` plus a summary; a navigation cell holding ``<!-- nav -->``; exactly one code cell tagged
``parameters`` with CI-sized defaults; outputs and execution counts committed only in cells tagged
``keep_output`` (the checkpoint cells that nbval compares are tagged ``nbval-check-output`` too; nbval
skips a cell without an execution count, so kept cells keep theirs).
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from genlab.core.paths import REPO_DIR
from genlab.report.extract import TITLE_RE

NOTEBOOK_DIR = REPO_DIR / "notebooks"
NAME_RE = re.compile(r"^(\d\d)_[a-z0-9_]+\.ipynb$")
NAV_MARK = "<!-- nav -->"
CONTENTS_MARK = "<!-- contents -->"
KEEP_TAG = "keep_output"
CELL_METADATA_KEEP = ("tags",)
NOTEBOOK_METADATA_KEEP = ("kernelspec", "language_info")


@dataclass(frozen=True)
class NotebookInfo:
    path: Path
    number: str
    title: str
    summary: str


def notebooks(directory: Path = NOTEBOOK_DIR) -> list[Path]:
    return sorted(p for p in directory.glob("*.ipynb") if NAME_RE.match(p.name))


def read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def write(path: Path, nb: dict) -> None:
    """Write ``nb`` to ``path`` if it changed, and its jupytext pair (``NN_name.py``) with it when there is one."""
    from genlab.report.pairs import check_not_behind, pair_path, write_pair

    text = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        check_not_behind(path)
        path.write_text(text, encoding="utf-8")
        if pair_path(path).exists():
            write_pair(path)


def source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def set_source(cell: dict, text: str) -> None:
    lines = text.split("\n")
    cell["source"] = [line + "\n" for line in lines[:-1]] + [lines[-1]]


def info(path: Path) -> NotebookInfo:
    nb = read(path)
    first = source(nb["cells"][0]).strip().split("\n")
    m = TITLE_RE.match(first[0])
    title = m.group(2) if m else path.stem
    summary = next((line.strip() for line in first[1:] if line.strip()), "")
    return NotebookInfo(path=path, number=path.name[:2], title=title, summary=summary)


def nav_markdown(paths: list[Path], i: int) -> str:
    prev = f"[← {info(paths[i - 1]).title}]({paths[i - 1].name})" if i > 0 else ""
    nxt = f"[{info(paths[i + 1]).title} →]({paths[i + 1].name})" if i + 1 < len(paths) else ""
    contents = "[Contents](00_index.ipynb)"
    return f"{NAV_MARK}\n" + " | ".join(x for x in (prev, contents, nxt) if x)


def contents_markdown(paths: list[Path]) -> str:
    lines = [CONTENTS_MARK, ""]
    for p in paths:
        if p.name.startswith("00_"):
            continue
        i = info(p)
        lines.append(f"- **{i.number}** [{i.title}]({p.name}): {i.summary}")
    return "\n".join(lines)


def update_navigation(directory: Path = NOTEBOOK_DIR) -> list[Path]:
    """Rewrite every navigation cell and the index's contents cell in place; return the notebooks changed."""
    paths = notebooks(directory)
    changed = []
    for i, path in enumerate(paths):
        nb = read(path)
        before = json.dumps(nb)
        for cell in nb["cells"]:
            if cell["cell_type"] == "markdown" and NAV_MARK in source(cell):
                set_source(cell, nav_markdown(paths, i))
            if cell["cell_type"] == "markdown" and CONTENTS_MARK in source(cell):
                set_source(cell, contents_markdown(paths))
        if json.dumps(nb) != before:
            write(path, nb)
            changed.append(path)
    return changed


def strip(nb: dict) -> dict:
    """Outputs and execution counts removed, except in keep_output cells; metadata kept from an allow-list."""
    nb["metadata"] = {k: v for k, v in nb.get("metadata", {}).items() if k in NOTEBOOK_METADATA_KEEP}
    for cell in nb["cells"]:
        cell["metadata"] = {k: v for k, v in cell.get("metadata", {}).items() if k in CELL_METADATA_KEEP}
        cell.pop("id", None)
        if cell["cell_type"] != "code":
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
            continue
        if KEEP_TAG in cell["metadata"].get("tags", []):
            # nbval compares only cells that were run: a kept cell keeps its execution count
            for out in cell.get("outputs", []):
                out.get("metadata", {}).clear()
        else:
            cell["execution_count"] = None
            cell["outputs"] = []
    nb["nbformat"], nb["nbformat_minor"] = 4, 4
    return nb


def hygiene(path: Path) -> list[str]:
    """Problems with one notebook's name and anatomy (empty list: fine)."""
    problems = []
    if not NAME_RE.match(path.name):
        problems.append(f"{path.name}: name must look like NN_snake_case.ipynb")
    nb = read(path)
    cells = nb.get("cells", [])
    if not cells or cells[0]["cell_type"] != "markdown" or not TITLE_RE.match(source(cells[0]).split("\n")[0]):
        problems.append(f"{path.name}: first cell must be markdown starting '# {path.name[:2]} · Title'")
    elif TITLE_RE.match(source(cells[0]).split("\n")[0]).group(1) != path.name[:2]:
        problems.append(f"{path.name}: title number differs from the file name")
    if not any(c["cell_type"] == "markdown" and NAV_MARK in source(c) for c in cells):
        problems.append(f"{path.name}: no navigation cell ({NAV_MARK})")
    n_params = sum("parameters" in c.get("metadata", {}).get("tags", []) for c in cells)
    if n_params != (0 if path.name.startswith("00_") else 1):
        problems.append(f"{path.name}: {n_params} cells tagged 'parameters' (need exactly 1; the index has none)")
    for i, c in enumerate(cells):
        tags = c.get("metadata", {}).get("tags", [])
        if c["cell_type"] == "code" and c.get("execution_count") is not None and KEEP_TAG not in tags:
            problems.append(
                f"{path.name}: cell {i} has an execution count (run `python -m genlab.report.series strip`)"
            )
        if c["cell_type"] == "code" and c.get("outputs") and KEEP_TAG not in tags:
            problems.append(f"{path.name}: cell {i} has outputs but is not tagged {KEEP_TAG}")
        if "nbval-check-output" in tags and (not c.get("outputs") or c.get("execution_count") is None):
            problems.append(f"{path.name}: checkpoint cell {i} has no committed, executed output to compare "
                            "(run `python -m genlab.report.series refresh` on it)")
    return problems


def execute(path: Path, timeout: int = 600, cwd: Path | None = None) -> dict:
    """Run a notebook top to bottom in a fresh kernel of this Python; return the executed notebook."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(str(path), as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(cwd or path.parent)}})
    client.execute()
    return json.loads(nbformat.writes(nb))


def refresh(path: Path) -> None:
    """Execute ``path`` and commit-ready it: outputs kept only where tagged keep_output."""
    from genlab.report.pairs import check_not_behind

    check_not_behind(path)  # before minutes of execution, not after
    write(path, strip(execute(path)))


#: nbconvert's lab template with everything it would fetch left out (require.js, MathJax, mermaid, the widget
#: manager: all from a CDN), so a page renders offline; plotly.js goes inline in the head when the page has figures.
OFFLINE_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_css -%}{{ resources.genlab_head_js }}{%- endblock html_head_css -%}
{%- block footer_js -%}{{ resources.genlab_footer_js }}{%- endblock footer_js -%}
"""


def to_html(nb: dict, plotly_js: str | None = None) -> str:
    """One notebook as an HTML page that renders offline (nbconvert's lab template, nothing fetched from a CDN:
    see ``OFFLINE_TEMPLATE``). Its plotly figures are drawn by plotly.js, inlined once in the page (``plotly_js``:
    the library's source, default the installed plotly's); math in markdown stays as its TeX source."""
    import jinja2
    import nbformat
    from nbconvert import HTMLExporter

    from genlab.report.recording import PLOTLY_MIME
    from genlab.report.render import DRAW_JS, FIGURE_CLASS, script_json

    nb = json.loads(json.dumps(nb))
    n_figures = 0
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            fig = out.get("data", {}).get(PLOTLY_MIME)
            if isinstance(fig, dict):
                key = f"fig-{n_figures}"
                n_figures += 1
                height = int(fig.get("layout", {}).get("height") or 450)
                out["data"] = {"text/html": f'<div class="{FIGURE_CLASS}" id="{key}" style="height:{height}px">'
                                            f'</div><script type="application/json" id="{key}-data">'
                                            f"{script_json(fig)}</script>"}
    head = footer = ""
    if n_figures:
        if plotly_js is None:
            from plotly.offline import get_plotlyjs

            plotly_js = get_plotlyjs()
        js = re.sub(r"</(script)", r"<\\/\1", plotly_js, flags=re.IGNORECASE)
        head, footer = f'<script type="text/javascript">{js}</script>', f"<script>{DRAW_JS}</script>"
    exporter = HTMLExporter(template_name="lab", template_file="genlab_offline.html.j2",
                            extra_loaders=[jinja2.DictLoader({"genlab_offline.html.j2": OFFLINE_TEMPLATE})])
    body, _ = exporter.from_notebook_node(nbformat.reads(json.dumps(nb), as_version=4),
                                          resources={"genlab_head_js": head, "genlab_footer_js": footer})
    return body


def _index_html(rows: list[tuple[NotebookInfo, str, float | None]], report_link: bool) -> str:
    items = "\n".join(
        f"<tr><td>{html.escape(i.number)}</td><td><a href=\"{html.escape(i.path.with_suffix('.html').name)}\">"
        f"{html.escape(i.title)}</a></td><td>{html.escape(i.summary)}</td><td>{html.escape(s)}</td>"
        f"<td>{'' if t is None else f'{t:.1f} s'}</td></tr>" for i, s, t in rows)
    link = ('<p><a href="report.html"><b>The evaluation report</b></a> (every figure, table, checkpoint and '
            'limitation in one page, with provenance) and <a href="results.json">results.json</a>.</p>'
            if report_link else "")
    return ("<!doctype html><html><head><meta charset=\"utf-8\"><title>genlab report</title>"
            "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}td,th{padding:.3em .8em;"
            "text-align:left;vertical-align:top}</style></head><body><h1>genlab notebook series</h1>"
            f"{link}<table><tr><th>#</th><th>Notebook</th><th>What it shows</th><th>Status</th><th>Run time</th></tr>"
            f"{items}</table></body></html>\n")


def build(out_dir: Path, directory: Path = NOTEBOOK_DIR, *, only: list[str] | None = None,
          parameters: dict | None = None, compare_with: Path | None = None, pages: bool = True):
    """Execute the notebooks of ``directory`` (those whose name or number is in ``only``, default all), then write
    ``report.html`` and ``results.json`` (``genlab.report.build``), the executed notebooks (masked) to
    ``executed/`` and, with ``pages``, one nbconvert page per notebook and ``index.html``. Returns the
    :class:`genlab.report.build.Report`."""
    from genlab.report import build as report_build
    from genlab.report.mask import world_masker

    paths = notebooks(directory)
    if only:
        wanted = set(only)
        paths = [p for p in paths if {p.name, p.stem, p.name[:2]} & wanted]
        unknown = wanted - {x for p in paths for x in (p.name, p.stem, p.name[:2])}
        if unknown:
            names = [p.name for p in notebooks(directory)]
            raise ValueError(f"no notebook {sorted(unknown)} in {directory}; there are {names}")
    out_dir.mkdir(parents=True, exist_ok=True)
    executed = report_build.run_series(paths, parameters=parameters,
                                       log=lambda line: print(line, file=sys.stderr, flush=True))
    masker = world_masker()
    rep = report_build.build_report(executed, out_dir, compare_with=compare_with, masker=masker,
                                    command=" ".join(["python -m genlab.report.series", *sys.argv[1:]]))
    report_build.save_executed(executed, out_dir / "executed", masker)  # to rebuild the report without running
    if pages:
        for ran in executed:
            (out_dir / ran.path.with_suffix(".html").name).write_text(
                to_html(report_build.mask_notebook(ran.nb, masker)), encoding="utf-8")
        rows = [(info(r.path), r.status, r.wall_time_s) for r in executed]
        (out_dir / "index.html").write_text(_index_html(rows, report_link=True), encoding="utf-8")
    return rep


def report(out_dir: Path, directory: Path = NOTEBOOK_DIR) -> int:
    """Execute every notebook; write ``report.html``, ``results.json``, ``NN_name.html`` pages and ``index.html``;
    return the number that failed."""
    rep = build(out_dir, directory)
    return sum(nb.status != "ok" for nb in rep.results.notebooks)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m genlab.report.series")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("nav", "strip", "check"):
        sub.add_parser(name).add_argument("--dir", type=Path, default=NOTEBOOK_DIR,
                                          help="the notebooks' folder (default: notebooks/)")
    r = sub.add_parser("refresh")
    r.add_argument("paths", nargs="+", type=Path)
    rep = sub.add_parser("report", help="execute notebooks; write report.html, results.json and a page each")
    rep.add_argument("--out", type=Path, default=REPO_DIR / "reports")
    rep.add_argument("--dir", type=Path, default=NOTEBOOK_DIR, help="the notebooks' folder (default: notebooks/)")
    rep.add_argument("--only", nargs="+", metavar="NB", help="notebooks to run, by number or name (default: all)")
    rep.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                     help="set a parameter (papermill injects it) in every notebook whose parameters cell defines it "
                          "(value: a Python "
                          "literal, else a string)")
    rep.add_argument("--compare", type=Path, metavar="RESULTS_JSON", help="add a comparison with this earlier run")
    rep.add_argument("--no-pages", action="store_true", help="skip the per-notebook nbconvert pages")
    rep.add_argument("--allow-noise", action="store_true", help="exit 0 even if notebooks write unexpected stderr")
    cmp = sub.add_parser("compare", help="compare two runs' results.json (b - a)")
    cmp.add_argument("a", type=Path)
    cmp.add_argument("b", type=Path)
    cmp.add_argument("--out", type=Path, help="write the comparison as an HTML page here")
    args = parser.parse_args(argv)
    if args.command == "nav":
        for p in update_navigation(args.dir):
            print(f"updated {p.name}")
    elif args.command == "strip":
        for p in notebooks(args.dir):
            write(p, strip(read(p)))
    elif args.command == "refresh":
        for p in args.paths:
            refresh(p)
            print(f"refreshed {p}")
    elif args.command == "check":
        from genlab.report.pairs import pair_problems

        problems = [x for p in notebooks(args.dir) for x in hygiene(p) + pair_problems(p)]
        print("\n".join(problems) or "notebooks: ok")
        return 1 if problems else 0
    elif args.command == "report":
        from genlab.report.build import print_noise

        rep = build(args.out, args.dir, only=args.only, parameters=dict(_parse_param(p) for p in args.param),
                    compare_with=args.compare, pages=not args.no_pages)
        failed = [nb.name for nb in rep.results.notebooks if nb.status != "ok"]
        print(f"report written to {rep.html_path} and {rep.json_path}"
              + (f"; {len(failed)} notebook(s) failed: {', '.join(failed)}" if failed else ""))
        print_noise(rep.noise)
        return 1 if failed or (rep.noise and not args.allow_noise) else 0
    elif args.command == "compare":
        from genlab.report.compare import compare_runs

        c = compare_runs(args.a, args.b)
        print(", ".join(f"{k}: {v}" for k, v in c.summary().items()))
        if args.out:
            args.out.write_text("<!doctype html><html><head><meta charset=\"utf-8\"><title>genlab run comparison"
                                f"</title><style>{_report_css()}</style></head><body><main>{c.to_html()}</main>"
                                "</body></html>\n", encoding="utf-8")
            print(f"comparison written to {args.out}")
    return 0


def _parse_param(text: str) -> tuple[str, object]:
    """``NAME=VALUE`` -> (NAME, the value as a Python literal, or the text itself).

    >>> _parse_param("N_PROMPTS=200"), _parse_param("MODEL=/tmp/my model")
    (('N_PROMPTS', 200), ('MODEL', '/tmp/my model'))
    """
    import ast

    name, sep, value = text.partition("=")
    if not sep or not name.strip().isidentifier():
        raise SystemExit(f"-p takes NAME=VALUE, got {text!r}")
    try:
        return name.strip(), ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return name.strip(), value


def _report_css() -> str:
    from genlab.report.render import CSS

    return CSS


if __name__ == "__main__":
    raise SystemExit(main())
