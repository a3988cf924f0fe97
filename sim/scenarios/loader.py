"""Load a scenario YAML file, follow ``extends:``, and validate every key and value.

A scenario file holds ``name`` ({zh, en}), ``description``, optional ``extends`` (another
scenario file, relative to this one), ``levers`` and optional ``assumptions``. A lever value is
a number or a year-by-year mapping such as ``{2024: 12, 2026: 15}``; an assumption value is a
number. Every problem raises :class:`~sim.errors.ScenarioError` naming the file, the key, the
value and what is allowed, with a suggestion for a misspelled name.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sim import paths
from sim.errors import ScenarioError
from sim.model.parameters import Parameters, load_parameters
from sim.model.yamlio import is_number, read_yaml, require_mapping

TOP_KEYS = ("name", "description", "extends", "levers", "assumptions")
NOT_SCENARIOS = {"uncertainty.yaml"}
YEAR_RANGE = (2012, 2035)

LeverValue = float | dict[int, float]


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: ``levers`` and ``assumptions`` already include what it extends."""

    id: str
    name: dict[str, str]
    description: str
    levers: dict[str, LeverValue] = field(default_factory=dict)
    assumptions: dict[str, float] = field(default_factory=dict)
    source: Path | None = None
    extends: str | None = None

    def label(self, lang: str = "en") -> str:
        return self.name.get(lang) or self.id

    def with_levers(self, levers: dict[str, LeverValue], *, id: str | None = None) -> Scenario:
        """A copy with some levers replaced (validated against the declarations)."""
        params = load_parameters()
        where = f"{self.id} (in code)"
        checked = {k: _lever_value(k, v, params, where) for k, v in levers.items()}
        return replace(self, id=id or self.id, levers={**self.levers, **checked})

    def with_assumptions(self, assumptions: dict[str, float], *, id: str | None = None):
        params = load_parameters()
        where = f"{self.id} (in code)"
        checked = {k: _assumption_value(k, v, params, where) for k, v in assumptions.items()}
        return replace(self, id=id or self.id, assumptions={**self.assumptions, **checked})


def _suggest(name: str, allowed) -> str:
    close = difflib.get_close_matches(str(name), list(allowed), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _number(value: Any, where: str, lo: float, hi: float, unit_hint: str = "") -> float:
    if not is_number(value):
        raise ScenarioError(f"{where}: {value!r} is not a number; allowed: a number in "
                            f"[{lo:g}, {hi:g}]{unit_hint}")
    if not lo <= value <= hi:
        raise ScenarioError(f"{where}: {value!r} is outside the allowed range [{lo:g}, {hi:g}]"
                            f"{unit_hint}")
    return float(value)


def _lever_value(lid: str, value: Any, params: Parameters, where: str) -> LeverValue:
    if lid not in params.levers:
        hint = ""
        if lid in params.assumptions:
            hint = "; it is an assumption: put it under 'assumptions'"
        raise ScenarioError(f"{where}: levers.{lid}: unknown lever{hint or _suggest(lid, params.levers)}"
                            f" (levers are listed in {params.source})")
    lever = params.levers[lid]
    key = f"{where}: levers.{lid}"
    if isinstance(value, dict):
        if lever.kind != "series":
            raise ScenarioError(f"{key}: {value!r} is a year-by-year series but this lever is a "
                                f"constant; allowed: one number in [{lever.min:g}, {lever.max:g}]")
        if not value:
            raise ScenarioError(f"{key}: empty series; give at least one {{year: value}}")
        series: dict[int, float] = {}
        for year, v in value.items():
            if not isinstance(year, int) or isinstance(year, bool) or not (
                    YEAR_RANGE[0] <= year <= YEAR_RANGE[1]):
                raise ScenarioError(f"{key}: year {year!r} is not allowed; years are integers "
                                    f"from {YEAR_RANGE[0]} to {YEAR_RANGE[1]}")
            series[year] = _number(v, f"{key}.{year}", lever.min, lever.max)
        return dict(sorted(series.items()))
    return _number(value, key, lever.min, lever.max)


def _assumption_value(aid: str, value: Any, params: Parameters, where: str) -> float:
    if aid not in params.assumptions:
        hint = "; it is a lever: put it under 'levers'" if aid in params.levers else ""
        raise ScenarioError(f"{where}: assumptions.{aid}: unknown assumption"
                            f"{hint or _suggest(aid, params.assumptions)}"
                            f" (assumptions are listed in {params.source})")
    a = params.assumptions[aid]
    return _number(value, f"{where}: assumptions.{aid}", a.min, a.max)


def _name(raw: Any, where: str) -> dict[str, str]:
    if not isinstance(raw, dict) or not all(isinstance(raw.get(k), str) and raw.get(k)
                                            for k in ("zh", "en")):
        raise ScenarioError(f"{where}: name: {raw!r} is not allowed; give "
                            "{zh: <Chinese name>, en: <English name>}")
    extra = set(raw) - {"zh", "en"}
    if extra:
        raise ScenarioError(f"{where}: name.{sorted(extra)[0]}: unknown key; allowed: zh, en")
    return {"zh": raw["zh"], "en": raw["en"]}


def resolve_scenario_path(ref: str | Path, relative_to: Path | None = None) -> Path:
    """A scenario given as a path, or as an id found in ``scenarios/``."""
    ref_path = Path(ref)
    candidates = [ref_path]
    if relative_to is not None and not ref_path.is_absolute():
        candidates.insert(0, relative_to.parent / ref_path)
    if ref_path.suffix not in (".yaml", ".yml"):
        candidates.append(paths.SCENARIO_DIR / f"{ref}.yaml")
    elif not ref_path.is_absolute():
        candidates.append(paths.SCENARIO_DIR / ref_path.name)
    for c in candidates:
        if c.is_file():
            return c.resolve()
    known = [p.stem for p in list_scenarios()]
    raise ScenarioError(f"{ref}: scenario file not found; known scenarios: {', '.join(known)}"
                        f"{_suggest(Path(ref).stem, known)}")


def list_scenarios(directory: Path | None = None) -> list[Path]:
    """The scenario files of ``directory`` (default ``scenarios/``), sorted by name."""
    directory = Path(directory or paths.SCENARIO_DIR)
    return sorted(p for p in directory.glob("*.yaml") if p.name not in NOT_SCENARIOS)


def load_scenario(ref: str | Path, *, _chain: tuple[Path, ...] = ()) -> Scenario:
    """Load and validate a scenario file (a path, or an id such as ``plan``)."""
    path = resolve_scenario_path(ref, _chain[-1] if _chain else None)
    if path in _chain:
        cycle = " -> ".join(p.name for p in (*_chain, path))
        raise ScenarioError(f"{_chain[-1]}: extends: circular chain {cycle}")
    raw = read_yaml(path, ScenarioError)
    raw = require_mapping(raw, str(path), ScenarioError)
    for key in raw:
        if key not in TOP_KEYS:
            raise ScenarioError(f"{path}: {key}: unknown key{_suggest(key, TOP_KEYS)}; "
                                f"allowed keys: {', '.join(TOP_KEYS)}")
    name = _name(raw.get("name"), str(path))
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise ScenarioError(f"{path}: description: {description!r} is not text")
    params = load_parameters()
    levers: dict[str, LeverValue] = {}
    assumptions: dict[str, float] = {}
    extends = raw.get("extends")
    if extends is not None:
        if not isinstance(extends, str):
            raise ScenarioError(f"{path}: extends: {extends!r} is not a file name")
        parent = load_scenario(extends, _chain=(*_chain, path))
        levers.update(parent.levers)
        assumptions.update(parent.assumptions)
    lever_raw = raw.get("levers") or {}
    lever_raw = require_mapping(lever_raw, f"{path}: levers", ScenarioError)
    for lid, value in lever_raw.items():
        levers[lid] = _lever_value(str(lid), value, params, str(path))
    assum_raw = raw.get("assumptions") or {}
    assum_raw = require_mapping(assum_raw, f"{path}: assumptions", ScenarioError)
    for aid, value in assum_raw.items():
        assumptions[aid] = _assumption_value(str(aid), value, params, str(path))
    return Scenario(path.stem, name, description, levers, assumptions, path, extends)
