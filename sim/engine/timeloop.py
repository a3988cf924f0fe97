"""The time axis of a batch run: PySD's integration grid and saved times, data series (read from
the model's data files) on the grid, the calendar-reporting loops (rates averaged over each
reporting interval, levels read at its end) and the fast construction of the (sample, time)
Dataset of a run's results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from sim.errors import ModelError
from sim.model.equations.mdl import inside_folder


def loop_periods(step, states, grid, per, buffers, lo, hi, rate_k, level_k):
    """The time loop of calendar reporting for samples ``lo:hi``: rates summed over their
    interval and written to its row at its end (divided by the step count afterwards), levels
    written at the interval's end; steps no row needs return nothing."""
    acc, end, need = per.acc.tolist(), per.end.tolist(), per.touched.tolist()
    # contiguous running sums (a column of the output buffer is strided: slow to add into)
    sums = [(np.zeros((hi - lo,) + buffers[k].shape[2:]), k) for k in rate_k]
    for i in range(len(grid)):
        out, states = step(i, float(grid[i]), *states, need[i])
        if out is None:
            continue
        a, e = acc[i], end[i]
        if e >= 0:
            for total, k in sums:
                buffers[k][lo:hi, e] = total
                total.fill(0.0)
            for k in level_k:
                buffers[k][lo:hi, e] = out[k]
        if a >= 0:
            for total, k in sums:
                total += out[k]


def load_data(info, path: Path, data_files) -> dict:
    """The model's data variables from ``data_files`` (resolved next to the model ``path``):
    var id -> (times, values (n_t, *dims), interpolation)."""
    out = {}
    data_vars = [v for v in info.vars.values() if v.kind == "data"]
    if not data_vars:
        return out
    if data_files is None:
        raise ModelError(f"model '{path}' has data variables "
                         f"({', '.join(v.vensim_name for v in data_vars)}); pass data_files")
    from pysd.py_backend.data import TabData

    files = [data_files] if isinstance(data_files, (str, Path)) else list(data_files)
    files = [inside_folder(path, f) for f in files]   # never a file outside the model's folder
    for f in files:
        if not f.is_file():
            raise ModelError(f"data file '{f}' for model '{path}' does not exist")
    for v in data_vars:
        coords = {d: info.range_elements(d) for d in v.dims}
        td = TabData(v.vensim_name, v.py_name, coords, v.data_keyword or "interpolate")
        try:
            td.load_data([str(f) for f in files])
        except Exception as exc:
            raise ModelError(f"data for '{v.vensim_name}' not found in {files}: {exc}") from exc
        da = td.data
        arr = np.asarray(da.transpose("time", *v.dims).values, dtype=float)
        out[v.id] = (np.asarray(da["time"].values, dtype=float), arr, td.interp)
    return out


def result_dataset(info, meta: dict, out_vars, buffers, times, attrs: dict, n: int
                   ) -> xr.Dataset:
    """The Dataset of a run: one variable per returned column (``meta``: var id -> its dims
    and attrs, copied into the result), dims ``("sample", "time", *subscripts)``, time labels
    rounded to the integration grid's precision, ``attrs`` (controls, model)."""
    dt = attrs["time_step"]
    rtimes = np.round(times, -int(np.log10(dt * 1e-5)))
    data: dict = {}
    coords: dict = {}
    plain = True  # no subscripts: dims ("sample", "time") only
    for v, buf in zip(out_vars, buffers, strict=True):
        if buf.shape[0] != n:
            buf = np.broadcast_to(buf, (n,) + buf.shape[1:]).copy()
        if v.dims:
            plain = False
            for d in v.dims:
                coords.setdefault(d, info.range_elements(d))
        dims, var_attrs = meta[v.id]
        data[v.py_name] = variable(dims, buf, dict(var_attrs))  # buf: float, of that shape
    coords.update({"sample": np.arange(n), "time": rtimes})
    if plain:
        fast = direct_dataset(data, coords["sample"], rtimes, attrs)
        if fast is not None:
            return fast
    ds = xr.Dataset(data, coords=coords)
    ds.attrs.update(attrs)
    return ds


def direct_dataset(data: dict, sample, time, attrs) -> xr.Dataset | None:
    """A (sample, time) Dataset built without xarray's merge and alignment, which dominate a
    single run's cost (about 6 ms for 300 variables). Uses xarray's internal constructor; if
    that is unavailable in the installed xarray, returns None and the caller takes the public
    route. tests/test_engine_batch.py checks both give identical Datasets."""
    try:
        coords = {"sample": xr.Variable("sample", sample), "time": xr.Variable("time", time)}
        indexes = {k: _index(k, v.values) for k, v in coords.items()}
        variables = {**data, **coords}
        return xr.Dataset._construct_direct(
            variables, set(coords), {"sample": len(sample), "time": len(time)}, dict(attrs),
            indexes)
    except (AttributeError, TypeError, ImportError):
        return None


_INDEXES: dict = {}


def _index(dim: str, values: np.ndarray):
    """The PandasIndex of a coordinate (immutable, so shared by the results that have the same
    values: a single run would otherwise spend more on its two indexes than on its numbers)."""
    from xarray.core.indexes import PandasIndex

    key = (dim, values.dtype.str, values.tobytes())
    hit = _INDEXES.get(key)
    if hit is None:
        if len(_INDEXES) > 64:
            _INDEXES.clear()
        hit = _INDEXES[key] = PandasIndex(pd.Index(values.copy(), name=dim), dim)
    return hit


def variable(dims: tuple, data: np.ndarray, attrs: dict) -> xr.Variable:
    """``xr.Variable(dims, data, attrs)`` for a float ndarray whose shape matches ``dims``,
    made without the constructor's checks (about 5 us each, most of a single run's cost with
    300 variables); if xarray's layout differs, the public constructor."""
    try:
        v = object.__new__(xr.Variable)
        v._dims, v._data, v._attrs, v._encoding = dims, data, attrs, None
        return v
    except AttributeError:
        return xr.Variable(dims, data, attrs, fastpath=True)


_SAMPLE_TIME, _TIME = ("sample", "time"), ("time",)


def one_sample(ds: xr.Dataset, i: int = 0) -> xr.Dataset:
    """``ds.isel(sample=i, drop=True)`` for a (sample, time) Dataset, built directly (xarray's
    isel costs about 10 us per variable); any other layout takes the public route.
    tests/test_kernel.py checks both give identical Datasets."""
    try:
        variables = {}
        new, cls = object.__new__, xr.Variable
        frozen = ds.variables
        for name, var in getattr(frozen, "mapping", frozen).items():  # the dict it wraps
            dims = var.dims
            if dims == _SAMPLE_TIME and type(var._data) is np.ndarray:
                # variable(_TIME, ...) inlined (300 of them), reading the slots it writes
                v = new(cls)
                v._dims, v._data, v._encoding = _TIME, var._data[i], None
                v._attrs = dict(var._attrs) if var._attrs else {}
                variables[name] = v
            elif name == "sample":
                continue
            elif dims in (_TIME, ()):
                variables[name] = var
            else:
                return ds.isel(sample=i, drop=True)
        return xr.Dataset._construct_direct(
            variables, set(ds.variables).difference(ds.data_vars, ("sample",)),
            {"time": ds.sizes["time"]},
            dict(ds.attrs), {"time": ds.xindexes["time"]})
    except (AttributeError, TypeError, KeyError):
        return ds.isel(sample=i, drop=True)


def time_grid(ctl):
    """PySD's integration times and which of them are saved: (grid (n,), save mask (n,))."""
    t0, tf, dt, sp = (ctl["initial_time"], ctl["final_time"], ctl["time_step"], ctl["saveper"])
    if dt <= 0:
        raise ModelError(f"TIME STEP must be positive, got {dt}")
    if sp <= 0:
        raise ModelError(f"SAVEPER must be positive, got {sp}")
    prec = dt * 1e-5
    times = []
    t = t0
    while t + prec < tf:
        times.append(t)
        t = t + dt
    times.append(t)
    grid = np.array(times)
    delay = grid - t0
    save = (np.mod(delay, sp) < prec) | (np.mod(-delay, sp) < prec)
    return grid, save


def data_on_grid(times, values, interp, grid):
    """PySD Data.__call__ on every grid time. values (n_t, *dims) -> (n_grid, *dims)."""
    out = np.empty((len(grid),) + values.shape[1:])
    for i, t in enumerate(grid):
        hit = np.nonzero(times == t)[0]
        if hit.size:
            out[i] = values[hit[0]]
        elif interp == "raw":
            out[i] = np.nan
        elif t > times[-1]:
            out[i] = values[-1]
        elif t < times[0]:
            out[i] = values[0]
        elif interp == "look_forward":
            out[i] = values[np.searchsorted(times, t, side="left")]
        elif interp == "hold_backward":
            out[i] = values[np.searchsorted(times, t, side="right") - 1]
        else:
            j = np.searchsorted(times, t)
            w = (t - times[j - 1]) / (times[j] - times[j - 1])
            out[i] = values[j - 1] + w * (values[j] - values[j - 1])
    return out


def scalar_periods(step, states, grid, per, n_out, rate):
    """Calendar reporting of one scalar run: the steps of one interval at a time are kept
    (e.g. 16 x columns floats), averaged for rates at the interval's end, where the levels
    are read."""
    rows = np.empty((len(per.starts), n_out))
    acc, end = per.acc.tolist(), per.end.tolist()
    block: list = []
    for i in range(len(grid)):
        out, states = step(i, float(grid[i]), *states, True)
        e = end[i]
        if e >= 0:
            means = np.array(block, dtype=float).reshape(len(block), n_out).mean(axis=0)
            rows[e] = np.where(rate, means, np.asarray(out, dtype=float))
            block = []
        if acc[i] >= 0:
            block.append(out)
    return [rows[:, k][None, :] for k in range(n_out)]
