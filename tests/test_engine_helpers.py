"""Helpers for the engine tests: write a tiny Vensim model and compare with PySD."""

from __future__ import annotations

import warnings

import numpy as np

CONTROL = """
INITIAL TIME = 0
~ Month
~~|
FINAL TIME = {final}
~ Month
~~|
TIME STEP = {dt}
~ Month
~~|
SAVEPER = {saveper}
~ Month
~~|
"""


def write_model(tmp_path, body: str, name="m.mdl", final=10, dt=0.5, saveper=1) -> str:
    """Write ``body`` (equations) plus control settings to ``tmp_path/name``."""
    text = "{UTF-8}\n" + body.strip() + "\n" + CONTROL.format(final=final, dt=dt,
                                                             saveper=saveper)
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def assert_matches_pysd(path, ds, rtol=1e-9):
    """Every column PySD returns equals the engine's value (sample 0) to ``rtol``."""
    from sim.model.equations.mdl import load_pysd_model

    with warnings.catch_warnings():  # PySD itself warns (pandas deprecations, extrapolation)
        warnings.simplefilter("ignore")
        df = load_pysd_model(path).run()
    assert np.allclose(ds["time"].values, df.index.values)
    checked = 0
    for col in df.columns:
        name, _, subs = col.partition("[")
        var = next(v for v in ds.data_vars.values() if v.attrs["vensim_name"] == name)
        da = var.isel(sample=0)
        if subs:
            elems = [s.strip() for s in subs.rstrip("]").split(",")]
            da = da.isel({d: list(da[d].values).index(e)
                          for d, e in zip(da.dims[1:], elems, strict=True)})
        np.testing.assert_allclose(da.values, df[col].values.astype(float), rtol=rtol,
                                   atol=1e-12, err_msg=col)
        checked += 1
    assert checked > 0
