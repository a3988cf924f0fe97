"""Scenario discovery over the conditioned ensemble: which assumption ranges make a target (or
all of them) likely, found with PRIM (:mod:`sim.analysis.decisions.prim`).

Inputs are the surviving samples' assumption values (:mod:`sim.analysis.ensembles.conditioning`); the
outcome is whether a sample meets the target (or all targets, ``all``) in the targets' year.
A target met by fewer than :data:`MIN_CASES` samples (or by none) has no box: it is reported
with its count, rather than given an empty or made-up box.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.analysis.decisions import prim
from sim.analysis.decisions.requirements import ALL

if TYPE_CHECKING:
    from sim.analysis.decisions.what_it_takes import Ensemble

#: fewest cases (samples meeting the target) PRIM is run on; fewer give no box
MIN_CASES = 10


@dataclass
class Discovery:
    target: str
    cases: int                 # samples meeting the target
    n: int
    boxes: list[prim.Box]
    trajectories: list[list[prim.Box]]
    table: pd.DataFrame        # prim.box_table


def outcomes(ensemble: Ensemble, x: Sequence[float] | None = None) -> pd.DataFrame:
    """Met flags (sample x target, plus ``all``) of the ensemble with mix ``x`` (default 0)."""
    zero = np.zeros(len(ensemble.base.lines)) if x is None else np.asarray(x, float)
    out = ensemble.outcome(zero)
    frame = pd.DataFrame(out.met, columns=list(ensemble.targets.indicators))
    frame[ALL] = frame.all(axis=1)
    return frame


def discover(ensemble: Ensemble, targets: Sequence[str] = (ALL,), *, boxes: int = 1,
             alpha: float = prim.ALPHA, min_coverage: float = prim.MIN_COVERAGE,
             say: Callable[[str], None] | None = None) -> list[Discovery]:
    """PRIM boxes per target over the ensemble's assumption samples."""
    # lazy: pulls xarray, yaml (148 ms)
    from sim.analysis.decisions.what_it_takes import target_columns

    say = say or (lambda _m: None)
    target_columns([t for t in targets], ensemble.targets)   # validates the ids
    met = outcomes(ensemble)
    names = list(ensemble.assumptions)
    x = np.column_stack([np.asarray(ensemble.assumptions[n], float) for n in names])
    out = []
    for t in targets:
        y = met[t].to_numpy(bool)
        if y.sum() < MIN_CASES:
            say(f"{t}: met in {int(y.sum())} of {len(y)} samples, fewer than {MIN_CASES}; "
                "no box")
            out.append(Discovery(t, int(y.sum()), len(y), [], [], prim.box_table([], x, names)))
            continue
        chosen, traj = prim.cover(x, y, boxes=boxes, alpha=alpha, min_coverage=min_coverage)
        say(f"{t}: {int(y.sum())} of {len(y)} samples met; {len(chosen)} box(es)")
        out.append(Discovery(t, int(y.sum()), len(y), chosen, traj,
                             prim.box_table(chosen, x, names)))
    return out


def boxes_frame(found: Sequence[Discovery]) -> pd.DataFrame:
    """``boxes.csv``: target, cases, n, then the box rows (none for a never-met target)."""
    parts = []
    for d in found:
        t = d.table.copy() if len(d.table) else pd.DataFrame([{"box": np.nan}])
        t.insert(0, "n", d.n)
        t.insert(0, "cases", d.cases)
        t.insert(0, "target", d.target)
        parts.append(t)
    return pd.concat(parts, ignore_index=True)


def trajectory_frame(found: Sequence[Discovery]) -> pd.DataFrame:
    """``trajectory.csv``: target, box, step, coverage, density, mass."""
    rows = [{"target": d.target, "box": i, "step": k, "coverage": b.coverage,
             "density": b.density, "mass": b.mass}
            for d in found for i, tr in enumerate(d.trajectories, 1) for k, b in enumerate(tr)]
    return pd.DataFrame(rows, columns=["target", "box", "step", "coverage", "density", "mass"])
