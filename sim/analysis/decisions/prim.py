"""PRIM, the Patient Rule Induction Method (Friedman and Fisher 1999, "Bump hunting in
high-dimensional data", Statistics and Computing 9: 123-143), for scenario discovery (Bryant and
Lempert 2010).

Given inputs ``X`` (N x D) and a binary outcome ``y`` (the cases of interest), PRIM looks for a
box (a lower and an upper limit per input) whose points have a high share of cases (*density*)
while holding many of them (*coverage*):

- **Peeling.** Starting from the box holding every point, each step considers removing, for
  each input, the ``alpha`` share of the box's points with the lowest or with the highest
  values, and makes the removal that gives the highest mean of ``y`` in what remains. It stops
  when the box would hold fewer than ``min_mass`` of all points. The sequence of boxes is the
  *peeling trajectory*.
- **Pasting.** The final box is then widened again, one side at a time, while that raises the
  mean (Friedman and Fisher's bottom-up pasting).
- **Choice.** From the trajectory, the box with the highest density among those with coverage
  at least ``min_coverage`` is chosen (the usual analyst trade-off, made explicit), then
  *pruned*: a limit whose removal lowers the density by at most ``PRUNE_TOLERANCE`` is lifted, so the box names only
  the inputs that matter (Bryant and Lempert's concern for interpretable boxes).
- **Covering.** Further boxes are found on the points outside the earlier ones.

Limits: greedy (each peel is the locally best one); the densities are in-sample (no
cross-validation); inputs that only matter jointly may be restricted in an order that hides it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.errors import UncertaintyError

ALPHA = 0.05
MIN_MASS = 0.05
MIN_COVERAGE = 0.5
PRUNE_TOLERANCE = 0.05   # density a lifted limit may cost (keeps boxes readable)


@dataclass(frozen=True)
class Box:
    lower: np.ndarray      # (D,)
    upper: np.ndarray      # (D,)
    coverage: float        # cases inside / all cases
    density: float         # cases inside / points inside
    mass: float            # points inside / all points

    def contains(self, x: np.ndarray) -> np.ndarray:
        return np.all((x >= self.lower) & (x <= self.upper), axis=1)

    def restricted(self, x: np.ndarray) -> np.ndarray:
        """Bool (D,): inputs whose limits cut into the range of ``x``."""
        return (self.lower > x.min(axis=0)) | (self.upper < x.max(axis=0))


def _stats(inside: np.ndarray, y: np.ndarray, total: int) -> tuple[float, float, float]:
    n_in = int(inside.sum())
    hits = float(y[inside].sum())
    return (hits / total if total else 0.0, hits / n_in if n_in else 0.0, n_in / len(y))


def peel(x: np.ndarray, y: np.ndarray, alpha: float = ALPHA, min_mass: float = MIN_MASS,
         ) -> list[Box]:
    """The peeling trajectory (first box: every point), then the pasted last box."""
    x, y = np.asarray(x, float), np.asarray(y, bool)
    if x.ndim != 2 or len(x) != len(y) or len(y) == 0:
        raise UncertaintyError(f"PRIM: inputs of shape {x.shape} and outcome of length "
                               f"{len(y)}; expected (N, D) and N")
    total = int(y.sum())
    lower, upper = x.min(axis=0).copy(), x.max(axis=0).copy()
    inside = np.ones(len(y), bool)
    boxes = [Box(lower.copy(), upper.copy(), *_stats(inside, y, total))]
    while True:
        best = None
        for j in range(x.shape[1]):
            col = x[inside, j]
            for side in ("low", "high"):
                cut = np.quantile(col, alpha if side == "low" else 1 - alpha)
                keep = inside & ((x[:, j] >= cut) if side == "low" else (x[:, j] <= cut))
                if keep.sum() == inside.sum() or keep.sum() < min_mass * len(y):
                    continue
                mean = y[keep].mean()
                if best is None or mean > best[0]:
                    best = (mean, j, side, cut, keep)
        if best is None:
            break
        _, j, side, cut, keep = best
        if side == "low":
            lower[j] = cut
        else:
            upper[j] = cut
        inside = keep
        boxes.append(Box(lower.copy(), upper.copy(), *_stats(inside, y, total)))
    boxes.append(paste(x, y, boxes[-1], alpha))
    return boxes


def paste(x: np.ndarray, y: np.ndarray, box: Box, alpha: float = ALPHA) -> Box:
    """Widen ``box`` one side at a time while that raises the mean of ``y`` inside."""
    total = int(y.sum())
    lower, upper = box.lower.copy(), box.upper.copy()
    lo_all, hi_all = x.min(axis=0), x.max(axis=0)
    inside = np.all((x >= lower) & (x <= upper), axis=1)
    step = max(int(round(alpha * inside.sum())), 1)
    while True:
        mean = y[inside].mean() if inside.any() else 0.0
        best = None
        for j in range(x.shape[1]):
            others = np.all(np.delete((x >= lower) & (x <= upper), j, axis=1), axis=1)
            for side in ("low", "high"):
                if side == "low":
                    cand = np.sort(x[others & (x[:, j] < lower[j]), j])[::-1]
                else:
                    cand = np.sort(x[others & (x[:, j] > upper[j]), j])
                if not len(cand):
                    continue
                edge = cand[min(step, len(cand)) - 1]
                lo = edge if side == "low" else lower[j]
                hi = edge if side == "high" else upper[j]
                keep = others & (x[:, j] >= lo) & (x[:, j] <= hi)
                m = y[keep].mean()
                if m > mean + 1e-12 and (best is None or m > best[0]):
                    best = (m, j, lo, hi, keep)
        if best is None:
            break
        _, j, lower[j], upper[j], inside = best
    lower = np.where(np.isclose(lower, lo_all), lo_all, lower)
    upper = np.where(np.isclose(upper, hi_all), hi_all, upper)
    return Box(lower, upper, *_stats(inside, y, total))


def prune(x: np.ndarray, y: np.ndarray, box: Box, tolerance: float = PRUNE_TOLERANCE) -> Box:
    """Lift restrictions that do not pay: a limit whose removal lowers the density by at most
    ``tolerance`` is dropped (the one costing least first), so only inputs that matter stay."""
    total = int(y.sum())
    lo_all, hi_all = x.min(axis=0), x.max(axis=0)
    lower, upper = box.lower.copy(), box.upper.copy()
    while True:
        inside = np.all((x >= lower) & (x <= upper), axis=1)
        density = y[inside].mean() if inside.any() else 0.0
        best = None
        for j in np.flatnonzero((lower > lo_all) | (upper < hi_all)):
            lo, hi = lower.copy(), upper.copy()
            lo[j], hi[j] = lo_all[j], hi_all[j]
            keep = np.all((x >= lo) & (x <= hi), axis=1)
            d = y[keep].mean()
            if d >= density - tolerance and (best is None or d > best[0]):
                best = (d, j)
        if best is None:
            return Box(lower, upper, *_stats(inside, y, total))
        lower[best[1]], upper[best[1]] = lo_all[best[1]], hi_all[best[1]]


def choose(boxes: Sequence[Box], min_coverage: float = MIN_COVERAGE) -> Box:
    """The densest box with coverage >= ``min_coverage`` (the first box if none is)."""
    ok = [b for b in boxes if b.coverage >= min_coverage - 1e-12] or [boxes[0]]
    return max(ok, key=lambda b: (b.density, b.coverage))


def cover(x: np.ndarray, y: np.ndarray, *, boxes: int = 2, alpha: float = ALPHA,
          min_mass: float = MIN_MASS, min_coverage: float = MIN_COVERAGE
          ) -> tuple[list[Box], list[list[Box]]]:
    """Up to ``boxes`` boxes by covering; returns (chosen boxes, their trajectories).

    Coverage and density of later boxes are on the points left outside the earlier ones;
    covering stops when no case is left or a box would add no density over the rest."""
    x, y = np.asarray(x, float), np.asarray(y, bool)
    left = np.ones(len(y), bool)
    chosen, trajectories = [], []
    for _ in range(boxes):
        if not y[left].any():
            break
        traj = peel(x[left], y[left], alpha, min_mass)
        box = prune(x[left], y[left], choose(traj, min_coverage))
        if chosen and box.density <= y[left].mean() + 1e-12:
            break
        chosen.append(box)
        trajectories.append(traj)
        left &= ~box.contains(x)
    return chosen, trajectories


def box_table(boxes: Sequence[Box], x: np.ndarray, names: Sequence[str]) -> pd.DataFrame:
    """One row per restricted input of each box: box, coverage, density, mass, limits."""
    rows = []
    for i, b in enumerate(boxes, 1):
        lo, hi = x.min(axis=0), x.max(axis=0)
        for j in np.flatnonzero(b.restricted(x)):
            rows.append({"box": i, "coverage": b.coverage, "density": b.density,
                         "mass": b.mass, "assumption": names[j], "lower": float(b.lower[j]),
                         "upper": float(b.upper[j]), "range_min": float(lo[j]),
                         "range_max": float(hi[j])})
    return pd.DataFrame(rows, columns=["box", "coverage", "density", "mass", "assumption",
                                       "lower", "upper", "range_min", "range_max"])
