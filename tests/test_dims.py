"""Several scenarios as one Dataset with a named ``scenario`` dim (sim.dims), and the analysis
that reduces over it: target tables, P(met), compare tables (no model: inline Datasets)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from sim.analysis.ensembles.uncertainty import compare_scenarios, target_probabilities
from sim.analysis.outcomes.compare import compare_table
from sim.analysis.outcomes.targets import met_array, target_table
from sim.dims import SCENARIO_DIMS, scenario_name, scenario_runs, stack_scenarios
from sim.errors import PlanSimError

YEARS = np.arange(2023.0, 2031.0)


def target(ind, value):
    return SimpleNamespace(indicator=ind, target=value, comparison=">", year=2028,
                           met=lambda v: v > value)


ITEMS = [target("a", 100.0), target("b", 10.0)]


class Targets(SimpleNamespace):
    def __iter__(self):
        return iter(self.items)


TG = Targets(year=2028, items=ITEMS, indicators=["a", "b"])


def run(sid, scale, n=1, seed=0):
    rng = np.random.default_rng(seed)
    noise = 0.2 * rng.standard_normal((n, 1)) if n > 1 else 0.0
    growth = (YEARS - 2022.0)[None, :] * scale * (1 + noise)
    ds = xr.Dataset({"a": (("sample", "time"), 20.0 * growth),
                     "b": (("sample", "time"), 2.0 * growth)},
                    coords={"sample": np.arange(n), "time": YEARS})
    ds.attrs.update(scenario=sid, name_zh=f"{sid}情景", name_en=f"{sid} scenario")
    return ds


def test_stack_and_split_keep_ids_names_and_values():
    runs = [run("baseline", 0.8), run("plan", 1.0)]
    ds = stack_scenarios(runs)
    assert ds["a"].dims == SCENARIO_DIMS
    assert list(ds["scenario"].values) == ["baseline", "plan"]
    assert scenario_name(ds, "plan", "zh") == "plan情景"
    back = scenario_runs(ds)
    assert list(back) == ["baseline", "plan"]
    xr.testing.assert_identical(back["plan"]["a"], runs[1]["a"])
    assert back["plan"].attrs["name_en"] == "plan scenario"
    with pytest.raises(PlanSimError, match="repeat"):
        stack_scenarios([run("plan", 1.0), run("plan", 2.0)])
    with pytest.raises(PlanSimError, match="share their samples"):
        stack_scenarios([run("plan", 1.0, n=2), run("other", 1.0, n=3)])


def test_target_table_per_scenario_is_the_single_run_table():
    runs = {"baseline": run("baseline", 0.8), "plan": run("plan", 1.0)}
    both = target_table(stack_scenarios(runs), TG)
    assert list(both.columns[:2]) == ["scenario", "indicator"]
    for sid, ds in runs.items():
        one = both[both["scenario"] == sid].drop(columns="scenario").reset_index(drop=True)
        pd.testing.assert_frame_equal(one, target_table(ds, TG))


def test_probabilities_reduce_over_samples_per_scenario():
    runs = {"slow": run("slow", 0.8, n=50, seed=1), "fast": run("fast", 1.2, n=50, seed=1)}
    ens = stack_scenarios(runs)
    met = met_array(ens, TG)
    assert met.dims == ("scenario", "sample", "indicator")
    probs = target_probabilities(ens, TG)
    assert list(probs.index.names) == ["scenario", "indicator"]
    for sid, ds in runs.items():
        pd.testing.assert_frame_equal(probs.loc[sid], target_probabilities(ds, TG))
    assert probs.loc[("fast", "a"), "probability"] > probs.loc[("slow", "a"), "probability"]
    table = compare_scenarios(ens, TG)
    assert table.equals(compare_scenarios(runs, TG))
    assert table.loc[("slow", "a"), "P50"] == pytest.approx(
        float(np.percentile(runs["slow"]["a"].sel(time=2028).values, 50)))


def test_compare_table_differences_from_the_reference():
    runs = stack_scenarios([run("baseline", 0.8), run("plan", 1.0)])
    table = compare_table(runs, TG, "baseline").set_index("indicator")
    a_base, a_plan = 20 * 6 * 0.8, 20 * 6 * 1.0
    assert table.loc["a", "plan_minus_baseline"] == pytest.approx(a_plan - a_base)
    assert table.loc["a", "plan_vs_baseline_pct"] == pytest.approx(25.0)
    assert table.loc["a", "plan_year_reached"] == 2023 + int(np.argmax(
        runs["a"].sel(scenario="plan").isel(sample=0).values > 100))
    with pytest.raises(PlanSimError, match="reference"):
        compare_table(runs, TG, "nope")
