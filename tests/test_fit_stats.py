"""Fit statistics against hand-computed values (Sterman 2000, ch. 21)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.analysis.estimation.fit_stats import fit_stats, mape, r_squared, rmspe, theil


def test_mape_by_hand():
    # |110-100|/100 = 0.1, |180-200|/200 = 0.1, |50-50|/50 = 0  -> mean 0.0667 -> 6.667 %
    assert mape([100, 200, 50], [110, 180, 50]) == pytest.approx(20 / 3)
    assert rmspe([100, 200], [110, 180]) == pytest.approx(10.0)


def test_r_squared_is_squared_correlation():
    a = np.array([1.0, 2.0, 3.0, 4.0])
    assert r_squared(a, 3 * a + 7) == pytest.approx(1.0)    # perfect linear: r = 1
    assert r_squared(a, -a) == pytest.approx(1.0)           # r = -1, r² = 1
    # a = 1,2,3 ; s = 1,3,2: r = 0.5 (cov 0.5/ (var 2/3)) -> r² = 0.25
    assert r_squared([1, 2, 3], [1, 3, 2]) == pytest.approx(0.25)
    assert np.isnan(r_squared([5.0], [4.0]))
    assert np.isnan(r_squared([1, 2, 3], [2, 2, 2]))


def test_theil_pure_bias():
    a = np.array([1.0, 2.0, 3.0])
    mse, um, us, uc = theil(a, a + 2)
    assert (mse, um, us, uc) == pytest.approx((4.0, 1.0, 0.0, 0.0))


def test_theil_pure_unequal_variation():
    a = np.array([1.0, 2.0, 3.0])       # mean 2, sd sqrt(2/3)
    s = 2 + 2 * (a - 2)                  # same mean, double spread, r = 1
    mse, um, us, uc = theil(a, s)
    assert mse == pytest.approx(2 / 3)
    assert (um, us, uc) == pytest.approx((0.0, 1.0, 0.0), abs=1e-12)


def test_theil_known_mixed_case():
    # a = 1,2,3 ; s = 2,4,3: errors 1,2,0 -> MSE 5/3; means 2 and 3 -> bias 1 -> U^M = 0.6
    # sd_a = sqrt(2/3), sd_s = sqrt(2/3): U^S = 0; r = 0.5 -> U^C = 2*0.5*(2/3)/(5/3) = 0.4
    mse, um, us, uc = theil([1, 2, 3], [2, 4, 3])
    assert mse == pytest.approx(5 / 3)
    assert (um, us, uc) == pytest.approx((0.6, 0.0, 0.4))


def test_theil_components_sum_to_one():
    rng = np.random.default_rng(7)
    for _ in range(20):
        a = rng.lognormal(size=8)
        s = a * rng.lognormal(0.1, 0.3, size=8) + rng.normal(0, 0.2)
        mse, um, us, uc = theil(a, s)
        assert mse == pytest.approx(np.mean((s - a) ** 2))
        assert um + us + uc == pytest.approx(1.0)
        assert min(um, us, uc) >= -1e-12


def test_one_point_is_all_bias_and_perfect_fit_has_no_fractions():
    st = fit_stats([100.0], [120.0])
    assert (st.n, st.mape, st.mse, st.um, st.us, st.uc) == pytest.approx(
        (1, 20.0, 400.0, 1.0, 0.0, 0.0))
    assert np.isnan(st.r2)
    mse, um, _, _ = theil([1, 2], [1, 2])
    assert mse == 0 and np.isnan(um)


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="must match"):
        mape([1, 2], [1, 2, 3])
