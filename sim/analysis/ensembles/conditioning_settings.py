"""The ``ensemble:`` section of ``scenarios/uncertainty.yaml``: the canonical ensemble (N and
seed of the posterior draws every command reports, and the draws behind Morris and Sobol
designs), validated with one-line errors naming the file, the key and the value."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim import paths
from sim.errors import UncertaintyError
from sim.model.declarations.yamlio import read_yaml, require_mapping

SECTION = "ensemble"

_KEYS = {
    "samples": "an integer >= 1 (N, the canonical ensemble's size)",
    "seed": "an integer >= 0 (the canonical ensemble's seed)",
    "sensitivity_samples": "an integer >= 10 (posterior draws behind Morris and Sobol designs)",
}
_MIN = {"samples": 1, "seed": 0, "sensitivity_samples": 10}


@dataclass(frozen=True)
class ConditioningSettings:
    """The canonical ensemble: ``samples`` draws of the posterior with ``seed``."""

    samples: int
    seed: int
    sensitivity_samples: int
    source: str = "<dict>"


def parse_conditioning(raw: Any, source: str = "<dict>") -> ConditioningSettings:
    """Validate the ``ensemble:`` mapping; errors name the file, the key and the value."""
    raw = require_mapping(raw, f"{source}: {SECTION}", UncertaintyError)
    for key in raw:
        if key not in _KEYS:
            raise UncertaintyError(f"{source}: {SECTION}.{key} is not a setting; allowed: "
                                   f"{', '.join(_KEYS)}")
    vals = {}
    for key, allowed in _KEYS.items():
        v = raw.get(key)
        if isinstance(v, bool) or not isinstance(v, int) or v < _MIN[key]:
            raise UncertaintyError(f"{source}: {SECTION}.{key} is {v!r}; allowed: {allowed}")
        vals[key] = int(v)
    return ConditioningSettings(vals["samples"], vals["seed"], vals["sensitivity_samples"],
                                source)


def read_uncertainty_file(path: str | Path | None = None) -> tuple[Path, Any]:
    """The path and parsed YAML of ``scenarios/uncertainty.yaml`` (or ``path``): the file's one
    reader. :func:`sim.analysis.ensembles.uncertainty_spec.load_uncertainty` validates its
    assumptions, :func:`load_conditioning` its ``ensemble:`` section (this module is light: no
    NumPy or SciPy, so the settings load without the distributions)."""
    path = Path(path) if path is not None else paths.UNCERTAINTY_FILE
    return path, read_yaml(path, UncertaintyError)


def load_conditioning(path: Path | str | None = None) -> ConditioningSettings:
    """The ``ensemble:`` section of ``scenarios/uncertainty.yaml`` (or ``path``)."""
    path, data = read_uncertainty_file(path or None)
    raw = require_mapping(data, str(path), UncertaintyError)
    if SECTION not in raw:
        raise UncertaintyError(f"{path}: no '{SECTION}:' section; allowed: a mapping with "
                               f"{', '.join(_KEYS)}")
    return parse_conditioning(raw[SECTION], str(path))
