"""Sensitivity methods found through the registry: a new method is one registered class."""

import numpy as np
import pandas as pd
import pytest

from sim.analysis import sensitivity
from sim.analysis.ensembles import sampling
from sim.analysis.ensembles.uncertainty_spec import parse_uncertainty
from sim.analysis.sensitivity import REGISTRY, Indices, Method, register
from sim.errors import UncertaintyError

SPEC = parse_uncertainty({"assumptions": {
    k: {"distribution": "uniform", "min": 0.0, "max": 1.0, "source": "t", "confidence": "C"}
    for k in ("a", "b")}})


def test_registry_holds_one_module_per_method():
    assert {"morris", "sobol", "shapley", "given_data"} <= set(REGISTRY)
    assert sensitivity.cli_methods()[:3] == ("morris", "sobol", "shapley")
    assert sensitivity.METHODS == ("morris", "sobol")
    for name, m in REGISTRY.items():
        assert m.name == name and m.kind in sensitivity.KINDS
        assert type(m).__module__ == f"sim.analysis.sensitivity.{name}"


def test_the_command_offers_the_registry():
    from sim.cli.main import build_parser

    args = build_parser().parse_args(["sensitivity", "plan", "--method", "sobol"])
    assert args.method == "sobol"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["sensitivity", "plan", "--method", "fast"])


@pytest.fixture
def toy_method():
    """A design method added the way a newcomer would: one class, registered."""

    @register
    class Spread(Method):
        name = "spread"
        design_method = "lhs"
        main_index = "spread"
        default_samples = 50

        def runs_per_sample(self, dim, *, second_order=False):
            return 1

        def design(self, spec, samples, *, seed, second_order=False):
            return sampling.latin_hypercube(spec, samples, seed=seed)

        def analyse(self, design, y, *, num_resamples=0, conf_level=0.95, seed=None):
            y = self.check(design, y)
            corr = [abs(np.corrcoef(design.values[:, i], y)[0, 1])
                    for i in range(len(design.names))]
            return Indices(pd.DataFrame({"spread": corr},
                                        index=pd.Index(design.names, name="parameter")), None)

    yield REGISTRY["spread"]
    del REGISTRY["spread"]


def test_a_registered_method_runs_through_the_shared_functions(toy_method):
    design = toy_method.design(SPEC, 200, seed=1)
    x = design.values
    outputs = pd.DataFrame({"y": 3 * x[:, 0] + 0.1 * x[:, 1]})
    long, second = sensitivity.analyse_outputs(design, outputs, method="spread")
    assert second is None
    assert long.loc[("y", "a"), "spread"] > long.loc[("y", "b"), "spread"]
    assert "spread" in sensitivity.cli_methods()
    with pytest.raises(UncertaintyError, match="registered twice"):
        register(type(toy_method))


def test_unknown_method_names_the_allowed_ones():
    with pytest.raises(UncertaintyError, match="allowed: morris, sobol"):
        sensitivity.get_method("fast", ("design",))
