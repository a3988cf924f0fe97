"""The documents' tables of uncertain assumptions (blocks ``assumption-ranges`` of model/README.md
and ``assumption-ranges-zh`` of model/README.zh.md), derived from the one declaration of each
range (model/parameters.yaml) and the distribution sampled within it (scenarios/uncertainty.yaml,
through :func:`sim.analysis.ensembles.uncertainty_spec.load_uncertainty`, which takes the range from that
declaration): id, name, unit, range, distribution, confidence grade, whether ``plansim
calibrate`` estimates it, and what it means (the declared description). The reasoning and the
sources of each value stay in the ``.mdl`` comment (the table of constants).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from sim.analysis.ensembles.conditioning_settings import read_uncertainty_file
from sim.model.declarations.calibrated import load_calibrated_values
from sim.model.declarations.numtext import format_range, trimmed
from sim.model.declarations.words import by_lang, entry, group, word
from sim.present.documents.docs import md_table
from sim.present.labels import label, unit_label

HEAD = by_lang("ranges_head")
KINDS = by_lang("ranges_kinds")
SHAPE = group("ranges_shape")
YES = by_lang("ranges_yes")
INTRO = entry("ranges.intro")


def _distribution(kind: str, dist: Any, lang: str) -> str:
    """The declared kind (the prior of the estimation) with its shape."""
    text = KINDS[lang][kind]
    shape = word("punctuation.list", lang).join(f"{label(SHAPE[k], lang)} {trimmed(v)}"
                      for k, v in dist.params.items() if k in SHAPE)
    if shape:
        text += word("punctuation.comma", lang) + shape
    return text


def assumption_range_table(params: Any, spec: Any, kinds: dict[str, str],
                           calibrated: set[str], units: Callable[[str], str | None],
                           lang: str) -> pd.DataFrame:
    """One row per declared assumption. ``kinds``: id -> declared distribution name;
    ``units``: Python name -> ``.mdl`` units."""
    h = HEAD[lang]
    rows = []
    for aid, a in params.assumptions.items():
        item = spec.items.get(aid)
        dist = item.distribution if item is not None else None
        narrowed = dist is not None and (dist.lower, dist.upper) != (a.min, a.max)
        rows.append({
            h["id"]: f"`{aid}`", h["name"]: label(a.label, lang),
            h["unit"]: unit_label(units(a.py_name), lang),
            h["range"]: format_range(a.min, a.max),
            h["dist"]: "" if dist is None else _distribution(kinds.get(aid, dist.kind), dist, lang)
            + (f" {format_range(dist.lower, dist.upper)}" if narrowed else ""),
            h["grade"]: "" if item is None else item.confidence,
            h["cal"]: YES[lang]["yes"] if aid in calibrated else YES[lang]["no"],
            h["desc"]: label(a.description, lang),
        })
    return pd.DataFrame(rows)


def block_assumption_ranges(ctx: Any, lang: str = "en") -> str:
    params = ctx.simulator.parameters
    raw = (read_uncertainty_file(ctx.spec.path)[1] or {}).get("assumptions") or {}
    kinds = {k: e.get("distribution") for k, e in raw.items() if isinstance(e, dict)}
    info = ctx.simulator.info

    def units(py: str) -> str | None:
        u = info["units"].get(py) if py in info.index else None
        return u if isinstance(u, str) else None

    table = assumption_range_table(params, ctx.spec, kinds, set(load_calibrated_values()),
                                   units, lang)
    return INTRO[lang].format(n=len(table)) + "\n\n" + md_table(table)


BLOCKS = {"assumption-ranges": lambda ctx: block_assumption_ranges(ctx, "en"),
          "assumption-ranges-zh": lambda ctx: block_assumption_ranges(ctx, "zh")}
