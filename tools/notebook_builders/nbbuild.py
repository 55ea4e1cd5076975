"""Tiny DSL to write notebooks: md(...), code(...), param(...), check(...)."""
import json, sys
from pathlib import Path

def cell(kind, text, tags=()):
    c = {"cell_type": kind, "metadata": {"tags": list(tags)} if tags else {}, "source": text.strip("\n")}
    if kind == "code":
        c.update(execution_count=None, outputs=[])
    return c

md = lambda t: cell("markdown", t)
code = lambda t, tags=(): cell("code", t, tags)
param = lambda t: cell("code", t, ("parameters",))
check = lambda t: cell("code", t, ("keep_output", "nbval-check-output"))
nav = lambda: md("<!-- nav -->")

def write(path, cells):
    nb = {"cells": cells, "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
          "language_info": {"name": "python"}}, "nbformat": 4, "nbformat_minor": 4}
    for c in nb["cells"]:
        lines = c["source"].split("\n")
        c["source"] = [l + "\n" for l in lines[:-1]] + [lines[-1]]
    Path(path).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
