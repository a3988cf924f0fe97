"""``plansim calibrate``: the one Bayesian estimation of the model and its summaries.

:func:`calibrate` loads the history, samples the posterior (:func:`sim.analysis.estimation.posterior.
estimate`) and summarises it: the fit per history row (posterior predictive percentiles, with
sourced rows, lower bounds and the implied checks apart), prior against posterior per estimated
assumption (which the data move), and the state at the forecast origin (:func:`origin_table`).
:func:`write_outputs` stores the posterior (``model/posterior.csv.gz``) and its summary
(``model/calibration.yaml``, whose ``estimates.<id>.value`` are the posterior medians: the
*central run* of ``plansim run``).

**Start from where we stand.** Every forecast starts at the origin, the last observed year, from
each posterior draw's own state there. The posterior is conditioned on every row, the latest ones
included, so each draw's state at the origin is already consistent with the latest observations
within their error; :func:`origin_table` shows it per series (the share of draws within two
standard deviations of the latest sourced figure, or not more than two below a lower bound).
A further particle or Kalman update at the origin would count the same rows a second time, so
none is applied; a row the posterior does not reach is reported as a misfit of the model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim import paths
from sim.analysis.estimation import likelihood as lk
from sim.analysis.estimation.calibration_settings import Settings, load_settings
from sim.analysis.estimation.posterior import Posterior, estimate
from sim.analysis.estimation.posterior_file import inputs_hash, write_posterior
from sim.errors import CalibrationError
from sim.model.declarations.history import history_hash, load_history
from sim.simulate import Simulator

#: the data "move" an assumption when its posterior sd is below this share of its prior sd ...
MOVED_SD_RATIO = 0.8
#: ... or its median shifts by more than this many prior sd
MOVED_SHIFT = 0.3
#: the posterior "pins" the state at the origin when this share of draws is within 2 sd
PINNED_SHARE = 0.9
QUANTILES = (0.05, 0.5, 0.95)


@dataclass
class Calibration:
    """A finished estimation: the posterior and its summaries."""

    settings: Settings
    posterior: Posterior
    fit: pd.DataFrame          # per fitted and implied row: observed, P5/P50/P95, central
    parameters: pd.DataFrame   # per estimated assumption: prior and posterior percentiles
    origin: pd.DataFrame       # per series: the latest fitted row and its share within 2 sd
    history_path: Path

    @property
    def data_hash(self) -> str:
        return str(self.posterior.data_hash)


def parameter_table(post: Posterior) -> pd.DataFrame:
    """Prior and posterior 5/50/95% per estimated assumption, posterior sd / prior sd and
    whether the data move it."""
    rows = {}
    grid = np.linspace(0.0005, 0.9995, 2000)
    for aid in post.ids:
        dist = post.prior.items[aid].distribution
        prior = dist.ppf(grid)
        draws = post.draws[aid].to_numpy(float)
        pq, qq = dist.ppf(np.array(QUANTILES)), np.quantile(draws, QUANTILES)
        psd = float(np.std(prior)) or float("nan")
        rows[aid] = {"prior_P5": pq[0], "prior_P50": pq[1], "prior_P95": pq[2],
                     "post_P5": qq[0], "post_P50": qq[1], "post_P95": qq[2],
                     "sd_ratio": float(np.std(draws)) / psd,
                     "shift_sd": (qq[1] - pq[1]) / psd}
    df = pd.DataFrame.from_dict(rows, orient="index").rename_axis("assumption")
    df["moved"] = (df["sd_ratio"] < MOVED_SD_RATIO) | (df["shift_sd"].abs() > MOVED_SHIFT)
    return df


def origin_table(fit: pd.DataFrame) -> pd.DataFrame:
    """The latest fitted row of each series (the state the forecasts start from) and the share
    of posterior draws consistent with it within two standard deviations."""
    rows = fit[fit["status"].isin(["sourced", "lower_bound"])]
    if rows.empty:
        return pd.DataFrame(columns=["indicator", "year", "status", "value", "P50",
                                     "within_2sd", "pinned"])
    key = rows["year"] + rows["as_of"].map(lambda a: 0.0 if a is None or a != a else -0.5)
    latest = rows.loc[key.groupby(rows["indicator"]).idxmax()]
    out = latest[["indicator", "year", "as_of", "status", "value", "P50", "within_2sd"]].copy()
    out["pinned"] = out["within_2sd"] >= PINNED_SHARE
    return out.reset_index(drop=True)


def fit_table(post: Posterior, simulated: np.ndarray, central: np.ndarray) -> pd.DataFrame:
    """Posterior predictive summary of every fitted row and every implied check."""
    obs = pd.concat([post.fitted, post.checks], ignore_index=True)
    out = lk.summarise_fit(obs, simulated)
    out["central"] = central
    out["in_likelihood"] = out["status"] != "implied"
    return out


def calibrate(settings: Settings | None = None, *, simulator=None,
              history_path: Path | str | None = None,
              say: Callable[[str], None] | None = None) -> Calibration:
    """Estimate the posterior from the history file and summarise it."""
    say = say or (lambda _m: None)
    settings = settings or load_settings()
    history_path = Path(history_path or paths.HISTORY_FILE)
    sim = simulator or Simulator("batch", use_calibration=False)
    key = inputs_hash(settings, history_path)   # what is read, before reading it
    post = estimate(load_history(history_path), seed=settings.sampler.seed, settings=settings,
                    simulator=sim, say=say)
    post.info["data_hash"] = history_hash(history_path)
    post.info["inputs_hash"] = key
    try:
        post.info["data_file"] = str(history_path.resolve().relative_to(paths.ROOT))
    except ValueError:
        post.info["data_file"] = str(history_path)
    obs = pd.concat([post.fitted, post.checks], ignore_index=True)
    cols, end = lk.compared_variables(obs), lk.history_end(obs)

    def at_rows(values: dict[str, np.ndarray]) -> np.ndarray:
        n = len(next(iter(values.values())))
        ds = sim.run(settings.scenario, assumptions=values, n_samples=n, return_columns=cols,
                     final_time=end, check_divergence=False)
        return lk.simulated_at(ds, obs)

    simulated = at_rows({k: post.draws[k].to_numpy(float) for k in post.ids})
    central = at_rows({k: np.array([v]) for k, v in post.median().items()})[0]
    fit = fit_table(post, simulated, central)
    return Calibration(settings, post, fit, parameter_table(post), origin_table(fit),
                       history_path)


def history_bands(simulator, cal: Calibration) -> dict[str, pd.DataFrame]:
    """Per compared variable over the history years: posterior predictive P5/P50/P95 and the
    central run (for the fit chart)."""
    obs = cal.fit
    cols, end = lk.compared_variables(obs), lk.history_end(obs)
    post = cal.posterior
    runs = {}
    for key, values in (("draws", {k: post.draws[k].to_numpy(float) for k in post.ids}),
                        ("central", {k: np.array([v]) for k, v in post.median().items()})):
        n = len(next(iter(values.values())))
        runs[key] = simulator.run(cal.settings.scenario, assumptions=values, n_samples=n,
                                  return_columns=cols, final_time=end, check_divergence=False)
    out = {}
    for var in cols:
        v = np.asarray(runs["draws"][var].values, float)
        q = np.quantile(v, QUANTILES, axis=0)
        out[var] = pd.DataFrame({"time": runs["draws"]["time"].values, "P5": q[0],
                                 "P50": q[1], "P95": q[2],
                                 "central": np.asarray(runs["central"][var].values,
                                                       float).reshape(-1)})
    return out


def _num(v, digits: int = 6):
    v = float(v)
    return float(f"{v:.{digits}g}") if np.isfinite(v) else None


def calibration_document(cal: Calibration, date: str) -> dict:
    """The content of ``model/calibration.yaml`` (see :mod:`sim.model.declarations.calibrated`)."""
    post, s = cal.posterior, cal.settings
    estimates = {}
    for aid, row in cal.parameters.iterrows():
        a = post.prior.items[aid].distribution
        estimates[aid] = {
            "value": _num(row["post_P50"]), "min": float(a.lower), "max": float(a.upper),
            "prior": {"distribution": a.kind, "P5": _num(row["prior_P5"]),
                      "P50": _num(row["prior_P50"]), "P95": _num(row["prior_P95"])},
            "posterior": {"P5": _num(row["post_P5"]), "P50": _num(row["post_P50"]),
                          "P95": _num(row["post_P95"])},
            "sd_ratio": _num(row["sd_ratio"], 3), "moved_by_data": bool(row["moved"]),
            "tau": post.info.get("tau", {}).get(aid)}
    fit = {}
    for status, part in cal.fit.groupby("status", sort=True):
        fit[status] = [{"indicator": r.indicator, "year": int(r.year),
                        **({"as_of": str(r.as_of)} if r.as_of is not None and r.as_of == r.as_of
                           else {}),
                        "observed": _num(r.value), "P5": _num(r.P5, 5), "P50": _num(r.P50, 5),
                        "P95": _num(r.P95, 5), "error_pct": _num(r.error_pct, 3),
                        "within_2sd": _num(r.within_2sd, 3)} for r in part.itertuples()]
    info = {k: v for k, v in post.info.items() if k != "tau"}
    return {
        "date": date,
        "method": "Bayesian estimation (emcee); estimates.<id>.value = posterior median",
        "data_file": info.pop("data_file", None),
        "data_hash": info.pop("data_hash", None),
        "origin": int(post.origin),
        "data_cutoff": info.pop("data_cutoff", None),
        "posterior_file": "model/posterior.csv.gz",
        "likelihood": {
            "sourced": "ln observed ~ Normal(ln simulated, sd)",
            "lower_bound": "log Phi((ln simulated - ln bound) / sd): no penalty above",
            "implied": "not in the likelihood: a check reported apart",
            "sd": "sqrt(observation_sd[status]^2 + discrepancy_sd^2)",
            "observation_sd": dict(s.observation_sd), "discrepancy_sd": s.discrepancy_sd,
            "n_rows": int((cal.fit["in_likelihood"]).sum()),
            "n_lower_bounds": int((cal.fit["status"] == "lower_bound").sum()),
            "n_implied_checks": int((cal.fit["status"] == "implied").sum())},
        "sampler": info,
        "estimates": estimates,
        "origin_state": [{"indicator": r.indicator, "year": int(r.year),
                          "status": r.status, "observed": _num(r.value),
                          "P50": _num(r.P50, 5), "within_2sd": _num(r.within_2sd, 3),
                          "pinned": bool(r.pinned)} for r in cal.origin.itertuples()],
        "fit": fit,
    }


HEADER = ("# Written by `plansim calibrate` (sim/analysis/estimation/calibration.py); do not edit by hand.\n"
          "# Settings: model/calibration-settings.yaml. Draws: model/posterior.csv.gz.\n"
          "# estimates.<id>.value (the posterior median) is the central run's value; every\n"
          "# ensemble draws from the posterior file.\n")


def write_outputs(cal: Calibration, *, say: Callable[[str], None] | None = None,
                  date: str | None = None) -> None:
    """Store the posterior and its summary (``model/posterior.csv.gz``,
    ``model/calibration.yaml``)."""
    import datetime as dt

    import yaml

    say = say or (lambda _m: None)
    if cal.posterior.prior is None:
        raise CalibrationError("calibration: the posterior carries no prior")
    date = date or dt.date.today().isoformat()
    write_posterior(cal.posterior, paths.POSTERIOR_FILE)
    doc = calibration_document(cal, date)
    text = HEADER + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
    tmp = paths.CALIBRATION_FILE.with_name(paths.CALIBRATION_FILE.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(paths.CALIBRATION_FILE)
    say(f"posterior -> {paths.POSTERIOR_FILE}; summary -> {paths.CALIBRATION_FILE}")
