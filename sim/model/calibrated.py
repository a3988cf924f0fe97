"""Calibrated assumption values written by ``plansim calibrate`` (``model/calibration.yaml``).

The file holds, besides the estimates, the date of the fit, a hash of the data it used and the
fit statistics; only the estimates are needed to run. Without the file, the ``.mdl`` values
stand.
"""

from __future__ import annotations

from pathlib import Path

from sim import paths
from sim.errors import CalibrationError
from sim.model.parameters import load_parameters
from sim.model.yamlio import is_number, read_yaml, require_mapping


def load_calibrated_values(path: Path | str | None = None) -> dict[str, float]:
    """Assumption id -> calibrated value; empty if there is no calibration file."""
    path = Path(path or paths.CALIBRATION_FILE)
    if not path.is_file():
        return {}
    raw = require_mapping(read_yaml(path, CalibrationError), str(path), CalibrationError)
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


def load_calibration_estimates(path: Path | str | None = None) -> dict[str, dict[str, float]]:
    """Assumption id -> {value, se, constrained[, profile_low, profile_high]} of the last
    calibration; empty without a file.

    The uncertainty analysis samples a calibrated assumption around its estimate (see
    ``distribution: calibrated`` in :mod:`sim.analysis.uncertainty_spec`).
    """
    path = Path(path or paths.CALIBRATION_FILE)
    values = load_calibrated_values(path)
    if not values:
        return {}
    est = read_yaml(path, CalibrationError)["estimates"]
    out = {}
    for aid, value in values.items():
        entry = est[aid] if isinstance(est[aid], dict) else {}
        se = entry.get("se")
        out[aid] = {"value": value,
                    "se": float(se) if is_number(se) and se > 0 else float("nan"),
                    "constrained": bool(entry.get("constrained", False))}
        lo, hi = entry.get("profile_low"), entry.get("profile_high")
        if is_number(lo) and is_number(hi) and lo < hi:
            out[aid].update(profile_low=float(lo), profile_high=float(hi))
    return out
