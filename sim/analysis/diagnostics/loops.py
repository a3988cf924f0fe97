"""Feedback loops derived from the equations, and their polarity measured on the calibrated run.

Derivation: each loop of ``model/loops.yaml`` names variables in causal order; consecutive
variables (and the last with the first) are joined by the shortest chain of dependencies in the
model graph (:mod:`sim.model.equations.graph`: an effect depends on a cause when its equation reads it; a
stock depends on its flows). The result is the full cycle through the equations. A pair with no
chain raises :class:`LoopError` naming the loop and the link.

Polarity: the sign of each link ``cause -> effect`` is the sign of the partial derivative of the
effect with respect to the cause, measured with the batch engine: every input of the effect is
replaced by its trajectory on the calibrated run of a scenario, and the cause is moved up and
down by a small relative step; the effect's response (for a stock: its accumulated response)
gives the sign in every year. A loop's polarity in a year is the product of its links' signs;
a link with no response (e.g. the losing side of a MIN) makes the loop inactive that year.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from sim.errors import ModelError
from sim.model.declarations.loopspec import LoopDeclarations, LoopSpec, load_loops
from sim.model.equations.graph import ModelGraph, load_graph
from sim.scenarios.loader import load_scenario
from sim.simulate import Simulator

REL_STEP = 1e-4       # relative step of the cause
ZERO = 1e-9           # |response| below ZERO x |effect| counts as no response
SIGN_WORD = {1: "reinforcing", -1: "balancing"}


class LoopError(ModelError):
    """A declared loop is not in the equations."""


@dataclass(frozen=True)
class DerivedLoop:
    spec: LoopSpec
    cycle: tuple[str, ...]                       # every variable on the loop, causal order
    segments: tuple[tuple[str, ...], ...]        # the chain joining each declared pair

    @property
    def links(self) -> list[tuple[str, str]]:
        c = self.cycle
        return [(c[i], c[(i + 1) % len(c)]) for i in range(len(c))]


def _chain(graph: ModelGraph, users: dict[str, list[str]], a: str, b: str) -> list[str] | None:
    """Shortest chain a -> ... -> b (cause to effect), deterministic; None when there is none."""
    prev = {a: None}
    todo = deque([a])
    while todo:
        x = todo.popleft()
        for y in sorted(users[x]):
            if y in prev:
                continue
            prev[y] = x
            if y == b:
                out = [b]
                while prev[out[-1]] is not None:
                    out.append(prev[out[-1]])
                return out[::-1]
            todo.append(y)
    return None


def derive_loop(graph: ModelGraph, spec: LoopSpec, where: str = "model/loops.yaml"
                ) -> DerivedLoop:
    for v in spec.variables:
        if v not in graph:
            raise LoopError(f"{where}: loop {spec.id}: variable {v!r} is not in the model")
    users = graph.users()
    seq = spec.variables
    segments, cycle = [], []
    for i, a in enumerate(seq):
        b = seq[(i + 1) % len(seq)]
        chain = _chain(graph, users, a, b)
        if chain is None:
            raise LoopError(f"{where}: loop {spec.id} ({spec.name['en']}): link {a} -> {b} is "
                            f"missing: no chain of dependencies in the equations leads from "
                            f"{a!r} to {b!r}")
        segments.append(tuple(chain))
        cycle.extend(chain[:-1])
    if len(set(cycle)) != len(cycle):
        twice = sorted({v for v in cycle if cycle.count(v) > 1})
        raise LoopError(f"{where}: loop {spec.id}: the chains between its variables pass "
                        f"through {twice} more than once; name more variables of the loop")
    return DerivedLoop(spec, tuple(cycle), tuple(segments))


def derive_loops(graph: ModelGraph, decl: LoopDeclarations) -> list[DerivedLoop]:
    return [derive_loop(graph, spec, str(decl.path)) for spec in decl.loops]


# --------------------------------------------------------------------------- link signs
def _computed(graph: ModelGraph, b: str, pinned: set[str]) -> set[str]:
    """The variables that the run measuring effect ``b`` computes for ``b``'s value: ``b``
    and, upstream of it through what is not pinned, what its value or initial value reads."""
    seen = {b}
    todo = [b]
    while todo:
        node = graph[todo.pop()]
        for d in (*node.deps, *node.init_deps):
            if d not in seen and d not in pinned:
                seen.add(d)
                todo.append(d)
    return seen


def effect_groups(graph: ModelGraph, effects, pinned: dict[str, list[str]]
                  ) -> list[list[str]]:
    """Effects whose links can be measured in one run: within a group, no effect pins a
    variable that another effect's value depends on (greedy, in the order of ``effects``).
    Pinning the union of a group's inputs then gives each effect exactly the inputs, and so
    the numbers, of a run of its own."""
    need = {b: _computed(graph, b, set(pinned[b])) for b in effects}
    groups: list[list[str]] = []
    for b in effects:
        for g in groups:
            if all(not (set(pinned[c]) & need[b]) and not (set(pinned[b]) & need[c])
                   for c in g):
                g.append(b)
                break
        else:
            groups.append([b])
    return groups


def link_signs(graph: ModelGraph, links, bm, params: dict | None = None,
               together: bool = True) -> pd.DataFrame:
    """Sign (-1, 0, +1) of each link's partial derivative, per reporting year (rows) and link
    (columns ``"cause -> effect"``), on the run of the batch model ``bm`` with inputs ``params``
    (e.g. ``Simulator().inputs(scenario)``, the calibrated scenario). The sign measured at the
    end of a year (model time ``Y + SAVEPER``) is the row of year ``Y``, as in calendar
    reporting (ARCHITECTURE.md, "Time convention"). The effects are measured in a few runs
    (:func:`effect_groups`, each perturbation a sample); ``together=False``: one run per
    effect (the same numbers, slower)."""
    links = sorted(set(links))
    params = dict(params or {})
    dt = float(bm.controls["time_step"])
    sp = float(bm.controls["saveper"])
    effects = sorted({b for _, b in links})
    pinned = {b: [d for d in graph[b].deps if graph[d].kind in ("stock", "flow", "aux")]
              for b in effects}
    needed = sorted({*effects, *(d for ds in pinned.values() for d in ds)})
    base = bm.run(params, 1, return_columns=needed, saveper=dt)
    grid = base["time"].values
    causes = {b: [a for a, e in links if e == b] for b in effects}
    groups = effect_groups(graph, effects, pinned) if together else [[b] for b in effects]
    out = {}
    for group in groups:
        # sample 0: every input on the base run; then +h and -h of each link's cause
        first, n = {}, 1
        for b in group:
            first[b] = n
            n += 2 * len(causes[b])
        p = dict(params)
        for x in sorted({x for b in group for x in pinned[b]}):
            row = base[x].isel(sample=0).values.astype(float)
            arr = np.tile(row, (n, 1))
            scale = np.abs(row)
            h = REL_STEP * np.where(scale > 0, scale, max(scale.max(), 1.0))
            for b in group:
                if x in pinned[b] and x in causes[b]:
                    k = first[b] + 2 * causes[b].index(x)
                    arr[k] += h
                    arr[k + 1] -= h
            p[x] = xr.DataArray(arr, dims=("sample", "time"), coords={"time": grid})
        res = bm.run(p, n, return_columns=group)
        years = res["time"].values
        for b in group:
            vals = res[b].values
            ref = np.maximum(np.abs(vals[0]), 1e-12)
            for i, a in enumerate(causes[b]):
                k = first[b] + 2 * i
                diff = vals[k] - vals[k + 1]
                sign = np.where(np.abs(diff) > ZERO * ref, np.sign(diff), 0.0)
                out[f"{a} -> {b}"] = pd.Series(sign[1:], index=years[1:] - sp)
    return pd.DataFrame({f"{a} -> {b}": out[f"{a} -> {b}"] for b in effects
                         for a in causes[b]}).astype(int)


@dataclass(frozen=True)
class LoopPolarity:
    loop: DerivedLoop
    by_year: pd.Series                # product of link signs per year (0 = inactive)
    link_signs: pd.DataFrame          # the loop's links, per year

    @property
    def active_years(self) -> list[int]:
        return [int(round(t)) for t, s in self.by_year.items() if s != 0]

    @property
    def derived(self) -> str:
        signs = {int(s) for s in self.by_year if s != 0}
        if not signs:
            return "inactive"
        if len(signs) > 1:
            return "mixed"
        return SIGN_WORD[signs.pop()]

    @property
    def confirmed(self) -> bool:
        return self.derived == self.loop.spec.polarity

    def inactive_links(self) -> list[str]:
        """Links with no response in some year."""
        return [c for c in self.link_signs.columns if (self.link_signs[c] == 0).any()]

    def segment_sign(self, k: int) -> int:
        """Sign of the chain joining the k-th declared pair, in the loop's active years
        (0 when the loop is never active)."""
        seg = self.loop.segments[k]
        cols = [f"{seg[i]} -> {seg[i + 1]}" for i in range(len(seg) - 1)]
        prod = self.link_signs[cols].prod(axis=1)
        active = prod[self.by_year != 0]
        if active.empty or (active == 0).all():
            nz = prod[prod != 0]
            return int(np.sign(nz.iloc[-1])) if not nz.empty else 0
        return int(np.sign(active.iloc[-1]))


def loop_polarities(graph: ModelGraph, loops: list[DerivedLoop], bm, params: dict | None = None
                    ) -> list[LoopPolarity]:
    """The polarity of every loop, from one set of link-sign runs (see :func:`link_signs`)."""
    signs = link_signs(graph, [lk for lp in loops for lk in lp.links], bm, params)
    out = []
    for lp in loops:
        cols = [f"{a} -> {b}" for a, b in lp.links]
        ls = signs[cols]
        out.append(LoopPolarity(lp, ls.prod(axis=1), ls))
    return out


def calibrated_polarities(decl: LoopDeclarations | None = None, graph: ModelGraph | None = None,
                          simulator=None) -> list[LoopPolarity]:
    """Derive the declared loops and measure their polarity on the calibrated run of the
    scenario named by ``polarity_run`` in ``model/loops.yaml``."""
    decl = decl or load_loops()
    sim = simulator or Simulator()
    graph = graph or load_graph(sim.model_path)
    loops = derive_loops(graph, decl)
    params = sim.inputs(load_scenario(decl.polarity_run))
    return loop_polarities(graph, loops, sim.batch, params)
