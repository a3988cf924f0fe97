"""The vectorised estimators give SALib's numbers: Sobol S1/ST (and their confidence
half-widths) exactly as ``SALib.analyze.sobol`` with the same seed, S2 to rounding, per-year ST
as the per-year analyses gave them, RBD-FAST as ``SALib.analyze.rbd_fast``."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from sim.analysis.sensitivity import per_year_indices, sobol_indices
from sim.analysis.sensitivity.given_data import RbdFast, given_data_first_order
from sim.analysis.sensitivity.saltelli_estimators import total_order_points

D = 6
NAMES = [f"x{i}" for i in range(D)]
PROBLEM = {"num_vars": D, "names": NAMES, "bounds": [[0.0, 1.0]] * D}


def design(n: int, second_order: bool, seed: int = 3):
    from SALib.sample import sobol as sample

    from sim.analysis.ensembles.sampling import Design

    unit = sample.sample(PROBLEM, n, calc_second_order=second_order, scramble=True, seed=seed)
    return Design(unit, unit, list(NAMES), "saltelli", seed, n, second_order=second_order)


def model(x: np.ndarray, k: float = 1.0) -> np.ndarray:
    return (np.sin(3 * x[:, 0]) + k * x[:, 1] ** 2 * x[:, 2] + 0.4 * x[:, 3] * x[:, 4]
            + np.exp(x[:, 5]))


def salib(y: np.ndarray, second_order: bool, seed: int, resamples: int = 50):
    from SALib.analyze import sobol

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sobol.analyze(PROBLEM, y, calc_second_order=second_order,
                             num_resamples=resamples, seed=seed)


@pytest.mark.parametrize("second_order", [False, True])
def test_sobol_same_numbers_as_salib(second_order):
    d = design(32, second_order)
    y = model(d.values)
    ref = salib(y, second_order, seed=11)
    res = sobol_indices(d, y, num_resamples=50, seed=11)
    for key in ("S1", "S1_conf", "ST", "ST_conf"):
        np.testing.assert_allclose(res.indices[key].to_numpy(), ref[key], rtol=0, atol=1e-12)
    if second_order:
        iu = np.triu_indices(D, k=1)
        np.testing.assert_allclose(res.second_order["S2"].to_numpy(), ref["S2"][iu],
                                   rtol=0, atol=1e-12)
        np.testing.assert_allclose(res.second_order["S2_conf"].to_numpy(), ref["S2_conf"][iu],
                                   rtol=0, atol=1e-12)
    else:
        assert res.second_order is None


def test_first_order_rows_of_a_second_order_design_give_the_same_s1_st():
    """Per-year indices skip S2 on a second-order design: S1/ST are those of the full run."""
    from sim.analysis.sensitivity import REGISTRY

    d = design(32, True)
    y = model(d.values)
    full = REGISTRY["sobol"].analyse(d, y, num_resamples=50, seed=5)
    lean = REGISTRY["sobol"].analyse(d, y, num_resamples=50, seed=5, second_order=False)
    assert lean.second_order is None
    pd.testing.assert_frame_equal(lean.indices, full.indices, check_exact=True)


@pytest.mark.parametrize("second_order", [False, True])
def test_per_year_st_equals_salib_year_by_year(second_order):
    d = design(16, second_order)
    years = [2024, 2025, 2026]
    cols = np.stack([model(d.values, k) for k in (0.5, 1.0, 2.0)], axis=1)
    cols[:, 2] = 7.0   # a constant year: all zero
    da = xr.DataArray(cols, dims=("sample", "time"), coords={"time": [float(y) for y in years]})
    frame = per_year_indices(d, da, years, method="sobol", seed=2)
    assert list(frame.index) == years and list(frame.columns) == NAMES
    for j, year in enumerate(years[:2]):
        ref = salib(cols[:, j], second_order, seed=2)
        np.testing.assert_allclose(frame.loc[year].to_numpy(), ref["ST"], rtol=0, atol=1e-12)
    assert (frame.loc[2026] == 0).all()
    np.testing.assert_allclose(total_order_points(cols[:, :2].T, D,
                                                  second_order_design=second_order),
                               frame.loc[years[:2]].to_numpy(), rtol=0, atol=1e-12)


def test_rbd_fast_same_numbers_as_salib():
    from SALib.analyze import rbd_fast

    rng = np.random.default_rng(0)
    x = rng.uniform(size=(300, 4))
    x[:, 1] = np.round(x[:, 1], 1)            # ties, as in a resampled sample
    outputs = pd.DataFrame({"y": np.sin(3 * x[:, 0]) + x[:, 1] * x[:, 2],
                            "z": x[:, 3] ** 2 + 0.1 * x[:, 0]})
    problem = {"num_vars": 4, "names": list("abcd"), "bounds": [[0.0, 1.0]] * 4}
    ours = given_data_first_order(SimpleNamespace(values=x, names=list("abcd")), outputs,
                                  num_resamples=40, seed=9)
    for col in outputs:
        ref = rbd_fast.analyze(problem, x, outputs[col].to_numpy(), num_resamples=40, seed=9)
        np.testing.assert_allclose(ours.loc[col, "S1"].to_numpy(), ref["S1"], rtol=0,
                                   atol=1e-12)
        np.testing.assert_allclose(ours.loc[col, "S1_conf"].to_numpy(), ref["S1_conf"],
                                   rtol=0, atol=1e-12)
    s1, conf = RbdFast(x, num_resamples=40, seed=9).first_order(outputs["y"].to_numpy())
    assert s1.shape == conf.shape == (4,)
