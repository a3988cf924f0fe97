"""Validation of the uncertainty specification (scenarios/uncertainty.yaml format)."""

from types import SimpleNamespace

import numpy as np
import pytest

from sim.analysis.ensembles.uncertainty_spec import load_uncertainty, parse_uncertainty
from sim.errors import UncertaintyError

PARAMS = SimpleNamespace(assumptions={
    "crowding_in": SimpleNamespace(min=-0.5, max=1.5),
    "exit_multiple": SimpleNamespace(min=0.0, max=10.0),
    "accreditation_delay": SimpleNamespace(min=1.0, max=6.0),
})


def doc(**over):
    entries = {
        "crowding_in": {"distribution": "triangular", "min": -0.2, "mode": 0.3, "max": 0.8,
                        "source": "literature", "confidence": "B"},
        "exit_multiple": {"distribution": "lognormal", "median": 1.5, "sigma": 0.5, "min": 0.2,
                          "max": 6.0, "source": "VC studies", "confidence": "low"},
        "accreditation_delay": {"distribution": "truncnormal", "mean": 3, "sd": 1, "min": 1,
                                "max": 5, "source": "assumption", "confidence": "C"},
    }
    for key, value in over.items():
        name, _, field = key.partition("__")
        if value is None:
            entries[name].pop(field)
        else:
            entries[name][field] = value
    return {"assumptions": entries}


def test_source_left_out_cites_the_mdl_comment_of_the_declared_variable():
    params = SimpleNamespace(assumptions={
        **PARAMS.assumptions,
        "crowding_in": SimpleNamespace(min=-0.5, max=1.5, variable="crowding in coefficient")})
    spec = parse_uncertainty(doc(crowding_in__source=None), path="u.yaml", parameters=params)
    assert spec.items["crowding_in"].source == "the .mdl comment of 'crowding in coefficient'"
    assert spec.items["exit_multiple"].source == "VC studies"


def test_valid_spec_parses_with_grades_normalised():
    spec = parse_uncertainty(doc(), path="u.yaml", parameters=PARAMS)
    assert spec.names == ["crowding_in", "exit_multiple", "accreditation_delay"]
    assert spec.items["exit_multiple"].confidence == "C"
    assert spec.items["crowding_in"].distribution.median() == pytest.approx(0.3, abs=0.02)
    np.testing.assert_allclose(spec.bounds[1], [0.2, 6.0])


@pytest.mark.parametrize("over, words", [
    ({"crowding_in__distribution": "triangle"}, ["crowding_in.distribution", "triangular"]),
    ({"crowding_in__mode": 0.9}, ["crowding_in.mode", "0.9", "within [-0.2, 0.8]"]),
    ({"crowding_in__mode": None}, ["lacks 'mode'"]),
    ({"crowding_in__mean": 1.0}, ["crowding_in.mean", "allowed"]),
    ({"crowding_in__min": 0.9}, ["min 0.9 >= max 0.8"]),
    ({"crowding_in__min": "low"}, ["crowding_in.min", "'low'", "finite number"]),
    ({"accreditation_delay__sd": 0}, ["accreditation_delay.sd", "positive"]),
    ({"exit_multiple__median": -1}, ["exit_multiple.median", "> 0"]),
    ({"exit_multiple__confidence": "D"}, ["confidence", "'D'", "A (high)"]),
    ({"exit_multiple__source": ""}, ["exit_multiple.source", "non-empty"]),
    ({"exit_multiple__source": None}, ["exit_multiple.source", "None", ".mdl comment"]),
    ({"crowding_in__max": 2.0}, ["crowding_in", "[-0.2, 2.0]", "within [-0.5, 1.5]"]),
])
def test_bad_entries_name_file_key_value_and_allowed(over, words):
    with pytest.raises(UncertaintyError) as err:
        parse_uncertainty(doc(**over), path="u.yaml", parameters=PARAMS)
    msg = str(err.value)
    assert msg.startswith("u.yaml")
    for w in words:
        assert w in msg


def test_unknown_assumption_gets_a_suggestion():
    d = doc()
    d["assumptions"]["crowding_inn"] = d["assumptions"].pop("crowding_in")
    with pytest.raises(UncertaintyError, match="did you mean 'crowding_in'"):
        parse_uncertainty(d, path="u.yaml", parameters=PARAMS)


def test_without_parameters_unknown_ids_pass_and_bounds_are_own():
    d = doc(crowding_in__max=2.0)
    spec = parse_uncertainty(d, parameters=None)
    assert spec.bounds[0, 1] == 2.0


def test_load_reports_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(UncertaintyError, match="file not found"):
        load_uncertainty(tmp_path / "nope.yaml", parameters=None)
    bad = tmp_path / "u.yaml"
    bad.write_text("assumptions: [1, 2\n")
    with pytest.raises(UncertaintyError, match="malformed YAML"):
        load_uncertainty(bad, parameters=None)
    bad.write_text("assumption: {}\n")
    with pytest.raises(UncertaintyError, match="key 'assumptions'"):
        load_uncertainty(bad, parameters=None)


def test_ppf_stays_in_bounds_and_is_monotone():
    spec = parse_uncertainty(doc(), parameters=PARAMS)
    u = np.linspace(0, 1, 101)
    x = spec.ppf(np.column_stack([u, u, u]))
    assert np.all(np.diff(x, axis=0) >= 0)
    assert np.all(x >= spec.bounds[:, 0]) and np.all(x <= spec.bounds[:, 1])
    np.testing.assert_allclose(x[0], spec.bounds[:, 0])
    np.testing.assert_allclose(x[-1], spec.bounds[:, 1])
    with pytest.raises(UncertaintyError, match=r"expected \(N, 3\)"):
        spec.ppf(np.zeros((4, 2)))


def test_project_file_covers_every_declared_assumption():
    from sim.model.declarations.parameters import load_parameters

    params = load_parameters()
    spec = load_uncertainty()  # scenarios/uncertainty.yaml, validated against parameters.yaml
    assert spec.names == list(params.assumptions)
    for a in spec.items.values():
        assert a.confidence in ("A", "B", "C") and a.source
        assert spec.items[a.id].distribution.lower < spec.items[a.id].distribution.upper


def test_no_distribution_is_centred_on_a_fit():
    """Priors are the declared shapes: the old "calibrated" distribution (centred on a fit,
    which used the data twice) is refused; the closed-form quantiles match SciPy's."""
    from sim.analysis.ensembles.uncertainty_spec import Distribution, parse_uncertainty

    doc = {"assumptions": {"a": {"distribution": "calibrated", "min": 0.0, "max": 2.0,
                                 "source": "fit", "confidence": "B"}}}
    with pytest.raises(UncertaintyError, match="distribution is 'calibrated'; allowed"):
        parse_uncertainty(doc, path="u.yaml")
    u = np.linspace(0, 1, 21)
    for d in (Distribution("triangular", 0, 2, {"mode": 0.5}), Distribution("uniform", 1, 3),
              Distribution("triangular", 0, 2, {"mode": 2.0})):
        assert np.allclose(d.ppf(u), np.clip(d.frozen().ppf(u), d.lower, d.upper))


def test_lognormal_without_scipy_stats_gives_scipys_bits():
    """The lognormal quantiles computed without importing scipy.stats are scipy's, bit for bit
    (every lognormal of the canonical spec, strided and 0-d quantiles, the bounds 0 and 1)."""
    from scipy import stats

    spec = load_uncertainty()
    dists = [a.distribution for a in spec.items.values() if a.distribution.kind == "lognormal"]
    assert dists
    u = np.random.default_rng(5).random((500, 3))
    u[:4, 0] = [0.0, 1.0, 1e-12, 1 - 1e-12]
    for d in dists:
        ref = stats.lognorm(s=d.params["sigma"], scale=d.params["median"])
        f_lo, f_hi = float(ref.cdf(d.lower)), float(ref.cdf(d.upper))
        assert d.cdf_bounds == (f_lo, f_hi)
        for q in (u[:, 0], u[:, 1], u, np.float64(0.37)):
            want = np.clip(ref.ppf(f_lo + np.clip(q, 0, 1) * (f_hi - f_lo)), d.lower, d.upper)
            got = d.ppf(q)
            assert np.shape(got) == np.shape(want)
            assert np.asarray(got).tobytes() == np.asarray(want).tobytes()
