"""The JSON Schema of scenario files, generated from ``model/parameters.yaml``.

Editors (VS Code with the YAML extension, PyCharm) validate a scenario file against
``scenarios/schema.json`` when its first line names it. The schema is derived from the lever and
assumption declarations so that editors also complete and check lever names and ranges;
``python -m sim.scenarios.schema --write`` regenerates it, and a test checks it is current.
"""

from __future__ import annotations

import argparse
import json

from sim import paths
from sim.model.parameters import Parameters, load_parameters
from sim.scenarios.loader import year_range


def _year_pattern() -> str:
    """A pattern matching exactly the years of :func:`sim.scenarios.loader.year_range`."""
    first, last = year_range()
    return "^(" + "|".join(str(y) for y in range(first, last + 1)) + ")$"


def _lever_schema(lever) -> dict:
    number = {"type": "number", "minimum": lever.min, "maximum": lever.max}
    desc = f"{lever.label['zh']} / {lever.label['en']} (.mdl variable '{lever.variable}')"
    if lever.kind == "constant":
        return {**number, "description": desc}
    series = {
        "type": "object",
        "description": "year-by-year values, "
                       f"{'interpolated linearly' if lever.interpolation == 'linear' else 'stepped'}",
        "propertyNames": {"pattern": _year_pattern()},
        "additionalProperties": number,
        "minProperties": 1,
    }
    return {"description": desc, "oneOf": [number, series]}


def build_schema(params: Parameters) -> dict:
    label = {
        "type": "object",
        "properties": {"zh": {"type": "string", "minLength": 1},
                       "en": {"type": "string", "minLength": 1}},
        "required": ["zh", "en"],
        "additionalProperties": False,
    }
    first, last = year_range()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "plansim scenario",
        "description": "Overrides of the baseline: policy levers and uncertain assumptions. "
                       f"Years run from {first} to {last}. "
                       "Generated from model/parameters.yaml by "
                       "`python -m sim.scenarios.schema --write`.",
        "type": "object",
        "properties": {
            "name": label,
            "description": {"type": "string"},
            "extends": {"type": "string", "pattern": r"\.ya?ml$"},
            "levers": {
                "type": ["object", "null"],
                "properties": {lid: _lever_schema(lv) for lid, lv in params.levers.items()},
                "additionalProperties": False,
            },
            "assumptions": {
                "type": ["object", "null"],
                "properties": {
                    aid: {"type": "number", "minimum": a.min, "maximum": a.max,
                          "description": f"{a.label['zh']} / {a.label['en']}"}
                    for aid, a in params.assumptions.items()},
                "additionalProperties": False,
            },
        },
        "required": ["name"],
        "additionalProperties": False,
    }


def schema_text(params: Parameters | None = None) -> str:
    schema = build_schema(params or load_parameters())
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
