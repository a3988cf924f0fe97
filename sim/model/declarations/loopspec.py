"""The feedback loops declared in ``model/loops.yaml``: id, name, stated polarity, the variables
on the loop in causal order, a description, and the scenario whose calibrated run the polarity is
checked on. The loops themselves are derived from the equations by :mod:`sim.analysis.diagnostics.loops`.
Any key but those of :data:`SECTIONS` and :data:`LOOP_KEYS` (and the languages) is refused."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sim import paths
from sim.errors import ModelError
from sim.model.declarations.words import LANGS
from sim.model.declarations.yamlio import check_keys, read_yaml, require_mapping

POLARITIES = ("reinforcing", "balancing")
#: the sections of model/loops.yaml and the keys of one loop
SECTIONS = ("polarity_run", "loops")
LOOP_KEYS = ("name", "polarity", "variables", "description")


@dataclass(frozen=True)
class LoopSpec:
    id: str
    name: dict[str, str]
    polarity: str
    variables: tuple[str, ...]
    description: dict[str, str]


@dataclass(frozen=True)
class LoopDeclarations:
    loops: tuple[LoopSpec, ...]
    polarity_run: str
    path: Path


def _bilingual(value, where: str) -> dict[str, str]:
    if isinstance(value, dict):
        check_keys(value, LANGS, where, ModelError)
    if not isinstance(value, dict) or not all(isinstance(value.get(k), str) and value.get(k)
                                              for k in LANGS):
        raise ModelError(f"{where}: {value!r} needs a {' and an '.join(LANGS)} text")
    return {k: value[k] for k in LANGS}


def load_loops(path: Path | str | None = None) -> LoopDeclarations:
    path = Path(path or paths.LOOPS_FILE)
    raw = require_mapping(read_yaml(path, ModelError), str(path), ModelError)
    check_keys(raw, SECTIONS, str(path), ModelError)
    run = raw.get("polarity_run", "plan")
    if not isinstance(run, str) or not run:
        raise ModelError(f"{path}: polarity_run: {run!r} is not a scenario id")
    loops = []
    for lid, entry in require_mapping(raw.get("loops"), f"{path}: loops", ModelError).items():
        where = f"{path}: loops.{lid}"
        entry = require_mapping(entry, where, ModelError)
        check_keys(entry, LOOP_KEYS, where, ModelError)
        pol = entry.get("polarity")
        if pol not in POLARITIES:
            raise ModelError(f"{where}.polarity: {pol!r}; allowed: {', '.join(POLARITIES)}")
        variables = entry.get("variables")
        if not isinstance(variables, list) or not variables or not all(
                isinstance(v, str) for v in variables):
            raise ModelError(f"{where}.variables: {variables!r} is not a list of variable names")
        if len(set(variables)) != len(variables):
            raise ModelError(f"{where}.variables: {variables!r} names a variable twice")
        loops.append(LoopSpec(str(lid), _bilingual(entry.get("name"), f"{where}.name"), pol,
                              tuple(variables),
                              _bilingual(entry.get("description"), f"{where}.description")))
    if not loops:
        raise ModelError(f"{path}: loops: no loop declared")
    return LoopDeclarations(tuple(loops), run, path)
