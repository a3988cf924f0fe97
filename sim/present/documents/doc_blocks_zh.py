"""The generated blocks of model/README.zh.md (in Chinese) and the derived loop tables.

Each block is computed from the model, the scenarios, ``model/targets.yaml``,
``model/parameters.yaml`` and ``model/calibration.yaml`` through the shared
:class:`~sim.present.documents.doc_context.DocContext`, so the Chinese guide carries no typed number. The
loop tables (``loop-table-en`` of model/README.md, ``loop-table-zh`` of model/README.zh.md) are
the ones ``plansim diagram`` writes (:func:`sim.present.figures.diagrams.loop_table`), so either command
leaves the same text.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.errors import DocumentError
from sim.model.declarations.numtext import format_range
from sim.model.declarations.parameters import load_parameters
from sim.present.documents.doc_context import ENSEMBLE, DocContext, num
from sim.present.documents.docs import md_table, percent
from sim.present.figures.diagrams import loop_table, variable_labels
from sim.present.labels import declared_labels, format_number, label, unit_label
from sim.scenarios.loader import read_scenario_file

COMPARISON_ZH = {">": "超过", ">=": "不少于"}
SERIES_ZH = {"rd_business": "企业研发经费"}   # fitted series that are not indicators


def _first_met_zh(table: pd.DataFrame, ind: str) -> str:
    y = table.loc[ind, "year_reached"]
    return "未达到" if pd.isna(y) else f"{int(y)}年"


def block_targets_zh(ctx: DocContext) -> str:
    year = ctx.targets.year
    rows = [{"指标": label(t.label, "zh"),
             f"{year - 5}年基数（由“翻一番”推算）": "-" if t.base is None else num(t.base),
             f"{year}年目标": f"{COMPARISON_ZH.get(t.comparison, t.comparison)} {num(t.target)}",
             "单位": unit_label(t.unit, "zh")}
            for t in ctx.targets]
    return md_table(pd.DataFrame(rows))


def _setting_zh(value) -> str:
    if isinstance(value, dict):
        items = list(value.items())
        if len(items) == 1:
            return f"{items[0][0]}年起 {format_number(items[0][1])}"
        return "；".join(f"{k}年 {format_number(v)}" for k, v in items)
    return format_number(value)


def block_plan_levers_zh(ctx: DocContext) -> str:
    """What ``scenarios/plan.yaml`` sets, lever by lever, with the baseline value."""
    plan = next((s for s in ctx.scenarios if s.id == "plan"), None)
    if plan is None:
        raise DocumentError("block 'plan-lever-values-zh': no scenario 'plan' in scenarios/")
    raw = read_scenario_file(plan.source) or {}
    params = load_parameters()
    doc = ctx.pysd_doc.set_index("Py Name")
    rows, start = [], ctx.targets.plan.start
    for lid, value in (raw.get("levers") or {}).items():
        lever = params.levers.get(lid)
        if lever is None:
            raise DocumentError(f"block 'plan-lever-values-zh': {plan.source}: lever {lid!r} is "
                                "not in model/parameters.yaml")
        units = doc.loc[lever.py_name, "Units"] if lever.py_name in doc.index else ""
        base = ctx.value("baseline", lever.py_name, start, "plan-lever-values-zh") \
            if lever.py_name in ctx.runs["baseline"] else np.nan
        rows.append({"杠杆": f"`{lid}` {label(lever.label, 'zh')}",
                     "单位": unit_label(units, "zh") if isinstance(units, str) else "",
                     f"基准情景（{start}年）": format_number(base),
                     "行动计划情景": _setting_zh(value)})
    head = (f"“行动计划”情景（`scenarios/plan.yaml`）从{start}年起改变的杠杆及其取值"
            "（“某年起”的取值从该年起保持；逐年给出的取值在最后一年之后保持；基准情景为模型文件中的"
            "默认值）：")
    return head + "\n\n" + md_table(pd.DataFrame(rows))


def block_calibration_zh(ctx: DocContext) -> str:
    # lazy: breaks the cycle doc_blocks_zh <-> doc_blocks
    from sim.present.documents.doc_blocks import fit_summary

    cal = ctx.calibration
    est = cal.get("estimates") or {}
    if not est:
        raise DocumentError("block 'calibration-summary-zh': model/calibration.yaml has no "
                            "estimates; run plansim calibrate")
    params = load_parameters()
    by_id = {**params.assumptions, **params.levers}
    erows = []
    for aid, e in est.items():
        if not e.get("moved_by_data"):
            continue
        name = label(by_id[aid].label, "zh") if aid in by_id else aid
        pr, po = e.get("prior") or {}, e.get("posterior") or {}
        erows.append({"参数": f"`{aid}` {name}",
                      "先验 5%–95%": format_range(pr.get("P5"), pr.get("P95")),
                      "后验中位数": format_number(po.get("P50")),
                      "后验 5%–95%": format_range(po.get("P5"), po.get("P95"))})
    status_zh = {"sourced": "统计数据", "lower_bound": "下限", "implied": "推算基数（仅核对）"}
    frows = [{"序列": label(declared_labels().get(r.indicator, SERIES_ZH.get(r.indicator,
                                                                            r.indicator)), "zh"),
              "类型": status_zh.get(r.status, r.status), "观测个数": str(int(r.n)),
              "后验中位数的绝对误差（中位）": f"{r.median_abs_error_pct:.3g}%"}
             for r in fit_summary(cal).itertuples()]
    head = (f"最近一次估计（{cal.get('date', '?')}，贝叶斯估计，emcee 抽样）以 "
            f"{cal.get('origin', '?')} 年为预测起点，估计了 {len(est)} 个参数，其中 "
            f"{len(erows)} 个的分布被历史数据明显改变：")
    return (head + "\n\n" + md_table(pd.DataFrame(erows)) + "\n\n各序列的拟合误差：\n\n"
            + md_table(pd.DataFrame(frows)))


def block_results_zh(ctx: DocContext) -> str:
    year = ctx.targets.year
    unc = ctx.uncertainty
    names = {s.id: label(s.name, "zh") for s in ctx.scenarios}
    rows = []
    for t in ctx.targets:
        ind = t.indicator
        row = {"指标（目标）": f"{label(t.label, 'zh')}（{COMPARISON_ZH.get(t.comparison, '')}"
                              f"{num(t.target)}）"}
        for sid, table in ctx.tables.items():
            row[f"{names[sid]}：{year}年"] = num(table.loc[ind, f"value_{year}"])
        row["行动计划：首次达标"] = _first_met_zh(ctx.tables["plan"], ind)
        for sid in ENSEMBLE["scenarios"]:
            row[f"达标概率：{names[sid]}"] = percent(unc[sid].probabilities.loc[ind, "probability"])
        rows.append(row)
    head = (f"校准后模型的中心估计（`plansim run`）和在 {ctx.spec.dim} 个不确定假设的取值范围内"
            f"抽样 {ENSEMBLE['samples']} 次得到的{year}年达标概率（`plansim uncertainty "
            f"{' '.join(ENSEMBLE['scenarios'])} --samples {ENSEMBLE['samples']} --seed "
            f"{ENSEMBLE['seed']}`）。{ctx.targets.count_word('zh')}项同时达标的概率：" + "，".join(
                f"{names[sid]} {percent(unc[sid].probabilities.loc['all_targets', 'probability'])}"
                for sid in ENSEMBLE["scenarios"]) + "。")
    return head + "\n\n" + md_table(pd.DataFrame(rows))


def block_loop_table(ctx: DocContext, lang: str) -> str:
    return loop_table(ctx.loop_polarities, variable_labels(ctx.loop_graph, lang), lang)


BLOCKS = {"targets-table-zh": block_targets_zh, "plan-lever-values-zh": block_plan_levers_zh,
          "calibration-summary-zh": block_calibration_zh, "results-table-zh": block_results_zh,
          "loop-table-en": lambda ctx: block_loop_table(ctx, "en"),
          "loop-table-zh": lambda ctx: block_loop_table(ctx, "zh")}
