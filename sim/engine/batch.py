"""``BatchModel``: runs a compiled model for many parameter sets at once.

Storage lives here: per-run inputs ``K`` (controls, constants, lookup tables, time series on
the integration grid), the state tuple, and one output buffer of shape
``(n_samples, n_saved, *dims)`` per returned variable. Time stepping follows PySD exactly:
``t`` starts at INITIAL TIME and grows by TIME STEP (accumulated in floating point), values
are saved when ``(t - t0)`` is a multiple of SAVEPER within ``1e-5 * TIME STEP``, the loop
runs while ``t + 1e-5 * TIME STEP < FINAL TIME`` and the final time is saved after it.

That is the ``instant`` reporting mode (the default, and what the conformance tests compare
with Vensim). ``reporting="calendar"`` instead reports per interval of SAVEPER (see
:mod:`sim.engine.reporting`): levels at the interval's end, rates as their mean over the
interval, accumulated inside the time loop (no step is stored).
"""

from __future__ import annotations

import linecache
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from sim.engine import kernel as kn
from sim.engine import reporting as rep
from sim.engine import runtime
from sim.engine.cache import generated
from sim.engine.model import CONTROL_NAMES, ModelInfo, Var
from sim.engine.timeloop import (
    data_on_grid,
    load_data,
    loop_periods,
    result_dataset,
    scalar_periods,
    time_grid,
)
from sim.errors import ModelError, UnsupportedConstructError

_SCALAR_ERRORS = (ZeroDivisionError, OverflowError, ValueError, TypeError)


@dataclass(frozen=True)
class VariableInfo:
    """Metadata of one variable: ``kind`` is stock, aux (flow or auxiliary), constant, lookup,
    data or control; ``subscripts`` the names of its subscript ranges (dimension order)."""

    py_name: str
    vensim_name: str
    units: str
    documentation: str
    kind: str
    subscripts: tuple


class BatchModel:
    """A compiled Vensim model. Build with :func:`sim.engine.compile_model`. ``info`` is the
    parsed model (:class:`~sim.engine.model.ModelInfo`), ``kernels`` its compiled kernels
    (:class:`sim.engine.kernel.Kernels`)."""

    def __init__(self, info: ModelInfo, path: Path, data_files=None):
        self.path = Path(path)
        self.info = info
        self.variables: dict[str, VariableInfo] = {
            v.py_name: VariableInfo(v.py_name, v.vensim_name, v.units, v.doc, v.kind, v.dims)
            for v in info.vars.values()}
        self.subscripts: dict[str, list[str]] = dict(info.ranges)
        self._data = load_data(info, self.path, data_files)
        self._cache: dict[tuple, tuple] = {}
        self._dynamic: dict[tuple, frozenset] = {}
        self.kernels = kn.Kernels()
        self._runs: dict[tuple, object] = {}  # per-run values that repeat (controls, time axis)
        self._lookups = [v for v in info.vars.values() if v.kind == "lookup"]
        self._data_vars = [v for v in info.vars.values() if v.kind == "data"]
        self._subscripted = any(v.dims for v in info.vars.values())
        # each variable's dims and attrs in a result (the attrs are copied into each result)
        self._meta = {v.id: (("sample", "time") + tuple(v.dims),
                             {"units": v.units, "description": v.doc,
                              "vensim_name": v.vensim_name})
                      for v in info.vars.values()}
        self.backend: str | None = None  # default of run(backend=): see sim.engine.kernel
        self.controls: dict[str, float] = self._controls({}, {}, {})

    # ------------------------------------------------------------------ metadata
    @property
    def initial_time(self) -> float:
        return self.controls["initial_time"]

    @property
    def final_time(self) -> float:
        return self.controls["final_time"]

    @property
    def time_step(self) -> float:
        return self.controls["time_step"]

    @property
    def saveper(self) -> float:
        return self.controls["saveper"]

    def variable(self, name: str) -> VariableInfo:
        """Metadata of a variable given its Python or Vensim name."""
        return self.variables[self._var(name).py_name]

    def _var(self, name: str) -> Var:
        v = self.info.by_name(str(name))
        if v is None:
            raise ModelError(f"model '{self.path}' has no variable named '{name}'")
        return v

    # ------------------------------------------------------------------ compilation
    def _compiled(self, overrides: dict, outputs: tuple, scalar: bool):
        key = (tuple(sorted(overrides.items())), outputs, scalar)
        hit = self._cache.get(key)
        if hit is None:
            src, ctl_src, constants, dynamic = generated(self.info, overrides, outputs, scalar)
            ns: dict = {}
            # a unique name, registered with linecache, so a traceback or an error report
            # (sim.engine.conformance) can show the generated line that failed
            fname = f"<engine:{self.path.name}:{len(self._cache)}>"
            text = src + ctl_src
            linecache.cache[fname] = (len(text), None, text.splitlines(True), fname)
            exec(compile(text, fname, "exec"), ns)  # noqa: S102
            # controls that read no input are the same for every run of this code
            hit = (ns["_build"], ns["_ctl"], constants, src, "K[" not in ctl_src)
            self._cache[key] = hit
            self._dynamic[key[:2]] = dynamic
        return hit

    def _averaged(self, overrides: dict, outputs: tuple, dynamic=None) -> list[bool]:
        """Per output: averaged over each reporting interval (a rate that changes in time).
        A rate that is constant in time is recorded like a level: its mean is its value."""
        if dynamic is None:
            dynamic = self._dynamic[(tuple(sorted(overrides.items())), outputs)]
        key = ("averaged", outputs, dynamic)
        hit = self._runs.get(key)
        if hit is None:
            hit = self._remember(key, [self.is_rate(vid) and vid in dynamic for vid in outputs])
        return list(hit)

    def source(self) -> str:
        """The generated Python source of the default vector simulation (for inspection)."""
        return self._compiled({}, (), False)[3]

    def _controls(self, overrides, K, user) -> dict[str, float]:
        _, ctl, consts, _, pure = self._compiled(overrides, (), False)
        key = (tuple(sorted(overrides.items())), tuple(user.items())) if pure else None
        try:
            hit = self._runs.get(("controls", key)) if pure else None
        except TypeError:  # a control given as an array: not cached
            hit, pure = None, False
        if hit is not None:
            return dict(hit)
        K = dict(K)
        K.update(consts)
        with np.errstate(all="ignore"):
            vals = ctl(K, runtime.VECTOR, 1)
        out = {}
        for name in CONTROL_NAMES:
            v = user.get(name)
            if v is None:
                v = vals.get(name)
            if v is None:
                raise ModelError(f"model '{self.path}' does not define {name.upper()}")
            arr = np.unique(np.asarray(v, dtype=float))
            if arr.size != 1:
                raise ModelError(f"control '{name}' must be the same for every sample")
            out[name] = float(arr[0])
        if pure:
            self._remember(("controls", key), dict(out))
        return out

    def _time_axis(self, ctl: dict, reporting: str):
        """The integration grid, the saved mask, the reporting periods (calendar) and the row
        times of a run with controls ``ctl``: the same for every run with these controls, so
        computed once (shared by those runs: never modify them; they stay writeable because
        numba would compile the kernel again for read-only arrays)."""
        key = ("time", tuple(ctl.values()), reporting)
        hit = self._runs.get(key)
        if hit is None:
            grid, save = time_grid(ctl)
            saved_times = grid[save]
            per = None
            if reporting == "calendar":
                per = rep.periods(grid, ctl["initial_time"], ctl["time_step"], ctl["saveper"])
                save, saved_times = per.touched, per.starts
            hit = self._remember(key, (grid, save, per, saved_times))
        return hit

    def _remember(self, key, value):
        """Keep ``value`` for later runs (at most 64 such values; then start again)."""
        if len(self._runs) >= 64:
            self._runs.clear()
        self._runs[key] = value
        return value

    # ------------------------------------------------------------------ parameters
    def _params(self, params, n):
        """Classify params -> (overrides, K entries, per-sample keys, series specs)."""
        overrides, K, per_sample, series = {}, {}, set(), {}
        for name, value in (params or {}).items():
            var = self._var(name)
            vid = var.id
            if var.kind == "control":
                raise ModelError(f"set control '{name}' with the run() keyword arguments")
            if isinstance(value, pd.Series):
                overrides[vid] = "series"
                series[vid] = (np.asarray(value.index, float), np.asarray(value.values, float)[None])
                continue
            if isinstance(value, xr.DataArray):
                if set(value.dims) != {"sample", "time"} or value.sizes["sample"] != n:
                    raise ModelError(f"parameter '{name}': DataArray must have dims "
                                     f"('sample', 'time') with {n} samples")
                value = value.transpose("sample", "time")
                series[vid] = (np.asarray(value["time"].values, float),
                               np.asarray(value.values, float))
                overrides[vid] = "series"
                continue
            arr = np.asarray(value, dtype=float)
            if var.kind == "lookup":
                ny = len(var.table[1])
                if arr.shape not in ((ny,), (n, ny)):
                    raise ModelError(f"lookup '{name}' needs {ny} y values or shape ({n}, {ny})")
                overrides[vid] = "lookup"
                K[f"ly_{vid}"] = arr
                if arr.ndim == 2:
                    per_sample.add(f"ly_{vid}")
                continue
            sizes = tuple(len(self.info.range_elements(d)) for d in var.dims)
            if arr.ndim == 0:
                val = float(arr)
            elif arr.shape == (n,) and (not sizes or sizes != (n,)):
                val = arr.reshape((n,) + (1,) * len(sizes))
                per_sample.add(f"p_{vid}")
            elif arr.shape == sizes:
                val = arr[None]
            elif arr.shape == (n,) + sizes:
                val = arr
                per_sample.add(f"p_{vid}")
            else:
                raise ModelError(f"parameter '{name}': shape {arr.shape} is not a number, "
                                 f"({n},), {sizes} or {(n,) + sizes}")
            if sizes:
                val = runtime.full_broadcast(val, sizes)
            overrides[vid] = "const"
            K[f"p_{vid}"] = val
        return overrides, K, per_sample, series

    # ------------------------------------------------------------------ running
    def run(self, params=None, n_samples=1, *, return_columns=None, initial_time=None,
            final_time=None, time_step=None, saveper=None, chunk_size=None,
            progress=False, reporting: str = "instant", backend: str | None = None
            ) -> xr.Dataset:
        """Simulate ``n_samples`` parameter sets; see ARCHITECTURE.md "Engine contract".

        Returns a Dataset with one variable per returned column (Python names), dims
        ``("sample", "time", *subscript ranges)``. ``reporting``: ``"instant"`` (values at the
        saved instants, as PySD) or ``"calendar"`` (levels at the end of each SAVEPER interval,
        rates as their mean over it; the row is labelled by the interval's start).
        ``backend``: ``"kernel"``, ``"numpy"`` or None (``self.backend``; None: the compiled
        kernel where it runs, else the numpy path; see :mod:`sim.engine.kernel`).
        """
        n = int(n_samples)
        if n < 1:
            raise ModelError(f"n_samples must be >= 1, got {n_samples}")
        if reporting not in rep.MODES:
            raise ModelError(f"reporting: {reporting!r} is not one of {rep.MODES}")
        overrides, K, per_sample, series = self._params(params, n)
        if return_columns is None:
            out_vars = [v for v in self.info.vars.values() if v.kind != "lookup"]
        else:
            out_vars = [self._var(c) for c in return_columns]
            for v in out_vars:
                if v.kind == "lookup":
                    raise ModelError(f"'{v.vensim_name}' is a lookup and cannot be returned")
        outputs = tuple(v.id for v in out_vars)
        user = {"initial_time": initial_time, "final_time": final_time,
                "time_step": time_step, "saveper": saveper}
        ctl = self._controls(overrides, K, user)
        grid, save, per, saved_times = self._time_axis(ctl, reporting)
        for v in self._lookups:
            K[f"lx_{v.id}"] = np.array(v.table[0])
            K.setdefault(f"ly_{v.id}", np.array(v.table[1]))
        for v in self._data_vars:
            if v.id not in overrides:
                t, vals, interp = self._data[v.id]
                arr = data_on_grid(t, vals, interp, grid)
                K[f"ts_{v.id}"] = arr[:, None] if v.dims else arr
        for vid, (t, vals) in series.items():
            var = self.info.vars[vid]
            if t.shape == grid.shape and not (t != grid).any():
                arr = vals.T.copy()  # given on the grid itself: what np.interp would return
            else:
                arr = np.stack([np.interp(grid, t, row) for row in vals], axis=1)  # (n_grid, S|1)
            sizes = tuple(len(self.info.range_elements(d)) for d in var.dims)
            if sizes:
                arr = arr.reshape(arr.shape + (1,) * len(sizes))
                arr = np.broadcast_to(arr, arr.shape[:2] + sizes)
            elif arr.shape[1] == 1:
                arr = arr[:, 0]
            if vals.shape[0] > 1:
                per_sample.add(f"ts_{vid}")
            K[f"ts_{vid}"] = arr
        for name in CONTROL_NAMES:
            K[f"ctl_{name}"] = ctl[name]
        K["t0"] = ctl["initial_time"]
        backend = backend if backend is not None else self.backend
        kn.check_backend(backend)
        buffers = None
        if backend != "numpy":
            buffers = self._run_kernel(backend, overrides, outputs, K, per_sample, grid, save,
                                       n, per, chunk_size, progress)
        scalar = n == 1 and not self._subscripted
        if scalar and buffers is None:
            try:
                buffers = self._run_scalar(overrides, outputs, K, grid, save, per)
            except (*_SCALAR_ERRORS, UnsupportedConstructError):
                buffers = None
        if buffers is None:
            buffers = self._run_vector(overrides, outputs, K, per_sample, grid, save, n,
                                       chunk_size, progress, out_vars, per)
        ds = result_dataset(self.info, self._meta, out_vars, buffers, saved_times,
                            {**ctl, "model": str(self.path)}, n)
        ds.attrs["reporting"] = reporting
        return ds

    @property
    def time_unit(self) -> str:
        """The model's time unit: the units of TIME STEP (or INITIAL TIME)."""
        for name in ("time_step", "initial_time"):
            if name in self.variables and self.variables[name].units:
                return self.variables[name].units.strip()
        return ""

    def is_rate(self, name: str) -> bool:
        """Whether calendar reporting averages ``name`` over each interval (a rate: units per
        time unit, not a stock) rather than recording it at the interval's end (a level)."""
        rates = self.__dict__.get("_rates")
        if rates is None:
            unit = self.time_unit
            rates = self._rates = {k: rep.is_rate(v.units, v.kind, unit)
                                   for k, v in self.variables.items()}
        hit = rates.get(name)
        return hit if hit is not None else rates[self.variable(name).py_name]

    def _run_kernel(self, backend, overrides, outputs, K, per_sample, grid, save, n, per,
                    chunk_size, progress):
        """Buffers from the compiled kernel, or None (with a notice) when it cannot run."""
        try:
            entry = kn.compiled(self.kernels, self.info, overrides, outputs, per_sample,
                                strict=backend == "kernel")
            if per is None:
                acc = np.full(len(grid), -1)
                end = np.where(save, np.cumsum(save) - 1, -1)
                counts, rate = np.ones(int(save.sum())), [False] * len(outputs)
            else:
                acc, end, counts = per.acc, per.end, per.counts
                rate = self._averaged(overrides, outputs, entry.src.dynamic)
            out = kn.run(self.kernels, entry, K, per_sample, grid, acc, end, counts, outputs,
                         rate, n, len(counts), chunk_size, progress, wait=backend == "kernel")
        except kn.KernelSkipped:
            return None
        except kn.KernelUnavailable as exc:
            if backend == "kernel":
                raise
            kn.notice(self.path.name, exc.reason)
            return None
        return list(out)

    def _run_scalar(self, overrides, outputs, K, grid, save, per=None):
        build, _, consts, _, _ = self._compiled(overrides, outputs, True)
        Ks = {}
        for k, v in K.items():
            if isinstance(v, np.ndarray):
                if k.startswith(("lx_", "ly_")):
                    v = tuple(float(x) for x in np.ravel(v))
                elif k.startswith("ts_"):
                    v = [float(x) for x in np.ravel(v)]
                else:
                    v = float(np.ravel(v)[0])
            Ks[k] = v
        Ks.update(consts)
        rows = []
        states, step = build(Ks, runtime.SCALAR, 1)
        n_grid = len(grid)
        if per is not None:
            return scalar_periods(step, states, grid, per, len(outputs),
                                        np.array(self._averaged(overrides, outputs), bool))
        for i in range(n_grid):
            out, nxt = step(i, float(grid[i]), *states, bool(save[i]))
            if out is not None:
                rows.append(out)
            states = nxt
        arr = np.array(rows, dtype=float).reshape(len(rows), len(outputs))
        return [arr[:, k][None, :] for k in range(len(outputs))]

    def _run_vector(self, overrides, outputs, K, per_sample, grid, save, n, chunk_size,
                    progress, out_vars, per=None):
        build, _, consts, _, _ = self._compiled(overrides, outputs, False)
        rates = self._averaged(overrides, outputs) if per is not None else None
        n_save = int(save.sum()) if per is None else len(per.starts)
        alloc = np.empty if per is None else np.zeros
        buffers = [alloc((n, n_save) + tuple(len(self.info.range_elements(d))
                                             for d in v.dims)) for v in out_vars]
        chunk = n if not chunk_size else max(1, int(chunk_size))
        starts = range(0, n, chunk)
        if progress:
            from tqdm import tqdm

            starts = tqdm(starts, desc="samples", unit="chunk")
        save_idx = np.cumsum(save) - 1
        if per is not None:
            rate_k = [k for k, r in enumerate(rates) if r]
            level_k = [k for k, r in enumerate(rates) if not r]
        for lo in starts:
            hi = min(n, lo + chunk)
            Kc = dict(K)
            for key in per_sample:
                v = K[key]
                Kc[key] = v[:, lo:hi] if key.startswith("ts_") else v[lo:hi]
            Kc.update(consts)
            with np.errstate(all="ignore"):
                states, step = build(Kc, runtime.VECTOR, hi - lo)
                if per is not None:
                    loop_periods(step, states, grid, per, buffers, lo, hi, rate_k, level_k)
                    continue
                for i in range(len(grid)):
                    out, nxt = step(i, float(grid[i]), *states, bool(save[i]))
                    if out is not None:
                        j = save_idx[i]
                        for buf, val in zip(buffers, out, strict=True):
                            buf[lo:hi, j] = val
                    states = nxt
        if per is not None:
            for k in rate_k:
                b = buffers[k]
                b /= per.counts.reshape((1, -1) + (1,) * (b.ndim - 2))
        return buffers
