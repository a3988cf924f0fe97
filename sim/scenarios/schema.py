"""The JSON Schema of scenario files, generated from ``model/parameters.yaml``.

Editors (VS Code with the YAML extension, PyCharm) validate a scenario file against
``scenarios/schema.json`` when its first line names it. The schema is derived from the lever and
assumption declarations so that editors also complete and check lever names and ranges, and
explain each one in a tooltip: ``title`` is its bilingual label, ``description`` its bilingual
description (model/parameters.yaml) with its unit (the ``.mdl``), range, baseline and plan
values; ``default`` is the baseline value (the calibrated baseline run in the plan's first year:
what a scenario that leaves it out uses) and ``examples`` the value ``scenarios/plan.yaml`` gives
it; ``x-label``, ``x-description``, ``x-unit`` and ``x-plan`` hold the same as data.
``plansim regen schema`` (or ``python -m sim.scenarios.schema --write``) regenerates it, and a
test checks it is current.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from typing import Any

from sim import paths
from sim.engine import compile_model
from sim.model.declarations.calibrated import load_calibrated_values
from sim.model.declarations.numtext import format_range
from sim.model.declarations.parameters import Parameters, load_parameters
from sim.model.declarations.targets import load_targets
from sim.model.declarations.words import LANGS
from sim.scenarios.loader import Inherited, load_scenario, year_range


def _year_pattern() -> str:
    """A pattern matching exactly the years of :func:`sim.scenarios.loader.year_range`."""
    first, last = year_range()
    return "^(" + "|".join(str(y) for y in range(first, last + 1)) + ")$"


def _rounded(value: Any) -> Any:
    """Numbers to 6 significant digits (a stable file); mappings keyed by year as text."""
    if isinstance(value, Mapping):
        return {str(k): _rounded(v) for k, v in value.items()}
    return float(f"{float(value):.6g}")


def _shown(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {v:g}" for k, v in value.items()) + "}"
    return f"{value:g}"


def _tooltip(p: Any, values: Mapping[str, Any] | None) -> dict:
    """title, description, default, examples and the x- fields of one lever or assumption."""
    v = values or {}
    facts = [f"范围 range: {format_range(p.min, p.max)}"]
    if v.get("unit"):
        facts.insert(0, f"单位 unit: {v['unit']}")
    if "baseline" in v:
        facts.append(f"基准 baseline ({v['year']}): {_shown(v['baseline'])}")
    if "plan" in v:
        facts.append(f"计划 plan: {_shown(v['plan'])}")
    facts.append(f".mdl: '{p.variable}'")
    out: dict[str, Any] = {
        "title": f"{p.label['zh']} / {p.label['en']}",
        "description": f"{p.description['zh']}\n\n{p.description['en']}\n\n" + "; ".join(facts),
        "x-label": dict(p.label), "x-description": dict(p.description)}
    if v.get("unit"):
        out["x-unit"] = v["unit"]
    if "baseline" in v:
        out["default"] = v["baseline"]
    if "plan" in v:
        out["examples"] = [v["plan"]]
        out["x-plan"] = v["plan"]
    return out


STEP = ("year-by-year values, stepped: each value holds from its year until the next year "
        "written (before the first, the extended scenario's value), so '250 in 2027-28 only' is "
        "{2027: 250, 2029: 500}")
LINEAR = "year-by-year values, interpolated linearly between the years written"


def _lever_schema(lever, values: Mapping[str, Any] | None = None, rule: str = "") -> dict:
    number = {"type": "number", "minimum": lever.min, "maximum": lever.max}
    tip = _tooltip(lever, values)
    if rule:
        tip["description"] += f"\n\n{rule}"
        tip["x-sum-rule"] = rule
    if lever.kind == "constant":
        return {**tip, **number}
    series = {
        "type": "object",
        "description": LINEAR if lever.interpolation == "linear" else STEP,
        "propertyNames": {"pattern": _year_pattern()},
        "additionalProperties": number,
        "minProperties": 1,
    }
    return {**tip, "oneOf": [number, series]}


def declared_values(params: Parameters, plan: str = "plan") -> dict[str, dict[str, Any]]:
    """Per lever and assumption id: its ``.mdl`` unit, its baseline value (the calibrated
    baseline run, row of the plan's first year, as ``plansim levers`` shows it) and the value the
    ``plan`` scenario gives it (as written; a series inherited from a parent: its own part)."""
    year = load_targets().plan.start
    model = compile_model(paths.MODEL_FILE)
    every = {**params.levers, **params.assumptions}
    calibrated = {params.assumptions[a].py_name: v for a, v in load_calibrated_values().items()}
    ds = model.run(calibrated, return_columns=sorted({p.py_name for p in every.values()}),
                   reporting="calendar")
    scenario = load_scenario(plan)
    given = {**scenario.levers, **scenario.assumptions}
    out: dict[str, dict[str, Any]] = {}
    for pid, p in every.items():
        da = ds[p.py_name].isel(sample=0)
        value = float(da.sel(time=year)) if "time" in da.dims else float(da)
        entry: dict[str, Any] = {"year": year, "baseline": _rounded(value),
                                 "unit": model.variables[p.py_name].units or ""}
        if pid in given:
            g = given[pid]
            entry["plan"] = _rounded(g.over if isinstance(g, Inherited) else g)
        out[pid] = entry
    return out


def build_schema(params: Parameters, values: Mapping[str, Mapping[str, Any]] | None = None
                 ) -> dict:
    """The scenario schema; ``values`` (:func:`declared_values`) adds units, the baseline as
    ``default`` and the plan's value as ``examples`` to each lever and assumption."""
    values = values or {}
    label = {
        "type": "object",
        "properties": {lang: {"type": "string", "minLength": 1} for lang in LANGS},
        "required": list(LANGS),
        "additionalProperties": False,
    }
    first, last = year_range()
    # lazy: pulls xarray (247 ms)
    from sim.scenarios.constraints import load_constraints

    rules = {lid: f"{', '.join(c.levers)} sum to at most {c.max_sum:g} in every year "
                  f"(constraints.{c.id} of model/parameters.yaml; checked when the scenario is "
                  "loaded)" for c in load_constraints(params) for lid in c.levers}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "plansim scenario",
        "description": "Overrides of the baseline: policy levers and uncertain assumptions. "
                       f"Years run from {first} to {last}. A series steps (or interpolates "
                       "linearly) as each lever says: {2027: 250, 2029: 500} is 250 in 2027-28 "
                       "only for a stepped lever. "
                       + "".join(sorted(set(rules.values()))) + ". "
                       "Generated from model/parameters.yaml by "
                       "`python -m sim.scenarios.schema --write`.",
        "type": "object",
        "properties": {
            "name": label,
            "description": {"type": "string"},
            "extends": {"type": "string", "pattern": r"\.ya?ml$"},
            "levers": {
                "type": ["object", "null"],
                "properties": {lid: _lever_schema(lv, values.get(lid), rules.get(lid, ""))
                               for lid, lv in params.levers.items()},
                "additionalProperties": False,
            },
            "assumptions": {
                "type": ["object", "null"],
                "properties": {
                    aid: {**_tooltip(a, values.get(aid)), "type": "number",
                          "minimum": a.min, "maximum": a.max}
                    for aid, a in params.assumptions.items()},
                "additionalProperties": False,
            },
        },
        "required": ["name"],
        "additionalProperties": False,
    }


def schema_text(params: Parameters | None = None) -> str:
    """The text of ``scenarios/schema.json``, with the declared values."""
    params = params or load_parameters()
    schema = build_schema(params, declared_values(params))
    return json.dumps(schema, ensure_ascii=False, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite scenarios/schema.json")
    args = parser.parse_args(argv)
    text = schema_text()
    if args.write:
        paths.SCENARIO_SCHEMA.write_text(text, encoding="utf-8")
        print(f"wrote {paths.SCENARIO_SCHEMA}")
    else:
        print(text, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
