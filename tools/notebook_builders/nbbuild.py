"""The notebook builders' DSL, the build, and the check that the committed notebooks are what the builders write.

Each ``nbNN.py`` lists its cells with ``md``, ``code``, ``param``, ``check`` and ``nav`` and ends with
``write("NN_name.ipynb", cells)``. The builders are the only source of the notebooks' cells:

    python tools/notebook_builders/nb20.py              # rebuild one notebook in notebooks/
    python tools/notebook_builders/nbbuild.py           # rebuild every notebook, then their navigation cells
    python tools/notebook_builders/nbbuild.py --check   # exit 1, with a diff, if a notebook differs from its build

A rebuild keeps what execution and ``series nav`` put into the committed file: the outputs and execution count
of every ``keep_output`` cell whose source and tags are unchanged, the navigation and contents cells' text, and
the kernel's ``language_info``. A checkpoint cell that is new or changed has no output until
``python -m genlab.report.series refresh notebooks/NN_name.ipynb`` runs it; the build says which.

What the check compares (everything a builder decides): the notebook's file names, the order, types and sources
of the cells, their tags (the only cell metadata ``series.strip`` keeps), any other cell field except outputs,
execution counts and ids, ``nbformat``, the kernelspec and the language's name. Not compared, because they come
from execution: outputs, execution counts, the rest of ``language_info``. The navigation and contents cells are
compared exactly: the check builds every notebook into a temporary folder and runs ``series.update_navigation``
on it, the same code as ``python -m genlab.report.series nav``, so a stale navigation cell is drift too.
"""

from __future__ import annotations

import argparse
import copy
import difflib
import json
import runpy
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from genlab.report import series

__all__ = ["cell", "md", "code", "param", "check", "committed", "nav", "write"]

HERE = Path(__file__).resolve().parent
NOTEBOOK_DIR = HERE.parents[1] / "notebooks"
NOT_COMPARED = ("outputs", "execution_count", "id")  # cell fields that come from execution (or from nbformat 4.5)
DIFF_LINES = 12  # lines of a source diff shown per cell


# --- the DSL ---------------------------------------------------------------------------------------------------


def cell(kind, text, tags=()):
    c = {"cell_type": kind, "metadata": {"tags": list(tags)} if tags else {}, "source": text.strip("\n")}
    if kind == "code":
        c.update(execution_count=None, outputs=[])
    return c


md = lambda t: cell("markdown", t)
code = lambda t, tags=(): cell("code", t, tags)
param = lambda t: cell("code", t, ("parameters",))
check = lambda t: cell("code", t, (series.KEEP_TAG, "nbval-check-output"))
nav = lambda: md(series.NAV_MARK)
committed = lambda t: cell("code", t, ("full-size-results",))  # shows committed full-size results; not hashed


def notebook(cells: Iterable[dict]) -> dict:
    """The notebook a builder's cells make, without outputs (sources as lists of lines, as Jupyter saves them)."""
    nb = {
        "cells": copy.deepcopy(list(cells)),
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 4,
    }
    for c in nb["cells"]:
        series.set_source(c, series.source(c))
    return nb


# Where write() sends a notebook: (file name, notebook, builder file). Replaced while build() or expected() run.
_sink: Callable[[str, dict, str], None] | None = None


def write(name, cells):
    """Write notebook ``name`` (a file name in notebooks/; a path works too, its folder is ignored)."""
    name = Path(name).name
    builder = Path(sys._getframe(1).f_globals.get("__file__", "?")).name
    nb = notebook(cells)
    if _sink is not None:
        _sink(name, nb, builder)
    else:
        _report(NOTEBOOK_DIR / name, save(NOTEBOOK_DIR / name, nb))


# --- the build ---------------------------------------------------------------------------------------------------


def keep_committed(nb: dict, old: dict) -> list[str]:
    """Copy into the freshly built ``nb`` what execution and ``series nav`` wrote into the committed ``old``:
    outputs and execution counts of unchanged keep_output cells, navigation and contents text, language_info.
    Returns a note for each checkpoint cell left without output (new or changed: refresh the notebook)."""
    lang, old_lang = nb["metadata"].get("language_info", {}), old.get("metadata", {}).get("language_info", {})
    if old_lang.get("name") == lang.get("name"):
        nb["metadata"]["language_info"] = copy.deepcopy(old_lang)
    kept: dict[tuple, list[dict]] = {}
    marked: dict[str, list[dict]] = {series.NAV_MARK: [], series.CONTENTS_MARK: []}
    for c in old.get("cells", []):
        if c["cell_type"] == "code" and series.KEEP_TAG in _tags(c):
            kept.setdefault((series.source(c), tuple(_tags(c))), []).append(c)
        for mark, found in marked.items():
            if c["cell_type"] == "markdown" and mark in series.source(c):
                found.append(c)
    notes = []
    for i, c in enumerate(nb["cells"]):
        for mark, found in marked.items():
            if c["cell_type"] == "markdown" and series.source(c) == mark and found:
                c["source"] = copy.deepcopy(found.pop(0)["source"])
        if c["cell_type"] == "code" and series.KEEP_TAG in _tags(c):
            same = kept.get((series.source(c), tuple(_tags(c))))
            if same:
                old_cell = same.pop(0)
                c["outputs"] = copy.deepcopy(old_cell.get("outputs", []))
                c["execution_count"] = old_cell.get("execution_count")
            if not c["outputs"] or c["execution_count"] is None:
                notes.append(f"cell {i} ({_first_line(c)}) is a checkpoint without output")
    return notes


def save(path: Path, nb: dict) -> list[str]:
    """Write the built ``nb`` to ``path``, keeping what the committed file there got from execution and
    ``series nav`` (see ``keep_committed``); returns the notes about checkpoints left without output."""
    notes = keep_committed(nb, series.read(path) if path.exists() else {})
    text = json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"  # as nbformat (and Jupyter) save
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return notes


def _report(path: Path, notes: list[str]) -> None:
    print(f"wrote {path}")
    for note in notes:
        print(f"  {note}")
    if notes:
        print(f"  then run: python -m genlab.report.series refresh {path}")


def builder_files() -> list[Path]:
    return sorted(HERE.glob("nb[0-9]*.py"))


def run_builders(sink: Callable[[str, dict, str], None], builders: Iterable[Path] | None = None) -> None:
    """Run builder scripts with every write() going to ``sink`` instead of notebooks/."""
    global _sink
    module = sys.modules.get("nbbuild")
    if module is None or Path(module.__file__).resolve() != Path(__file__).resolve():
        raise RuntimeError("import nbbuild as `nbbuild` (the builders' `from nbbuild import *` must find this module)")
    previous, saved_path, _sink = _sink, list(sys.path), sink
    try:
        for path in builders if builders is not None else builder_files():
            runpy.run_path(str(path), run_name="__nbbuild__")
    finally:
        _sink, sys.path[:] = previous, saved_path  # each builder puts its folder on sys.path


def build(out_dir: Path = NOTEBOOK_DIR, builders: Iterable[Path] | None = None, quiet: bool = False) -> list[str]:
    """Run the builders into ``out_dir`` (keeping committed outputs, see ``save``), then rewrite the navigation
    cells there. Returns the names written."""
    written = []

    def sink(name, nb, builder):
        notes = save(Path(out_dir) / name, nb)
        written.append(name)
        if not quiet:
            _report(Path(out_dir) / name, notes)

    run_builders(sink, builders)
    series.update_navigation(Path(out_dir))
    return written


def expected() -> dict[str, tuple[dict, str]]:
    """Every notebook as the builders write it, navigation cells filled in: ``{file name: (notebook, builder)}``."""
    built: dict[str, tuple[dict, str]] = {}

    def sink(name, nb, builder):
        if name in built:
            raise ValueError(f"{name} is written by both {built[name][1]} and {builder}")
        built[name] = (nb, builder)

    run_builders(sink)
    with tempfile.TemporaryDirectory() as tmp:
        for name, (nb, _) in built.items():
            series.write(Path(tmp) / name, nb)
        series.update_navigation(Path(tmp))
        return {name: (series.read(Path(tmp) / name), builder) for name, (_, builder) in built.items()}


# --- the check ---------------------------------------------------------------------------------------------------


def _tags(c: dict) -> list:
    return c.get("metadata", {}).get("tags", [])


def _first_line(c: dict) -> str:
    text = series.source(c).strip().split("\n")[0]
    return f"{c['cell_type']}: {text[:60] + ('…' if len(text) > 60 else '')!r}"


def _fields(c: dict) -> dict:
    """What the check compares of a cell."""
    out = {k: v for k, v in c.items() if k not in NOT_COMPARED}
    out["source"] = series.source(c)
    out["metadata"] = {k: v for k, v in c.get("metadata", {}).items() if k in series.CELL_METADATA_KEEP}
    return out


def _notebook_fields(nb: dict) -> dict:
    meta = nb.get("metadata", {})
    return {
        "nbformat": (nb.get("nbformat"), nb.get("nbformat_minor")),
        "kernelspec": meta.get("kernelspec"),
        "language_info.name": meta.get("language_info", {}).get("name"),
    }


def _cell_diff(i: int, j: int, built: dict, committed: dict) -> list[str]:
    """Lines describing how committed cell ``j`` differs from built cell ``i`` (empty: they agree)."""
    a, b = _fields(built), _fields(committed)
    if a == b:
        return []
    where = f"  cell {j}" + (f" (cell {i} in the build)" if i != j else "") + f" ({_first_line(committed)})"
    lines = []
    for key in sorted(set(a) | set(b)):
        if key == "source" or a.get(key) == b.get(key):
            continue
        lines.append(f"{where}: {key} differs: built {json.dumps(a.get(key))}, committed {json.dumps(b.get(key))}")
    if a["source"] != b["source"]:
        diff = list(
            difflib.unified_diff(
                a["source"].split("\n"), b["source"].split("\n"), "built", "committed", n=1, lineterm=""
            )
        )
        shown = diff[2 : 2 + DIFF_LINES]
        more = len(diff) - 2 - len(shown)
        stale = series.NAV_MARK in a["source"] or series.CONTENTS_MARK in a["source"]
        lines.append(
            f"{where}: " + ("stale, run `python -m genlab.report.series nav`:" if stale else "source differs:")
        )
        lines += [f"      {line}" for line in shown] + ([f"      … {more} more diff lines"] if more > 0 else [])
    return lines


def compare(built: dict, committed: dict) -> list[str]:
    """Lines describing how a committed notebook differs from its build (empty: it is what the builder writes)."""
    lines = []
    a, b = _notebook_fields(built), _notebook_fields(committed)
    for key in a:
        if a[key] != b[key]:
            lines.append(f"  notebook {key} differs: built {json.dumps(a[key])}, committed {json.dumps(b[key])}")
    ka = [json.dumps(_fields(c), sort_keys=True) for c in built["cells"]]
    kb = [json.dumps(_fields(c), sort_keys=True) for c in committed["cells"]]
    missing, extra = [], []  # cells of the build absent from the committed file, and the other way round
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=ka, b=kb, autojunk=False).get_opcodes():
        if op == "replace" and i2 - i1 == j2 - j1:
            for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                lines += _cell_diff(i, j, built["cells"][i], committed["cells"][j])
        elif op != "equal":
            missing += range(i1, i2)
            extra += range(j1, j2)
    for i in missing:
        j = next((j for j in extra if kb[j] == ka[i]), None)
        if j is not None:
            extra.remove(j)
            lines.append(f"  committed cell {j} is cell {i} in the build: moved ({_first_line(built['cells'][i])})")
        else:
            lines.append(
                f"  cell {i} of the build is missing from the committed notebook ({_first_line(built['cells'][i])})"
            )
    for j in extra:
        lines.append(f"  committed cell {j} is not in the build ({_first_line(committed['cells'][j])})")
    return lines


def check_sources(directory: Path = NOTEBOOK_DIR) -> list[str]:
    """One readable problem per notebook in ``directory`` that differs from what the builders write (empty: none)."""
    directory = Path(directory)
    problems = []
    builds = expected()
    for name, (nb, builder) in sorted(builds.items()):
        path = directory / name
        if not path.exists():
            problems.append(f"{name}: {builder} writes it but {path} does not exist (run `python {HERE / builder}`)")
            continue
        lines = compare(nb, series.read(path))
        if lines:
            head = (
                f"{name} differs from what tools/notebook_builders/{builder} writes (diff lines: - built, + committed)."
                f" Hand edits belong in {builder}; then rebuild with `python tools/notebook_builders/{builder}` and"
                f" refresh changed checkpoints with `python -m genlab.report.series refresh notebooks/{name}`:"
            )
            problems.append("\n".join([head, *lines]))
    for path in series.notebooks(directory):
        if path.name not in builds:
            problems.append(
                f"{path.name}: no builder in tools/notebook_builders writes it (the builders are its only source)"
            )
    return problems


# --- command line ------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python tools/notebook_builders/nbbuild.py", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--check", action="store_true", help="compare the committed notebooks with their builds")
    parser.add_argument("--dir", type=Path, default=NOTEBOOK_DIR, help="the notebooks' folder (default: notebooks/)")
    parser.add_argument("builders", nargs="*", help="builders to run (e.g. nb20); default: all")
    args = parser.parse_args(argv)
    if args.check:
        problems = check_sources(args.dir)
        print("\n\n".join(problems) or f"notebooks: every one is what its builder writes ({args.dir})")
        return 1 if problems else 0
    names = [HERE / (b if b.endswith(".py") else b + ".py") for b in args.builders] or None
    build(args.dir, names)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    import nbbuild  # the module the builders' `from nbbuild import *` will find, not this __main__ copy

    raise SystemExit(nbbuild.main())
