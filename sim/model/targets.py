"""The plan's five 2028 targets, declared once in ``model/targets.yaml``.

Targets are data for the analysis layer; no equation in the ``.mdl`` refers to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sim import paths
from sim.errors import ModelError
from sim.model.yamlio import is_number, read_yaml, require_mapping

INDICATORS = ("tech_firms", "rd_expenditure", "platforms", "tech_contract_turnover",
              "tech_brokers")
COMPARISONS = (">", ">=")


@dataclass(frozen=True)
class Target:
    indicator: str
    target: float
    comparison: str
    unit: str
    label: dict[str, str]
    base: float | None = None
    source: str = ""
    year: int = 2028

    def met(self, value):
        """True where ``value`` (scalar or array) meets the target."""
        return value > self.target if self.comparison == ">" else value >= self.target


@dataclass(frozen=True)
class Targets:
    year: int
    items: tuple[Target, ...]

    def __iter__(self):
        return iter(self.items)

    def __getitem__(self, indicator: str) -> Target:
        for t in self.items:
            if t.indicator == indicator:
                return t
        raise KeyError(indicator)

    @property
    def indicators(self) -> list[str]:
        return [t.indicator for t in self.items]


def parse_targets(raw, source: Path) -> Targets:
    raw = require_mapping(raw, str(source), ModelError)
    year = raw.get("target_year")
    if not isinstance(year, int):
        raise ModelError(f"{source}: target_year: {year!r} is not a year")
    entries = require_mapping(raw.get("indicators"), f"{source}: indicators", ModelError)
    unknown = set(entries) - set(INDICATORS)
    if unknown:
        raise ModelError(f"{source}: indicators: unknown {sorted(unknown)}; allowed {INDICATORS}")
    items = []
    for ind in INDICATORS:
        where = f"{source}: indicators.{ind}"
        e = require_mapping(entries.get(ind), where, ModelError)
        if not is_number(e.get("target")) or e["target"] <= 0:
            raise ModelError(f"{where}.target: {e.get('target')!r} is not a positive number")
        comp = e.get("comparison", ">")
        if comp not in COMPARISONS:
            raise ModelError(f"{where}.comparison: {comp!r}; allowed {COMPARISONS}")
        label = require_mapping(e.get("label"), f"{where}.label", ModelError)
        if not all(isinstance(label.get(k), str) for k in ("zh", "en")):
            raise ModelError(f"{where}.label: needs zh and en text")
        base = e.get("base_2023")
        items.append(Target(ind, float(e["target"]), comp, str(e.get("unit", "")),
                            {"zh": label["zh"], "en": label["en"]},
                            float(base) if is_number(base) else None,
                            str(e.get("source", "")), year))
    return Targets(year, tuple(items))


@lru_cache(maxsize=4)
def _cached(path: Path, mtime: float) -> Targets:
    return parse_targets(read_yaml(path, ModelError), path)


def load_targets(path: Path | str | None = None) -> Targets:
    path = Path(path or paths.TARGETS_FILE).resolve()
    if not path.is_file():
        raise ModelError(f"{path}: file not found")
    return _cached(path, path.stat().st_mtime)
