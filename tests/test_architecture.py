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


#: the reason of a function-local import of ``sim`` (ARCHITECTURE.md, "Conventions"): a measured
#: start-up cost (``# lazy: pulls scipy (0.4 s)``) or the import cycle it breaks, on the import's
#: line, in the comment lines right above it or above an earlier import of the same run of imports
LAZY = "# lazy:"
#: a command module's one marker for all its function-local imports (sim.cli.main imports every
#: command module to build the parser, so what a command needs is imported in its functions)
LAZY_COMMAND = "# lazy (command module):"


def _is_sim(node) -> bool:
    if isinstance(node, ast.ImportFrom):
        return node.level > 0 or (node.module or "").split(".")[0] == "sim"
    return any(a.name.split(".")[0] == "sim" for a in node.names)


def local_imports(source: str, command_module: bool = False) -> list[tuple[int, str | None]]:
    """The function-local imports of ``sim`` modules in ``source``: (line, the reason given,
    or None); a command module's :data:`LAZY_COMMAND` marker is the reason of all of them."""
    lines = source.splitlines()
    marker = next((line for line in lines if command_module and line.startswith(LAZY_COMMAND)),
                  None)
    tree = ast.parse(source)

    def why(node) -> str | None:
        said = [line for line in lines[node.lineno - 1:node.end_lineno] if LAZY in line]
        k = node.lineno - 2
        while not said and k >= 0 and lines[k].lstrip().startswith("#"):
            said = [lines[k]] if lines[k].lstrip().startswith(LAZY) else []
            k -= 1
        return said[0].split(LAZY, 1)[1].strip() if said else None

    local = {id(n) for f in ast.walk(tree)
             if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
             for n in ast.walk(f) if isinstance(n, (ast.Import, ast.ImportFrom)) and _is_sim(n)}
    found = []
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            stmts = getattr(node, field, None)
            run: list = []
            for st in stmts if isinstance(stmts, list) else ():
                if not isinstance(st, (ast.Import, ast.ImportFrom)):
                    run = []
                    continue
                run.append(st)
                if id(st) in local:
                    given = next((w for w in map(why, reversed(run)) if w), None)
                    found.append((st.lineno, marker or given))
    return sorted(found)


def unexplained_local_imports(source: str, command_module: bool = False) -> list[int]:
    """Lines of the function-local imports of ``sim`` modules in ``source`` that give no
    reason (:data:`LAZY`); none in a command module with its :data:`LAZY_COMMAND` marker."""
    return [line for line, why in local_imports(source, command_module) if why is None]


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(paths.ROOT)) for p in MODULES])
def test_every_local_import_says_why(path):
    rel = path.relative_to(paths.ROOT).as_posix()
    bad = unexplained_local_imports(path.read_text(encoding="utf-8"),
                                    command_module=rel.startswith("sim/cli/"))
    assert not bad, f"{rel}: function-local imports of sim without a '{LAZY}' reason at lines " \
                    f"{bad} (move them to the module top unless they pull a heavy package or " \
                    f"break an import cycle; ARCHITECTURE.md, 'Conventions')"


def test_lazy_rule_catches_an_import_without_a_reason():
    src = ("import numpy as np\n"
           "from sim import paths\n"
           "\n"
           "def f():\n"
           "    import json\n"                                     # not sim: free
           "    from sim.engine import batch\n"                   # 6: no reason
           "    return batch\n"
           "\n"
           "def g():\n"
           "    # lazy: pulls scipy (0.4 s)\n"
           "    import scipy\n"
           "\n"
           "    from sim.analysis import influence\n"             # 13: same run as line 11
           "    from sim.analysis import sensitivity\n"           # 14
           "    x = 1\n"
           "    from sim.present import labels\n"                 # 16: a new run, no reason
           "    from sim.present import tables  # lazy: breaks the cycle a <-> b\n"
           "    import sim.present.figures\n"                     # 18: after the comment: ok
           "    return influence, sensitivity, labels, tables, x\n"
           "\n"
           "def h():\n"
           "    from sim.x import y\n"                            # 22: its comment is below
           "    # lazy: pulls scipy\n"
           "    from sim.z import w\n"
           "    return lambda: __import__('sim')\n")
    assert unexplained_local_imports(src) == [6, 16, 22]
    marker = src + f"\n\n{LAZY_COMMAND} the parser imports every command\n"
    assert unexplained_local_imports(marker, command_module=True) == []
    assert unexplained_local_imports(marker) == [6, 16, 22]   # the marker is for commands only


if __name__ == "__main__":   # the counts in ARCHITECTURE.md, "Conventions"
    import collections
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]   # this checkout's sim/, whichever is installed
    count = collections.Counter()
    for path in sorted((root / "sim").rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        for _, why in local_imports(path.read_text(encoding="utf-8"), rel.startswith("sim/cli/")):
            pulls, cycle = why is not None and "pulls" in why, why is not None and "cycle" in why
            count["no reason" if why is None else "in command modules"
                  if why.startswith(LAZY_COMMAND) else "pull a package and break a cycle"
                  if pulls and cycle else "break a cycle" if cycle else "pull a package or > 20 ms"
                  if pulls else "other reason"] += 1
    print(f"function-local imports of sim: {sum(count.values())}:",
          ", ".join(f"{n} {k}" for k, n in count.most_common()))
