"""The conda environment and pyproject.toml declare the same dependencies."""

from __future__ import annotations

import re
import tomllib

import yaml

from sim import paths


def _name(spec: str) -> str:
    base = re.split(r"[<>=!~\[ ]", spec.strip(), maxsplit=1)[0]
    return base.lower().replace("_", "-")


def test_environment_matches_pyproject():
    project = tomllib.loads((paths.ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(d) for d in project["dependencies"]}
    wanted |= {_name(d) for d in project["optional-dependencies"]["dev"]}
    wanted = {"distributed" if w == "dask" else w for w in wanted} | {"dask"}
    env = yaml.safe_load((paths.ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    have = set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            have |= {_name(d) for d in dep["pip"] if not d.startswith("-")}
        else:
            have.add(_name(dep))
    have -= {"python", "pip"}
    assert have == wanted


def test_console_script_declared():
    project = tomllib.loads((paths.ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["plansim"] == "sim.cli.main:entry"


def test_the_program_ends_with_the_collector_frozen(monkeypatch):
    """``entry`` returns main's exit code, and only then freezes the collector (so a
    process that goes on after ``main`` is not affected)."""
    import gc

    from sim.cli import main as cli

    seen = []
    monkeypatch.setattr(cli, "main", lambda: seen.append(gc.get_freeze_count()) or 3)
    monkeypatch.setattr(gc, "freeze", lambda: seen.append("frozen"))
    assert cli.entry() == 3
    assert seen[-1] == "frozen" and len(seen) == 2
