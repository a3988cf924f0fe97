"""The plan's outcomes, declared once in ``model/targets.yaml``: the plan period, the target
year, the forecast horizon, the indicators with their targets and the derived outcomes.

Every table, chart, text and analysis takes its indicators, years and labels from here; no
other module lists the indicators or the plan years. Targets are data for the analysis layer;
no equation in the ``.mdl`` refers to them. The keys of each part of the file are declared below
(:data:`SECTIONS`, :data:`TARGET_KEYS`, ...); any other key is refused naming the file and the key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sim import paths
from sim.errors import ModelError
from sim.model.declarations.words import LANGS, entry
from sim.model.declarations.yamlio import check_keys, is_number, read_yaml, require_mapping

COMPARISONS = (">", ">=")
#: kinds of derived outcome (see the ``derived:`` section of model/targets.yaml)
DERIVED_KINDS = ("all_met", "plan_sum", "at_target_year")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
#: the sections of model/targets.yaml and the keys of ``plan:``
SECTIONS = ("plan", "indicators", "reported", "derived")
PLAN_KEYS = ("start", "target_year", "horizon")
#: the keys of an indicator with a target, of a reported indicator and of a derived outcome
TARGET_KEYS = ("target", "comparison", "unit", "label", "base_2023", "source")
REPORTED_KEYS = ("unit", "label")
DERIVED_KEYS = ("kind", "add", "subtract", "variable", "unit", "label", "description")


def number_word(n: int, lang: str) -> str:
    """``n`` as a word ("five", "五") up to ten, else in digits."""
    words = entry("numbers.words")[lang]
    return words[n] if 0 <= n < len(words) else str(n)


@dataclass(frozen=True)
class Plan:
    """The plan's years: ``start`` (first plan year), ``target_year``, ``horizon`` (last year
    reported by forecasts and per-year analyses)."""

    start: int
    target_year: int
    horizon: int

    @property
    def period(self) -> tuple[int, int]:
        """First and last plan year (the shaded span of the charts)."""
        return (self.start, self.target_year)

    @property
    def years(self) -> tuple[int, ...]:
        """Every year from the plan's start to the horizon."""
        return tuple(range(self.start, self.horizon + 1))


@dataclass(frozen=True)
class Target:
    indicator: str
    target: float
    comparison: str
    unit: str
    label: dict[str, str]
    year: int
    base: float | None = None
    source: str = ""

    def met(self, value):
        """True where ``value`` (scalar or array) meets the target."""
        return value > self.target if self.comparison == ">" else value >= self.target


@dataclass(frozen=True)
class Derived:
    """An outcome computed from the results (a scalar per run), see ``DERIVED_KINDS``."""

    id: str
    kind: str
    unit: str
    label: dict[str, str]
    add: tuple[str, ...] = ()
    subtract: tuple[str, ...] = ()
    variable: str | None = None
    description: str = ""


@dataclass(frozen=True)
class Reported:
    """An indicator reported beside the targets (forecasts, charts), without a target."""

    indicator: str
    unit: str
    label: dict[str, str]


@dataclass(frozen=True)
class Targets:
    plan: Plan
    items: tuple[Target, ...]
    derived: tuple[Derived, ...] = ()
    reported: tuple[Reported, ...] = ()

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, indicator: str) -> Target:
        for t in self.items:
            if t.indicator == indicator:
                return t
        raise KeyError(indicator)

    @property
    def year(self) -> int:
        return self.plan.target_year

    @property
    def indicators(self) -> list[str]:
        return [t.indicator for t in self.items]

    def count_word(self, lang: str) -> str:
        """The number of indicators as a word ("five" / "五")."""
        return number_word(len(self.items), lang)

    def fill(self, text: str, lang: str) -> str:
        """``text`` with ``{n}`` (the indicator count in words), ``{start}`` and ``{year}``."""
        return text.format(n=self.count_word(lang), start=self.plan.start, year=self.year)

    @property
    def reported_indicators(self) -> list[str]:
        return [r.indicator for r in self.reported]

    def indicator_labels(self) -> dict[str, dict[str, str]]:
        """Label ``{zh, en}`` of every indicator and reported indicator (model variables)."""
        out = {t.indicator: dict(t.label) for t in self.items}
        out.update({r.indicator: dict(r.label) for r in self.reported})
        return out

    def labels(self) -> dict[str, dict[str, str]]:
        """Display label ``{zh, en}`` of every indicator, reported indicator and derived
        outcome, by id."""
        out = self.indicator_labels()
        out.update({d.id: {lang: self.fill(d.label[lang], lang) for lang in LANGS}
                    for d in self.derived})
        return out


def _label(raw, where: str) -> dict[str, str]:
    label = require_mapping(raw, where, ModelError)
    check_keys(label, LANGS, where, ModelError)
    if not all(isinstance(label.get(k), str) and label.get(k) for k in LANGS):
        raise ModelError(f"{where}: needs zh and en text")
    return {k: label[k] for k in LANGS}


def _year(raw: dict, key: str, where: str) -> int:
    value = raw.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ModelError(f"{where}.{key}: {value!r} is not a year")
    return value


def _plan(raw, source: Path) -> Plan:
    where = f"{source}: plan"
    raw = require_mapping(raw, where, ModelError)
    check_keys(raw, PLAN_KEYS, where, ModelError)
    plan = Plan(*(_year(raw, k, where) for k in ("start", "target_year", "horizon")))
    if not plan.start <= plan.target_year <= plan.horizon:
        raise ModelError(f"{where}: start {plan.start}, target_year {plan.target_year} and "
                         f"horizon {plan.horizon} must be in that order")
    return plan


def _names(raw, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(v, str) and v for v in raw):
        raise ModelError(f"{where}: {raw!r} is not a list of model variable names")
    return tuple(raw)


def _derived(did: str, e, source: Path) -> Derived:
    where = f"{source}: derived.{did}"
    e = require_mapping(e, where, ModelError)
    check_keys(e, DERIVED_KEYS, where, ModelError)
    kind = e.get("kind")
    if kind not in DERIVED_KINDS:
        raise ModelError(f"{where}.kind: {kind!r}; allowed {DERIVED_KINDS}")
    add, subtract = _names(e.get("add"), f"{where}.add"), _names(e.get("subtract"),
                                                                 f"{where}.subtract")
    variable = e.get("variable")
    if kind == "plan_sum" and not add:
        raise ModelError(f"{where}.add: a plan_sum needs at least one variable to add")
    if kind == "at_target_year" and not (isinstance(variable, str) and variable):
        raise ModelError(f"{where}.variable: {variable!r}; an at_target_year outcome needs "
                         "a model variable name")
    return Derived(did, kind, str(e.get("unit", "")), _label(e.get("label"), f"{where}.label"),
                   add, subtract, variable, str(e.get("description", "")))


def _target(ind: str, e, year: int, source: Path) -> Target:
    where = f"{source}: indicators.{ind}"
    e = require_mapping(e, where, ModelError)
    check_keys(e, TARGET_KEYS, where, ModelError)
    if not is_number(e.get("target")) or e["target"] <= 0:
        raise ModelError(f"{where}.target: {e.get('target')!r} is not a positive number")
    comp = e.get("comparison", ">")
    if comp not in COMPARISONS:
        raise ModelError(f"{where}.comparison: {comp!r}; allowed {COMPARISONS}")
    base = e.get("base_2023")
    return Target(ind, float(e["target"]), comp, str(e.get("unit", "")),
                  _label(e.get("label"), f"{where}.label"), year,
                  float(base) if is_number(base) else None, str(e.get("source", "")))


def parse_targets(raw, source: Path) -> Targets:
    raw = require_mapping(raw, str(source), ModelError)
    check_keys(raw, SECTIONS, str(source), ModelError)
    plan = _plan(raw.get("plan"), source)
    entries = require_mapping(raw.get("indicators"), f"{source}: indicators", ModelError)
    if not entries:
        raise ModelError(f"{source}: indicators: empty; declare at least one indicator")
    derived = require_mapping(raw.get("derived", {}), f"{source}: derived", ModelError)
    reported = require_mapping(raw.get("reported", {}), f"{source}: reported", ModelError)
    for kind, names in (("indicators", entries), ("derived", derived), ("reported", reported)):
        bad = [k for k in names if not (isinstance(k, str) and _ID.match(k))]
        if bad:
            raise ModelError(f"{source}: {kind}: {bad[0]!r} is not a model variable name "
                             "(lower case letters, digits and _)")
    for kind, names in (("derived", derived), ("reported", reported)):
        clash = sorted(set(entries) & set(names))
        if clash:
            raise ModelError(f"{source}: {kind}: {clash} also declared under indicators")
    items = tuple(_target(ind, e, plan.target_year, source) for ind, e in entries.items())
    extra = []
    for ind, e in reported.items():
        e = require_mapping(e, f"{source}: reported.{ind}", ModelError)
        check_keys(e, REPORTED_KEYS, f"{source}: reported.{ind}", ModelError)
        extra.append(Reported(ind, str(e.get("unit", "")),
                              _label(e.get("label"), f"{source}: reported.{ind}.label")))
    return Targets(plan, items, tuple(_derived(k, e, source) for k, e in derived.items()),
                   tuple(extra))


@lru_cache(maxsize=4)
def _cached(path: Path, mtime: float) -> Targets:
    return parse_targets(read_yaml(path, ModelError), path)


def load_targets(path: Path | str | None = None) -> Targets:
    path = Path(path or paths.TARGETS_FILE).resolve()
    if not path.is_file():
        raise ModelError(f"{path}: file not found")
    return _cached(path, path.stat().st_mtime)
