"""The state behind ``plansim explore``: a base scenario, the lever values of the plan years as
the page shows them, and the runs they give.

A page's settings are always a scenario document: the base (a file of ``scenarios/`` as
``extends: <id>.yaml``, or an uploaded file as it was written) with every lever the user moved
set to its slider values for the plan years (plus the base's own points after the target
year, so that the years after it stay as the base has them). :meth:`Session.document` is that
document and :meth:`Session.yaml_text` the file the page downloads; the page's run is the same
document through the library's one validation path: the base is read by
:func:`sim.scenarios.load_scenario` (without the moved levers) and the moved levers are given
to :meth:`sim.simulate.Simulator.run` as overrides (:func:`sim.scenarios.loader.apply_overrides`,
the rule a file's ``extends`` follows), so ``plansim run`` of the download gives the numbers
shown. Nothing is written into the project: an uploaded file is read from a temporary folder.

The uncertainty band and P(met) come from the history-conditioned ensemble of
:func:`sim.analysis.decisions.what_it_takes.conditioned_ensemble` (conditioned once on the scenario the
app started with, then every setting is run on the same samples: common random numbers).
"""

from __future__ import annotations

import datetime as dt
import math
import tempfile
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from sim import paths
from sim.analysis.decisions.what_it_takes import conditioned_ensemble
from sim.analysis.ensembles.conditioning_settings import load_conditioning
from sim.analysis.ensembles.uncertainty import indicator_percentiles, target_probabilities
from sim.analysis.outcomes.targets import derived_value, derived_variables, target_table
from sim.errors import PlanSimError, ScenarioError
from sim.model.declarations.checkspec import load_divergence
from sim.model.declarations.divergence import raise_if_diverged
from sim.model.declarations.history import load_history
from sim.model.declarations.parameters import load_parameters
from sim.model.declarations.targets import load_targets
from sim.model.declarations.words import LANGS, entry
from sim.model.declarations.yamlio import MAX_BYTES
from sim.present.explorer.guard import upload_name
from sim.scenarios import load_scenario
from sim.scenarios.constraints import load_constraints
from sim.scenarios.loader import Inherited, read_scenario_file, resolve_scenario_path

_ENSEMBLES: dict[tuple[str, int, int], Any] = {}
_ENSEMBLE_LOCK = threading.Lock()


def points_after(value: Any, year: int) -> dict[int, float]:
    """The ``{year: value}`` points of a lever value after ``year`` (none for a number)."""
    if isinstance(value, Inherited):
        under = {y: v for y, v in points_after(value.under, year).items() if y < min(value.over)}
        return {**under, **points_after(value.over, year)}
    if isinstance(value, dict):
        return {int(y): float(v) for y, v in value.items() if y > year}
    return {}


def step_of(lo: float, hi: float) -> float:
    """A slider step: a power of ten giving about a thousand steps over ``[lo, hi]``."""
    span = hi - lo
    return 10.0 ** math.floor(math.log10(span / 1000.0)) if span > 0 else 1.0


def digits_of(step: float) -> int:
    """The decimals of a slider step (3 for 0.001, 0 for 10)."""
    return max(0, -int(math.floor(math.log10(step) + 1e-9))) if step < 1 else 0


def snap(value: float, step: float) -> float:
    """``value`` rounded to the decimals of ``step`` (a slider's float noise removed)."""
    return float(round(float(value), digits_of(step)))


def rebalance(shares: dict[str, float], moved: str, value: float, max_sum: float,
              step: float) -> dict[str, float]:
    """Shares of one year after ``moved`` is set to ``value``: if their sum would exceed
    ``max_sum``, the other shares shrink in proportion so that the sum is ``max_sum`` exactly
    (to the decimals of ``step``); below it they stay and the rest is unallocated."""
    d = digits_of(step)
    out = {**shares, moved: value}
    others = [k for k in shares if k != moved]
    room = round(max_sum - value, d)
    rest = sum(shares[k] for k in others)
    if rest <= room + 1e-12:
        return out
    unit = 10.0 ** d
    scaled = {k: math.floor(shares[k] * room / rest * unit + 1e-9) / unit for k in others}
    largest = max(others, key=lambda k: (scaled[k], shares[k]))
    scaled[largest] = round(room - sum(v for k, v in scaled.items() if k != largest), d)
    return {**out, **{k: round(v, d) for k, v in scaled.items()}}


@dataclass
class Outcome:
    """One setting's results: the calibrated (central) run and what the page shows of it."""

    central: xr.Dataset                # indicators and fiscal-cost variables, dims (sample, time)
    table: pd.DataFrame                # per indicator: target, value, share, year, change
    fiscal_cost: float                 # 亿元 over the plan years
    band: xr.Dataset | None = None     # percentiles per indicator (percentile, time)
    probabilities: pd.DataFrame | None = None


def read_upload(name: str, data: bytes) -> Base:
    """An uploaded scenario file read and validated as the command line reads a file, from a
    temporary folder, its ``extends`` confined to ``scenarios/``. Touches no session (safe off
    the server's event loop). Errors: the command line's :class:`ScenarioError` naming the file
    by its uploaded name, or :class:`~sim.present.explorer.guard.PageError` for a name that
    cannot be a scenario file's."""
    name = upload_name(name)
    if len(data) > MAX_BYTES:
        raise ScenarioError(f"{name}: {len(data):,} bytes is too large for a plansim YAML file; "
                            f"allowed: at most {MAX_BYTES:,} bytes")
    with tempfile.TemporaryDirectory(prefix="plansim-upload-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            sc = load_scenario(path, within=(Path(tmp), paths.SCENARIO_DIR))
            raw = read_scenario_file(path)
        except PlanSimError as exc:
            raise type(exc)(str(exc).replace(str(path.resolve()), path.name)
                            .replace(str(path), path.name)) from None
    return Base(dict(raw), sc.id, sc.name, sc.description, True, True)


@dataclass(frozen=True)
class Base:
    """What the edits are merged into: a scenario document and where it came from."""

    raw: dict
    id: str
    label: dict
    description: str
    uploaded: bool = False
    #: read from a browser: its ``extends`` may reach only ``scenarios/`` (and files uploaded
    #: with it), never another file of the server
    confined: bool = False


class Session:
    """One page's settings and runs (the compiled model and the ensemble are shared)."""

    def __init__(self, simulator: Any, start: str | Path = "plan", *,
                 samples: int | None = None, seed: int | None = None):
        self.sim = simulator
        self.params = load_parameters()
        self.targets = load_targets()
        self.history = load_history()
        canon = load_conditioning()   # the canonical ensemble unless the page is told otherwise
        self.samples = canon.samples if samples is None else samples
        self.seed = canon.seed if seed is None else seed
        plan = self.targets.plan
        self.years = list(range(plan.start, plan.target_year + 1))
        self.band_on = False
        self._loaded: dict[tuple, Any] = {}
        self.start = self._base_of(start)
        self.reset_to(self.start)

    # -- declarations and reference runs ----------------------------------------------------
    @cached_property
    def columns(self) -> list[str]:
        known = list(self.sim.info.index)
        return sorted({*self.targets.indicators, *derived_variables(self.targets, known)})

    @cached_property
    def stocks(self) -> list[str]:
        info = self.sim.info
        return list(info.index[info["kind"] == "stock"])

    @cached_property
    def divergence(self):
        return load_divergence()

    @cached_property
    def references(self) -> dict[str, xr.Dataset]:
        """The central runs of ``baseline`` and ``plan`` (the dashed references)."""
        return {sid: self.sim.run(load_scenario(sid), return_columns=self.columns)
                for sid in ("baseline", "plan")}

    @cached_property
    def reference_values(self) -> dict[str, pd.Series]:
        """Each reference's indicator values in the target year."""
        col = f"value_{self.targets.year}"
        return {sid: target_table(ds, self.targets).set_index("indicator")[col]
                for sid, ds in self.references.items()}

    @cached_property
    def reference_costs(self) -> dict[str, float]:
        return {sid: self.fiscal_cost(ds) for sid, ds in self.references.items()}

    def _sane(self, ds: xr.Dataset) -> bool:
        """No NaN or inf and no bounded stock beyond the divergence bound (the quick test;
        :func:`~sim.model.declarations.divergence.raise_if_diverged` names what went wrong)."""
        values = np.stack([ds[v].values.ravel() for v in ds.data_vars])
        if not np.isfinite(values).all():
            return False
        rule = self.divergence
        if rule is None:
            return True
        bounded = rule.bounded(list(ds.data_vars), self.stocks)
        return all(np.abs(ds[v].values).max() <= rule.max_abs for v in bounded)

    @cached_property
    def marks(self) -> dict[str, dict[str, dict[int, float]]]:
        """``{"baseline"|"plan": {lever: {year: value}}}``: the slider marks."""
        return {sid: self.lever_values(load_scenario(sid)) for sid in ("baseline", "plan")}

    def lever_values(self, scenario: Any) -> dict[str, dict[int, float]]:
        """Each lever's value at the start (1 January) of each plan year in ``scenario``."""
        times = self.sim.step_times()
        inputs = self.sim.inputs(scenario)
        defaults = self.sim.default_values(None, None)
        idx = [int(np.argmin(np.abs(times - y))) for y in self.years]
        out = {}
        for lid, lever in self.params.levers.items():
            v = inputs.get(lever.py_name, defaults.get(lever.py_name))
            traj = np.asarray(v.values if isinstance(v, pd.Series) else
                              np.broadcast_to(v, times.shape), dtype=float)
            out[lid] = {y: float(traj[i]) for y, i in zip(self.years, idx, strict=True)}
        return out

    # -- the base and the edits ---------------------------------------------------------------
    def _base_of(self, ref: str | Path) -> Base:
        path = resolve_scenario_path(ref)
        sc = load_scenario(path)
        if path.parent == paths.SCENARIO_DIR.resolve():
            raw = {"extends": path.name}
            return Base(raw, sc.id, sc.name, sc.description)
        return Base(dict(read_scenario_file(path)), sc.id, sc.name, sc.description, True)

    def reset_to(self, base: Base | str) -> None:
        """Start again from ``base`` (a Base or a scenario id of ``scenarios/``)."""
        self.base = base if isinstance(base, Base) else self._base_of(base)
        self.full = self._load(self.base, frozenset())
        self.values = self.lever_values(self.full)
        self.base_values = {lid: dict(v) for lid, v in self.values.items()}

    @property
    def moved(self) -> set[str]:
        """The levers whose values differ from the base's (a focused slider is no change)."""
        return {lid for lid, v in self.values.items() if v != self.base_values[lid]}

    @cached_property
    def share_groups(self) -> dict[str, Any]:
        """``{lever: constraint}`` for each lever in a declared sum constraint."""
        return {lid: c for c in load_constraints(self.params) for lid in c.levers}

    def unallocated(self, constraint: Any, year: int) -> float:
        """What the shares of ``constraint`` leave unallocated in ``year``."""
        lv = self.params.levers[constraint.levers[0]]
        return snap(constraint.max_sum - sum(self.values[k][year] for k in constraint.levers),
                    step_of(lv.min, lv.max))

    def check_value(self, lever: str, value: float) -> bool:
        """Whether ``value`` lies in ``lever``'s declared range."""
        lv = self.params.levers[lever]
        return math.isfinite(value) and lv.min <= value <= lv.max

    def upload(self, name: str, data: bytes) -> None:
        """Make an uploaded scenario file the base; a bad file raises the command line's
        :class:`ScenarioError` message (naming the file by its uploaded name)."""
        self.reset_to(read_upload(name, data))

    def set_value(self, lever: str, year: int, value: float) -> list[str]:
        """Set ``lever`` in ``year`` (to the slider's decimals); a share in a sum constraint
        takes from the others of its year when the sum would exceed the bound (see
        :func:`rebalance`). Returns the levers whose value changed."""
        lv = self.params.levers[lever]
        step = step_of(lv.min, lv.max)
        value = snap(min(max(value, lv.min), lv.max), step)
        c = self.share_groups.get(lever)
        if c is None:
            changed = {lever: value}
        else:
            changed = rebalance({k: self.values[k][year] for k in c.levers}, lever, value,
                                c.max_sum, step)
        out = [k for k, v in changed.items() if self.values[k][year] != v]
        for k in out:
            self.values[k][year] = changed[k]
        return out

    def edits(self) -> dict[str, dict[int, float]]:
        """The moved levers as series: the plan years' values, then the base's later points."""
        last = self.years[-1]
        return {lid: {**self.values[lid], **points_after(self.full.levers.get(lid), last)}
                for lid in sorted(self.moved)}

    def document(self) -> dict:
        """The scenario file of the current settings (what the page downloads)."""
        raw = dict(self.base.raw)
        levers = dict(raw.get("levers") or {})
        levers.update(self.edits())
        suffix = entry("explorer_document.name_suffix")
        doc = {"name": {k: self.base.label[k] + suffix[k] for k in LANGS},
               "description": (f"Settings of plansim explore on {dt.date.today():%Y-%m-%d}, "
                               f"from '{self.base.id}'"
                               + (f": {self.base.description}" if self.base.description else "")),
               **{k: v for k, v in raw.items() if k not in ("name", "description", "levers")}}
        if levers:
            doc["levers"] = levers
        return doc

    @property
    def file_name(self) -> str:
        return f"{self.base.id}-explored.yaml"

    def yaml_text(self) -> str:
        import yaml

        head = "# yaml-language-server: $schema=./schema.json\n"
        return head + yaml.safe_dump(self.document(), allow_unicode=True, sort_keys=False,
                                     width=100)

    def _load(self, base: Base, without: frozenset[str]):
        """The base read by the scenario loader, the levers ``without`` left out (cached)."""
        key = (id(base), without)
        if key not in self._loaded:
            raw = dict(base.raw)
            if without and raw.get("levers"):
                raw["levers"] = {k: v for k, v in raw["levers"].items() if k not in without}
            raw.setdefault("name", base.label)
            with tempfile.TemporaryDirectory(prefix="plansim-explore-") as tmp:
                import yaml

                path = Path(tmp) / f"{base.id}-explored.yaml"
                path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
                within = (Path(tmp), paths.SCENARIO_DIR) if base.confined else None
                self._loaded[key] = load_scenario(path, within=within)
        return self._loaded[key]

    # -- running ------------------------------------------------------------------------------
    def scenario(self):
        """The base without the moved levers (they come as overrides)."""
        return self._load(self.base, frozenset(self.moved))

    def run(self) -> Outcome:
        """The central run of the current settings (raises the library's errors: a broken
        constraint, a diverging run) and, with the band on, the ensemble."""
        sc = self.scenario()
        ds = self.sim.run(sc, levers=self.edits() or None, return_columns=self.columns + [
            s for s in self.stocks if s not in self.columns], check_divergence=False)
        if not self._sane(ds):   # the library's message, naming the variable and the year
            raise_if_diverged(ds, self.divergence, self.stocks, self.file_name[:-5])
        table = target_table(ds, self.targets).set_index("indicator")
        table["plan"] = self.reference_values["plan"]
        out = Outcome(ds[self.columns], table, self.fiscal_cost(ds))
        if self.band_on:
            out.band, out.probabilities = self.ensemble_run()
        return out

    def fiscal_cost(self, ds: xr.Dataset) -> float:
        for d in self.targets.derived:
            if d.kind == "plan_sum":
                v = derived_value(ds, d, self.targets)
                return float(np.asarray(v).ravel()[0]) if v is not None else float("nan")
        return float("nan")

    def ensemble(self):
        """The history-conditioned ensemble (conditioned once per process and start)."""
        key = (self.start.id, self.samples, self.seed)
        with _ENSEMBLE_LOCK:
            if key not in _ENSEMBLES:
                sc = self._load(self.start, frozenset())
                _ENSEMBLES[key] = conditioned_ensemble(sc, samples=self.samples,
                                                       seed=self.seed, simulator=self.sim)
            return _ENSEMBLES[key]

    def ensemble_run(self) -> tuple[xr.Dataset, pd.DataFrame]:
        """Percentiles and P(met) of the current settings on the conditioned samples."""
        ens = self.ensemble()
        ds = self.sim.run(self.scenario(), levers=self.edits() or None,
                          assumptions=ens.assumptions, n_samples=ens.n,
                          return_columns=list(self.targets.indicators), check_divergence=False)
        return (indicator_percentiles(ds, self.targets.indicators),
                target_probabilities(ds, self.targets))
