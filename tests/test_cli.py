"""The command line writes what it promises, and bad input gets one clear line and exit 2."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.cli.main import main
from sim.model.declarations.targets import load_targets

# one worker runs the module: the run_out fixture (the whole `plansim run`) is made once
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("cli-run")]
INDICATORS = load_targets().indicators


@pytest.fixture(scope="module")
def run_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    assert main(["run", "--out", str(out), "--quiet", "--lang", "en"]) == 0
    return out


def test_run_writes_every_promised_file(run_out):
    for sid in ("baseline", "plan"):
        d = run_out / sid
        for name in ("timeseries.csv", "timeseries.units.csv", "targets.csv", f"{sid}.xlsx",
                     "indicators.png"):
            assert (d / name).is_file() and (d / name).stat().st_size > 0, name
        sectors = sorted(d.glob("sector-*.png"))
        assert len(sectors) >= 5
        assert not list(d.glob("*.svg")), "SVG is written only on request (--formats)"
        assert not list(run_out.glob(".*tmp*")), "temporary directories left behind"


def test_timeseries_has_every_indicator_per_year(run_out):
    ts = pd.read_csv(run_out / "plan" / "timeseries.csv")
    assert ts["time"].tolist() == list(range(2012, 2036))
    for col in (*INDICATORS, *load_targets().reported_indicators):
        assert col in ts.columns
    units = pd.read_csv(run_out / "plan" / "timeseries.units.csv")
    assert set(ts.columns) - {"time"} <= set(units["column"])
    assert units.set_index("column").loc["tech_firms", "unit"]


def test_targets_table_columns(run_out):
    tt = pd.read_csv(run_out / "baseline" / "targets.csv")
    assert list(tt.columns) == ["indicator", "target", "value_2028", "ratio", "year_reached"]
    assert tt["indicator"].tolist() == list(INDICATORS)
    assert (tt["ratio"] - tt["value_2028"] / tt["target"]).abs().max() < 1e-9
    book = pd.read_excel(run_out / "baseline" / "baseline.xlsx", sheet_name=None, engine="openpyxl")
    assert list(book) == ["Summary", "Indicators by year", "All variables", "Units"]


def test_compare_writes_table_and_chart(tmp_path):
    # issue 8 case 1: --out holding the user's own files: only DIR/compare/ is written
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "thesis.tex").write_text("thesis")
    (tmp_path / "baseline").mkdir()
    assert main(["compare", "baseline", "plan", "--out", str(tmp_path), "--quiet",
                 "--formats", "png,svg"]) == 0
    assert (tmp_path / "src" / "thesis.tex").read_text() == "thesis"
    assert (tmp_path / "baseline").is_dir()
    out = tmp_path / "compare"
    table = pd.read_csv(out / "comparison.csv")
    assert "plan_minus_baseline" in table.columns
    assert "plan_year_reached" in table.columns
    for stem in ("indicators", "attainment"):   # --formats png,svg: both files of each chart
        assert (out / f"{stem}.png").is_file() and (out / f"{stem}.svg").is_file()
    assert b"<svg" in (out / "attainment.svg").read_bytes()[:1000]


@pytest.mark.parametrize("command", ["run", "compare", "uncertainty", "sensitivity",
                                     "calibrate", "what-it-takes", "returns", "discover"])
def test_every_chart_command_takes_formats(command, capsys):
    from sim.cli.main import build_parser

    parser = build_parser([command])
    args, _ = parser.parse_known_args([command, "plan", "plan"])
    assert args.formats == ("png",)     # PNG unless asked
    args, _ = parser.parse_known_args([command, "plan", "plan", "--formats", "png,svg,pdf"])
    assert args.formats == ("png", "svg", "pdf")
    with pytest.raises(SystemExit) as exc:
        parser.parse_args([command, "plan", "--formats", "png,jpeg"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--formats" in err and "'png,jpeg'" in err and "png, svg, pdf" in err


def test_formats_are_parsed_once_each():
    from sim.cli.formats import figure_formats

    assert figure_formats("svg, PNG,svg") == ("svg", "png")



def test_bad_scenario_one_line_no_traceback_and_nothing_lost(run_out, tmp_path, run_cli):
    before = {p: p.read_bytes() for p in (run_out / "baseline").iterdir()}
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: {zh: 坏, en: Bad}\nlevers:\n  not_a_lever: 1\n", encoding="utf-8")
    code, err = run_cli("run", "baseline", str(bad), "--out", str(run_out))
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert str(bad) in lines[0] and "not_a_lever" in lines[0]
    after = {p: p.read_bytes() for p in (run_out / "baseline").iterdir()}
    assert before == after


def test_missing_scenario_file(tmp_path, run_cli):
    code, err = run_cli("run", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "o"))
    assert code == 2 and "Traceback" not in err
    assert "nope.yaml" in err and "not found" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("library, shown", [
    ("samples is 0; allowed: a positive integer", "--samples is 0; allowed: a positive integer"),
    ("budget_max -1.0: allowed: a number > 0 (亿元)", "--budget-max -1.0: allowed: a number > 0 (亿元)"),
    ("target 'x': allowed: tech_firms", "--target 'x': allowed: tech_firms"),
    ("output: 'a' exists and is not a folder plansim wrote; move it away or choose another `root`",
     "output: 'a' exists and is not a folder plansim wrote; move it away or choose another --out"),
    ("target record {}: field 'indicator' is missing", "target record {}: field 'indicator' is missing"),
    ("engines differ: `plansim run` and `unknown`", "engines differ: `plansim run` and `unknown`"),
])
def test_library_parameter_names_become_flags(library, shown):
    from sim.cli.common import flag_message

    assert flag_message(library) == shown


def test_out_that_is_a_file_names_the_flag(tmp_path, capsys):
    target = tmp_path / "file.txt"
    target.write_text("mine", encoding="utf-8")
    assert main(["compare", "baseline", "plan", "--out", str(target), "-q"]) == 2
    err = capsys.readouterr().err
    assert "give a folder as --out" in err and "`root`" not in err
    assert target.read_text(encoding="utf-8") == "mine"
