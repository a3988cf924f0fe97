"""The layering of ARCHITECTURE.md: a lower layer never imports a higher one."""

from __future__ import annotations

import ast

import pytest

from sim import paths

#: rank 0: imported anywhere (errors, paths, the named axes, the process's xarray setting)
RANK = {"sim.errors": 0, "sim.paths": 0, "sim.dims": 0, "sim.lazy_dask": 0,
        "sim.model": 1, "sim.engine": 2, "sim.scenarios": 3, "sim.simulate": 4,
        "sim.analysis": 5, "sim.present": 6, "sim.api": 7, "sim.cli": 8}
MODULES = sorted((paths.ROOT / "sim").rglob("*.py"))


def _layer(module: str) -> str | None:
    for layer in sorted(RANK, key=len, reverse=True):
        if module == layer or module.startswith(layer + "."):
            return layer
    return None


def _imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names)


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(paths.ROOT)) for p in MODULES])
def test_no_upward_import(path):
    rel = path.relative_to(paths.ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    own = _layer(".".join(parts))
    if own is None:  # sim/__init__.py and sim/__main__.py sit on top
        return
    upward = [m for m in _imports(path)
              if (lay := _layer(m)) is not None and RANK[lay] > RANK[own]]
    assert not upward, f"{rel} ({own}) imports higher layers: {upward}"


#: the module-size rule of ARCHITECTURE.md: commands parse, call the library and print
MAX_CLI_LINES = 150
MAX_LINES = 450


def _lines(path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def oversized(root, files) -> tuple[dict, dict]:
    """Modules (paths relative to ``root``) over :data:`MAX_LINES`, and commands in
    ``sim/cli/`` over :data:`MAX_CLI_LINES`, with their line counts."""
    rel = {p.relative_to(root).as_posix(): _lines(p) for p in files}
    big = {k: n for k, n in rel.items() if n > MAX_LINES}
    fat = {k: n for k, n in rel.items() if k.startswith("sim/cli/") and n > MAX_CLI_LINES}
    return big, fat


def test_module_sizes():
    big, fat = oversized(paths.ROOT, MODULES)
    assert not big, f"modules over {MAX_LINES} lines: {big}"
    assert not fat, f"commands over {MAX_CLI_LINES} lines (move analysis to sim/analysis, " \
                    f"figures to sim/present): {fat}"


def test_size_rule_catches_a_long_module_and_a_long_command(tmp_path):
    def module(rel: str, n: int):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n" * n, encoding="utf-8")
        return path

    files = [module("sim/long.py", MAX_LINES + 1), module("sim/short.py", MAX_LINES),
             module("sim/cli/long.py", MAX_CLI_LINES + 1),
             module("sim/cli/short.py", MAX_CLI_LINES)]
    big, fat = oversized(tmp_path, files)
    assert big == {"sim/long.py": MAX_LINES + 1}
    assert fat == {"sim/cli/long.py": MAX_CLI_LINES + 1}


def _private_uses(path):
    """``from sim.x import _name`` and ``module._name`` (``module`` imported from sim)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sim"):
            for a in node.names:
                if a.name.startswith("_") and not a.name.startswith("__"):
                    yield f"{node.module}.{a.name}"
                modules.add(a.asname or a.name)
        elif isinstance(node, ast.Import):
            modules.update((a.asname or a.name).split(".")[0] for a in node.names
                           if a.name.startswith("sim"))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in modules and node.attr.startswith("_")
                and not node.attr.startswith("__")):
            yield f"{node.value.id}.{node.attr}"


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(paths.ROOT)) for p in MODULES])
def test_no_private_member_across_modules(path):
    used = sorted(set(_private_uses(path)))
    assert not used, f"{path.relative_to(paths.ROOT)} uses private members of other modules: " \
                     f"{used} (give them public names)"


def test_private_rule_catches_a_private_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("\n".join(["from sim.engine import runtime", "from sim.x import _y",
                              "runtime._hidden(1)", ""]), encoding="utf-8")
    assert sorted(_private_uses(bad)) == ["runtime._hidden", "sim.x._y"]


# -- the same rule in the tests: they test what the library offers --------------------------------
TESTS = sorted((paths.ROOT / "tests").rglob("*.py"))
#: private members the tests may read, each with the reason no public name serves
ALLOWED_PRIVATE = {
    "os._exit": "the standard library's documented exit without clean-up (public despite "
                "its name): a test kills a process as a crash would",
    "tests/conftest.py: _pytest.nodeid": "pytest 9 reads a node's id only from item._id, so "
                                         "pytest-xdist's loadgroup suffix is set there; pytest "
                                         "has no public way to set it",
    "tests/conftest.py: item._id": "the same",
    "tests/textcheck.py: page._page_box": "WeasyPrint's public Page gives the size, bleed, "
                                          "links and anchors, not the laid-out boxes (text "
                                          "lines, font sizes, positions, table cells) a "
                                          "printed page is checked on",
}
_ATTR_CALLS = ("getattr", "setattr", "delattr", "hasattr")


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _test_private_uses(tree: ast.AST):
    """Every private member a test reads of another module or object: ``from m import _x``
    and ``import _m`` (any module), ``obj._x`` (any object but ``self`` and ``cls``),
    ``getattr``/``setattr``/``monkeypatch.setattr(obj, "_x", ...)`` and
    ``monkeypatch.setattr("m._x", ...)``; also inside the code of a string (a script a test
    runs in another process)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if any(_private(p) for p in module.split(".")):
                yield module
            yield from (f"{module}.{a.name}" for a in node.names if _private(a.name))
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names if any(map(_private, a.name.split("."))))
        elif isinstance(node, ast.Attribute) and _private(node.attr):
            if not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                yield f"{ast.unparse(node.value)}.{node.attr}"
        elif (isinstance(node, ast.Call) and node.args
              and ast.unparse(node.func).rsplit(".", 1)[-1] in _ATTR_CALLS):
            first, name = node.args[0], node.args[1] if len(node.args) > 1 else None
            if isinstance(name, ast.Constant) and isinstance(name.value, str) \
                    and _private(name.value):
                yield f"{ast.unparse(first)}.{name.value}"
            elif isinstance(first, ast.Constant) and isinstance(first.value, str) \
                    and any(_private(p) for p in first.value.split(".")[1:]):
                yield first.value
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and "\n" in node.value:
            try:
                code = ast.parse(node.value)
            except SyntaxError:   # prose, YAML, a model
                continue
            yield from _test_private_uses(code)


def _unexplained(path) -> list[str]:
    rel = path.relative_to(paths.ROOT).as_posix()
    used = set(_test_private_uses(ast.parse(path.read_text(encoding="utf-8"))))
    return sorted(u for u in used if u not in ALLOWED_PRIVATE
                  and f"{rel}: {u}" not in ALLOWED_PRIVATE)


@pytest.mark.parametrize("path", TESTS, ids=[str(p.relative_to(paths.ROOT)) for p in TESTS])
def test_tests_use_no_private_member(path):
    used = _unexplained(path)
    assert not used, f"{path.relative_to(paths.ROOT)} reads private members: {used} (test " \
                     "the public behaviour, or give the library a public, documented name)"


def test_test_rule_catches_private_reads(tmp_path):
    bad = tmp_path / "tests" / "test_bad.py"
    bad.parent.mkdir()
    bad.write_text("\n".join([   # lines apart: this file's own strings hold no such code
        "from helpers import _made", "import _secret.mod",
        "def test(monkeypatch, model):",
        "    self._mine, model._info, getattr(model, '_kernels'), os._exit",
        "    monkeypatch.setattr(model, '_search', None)",
        "    monkeypatch.setattr('sim.x._y', None)",
        "    run('import sys\\nfrom sim import m\\nm._z()\\n')", ""]), encoding="utf-8")
    assert sorted(_test_private_uses(ast.parse(bad.read_text(encoding="utf-8")))) == [
        "_secret.mod", "helpers._made", "m._z", "model._info", "model._kernels",
        "model._search", "os._exit", "sim.x._y"]
    assert "os._exit" in ALLOWED_PRIVATE
