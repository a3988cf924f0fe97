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

from sim.model.declarations.words import entry, group
from sim.present.labels import check_lang, format_number, label
from sim.present.tabular.columns import Col, Table

WORDS = group("requirement_table")
#: a share lever's label without the word "share" (the line the money goes through)
_SHARE = {lang: re.compile(p, re.I)
          for lang, p in entry("requirement_patterns.share_label").items()}


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
