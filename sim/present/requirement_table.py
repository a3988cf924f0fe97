"""The ``what-it-takes`` table as a reader sees it: targets by name, yes/no and "all targets"
in the chosen language, each money column headed by what it holds (亿元 added through an
allocation line, not the line's share), and an unreachable row with the word unreachable and
blank money cells (``requirements.csv`` keeps the ids and leaves those cells empty).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from sim.present.columns import Col, Table
from sim.present.labels import check_lang, format_number, label

WORDS = {
    "target": {"zh": "目标", "en": "Target"},
    "probability": {"zh": "要求的达标概率", "en": "P required"},
    "reachable": {"zh": "可否达到", "en": "Reachable"},
    "yes": {"zh": "是", "en": "yes"},
    "no": {"zh": "否", "en": "no"},
    "extra": {"zh": "{start}—{end}年追加资金合计（亿元）", "en": "Extra money {start}-{end} (亿元)"},
    "unreachable": {"zh": "无法达到", "en": "unreachable"},
    "achieved": {"zh": "达到的概率", "en": "P achieved"},
    "mc_se": {"zh": "概率的抽样误差", "en": "Standard error of P"},
    "line": {"zh": "其中经“{name}”追加（亿元）", "en": "of which through {name} (亿元)"},
}
#: a share lever's label without the word "share" (the line the money goes through)
_SHARE = {"zh": re.compile(r"占比$|比例$"), "en": re.compile(r"^Share (for|of) ", re.I)}


def line_name(lever_label: Mapping[str, str], lang: str) -> str:
    """The allocation line a share lever names (``平台奖补占比`` -> ``平台奖补``)."""
    return _SHARE[lang].sub("", label(lever_label, lang)).strip() or label(lever_label, lang)


def requirements_view(table: pd.DataFrame, lines: Mapping[str, Mapping[str, str]],
                      names: Mapping[str, Any], lang: str, start: int, end: int) -> Table:
    """``table`` (``requirements.csv``) for the console in ``lang``; ``lines``: each line's
    lever label, ``names``: target ids (and ``all``) to their labels."""
    check_lang(lang)
    w = {k: v[lang] for k, v in WORDS.items()}
    rows = []
    for _, r in table.iterrows():
        ok = bool(r["reachable"])
        row = {"target": label(names.get(r["target"], r["target"]), lang),
               "probability": float(r["probability"]),
               "reachable": w["yes"] if ok else w["no"],
               "extra": format_number(float(r["extra_budget_2024_2028"]), 1) if ok
               else w["unreachable"],
               "achieved": float(r["achieved_probability"]), "mc_se": float(r["mc_se"])}
        row.update({lid: float(r[lid]) if ok else None for lid in lines})
        rows.append(row)
    cols = {"target": Col(w["target"], kind="text"),
            "probability": Col(w["probability"], kind="probability"),
            "reachable": Col(w["reachable"], kind="text"),
            "extra": Col(w["extra"].format(start=start, end=end), kind="text"),
            "achieved": Col(w["achieved"], kind="probability"),
            "mc_se": Col(w["mc_se"], kind="probability")}
    cols.update({lid: Col(w["line"].format(name=line_name(lab, lang)), kind="number")
                 for lid, lab in lines.items()})
    return Table(pd.DataFrame(rows, columns=list(cols)), cols)
