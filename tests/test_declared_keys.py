"""A key a declaration file does not know is refused, never ignored: one line naming the file, the
key (a short excerpt), the nearest allowed key when one is close and every allowed key
(:func:`sim.model.declarations.yamlio.check_keys`, with each reader's keys declared beside it)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sim import paths
from sim.analysis.estimation import calibration_settings as cs
from sim.errors import CalibrationError, ModelError, ParameterError, excerpt
from sim.model.declarations import loopspec, parameters, sectors, targets, varlabels
from sim.model.declarations.words import LANGS
from sim.model.declarations.yamlio import check_keys
from sim.scenarios import constraints

PROPERTY = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])
WHERE = "model/x.yaml: levers.a"


# -- the helper ---------------------------------------------------------------------------------
allowed_keys = st.lists(st.from_regex(r"[a-z][a-z_0-9]{0,11}", fullmatch=True), min_size=1,
                        max_size=8, unique=True)
any_key = st.one_of(st.text(max_size=300), st.integers(), st.floats(allow_nan=False),
                    st.booleans(), st.none(), st.dates())


@PROPERTY
@given(allowed=allowed_keys, data=st.data())
def test_a_mapping_whose_keys_are_allowed_passes(allowed, data):
    keys = data.draw(st.lists(st.sampled_from(allowed), unique=True))
    check_keys({k: None for k in keys}, tuple(allowed), WHERE, ModelError)


@PROPERTY
@given(allowed=allowed_keys, extra=any_key, data=st.data())
def test_a_key_outside_the_allowed_ones_is_refused_and_named(allowed, extra, data):
    assume(extra not in allowed)
    before = data.draw(st.lists(st.sampled_from(allowed), unique=True))
    mapping = {**{k: 1 for k in before}, extra: 2}
    mapping.update({k: 3 for k in allowed if k not in before})
    with pytest.raises(ModelError) as err:
        check_keys(mapping, tuple(allowed), WHERE, ModelError)
    msg = str(err.value)
    assert msg.startswith(f"{WHERE}: unknown key {excerpt(extra)}"), msg
    assert msg.endswith(f" allowed keys: {', '.join(allowed)}"), msg
    assert "\n" not in msg and len(msg) < len(WHERE) + 200 + len(", ".join(allowed)) + 120


def test_a_close_key_is_suggested_and_a_huge_one_only_excerpted():
    with pytest.raises(ParameterError) as err:
        check_keys({"variable": "x", "plan_valeu": "assumed"}, parameters.LEVER_KEYS, WHERE,
                   ParameterError)
    assert str(err.value) == (f"{WHERE}: unknown key 'plan_valeu'; did you mean 'plan_value'? "
                              f"allowed keys: {', '.join(parameters.LEVER_KEYS)}")
    with pytest.raises(ParameterError) as err:
        check_keys({"plan_value" * 100_000: 1}, parameters.LEVER_KEYS, WHERE, ParameterError)
    msg = str(err.value)
    assert "did you mean" not in msg and "(1,000,002 characters)" in msg and len(msg) < 300


# -- every reader -------------------------------------------------------------------------------
def _committed(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _write(tmp_path: Path, name: str, raw: dict) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _rename(mapping: dict, old: str, new: str) -> None:
    """``mapping``'s key ``old`` renamed ``new`` (a typo), keeping the order."""
    items = [(new if k == old else k, v) for k, v in mapping.items()]
    mapping.clear()
    mapping.update(items)


def _first(raw: dict, section: str) -> dict:
    return next(iter(raw[section].values()))


def _ids(cases) -> list[str]:
    """A case's id: where the misspelt key is, and the key."""
    return [f"{where or 'top'}:{key}" for _e, where, key, *_ in cases]


def _parameters(tmp_path: Path, edit) -> Path:
    raw = _committed(paths.PARAMETERS_FILE)
    edit(raw)
    return _write(tmp_path, "parameters.yaml", raw)


FIRST_ASSUMPTION = next(iter(_committed(paths.PARAMETERS_FILE)["assumptions"]))
FIRST_CONSTANT = next(iter(_committed(paths.PARAMETERS_FILE)["constants"]))
PARAMETER_CASES = [
    (lambda r: _rename(r, "levers", "lever"), "", "lever", "levers", parameters.SECTIONS),
    (lambda r: _rename(r["levers"]["fiscal_budget"], "plan_value", "plan_valeu"),
     "levers.fiscal_budget", "plan_valeu", "plan_value", parameters.LEVER_KEYS),
    (lambda r: _rename(_first(r, "assumptions"), "variable", "varible"),
     f"assumptions.{FIRST_ASSUMPTION}", "varible", "variable", parameters.ASSUMPTION_KEYS),
    (lambda r: _rename(_first(r, "constants"), "reason", "reasons"),
     f"constants.{FIRST_CONSTANT}", "reasons", "reason", parameters.CONSTANT_KEYS),
    (lambda r: r["levers"]["fiscal_budget"]["label"].update(fr="Budget"),
     "levers.fiscal_budget.label", "fr", None, LANGS),
    (lambda r: _rename(r["groups"]["finance"], "en", "eng"), "groups.finance", "eng", "en",
     LANGS),
]


def _says(msg: str, path, where: str, key: str, close: str | None, allowed) -> None:
    at = f"{path}: {where}: " if where else f"{path}: "
    hint = f"; did you mean '{close}'? " if close else "; "
    assert msg == f"{at}unknown key '{key}'{hint}allowed keys: {', '.join(allowed)}", msg


def test_a_constraint_refuses_an_unknown_key(tmp_path):
    raw = _committed(paths.PARAMETERS_FILE)["constraints"]
    params = parameters.load_parameters()
    entry = raw["allocation_shares"]
    _rename(entry, "max_sum", "max_summ")
    with pytest.raises(ParameterError) as err:
        constraints.parse_constraints(raw, params, "p.yaml")
    _says(str(err.value), "p.yaml", "constraints.allocation_shares", "max_summ", "max_sum",
          constraints.CONSTRAINT_KEYS)
    _rename(entry, "max_summ", "max_sum")
    entry["attribution_label"]["ja"] = "配分"
    with pytest.raises(ParameterError) as err:
        constraints.parse_constraints(raw, params, "p.yaml")
    _says(str(err.value), "p.yaml", "constraints.allocation_shares.attribution_label", "ja",
          None, LANGS)


TARGET_CASES = [
    (lambda r: _rename(r, "indicators", "indicator"), "", "indicator", "indicators",
     targets.SECTIONS),
    (lambda r: _rename(r["plan"], "target_year", "target-year"), "plan", "target-year",
     "target_year", targets.PLAN_KEYS),
    (lambda r: _rename(r["indicators"]["platforms"], "base_2023", "base2023"),
     "indicators.platforms", "base2023", "base_2023", targets.TARGET_KEYS),
    (lambda r: _rename(r["reported"]["tech_smes"], "unit", "units"), "reported.tech_smes",
     "units", "unit", targets.REPORTED_KEYS),
    (lambda r: _rename(r["derived"]["fiscal_cost"], "subtract", "substract"),
     "derived.fiscal_cost", "substract", "subtract", targets.DERIVED_KEYS),
    (lambda r: r["indicators"]["platforms"]["label"].update(fr="Plateformes"),
     "indicators.platforms.label", "fr", None, LANGS),
]


LOOP_CASES = [
    (lambda r: _rename(r, "loops", "loop"), "", "loop", "loops", loopspec.SECTIONS),
    (lambda r: _rename(r["loops"]["R1"], "polarity", "polarty"), "loops.R1", "polarty",
     "polarity", loopspec.LOOP_KEYS),
    (lambda r: r["loops"]["R1"]["name"].update(fr="Entrepreneuriat"), "loops.R1.name", "fr",
     None, LANGS),
]


SECTOR_CASES = [
    (lambda r: _rename(r["fiscal"], "variables", "variable"), "fiscal", "variable", "variables",
     sectors.SECTOR_KEYS),
    (lambda r: r["fiscal"]["label"].update(fr="Finances"), "fiscal.label", "fr", None, LANGS),
    (lambda r: {"sectors": dict(r), "colours": {}}, "", "colours", None, ("sectors",)),
]


def test_a_sector_label_is_given_once(tmp_path):
    path = tmp_path / "sectors.yaml"
    path.write_text("a:\n  zh: 甲\n  en: A\n  variables: [x]\n", encoding="utf-8")
    assert sectors.load_sectors(path)[0].label == {"zh": "甲", "en": "A"}
    path.write_text("a:\n  label: {zh: 甲, en: A}\n  en: B\n  variables: [x]\n",
                    encoding="utf-8")
    with pytest.raises(ModelError, match=r"sectors.yaml: a: label and en both given"):
        sectors.load_sectors(path)


def test_variable_labels_refuse_an_unknown_key(tmp_path):
    raw = _committed(paths.LABELS_FILE)
    _rename(raw, "shares", "share")
    path = _write(tmp_path, "labels.yaml", raw)
    with pytest.raises(ModelError) as err:
        varlabels.load_labels(path)
    _says(str(err.value), path, "", "share", "shares", varlabels.SECTIONS)


SETTINGS_CASES = [
    (lambda r: _rename(r, "discrepancy_sd", "discrepancy"), "", "discrepancy", "discrepancy_sd",
     cs.SECTIONS),
    (lambda r: _rename(r["breaks"][0], "note", "notes"), "breaks[0]", "notes", "note",
     cs.BREAK_KEYS),
    (lambda r: r.update(exclude_rows=[{"indicator": "gdp", "year": 2020, "reasons": "x"}]),
     "exclude_rows[0]", "reasons", "reason", cs.EXCLUDE_ROW_KEYS),
    (lambda r: _rename(r["sampler"], "walkers", "walker"), "sampler", "walker", "walkers",
     tuple(cs.Sampler.__dataclass_fields__)),
]


#: each reader: its committed file (edited, then written under the same name), its loader, the
#: error it raises and its cases (edit, where the key is, the key, the close one, allowed keys)
READERS = {
    "parameters": (paths.PARAMETERS_FILE, parameters.load_parameters, ParameterError,
                   PARAMETER_CASES),
    "targets": (paths.TARGETS_FILE, targets.load_targets, ModelError, TARGET_CASES),
    "loops": (paths.LOOPS_FILE, loopspec.load_loops, ModelError, LOOP_CASES),
    "sectors": (paths.SECTORS_FILE, sectors.load_sectors, ModelError, SECTOR_CASES),
    "estimation-settings": (paths.CALIBRATION_SETTINGS_FILE, cs.load_settings, CalibrationError,
                            SETTINGS_CASES),
}
CASES = [(reader, *case) for reader, (*_, cases) in READERS.items() for case in cases]


@pytest.mark.parametrize(("reader", "edit", "where", "key", "close", "allowed"), CASES,
                         ids=[f"{c[0]}-{i}" for c, i in zip(CASES, _ids([c[1:] for c in CASES]),
                                                            strict=True)])
def test_a_reader_refuses_an_unknown_key(tmp_path, reader, edit, where, key, close, allowed):
    source, load, error, _ = READERS[reader]
    raw = _committed(source)
    raw = edit(raw) or raw
    path = _write(tmp_path, source.name, raw)
    with pytest.raises(error) as err:
        load(path)
    _says(str(err.value), path, where, key, close, allowed)


# -- through a command --------------------------------------------------------------------------
def test_a_command_reports_a_misspelt_parameters_key_in_one_line(tmp_path, monkeypatch,
                                                                   run_cli):
    path = _parameters(tmp_path, lambda r: _rename(r["levers"]["fiscal_budget"], "plan_value",
                                                   "plan_valeu"))
    monkeypatch.setattr(paths, "PARAMETERS_FILE", path)
    code, err = run_cli("levers", "--lang", "en")
    assert code == 2
    assert err == (f"plansim levers: error: {path}: levers.fiscal_budget: unknown key "
                   f"'plan_valeu'; did you mean 'plan_value'? allowed keys: "
                   f"{', '.join(parameters.LEVER_KEYS)}\n"), err
