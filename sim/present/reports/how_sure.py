"""How sure a forecast is, for the end of ``plansim run``: each target's P(met) with N and the
Monte Carlo standard error, read from the ensemble result ``plansim uncertainty`` left in the
output folder (``DIR/uncertainty/probabilities.csv``) when it is there and newer than the model,
data and scenario files; otherwise one line naming the command that gives it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sim import paths
from sim.model.declarations.words import word
from sim.present.labels import format_share, label, text
from sim.present.output.outdir import read_marker

RESULT = "uncertainty"
TABLE = "probabilities.csv"


def _inputs(scenarios: Sequence[Any]) -> list[Path]:
    files = [paths.MODEL_FILE, paths.PARAMETERS_FILE, paths.TARGETS_FILE, paths.HISTORY_FILE,
             paths.CALIBRATION_FILE, paths.UNCERTAINTY_FILE]
    files += [Path(sc.source) for sc in scenarios if getattr(sc, "source", None)]
    return [f for f in files if f.is_file()]


def cached_probabilities(out: Path | str, scenarios: Sequence[Any]) -> pd.DataFrame | None:
    """The P(met) table of ``plansim uncertainty`` in ``out`` if it covers every scenario and
    is newer than the files it was computed from, else None."""
    folder = Path(out) / RESULT
    table = folder / TABLE
    marker = read_marker(folder) if folder.is_dir() else None
    if marker is None or marker.get("command") != "uncertainty" or not table.is_file():
        return None
    if any(f.stat().st_mtime > table.stat().st_mtime for f in _inputs(scenarios)):
        return None
    try:
        df = pd.read_csv(table)
    except (OSError, ValueError, pd.errors.ParserError):
        return None
    need = {"scenario", "indicator", "probability", "mc_se", "n"}
    if not need <= set(df.columns) or not {sc.id for sc in scenarios} <= set(df["scenario"]):
        return None
    return df


def how_sure_lines(out: Path | str, scenarios: Sequence[Any], targets: Any, lang: str
                   ) -> list[str]:
    """The closing lines of ``plansim run``: P(met) per scenario and target (N, ± standard
    error) from the cached ensemble, or the command that gives them."""
    # lazy: pulls xarray (90 ms)
    from sim.analysis.outcomes.targets import ALL_TARGETS

    df = cached_probabilities(out, scenarios)
    ids = " ".join(sc.id for sc in scenarios)
    if df is None:
        return [text("how_sure_missing", lang, command=f"plansim uncertainty {ids} --out {out}")]
    names = {t.indicator: label(t.label, lang) for t in targets.items}
    names[ALL_TARGETS] = label(targets.labels()["all_targets"], lang)
    lines = [text("how_sure", lang, year=targets.year, folder=Path(out) / RESULT)]
    for sc in scenarios:
        rows = df[df["scenario"] == sc.id].set_index("indicator")
        n = int(rows["n"].iloc[0])
        cells = [f"{names.get(i, i)} {format_share(r['probability'])} ± {r['mc_se']:.0%}"
                 for i, r in rows.iterrows()]
        sep = word("punctuation.clause", lang)
        lines.append(f"  {sc.label(lang)} (N = {n}): {sep.join(cells)}")
    return lines
