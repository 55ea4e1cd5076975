"""genlab.stats stays light and self-contained: its modules import only the standard library, numpy, scipy, pandas
and each other (tests/test_layout.py keeps the rest of genlab out), and the package exports each public name of
its modules once."""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

import genlab.stats

ALLOWED = {"numpy", "scipy", "pandas", "genlab"}
MODULES = sorted(Path(genlab.stats.__file__).parent.glob("*.py"))


def _imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):  # lazy imports inside functions count too
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module)
    return names


def test_stats_imports_only_numpy_scipy_pandas_and_itself():
    problems = []
    for path in MODULES:
        for name in _imported(path):
            top = name.split(".")[0]
            if top in sys.stdlib_module_names or top == "__future__":
                continue
            if top not in ALLOWED or (top == "genlab" and not name.startswith("genlab.stats")):
                problems.append(f"{path.name} imports {name}")
    assert not problems, "\n".join(problems)


def test_the_package_exports_every_public_function_and_result_of_its_modules():
    exported = set(genlab.stats.__all__)
    for path in MODULES:
        if path.stem == "__init__":
            continue
        module = importlib.import_module(f"genlab.stats.{path.stem}")
        public = {
            name
            for name, value in vars(module).items()
            if not name.startswith("_")
            and getattr(value, "__module__", None) == module.__name__
            and (callable(value) and not isinstance(value, type) or hasattr(value, "__dataclass_fields__"))
        }
        missing = public - exported
        assert not missing, f"genlab.stats does not export {sorted(missing)} of {module.__name__}"
        for name in public:
            assert getattr(genlab.stats, name) is getattr(module, name)
