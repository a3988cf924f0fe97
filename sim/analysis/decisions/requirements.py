"""What would it take: the least extra money, and its split across lines, that meets a target
with a chosen probability over a fixed ensemble (common random numbers).

**Problem.** For a target column ``c`` (one indicator, or all of them together) and a
probability ``p``: minimise the extra money ``sum(x)`` over mixes ``x`` (亿元 per line over the
plan years, ``0 <= x <= upper``, ``sum(x) <= budget_max``) subject to ``P_c(x) >= p``, where
``P_c(x)`` is the share of the ensemble's samples meeting ``c`` in the target year when the mix
is added. Every mix is evaluated on the *same* samples (common random numbers), so differences
between mixes are differences of the mixes, not of the draws.

**Method.** ``P_c`` is a step function of ``x`` (a share of N samples), so gradient methods
cannot work on it directly. Instead:

1. *Curves.* ``P`` is computed along each single line and along the even split at a grid of
   totals up to ``budget_max`` (one batch run per point). These are also the charts.
2. *Bisection.* On each of those directions the least total with ``P >= p`` is found
   between the last grid point below ``p`` and the first at or above it, to 1/256 of a grid
   step (false position on the surrogate of 4., each guess checked on P: :func:`_shrink`;
   assumes ``P`` does not fall with more money along a direction: the curves show where it
   does).
3. *Mixes (marginal analysis).* From zero, ``budget_max / 8`` at a time goes to the line that
   raises the smooth surrogate below the most, until ``P >= p``; the last increment is
   bisected. This is optimal when the lines' effects are separable and concave (lines that
   saturate, as the demand-driven award lines do) and finds mixes no single direction gives.
   The candidate increments are ranked on a fixed subset of the draws (``Problem.screen``:
   one in five of the canonical 1,000), a fifth of the cost; each step taken, the stopping
   test and the bisection are on the whole ensemble, so every reported P is the canonical one.
4. *Local refinement.* From the best direction, :func:`scipy.optimize.minimize` (SLSQP)
   minimises ``sum(x)`` subject to a smooth surrogate of the constraint: the ``k``-th largest
   margin ``m_(k)(x) >= 0`` with ``k = ceil(p N)`` and ``m = log(value / target)`` (for all
   targets, each sample's smallest margin); ``P >= p`` exactly when ``m_(k) > 0``. Its
   finite differences run on the subset of 3. when there is one; the result is re-evaluated
   exactly on the whole ensemble and kept only when it meets ``p`` and costs less.

**Limits.** SLSQP finds a local optimum (the start is the best of the line-wise solutions,
which bounds the answer from above); P is estimated from N samples (standard error
``sqrt(P (1 - P) / N)``, reported as ``mc_se``); a mix whose ``P`` is just above ``p`` with
these samples may fall just below with other samples. Where no mix within the bounds reaches
``p`` the best ``P`` found is reported with ``reachable`` false: never a fake optimum.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.errors import UncertaintyError

ALL = "all"
GRID_POINTS = 9          # totals 0 .. budget_max along each direction
GREEDY_STEPS = 8         # increments of budget_max / 8 in the marginal analysis
BISECT_STEPS = 8         # halvings of the bracketing interval (1/256 of a grid step)


@dataclass(frozen=True)
class Outcome:
    """One mix on the whole ensemble."""

    margins: np.ndarray   # (samples, targets): log(value / target) (>0 where met, strictly)
    met: np.ndarray       # (samples, targets) bool
    spend: float          # measured extra money (亿元 over the plan years)

    def column(self, c: int | None) -> tuple[np.ndarray, np.ndarray]:
        """(met, margin) of target ``c`` or, with None, of all targets together."""
        if c is None:
            return self.met.all(axis=1), self.margins.min(axis=1)
        return self.met[:, c], self.margins[:, c]


@dataclass
class Problem:
    """A set of lines and an evaluator of mixes on a fixed ensemble."""

    lines: list[str]
    targets: list[str]
    upper: np.ndarray                          # (lines,) largest amount per line
    evaluate: Callable[[np.ndarray], Outcome]  # mix (lines,) -> Outcome
    say: Callable[[str], None] = lambda _m: None
    _cache: dict = field(default_factory=dict)
    #: the same lines on a fixed subset of the draws: ranks the marginal analysis's candidate
    #: steps (cheaply); every P reported or compared with ``p`` is of this problem's ensemble
    screen: Problem | None = None

    def __call__(self, x: Sequence[float]) -> Outcome:
        x = np.clip(np.asarray(x, float), 0.0, self.upper)
        key = tuple(np.round(x, 9))
        if key not in self._cache:
            self._cache[key] = self.evaluate(x)
        return self._cache[key]

    def peek(self, x: Sequence[float]) -> Outcome | None:
        """The outcome of ``x`` if it was evaluated already, else None (nothing is run)."""
        x = np.clip(np.asarray(x, float), 0.0, self.upper)
        return self._cache.get(tuple(np.round(x, 9)))

    @property
    def runs(self) -> int:
        return len(self._cache)

    def forget_since(self, n: int) -> bool:
        """Forget every mix evaluated after the first ``n`` (the search then goes on as if they
        had never been run); True if there was any."""
        added = list(self._cache)[n:]
        for key in added:
            del self._cache[key]
        return bool(added)

    def probability(self, x, c: int | None) -> float:
        return float(self(x).column(c)[0].mean())


def directions(lines: Sequence[str]) -> dict[str, np.ndarray]:
    """Each line alone, then the even split."""
    n = len(lines)
    out = {lid: np.eye(n)[i] for i, lid in enumerate(lines)}
    out["even"] = np.full(n, 1.0 / n)
    return out


def _totals(problem: Problem, d: np.ndarray, budget_max: float) -> float:
    """Largest total along ``d`` within the per-line bounds and ``budget_max``."""
    with np.errstate(divide="ignore"):
        cap = np.where(d > 0, problem.upper / np.where(d > 0, d, 1), np.inf)
    return float(min(budget_max, cap.min()))


def curves(problem: Problem, budget_max: float, points: int = GRID_POINTS) -> pd.DataFrame:
    """P of every target column along every direction at ``points`` totals.

    Columns: direction, total (亿元), spend (measured), one column per target and ``all``."""
    rows = []
    dirs = directions(problem.lines)
    for i, (name, d) in enumerate(dirs.items(), 1):
        top = _totals(problem, d, budget_max)
        for total in np.linspace(0.0, top, points):
            out = problem(total * d)
            row = {"direction": name, "total": float(total), "spend": out.spend}
            for c, t in enumerate(problem.targets):
                row[t] = float(out.met[:, c].mean())
            row[ALL] = float(out.met.all(axis=1).mean())
            rows.append(row)
        problem.say(f"P along {name}: {i}/{len(dirs)} directions, {problem.runs} runs")
    return pd.DataFrame(rows)


def _bracket(problem: Problem, d: np.ndarray, c: int | None, p: float,
             grid: np.ndarray) -> tuple[float, float] | None:
    """``(lo, hi)``: the grid totals along ``d`` around the first with P >= p (``lo == hi``
    when the first grid point meets it), or None when none does."""
    probs = [problem.probability(t * d, c) for t in grid]
    hit = [i for i, q in enumerate(probs) if q >= p]
    if not hit:
        return None
    i = hit[0]
    return (float(grid[0]),) * 2 if i == 0 else (float(grid[i - 1]), float(grid[i]))


def _least_along(problem: Problem, d: np.ndarray, c: int | None, p: float,
                 bracket: tuple[float, float]) -> float:
    """Least total along ``d`` with P >= p, by bisection inside its grid ``bracket``."""
    lo, hi = bracket
    if lo == hi:
        return hi
    return _shrink(problem, c, p, lambda t: t * d, lo, hi)


def _shrink(problem: Problem, c: int | None, p: float, at: Callable[[float], np.ndarray],
            lo: float, hi: float) -> float:
    """The least ``t`` in ``(lo, hi]`` with ``P(at(t)) >= p`` (``hi`` meets it, ``lo`` not), to
    within ``(hi - lo) / 2**BISECT_STEPS`` (the bound of that many halvings), and usually to a
    quarter of it in two to four runs instead of eight: false position on the surrogate (the
    k-th largest margin, nearly linear across a bracket) guesses where P reaches ``p``; the
    guess and a point ``tol / 4`` below it (or above, if the guess falls short) then bracket the
    answer. A step that gains less than half the interval is followed by a halving. Every
    decision is on P itself."""
    surrogate = _surrogate(problem, c, p)
    tol = (hi - lo) / 2 ** BISECT_STEPS
    halve = False
    while hi - lo > tol:
        width = hi - lo
        s_lo, s_hi = surrogate(at(lo)), surrogate(at(hi))
        t = 0.5 * (lo + hi)
        if not halve and s_lo < 0 <= s_hi and s_lo > -1e3:
            t = min(max(lo + width * s_lo / (s_lo - s_hi), lo + tol / 4), hi - tol / 4)
        if problem.probability(at(t), c) >= p:
            hi = t
            probe = t - tol / 4
            if probe > lo and problem.probability(at(probe), c) < p:
                lo = probe
        else:
            lo = t
            probe = t + tol / 4
            if probe < hi and problem.probability(at(probe), c) >= p:
                hi = probe
        halve = hi - lo > 0.5 * width
    return hi


def _surrogate(problem: Problem, c: int | None, p: float) -> Callable[[np.ndarray], float]:
    """``x -> m_(k)(x)``: the k-th largest margin, k = ceil(p N); P >= p where it is > 0."""
    n_samples = problem(np.zeros(len(problem.lines))).margins.shape[0]
    k = max(int(math.ceil(p * n_samples - 1e-9)), 1)

    def surrogate(x):
        m = np.sort(problem(x).column(c)[1])[::-1]
        return float(np.clip(m[k - 1], -1e3, 1e3))

    return surrogate


def _greedy(problem: Problem, c: int | None, p: float, budget_max: float,
            steps: int) -> np.ndarray | None:
    """Marginal analysis: add ``budget_max / steps`` at a time to the line that raises the
    surrogate most, until P >= p; then bisect along the last step. Optimal for separable
    concave returns (lines that saturate); None if P never reaches ``p``."""
    rank = problem.screen or problem
    surrogate = _surrogate(rank, c, p)
    step = budget_max / steps
    x = np.zeros(len(problem.lines))
    prev = x
    for _ in range(steps):
        if problem.probability(x, c) >= p:
            break
        best = None
        for i in range(len(x)):
            y = x.copy()
            y[i] = min(y[i] + step, problem.upper[i])
            if y[i] <= x[i]:
                continue
            score = (surrogate(y), rank.probability(y, c))
            if best is None or score > best[0]:
                best = (score, y)
        if best is None:
            break
        prev, x = x, best[1]
    if problem.probability(x, c) < p:
        return None
    if problem.probability(prev, c) >= p:   # (met from the start: no step was taken)
        return prev
    hi = _shrink(problem, c, p, lambda t: prev + t * (x - prev), 0.0, 1.0)
    return prev + hi * (x - prev)


def _refine(problem: Problem, x0: np.ndarray, c: int | None, p: float, budget_max: float,
            maxiter: int) -> np.ndarray | None:
    """SLSQP on the smooth surrogate (k-th largest margin >= 0) from ``x0``."""
    from scipy.optimize import minimize

    surrogate = _surrogate(problem.screen or problem, c, p)   # its result is checked on all
    scale = max(float(x0.sum()), 1.0)
    res = minimize(lambda x: float(np.sum(x)) / scale, x0, method="SLSQP",
                   jac=lambda x: np.ones_like(x) / scale,
                   bounds=list(zip(np.zeros_like(x0), problem.upper, strict=True)),
                   constraints=[{"type": "ineq", "fun": surrogate},
                                {"type": "ineq", "fun": lambda x: budget_max - np.sum(x)}],
                   options={"maxiter": maxiter, "eps": 0.01 * scale, "ftol": 1e-4})
    x = np.clip(res.x, 0.0, problem.upper)
    return x if np.all(np.isfinite(x)) else None


def cheapest_seen(problem: Problem, c: int | None, p: float, below: float = math.inf
                  ) -> np.ndarray | None:
    """The cheapest mix evaluated so far (for any target) with P >= p costing less than
    ``below``, or None: every run on the common samples is a valid candidate."""
    best = None
    for key in problem._cache:
        total = float(sum(key))
        if total < below - 1e-9 and problem.probability(np.array(key), c) >= p:
            best, below = np.array(key), total
    return best


SCREEN_BEST = 3   # an unreachable target: the subset's best mixes run on every draw too


def _best_seen(screen: Problem, c: int | None, budget_max: float, problem: Problem) -> None:
    """Run on ``problem`` the ``SCREEN_BEST`` mixes with the highest P among those ``screen``
    evaluated (so that the best P reported is searched among them too)."""
    keys = [k for k in screen._cache if sum(k) <= budget_max + 1e-9]
    keys.sort(key=lambda k: (screen.probability(np.array(k), c), -sum(k)), reverse=True)
    for k in keys[:SCREEN_BEST]:
        problem(k)


@dataclass(frozen=True)
class Requirement:
    target: str
    probability: float
    reachable: bool
    mix: np.ndarray            # (lines,) 亿元 per line (the best found if unreachable)
    extra_budget: float        # measured extra money of the mix
    achieved: float            # P of the mix over the ensemble
    mc_se: float
    n: int


def least_budget(problem: Problem, c: int | None, p: float, budget_max: float,
                 grid_points: int = GRID_POINTS, refine_iter: int = 15,
                 greedy_steps: int = GREEDY_STEPS) -> Requirement:
    """The least extra money meeting column ``c`` (None: all targets) with P >= ``p``."""
    if not 0 < p <= 1:
        raise UncertaintyError(f"probability {p!r}: allowed: a number in (0, 1]")
    name = ALL if c is None else problem.targets[c]
    zero = np.zeros(len(problem.lines))
    n = problem(zero).met.shape[0]
    best_x, best_total = None, math.inf
    brackets = []
    for d in directions(problem.lines).values():
        grid = np.linspace(0.0, _totals(problem, d, budget_max), grid_points)
        b = _bracket(problem, d, c, p, grid)
        if b is not None:
            brackets.append((b, d))
    # bisect the most promising first; a bracket starting at or above the least total found
    # cannot give a smaller one, so it is not bisected (the same answer, fewer runs)
    for b, d in sorted(brackets, key=lambda bd: bd[0]):
        if b[0] >= best_total:
            continue
        total = _least_along(problem, d, c, p, b)
        if total < best_total:
            best_x, best_total = total * d, total
    if greedy_steps > 0 and (best_x is None or best_total > 0):   # mixes of lines
        x = _greedy(problem, c, p, budget_max, greedy_steps)
        if x is not None and x.sum() < best_total:
            best_x, best_total = x, float(x.sum())
    if best_x is not None and best_total > 0 and refine_iter > 0:
        x = _refine(problem, best_x, c, p, budget_max, refine_iter)
        if x is not None and x.sum() < best_total and problem.probability(x, c) >= p:
            best_x = x
    cheaper = cheapest_seen(problem, c, p, best_total)
    if cheaper is not None:
        best_x = cheaper
    if best_x is None:   # unreachable: report the best P seen on any evaluated mix
        if problem.screen is not None:   # the subset's best mix, on the whole ensemble too
            _best_seen(problem.screen, c, budget_max, problem)
        keys = [k for k in problem._cache if sum(k) <= budget_max + 1e-9]
        probs = [problem.probability(np.array(k), c) for k in keys]
        top = max(probs)
        x = np.array(min((k for k, q in zip(keys, probs, strict=True) if q == top), key=sum))
        reachable = False
    else:
        x, reachable = best_x, True
    out = problem(x)
    q = float(out.column(c)[0].mean())
    return Requirement(name, p, reachable, x, out.spend + 0.0, q, math.sqrt(q * (1 - q) / n), n)


def requirements_table(reqs: Sequence[Requirement], lines: Sequence[str]) -> pd.DataFrame:
    """``requirements.csv``: one row per (target, probability), one column per line."""
    rows = []
    for r in reqs:
        nan = float("nan")   # no mix reaches it: no money figure (blank in the CSV)
        row = {"target": r.target, "probability": r.probability, "reachable": r.reachable,
               "extra_budget_2024_2028": r.extra_budget if r.reachable else nan,
               "achieved_probability": r.achieved, "mc_se": r.mc_se, "n": r.n}
        row.update({lid: float(v) if r.reachable else nan
                    for lid, v in zip(lines, r.mix, strict=True)})
        rows.append(row)
    return pd.DataFrame(rows)
