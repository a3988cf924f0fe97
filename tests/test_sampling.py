"""Latin hypercube, Sobol, Saltelli and Morris designs mapped through the distributions."""

import numpy as np
import pytest
from scipy import stats

from sim.analysis.ensembles import sampling
from sim.analysis.ensembles.uncertainty_spec import parse_uncertainty
from sim.errors import UncertaintyError

SPEC = parse_uncertainty({"assumptions": {
    "a": {"distribution": "uniform", "min": 2, "max": 4, "source": "s", "confidence": "A"},
    "b": {"distribution": "truncnormal", "mean": 0, "sd": 1, "min": -2, "max": 2,
          "source": "s", "confidence": "B"},
    "c": {"distribution": "lognormal", "median": 1, "sigma": 0.4, "min": 0.1, "max": 10,
          "source": "s", "confidence": "C"},
}})


def test_lhs_is_stratified_seeded_and_mapped():
    d = sampling.latin_hypercube(SPEC, 50, seed=3)
    assert d.values.shape == (50, 3) and d.names == ["a", "b", "c"]
    # one point in each of the 50 strata per column
    for j in range(3):
        assert sorted(np.floor(d.unit[:, j] * 50).astype(int)) == list(range(50))
    np.testing.assert_allclose(d.values[:, 0], 2 + 2 * d.unit[:, 0])
    np.testing.assert_allclose(d.values[:, 1], stats.truncnorm(-2, 2).ppf(d.unit[:, 1]))
    again = sampling.latin_hypercube(SPEC, 50, seed=3)
    np.testing.assert_array_equal(d.values, again.values)
    other = sampling.latin_hypercube(SPEC, 50, seed=4)
    assert not np.allclose(d.values, other.values)


def test_distribution_moments_roughly_right():
    d = sampling.latin_hypercube(SPEC, 4000, seed=1)
    assert np.median(d.values[:, 2]) == pytest.approx(1.0, rel=0.03)
    assert d.values[:, 1].mean() == pytest.approx(0.0, abs=0.03)
    assert d.values[:, 0].min() >= 2 and d.values[:, 0].max() <= 4


def test_sobol_needs_power_of_two():
    d = sampling.sobol_sequence(SPEC, 64, seed=0)
    assert d.values.shape == (64, 3)
    with pytest.raises(UncertaintyError, match="power of two .*64 or 128"):
        sampling.sobol_sequence(SPEC, 100, seed=0)
    with pytest.raises(UncertaintyError, match="power of two"):
        sampling.saltelli(SPEC, 1000, seed=0)


def test_saltelli_and_morris_sizes_and_overrides():
    s1 = sampling.saltelli(SPEC, 16, seed=2)
    s2 = sampling.saltelli(SPEC, 16, second_order=True, seed=2)
    assert s1.n == 16 * (3 + 2) and s2.n == 16 * (2 * 3 + 2)
    m = sampling.morris(SPEC, 10, seed=2)
    assert m.n == 10 * 4
    ov = m.overrides(slice(0, 5))
    assert list(ov) == ["a", "b", "c"] and ov["c"].shape == (5,)
    assert m.frame().shape == (40, 3)
    with pytest.raises(UncertaintyError, match="even integer"):
        sampling.morris(SPEC, 10, num_levels=3)


@pytest.mark.parametrize("second_order", [False, True])
def test_saltelli_rows_are_salibs(second_order):
    """The design is SALib.sample.sobol's, number for number, mapped through the marginals."""
    from SALib.sample import sobol as salib_sobol

    d = sampling.saltelli(SPEC, 32, second_order=second_order, seed=7)
    ref = salib_sobol.sample(sampling.unit_problem(SPEC.names), 32,
                             calc_second_order=second_order, scramble=True, seed=7)
    np.testing.assert_array_equal(d.unit, np.clip(ref, 0, 1))
    np.testing.assert_array_equal(d.values, SPEC.ppf(d.unit))


def test_problem_dicts_and_dispatch():
    p = sampling.salib_problem(SPEC)
    assert p["names"] == ["a", "b", "c"] and p["dists"] == ["unif", "truncnorm", "lognorm"]
    assert sampling.unit_problem(["x"])["bounds"] == [[0.0, 1.0]]
    with pytest.raises(UncertaintyError, match="allowed: lhs"):
        sampling.sample(SPEC, 8, method="grid")
    with pytest.raises(UncertaintyError, match="positive integer"):
        sampling.sample(SPEC, 0)
