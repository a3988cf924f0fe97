"""PySD's reference runs (sim.analysis.diagnostics.reference, `plansim regen reference`).

A tiny model with one series lever (a lookup of Time) and one assumption stands in for the
project: its `baseline` and `plan` are written, read back and checked against a live PySD run;
a changed `.mdl`, scenario or PySD version makes a file stale with a reason; a missing file or
one without a fingerprint is stale. A sampled case (the plan with one sample of the seeded draw
of its one assumption) is stored and read back the same way, and another draw makes it stale.
"""

from __future__ import annotations

import dataclasses
import textwrap

import numpy as np
import pytest

from sim import paths
from sim.analysis.diagnostics import reference
from sim.analysis.diagnostics.reference import (
    case,
    read_reference,
    reference_ids,
    reference_path,
    reference_text,
    sample_draws,
    sampled_ids,
    scenario_ids,
    stale_reason,
)
from sim.cli.main import main
from sim.errors import ModelError
from sim.simulate import Simulator
from tests.inline_mdl import control_section

MDL = textwrap.dedent("""\
    {UTF-8}
    budget schedule(
    \t[(2010,0)-(2020,10)],(2012,1),(2015,2),(2020,4))
    \t~\tyuan/Year
    \t~\t|

    budget=
    \tbudget schedule(Time)
    \t~\tyuan/Year
    \t~\tthe lever|

    spending share=
    \t0.5
    \t~\t1/Year
    \t~\tthe assumption|

    fund=
    \tINTEG(budget - spending, 0)
    \t~\tyuan
    \t~\t|

    spending=
    \tfund * spending share
    \t~\tyuan/Year
    \t~\t|

    """) + control_section(2018, time_step=0.25, initial_time=2012)

PARAMETERS = textwrap.dedent("""\
    groups: {money: {zh: 钱, en: Money}}
    levers:
      budget:
        variable: budget
        kind: series
        interpolation: linear
        min: 0
        max: 100
        group: money
        label: {zh: 预算, en: Budget}
        description: {zh: 预算, en: Budget}
    assumptions:
      share:
        variable: spending share
        min: 0.1
        max: 1
        label: {zh: 支出比例, en: Spending share}
        description: {zh: 支出比例, en: Spending share}
    """)

SCENARIO_FILES = {
    "baseline": "name: {zh: 基准, en: Baseline}\ndescription: tiny\nlevers: {}\n",
    "plan": ("name: {zh: 计划, en: Plan}\ndescription: tiny\nextends: baseline.yaml\n"
             "levers:\n  budget: {2015: 5, 2017: 7}\nassumptions:\n  share: 0.4\n"),
}


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """The project's files replaced by the tiny model's; references go to tmp_path/reference."""
    (tmp_path / "tiny.mdl").write_text(MDL, encoding="utf-8")
    (tmp_path / "parameters.yaml").write_text(PARAMETERS, encoding="utf-8")
    (tmp_path / "scenarios").mkdir()
    for sid, text in SCENARIO_FILES.items():
        (tmp_path / "scenarios" / f"{sid}.yaml").write_text(text, encoding="utf-8")
    for key, name in (("MODEL_FILE", "tiny.mdl"), ("PARAMETERS_FILE", "parameters.yaml"),
                      ("CALIBRATION_FILE", "none.yaml"), ("REFERENCE_DIR", "reference")):
        monkeypatch.setattr(paths, key, tmp_path / name)
    monkeypatch.setattr(paths, "MODEL_DIR", tmp_path)
    monkeypatch.setattr(paths, "SCENARIO_DIR", tmp_path / "scenarios")
    return tmp_path


def _write(sid: str) -> None:
    path = reference_path(sid)
    path.parent.mkdir(exist_ok=True)
    path.write_text(reference_text(sid), encoding="utf-8")


def test_the_written_reference_reads_back_as_pysds_run(tiny):
    """Every value of every variable and every row's time, exactly (repr round-trips)."""
    _write("plan")
    stored = read_reference("plan")
    live = Simulator("pysd").run("plan")
    assert stored.sizes == live.sizes and stored.sizes["time"] == 6
    np.testing.assert_array_equal(stored.time.values, live.time.values)
    assert set(stored.data_vars) == set(live.data_vars) >= {"fund", "spending", "budget"}
    for v in live.data_vars:
        np.testing.assert_array_equal(stored[v].values, live[v].values, err_msg=v)
    # the plan's lever and assumption reached PySD (not the .mdl's values)
    assert stored["budget"].sel(time=2016.0).item() > 5
    assert stale_reason("plan") == ""
    lines = reference_path("plan").read_text(encoding="utf-8").splitlines()
    assert lines[1] == "# scenario: plan"
    assert [ln.split(",", 1)[0] for ln in lines if not ln.startswith("#")] == [
        "variable", *sorted(live.data_vars)]


def test_a_sampled_case_reads_back_as_pysds_run_and_another_draw_makes_it_stale(
        tiny, monkeypatch):
    ids = sampled_ids()
    assert ids == ["plan-sample-0", "plan-sample-1"]
    assert reference_ids() == ["baseline", "plan", *ids]
    draws = sample_draws()                       # the tiny model declares one assumption
    assert list(draws) == ["share"] and draws["share"].shape == (2,)
    sc = case(ids[1])
    assert sc.id == ids[1] and sc.assumptions["share"] == draws["share"][1] != 0.4
    assert sc.levers == case("plan").levers
    _write(ids[1])
    pysd = Simulator("pysd")
    stored, live = read_reference(ids[1]), pysd.run(sc)
    np.testing.assert_array_equal(stored.time.values, live.time.values)
    assert set(stored.data_vars) == set(live.data_vars) >= {"fund", "spending"}
    for v in live.data_vars:
        np.testing.assert_array_equal(stored[v].values, live[v].values, err_msg=v)
    # the drawn share reached PySD (not the plan's 0.4)
    assert not np.array_equal(stored["spending"].values, pysd.run("plan")["spending"].values)
    assert stale_reason(ids[1]) == ""
    assert "# scenario: plan-sample-1" in reference_path(ids[1]).read_text(encoding="utf-8")
    monkeypatch.setattr(reference, "SAMPLED",
                        dataclasses.replace(reference.SAMPLED, seed=reference.SAMPLED.seed + 1))
    assert stale_reason(ids[1]) == ("written before a change of the scenario's inputs "
                                    "(levers, assumptions or calibrated values)")


def test_a_scenario_file_with_a_sampled_case_id_is_refused(tiny):
    (tiny / "scenarios" / "plan-sample-1.yaml").write_text(SCENARIO_FILES["plan"],
                                                           encoding="utf-8")
    with pytest.raises(ModelError, match="plan-sample-1 have the id of a sampled case"):
        reference_ids()


@pytest.mark.parametrize("edit, said, not_said", [
    (lambda d: (d / "scenarios" / "plan.yaml").write_text(
        SCENARIO_FILES["plan"].replace("2017: 7", "2017: 8"), encoding="utf-8"),
     "the scenario's inputs", "the .mdl"),
    (lambda d: (d / "tiny.mdl").write_text(
        MDL.replace("spending, 0)", "spending, 1)"), encoding="utf-8"),
     "the .mdl", "inputs"),
])
def test_a_changed_input_or_mdl_makes_it_stale_and_says_which(tiny, edit, said, not_said):
    _write("plan")
    edit(tiny)
    why = stale_reason("plan")
    assert why.startswith("written before a change of ") and said in why, why
    assert not_said not in why, why


def test_another_pysd_version_makes_it_stale(tiny, monkeypatch):
    _write("baseline")
    monkeypatch.setattr(reference, "package_version", lambda name: "0.0.1")
    assert stale_reason("baseline") == "written before a change of PySD's version"


def test_a_missing_file_or_one_without_fingerprint_is_stale(tiny):
    assert stale_reason("baseline") == "missing"
    with pytest.raises(ModelError, match="no reference run of 'baseline'; run `make regen`"):
        read_reference("baseline")
    _write("baseline")
    path = reference_path("baseline")
    body = [ln for ln in path.read_text(encoding="utf-8").splitlines() if not ln.startswith("#")]
    path.write_text("\n".join(body) + "\n", encoding="utf-8")
    assert stale_reason("baseline").startswith("no fingerprint")
    path.write_text("\n".join(body[:-1] + [body[-1].rsplit(",", 1)[0]]) + "\n",
                    encoding="utf-8")
    with pytest.raises(ModelError, match=r"rows time_step do not have 6 values"):
        read_reference("baseline")


def test_regen_writes_the_stale_references_and_check_then_passes(tiny, capsys):
    assert main(["regen", "--check", "reference", "-q"]) == 1
    out = capsys.readouterr().out
    assert scenario_ids() == ["baseline", "plan"]                 # every scenario file
    ids = reference_ids()                               # and the sampled cases
    assert ids == [*scenario_ids(), *sampled_ids()] and len(ids) == 4
    assert all(f"reference: STALE: {reference_path(s)}: missing" in out for s in ids), out
    assert not (tiny / "reference").exists()
    assert main(["regen", "reference", "-q"]) == 0
    assert "4 file(s) or block(s) rewritten" in capsys.readouterr().out
    before = {s: reference_path(s).read_bytes() for s in ids}
    assert main(["regen", "--check", "reference", "-q"]) == 0
    assert main(["regen", "reference", "-q"]) == 0      # current: left byte for byte
    assert {s: reference_path(s).read_bytes() for s in ids} == before


def test_regen_removes_a_stored_run_no_scenario_has_and_keeps_a_foreign_file(tiny, capsys):
    """A scenario file deleted (or fewer samples drawn) leaves its stored run behind: `--check`
    reports it, `regen` removes it. A file of that name that regen did not write (no
    fingerprint) is reported and kept: regen stops with one message naming it."""
    assert main(["regen", "reference", "-q"]) == 0
    capsys.readouterr()
    gone = reference_path("retired")
    gone.write_bytes(reference_path("plan").read_bytes())     # once the run of a scenario file
    assert main(["regen", "--check", "reference", "-q"]) == 1
    assert (f"reference: STALE: {gone}: no scenario file or sampled "
            "case has its id any more; regen removes it") in capsys.readouterr().out
    assert main(["regen", "reference", "-q"]) == 0
    assert not gone.exists() and all(reference_path(s).is_file() for s in reference_ids())
    assert main(["regen", "--check", "reference", "-q"]) == 0
    capsys.readouterr()
    mine = reference_path("mine")
    mine.write_text("variable,2012.0\nfund,0.0\n", encoding="utf-8")
    assert main(["regen", "reference", "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{mine}: no scenario file" in err
    assert "did not write it (no fingerprint)" in err and mine.is_file()

