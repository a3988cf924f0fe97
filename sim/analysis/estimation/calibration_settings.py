"""The estimation settings (``model/calibration-settings.yaml``): which history rows are compared
with which model variable (statistical breaks, exclusions, annual registries), the observation
error by status and the model discrepancy, the sampler and its budget. Any key but those declared
below (:data:`SECTIONS`, :data:`BREAK_KEYS`, ...) is refused naming the file and the key."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sim import paths
from sim.errors import CalibrationError
from sim.model.declarations.yamlio import check_keys, is_number, read_yaml, require_mapping

SETTINGS_FILE = paths.CALIBRATION_SETTINGS_FILE
#: the sections of the settings file, and the keys of one break and of one excluded row
SECTIONS = ("scenario", "observation_sd", "discrepancy_sd", "annual_registries", "variables",
            "breaks", "exclude", "exclude_rows", "sampler")
BREAK_KEYS = ("indicator", "before", "variable", "note")
EXCLUDE_ROW_KEYS = ("indicator", "year", "reason")


@dataclass(frozen=True)
class Break:
    """Rows of ``indicator`` before ``before`` are compared with ``variable`` instead."""

    indicator: str
    before: int
    variable: str
    note: str = ""


@dataclass(frozen=True)
class Sampler:
    """emcee settings: walkers (0: 2 x dimensions + 2), steps per walker, draws kept, seed."""

    walkers: int = 0
    steps: int = 2000
    draws: int = 1000
    seed: int = 20240101
    init_pool: int = 20        # initial walkers: the best of init_pool x walkers prior draws
    informs_tol: float = 1e-6  # an assumption the history rows move by less (log) is not fitted


@dataclass(frozen=True)
class Settings:
    observation_sd: dict[str, float]
    discrepancy_sd: float
    scenario: str = "baseline"
    variables: dict[str, str] = field(default_factory=dict)
    exclude: dict[str, str] = field(default_factory=dict)
    exclude_rows: dict[tuple[str, int], str] = field(default_factory=dict)
    breaks: tuple[Break, ...] = ()
    annual_registries: tuple[str, ...] = ()
    sampler: Sampler = Sampler()
    source: Path | None = None


def _number(path, key, v, *, low=0.0, strict=False) -> float:
    if not is_number(v) or (v <= low if strict else v < low):
        raise CalibrationError(f"{path}: {key}: {v!r} is not a number {'>' if strict else '>='} "
                               f"{low:g}")
    return float(v)


def load_settings(path: Path | str | None = None) -> Settings:
    """Read and validate the estimation settings (``model/calibration-settings.yaml``)."""
    path = Path(path or paths.CALIBRATION_SETTINGS_FILE)
    raw = require_mapping(read_yaml(path, CalibrationError), str(path), CalibrationError)
    check_keys(raw, SECTIONS, str(path), CalibrationError)
    sds = require_mapping(raw.get("observation_sd"), f"{path}: observation_sd", CalibrationError)
    for status in ("sourced", "lower_bound"):
        if status not in sds:
            raise CalibrationError(f"{path}: observation_sd: no {status!r}; allowed: a mapping "
                                   "status -> relative error, with sourced and lower_bound")
    obs_sd = {k: _number(path, f"observation_sd.{k}", v, strict=True) for k, v in sds.items()}
    disc = _number(path, "discrepancy_sd", raw.get("discrepancy_sd"))
    breaks = []
    for i, b in enumerate(raw.get("breaks") or []):
        b = require_mapping(b, f"{path}: breaks[{i}]", CalibrationError)
        check_keys(b, BREAK_KEYS, f"{path}: breaks[{i}]", CalibrationError)
        try:
            breaks.append(Break(str(b["indicator"]), int(b["before"]), str(b["variable"]),
                                str(b.get("note", ""))))
        except (KeyError, TypeError, ValueError) as exc:
            raise CalibrationError(f"{path}: breaks[{i}]: needs indicator, before (a year) and "
                                   f"variable ({exc})") from None
    rows = {}
    for i, e in enumerate(raw.get("exclude_rows") or []):
        e = require_mapping(e, f"{path}: exclude_rows[{i}]", CalibrationError)
        check_keys(e, EXCLUDE_ROW_KEYS, f"{path}: exclude_rows[{i}]", CalibrationError)
        try:
            rows[(str(e["indicator"]), int(e["year"]))] = str(e.get("reason", ""))
        except (KeyError, TypeError, ValueError) as exc:
            raise CalibrationError(f"{path}: exclude_rows[{i}]: needs indicator, year and "
                                   f"reason ({exc})") from None
    reg = raw.get("annual_registries") or []
    if not isinstance(reg, list) or not all(isinstance(r, str) for r in reg):
        raise CalibrationError(f"{path}: annual_registries: {reg!r} is not a list of indicators")
    return Settings(obs_sd, disc, str(raw.get("scenario", "baseline")),
                    dict(raw.get("variables") or {}), dict(raw.get("exclude") or {}), rows,
                    tuple(breaks), tuple(reg), _sampler(raw.get("sampler"), path), path)


def _sampler(raw, path) -> Sampler:
    raw = {} if raw is None else require_mapping(raw, f"{path}: sampler", CalibrationError)
    check_keys(raw, tuple(Sampler.__dataclass_fields__), f"{path}: sampler", CalibrationError)
    out = {}
    for key in ("walkers", "steps", "draws", "seed", "init_pool"):
        v = raw.get(key, getattr(Sampler, key))
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise CalibrationError(f"{path}: sampler.{key}: {v!r} is not an integer >= 0")
        out[key] = v
    for key in ("steps", "draws", "init_pool"):
        if out[key] < 1:
            raise CalibrationError(f"{path}: sampler.{key}: {out[key]!r} is not >= 1")
    out["informs_tol"] = _number(path, "sampler.informs_tol",
                                 raw.get("informs_tol", Sampler.informs_tol), strict=True)
    return Sampler(**out)
