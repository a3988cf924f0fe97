"""The model's sectors, declared in ``model/sectors.yaml``: labels, the variables to chart and
(optionally) further ``members`` placed in the sector's view of the sketch (see
:mod:`sim.model.equations.views`, which places every other variable automatically).

The file maps each sector's id to its entry (optionally all under one ``sectors:`` key); an entry
has the keys :data:`SECTOR_KEYS`, its label given as ``label: {zh, en}`` or as the languages
beside the other keys, never both. Any other key is refused naming the file and the key."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sim import paths
from sim.errors import ModelError
from sim.model.declarations.words import LANGS
from sim.model.declarations.yamlio import check_keys, read_yaml, require_mapping

#: the keys of a sector (``zh``, ``en``, ...: its label written without ``label:``)
SECTOR_KEYS = ("label", "variables", "members", *LANGS)
#: the one key the file may wrap its sectors in
WRAPPER = "sectors"


@dataclass(frozen=True)
class Sector:
    id: str
    label: dict[str, str]
    variables: tuple[str, ...]
    members: tuple[str, ...] = ()


def load_sectors(path: Path | str | None = None) -> list[Sector]:
    path = Path(path or paths.SECTORS_FILE)
    raw = require_mapping(read_yaml(path, ModelError), str(path), ModelError)
    if WRAPPER in raw:
        check_keys(raw, (WRAPPER,), str(path), ModelError)
    raw = raw.get(WRAPPER, raw)
    sectors = []
    for sid, entry in require_mapping(raw, f"{path}: sectors", ModelError).items():
        where = f"{path}: {sid}"
        entry = require_mapping(entry, where, ModelError)
        check_keys(entry, SECTOR_KEYS, where, ModelError)
        beside = [k for k in LANGS if k in entry]
        if "label" in entry and beside:
            raise ModelError(f"{where}: label and {', '.join(beside)} both given; allowed: the "
                             f"label once, as label: {{{', '.join(LANGS)}}} or as "
                             f"{', '.join(LANGS)} beside variables")
        label = entry.get("label", {k: entry.get(k) for k in LANGS})
        if isinstance(label, dict):
            check_keys(label, LANGS, f"{where}.label", ModelError)
        if not isinstance(label, dict) or not all(isinstance(label.get(k), str)
                                                  for k in LANGS):
            raise ModelError(f"{where}.label: needs {' and '.join(LANGS)} text, got {label!r}")
        variables = entry.get("variables")
        if not isinstance(variables, list) or not variables or not all(
                isinstance(v, str) for v in variables):
            raise ModelError(f"{where}.variables: {variables!r} is not a list of variable names")
        members = entry.get("members", [])
        if not isinstance(members, list) or not all(isinstance(v, str) for v in members):
            raise ModelError(f"{where}.members: {members!r} is not a list of variable names")
        sectors.append(Sector(sid, {k: label[k] for k in LANGS}, tuple(variables),
                              tuple(members)))
    return sectors


def check_sector_variables(sectors: list[Sector], known: set[str]) -> None:
    """Raise if a sector names a variable the model does not have."""
    for s in sectors:
        missing = [v for v in (*s.variables, *s.members) if v not in known]
        if missing:
            raise ModelError(f"model/sectors.yaml: {s.id}.variables/members: {missing} are not "
                             "variables of the model (use Python names such as tech_firms)")
