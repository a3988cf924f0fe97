"""Outcomes are declared once, in model/targets.yaml: a sixth indicator added to a copy of that
file alone is carried by `run`, `compare`, the uncertainty tables and figures and the indicator
chart; the declaration itself is checked."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml
from matplotlib.figure import Figure

from sim import paths
from sim.analysis.ensembles.ensemble import run_ensemble
from sim.analysis.ensembles.uncertainty_spec import parse_uncertainty
from sim.errors import ModelError
from sim.model.declarations.targets import load_targets, parse_targets

SIXTH = "high_tech_enterprises"     # a model variable, reported without a target until now
SIXTH_ENTRY = {"target": 15000, "comparison": ">", "unit": "firms",
               "label": {"zh": "高新技术企业", "en": "High-tech enterprises"}}


def _declared() -> dict:
    return yaml.safe_load(paths.TARGETS_FILE.read_text(encoding="utf-8"))


@pytest.fixture
def six(tmp_path, monkeypatch):
    """model/targets.yaml copied with a sixth indicator, and made the declaration in use."""
    raw = _declared()
    raw["reported"].pop(SIXTH)
    raw["indicators"][SIXTH] = SIXTH_ENTRY
    f = tmp_path / "meta" / "targets.yaml"
    f.parent.mkdir()
    f.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    monkeypatch.setattr(paths, "TARGETS_FILE", f)
    targets = load_targets()
    assert len(targets) == 6 and targets.indicators[-1] == SIXTH
    return targets


def _ds(targets, growth, n=1, seed=0):
    """Exponential paths from half of each target in 2023."""
    rng = np.random.default_rng(seed)
    t = np.arange(2012.0, 2036.0)
    g = growth + (0.02 * rng.standard_normal((n, 1)) if n > 1 else 0.0)
    return xr.Dataset({ind.indicator: (("sample", "time"),
                                       ind.target / 2 * np.exp(g * (t - 2023)[None, :]),
                                       {"units": ind.unit})
                       for ind in targets}, coords={"time": t})


def test_indicator_chart_is_sized_from_the_declaration(six):
    from sim.present.figures.charts import compare_figure, indicator_figure

    runs = {"base": _ds(six, 0.08), "plan": _ds(six, 0.15)}
    fig = indicator_figure(runs, list(six), lang="en")
    assert isinstance(fig, Figure)
    drawn = [ax for ax in fig.axes if ax.axison]
    assert len(drawn) == 6 and drawn[-1].get_title() == "High-tech enterprises"
    side = fig.axes[6]                      # the panel after the last indicator: legend, table
    assert side.get_legend() is not None and side.tables
    rows = {c.get_text().get_text().replace("\n", " ")
            for c in side.tables[0].get_celld().values()}
    assert "High-tech enterprises" in rows
    assert fig.get_suptitle() == "Six headline indicators"
    fig = compare_figure(runs, list(six), lang="zh", baseline_key="base")
    assert len(fig.axes[1].get_xticklabels()) == 6


def test_run_and_compare_carry_a_sixth_indicator(six, tmp_path, monkeypatch):
    import sim.present.reports.run_report as report
    from sim.cli.main import main

    # the tables are checked here; the charts' drawing (seconds) is left out: the six-panel
    # charts are checked above, the command's files by tests/test_cli.py
    monkeypatch.setattr(report, "write_renderings", lambda *a, **k: None)
    out = tmp_path / "out"
    assert main(["run", "plan", "--out", str(out), "-q", "--lang", "en"]) == 0
    tt = pd.read_csv(out / "plan" / "targets.csv")
    assert tt["indicator"].tolist() == six.indicators
    assert tt.set_index("indicator").loc[SIXTH, "target"] == 15000
    assert main(["compare", "baseline", "plan", "--out", str(out), "-q"]) == 0
    table = pd.read_csv(out / "compare" / "comparison.csv")
    assert table["indicator"].tolist() == six.indicators


def test_uncertainty_tables_and_fans_carry_a_sixth_indicator(six, tmp_path):
    from sim.analysis.ensembles.uncertainty import ALL_TARGETS, compute, tables
    from sim.present.reports.uncertainty_report import fan_figure

    spec = parse_uncertainty({"assumptions": {"growth": {
        "distribution": "uniform", "min": 0.05, "max": 0.25, "source": "t", "confidence": "C"}}})

    def simulate(sc, design):
        def evaluate(ov):
            years = np.arange(2012.0, 2036.0)
            grow = (1 + ov["growth"][:, None]) ** np.clip(years - 2023, 0, None)[None, :]
            return xr.Dataset({t.indicator: (("sample", "time"), t.target / 2 * grow)
                               for t in six}, coords={"time": years})
        return run_ensemble(evaluate, design, progress=False)

    results = compute([SimpleNamespace(id="plan")], spec, six, samples=32, seed=1,
                          sampling="lhs", simulate=simulate, say=lambda m: None)
    tables = tables(results, six)
    assert tables["probabilities"]["indicator"].tolist() == [*six.indicators, ALL_TARGETS]
    assert set(tables["percentiles"]["indicator"]) == set(six.indicators)
    assert SIXTH in tables["first_year"].columns
    assert SIXTH in set(tables["comparison"]["indicator"])
    fig = fan_figure(results[0], six, "en")
    assert [ax.get_title() for ax in fig.axes[:6]][-1] == "High-tech enterprises"
    texts = " ".join(t.get_text() for t in fig.axes[6].texts)
    assert "High-tech enterprises" in texts and "All six" in texts


def test_sensitivity_outputs_follow_the_declaration(six):
    from sim.analysis.sensitivity import outputs_at_year

    ds = _ds(six, 0.2, n=4)
    ds["annual_fiscal_outlay"] = ds["tech_firms"] * 0 + 10.0
    ds["rd_intensity"] = ds["tech_firms"] * 0 + 0.025
    out = outputs_at_year(ds, six)
    assert list(out.columns) == [*six.indicators, "all_targets", "fiscal_cost", "rd_intensity"]
    assert (out["fiscal_cost"] == 10.0 * 5).all()      # five plan years, 2024..2028
    assert six.labels()["all_targets"] == {"zh": "六项目标全部完成", "en": "All six targets met"}


def test_the_declaration_in_use_has_one_source_of_years_and_labels():
    targets = load_targets()
    assert targets.plan.period == (targets.plan.start, targets.year)
    assert targets.plan.years[0] == targets.plan.start
    assert targets.plan.years[-1] == targets.plan.horizon
    labels = targets.labels()
    assert set(targets.indicators) | set(targets.reported_indicators) <= set(labels)
    assert all(set(v) == {"zh", "en"} for v in labels.values())


@pytest.mark.parametrize("change, message", [
    (lambda r: r["plan"].update(start=2030), "must be in that order"),
    (lambda r: r["plan"].pop("horizon"), "plan.horizon: None is not a year"),
    (lambda r: r["derived"]["all_targets"].update(kind="mean"), "derived.all_targets.kind"),
    (lambda r: r["derived"]["fiscal_cost"].update(add=[]), "needs at least one variable"),
    (lambda r: r["reported"].update(tech_firms={"label": {"zh": "a", "en": "b"}}),
     "reported: ['tech_firms'] also declared under indicators"),
    (lambda r: r["indicators"].update({"Bad Name": SIXTH_ENTRY}), "'Bad Name' is not a model"),
    (lambda r: r["indicators"]["platforms"].update(label={"zh": "平台"}),
     "indicators.platforms.label: needs zh and en text"),
])
def test_bad_declarations_name_the_key(change, message, tmp_path):
    raw = _declared()
    change(raw)
    with pytest.raises(ModelError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_targets(raw, tmp_path / "targets.yaml")
