"""Never lose a user's file, no path escapes, bounded inputs, no tracebacks (the cases of
issue 8). Everything is written in tmp_path; where a command must
refuse before any work, the simulator is replaced by one that fails if it is ever built."""

from __future__ import annotations

import os
import signal
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import paths
from sim.cli.main import main
from sim.errors import OutputError, PlanSimError, ScenarioError, UncertaintyError
from sim.present.output.outdir import MARKER, claim, marker_text, owned_dir
from sim.scenarios import load_scenario

PLAN = paths.SCENARIO_DIR / "plan.yaml"
BASELINE = paths.SCENARIO_DIR / "baseline.yaml"


pytestmark = pytest.mark.usefixtures("output_locks_released")


class NoSimulator:
    """Stands in for sim.simulate.Simulator where no simulation may start."""

    def __init__(self, *args, **kwargs):
        raise AssertionError("a simulation started before the input checks finished")


@pytest.fixture
def no_simulation(monkeypatch):
    import sim.simulate

    monkeypatch.setattr(sim.simulate, "Simulator", NoSimulator)


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def user_folder(root: Path, *names: str) -> dict[str, bytes]:
    for n in names:
        (root / n).mkdir(parents=True)
        (root / n / "thesis.tex").write_text(f"{n}: years of work")
    return snapshot(root)


def err_line(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines, "no message"
    return lines[0]


# -- 1. data loss: --out and folders plansim did not write ------------------------------------
def test_run_refuses_folders_it_did_not_write(tmp_path, capsys, no_simulation):
    before = user_folder(tmp_path, "baseline", "plan", "src")
    assert main(["run", "baseline", "plan", "--out", str(tmp_path), "-q"]) == 2
    line = err_line(capsys)
    assert f"'{tmp_path / 'baseline'}' exists and was not written by plansim" in line
    assert snapshot(tmp_path) == {k: v for k, v in before.items()}


def test_calibrate_refuses_folders_it_did_not_write(tmp_path, capsys, no_simulation):
    before = user_folder(tmp_path, "calibration")
    assert main(["calibrate", "--out", str(tmp_path), "--no-write", "-q"]) == 2
    assert "calibration' exists and was not written by plansim" in err_line(capsys)
    assert snapshot(tmp_path) == before


def test_compare_writes_only_its_own_folder(tmp_path, capsys, no_simulation):
    before = user_folder(tmp_path, "compare")
    assert main(["compare", "baseline", "plan", "--out", str(tmp_path), "-q"]) == 2
    assert "compare' exists and was not written by plansim" in err_line(capsys)
    assert snapshot(tmp_path) == before


# -- 2. ids that are not folder names ---------------------------------------------------------
def test_dot_id_refused(tmp_path, capsys, no_simulation):
    out = tmp_path / "X"
    before = user_folder(out, "keep")
    bad = tmp_path / "..yaml"
    bad.write_text(PLAN.read_text(encoding="utf-8").replace("extends: baseline.yaml",
                                                            f"extends: {BASELINE}"),
                   encoding="utf-8")
    assert main(["run", str(bad), "--out", str(out), "-q"]) == 2
    assert "the scenario id '.'" in err_line(capsys)
    assert snapshot(out) == before


# -- 3. ids that collide, other commands' results, concurrent runs ----------------------------
def test_same_id_twice_refused_before_work(tmp_path, capsys, no_simulation):
    (tmp_path / "other").mkdir()
    twin = tmp_path / "other" / "plan.yaml"
    twin.write_text(f"name: {{zh: 另一个, en: Other}}\nextends: {PLAN}\n", encoding="utf-8")
    out = tmp_path / "X"
    assert main(["run", "plan", str(twin), "--out", str(out), "-q"]) == 2
    line = err_line(capsys)
    assert "scenario 'plan' is the id of both" in line and str(twin) in line
    assert not out.exists()


def test_scenario_named_like_another_result_refused(tmp_path, capsys, no_simulation):
    out = tmp_path / "X"
    (out / "uncertainty").mkdir(parents=True)
    (out / "uncertainty" / MARKER).write_text(marker_text("uncertainty"))
    (out / "uncertainty" / "probabilities.csv").write_text("Monte Carlo result")
    sc = tmp_path / "uncertainty.yaml"
    sc.write_text(f"name: {{zh: 不确定, en: Unc}}\nextends: {BASELINE}\n", encoding="utf-8")
    before = snapshot(out)
    assert main(["run", str(sc), "--out", str(out), "-q"]) == 2
    assert "holds a result of `plansim uncertainty`, not of `plansim run`" in err_line(capsys)
    assert snapshot(out) == before


def test_concurrent_run_refused(tmp_path, capsys, no_simulation):
    claim(tmp_path, "run", ["plan"])    # another command holds the folder
    assert main(["run", "plan", "--out", str(tmp_path), "-q"]) == 2
    assert "another plansim command is writing into" in err_line(capsys)


# -- 4. interruption: SIGTERM / SIGINT during a run -------------------------------------------
class FakeSimulator:
    def __init__(self, *args, **kwargs):
        self.info = pd.DataFrame(index=pd.Index([], dtype=str))

    def run(self, scenario, **kwargs):
        return scenario.id


@pytest.mark.parametrize("signum, status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_reports_exactly_what_was_replaced(tmp_path, capsys, monkeypatch, signum,
                                                       status):
    import sim.model.declarations.sectors
    import sim.present.reports.run_report
    import sim.present.tabular.summary
    import sim.simulate
    from sim.present.tabular.columns import Table

    def write(ds, sc, targets, sectors, out, **kwargs):
        with owned_dir(Path(out) / sc.id) as tmp:
            (tmp / "timeseries.csv").write_text("new")
            if sc.id == "plan":
                os.kill(os.getpid(), signum)
        return Path(out) / sc.id, Table(pd.DataFrame({"value": [1.0]}))

    monkeypatch.setattr(sim.simulate, "Simulator", FakeSimulator)
    monkeypatch.setattr(sim.model.declarations.sectors, "check_sector_variables", lambda *a: None)
    monkeypatch.setattr(sim.present.reports.run_report, "write_scenario", write)
    monkeypatch.setattr(sim.present.reports.run_report, "scenario_figures", lambda *a, **k: [])
    # the console tables come before any file (issue 22 item 9): made from the fake runs
    monkeypatch.setattr(sim.present.reports.run_report, "scenario_summary",
                        lambda *a: [Table(pd.DataFrame({"value": [1.0]}))])
    monkeypatch.setattr(sim.present.tabular.summary, "fiscal_table", lambda *a: None)
    for sid in ("baseline", "plan"):
        (tmp_path / sid).mkdir()
        (tmp_path / sid / MARKER).write_text(marker_text("run"))
        (tmp_path / sid / "timeseries.csv").write_text("old")
    assert main(["run", "baseline", "plan", "--out", str(tmp_path), "-q"]) == status
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"interrupted ({signal.Signals(signum).name})" in err
    assert f"replaced: {tmp_path / 'baseline'}" in err
    assert f"not written (any earlier result there is untouched): {tmp_path / 'plan'}" in err
    assert (tmp_path / "baseline" / "timeseries.csv").read_text() == "new"
    assert (tmp_path / "plan" / "timeseries.csv").read_text() == "old"
    assert not [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name or ".old-" in p.name]
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # handlers restored


# -- 5. conformance manifest names that escape DIR ---------------------------------------------
def _manifest(tmp_path: Path, rows: str, header="test,model,expected,data_files,rtol,atol\n"):
    d = tmp_path / "conf"
    d.mkdir(exist_ok=True)
    (d / "manifest.csv").write_bytes((header + rows).encode("utf-8")
                                     if isinstance(rows, str) else header.encode() + rows)
    return d


def test_manifest_test_outside_dir_refused(tmp_path, capsys):
    secret = tmp_path / "somewhere"
    secret.mkdir()
    (secret / "m.mdl").write_text("secret")
    d = _manifest(tmp_path, "../somewhere,m.mdl,out.tab,,1e-5,1e-5\n")
    assert main(["conformance", str(d)]) == 2
    assert "test '../somewhere' is not allowed" in err_line(capsys)
    d = _manifest(tmp_path, "t,../../somewhere/m.mdl,out.tab,,1e-5,1e-5\n")
    (d / "t").mkdir()
    assert main(["conformance", str(d)]) == 1
    assert "is outside the test folder" in capsys.readouterr().out


# -- 6. the PySD cache ---------------------------------------------------------------------------
def test_pysd_folder_private_and_unpredictable():
    import tempfile

    from sim.model.equations import mdl

    root = mdl.translation_dir()
    st = os.lstat(root)
    assert stat.S_ISDIR(st.st_mode) and not stat.S_ISLNK(st.st_mode)
    assert st.st_uid == os.getuid() and stat.S_IMODE(st.st_mode) == 0o700
    assert root != Path(tempfile.gettempdir()) / "plansim-pysd"
    assert root.name.startswith("plansim-pysd-") and len(root.name) > len("plansim-pysd-") + 4


def test_pysd_translation_stays_in_the_private_folder(tmp_path):
    """The generated .py is written (and imported) only inside this process's 0700 folder,
    never beside the model nor at a predictable shared path."""
    from sim.model.equations import mdl

    model = tmp_path / "m.mdl"
    model.write_text("x = INTEG(1, 0)\n~\n~|\nINITIAL TIME = 0\n~\n~|\nFINAL TIME = 2\n~\n~|\n"
                     "TIME STEP = 1\n~\n~|\nSAVEPER = 1\n~\n~|\n")
    m = mdl.load_pysd_model(model)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.mdl"]
    py = Path(m.py_model_file)
    assert py.resolve().is_relative_to(mdl.translation_dir().resolve())
    assert float(m.run()["x"].iloc[-1]) == 2.0


# -- 7. extends naming a file that is not a scenario ---------------------------------------------
def test_extends_non_scenario_refused_without_echo(tmp_path):
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:SECRET-CONTENT:/root:/bin/bash\n" * 30)
    child = tmp_path / "child.yaml"
    child.write_text(f"name: {{zh: 子, en: Child}}\nextends: {secret}\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    msg = str(info.value)
    assert "SECRET" not in msg and "root:x" not in msg
    assert "not a scenario file" in msg and f"extended by {child}" in msg


# -- 8. resource exhaustion ---------------------------------------------------------------------
BOMB = ("name: {zh: a, en: b}\ndescription: &a ['lol','lol','lol','lol','lol','lol','lol']\n"
        + "".join(f"x{i}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n"
                  for i in range(8)))


def test_alias_bomb_refused_quickly(tmp_path):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(BOMB)
    with pytest.raises(ScenarioError, match="through aliases") as info:
        load_scenario(bomb)
    assert len(str(info.value)) < 300


def test_large_file_refused(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text("description: " + "x" * (5 * 1024 * 1024) + "\n")
    with pytest.raises(ScenarioError, match="too large") as info:
        load_scenario(big)
    assert len(str(info.value)) < 300


def test_values_in_messages_are_excerpts(tmp_path, capsys):
    long = tmp_path / "long.yaml"
    long.write_text("name: {zh: a, en: b}\nlevers:\n  fiscal_budget: '" + "9" * 20000 + "'\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(long)
    assert len(str(info.value)) < 400 and "20,002 characters" in str(info.value)
    assert main(["run", str(long), "--out", str(tmp_path / "o")]) == 2
    assert len(err_line(capsys)) < 700


# -- 9. tracebacks ----------------------------------------------------------------------------------
@pytest.mark.parametrize("argv, expected", [
    (["uncertainty", "plan", "--seed", "-1"], "--seed: -1 is not allowed"),
    (["uncertainty", "plan", "--samples", "ten"], "'ten' is not a whole number"),
    (["sensitivity", "plan", "--method", "morris", "--samples", "0"], "--samples: 0 is not"),
    (["uncertainty", "plan", "--chunk-size", "0"], "--chunk-size: 0 is not allowed"),
])
def test_counts_checked_by_the_parser(argv, expected, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err


def test_memory_estimate_before_sampling(tmp_path, capsys, monkeypatch):
    from sim.analysis.ensembles import ensemble

    monkeypatch.setattr(ensemble, "available_memory", lambda: 2 * 1024**3)
    monkeypatch.setattr(ensemble, "saved_times", lambda engine="batch": 24)
    assert main(["uncertainty", "plan", "--samples", "100000000", "--out", str(tmp_path),
                 "-q"]) == 2
    line = err_line(capsys)
    assert "--samples 100,000,000: the arrays would need about" in line
    assert "GiB" in line and "allowed here: at most about" in line
    fit = int(line.rsplit("about ", 1)[1].replace(",", ""))
    assert 1000 < fit < 100_000_000
    ensemble.check_memory(fit, runs_per_count=1, dim=68, columns=5, times=24)  # fits


def test_check_memory_units():
    from sim.analysis.ensembles.ensemble import check_memory

    need = check_memory(1000, runs_per_count=70, dim=68, columns=8, times=24,
                        available=10**12)
    assert need == 1000 * 8 * (70 * (2 * 68 + 2 * 8 * 24) + 68)
    with pytest.raises(UncertaintyError, match=r"70,000,000 runs.*at most about"):
        check_memory(10**6, runs_per_count=70, dim=68, columns=8, times=24,
                     available=10**9)


def test_non_utf8_spec(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_bytes(b"assumptions:\n  a: \xff\xfe\n")
    assert main(["uncertainty", "plan", "--spec", str(spec), "--out", str(tmp_path), "-q"]) == 2
    assert "not UTF-8" in err_line(capsys)


@pytest.mark.parametrize("rows, expected", [
    ("t,m.mdl,out.tab,,abc,1e-5\n", "rtol 'abc' is not allowed"),
    ("t,m.mdl,out.tab,,-1,1e-5\n", "rtol '-1' is not allowed"),
    ("t,m.mdl\n", "fewer fields than the header"),
    ("t,m.mdl,out.tab,,1e-5,1e-5,extra\n", "more fields than the header"),
    (b"t\xff,m.mdl,out.tab,,1e-5,1e-5\n", "not UTF-8"),
])
def test_bad_manifest(rows, expected, tmp_path, capsys):
    d = _manifest(tmp_path, rows)
    assert main(["conformance", str(d)]) == 2
    assert expected in err_line(capsys)


# -- 10. the Python API validates like scenario files -----------------------------------------------
@pytest.mark.parametrize("levers, assumptions, expected", [
    ({"fiscal_budget": -1000}, None, "levers.fiscal_budget: -1000 is outside the allowed range"),
    ({"fiscal_budget": float("nan")}, None, "levers.fiscal_budget: nan is not a finite number"),
    ({"fiscal_budget": {2025: float("inf")}}, None, "levers.fiscal_budget.2025: inf is not a"),
    ({"fiscal_budget": {"2025": 0.7}}, None, "year '2025' is not allowed"),
    ({"hte_first_award": "ten"}, None, "levers.hte_first_award: 'ten' is not a number"),
    ({"fiscal_budgte": 1}, None, "unknown lever; did you mean 'fiscal_budget'?"),
    ({2025: 0.7}, None, "levers: key 2025 is not allowed"),
    (None, {"crowding_in": 99}, "assumptions.crowding_in: 99 is outside the allowed range"),
    (None, {"crowding_in": np.array([0.1, np.nan])}, "crowding_in[sample 1]: nan is not a"),
])
def test_api_validates_like_files(levers, assumptions, expected):
    import sim

    with pytest.raises(ScenarioError) as info:
        sim.run("plan", levers=levers, assumptions=assumptions)
    assert expected in str(info.value) and "plan (in code)" in str(info.value)


def test_same_message_as_a_file(tmp_path):
    import sim

    f = tmp_path / "neg.yaml"
    f.write_text(f"name: {{zh: 负, en: Neg}}\nextends: {PLAN}\nlevers:\n  fiscal_budget: -1000\n",
                 encoding="utf-8")
    with pytest.raises(ScenarioError) as from_file:
        load_scenario(f)
    with pytest.raises(ScenarioError) as from_code:
        sim.run("plan", levers={"fiscal_budget": -1000})
    from_file_text, from_code_text = str(from_file.value), str(from_code.value)
    assert from_file_text.startswith(f"{f.resolve()}: ")
    assert from_code_text.startswith("plan (in code): ")
    tail = from_file_text.removeprefix(f"{f.resolve()}: ")
    assert tail.startswith("levers.fiscal_budget: -1000 is outside the allowed range [")
    assert from_code_text.removeprefix("plan (in code): ") == tail


# -- 11. quirks ---------------------------------------------------------------------------------------
def test_duplicate_keys_and_yaml12_numbers(tmp_path):
    dup = tmp_path / "dup.yaml"
    dup.write_text("name: {zh: a, en: b}\nlevers:\n  hte_first_award: 1\n  hte_first_award: 2\n")
    with pytest.raises(ScenarioError, match=r"duplicate key 'hte_first_award' \(first at line 3"):
        load_scenario(dup)
    num = tmp_path / "num.yaml"
    num.write_text("name: {zh: a, en: b}\nlevers:\n  fiscal_budget: {2025: 1e2}\n")
    assert load_scenario(num).levers["fiscal_budget"] == {2025: 100.0}


def test_out_that_is_a_file_refused_before_simulating(tmp_path, capsys, no_simulation):
    f = tmp_path / "out"
    f.write_text("a file")
    for argv in (["run", "plan"], ["compare", "baseline", "plan"], ["calibrate", "--no-write"],
                 ["uncertainty", "plan"], ["sensitivity", "plan"]):
        assert main([*argv, "--out", str(f), "-q"]) == 2, argv
        assert "exists and is not a folder" in err_line(capsys)
    assert f.read_text() == "a file"


def test_mistyped_test_is_an_error(tmp_path, capsys):
    d = _manifest(tmp_path, "teacup,m.mdl,out.tab,,1e-5,1e-5\n")
    assert main(["conformance", str(d), "--test", "teacpu"]) == 2
    line = err_line(capsys)
    assert "--test 'teacpu': no such test" in line and "did you mean 'teacup'?" in line


def test_missing_extends_names_the_file_holding_it(tmp_path):
    child = tmp_path / "child.yaml"
    child.write_text("name: {zh: 子, en: Child}\nextends: nowhere.yaml\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    assert str(info.value).startswith(f"{child.resolve()}: extends: nowhere.yaml: scenario file")


def test_conformance_failure_names_variable_and_user_path(tmp_path):
    from sim.engine.conformance import run_all

    d = _manifest(tmp_path, "a,m.mdl,out.tab,,1e-5,1e-5\n")
    (d / "a").mkdir()
    (d / "a" / "m.mdl").write_text(
        "x = INTEG(1/y, 0)\n~\n~|\ny = 0\n~\n~|\nINITIAL TIME = 0\n~\n~|\nFINAL TIME = 2\n~\n"
        "~|\nTIME STEP = 1\n~\n~|\nSAVEPER = 1\n~\n~|\n")
    (d / "a" / "out.tab").write_text("Time\tx\n0\t0\n1\t1\n2\t2\n")
    [r] = run_all(d)
    assert not r.passed
    assert f"model '{d / 'a' / 'm.mdl'}'" in r.message
    assert "ZeroDivisionError" in r.message and "equation of 'x" in r.message
    assert "uses y" in r.message and "plansim-conf-" not in r.message


def test_errors_never_embed_unbounded_values():
    from sim.errors import cap, excerpt

    assert len(excerpt("x" * 10**6)) < 100
    assert len(cap("y" * 10**6)) < 700
    with pytest.raises(OutputError):
        claim(Path("/proc/nonexistent/x") if os.name == "posix" else Path("?"), "run", ["a"])
    assert issubclass(OutputError, PlanSimError)
