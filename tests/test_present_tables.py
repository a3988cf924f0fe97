"""CSV with units sidecar, Excel round trip, console tables (sim.present.tabular.tables)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from sim.errors import OutputError
from sim.present.tabular.tables import (
    display_width,
    format_table,
    units_from_dataset,
    write_csv,
)

TS = pd.DataFrame({"tech_firms": [11000.0, 12500.5, 14100.25],
                   "rd_expenditure": [400.0, 430.0, 465.5]},
                  index=pd.Index([2023.0, 2024.0, 2025.0], name="time"))
UNITS = {"tech_firms": {"unit": "firms", "description": "科技型企业数量"},
         "rd_expenditure": "亿元"}
TARGETS = pd.DataFrame({"indicator": ["tech_firms", "tech_brokers"],
                        "指标": ["科技型企业数量", "技术经纪人"],
                        "target": [22000, 3400], "met": [True, False]})


def test_units_from_dataset():
    ds = xr.Dataset({"a": xr.DataArray(np.zeros((1, 2)), dims=("sample", "time"),
                                       attrs={"units": "firms", "description": "A stock"})})
    assert units_from_dataset(ds) == {"a": {"unit": "firms", "description": "A stock"}}


def test_csv_with_units_sidecar(tmp_path):
    paths = write_csv(TS, tmp_path / "timeseries.csv", units=UNITS)
    assert [p.name for p in paths] == ["timeseries.csv", "timeseries.units.csv"]
    back = pd.read_csv(paths[0], index_col="time")
    pd.testing.assert_frame_equal(back, TS)
    side = pd.read_csv(paths[1], keep_default_na=False)
    assert list(side.columns) == ["column", "unit", "description"]
    assert side.to_dict("records") == [
        {"column": "tech_firms", "unit": "firms", "description": "科技型企业数量"},
        {"column": "rd_expenditure", "unit": "亿元", "description": ""}]
    # default index is not written; no sidecar without units
    paths = write_csv(TARGETS, tmp_path / "targets.csv")
    assert len(paths) == 1
    pd.testing.assert_frame_equal(pd.read_csv(paths[0]), TARGETS)


def test_csv_units_for_unknown_column_is_an_error(tmp_path):
    with pytest.raises(OutputError, match="'nope'"):
        write_csv(TS, tmp_path / "t.csv", units={"nope": "firms"})
    assert list(tmp_path.iterdir()) == []


def test_format_table_aligns_chinese():
    assert display_width("科技a") == 5
    out = format_table(TARGETS, "zh", labels={"target": {"zh": "目标", "en": "Target"}})
    lines = out.splitlines()
    assert lines[0].split() == ["indicator", "指标", "目标", "met"]
    # the numeric column ends at the same display column on every row
    ends = [display_width(line[: line.index(num) + len(num)])
            for line, num in zip(lines[2:], ["22,000", "3,400"], strict=True)]
    assert ends[0] == ends[1] == display_width(lines[0][: lines[0].index("目标") + 2])
    starts = [display_width(line[: line.index(w)]) for line, w in
              zip(lines[2:], ["True", "False"], strict=True)]
    assert starts[0] == starts[1]
    en = format_table(TS, "en", digits=1, max_rows=2)
    assert en.splitlines()[0].split() == ["time", "tech_firms", "rd_expenditure"]
    assert "12,500.5" in en and en.splitlines()[-1] == "... (1 more)"
    with pytest.raises(OutputError):
        format_table(TS, "fr")


def test_format_table_years_plain_and_missing_dash():
    df = pd.DataFrame({"indicator": ["a", "b"], "value": [21190.3, 455.2],
                       "year_reached": pd.array([2029, None], dtype="Int64")})
    lines = format_table(df, "en").splitlines()
    assert lines[2].endswith("2029") and "2,029" not in lines[2]
    assert lines[3].endswith("-") and "NA" not in lines[3]
    assert "21,190" in lines[2]
