"""Notebooks run under nbval write nothing a reader cannot act on: a cell whose stderr holds a line that
``genlab.report.extract.ALLOWED_STDERR`` does not explain (with its reason) fails, naming the line. Library noise is
fixed where it arises; see ``genlab.report.build``."""

from __future__ import annotations

import pytest

#: The notebooks' jupytext pairs (NN_name.py) are the same cells as text: nbval runs the .ipynb, and collecting the
#: .py with --doctest-modules would execute a whole notebook at import.
collect_ignore_glob = ["[0-9][0-9]_*.py"]

from genlab.report.extract import notebook_noise


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    outputs = getattr(item, "test_outputs", None)  # nbval's outputs of the cell it just ran
    if call.when != "call" or not report.passed or not outputs:
        return
    noise = notebook_noise({"cells": [{"cell_type": "code", "source": "", "outputs": [dict(o) for o in outputs]}]})
    if noise:
        report.outcome = "failed"
        report.longrepr = (
            "the cell wrote on stderr what no allow-list entry explains (fix it where it arises, or add it to "
            "genlab.report.extract.ALLOWED_STDERR with the reason it is harmless):\n"
            + "\n".join(line.split(": ", 1)[1] for line in noise)
        )


#: Notebooks that need a program outside Python: (file name prefix, program, how to install it).
NEEDS_PROGRAM = (("60_", "espeak-ng", "apt-get install -y espeak-ng (.ci/run installs it when run as root)"),)


def pytest_collection_modifyitems(config, items):
    import shutil

    for item in items:
        for prefix, program, install in NEEDS_PROGRAM:
            if item.path.name.startswith(prefix) and shutil.which(program) is None:
                item.add_marker(pytest.mark.skip(reason=f"{item.path.name} needs {program}: {install}"))
