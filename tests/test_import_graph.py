"""The package's layers import only downward: utils -> config -> models -> data -> training ->
distill -> compress -> export -> pipeline -> cli.

A module may import its own layer and the layers before it, never a later one. Every import
counts, wherever it is written: module level, inside a function (a lazy import still runs), a
`from tfdistill import X` of a lazily exported name (resolved through `tfdistill/__init__.py`'s
`_EXPORTS`), a `tfdistill.X` attribute of `import tfdistill`, `importlib.import_module("...")`
with a literal name, and the module strings of a lazy-export table (a dict literal whose values
all name tfdistill modules). Exempt as importers: `tfdistill/__init__.py` (it maps the public
names of every layer) and the tests and their fixtures (`*_test.py`, `test_*.py`, `conftest.py`,
`testing.py`). Modules are parsed with `ast`, never imported.
"""

import ast
import pathlib

import pytest

LAYERS = ("utils", "config", "models", "data", "training", "distill", "compress", "export", "pipeline", "cli")
PACKAGE = "tfdistill"
ROOT = pathlib.Path(__file__).resolve().parents[1] / PACKAGE


def is_exempt(path):
    """Whether `path` (relative to the repository) may import from any layer."""
    name = path.name
    return (path.parts == (PACKAGE, "__init__.py") or name.endswith("_test.py") or name.startswith("test_")
            or name in ("conftest.py", "testing.py"))


def module_name(path):
    """`tfdistill/data/pipeline.py` -> `tfdistill.data.pipeline` (a package's `__init__` -> the package)."""
    parts = list(path.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module):
    """The layer a `tfdistill.<layer>...` module belongs to; None for `tfdistill` itself."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def root_exports(source):
    """`{public name: module}` of the root package's `_EXPORTS` table."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "_EXPORTS" for t in node.targets):
            return {key.value: value.value for key, value in zip(node.value.keys, node.value.values)}
    return {}


def _resolve_from(node, importer, is_package):
    """The module a `from ... import` names (relative levels resolved against `importer`)."""
    if not node.level:
        return node.module
    base = importer.split(".")
    base = base if is_package else base[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(source, importer, is_package=False, exports=None, is_module=lambda name: False):
    """Returns `[(line, imported tfdistill module)]` for every import in a module's source.

    Args:
        source: str, the module's code.
        importer: str, its dotted name (for relative imports).
        is_package: bool, whether it is a package's `__init__`.
        exports: dict of the root package's lazily exported names -> modules.
        is_module: callable, whether a dotted name is a module of the tree (`from a.b import c`
            then names `a.b.c`, else `a.b`).
    """
    exports = exports or {}
    found = []

    def add(line, module):
        if module == PACKAGE or module.startswith(PACKAGE + "."):
            found.append((line, module))

    def of_root(name):
        # `from tfdistill import X`: a lazily exported name, a subpackage, or a plain attribute of
        # the root package (`__version__`: no layer).
        if name in exports:
            return exports[name]
        return f"{PACKAGE}.{name}" if name in LAYERS else PACKAGE

    tree = ast.parse(source)
    imports_root = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == PACKAGE and alias.asname is None:
                    imports_root = True
                elif alias.name != PACKAGE:
                    add(node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            module = _resolve_from(node, importer, is_package)
            if module == PACKAGE:
                for alias in node.names:
                    add(node.lineno, of_root(alias.name))
            elif module:
                for alias in node.names:
                    submodule = f"{module}.{alias.name}"
                    add(node.lineno, submodule if is_module(submodule) else module)
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"):
            add(node.lineno, node.args[0].value)
        elif isinstance(node, ast.Dict) and node.values and all(
                isinstance(v, ast.Constant) and isinstance(v.value, str) and v.value.startswith(PACKAGE + ".")
                for v in node.values):
            for value in node.values:  # a lazy-export table: {name: "tfdistill.layer.module"}
                add(value.lineno, value.value)
    if imports_root:  # `import tfdistill` ... `tfdistill.load_pretrained(...)`
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == PACKAGE:
                add(node.lineno, of_root(node.attr))
    return found


def violations(root=ROOT):
    """Returns `[(importer path:line, imported module, why)]` for every import against the layers."""
    exports = root_exports((root / "__init__.py").read_text(encoding="utf-8"))

    def is_module(name):
        path = root.parent.joinpath(*name.split("."))
        return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()

    found = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root.parent)
        if is_exempt(relative):
            continue
        importer = module_name(relative)
        own = layer_of(importer)
        if own not in LAYERS:
            found.append((str(relative), importer, f"module outside the layers {LAYERS}: add its package to LAYERS"))
            continue
        source = path.read_text(encoding="utf-8")
        for line, module in sorted(set(imports_of(source, importer, path.name == "__init__.py", exports, is_module))):
            target = layer_of(module)
            if target is None:
                continue  # bare `import tfdistill`: only its attributes count (resolved above)
            if target not in LAYERS:
                found.append((f"{relative}:{line}", module, f"unknown layer {target!r}"))
            elif LAYERS.index(target) > LAYERS.index(own):
                found.append((f"{relative}:{line}", module, f"{own} imports the later layer {target}"))
    return found


def test_every_import_runs_down_the_layers():
    found = violations()
    assert not found, (f"{len(found)} import(s) against the layer order {' -> '.join(LAYERS)}:\n"
                       + "\n".join(f"  {where} imports {module} ({why})" for where, module, why in found))


@pytest.mark.parametrize("source, expected", [
    ("import tfdistill.export.runtime", ["tfdistill.export.runtime"]),
    ("from tfdistill.cli import data_flags", ["tfdistill.cli"]),
    ("def f():\n    from tfdistill.pipeline import stages", ["tfdistill.pipeline"]),
    ("from ..export import runtime", ["tfdistill.export"]),
    ("from . import tokenizer", ["tfdistill.data"]),
    ("from tfdistill import Distiller, compress", ["tfdistill.distill.distiller", "tfdistill.compress"]),
    ("import tfdistill\ntfdistill.load_pretrained('x')", ["tfdistill.models.bert.checkpoint"]),
    ("import importlib\nimportlib.import_module('tfdistill.cli.main')", ["tfdistill.cli.main"]),
    ("_EXPORTS = {'run': 'tfdistill.pipeline.runner'}", ["tfdistill.pipeline.runner"]),
    ("from tfdistill import __version__", ["tfdistill"]),
    ("import numpy as np\nfrom os import path", []),
])
def test_imports_are_found_wherever_they_are_written(source, expected):
    exports = {"Distiller": "tfdistill.distill.distiller", "load_pretrained": "tfdistill.models.bert.checkpoint"}
    found = [module for _, module in imports_of(source, "tfdistill.data.pipeline", exports=exports)]
    assert sorted(found) == sorted(expected)


def test_an_upward_import_is_reported_with_its_place(tmp_path):
    package = tmp_path / PACKAGE
    for folder in ("data", "training", "cli"):
        (package / folder).mkdir(parents=True)
        (package / folder / "__init__.py").write_text("")
    (package / "__init__.py").write_text("_EXPORTS = {}\n")
    (package / "cli" / "flags.py").write_text("")
    (package / "data" / "reader.py").write_text("import os\n\n\ndef f():\n    from tfdistill.cli import flags\n")
    (package / "training" / "loop.py").write_text("from tfdistill.data import reader\n")
    (package / "data" / "reader_test.py").write_text("from tfdistill.cli import flags\n")
    assert violations(package) == [
        (f"{PACKAGE}/data/reader.py:5", "tfdistill.cli.flags", "data imports the later layer cli")]
