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
    bad.write_text("from sim.engine import runtime\nfrom sim.x import _y\n"
                   "runtime._hidden(1)\n", encoding="utf-8")
    assert sorted(_private_uses(bad)) == ["runtime._hidden", "sim.x._y"]
