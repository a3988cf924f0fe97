"""The central run's assumption values written by ``plansim calibrate`` (``model/calibration.yaml``).

``estimates.<id>.value`` is the posterior median of each estimated assumption (the central run
of ``plansim run``); the rest of the file summarises the posterior (prior and posterior
percentiles, the fit, the sampler). Without the file, the ``.mdl`` values stand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim import paths
from sim.errors import CalibrationError
from sim.model.declarations.parameters import load_parameters
from sim.model.declarations.yamlio import is_number, read_yaml, require_mapping


def read_calibration_file(path: Path | str | None = None) -> Any:
    """The parsed YAML of ``model/calibration.yaml`` (or ``path``): the file's one reader."""
    return read_yaml(Path(path or paths.CALIBRATION_FILE), CalibrationError)


def load_calibrated_values(path: Path | str | None = None) -> dict[str, float]:
    """Assumption id -> calibrated value; empty if there is no calibration file."""
    path = Path(path or paths.CALIBRATION_FILE)
    if not path.is_file():
        return {}
    raw = require_mapping(read_calibration_file(path), str(path), CalibrationError)
    est = require_mapping(raw.get("estimates"), f"{path}: estimates", CalibrationError)
    params = load_parameters()
    out = {}
    for aid, entry in est.items():
        value = entry.get("value") if isinstance(entry, dict) else entry
        if aid not in params.assumptions:
            raise CalibrationError(f"{path}: estimates.{aid}: not an assumption declared in "
                                   f"{params.source}; run plansim calibrate again")
        a = params.assumptions[aid]
        if not is_number(value) or not a.min <= value <= a.max:
            raise CalibrationError(f"{path}: estimates.{aid}: {value!r} is outside "
                                   f"[{a.min:g}, {a.max:g}]")
        out[aid] = float(value)
    return out
