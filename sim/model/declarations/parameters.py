"""Policy levers and uncertain assumptions, declared once in ``model/parameters.yaml``.

A *lever* is something the city decides (a budget series, an award amount); an *assumption* is
something nobody decides but the forecast depends on (a delay, an elasticity). Each names the
``.mdl`` variable it sets, its allowed range, a bilingual label and a short bilingual
``description`` (what it means, for the catalogues ``plansim levers``/``assumptions`` and the
editor tooltips of the scenario schema). Units and the full reasoning with its sources are read
from the ``.mdl`` itself (its units strings and comments), so they are declared exactly once: a
lever's label is declared without its unit and shown with it (:attr:`Lever.label`, composed by
:func:`sim.model.declarations.words.labelled` from the unit of its variable in the ``.mdl``).
A lever's optional ``plan_value`` says where the plan scenario's value for it comes from:
``assumed`` when the action plan names the lever without a figure, so that the value in
``scenarios/plan.yaml`` is an assumption of the scenario (the briefing marks it).

The keys each part of the file may have are declared below (:data:`SECTIONS`, :data:`LEVER_KEYS`,
...); any other key, such as a misspelt ``plan_valeu``, is refused naming the file and the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from sim import paths
from sim.errors import ParameterError
from sim.model.cache.diskcache import RememberedTable, package_version
from sim.model.declarations.words import LANGS, labelled
from sim.model.declarations.yamlio import check_keys, is_number, read_yaml, require_mapping
from sim.model.equations.mdl import declared_units, variable_key

LEVER_KINDS = ("constant", "series")
INTERPOLATIONS = ("linear", "step")
#: the values of a lever's ``plan_value`` (left out: nothing is declared about it)
PLAN_VALUES = ("assumed",)
#: the sections of model/parameters.yaml (``constraints:`` is read by sim.scenarios.constraints)
SECTIONS = ("groups", "levers", "assumptions", "constraints", "constants")
#: the keys of a lever, of an assumption and of a constant
LEVER_KEYS = ("variable", "kind", "interpolation", "min", "max", "group", "plan_value", "label",
              "description")
ASSUMPTION_KEYS = ("variable", "min", "max", "label", "description")
CONSTANT_KEYS = ("variable", "unit", "reason", "kind")


@dataclass(frozen=True)
class Lever:
    id: str
    variable: str
    kind: str
    min: float
    max: float
    group: str
    name: dict[str, str]        # the declared label, without the unit
    description: dict[str, str]
    interpolation: str = "linear"
    unit: str = ""              # the units of its variable in the .mdl
    plan_value: str | None = None   # "assumed": the plan gives no figure (see PLAN_VALUES)

    @property
    def py_name(self) -> str:
        return python_name(self.variable)

    @property
    def assumed_in_plan(self) -> bool:
        """True when the plan scenario's path of this lever is an assumption of the scenario,
        not a figure of the plan (``plan_value: assumed``)."""
        return self.plan_value == "assumed"

    @property
    def label(self) -> dict[str, str]:
        """The label as shown, with its unit: ``{"zh": "单笔股权投资上限(万元/家)", ...}``."""
        return {lang: labelled(self.name[lang], self.unit, lang) for lang in LANGS}


@dataclass(frozen=True)
class Assumption:
    id: str
    variable: str
    min: float
    max: float
    label: dict[str, str]
    description: dict[str, str]

    @property
    def py_name(self) -> str:
        return python_name(self.variable)


@dataclass(frozen=True)
class Constant:
    """A named physical, accounting, regulatory or definitional constant (or a data table) of
    the ``.mdl``: neither decided nor uncertain, so it is not sampled; declared with its unit and
    the reason it is fixed."""
    id: str
    variable: str
    unit: str
    reason: str
    kind: str = "constant"          # constant | table

    @property
    def py_name(self) -> str:
        return python_name(self.variable)


@dataclass(frozen=True)
class Parameters:
    levers: dict[str, Lever]
    assumptions: dict[str, Assumption]
    groups: dict[str, dict[str, str]] = field(default_factory=dict)
    source: Path | None = None
    constants: dict[str, Constant] = field(default_factory=dict)


@lru_cache(maxsize=4096)
def python_name(vensim_name: str) -> str:
    """PySD's Python name of a Vensim variable name (lower case, spaces as underscores).

    Remembered in the user's cache (:mod:`sim.model.cache.diskcache`, one table per PySD version):
    PySD's namer imports all of PySD and SciPy, about a second of every command's start."""
    hit = _NAMES.get(vensim_name)
    if hit is None:
        from pysd.builders.python.namespace import NamespaceManager

        hit = NamespaceManager().make_python_identifier(vensim_name)
        _NAMES.set(vensim_name, hit)
    return hit


_NAMES = RememberedTable(lambda: f"pynames-{package_version('pysd')}.pkl")


def _label(raw, where: str, what: str = "a label") -> dict[str, str]:
    raw = require_mapping(raw, where, ParameterError)
    check_keys(raw, LANGS, where, ParameterError)
    missing = [lang for lang in LANGS
               if not isinstance(raw.get(lang), str) or not raw.get(lang).strip()]
    if missing:
        raise ParameterError(f"{where}: missing {', '.join(missing)} text; {what} needs zh and en")
    return {lang: raw[lang].strip() for lang in LANGS}


def _description(entry: dict, where: str) -> dict[str, str]:
    """The required short bilingual description (what the lever or assumption means)."""
    if entry.get("description") is None:
        raise ParameterError(f"{where}.description: missing; allowed: a mapping with a short "
                             "zh and en text saying what it means")
    return _label(entry["description"], f"{where}.description", "a description")


def _bounds(entry: dict, where: str) -> tuple[float, float]:
    for key in ("min", "max"):
        if not is_number(entry.get(key)):
            raise ParameterError(f"{where}.{key}: {entry.get(key)!r} is not a number")
    if entry["min"] > entry["max"]:
        raise ParameterError(f"{where}: min {entry['min']} is above max {entry['max']}")
    return float(entry["min"]), float(entry["max"])


def _lever(lid: str, entry, groups: dict, where: str, units: dict[str, str]) -> Lever:
    entry = require_mapping(entry, where, ParameterError)
    check_keys(entry, LEVER_KEYS, where, ParameterError)
    kind = entry.get("kind")
    if kind not in LEVER_KINDS:
        raise ParameterError(f"{where}.kind: {kind!r} is not allowed; use one of {LEVER_KINDS}")
    interp = entry.get("interpolation", "linear")
    if interp not in INTERPOLATIONS:
        raise ParameterError(
            f"{where}.interpolation: {interp!r} is not allowed; use one of {INTERPOLATIONS}")
    group = entry.get("group")
    if group not in groups:
        raise ParameterError(
            f"{where}.group: {group!r} is not a declared group; groups are {sorted(groups)}")
    if not isinstance(entry.get("variable"), str):
        raise ParameterError(f"{where}.variable: {entry.get('variable')!r} is not a variable name")
    plan_value = entry.get("plan_value")
    if plan_value is not None and plan_value not in PLAN_VALUES:
        raise ParameterError(
            f"{where}.plan_value: {plan_value!r} is not allowed; use {', '.join(PLAN_VALUES)} "
            "(the plan gives no figure, so scenarios/plan.yaml assumes one) or leave it out")
    lo, hi = _bounds(entry, where)
    return Lever(lid, entry["variable"], kind, lo, hi, group,
                 _label(entry.get("label"), f"{where}.label"), _description(entry, where),
                 interp, units.get(variable_key(entry["variable"]), ""), plan_value)


def _assumption(aid: str, entry, where: str) -> Assumption:
    entry = require_mapping(entry, where, ParameterError)
    check_keys(entry, ASSUMPTION_KEYS, where, ParameterError)
    if not isinstance(entry.get("variable"), str):
        raise ParameterError(f"{where}.variable: {entry.get('variable')!r} is not a variable name")
    lo, hi = _bounds(entry, where)
    return Assumption(aid, entry["variable"], lo, hi, _label(entry.get("label"), f"{where}.label"),
                      _description(entry, where))


def _constant(cid: str, entry, where: str) -> Constant:
    entry = require_mapping(entry, where, ParameterError)
    check_keys(entry, CONSTANT_KEYS, where, ParameterError)
    for key in ("variable", "unit", "reason"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise ParameterError(f"{where}: '{key}' is missing or empty; allowed: a non-empty "
                                 "text")
    kind = entry.get("kind", "constant")
    if kind not in ("constant", "table"):
        raise ParameterError(f"{where}: kind {kind!r}; allowed: constant, table")
    return Constant(cid, entry["variable"].strip(), entry["unit"].strip(),
                    entry["reason"].strip(), kind)


def parse_parameters(raw, source: Path, units: dict[str, str] | None = None) -> Parameters:
    """The declarations of ``raw`` (parsed ``source``); ``units``: the units of the model's
    variables by :func:`~sim.model.equations.mdl.variable_key` (the levers' labels show them)."""
    raw = require_mapping(raw, str(source), ParameterError)
    check_keys(raw, SECTIONS, str(source), ParameterError)
    groups_raw = require_mapping(raw.get("groups", {}), f"{source}: groups", ParameterError)
    groups = {g: _label(v, f"{source}: groups.{g}") for g, v in groups_raw.items()}
    levers_raw = require_mapping(raw.get("levers", {}), f"{source}: levers", ParameterError)
    levers = {k: _lever(k, v, groups, f"{source}: levers.{k}", units or {})
              for k, v in levers_raw.items()}
    assum_raw = require_mapping(raw.get("assumptions", {}), f"{source}: assumptions",
                                ParameterError)
    assumptions = {k: _assumption(k, v, f"{source}: assumptions.{k}")
                   for k, v in assum_raw.items()}
    both = set(levers) & set(assumptions)
    if both:
        raise ParameterError(f"{source}: {sorted(both)} declared both as lever and as assumption")
    variables: dict[str, str] = {}
    for pid, p in [*levers.items(), *assumptions.items()]:
        if p.py_name in variables:
            raise ParameterError(f"{source}: {pid} and {variables[p.py_name]} set the same "
                                 f"variable '{p.variable}'")
        variables[p.py_name] = pid
    const_raw = require_mapping(raw.get("constants", {}), f"{source}: constants", ParameterError)
    constants = {k: _constant(k, v, f"{source}: constants.{k}") for k, v in const_raw.items()}
    for cid, c in constants.items():
        if cid in levers or cid in assumptions or c.py_name in variables:
            raise ParameterError(f"{source}: constants.{cid}: '{c.variable}' is already declared "
                                 "as a lever or an assumption")
    return Parameters(levers, assumptions, groups, source, constants)


def read_parameters_file(path: Path) -> Any:
    """The parsed YAML of ``model/parameters.yaml`` (or ``path``): the file's one reader (the
    levers and assumptions here, its ``constraints:`` in :mod:`sim.scenarios.constraints`)."""
    return read_yaml(path, ParameterError)


@lru_cache(maxsize=8)
def _cached(path: Path, mtime: float, model_mtime: float) -> Parameters:
    return parse_parameters(read_parameters_file(path), path, declared_units(paths.MODEL_FILE))


def load_parameters(path: Path | str | None = None) -> Parameters:
    """Load and validate the lever and assumption declarations."""
    path = Path(path or paths.PARAMETERS_FILE).resolve()
    if not path.is_file():
        raise ParameterError(f"{path}: file not found")
    return _cached(path, path.stat().st_mtime, paths.MODEL_FILE.stat().st_mtime)
