"""The layering of ARCHITECTURE.md: a lower layer never imports a higher one."""

from __future__ import annotations

import ast

import pytest

from sim import paths

RANK = {"sim.errors": 0, "sim.paths": 0, "sim.model": 1, "sim.engine": 2, "sim.scenarios": 3,
        "sim.simulate": 4, "sim.analysis": 5, "sim.present": 6, "sim.api": 7, "sim.cli": 8}
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
