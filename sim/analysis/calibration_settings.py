"""The calibration settings (``model/calibration-settings.yaml``): which assumptions are
estimated, the weight of each observation status, which history rows are compared with which
model variable (statistical breaks, exclusions), the hindcast split and the profile grid."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sim import paths
from sim.errors import CalibrationError
from sim.model.yamlio import is_number, read_yaml, require_mapping

SETTINGS_FILE = paths.MODEL_DIR / "calibration-settings.yaml"


@dataclass(frozen=True)
class Break:
    """Rows of ``indicator`` before ``before`` are compared with ``variable`` instead."""

    indicator: str
    before: int
    variable: str
    note: str = ""


@dataclass(frozen=True)
class Settings:
    estimate: tuple[str, ...]
    weights: dict[str, float]
    scenario: str = "baseline"
    variables: dict[str, str] = field(default_factory=dict)
    exclude: dict[str, str] = field(default_factory=dict)
    exclude_rows: dict[tuple[str, int], str] = field(default_factory=dict)
    breaks: tuple[Break, ...] = ()
    ci_level: float = 0.95
    max_nfev: int = 200
    starts: int = 1
    seed: int = 0
    source: Path | None = None
    hindcast_until: int | None = None           # hindcast: fit rows up to this year ...
    forecast_years: tuple[int, int] | None = None   # ... and forecast the rows of these years
    profile_points: int = 0                     # profile-likelihood grid points (0: none)


def load_settings(path: Path | str | None = None) -> Settings:
    """Read and validate the calibration settings (``model/calibration-settings.yaml``)."""
    path = Path(path or SETTINGS_FILE)
    raw = require_mapping(read_yaml(path, CalibrationError), str(path), CalibrationError)
    est = raw.get("estimate")
    if not isinstance(est, list) or not est or not all(isinstance(e, str) for e in est):
        raise CalibrationError(f"{path}: estimate: {est!r} is not a non-empty list of "
                               "assumption ids")
    weights = require_mapping(raw.get("weights"), f"{path}: weights", CalibrationError)
    for k, w in weights.items():
        if not is_number(w) or w < 0:
            raise CalibrationError(f"{path}: weights.{k}: {w!r} is not a number >= 0")
    breaks = []
    for i, b in enumerate(raw.get("breaks") or []):
        b = require_mapping(b, f"{path}: breaks[{i}]", CalibrationError)
        try:
            breaks.append(Break(str(b["indicator"]), int(b["before"]), str(b["variable"]),
                                str(b.get("note", ""))))
        except (KeyError, TypeError, ValueError) as exc:
            raise CalibrationError(f"{path}: breaks[{i}]: needs indicator, before (a year) and "
                                   f"variable ({exc})") from None
    rows = {}
    for i, e in enumerate(raw.get("exclude_rows") or []):
        e = require_mapping(e, f"{path}: exclude_rows[{i}]", CalibrationError)
        try:
            rows[(str(e["indicator"]), int(e["year"]))] = str(e.get("reason", ""))
        except (KeyError, TypeError, ValueError) as exc:
            raise CalibrationError(f"{path}: exclude_rows[{i}]: needs indicator, year and "
                                   f"reason ({exc})") from None
    level = raw.get("ci_level", 0.95)
    if not is_number(level) or not 0 < level < 1:
        raise CalibrationError(f"{path}: ci_level: {level!r} is not a number in (0, 1)")
    until, window = hindcast_settings(raw.get("hindcast"), path)
    prof = raw.get("profile")
    prof = {} if prof is None else require_mapping(prof, f"{path}: profile", CalibrationError)
    points = prof.get("points", 0)
    if not isinstance(points, int) or isinstance(points, bool) or points < 0 or points == 1:
        raise CalibrationError(f"{path}: profile.points: {points!r} is not 0 (no profile) or "
                               "an integer >= 2")
    return Settings(tuple(est), {k: float(v) for k, v in weights.items()},
                    str(raw.get("scenario", "baseline")),
                    dict(raw.get("variables") or {}), dict(raw.get("exclude") or {}),
                    rows, tuple(breaks), float(level), int(raw.get("max_nfev", 200)),
                    int(raw.get("starts", 1)), int(raw.get("seed", 0)), path, until, window,
                    points)


def hindcast_settings(raw, path) -> tuple[int | None, tuple[int, int] | None]:
    """``hindcast: {fit_until: 2019, forecast: [2020, 2023]}`` -> (2019, (2020, 2023))."""
    if raw is None:
        return None, None
    raw = require_mapping(raw, f"{path}: hindcast", CalibrationError)
    until, window = raw.get("fit_until"), raw.get("forecast")
    if not isinstance(until, int) or isinstance(until, bool):
        raise CalibrationError(f"{path}: hindcast.fit_until: {until!r} is not a year")
    if (not isinstance(window, list) or len(window) != 2
            or not all(isinstance(y, int) and not isinstance(y, bool) for y in window)
            or not until < window[0] <= window[1]):
        raise CalibrationError(f"{path}: hindcast.forecast: {window!r} is not [first, last] "
                               f"years after fit_until ({until})")
    return until, (int(window[0]), int(window[1]))
