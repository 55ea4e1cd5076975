"""The notebook series: naming, navigation cells, the generated index, hygiene, and the HTML report.

    python -m genlab.report.series nav                 # rewrite navigation cells and the contents of 00_index
    python -m genlab.report.series strip               # drop outputs except cells tagged keep_output
    python -m genlab.report.series refresh NB.ipynb    # execute, then keep only keep_output cells' outputs
    python -m genlab.report.series check               # hygiene problems, one a line (exit 1 if any)
    python -m genlab.report.series report --out DIR    # execute every notebook -> DIR/*.html + DIR/index.html

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
import time
from dataclasses import dataclass
from pathlib import Path

from genlab.core.paths import REPO_DIR

NOTEBOOK_DIR = REPO_DIR / "notebooks"
NAME_RE = re.compile(r"^(\d\d)_[a-z0-9_]+\.ipynb$")
TITLE_RE = re.compile(r"^# (\d\d) · (.+)$")
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
    text = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


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
    write(path, strip(execute(path)))


def to_html(nb: dict) -> str:
    import nbformat
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nbformat.reads(json.dumps(nb), as_version=4))
    return body


def report(out_dir: Path, directory: Path = NOTEBOOK_DIR) -> int:
    """Execute every notebook, write ``NN_name.html`` and ``index.html``; return the number that failed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rows, failed = [], 0
    for path in notebooks(directory):
        start = time.perf_counter()
        status = "ok"
        try:
            nb = execute(path)
        except Exception as e:  # a failing notebook still gets a page that says why
            failed += 1
            status = f"failed: {type(e).__name__}"
            nb = read(path)
            print(f"{path.name}: {e}", file=sys.stderr)
        seconds = time.perf_counter() - start
        (out_dir / path.with_suffix(".html").name).write_text(to_html(nb), encoding="utf-8")
        rows.append((info(path), status, seconds))
        print(f"{path.name}: {status} in {seconds:.1f} s", file=sys.stderr)
    items = "\n".join(
        f"<tr><td>{html.escape(i.number)}</td><td><a href=\"{html.escape(i.path.with_suffix('.html').name)}\">"
        f"{html.escape(i.title)}</a></td><td>{html.escape(i.summary)}</td><td>{html.escape(s)}</td>"
        f"<td>{t:.1f} s</td></tr>" for i, s, t in rows)
    (out_dir / "index.html").write_text(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>genlab report</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}td,th{padding:.3em .8em;"
        "text-align:left;vertical-align:top}</style></head><body><h1>genlab notebook series</h1>"
        "<table><tr><th>#</th><th>Notebook</th><th>What it shows</th><th>Status</th><th>Run time</th></tr>"
        f"{items}</table></body></html>\n", encoding="utf-8")
    return failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m genlab.report.series")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("nav")
    sub.add_parser("strip")
    sub.add_parser("check")
    r = sub.add_parser("refresh")
    r.add_argument("paths", nargs="+", type=Path)
    rep = sub.add_parser("report")
    rep.add_argument("--out", type=Path, default=REPO_DIR / "reports")
    args = parser.parse_args(argv)
    if args.command == "nav":
        for p in update_navigation():
            print(f"updated {p.name}")
    elif args.command == "strip":
        for p in notebooks():
            write(p, strip(read(p)))
    elif args.command == "refresh":
        for p in args.paths:
            refresh(p)
            print(f"refreshed {p}")
    elif args.command == "check":
        problems = [x for p in notebooks() for x in hygiene(p)]
        print("\n".join(problems) or "notebooks: ok")
        return 1 if problems else 0
    elif args.command == "report":
        failed = report(args.out)
        print(f"report written to {args.out / 'index.html'}" + (f"; {failed} notebook(s) failed" if failed else ""))
        return 1 if failed else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
