"""Forecast vintages: the conditioned forecast of a given day, stored to be scored later.

A vintage is a directory ``forecasts/<date>/`` (``YYYY-MM-DD``) holding

- ``forecast.csv``: ``scenario, indicator, year, central, P5, P25, P50, P75, P95``: per
  scenario (:data:`SCENARIOS`), indicator (those of ``model/targets.yaml``, targets and
  reported) and year (the plan's start to the horizon, model/targets.yaml), the central
  forecast (the central run at the posterior-median assumptions,
  :func:`sim.analysis.ensembles.conditioning.central_run`) and the percentiles of the ensemble of
  posterior draws (:mod:`sim.analysis.ensembles.conditioning`);
- ``meta.yaml``: the date, the tool version, the seed and N, the forecast origin (the last
  observed year: every draw starts from its posterior state there) and the data cut-off (the
  latest date of the fitted data), per scenario the draws failing a check (reported, kept),
  and the sha256 of the model file, the history data, the posterior, its summary and the
  uncertainty and parameter files.

:func:`make_forecast` builds both; :func:`write_vintage` writes them into a directory (the
command wraps it in an atomic directory swap); :func:`find_vintage` and :func:`load_vintage`
read one back for :mod:`sim.analysis.forecasts.scoring`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import yaml

from sim import paths
from sim.analysis.ensembles.conditioning import condition_all
from sim.analysis.ensembles.uncertainty import PERCENTILES
from sim.analysis.outcomes.targets import at_year
from sim.errors import ForecastError
from sim.model.declarations.history import history_hash
from sim.model.declarations.targets import Targets, load_targets

if TYPE_CHECKING:
    import xarray as xr

    from sim.analysis.ensembles.conditioning import HistoryMatch, Simulate
    from sim.analysis.ensembles.uncertainty_spec import UncertaintySpec
    from sim.scenarios import Scenario

SCENARIOS = ("baseline", "plan")
BANDS = tuple(f"P{q}" for q in PERCENTILES)
COLUMNS = ("scenario", "indicator", "year", "central", *BANDS)
FORECAST_FILE = "forecast.csv"
META_FILE = "meta.yaml"
NAME = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: files whose sha256 a vintage records (key -> path)
HASHED = {"model": paths.MODEL_FILE, "history": paths.HISTORY_FILE,
          "calibration": paths.CALIBRATION_FILE, "posterior": paths.POSTERIOR_FILE,
          "uncertainty": paths.UNCERTAINTY_FILE,
          "parameters": paths.PARAMETERS_FILE}


def forecast_indicators(targets: Targets) -> list[str]:
    """The indicators of a vintage: the targets' indicators, then the reported ones (both
    declared in model/targets.yaml)."""
    return [*targets.indicators, *targets.reported_indicators]


def forecast_table(scenario: str, ensemble: xr.Dataset, central: xr.Dataset,
                   indicators: Sequence[str],
                   years: Sequence[int] | None = None) -> pd.DataFrame:
    """Rows ``scenario, indicator, year, central, P5..P95`` from an ensemble Dataset
    ``(sample, time)`` and the central run (sample of length 1), for ``years`` (default: the
    declared plan start to the horizon)."""
    years = load_targets().plan.years if years is None else years
    rows = []
    for ind in indicators:
        for year in years:
            vals = at_year(ensemble[ind], year)
            q = np.nanpercentile(vals, PERCENTILES)
            rows.append({"scenario": scenario, "indicator": ind, "year": int(year),
                         "central": float(at_year(central[ind], year)[0]),
                         **{b: float(v) for b, v in zip(BANDS, q, strict=True)}})
    return pd.DataFrame(rows, columns=list(COLUMNS))


def file_hashes(files: dict[str, Path] | None = None) -> dict[str, str]:
    """sha256 of each file (``None`` for a missing one, e.g. no calibration yet)."""
    return {k: (history_hash(p) if Path(p).is_file() else None)
            for k, p in (files or HASHED).items()}


def tool_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("plansim")
    except PackageNotFoundError:
        return "unknown"


def make_forecast(scenarios: Sequence[Scenario], spec: UncertaintySpec,
                  indicators: Sequence[str], *,
                  samples: int, seed: int, simulate: Simulate,
                  central: Callable[[Scenario], xr.Dataset], match: HistoryMatch, sampling: str = "lhs",
                  date: str, say: Callable[[str], None] | None = None,
                  history: Simulate | None = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Run the scenarios on one set of posterior draws and tabulate them: (table, meta).
    ``history`` is accepted for older callers and ignored."""
    say = say or (lambda _m: None)
    years = load_targets().plan.years
    tables, summary = [], {}
    conditioned = condition_all(scenarios, spec, samples, seed=seed, simulate=simulate,
                                match=match, say=say)
    for sc, cond in zip(scenarios, conditioned, strict=True):
        tables.append(forecast_table(str(sc.id), cond.results, central(sc), indicators,
                                     years))
        summary[str(sc.id)] = {"failing_a_check": int(cond.screened_out)}
    post = match.posterior
    meta = {"date": date, "tool": "plansim", "version": tool_version(), "seed": int(seed),
            "samples": int(samples), "ensemble": "posterior draws (model/posterior.csv.gz)",
            "origin": int(post.origin), "data_cutoff": post.info.get("data_cutoff"),
            "posterior_data_hash": post.info.get("data_hash"), "checks": summary,
            "scenarios": [str(s.id) for s in scenarios],
            "indicators": list(indicators), "years": [years[0], years[-1]],
            "sha256": file_hashes()}
    return pd.concat(tables, ignore_index=True), meta


def write_vintage(directory: Path | str, table: pd.DataFrame, meta: dict[str, Any]) -> Path:
    """Write ``forecast.csv`` and ``meta.yaml`` into ``directory`` (which must exist)."""
    directory = Path(directory)
    table.to_csv(directory / FORECAST_FILE, index=False, float_format="%.6g")
    text = ("# Written by `plansim forecast` (sim/analysis/forecasts/vintage.py); do not edit by hand.\n"
            + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True))
    (directory / META_FILE).write_text(text, encoding="utf-8")
    return directory


@dataclass
class Vintage:
    name: str
    path: Path
    table: pd.DataFrame
    meta: dict[str, Any]


def find_vintage(root: Path | str | None = None, name: str | None = None) -> Path:
    """The vintage directory ``name`` (a date under ``root``, or a path), else the latest."""
    root = Path(root or paths.FORECASTS_DIR)
    if name:
        for cand in (Path(name), root / name):
            if (cand / FORECAST_FILE).is_file():
                return cand
        raise ForecastError(f"vintage {name}: no {FORECAST_FILE} there or under {root}; "
                            f"allowed: {', '.join(_names(root)) or 'none stored yet'}")
    names = _names(root)
    if not names:
        raise ForecastError(f"{root}: no forecast vintage stored; run `plansim forecast` first")
    return root / names[-1]


def _names(root: Path) -> list[str]:
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir()
                  if NAME.match(p.name) and (p / FORECAST_FILE).is_file())


def load_vintage(path: Path | str) -> Vintage:
    """Read a vintage directory; its table is checked for the columns of :data:`COLUMNS`."""
    path = Path(path)
    file = path / FORECAST_FILE
    try:
        table = pd.read_csv(file)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ForecastError(f"{file}: cannot be read as CSV ({exc})") from None
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise ForecastError(f"{file}: missing columns {missing}; a vintage has {list(COLUMNS)}")
    meta: dict[str, Any] = {}
    if (path / META_FILE).is_file():
        try:
            meta = yaml.safe_load((path / META_FILE).read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ForecastError(f"{path / META_FILE}: not valid YAML ({exc})") from None
    return Vintage(path.name, path, table, meta)
