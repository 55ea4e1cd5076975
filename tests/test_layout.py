"""The package's shape: one subpackage per layer, one level deep, and imports that only point down.

Layers, lowest first. A module may import from its own layer and from layers below it, never from a layer above:
metrics never imports training or report, models never imports metrics. Imports inside functions and in docstring
examples count too: a lazy import is still a dependency, and an example that needs a higher layer belongs there. So
does a lazy registry entry: the string ``"genlab.x.y:function"`` is an import of ``genlab.x.y``.

``probes`` sits just above ``metrics``: a probe runs the model under evaluation (pair scoring, cloze, generation
gaps, red-teaming, extraction, exposure) and scores what comes back with metrics; a metric scores outputs and never
runs that model, so the metric table (genlab.metrics.registry) cannot list a probe: probes have their own
(genlab.probes.registry).

``stats``, genlab's one home for intervals, tests, multiplicity corrections and power, is the lowest layer: pure
numpy/scipy/pandas, it imports nothing else of genlab, and every other layer may use it.

Three layers stand apart from the library (data to report). ``worlds``, the planted-truth worlds, sits just above
``core`` and imports nothing else of genlab: a world is generated and checked without models or metrics, and the
library's probes read a world's truth from it. ``recipes``, the shipped models' recipes, sits above the whole library:
a recipe builds with worlds, training and metrics, and nothing in the library imports a recipe (so no library
function depends on a model being built). ``experiments``, the full-size training studies run from the command line
(``python -m genlab.experiments.<name> run``), sits beside the recipes: it writes results the notebooks read, and
nothing in the library imports it. What only one notebook does stays in that notebook.
"""

from __future__ import annotations

import ast
import doctest
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import genlab

LAYERS = ["stats", "core", "worlds", "data", "models", "generation", "metrics", "probes", "training", "widgets",
          "report", "suites", "recipes", "experiments"]  # fmt: skip
#: Imports that point up today, each with the move that removes it: {(importer, imported): the move}. None is left:
#: the recipes measure their models with library code (genlab.probes.world_validity, genlab.probes.image_judging).
PENDING: dict[tuple[str, str], str] = {}
PACKAGE = Path(genlab.__file__).parent


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p != PACKAGE / "__init__.py")


def _layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "genlab" else None


#: A lazy registry entry, ``"genlab.metrics.module:function"``: its module is imported on first use, so it counts.
LAZY_TARGET = re.compile(r"(genlab(?:\.\w+)+):\w+")


def _imports(source: str, module: str) -> list[str]:
    """Every genlab module that ``source`` imports, wherever the import statement sits, and every module a lazy
    registry string (``"genlab.x.y:function"``) names."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and LAZY_TARGET.fullmatch(node.value):
            out.append(node.value.partition(":")[0])
        elif isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the importing module's package
                base = module.split(".")[: -node.level]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            if name == "genlab":  # "from genlab import x": a layer, or an entry point of the top-level package
                out += [f"genlab.{a.name}" if a.name in LAYERS else "genlab" for a in node.names]
            else:
                out += [name] + [f"{name}.{a.name}" for a in node.names]
    return [m for m in out if m == "genlab" or m.startswith("genlab.")]


def _docstring_sources(source: str) -> str:
    parser = doctest.DocTestParser()
    chunks = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            doc = ast.get_docstring(node, clean=True)
            if doc:
                chunks += [ex.source for ex in parser.get_examples(doc)]
    return "\n".join(chunks)


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def test_every_module_sits_in_a_layer_one_level_deep():
    assert [p.name for p in PACKAGE.glob("*.py")] == ["__init__.py"], "modules directly in genlab/ have no layer"
    for path in _modules():
        rel = path.relative_to(PACKAGE)
        assert rel.parts[0] in LAYERS, f"{rel}: {rel.parts[0]!r} is not one of the layers {LAYERS}"
        assert len(rel.parts) == 2, f"{rel}: subpackages are one level deep (genlab/<layer>/<module>.py)"


def test_imports_only_point_down():
    problems, pending = [], set()
    for path in _modules():
        module = _module_name(path)
        layer = LAYERS.index(_layer_of(module))
        source = path.read_text()
        for where, code in (("code", source), ("docstring example", _docstring_sources(source))):
            for target in _imports(code, module):
                target_layer = _layer_of(target)
                if target_layer is None:  # the top-level package: its entry points sit on every layer
                    problems.append(f"{module} ({where}) imports genlab itself; import the subpackage")
                elif LAYERS.index(target_layer) > layer:
                    known = [k for k in PENDING if k[0] == module and f"{target}.".startswith(f"{k[1]}.")]
                    if known:
                        pending.update(known)
                        continue
                    problems.append(f"{module} ({where}) imports {target}, a higher layer")
    assert not problems, "\n".join(problems)
    assert pending == set(PENDING), f"no longer needed, remove from PENDING: {sorted(set(PENDING) - pending)}"


def test_the_checker_sees_lazy_relative_and_docstring_imports():
    source = '''"""Example.

>>> from genlab.studies import evaluation
"""
def f():
    from genlab.training.pretraining import pretrain
    from ..studies import validity
'''
    code = _imports(source, "genlab.metrics.demo")
    assert "genlab.training.pretraining" in code and "genlab.studies" in code
    assert "genlab.studies.evaluation" in _imports(_docstring_sources(source), "genlab.metrics.demo")
    assert _imports("from genlab import generate", "genlab.metrics.demo") == ["genlab"]
    assert _imports('MetricInfo("genlab.probes.cloze:cloze_accuracy")', "genlab.metrics.registry") == [
        "genlab.probes.cloze"
    ]


@pytest.mark.parametrize("layer", LAYERS)
def test_every_module_of_a_layer_imports(layer):
    package = importlib.import_module(f"genlab.{layer}")
    for info in pkgutil.iter_modules(package.__path__):
        if info.name != "__main__":
            importlib.import_module(f"genlab.{layer}.{info.name}")


def test_entry_points_are_the_functions_with_no_module_of_their_name():
    import genlab.generation.decoder
    import genlab.training.finetuning

    assert callable(genlab.generate) and genlab.generate is genlab.generation.decoder.generate
    assert callable(genlab.finetune) and genlab.finetune is genlab.training.finetuning.finetune
    assert not (PACKAGE / "generate.py").exists() and not (PACKAGE / "finetune.py").exists()
