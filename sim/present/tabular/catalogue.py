"""Catalogues of the policy levers and the uncertain assumptions (``plansim levers``,
``plansim assumptions``), from their declarations (model/parameters.yaml), the units of the
``.mdl`` and the values of the calibrated runs.

Levers: id, label in the chosen language, unit, group, allowed range, the value in the
reference run (baseline) and in the chosen scenario in the plan's first and target years, and
what it means (its ``description`` in model/parameters.yaml).
Assumptions: id, label, unit, allowed range, the value the runs use (calibrated where
model/calibration.yaml estimates it, else the ``.mdl`` value), whether it is calibrated, its
distribution in the uncertainty file, and what it means.
:func:`catalogue_text` prints either table for a console of :data:`CONSOLE_WIDTH` columns
(a Chinese character takes two): one entry per row, the description wrapped beneath it.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.ensembles.uncertainty_spec import load_uncertainty
from sim.model.declarations.calibrated import load_calibrated_values
from sim.model.declarations.numtext import format_range
from sim.model.declarations.parameters import load_parameters
from sim.model.declarations.targets import load_targets
from sim.model.declarations.words import entry, group, word
from sim.present.labels import check_lang, format_number, label, unit_label
from sim.present.tabular.tables import WIDTH, display_width
from sim.scenarios import load_scenario
from sim.scenarios.constraints import load_constraints
from sim.simulate import Simulator

CONSOLE_WIDTH = WIDTH  # the console width of every table (sim.present.tabular.tables)

HEAD = group("catalogue_head")

#: how series are read and the sum rule, printed before the lever catalogue
NOTE = entry("catalogue.note")
RULE = entry("catalogue.rule")


def lever_note(lang: str = "zh") -> str:
    """How series are read and the declared sum rules (``plansim levers`` prints it first)."""
    check_lang(lang)
    rules = " ".join(RULE[lang].format(levers=", ".join(c.levers), max=f"{c.max_sum:g}")
                     for c in load_constraints(load_parameters()))
    return NOTE[lang].format(rules=rules)


def _h(key: str, lang: str, **fmt: Any) -> str:
    return HEAD[key][lang].format(**fmt)


def _value(ds: Any, name: str, year: float) -> float:
    if name not in ds:
        return float("nan")
    da = ds[name]
    if "sample" in da.dims:
        da = da.isel(sample=0)
    if "time" not in da.dims:
        return float(np.asarray(da.values).ravel()[0])
    return float(da.sel(time=year, method="nearest"))


def _unit(info: pd.DataFrame, py_name: str, lang: str) -> str:
    if py_name not in info.index:
        return ""
    units = info.loc[py_name, "units"]
    return unit_label(units, lang) if isinstance(units, str) else ""


def lever_table(lang: str = "zh", scenario: Any = None, reference: Any = None,
                simulator: Any = None) -> pd.DataFrame:
    """One row per lever of model/parameters.yaml; values from the calibrated runs of
    ``reference`` (default baseline) and ``scenario`` (default plan) in the plan's first and
    target years."""
    check_lang(lang)
    params = load_parameters()
    plan = load_targets().plan
    sim = simulator or Simulator("batch")
    scenario = scenario or load_scenario("plan")
    reference = reference or load_scenario("baseline")
    runs = {reference.id: sim.run(reference)}
    runs.setdefault(scenario.id, sim.run(scenario))
    columns = [(reference, plan.start), (scenario, plan.start), (scenario, plan.target_year)]
    columns = list(dict.fromkeys((s.id, y) for s, y in columns))
    names = {reference.id: reference.label(lang), scenario.id: scenario.label(lang)}
    sums = {lid: c for c in load_constraints(params) for lid in c.levers}
    rows = []
    for lid, lever in params.levers.items():
        written = _h("constant" if lever.kind == "constant" else
                     "linear" if lever.interpolation == "linear" else "step", lang)
        if lid in sums:
            written += _h("in_sum", lang, max=f"{sums[lid].max_sum:g}")
        row = {_h("id", lang): lid, _h("label", lang): label(lever.label, lang),
               _h("unit", lang): _unit(sim.info, lever.py_name, lang),
               _h("group", lang): label(params.groups.get(lever.group, lever.group), lang),
               _h("range", lang): format_range(lever.min, lever.max),
               _h("written", lang): written}
        for sid, year in columns:
            row[_h("value_in", lang, scenario=names[sid], year=year)] = format_number(
                _value(runs[sid], lever.py_name, year))
        row[_h("description", lang)] = label(lever.description, lang)
        rows.append(row)
    return pd.DataFrame(rows)


def assumption_table(lang: str = "zh", simulator: Any = None) -> pd.DataFrame:
    """One row per assumption of model/parameters.yaml: the value the runs use (from the
    baseline run), whether model/calibration.yaml estimates it, and its distribution in
    scenarios/uncertainty.yaml (empty when it is not sampled)."""
    check_lang(lang)
    params = load_parameters()
    calibrated = load_calibrated_values()
    spec = load_uncertainty()
    sim = simulator or Simulator("batch")
    base = sim.run(load_scenario("baseline"))
    year = load_targets().plan.start
    rows = []
    for aid, a in params.assumptions.items():
        dist = spec.items.get(aid)
        rows.append({
            _h("id", lang): aid, _h("label", lang): label(a.label, lang),
            _h("unit", lang): _unit(sim.info, a.py_name, lang),
            _h("range", lang): format_range(a.min, a.max),
            _h("used", lang): format_number(_value(base, a.py_name, year)),
            _h("calibrated", lang): _h("yes" if aid in calibrated else "no", lang),
            _h("distribution", lang): (
                f"{dist.distribution.kind} {format_range(dist.distribution.lower, dist.distribution.upper)}"
                if dist is not None else ""),
            _h("description", lang): label(a.description, lang),
        })
    return pd.DataFrame(rows)


# -- console -----------------------------------------------------------------------------------
_CLOSING = set("，。、；：！？）》」』】,.;:!?)%")


def _tokens(text: str) -> list[str]:
    """Break opportunities: a word of non-wide characters, a space, or one wide character
    (with the closing punctuation after it, which must not start a line)."""
    out: list[str] = []
    for ch in text:
        wide = display_width(ch) == 2
        if out and ch in _CLOSING:
            out[-1] += ch
        elif ch == " " or wide or not out or out[-1] == " " or display_width(out[-1][-1]) == 2:
            out.append(ch)
        else:
            out[-1] += ch
    return out


def wrap_text(text: str, width: int = CONSOLE_WIDTH, indent: str = "") -> list[str]:
    """``text`` in lines of at most ``width`` terminal columns (wide characters count two),
    each starting with ``indent``; breaks between words and between Chinese characters."""
    lines: list[str] = []
    line, used = indent, display_width(indent)
    for tok in _tokens(re.sub(r"[ \t\r\n]+", " ", str(text)).strip()):
        w = display_width(tok)
        if used + w > width and line.strip():
            lines.append(line.rstrip())
            line, used = indent, display_width(indent)
            if tok == " ":
                continue
        while used + w > width:   # a single word longer than the line: cut it
            room = width - used
            cut = next(i for i in range(len(tok), -1, -1) if display_width(tok[:i]) <= room)
            lines.append(line + tok[:cut])
            tok, line, used = tok[cut:], indent, display_width(indent)
            w = display_width(tok)
        line += tok
        used += w
    if line.strip():
        lines.append(line.rstrip())
    return lines


def catalogue_text(table: pd.DataFrame, lang: str = "zh", width: int = CONSOLE_WIDTH) -> str:
    """A lever or assumption table (:func:`lever_table`, :func:`assumption_table`) for the
    console: per row the id and name, then ``header value`` pairs, then the description, each
    wrapped to ``width`` columns."""
    check_lang(lang)
    cols = list(table.columns)
    id_col, name_col, desc_col = cols[0], cols[1], _h("description", lang)
    sep = word("punctuation.clause", lang)
    blocks = []
    for _, row in table.iterrows():
        lines = wrap_text(f"{row[id_col]}  {row[name_col]}", width)
        colon = word("punctuation.colon", lang)
        facts = [f"{c}{colon}{row[c]}" for c in cols if c not in (id_col, name_col, desc_col)
                 and str(row[c]) != ""]
        lines += wrap_text(sep.join(facts), width, "    ")
        if desc_col in table.columns:
            lines += wrap_text(str(row[desc_col]), width, "    ")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
