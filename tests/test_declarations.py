"""Levers and assumptions declared once (model/parameters.yaml): every one has a short bilingual
description, the loader refuses a missing or empty one with one line naming the file and the
key, and the scenario schema carries label, description, unit, baseline and plan value so that an
editor tooltip explains each lever."""

from __future__ import annotations

import json

import pytest
import yaml

from sim import paths
from sim.errors import ParameterError
from sim.model.declarations.parameters import load_parameters, parse_parameters
from sim.scenarios import schema as sch


def test_every_lever_and_assumption_has_a_bilingual_description():
    params = load_parameters()
    for p in [*params.levers.values(), *params.assumptions.values()]:
        assert set(p.description) == {"zh", "en"}
        zh, en = p.description["zh"], p.description["en"]
        assert any("\u4e00" <= ch <= "\u9fff" for ch in zh), f"{p.id}: zh is not Chinese"
        assert en.isascii() or "元" in en, f"{p.id}: en description {en!r}"
        assert 10 <= len(zh) <= 120 and 30 <= len(en) <= 220, p.id   # short
        assert zh != en


def test_a_lever_label_is_declared_without_its_unit_and_shown_with_the_mdl_unit():
    from sim.model.declarations.words import LANGS, labelled, unit
    from sim.model.equations.graph import load_graph

    nodes = load_graph().nodes
    levers = load_parameters().levers
    lever = levers["fiscal_budget"]
    assert lever.name == {"zh": "市级财政科技专项资金", "en": "Municipal fiscal S&T budget"}
    assert lever.unit == "亿元/Year"
    assert lever.label == {"zh": "市级财政科技专项资金(亿元/年)",
                           "en": "Municipal fiscal S&T budget (亿元/yr)"}
    assert levers["budget_multiplier"].label == levers["budget_multiplier"].name   # Dmnl
    for lv in levers.values():
        assert lv.unit == nodes[lv.py_name].units, lv.id   # the unit is the .mdl's
        for lang in LANGS:
            shown = unit(lv.unit, lang, in_label=True)
            assert lv.label[lang] == labelled(lv.name[lang], lv.unit, lang)
            # the declaration does not repeat the unit
            assert not shown or shown not in lv.name[lang], (lv.id, lang)


def _declaration(tmp_path, **assumption):
    raw = yaml.safe_load(paths.PARAMETERS_FILE.read_text(encoding="utf-8"))
    raw["assumptions"]["crowding_in"].update(assumption)
    for k, v in assumption.items():
        if v is None:
            del raw["assumptions"]["crowding_in"][k]
    path = tmp_path / "parameters.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return raw, path


@pytest.mark.parametrize(("change", "says"), [
    ({"description": None}, "assumptions.crowding_in.description: missing"),
    ({"description": {"zh": "挤入", "en": "  "}}, "assumptions.crowding_in.description: "
                                                  "missing en text"),
    ({"description": {"en": "Crowding in"}}, "missing zh text"),
    ({"description": "just text"}, "assumptions.crowding_in.description: expected a mapping"),
])
def test_missing_or_empty_description_is_one_clear_error(tmp_path, change, says):
    raw, path = _declaration(tmp_path, **change)
    with pytest.raises(ParameterError) as err:
        parse_parameters(raw, path)
    msg = str(err.value)
    assert str(path) in msg and says in msg and "\n" not in msg


def test_command_reports_a_missing_description_with_exit_2(tmp_path, monkeypatch, capsys):
    from sim.cli.main import main

    _, path = _declaration(tmp_path, description=None)
    monkeypatch.setattr(paths, "PARAMETERS_FILE", path)
    assert main(["levers", "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert "crowding_in.description: missing" in err and "Traceback" not in err


# -- plan_value: the levers whose path in the plan scenario is an assumption -------------------
PLAN_ASSUMED = {"fiscal_budget", "innovation_vouchers", "broker_training_places"}


def test_plan_value_marks_the_levers_the_plan_gives_no_figure_for():
    """Declared beside the levers in model/parameters.yaml; left out, nothing is declared."""
    levers = load_parameters().levers
    assert {lid for lid, lv in levers.items() if lv.assumed_in_plan} == PLAN_ASSUMED
    raw = yaml.safe_load(paths.PARAMETERS_FILE.read_text(encoding="utf-8"))
    del raw["levers"]["fiscal_budget"]["plan_value"]
    parsed = parse_parameters(raw, paths.PARAMETERS_FILE).levers["fiscal_budget"]
    assert parsed.plan_value is None and not parsed.assumed_in_plan


@pytest.mark.parametrize("value", ["assume", "Assumed", True, ["assumed"], {"zh": "假设"}])
def test_a_bad_plan_value_is_one_clear_error(tmp_path, value):
    raw = yaml.safe_load(paths.PARAMETERS_FILE.read_text(encoding="utf-8"))
    raw["levers"]["innovation_vouchers"]["plan_value"] = value
    path = tmp_path / "parameters.yaml"
    with pytest.raises(ParameterError) as err:
        parse_parameters(raw, path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: levers.innovation_vouchers.plan_value: {value!r} is not "
                          "allowed; use assumed "), msg
    assert "leave it out" in msg and "\n" not in msg


@pytest.fixture(scope="module")
def schema():
    params = load_parameters()
    return params, sch.build_schema(params, sch.declared_values(params))


def test_schema_tooltips_explain_every_lever_and_assumption(schema):
    params, s = schema
    levers = s["properties"]["levers"]["properties"]
    assumptions = s["properties"]["assumptions"]["properties"]
    plan = yaml.safe_load((paths.SCENARIO_DIR / "plan.yaml").read_text(encoding="utf-8"))
    for table, props in ((params.levers, levers), (params.assumptions, assumptions)):
        for pid, p in table.items():
            prop = props[pid]
            assert prop["title"] == f"{p.label['zh']} / {p.label['en']}"
            assert p.description["zh"] in prop["description"]
            assert p.description["en"] in prop["description"]
            assert prop["x-description"] == p.description and prop["x-unit"]
            assert isinstance(prop["default"], float) and p.min <= prop["default"] <= p.max
    for lid, value in plan["levers"].items():
        shown = ({str(k): float(v) for k, v in value.items()} if isinstance(value, dict)
                 else float(value))
        assert levers[lid]["examples"] == [shown] and levers[lid]["x-plan"] == shown
    assert "examples" not in levers["budget_multiplier"]   # the plan leaves it at baseline
    assert levers["fiscal_budget"]["x-unit"] == "亿元/Year"


def test_schema_defaults_are_the_catalogue_baseline_values(schema):
    """The same numbers as `plansim levers` (the calibrated baseline in the plan's first year)
    and `plansim assumptions` (the value the runs use)."""
    from sim.present.labels import format_number
    from sim.present.tabular.catalogue import assumption_table, lever_table

    _, s = schema
    levers = lever_table("en").set_index("id")
    base_col = next(c for c in levers.columns if c.startswith("Baseline"))
    for lid, prop in s["properties"]["levers"]["properties"].items():
        assert format_number(prop["default"]) == levers.loc[lid, base_col], lid
    used = assumption_table("en").set_index("id")["value used"]
    for aid, prop in s["properties"]["assumptions"]["properties"].items():
        assert format_number(prop["default"]) == used[aid], aid


def test_every_scenario_validates_against_the_committed_schema():
    """(Whether the committed schema is current: tests/test_regen.py.)"""
    committed = json.loads(paths.SCENARIO_SCHEMA.read_text(encoding="utf-8"))
    import jsonschema  # here, not at collection: its import builds a URI grammar (seconds)

    validator = jsonschema.Draft202012Validator(committed)
    for path in sorted(paths.SCENARIO_DIR.glob("*.yaml")):
        if path.name == "uncertainty.yaml":
            continue
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        doc = json.loads(json.dumps(doc))    # year keys as text, as an editor sees them
        errors = [e.message for e in validator.iter_errors(doc)]
        assert not errors, f"{path.name}: {errors}"


def test_one_range_declaration_drives_schema_spec_and_docs():
    """Change a range in model/parameters.yaml alone: the scenario schema, the uncertainty spec
    and the documents' table of assumptions all follow."""
    from types import SimpleNamespace

    import pandas as pd

    from sim.analysis.ensembles.uncertainty_spec import parse_uncertainty
    from sim.present.documents.doc_ranges import block_assumption_ranges

    raw = yaml.safe_load(paths.PARAMETERS_FILE.read_text(encoding="utf-8"))
    raw["assumptions"]["crowding_in"].update(min=-0.25, max=1.25)
    raw["levers"]["fiscal_budget"]["max"] = 150
    params = parse_parameters(raw, paths.PARAMETERS_FILE)
    spec_raw = yaml.safe_load(paths.UNCERTAINTY_FILE.read_text(encoding="utf-8"))
    assert "min" not in spec_raw["assumptions"]["crowding_in"]   # the spec types no range

    s = sch.build_schema(params)
    prop = s["properties"]["assumptions"]["properties"]["crowding_in"]
    assert (prop["minimum"], prop["maximum"]) == (-0.25, 1.25)
    assert s["properties"]["levers"]["properties"]["fiscal_budget"]["oneOf"][0]["maximum"] == 150

    spec = parse_uncertainty(spec_raw, path=str(paths.UNCERTAINTY_FILE), parameters=params)
    d = spec.items["crowding_in"].distribution
    assert (d.lower, d.upper) == (-0.25, 1.25)
    assert spec.items["crowding_in"].source == "the .mdl comment of " \
                                               "'public RD crowding in coefficient'"

    info = pd.DataFrame({"units": {a.py_name: "Dmnl" for a in params.assumptions.values()}})
    ctx = SimpleNamespace(simulator=SimpleNamespace(parameters=params, info=info), spec=spec)
    for lang, head in (("en", "range"), ("zh", "取值范围")):
        text = block_assumption_ranges(ctx, lang)
        row = next(line for line in text.splitlines() if line.startswith("| `crowding_in`"))
        cols = [c.strip() for c in text.splitlines()[2].strip("|").split("|")]
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[cols.index(head)] == "-0.25–1.25"
        assert params.assumptions["crowding_in"].description[lang] in row
    assert "范围 range: -0.25–1.25" in prop["description"]


# -- the model's key caveats (model/caveats.yaml) -----------------------------------------------
def test_every_declared_caveat_has_chinese_and_english_text():
    from sim.model.declarations.caveats import load_caveats

    caveats = load_caveats()
    assert len(caveats) >= 10 and len({c.id for c in caveats}) == len(caveats)
    for c in caveats:
        assert any("\u4e00" <= ch <= "\u9fff" for ch in c["zh"]), c.id
        assert sum("\u4e00" <= ch <= "\u9fff" for ch in c["en"]) == 0, c.id
        assert c["zh"].startswith("**") and c["en"].startswith("**"), c.id


@pytest.mark.parametrize(("body", "message"), [
    ("caveats:\n  a: {zh: 甲}\n", "caveats.a.en: needs a non-empty text, got nothing"),
    ("caveats:\n  a: {zh: 甲, en: ''}\n", "caveats.a.en: needs a non-empty text, got ''"),
    ("caveats:\n  a: {zh: 甲, en: [x]}\n", "caveats.a.en: needs a non-empty text, got ['x']"),
    ("caveats:\n  a: {zh: 甲, en: A, fr: B}\n", "caveats.a: unknown key 'fr'; allowed keys: zh, en"),
    ("caveats:\n  Big One: {zh: 甲, en: A}\n", "caveats: id 'Big One' is not allowed"),
    ("caveats:\n  a: {zh: 甲, en: A}\n  a: {zh: 乙, en: B}\n", "duplicate key 'a'"),
    ("caveats:\n  a: text\n", "caveats.a: expected a mapping"),
    ("caveats: {}\n", "caveats: declares no caveat"),
    ("caveat:\n  a: {zh: 甲, en: A}\n", "unknown key 'caveat'; did you mean 'caveats'? allowed keys: caveats"),
    ("caveats:\n  a:\n    zh: 甲\n    en: |\n      one\n      two\n", "caveats.a.en: one paragraph"),
    ("caveats:\n  a: {zh: 甲, en: " + "x" * 700 + "}\n", "caveats.a.en: 700 characters"),
])
def test_a_bad_caveat_is_one_line_naming_the_file_and_key(tmp_path, body, message):
    from sim.errors import ModelError
    from sim.model.declarations.caveats import load_caveats

    path = tmp_path / "caveats.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ModelError) as err:
        load_caveats(path)
    text = str(err.value)
    assert message in text and str(path) in text and "\n" not in text


# -- one way of writing a range ------------------------------------------------------------------
@pytest.mark.parametrize(("lo", "hi", "text"), [
    (10.0, 40.0, "10–40"), (0, 10.0, "0–10"), (0.15, 0.5, "0.15–0.5"), (500, 40000, "500–40,000"),
    (12.5, 20, "12.5–20"), (-0.5, 1.5, "-0.5–1.5"), (0.01, 0.05, "0.01–0.05"),
    (0.123456, 99.96, "0.123–100"), (16043.4, 25733.6, "16,043–25,734"), (4, 16.0, "4–16"),
])
def test_a_range_is_written_one_way(lo, hi, text):
    from sim.model.declarations.numtext import format_range

    assert format_range(lo, hi) == text


def test_schema_and_documents_write_a_declared_range_alike():
    """The editor text of the schema and the documents' table show a range the same way."""
    from types import SimpleNamespace

    import pandas as pd

    from sim.analysis.ensembles.uncertainty_spec import load_uncertainty
    from sim.present.documents.doc_ranges import block_assumption_ranges

    params = load_parameters()
    a = params.assumptions["private_venture_2012"]
    assert (a.min, a.max) == (10, 40)
    s = sch.build_schema(params)
    desc = s["properties"]["assumptions"]["properties"]["private_venture_2012"]["description"]
    assert "范围 range: 10–40" in desc
    info = pd.DataFrame({"units": {x.py_name: "Dmnl" for x in params.assumptions.values()}})
    ctx = SimpleNamespace(simulator=SimpleNamespace(parameters=params, info=info),
                          spec=load_uncertainty())
    row = next(line for line in block_assumption_ranges(ctx, "en").splitlines()
               if line.startswith("| `private_venture_2012`"))
    assert "| 10–40 |" in row and "mode 20 " in row and ".0" not in row.split("|")[4]


def test_a_number_is_a_real_python_or_numpy_value_never_a_bool():
    """yamlio.is_number (every declared bound and value) without importing NumPy itself."""
    import numpy as np

    from sim.model.declarations.yamlio import is_number

    assert all(is_number(v) for v in (1, 2.5, np.float64(1.0), np.int64(3), np.float32(2)))
    assert not any(is_number(v) for v in (True, np.bool_(True), "1", None, 1j, [1]))
