"""Load a scenario YAML file, follow ``extends:``, and validate every key and value.

A scenario file holds ``name`` ({zh, en}), ``description``, optional ``extends`` (another
scenario file, relative to this one), ``levers`` and optional ``assumptions``. A lever value is
a number or a year-by-year mapping such as ``{2025: 12, 2027: 15}``; an assumption value is a
number. Every problem raises :class:`~sim.errors.ScenarioError` naming the file, the key, the
value (a short excerpt) and what is allowed, with a suggestion for a misspelled name.

Inheritance: a series lever set both in a file and in the file it ``extends`` keeps the
*parent's* trajectory before the child's first year (an :class:`Inherited` value); overrides
given in code (:func:`apply_overrides`, used by ``sim.run(..., levers=...)``) follow the same
rule and the same validation as files.
"""

from __future__ import annotations

import hashlib
import math
import numbers
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from sim import paths
from sim.errors import ScenarioError, excerpt, plain_text
from sim.model.declarations.parameters import Parameters, load_parameters
from sim.model.declarations.targets import load_targets
from sim.model.declarations.words import LANGS
from sim.model.declarations.yamlio import is_number, read_yaml, suggest

TOP_KEYS = ("name", "description", "extends", "levers", "assumptions")
NOT_SCENARIOS = {"uncertainty.yaml"}
#: first year a lever series may name (the model's first simulated year)
FIRST_YEAR = 2012
#: longest chain of ``extends`` (a file, its parent, its parent's parent, ...)
MAX_EXTENDS = 20


def year_range() -> tuple[int, int]:
    """Years a lever series may name: :data:`FIRST_YEAR` to the declared horizon
    (model/targets.yaml)."""
    return (FIRST_YEAR, load_targets().plan.horizon)


@dataclass(frozen=True)
class Inherited:
    """A series lever set at two levels: ``over`` (a ``{year: value}`` series) from its first
    year on, and before it ``under``, the value it overrides (a number, a series, or itself
    inherited)."""

    under: Any
    over: dict[int, float]


LeverValue = float | dict[int, float] | Inherited


def first_year(value: Any) -> float:
    """The first year a lever value acts (a number acts over the whole run: -inf)."""
    if isinstance(value, Inherited):
        return min(first_year(value.under), min(value.over))
    if isinstance(value, dict):
        return float(min(value))
    return -math.inf


def overlay(under: Any, over: Any) -> Any:
    """``over`` applied on top of ``under``: a series keeps ``under`` before its first year."""
    if under is None or not isinstance(over, dict) or min(over) <= first_year(under):
        return over
    return Inherited(under, over)


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
        """A copy with some levers replaced whole (validated against the declarations)."""
        params = load_parameters()
        where = f"{self.id} (in code)"
        checked = {_key(k, "levers", where): _lever_value(k, v, params, where, arrays=False)
                   for k, v in levers.items()}
        return replace(self, id=id or self.id, levers={**self.levers, **checked})

    def with_assumptions(self, assumptions: dict[str, float], *, id: str | None = None):
        params = load_parameters()
        where = f"{self.id} (in code)"
        checked = {_key(k, "assumptions", where): _assumption_value(k, v, params, where,
                                                                    arrays=False)
                   for k, v in assumptions.items()}
        return replace(self, id=id or self.id, assumptions={**self.assumptions, **checked})


def apply_overrides(scenario: Scenario, levers: Any, assumptions: Any,
                    params: Parameters) -> tuple[dict[str, Any], dict[str, Any]]:
    """The scenario's levers and assumptions with ``levers``/``assumptions`` given in code on
    top, validated exactly as a scenario file (same errors and messages). Values may also be
    per-sample 1-D arrays. A series given here keeps the scenario's trajectory before its first
    year, as a file that ``extends`` another does."""
    where = f"{scenario.id} (in code)"
    lev: dict[str, Any] = {_key(k, "levers", where): _lever_value(k, v, params, where)
                           for k, v in scenario.levers.items()}
    ass: dict[str, Any] = {_key(k, "assumptions", where): _assumption_value(k, v, params, where)
                           for k, v in scenario.assumptions.items()}
    lev_over, ass_over = validate_overrides(scenario, levers, assumptions, params)
    for lid, value in lev_over.items():
        lev[lid] = overlay(lev.get(lid), value)
    return lev, {**ass, **ass_over}


def validate_overrides(scenario: Scenario, levers: Any, assumptions: Any, params: Parameters
                       ) -> tuple[dict[str, Any], dict[str, Any]]:
    """``levers``/``assumptions`` given in code, validated exactly as a scenario file's (the
    values alone, not yet laid over the scenario's)."""
    where = f"{scenario.id} (in code)"
    for table, kind in ((levers, "levers"), (assumptions, "assumptions")):
        if table is not None and not isinstance(table, dict):
            raise ScenarioError(f"{where}: {kind}: expected a mapping of ids to values, "
                                f"got {type(table).__name__}")
    lev = {_key(lid, "levers", where): _lever_value(lid, value, params, where)
           for lid, value in (levers or {}).items()}
    ass = {_key(aid, "assumptions", where): _assumption_value(aid, value, params, where)
           for aid, value in (assumptions or {}).items()}
    return lev, ass


def _key(key: Any, table: str, where: str) -> str:
    if not isinstance(key, str):
        raise ScenarioError(f"{where}: {table}: key {excerpt(key)} is not allowed; keys are "
                            f"{table[:-1]} ids (text)")
    return key


def _number(value: Any, where: str, lo: float, hi: float, unit_hint: str = "") -> float:
    if not is_number(value):
        raise ScenarioError(f"{where}: {excerpt(value)} is not a number; allowed: a number in "
                            f"[{lo:g}, {hi:g}]{unit_hint}")
    if not math.isfinite(float(value)):
        raise ScenarioError(f"{where}: {excerpt(value)} is not a finite number; allowed: a "
                            f"number in [{lo:g}, {hi:g}]{unit_hint}")
    if not lo <= value <= hi:
        raise ScenarioError(f"{where}: {excerpt(value)} is outside the allowed range "
                            f"[{lo:g}, {hi:g}]{unit_hint}")
    return float(value)


def _numbers(value: Any, where: str, lo: float, hi: float) -> Any:
    """A number, or (in code) a 1-D array of per-sample numbers, each checked as one."""
    if isinstance(value, np.ndarray) and value.ndim == 1:
        if value.dtype.kind not in "iuf" or value.size == 0:
            raise ScenarioError(f"{where}: a per-sample array must hold numbers; got "
                                f"{value.size} values of type {value.dtype}")
        arr = value.astype(float)
        bad = ~np.isfinite(arr) | (arr < lo) | (arr > hi)
        if bad.any():
            i = int(np.argmax(bad))
            _number(float(arr[i]), f"{where}[sample {i}]", lo, hi)
        return value
    return _number(value, where, lo, hi)


def _lever_value(lid: str, value: Any, params: Parameters, where: str,
                 arrays: bool = True) -> LeverValue:
    if lid not in params.levers:
        hint = ""
        if lid in params.assumptions:
            hint = "; it is an assumption: put it under 'assumptions'"
        raise ScenarioError(f"{where}: levers.{lid}: unknown lever{hint or suggest(lid, params.levers)}"
                            f" (levers are listed in {params.source})")
    lever = params.levers[lid]
    key = f"{where}: levers.{lid}"
    if isinstance(value, Inherited):
        return Inherited(_lever_value(lid, value.under, params, where, arrays=False),
                         _lever_value(lid, value.over, params, where, arrays=False))
    if isinstance(value, dict):
        if lever.kind != "series":
            raise ScenarioError(f"{key}: {excerpt(value)} is a year-by-year series but this "
                                f"lever is a constant; allowed: one number in "
                                f"[{lever.min:g}, {lever.max:g}]")
        if not value:
            raise ScenarioError(f"{key}: empty series; give at least one {{year: value}}")
        series: dict[int, float] = {}
        first, last = year_range()
        for year, v in value.items():
            if not isinstance(year, numbers.Integral) or isinstance(year, bool | np.bool_) or \
                    not first <= year <= last:
                raise ScenarioError(f"{key}: year {excerpt(year)} is not allowed; years are "
                                    f"integers from {first} to {last}")
            series[int(year)] = _number(v, f"{key}.{year}", lever.min, lever.max)
        return dict(sorted(series.items()))
    if arrays:
        return _numbers(value, key, lever.min, lever.max)
    return _number(value, key, lever.min, lever.max)


def _assumption_value(aid: str, value: Any, params: Parameters, where: str,
                      arrays: bool = True) -> float:
    if aid not in params.assumptions:
        hint = "; it is a lever: put it under 'levers'" if aid in params.levers else ""
        raise ScenarioError(f"{where}: assumptions.{aid}: unknown assumption"
                            f"{hint or suggest(aid, params.assumptions)}"
                            f" (assumptions are listed in {params.source})")
    a = params.assumptions[aid]
    if arrays:
        return _numbers(value, f"{where}: assumptions.{aid}", a.min, a.max)
    return _number(value, f"{where}: assumptions.{aid}", a.min, a.max)


def _name(raw: Any, where: str) -> dict[str, str]:
    if not isinstance(raw, dict) or not all(isinstance(raw.get(k), str) and raw.get(k)
                                            for k in LANGS):
        raise ScenarioError(f"{where}: name: {excerpt(raw)} is not allowed; give "
                            "{zh: <Chinese name>, en: <English name>}")
    extra = set(raw) - set(LANGS)
    if extra:
        key = sorted(extra, key=str)[0]
        hint = (f"; a comma inside {{...}} splits the value: quote it, e.g. "
                f'en: "{raw["en"]}, {key}"' if raw[key] is None else "")
        raise ScenarioError(f"{where}: name.{key}: unknown key; allowed: zh, en{hint}")
    for lang in LANGS:
        plain_text(raw[lang], f"{where}: name.{lang}", ScenarioError, one_line=True)
    return {lang: raw[lang] for lang in LANGS}


def resolve_scenario_path(ref: str | Path, relative_to: Path | None = None, *,
                          within: tuple[Path, ...] | None = None) -> Path:
    """A scenario given as a path, or as an id found in ``scenarios/``. With ``within`` (an
    uploaded file's folders), only a file inside one of them is looked for, and the refusal
    says the same whether or not a file exists elsewhere."""
    ref_path = Path(ref)
    candidates = [ref_path]
    if relative_to is not None and not ref_path.is_absolute():
        candidates.insert(0, relative_to.parent / ref_path)
    if ref_path.suffix not in (".yaml", ".yml"):
        candidates.append(paths.SCENARIO_DIR / f"{ref}.yaml")
    elif not ref_path.is_absolute():
        candidates.append(paths.SCENARIO_DIR / ref_path.name)
    if within is not None:
        roots = [Path(w).resolve() for w in within]
        outside = ref_path.is_absolute() or ".." in ref_path.parts
        candidates = [] if outside else [
            c for c in candidates if any(c.resolve().is_relative_to(r) for r in roots)]
    for c in candidates:
        if c.is_file():
            return c.resolve()
    for c in candidates:   # no file: say what stands there instead (never opened)
        if c.is_dir():
            raise ScenarioError(f"{excerpt(str(c), 300, quote=False)}: is a folder; allowed: "
                                "a scenario file (.yaml) or an id in scenarios/")
        if c.exists():
            raise ScenarioError(f"{excerpt(str(c), 300, quote=False)}: is not a regular file "
                                "(a FIFO, socket or device); allowed: a scenario file (.yaml)")
    known = [p.stem for p in list_scenarios()]
    if within is not None:
        raise ScenarioError(f"{excerpt(str(ref), 120)}: an uploaded file may extend only a "
                            f"file uploaded with it or a scenario of scenarios/ ({', '.join(known)})")
    raise ScenarioError(f"{excerpt(str(ref), 300, quote=False)}: scenario file not found; known "
                        f"scenarios: {', '.join(known)}{suggest(Path(ref).stem, known)}")


def check_id(sid: str, path: Path) -> str:
    """``sid`` if it can name an output folder (see :data:`sim.paths.SAFE_NAME`)."""
    if not paths.SAFE_NAME.match(sid):
        raise ScenarioError(f"{path}: the scenario id {excerpt(sid)} (the file name without "
                            f".yaml) cannot name an output folder; allowed: "
                            f"{paths.SAFE_NAME_RULE}; rename the file")
    size = len(sid.encode("utf-8"))
    if size > paths.MAX_ID_BYTES:
        raise ScenarioError(f"{excerpt(path.name, 40)}: the scenario id is {size} bytes long "
                            f"(UTF-8); the file names it produces (such as "
                            f"{excerpt(paths.LONGEST_ID_NAME, 50)}) must fit in "
                            f"{paths.MAX_NAME_BYTES} bytes; allowed: at most "
                            f"{paths.MAX_ID_BYTES} bytes; rename the file")
    return sid


def list_scenarios(directory: Path | None = None) -> list[Path]:
    """The scenario files of ``directory`` (default ``scenarios/``), sorted by name."""
    directory = Path(directory or paths.SCENARIO_DIR)
    return sorted(p for p in directory.glob("*.yaml") if p.name not in NOT_SCENARIOS)


#: parsed scenarios by resolved path: (files read with their stamps, Scenario)
_LOADED: dict[Path, tuple[tuple, Scenario]] = {}


def _stamps(files) -> tuple:
    """(path, mtime_ns, size, content hash, when hashed) of each file: a file edited on disk is
    read again (the hash: two edits within one tick of the file system's clock keep the
    mtime)."""
    out = []
    for f in files:
        st = f.stat()
        digest = hashlib.blake2b(Path(f).read_bytes(), digest_size=16).digest()
        out.append((str(f), st.st_mtime_ns, st.st_size, digest, time.time_ns()))
    return tuple(out)


#: a file modified this long before it was hashed is not hashed again while its mtime and
#: size stay (an edit after the hash gets a later mtime); a younger one may share its mtime
#: with a later edit ("racy"), so it is hashed on every check
_SETTLED_NS = 2_000_000_000


def _unchanged(stamps: tuple) -> bool:
    for path, mtime, size, digest, hashed in stamps:
        st = os.stat(path)
        if st.st_mtime_ns != mtime or st.st_size != size:
            return False
        if mtime < hashed - _SETTLED_NS:
            continue
        if hashlib.blake2b(Path(path).read_bytes(), digest_size=16).digest() != digest:
            return False
    return True


def _files(sc: Scenario) -> list[Path]:
    """The files a loaded scenario was read from: its own, its parents', the declarations."""
    out = [Path(paths.PARAMETERS_FILE).resolve()]
    while sc is not None and sc.source is not None:
        out.append(sc.source)
        parent = resolve_scenario_path(sc.extends, sc.source) if sc.extends else None
        sc = _LOADED[parent][1] if parent in _LOADED else (
            load_scenario(parent) if parent else None)
    return out


def load_scenario(ref: str | Path, *, within: tuple[Path, ...] | None = None,
                  _chain: tuple[Path, ...] = ()) -> Scenario:
    """Load and validate a scenario file (a path, or an id such as ``plan``). Parsed once per
    process while its files (and model/parameters.yaml) keep their size and modification
    time. ``within``: the folders an uploaded file's ``extends`` may reach (never cached)."""
    if not isinstance(ref, str | os.PathLike) or not str(ref).strip():
        raise ScenarioError(f"scenario {excerpt(ref)}: not a scenario; allowed: an id of "
                            "scenarios/ such as 'plan', a path to a YAML file, or a Scenario")
    if not _chain and within is None:
        path = resolve_scenario_path(ref)
        hit = _LOADED.get(path)
        if hit is not None:
            try:
                if _unchanged(hit[0]):
                    return hit[1]
            except OSError:
                pass
        sc = _load_scenario(ref, (), None)
        try:
            _LOADED[path] = (_stamps(_files(sc)), sc)
        except (OSError, ScenarioError):
            _LOADED.pop(path, None)
        return sc
    return _load_scenario(ref, _chain, within)


def read_scenario_file(path: Path) -> Any:
    """A scenario file's YAML as written (its own entries, before ``extends``): the one read of
    scenario files (:func:`load_scenario`, the explorer, the documents)."""
    return read_yaml(path, ScenarioError)   # names a colon that split a value inside {...}


def _load_scenario(ref: str | Path, _chain: tuple[Path, ...],
                   within: tuple[Path, ...] | None) -> Scenario:
    if len(_chain) > MAX_EXTENDS:
        raise ScenarioError(f"{_chain[0]}: extends: a chain of more than {MAX_EXTENDS} extends "
                            f"(a file, its parent, its parent's parent, ...); allowed: at most "
                            f"{MAX_EXTENDS}")
    if _chain:
        try:
            path = resolve_scenario_path(ref, _chain[-1], within=within)
        except ScenarioError as exc:
            raise ScenarioError(f"{_chain[-1]}: extends: {exc}") from None
    else:
        path = resolve_scenario_path(ref)
    if path in _chain:
        cycle = " -> ".join(p.name for p in (*_chain, path))
        raise ScenarioError(f"{_chain[-1]}: extends: circular chain {cycle}")
    sid = check_id(path.stem, path)
    raw = read_scenario_file(path)
    via = f" (extended by {_chain[-1]})" if _chain else ""
    if not isinstance(raw, dict) or not any(isinstance(k, str) and k in TOP_KEYS for k in raw):
        got = type(raw).__name__ if raw is not None else "an empty file"
        if isinstance(raw, dict):
            got = f"a mapping without any of these keys ({len(raw)} other keys)"
        raise ScenarioError(f"{path}{via}: not a scenario file: expected a mapping with the "
                            f"keys {', '.join(TOP_KEYS)}; got {got}")
    for key in raw:
        if key not in TOP_KEYS:
            raise ScenarioError(f"{path}: {excerpt(key, quote=False)}: unknown key"
                                f"{suggest(key, TOP_KEYS)}; allowed keys: {', '.join(TOP_KEYS)}")
    name = _name(raw.get("name"), str(path))
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise ScenarioError(f"{path}: description: {excerpt(description)} is not text")
    plain_text(description, f"{path}: description", ScenarioError)
    params = load_parameters()
    levers: dict[str, LeverValue] = {}
    assumptions: dict[str, float] = {}
    extends = raw.get("extends")
    if extends is not None:
        if not isinstance(extends, str) or not extends.strip():
            raise ScenarioError(f"{path}: extends: {excerpt(extends)} is not a file name")
        parent = load_scenario(extends, within=within, _chain=(*_chain, path))
        levers.update(parent.levers)
        assumptions.update(parent.assumptions)
    lever_raw = _table(raw, "levers", path)
    for lid, value in lever_raw.items():
        lid = _key(lid, "levers", str(path))
        levers[lid] = overlay(levers.get(lid),
                              _lever_value(lid, value, params, str(path), arrays=False))
    assum_raw = _table(raw, "assumptions", path)
    for aid, value in assum_raw.items():
        aid = _key(aid, "assumptions", str(path))
        assumptions[aid] = _assumption_value(aid, value, params, str(path), arrays=False)
    # lazy: pulls xarray (249 ms); breaks the cycle loader <-> constraints
    from sim.scenarios.constraints import check_levers

    check_levers(params, levers, str(path))   # the shares sum, before anything runs
    return Scenario(sid, name, description, levers, assumptions, path, extends)


def _table(raw: dict, key: str, path: Path) -> dict:
    value = raw.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ScenarioError(f"{path}: {key}: expected a mapping of ids to values, got "
                            f"{type(value).__name__} {excerpt(value)}")
    return value
