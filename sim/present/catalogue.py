"""Catalogues of the policy levers and the uncertain assumptions (``plansim levers``,
``plansim assumptions``), from their declarations (model/parameters.yaml), the units of the
``.mdl`` and the values of the calibrated runs.

Levers: id, label in the chosen language, unit, group, allowed range, the value in the
reference run (baseline) and in the chosen scenario in the plan's first and target years.
Assumptions: id, label, unit, allowed range, the value the runs use (calibrated where
model/calibration.yaml estimates it, else the ``.mdl`` value), whether it is calibrated, and
its distribution in the uncertainty file.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sim.present.labels import check_lang, format_number, label, unit_label

HEAD = {
    "id": {"zh": "编号", "en": "id"},
    "label": {"zh": "名称", "en": "name"},
    "unit": {"zh": "单位", "en": "unit"},
    "group": {"zh": "类别", "en": "group"},
    "range": {"zh": "允许范围", "en": "range"},
    "value_in": {"zh": "{scenario}（{year}年）", "en": "{scenario} ({year})"},
    "used": {"zh": "运行取值", "en": "value used"},
    "calibrated": {"zh": "是否校准", "en": "calibrated"},
    "distribution": {"zh": "不确定性分布", "en": "uncertainty"},
    "yes": {"zh": "是", "en": "yes"},
    "no": {"zh": "否", "en": "no"},
}


def _h(key: str, lang: str, **fmt: Any) -> str:
    return HEAD[key][lang].format(**fmt)


def _value(ds: Any, name: str, year: float) -> float:
    if name not in ds:
        return float("nan")
    da = ds[name]
    if "sample" in da.dims:
        da = da.isel(sample=0)
    if "time" not in da.dims:
        return float(np.asarray(da.values).ravel()[0])
    return float(da.sel(time=year, method="nearest"))


def _range(lo: float, hi: float) -> str:
    return f"{format_number(lo)} – {format_number(hi)}"


def _unit(info: pd.DataFrame, py_name: str, lang: str) -> str:
    if py_name not in info.index:
        return ""
    units = info.loc[py_name, "units"]
    return unit_label(units, lang) if isinstance(units, str) else ""


def lever_table(lang: str = "zh", scenario: Any = None, reference: Any = None,
                simulator: Any = None) -> pd.DataFrame:
    """One row per lever of model/parameters.yaml; values from the calibrated runs of
    ``reference`` (default baseline) and ``scenario`` (default plan) in the plan's first and
    target years."""
    from sim.model.parameters import load_parameters
    from sim.model.targets import load_targets
    from sim.scenarios import load_scenario
    from sim.simulate import Simulator

    check_lang(lang)
    params = load_parameters()
    plan = load_targets().plan
    sim = simulator or Simulator("batch")
    scenario = scenario or load_scenario("plan")
    reference = reference or load_scenario("baseline")
    runs = {reference.id: sim.run(reference)}
    runs.setdefault(scenario.id, sim.run(scenario))
    columns = [(reference, plan.start), (scenario, plan.start), (scenario, plan.target_year)]
    columns = list(dict.fromkeys((s.id, y) for s, y in columns))
    names = {reference.id: reference.label(lang), scenario.id: scenario.label(lang)}
    rows = []
    for lid, lever in params.levers.items():
        row = {_h("id", lang): lid, _h("label", lang): label(lever.label, lang),
               _h("unit", lang): _unit(sim.info, lever.py_name, lang),
               _h("group", lang): label(params.groups.get(lever.group, lever.group), lang),
               _h("range", lang): _range(lever.min, lever.max)}
        for sid, year in columns:
            row[_h("value_in", lang, scenario=names[sid], year=year)] = format_number(
                _value(runs[sid], lever.py_name, year))
        rows.append(row)
    return pd.DataFrame(rows)


def assumption_table(lang: str = "zh", simulator: Any = None) -> pd.DataFrame:
    """One row per assumption of model/parameters.yaml: the value the runs use (from the
    baseline run), whether model/calibration.yaml estimates it, and its distribution in
    scenarios/uncertainty.yaml (empty when it is not sampled)."""
    from sim.analysis.uncertainty_spec import load_uncertainty
    from sim.model.calibrated import load_calibrated_values
    from sim.model.parameters import load_parameters
    from sim.model.targets import load_targets
    from sim.scenarios import load_scenario
    from sim.simulate import Simulator

    check_lang(lang)
    params = load_parameters()
    calibrated = load_calibrated_values()
    spec = load_uncertainty()
    sim = simulator or Simulator("batch")
    base = sim.run(load_scenario("baseline"))
    year = load_targets().plan.start
    rows = []
    for aid, a in params.assumptions.items():
        dist = spec.items.get(aid)
        rows.append({
            _h("id", lang): aid, _h("label", lang): label(a.label, lang),
            _h("unit", lang): _unit(sim.info, a.py_name, lang),
            _h("range", lang): _range(a.min, a.max),
            _h("used", lang): format_number(_value(base, a.py_name, year)),
            _h("calibrated", lang): _h("yes" if aid in calibrated else "no", lang),
            _h("distribution", lang): (
                f"{dist.distribution.kind} {_range(dist.distribution.lower, dist.distribution.upper)}"
                if dist is not None else ""),
        })
    return pd.DataFrame(rows)
