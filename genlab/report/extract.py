"""What an executed notebook shows besides its records: checkpoints, parameters, limitations, noise, errors, hashes.

Tables, figures and numbers are not read out of rendered outputs: a notebook records them by name with
``genlab.report.record`` and :func:`genlab.report.recording.recorded` reads them back. Every function here takes the
notebook as the dict ``json.load`` gives (nbformat 4) and executes nothing:

- :func:`checkpoints`: the printed text of the checkpoint cells (tagged ``nbval-check-output``);
- :func:`parameters`: the values the ``parameters`` cell assigns (and papermill's ``injected-parameters`` cell
  overrides);
- :func:`limitations`: the markdown of the notebook's "Limitations" section;
- :func:`notebook_noise`: what the notebook wrote on stderr that no allow-list entry explains;
- :func:`data_hashes`: sha256 digests the notebook printed.

Each item carries ``cell`` (its cell's index) and ``section`` (the nearest markdown heading above it), so a report
can show it in context.

>>> nb = {"cells": [{"cell_type": "markdown", "source": "## Loss", "metadata": {}},
...                 {"cell_type": "code", "source": "print(1)", "metadata": {"tags": ["nbval-check-output"]},
...                  "outputs": [{"output_type": "stream", "name": "stdout", "text": "1\\n"}]},
...                 {"cell_type": "code", "source": "import warnings", "metadata": {}, "outputs": [
...                  {"output_type": "stream", "name": "stderr", "text": "UserWarning: careful\\n"}]}]}
>>> [(c.cell, c.section, c.text) for c in checkpoints(nb)]
[(1, 'Loss', '1')]
>>> notebook_noise(nb)
['cell 2: UserWarning: careful']
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ALLOWED_STDERR",
    "CHECK_TAG",
    "COMMITTED_TAG",
    "TITLE_RE",
    "Checkpoint",
    "checkpoints",
    "data_hashes",
    "errors",
    "figure_title",
    "limitations",
    "notebook_noise",
    "parameters",
    "stderr_lines",
    "title",
]

TITLE_RE = re.compile(r"^# (\d\d) · (.+)$")  # a notebook's first line: "# 20 · Decoding and repetition"
CHECK_TAG = "nbval-check-output"  # the checkpoint cells nbval compares
PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"  # papermill's name for a cell that overrides the parameters
COMMITTED_TAG = "full-size-results"  # a cell that only shows committed full-size results (not hashed as study code)

#: stderr lines a notebook may write, each with the reason it is harmless. Anything else is noise: fix it where it
#: arises (see the report's "No library noise" notes in ``genlab.report.build``) or add it here with a reason.
ALLOWED_STDERR: tuple[tuple[str, str], ...] = (
    (
        r"Kernel is running over TCP without encryption",
        "ipykernel's log when the kernel listens on localhost TCP (nbclient's default); it concerns the kernel's "
        "transport, not the notebook",
    ),
)

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _tags(cell: dict) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def walk(nb: dict) -> Iterator[tuple[int, str, dict]]:
    """(cell index, nearest heading above, cell) for every cell."""
    section = ""
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") == "markdown":
            for line in _source(cell).split("\n"):
                m = _HEADING.match(line.strip())
                if m:
                    section = m.group(2).strip()
        yield i, section, cell


# --- title --------------------------------------------------------------------------------------------------------
def title(nb: dict, name: str) -> tuple[str, str, str]:
    """(number, title, summary) from the first cell's ``# NN · Title`` and the line under it; ``name`` is the
    notebook's file name (its first two characters are the number).

    >>> title({"cells": [{"cell_type": "markdown", "source": "# 20 · Decoding\\nHow sampling shapes text."}]}, "20_x")
    ('20', 'Decoding', 'How sampling shapes text.')
    """
    cells = nb.get("cells", [])
    first = _source(cells[0]).strip().split("\n") if cells else [""]
    m = TITLE_RE.match(first[0])
    summary = next((line.strip() for line in first[1:] if line.strip()), "")
    return name[:2], (m.group(2) if m else name.rsplit(".", 1)[0]), summary


def figure_title(fig: dict) -> str:
    """The title of a plotly figure's JSON (``layout.title.text`` or a plain ``layout.title``), else ``""``.

    >>> figure_title({"layout": {"title": {"text": "Loss"}}}), figure_title({"data": []})
    ('Loss', '')
    """
    title = fig.get("layout", {}).get("title", "")
    if isinstance(title, dict):
        title = title.get("text", "")
    return str(title or "")


# --- checkpoints ---------------------------------------------------------------------------------------------------
@dataclass
class Checkpoint:
    cell: int
    section: str
    text: str  # what the cell printed (stdout), then its result's text


def checkpoints(nb: dict) -> list[Checkpoint]:
    """The checkpoint cells (tagged ``nbval-check-output``) with the text they printed."""
    out = []
    for i, section, cell in walk(nb):
        if cell.get("cell_type") != "code" or CHECK_TAG not in _tags(cell):
            continue
        parts = []
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream" and o.get("name") == "stdout":
                parts.append(_text(o.get("text", "")))
            elif o.get("output_type") == "execute_result" and "text/plain" in o.get("data", {}):
                parts.append(_text(o["data"]["text/plain"]) + "\n")
        out.append(Checkpoint(i, section, "".join(parts).rstrip("\n")))
    return out


# --- parameters --------------------------------------------------------------------------------------------------
def _assignments(source: str) -> dict[str, Any]:
    """Names a cell assigns and their values: literals as values, anything else as its source text."""
    values: dict[str, Any] = {}
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return values
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            pairs = [(node.target, node.value)]
        elif isinstance(node, ast.Assign):
            pairs = []
            for target in node.targets:
                if isinstance(target, ast.Name):
                    pairs.append((target, node.value))
                elif (
                    isinstance(target, ast.Tuple)
                    and isinstance(node.value, ast.Tuple)
                    and len(target.elts) == len(node.value.elts)
                ):
                    pairs += list(zip(target.elts, node.value.elts, strict=True))
        else:
            continue
        for target, value in pairs:
            if isinstance(target, ast.Name):
                try:
                    values[target.id] = ast.literal_eval(value)
                except (ValueError, SyntaxError, TypeError):
                    values[target.id] = ast.get_source_segment(source, value)
    return values


def parameters(nb: dict) -> dict[str, Any]:
    """The values of the ``parameters`` cell, overridden by an ``injected-parameters`` cell if there is one.

    Tuples become lists (as JSON holds them); an expression that is not a literal is kept as its source text.

    >>> nb = {"cells": [{"cell_type": "code", "metadata": {"tags": ["parameters"]}, "outputs": [],
    ...                  "source": "N = 16  # realistic: 1_000\\nA, B = 1, (2, 3)\\nT = 2 ** 3"}]}
    >>> parameters(nb)
    {'N': 16, 'A': 1, 'B': [2, 3], 'T': '2 ** 3'}
    """
    values: dict[str, Any] = {}
    for tag in (PARAMETERS_TAG, INJECTED_TAG):
        for cell in nb.get("cells", []):
            if cell.get("cell_type") == "code" and tag in _tags(cell):
                values.update(_assignments(_source(cell)))
    return {k: _jsonable(v) for k, v in values.items()}


def _jsonable(v: Any) -> Any:
    if isinstance(v, (tuple, list, set, frozenset)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return repr(v)


# --- limitations -------------------------------------------------------------------------------------------------
def limitations(nb: dict) -> str:
    """The markdown of the notebook's Limitations section (heading excluded), up to the next heading of the same or
    a higher level; ``""`` when there is none.

    >>> limitations({"cells": [{"cell_type": "markdown", "metadata": {},
    ...                         "source": "## Limitations\\n- **Small.** n = 16.\\n\\n## Next\\nMore."}]})
    '- **Small.** n = 16.'
    """
    lines: list[str] = []
    level = 0
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        for line in _source(cell).split("\n"):
            m = _HEADING.match(line.strip())
            if m and level and len(m.group(1)) <= level:
                return "\n".join(lines).strip()
            if m and not level and m.group(2).strip().lower().startswith("limitations"):
                level = len(m.group(1))
                continue
            if level:
                lines.append(line)
        if level:  # the section goes on in the next markdown cell: one blank line between them
            while lines and not lines[-1].strip():
                lines.pop()
            lines.append("")
    return "\n".join(lines).strip()


# --- stderr, errors, hashes --------------------------------------------------------------------------------------
def stderr_lines(nb: dict) -> list[tuple[int, str]]:
    """(cell index, line) for every non-empty line the notebook wrote on stderr (warnings and logs land there)."""
    out = []
    for i, _, cell in walk(nb):
        for o in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            if o.get("output_type") == "stream" and o.get("name") == "stderr":
                out += [
                    (i, line.rstrip()) for line in _ANSI.sub("", _text(o.get("text", ""))).split("\n") if line.strip()
                ]
    return out


def notebook_noise(nb: dict, allowed: tuple[tuple[str, str], ...] = ALLOWED_STDERR) -> list[str]:
    """Lines the notebook wrote on stderr that no ``allowed`` pattern explains, as ``"cell N: line"``.

    A warning's source line (the indented line Python prints under it) belongs to the warning and is left out.
    """
    patterns = [re.compile(p) for p, _ in allowed]
    out = []
    for i, line in stderr_lines(nb):
        if line.startswith((" ", "\t")) and out and out[-1].startswith(f"cell {i}: "):
            continue  # the source line of the warning just reported
        if not any(p.search(line) for p in patterns):
            out.append(f"cell {i}: {line}")
    return out


def errors(nb: dict) -> list[dict]:
    """The error outputs (a failed cell): ``{"cell", "ename", "evalue", "traceback"}``, ANSI colours removed."""
    out = []
    for i, _, cell in walk(nb):
        for o in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            if o.get("output_type") == "error":
                out.append(
                    {
                        "cell": i,
                        "ename": o.get("ename", ""),
                        "evalue": _ANSI.sub("", o.get("evalue", "")),
                        "traceback": _ANSI.sub("", "\n".join(o.get("traceback", []))),
                    }
                )
    return out


_HASH = re.compile(r"\b[0-9a-f]{64}\b")


def data_hashes(nb: dict) -> list[dict]:
    """sha256 digests (64 hex digits) that the notebook printed: ``{"cell", "sha256", "context"}``, where the
    context is the line that holds the digest."""
    out, seen = [], set()
    for i, _, cell in walk(nb):
        for o in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            if o.get("output_type") == "stream" and o.get("name") == "stdout":
                text = _text(o.get("text", ""))
            elif o.get("output_type") in ("execute_result", "display_data"):
                text = _text(o.get("data", {}).get("text/plain", ""))
            else:
                continue
            for line in text.split("\n"):
                for digest in _HASH.findall(line):
                    if digest not in seen:
                        seen.add(digest)
                        out.append({"cell": i, "sha256": digest, "context": line.strip()[:200]})
    return out
