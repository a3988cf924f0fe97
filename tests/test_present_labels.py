"""Bilingual labels, units and number formatting (sim.present.labels)."""

from __future__ import annotations

import types

import pytest

from sim.errors import OutputError
from sim.present.labels import (
    axis_label,
    check_lang,
    format_number,
    label,
    text,
    unit_label,
    variable_label,
)

LBL = {"zh": "科技型企业数量", "en": "Technology-based firms"}


def test_label_from_mapping_object_and_string():
    assert label(LBL, "zh") == "科技型企业数量"
    assert label(LBL, "en") == "Technology-based firms"
    assert label(types.SimpleNamespace(zh="甲", en="A"), "en") == "A"
    assert label("plain", "zh") == "plain"
    assert label({"zh": "只有中文"}, "en") == "只有中文"
    assert label({"zh": "", "en": "only en"}, "zh") == "only en"


@pytest.mark.parametrize("bad", ["fr", "ZH", "", None])
def test_unknown_language_raises(bad):
    with pytest.raises(OutputError, match="'zh' and 'en'"):
        label(LBL, bad)
    with pytest.raises(OutputError):
        check_lang(bad)


def test_label_without_text_raises():
    with pytest.raises(OutputError, match="neither"):
        label({"de": "x"}, "zh")
    with pytest.raises(OutputError, match="expected a string"):
        label(42, "zh")


def test_units_and_axis_labels():
    assert unit_label("firms", "zh") == "家"
    assert unit_label("firms/year", "zh") == "家/年"
    assert unit_label("亿元", "en") == "100 million yuan"
    assert unit_label("widgets", "zh") == "widgets"
    assert unit_label(None, "en") == ""
    assert axis_label("研发经费", "亿元", "zh") == "研发经费（亿元）"
    assert axis_label("R&D", "亿元", "en") == "R&D (100 million yuan)"
    assert axis_label("Index", "", "en") == "Index"


def test_variable_label_lookup_order():
    assert variable_label("x", "zh", {"x": {"zh": "甲", "en": "A"}}) == "甲"
    assert variable_label("tech_brokers", "en") == "Technology brokers"
    # a model comment is never a label; the Vensim name is the last resort before the id
    assert variable_label("y", "en", attrs={"description": "Some stock\nmore"}) == "y"
    assert variable_label("y", "zh", attrs={"vensim_name": "some stock"}) == "Some stock"
    assert variable_label("rd_intensity", "zh") == "研发投入强度"     # model/labels.yaml
    assert variable_label("rd_intensity", "en") == "R&D intensity"
    assert variable_label("y", "en") == "y"


def test_display_units_and_shares():
    from sim.present.labels import display_unit

    assert display_unit("rd_intensity", "Dmnl") == ("share", 100.0)
    assert unit_label("share", "zh") == "%"
    assert display_unit("rd_per_hte", "万元/(firms*Year)") == ("万元/(firms*Year)", 1.0)
    assert unit_label("万元/(firms*Year)", "zh") == "万元/家/年"
    assert unit_label("亿元/Year", "en") == "100 million yuan/yr"


def test_text_and_numbers():
    assert text("target", "zh", year=2028) == "2028年目标"
    assert text("target", "en", year=2030) == "2030 target"
    with pytest.raises(OutputError, match="unknown key"):
        text("nope", "zh")
    assert format_number(22000) == "22,000"
    assert format_number(12.345) == "12.3"
    assert format_number(0.01234) == "0.0123"
    assert format_number(1234.5, 1) == "1,234.5"
    assert format_number(float("nan")) == "-"
