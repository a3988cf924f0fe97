"""The fixed words of the explorer page in Chinese and English (labels of levers, indicators,
groups and scenarios come from their declarations)."""

from __future__ import annotations

from typing import Any

WORDS: dict[str, dict[str, str]] = {
    "title": {"zh": "科技强市行动计划 · 政策实验台", "en": "S&T action plan explorer"},
    "intro": {"zh": "拖动滑块（松开即重新计算）：五项指标、{year}年目标与达标情况即时更新。",
              "en": "Move a slider (it re-runs on release): the five indicators, the {year} "
                    "targets and the answer update at once."},
    "levers": {"zh": "政策杠杆（{start}—{end}年逐年取值）",
               "en": "Policy levers (a value per year, {start}-{end})"},
    "reset_to": {"zh": "重置为情景", "en": "Reset to scenario"},
    "group": {"zh": "杠杆类别", "en": "Lever group"},
    "reset": {"zh": "重置", "en": "Reset"},
    "save": {"zh": "保存情景（YAML）", "en": "Save scenario (YAML)"},
    "upload": {"zh": "载入情景文件（YAML）：", "en": "Load a scenario file (YAML):"},
    "band": {"zh": "不确定性区间与达标概率（{n}个历史匹配样本）",
             "en": "Uncertainty band and P(met) ({n} history-matched samples)"},
    "band_note": {"zh": "区间：5%–95%；样本在“{sc}”情景下按历史数据筛选（种子 {seed}），各设置共用同一组样本。",
                  "en": "Band: 5-95%; samples history-matched with '{sc}' (seed {seed}), the "
                        "same samples for every setting."},
    "computing": {"zh": "正在进行历史匹配（首次约需数秒）…",
                  "en": "History-matching the ensemble (a few seconds, once)..."},
    "fiscal": {"zh": "财政成本（{start}—{end}年合计）：<b>{value}</b> 亿元",
               "en": "Fiscal cost {start}-{end}: <b>{value}</b> 亿元"},
    "fiscal_refs": {"zh": "（基准 {base}，计划 {plan}）", "en": " (baseline {base}, plan {plan})"},
    "scenario": {"zh": "当前设置：基于“{name}”{moved}", "en": "Settings: from '{name}'{moved}"},
    "moved": {"zh": "，已调整 {n} 个杠杆", "en": "; levers moved: {n}"},
    "indicator": {"zh": "指标", "en": "Indicator"},
    "target": {"zh": "{year}年目标", "en": "{year} target"},
    "value": {"zh": "{year}年值", "en": "{year} value"},
    "share": {"zh": "目标完成度", "en": "Share of target"},
    "reached": {"zh": "达标年份", "en": "Year reached"},
    "change": {"zh": "较计划变化", "en": "Change vs plan"},
    "pmet": {"zh": "达标概率", "en": "P(met)"},
    "all": {"zh": "全部目标", "en": "All targets"},
    "never": {"zh": "{h}年前未达标", "en": "not by {h}"},
    "current": {"zh": "当前设置", "en": "Current settings"},
    "baseline": {"zh": "基准情景", "en": "Baseline"},
    "plan": {"zh": "行动计划", "en": "Plan"},
    "history": {"zh": "历史数据", "en": "History"},
    "target_mark": {"zh": "{year}年目标", "en": "{year} target"},
    "band_legend": {"zh": "5%–95%区间", "en": "5-95% band"},
    "marks": {"zh": "滑块刻度：灰色＝基准，橙色＝计划", "en": "Slider marks: grey = baseline, "
                                                   "orange = plan"},
    "range": {"zh": "范围 {lo}–{hi}", "en": "range {lo}-{hi}"},
    "error": {"zh": "错误：", "en": "Error: "},
    "loaded": {"zh": "已载入 {name}", "en": "Loaded {name}"},
    # refusals of an upload or an input, shown on the page (sim.present.explorer.guard)
    "reading": {"zh": "正在读取 {name}…", "en": "Reading {name}..."},
    "upload_path": {"zh": "文件名 {name} 不是单纯的文件名；请上传 .yaml 文件",
                    "en": "the file name {name} is not a plain file name; upload a .yaml file"},
    "upload_long": {"zh": "文件名过长（{n} 字节）；情景编号最多 {most} 字节，请改短文件名",
                    "en": "the file name is too long ({n} bytes); a scenario id may have at "
                          "most {most} bytes: rename the file"},
    "upload_ext": {"zh": "{name} 不是 YAML 文件；请上传 .yaml 或 .yml 文件",
                   "en": "{name} is not a YAML file; upload a .yaml or .yml file"},
    "upload_id": {"zh": "文件名 {name} 不能作为情景编号；可用字母、数字、_、-、. 和空格，以字母或数字开头",
                  "en": "the file name {name} cannot be a scenario id; allowed: letters, digits, "
                        "'_', '-', '.' and spaces, starting with a letter or digit"},
    "unexpected": {"zh": "无法完成（{kind}）；设置保持不变",
                   "en": "could not be done ({kind}); the settings are unchanged"},
    "bad_value": {"zh": "“{name}”{year}年的输入“{text}”无效：应为 {lo} 至 {hi} 之间的数。",
                  "en": "'{text}' for {name} in {year} is refused: enter a number from {lo} "
                        "to {hi}."},
    "stale": {"zh": "输入无效：下方结果不是当前设置的结果。",
              "en": "Inputs invalid: the results below are not those of the current settings."},
    "unallocated": {"zh": "未分配", "en": "Unallocated"},
    "shares_rule": {"zh": "各年分配比例之和不超过 {max}：调高一项时，若超出，其余各项按比例减少；"
                          "余下部分为未分配资金。",
                    "en": "Each year the shares sum to at most {max}: raising one takes from the "
                          "others in proportion when the sum would exceed it; the rest is "
                          "unallocated."},
}


def word(key: str, lang: str, **fmt: Any) -> str:
    return WORDS[key][lang].format(**fmt)
