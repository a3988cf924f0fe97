"""The model's sectors, declared in ``model/sectors.yaml``: labels and the variables to chart."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sim import paths
from sim.errors import ModelError
from sim.model.yamlio import read_yaml, require_mapping


@dataclass(frozen=True)
class Sector:
    id: str
    label: dict[str, str]
    variables: tuple[str, ...]


def load_sectors(path: Path | str | None = None) -> list[Sector]:
    path = Path(path or paths.MODEL_DIR / "sectors.yaml")
    raw = require_mapping(read_yaml(path, ModelError), str(path), ModelError)
    raw = raw.get("sectors", raw)
    sectors = []
    for sid, entry in require_mapping(raw, f"{path}: sectors", ModelError).items():
        where = f"{path}: {sid}"
        entry = require_mapping(entry, where, ModelError)
        label = entry.get("label", {k: entry.get(k) for k in ("zh", "en")})
        if not isinstance(label, dict) or not all(isinstance(label.get(k), str)
                                                  for k in ("zh", "en")):
            raise ModelError(f"{where}.label: needs zh and en text, got {label!r}")
        variables = entry.get("variables")
        if not isinstance(variables, list) or not variables or not all(
                isinstance(v, str) for v in variables):
            raise ModelError(f"{where}.variables: {variables!r} is not a list of variable names")
        sectors.append(Sector(sid, {"zh": label["zh"], "en": label["en"]}, tuple(variables)))
    return sectors


def check_sector_variables(sectors: list[Sector], known: set[str]) -> None:
    """Raise if a sector names a variable the model does not have."""
    for s in sectors:
        missing = [v for v in s.variables if v not in known]
        if missing:
            raise ModelError(f"model/sectors.yaml: {s.id}.variables: {missing} are not variables "
                             "of the model (use Python names such as tech_firms)")
