"""Workbooks in one layout (sim.present.tabular.workbook) and console tables in the reader's language
that fit 100 columns (issue 11, items 3 and 5)."""

from __future__ import annotations

import numpy as np
import openpyxl
import pandas as pd
import pytest
import xarray as xr
import yaml

from sim import paths
from sim.analysis.outcomes.targets import fiscal_cost, target_table
from sim.errors import OutputError
from sim.model.declarations.targets import load_targets
from sim.present.reports.run_report import compare_table, scenario_workbook
from sim.present.tabular.columns import Col, Table, cell_text, excel_format
from sim.present.tabular.summary import compare_summary, fiscal_table
from sim.present.tabular.tables import WIDTH, display_width, format_table, format_tables, wrap
from sim.present.tabular.workbook import MAX_CELLS, MAX_ROWS, book_parts, fits_excel, write_workbook

TARGETS = load_targets()
YEARS = np.arange(2012.0, 2036.0)
COST = ("annual_fiscal_outlay", "exit_proceeds_to_treasury")


def run(growth: float, targets=TARGETS, outlay: float = 10.0) -> xr.Dataset:
    """Indicators growing from half their target in 2023, a fiscal outlay and an extra
    variable; units and Vensim names as the engine sets them."""
    data = {t.indicator: (("sample", "time"),
                          (t.target / 2 * np.exp(growth * (YEARS - 2023)))[None, :],
                          {"units": t.unit, "vensim_name": t.indicator.replace("_", " "),
                           "description": f"indicator {t.indicator}"})
            for t in targets}
    data[COST[0]] = (("sample", "time"), np.full((1, YEARS.size), outlay),
                     {"units": "亿元/Year", "vensim_name": "annual fiscal outlay"})
    data[COST[1]] = (("sample", "time"), np.full((1, YEARS.size), 1.0),
                     {"units": "亿元/Year", "vensim_name": "exit proceeds to treasury"})
    data["fiscal_st_funds"] = (("sample", "time"), np.full((1, YEARS.size), 1234.56789012345),
                               {"units": "亿元/Year", "vensim_name": "fiscal ST funds"})
    return xr.Dataset(data, coords={"time": YEARS})


def sheet_rows(ws) -> list[tuple]:
    return list(ws.iter_rows(values_only=True))


@pytest.mark.parametrize("lang, sheets, heads", [
    ("zh", ["摘要", "指标逐年", "全部变量", "单位与说明"],
     ["指标", "单位", "2028年目标", "2028年值", "占目标", "达标年份"]),
    ("en", ["Summary", "Indicators by year", "All variables", "Units"],
     ["Indicator", "Unit", "2028 target", "2028 value", "% of target", "Year met"]),
])
def test_run_workbook_layout_and_values(tmp_path, lang, sheets, heads):
    ds = run(0.14)
    path = tmp_path / "plan.xlsx"
    summary = scenario_workbook(path, ds, TARGETS, lang, "Plan", "plan")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == sheets
    ws = wb[sheets[0]]
    rows = sheet_rows(ws)
    head = rows.index(tuple(heads) + (None,) * (len(rows[0]) - len(heads)))
    assert ws.freeze_panes == f"B{head + 2}"
    # the summary holds the library's numbers (target_table), formatted, not retyped
    tt = target_table(ds, TARGETS)
    for i, t in enumerate(TARGETS):
        r = head + 2 + i
        assert ws.cell(r, 1).value == summary[0].frame["indicator"][i]
        assert ws.cell(r, 3).value == t.target
        assert ws.cell(r, 4).value == pytest.approx(tt["value_2028"][i], rel=1e-12)
        assert ws.cell(r, 5).value == pytest.approx(tt["ratio"][i], rel=1e-12)
        assert ws.cell(r, 6).value == tt["year_reached"][i]
        assert ws.cell(r, 4).number_format == "#,##0"
        assert ws.cell(r, 5).number_format == "0%"
        assert ws.cell(r, 6).number_format == "0"
    assert ws.cell(head + 2, 1).value == TARGETS.items[0].label[lang]
    # the fiscal cost 2024-2028 (亿元): the plan_sum outcome, (10 - 1) x 5 years
    flat = [v for row in rows for v in row]
    assert any(isinstance(v, str) and "2024" in v and ("亿元" in v or "100 million" in v)
               for v in flat)
    cost = float(fiscal_cost(ds, TARGETS)[0])
    assert cost == pytest.approx(45.0) and cost in flat
    # indicators by year: one labelled column per declared indicator, in declared order
    ind = wb[sheets[1]]
    assert [c.value for c in ind[1]][1:] == [t.label[lang] for t in TARGETS]
    assert ind.freeze_panes == "B3"
    assert [c.value for c in ind["A"]][2:] == list(range(2012, 2036))
    # all variables: label in the language, in the other one, unit; no snake_case id
    var = wb[sheets[2]]
    labels = [c.value for c in var[1]][1:]
    assert "fiscal_st_funds" not in labels
    assert ("财政科技资金" if lang == "zh" else "Fiscal S&T funds appropriated") in labels  # model/labels.yaml
    j = labels.index("财政科技资金" if lang == "zh" else "Fiscal S&T funds appropriated") + 2
    assert var.cell(3, j).value == ("亿元/年" if lang == "zh" else "100 million yuan/yr")
    assert var.cell(4, j).number_format == "#,##0"       # never a 16-digit General number
    assert var.freeze_panes == "B4"
    for ws in wb.worksheets[:3]:
        for col in ws.iter_cols(min_row=4):
            for c in col:
                if isinstance(c.value, float):
                    assert c.number_format != "General", (ws.title, c.coordinate)
    # units: variable, label zh, label en, unit, description
    units = sheet_rows(wb[sheets[3]])
    found = {r[0]: r for r in units[1:]}
    assert found["fiscal_st_funds"][1:3] == ("财政科技资金", "Fiscal S&T funds appropriated")
    assert found["tech_firms"][1:3] == (TARGETS["tech_firms"].label["zh"],
                                        TARGETS["tech_firms"].label["en"])
    assert found["tech_firms"][4] == "indicator tech_firms"
    assert wb[sheets[3]].column_dimensions["B"].width >= 8


def test_compare_workbook_and_console_use_one_table(tmp_path):
    runs = {"baseline": run(0.10), "plan": run(0.14, outlay=20.0), "late": run(0.12)}
    names = {"baseline": "基准情景（行动计划前政策延续）", "plan": "行动计划全面实施",
             "late": "行动计划推迟一年实施"}
    table = compare_table(runs, TARGETS, ["baseline", "plan"])
    for ref in ("baseline", "plan"):
        assert f"late_minus_{ref}" in table.columns and f"late_vs_{ref}_pct" in table.columns
    assert "plan_minus_plan" not in table.columns
    summary = compare_summary(table, runs, TARGETS, "zh", names, ["baseline", "plan"])
    titles = [t.title for t in summary]
    assert sum("较" in t for t in titles) == 2        # one change table per reference
    fiscal = summary[-1]
    assert fiscal.frame["cost"].tolist() == pytest.approx([45.0, 95.0, 45.0])
    assert fiscal.frame["extra_baseline"].tolist()[1:] == pytest.approx([50.0, 0.0])
    text = format_tables(summary, "zh")
    assert max(display_width(line) for line in text.splitlines()) <= WIDTH
    assert "tech_firms" not in text and "科技型企业数量" in text and "%" in text
    share = summary[1].frame
    assert share[summary[1].frame.columns[-1]].iloc[0] == pytest.approx(
        table["late_ratio"].iloc[0])
    path = tmp_path / "comparison.xlsx"
    write_workbook(path, "zh", title="比较", summary=summary)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["摘要", "单位与说明"]
    cells = [v for row in sheet_rows(wb["摘要"]) for v in row]
    assert 95.0 in cells and pytest.approx(table["plan_2028"].iloc[0]) in cells


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_console_tables_fit_100_columns(lang):
    long = {"zh": "一个非常非常长的情景名称（含括号与说明文字）", "en": "A scenario with a "
            "very long descriptive name (pre-plan policies on trend)"}[lang]
    runs = {f"s{i}": run(0.1 + 0.01 * i) for i in range(6)}
    names = {k: f"{long} {k}" for k in runs}
    table = compare_table(runs, TARGETS, ["s0", "s1"])
    text = format_tables(compare_summary(table, runs, TARGETS, lang, names, ["s0", "s1"]), lang)
    widths = [display_width(line) for line in text.splitlines()]
    assert max(widths) <= WIDTH
    assert max(widths) > 60               # split into blocks, not squeezed to nothing
    for t in TARGETS:
        assert t.label[lang] in text


def test_percentages_years_and_wrapping():
    assert cell_text(0.9134, "share") == "91%"
    assert cell_text(0.003, "probability") == "<1%"
    assert cell_text(0.0, "probability") == "0%"
    assert cell_text(3.614, "change") == "+3.6%"
    assert cell_text(2029.0, "year") == "2029"
    assert cell_text(np.nan, "number") == "-"
    assert excel_format("number", [0.0225]) == "#,##0.0000"      # three significant digits
    assert excel_format("number", [0.5, 0.7]) == "#,##0.000"
    assert excel_format("number", [17, 30.0]) == "#,##0"           # counts: no decimals
    assert excel_format("number", [21318.7]) == "#,##0"
    assert excel_format("probability") == "0.0%"
    for text, width in (("财政总成本 2024—2028年（亿元）", 14),
                        ("Total fiscal cost 2024-2028 (100 million yuan)", 14)):
        lines = wrap(text, width)
        assert all(display_width(x) <= width for x in lines)
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    assert not any(line.startswith("）") for line in wrap("较基准情景新增（亿元）", 12))
    t = Table(pd.DataFrame({"a": ["x"], "p": [0.5]}), {"p": Col("P", kind="probability")})
    assert "50%" in format_table(t, "en")


def test_size_guard_sends_large_tables_to_csv(tmp_path):
    big = pd.DataFrame({"sample": range(MAX_ROWS + 1), "x": 0.5})
    small = pd.DataFrame({"sample": range(10), "x": 0.5})
    assert not fits_excel(big) and fits_excel(small)
    summary = [Table(pd.DataFrame({"v": [1.0]}))]
    with pytest.raises(OutputError, match="write it as CSV"):
        write_workbook(tmp_path / "x.xlsx", "en", title="t", summary=summary,
                       tables={"samples": big})
    assert not (tmp_path / "x.xlsx").exists()
    parts = book_parts({"samples": big, "indices": small}, summary, None, None, "en")
    assert list(parts["tables"]) == ["indices"] and parts["csv_only"] == {"samples": MAX_ROWS + 1}
    # a design with few rows but many columns (samples x assumptions) is CSV only too
    rows = MAX_CELLS // 70 + 1
    wide = pd.DataFrame(np.full((rows, 70), 0.5), columns=[f"a{j}" for j in range(70)])
    assert rows <= MAX_ROWS and not fits_excel(wide) and fits_excel(wide.iloc[:-1])
    with pytest.raises(OutputError, match="cells"):
        write_workbook(tmp_path / "x.xlsx", "en", title="t", summary=summary,
                       tables={"samples": wide})
    parts = book_parts({"samples": wide, "indices": small}, summary, None, None, "en")
    assert list(parts["tables"]) == ["indices"] and parts["csv_only"] == {"samples": rows}


def test_sensitivity_report_writes_design_as_csv_only(tmp_path):
    from sim.present.reports.sensitivity_report import write_outputs

    big = pd.DataFrame({"sample": range(MAX_ROWS + 1), "growth": 0.1})
    tables = {"indices": pd.DataFrame({"output": ["tech_firms"], "parameter": ["growth"],
                                       "ST": [0.5]}), "samples": big}
    out = write_outputs(tables, {}, tmp_path / "s", lang="zh", central=run(0.14),
                        targets=TARGETS)
    assert (out / "samples.csv").is_file()
    wb = openpyxl.load_workbook(out / "sensitivity.xlsx")
    assert wb.sheetnames[:3] == ["摘要", "指标逐年", "全部变量"]
    assert "样本" not in wb.sheetnames and "敏感性指数" in wb.sheetnames
    cells = [v for row in sheet_rows(wb["摘要"]) for v in row]
    assert "samples.csv" in cells and MAX_ROWS + 1 in cells
    heads = [c.value for c in wb["敏感性指数"][1]]
    assert heads == ["输出", "假设", "ST"]


def test_a_sixth_declared_indicator_reaches_the_workbook(tmp_path, monkeypatch):
    raw = yaml.safe_load(paths.TARGETS_FILE.read_text(encoding="utf-8"))
    raw["reported"].pop("high_tech_enterprises")
    raw["indicators"]["high_tech_enterprises"] = {
        "target": 15000, "comparison": ">", "unit": "firms",
        "label": {"zh": "高新技术企业", "en": "High-tech enterprises"}}
    f = tmp_path / "targets.yaml"
    f.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    monkeypatch.setattr(paths, "TARGETS_FILE", f)
    six = load_targets()
    assert len(six) == 6
    ds = run(0.14, six)
    scenario_workbook(tmp_path / "six.xlsx", ds, six, "en", "Plan", "plan")
    wb = openpyxl.load_workbook(tmp_path / "six.xlsx")
    heads = [c.value for c in wb["Indicators by year"][1]][1:]
    assert heads[-1] == "High-tech enterprises" and len(heads) == 6
    cells = [r[0] for r in sheet_rows(wb["Summary"])]
    assert "High-tech enterprises" in cells
    assert fiscal_table({"plan": ds}, six, "en", {"plan": "Plan"}).frame["met"][0].endswith("/6")


def test_ids_show_by_label_and_long_cells_wrap():
    from sim.present.tabular.columns import known_labels

    df = pd.DataFrame({"target": ["tech_firms", "all_targets"], "probability": [0.5, 0.004],
                       "note": ["word " * 30, "short"]})
    text = format_table(df, "zh", labels=known_labels())
    assert "tech_firms" not in text and TARGETS["tech_firms"].label["zh"] in text
    assert "50%" in text and "<1%" in text
    assert max(display_width(x) for x in text.splitlines()) <= WIDTH
    assert len(text.splitlines()) > 4            # the long note wrapped onto several lines


def test_workbook_columns_fit_chinese_text(tmp_path):
    ds = run(0.14)
    scenario_workbook(tmp_path / "p.xlsx", ds, TARGETS, "zh", "计划", "plan")
    ws = openpyxl.load_workbook(tmp_path / "p.xlsx")["摘要"]
    longest = max(display_width(t.label["zh"]) for t in TARGETS)
    assert ws.column_dimensions["A"].width >= longest + 2     # a Chinese character counts 2


def test_compare_command_console(capsys, tmp_path):
    from sim.cli.main import main

    assert main(["compare", "baseline", "plan", "late-start", "--against", "baseline", "plan",
                 "--out", str(tmp_path), "-q", "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    assert max(display_width(x) for x in out.splitlines()) <= WIDTH
    assert "tech_firms" not in out and "科技型企业数量" in out
    assert "财政总成本" in out and "亿元" in out and "%" in out
    table = pd.read_csv(tmp_path / "compare" / "comparison.csv")
    assert {"late-start_minus_baseline", "late-start_minus_plan"} <= set(table.columns)
    wb = openpyxl.load_workbook(tmp_path / "compare" / "comparison.xlsx")
    assert wb.sheetnames[0] == "摘要" and wb.sheetnames[-1] == "单位与说明"


def test_chinese_sheets_changes_as_percentages_and_headers_that_show(tmp_path):
    from sim.present.tabular.tables import wrap_header

    assert wrap_header("行动计划全面实施", 14) == ["行动计划", "全面实施"]
    assert all(len(line) > 1 for line in wrap_header("行动计划全面实施：差值", 14))
    first = pd.DataFrame({"first_year": ["2028", "not by 2035"], "tech_firms": [0.4, 0.6]})
    cond = pd.DataFrame({"scenario": ["plan"], "drawn": [400], "screened_out": [3],
                         "acceptance": [0.5]})
    change = Table(pd.DataFrame({"indicator": ["tech_firms"], "pct": [3.6]}),
                   {"indicator": Col("指标", kind="text"),
                    "pct": Col({"zh": "行动计划全面实施：较基准情景(行动计划前政策延续)的变化率",
                                "en": "x"}, kind="change")})
    path = tmp_path / "u.xlsx"
    write_workbook(path, "zh", title="不确定性", summary=[change],
                   tables={"first_year": first, "conditioning": cond})
    wb = openpyxl.load_workbook(path)
    summary = wb.worksheets[0]
    cell = next(c for row in summary.iter_rows() for c in row if c.value == pytest.approx(0.036))
    assert cell.number_format == "+0.0%;-0.0%;0.0%"            # a number, shown as +3.6%
    head = cell.offset(row=-1)
    assert "\n" in head.value and all(len(x) > 1 for x in head.value.split("\n"))
    assert summary.row_dimensions[head.row].height >= 30       # every line shows
    sheets = {ws.title: ws for ws in wb.worksheets}
    fy = next(ws for name, ws in sheets.items() if "首次" in name or "first" in name.lower())
    texts = [c.value for row in fy.iter_rows() for c in row if isinstance(c.value, str)]
    assert "首次达标年份" in texts and "2035年前未达标" in texts and "not by 2035" not in texts
    cs = [ws for ws in wb.worksheets if any(str(c.value).replace("\n", "") == "被筛除（发散或未通过检查）"
                                            for row in ws.iter_rows() for c in row)]
    assert cs and not any(c.value in ("screened_out", "acceptance", "drawn")
                          for row in cs[0].iter_rows() for c in row)


def test_a_single_scenario_has_no_cost_column_against_itself():
    one = fiscal_table({"plan": run(0.2)}, TARGETS, "en", {"plan": "Plan"}, ["plan"])
    assert not [c for c in one.frame.columns if c.startswith("extra_")]
    two = fiscal_table({"plan": run(0.2), "baseline": run(0.1)}, TARGETS, "en",
                       {"plan": "Plan", "baseline": "Baseline"}, ["baseline"])
    assert "extra_baseline" in two.frame.columns
