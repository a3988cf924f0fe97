"""Feedback loops derived from the equations, and their polarity measured on the calibrated run.

Derivation: each loop of ``model/loops.yaml`` names variables in causal order; consecutive
variables (and the last with the first) are joined by the shortest chain of dependencies in the
model graph (:mod:`sim.model.graph`: an effect depends on a cause when its equation reads it; a
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
from sim.model.graph import ModelGraph
from sim.model.loopspec import LoopDeclarations, LoopSpec

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
def link_signs(graph: ModelGraph, links, bm, params: dict | None = None) -> pd.DataFrame:
    """Sign (-1, 0, +1) of each link's partial derivative, per reporting year (rows) and link
    (columns ``"cause -> effect"``), on the run of the batch model ``bm`` with inputs ``params``
    (e.g. ``Simulator().inputs(scenario)``, the calibrated scenario). The sign measured at the
    end of a year (model time ``Y + SAVEPER``) is the row of year ``Y``, as in calendar
    reporting (ARCHITECTURE.md, "Time convention")."""
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
    out = {}
    for b in effects:
        causes = [a for a, e in links if e == b]
        n = 1 + 2 * len(causes)
        p = dict(params)
        for x in pinned[b]:
            row = base[x].isel(sample=0).values.astype(float)
            arr = np.tile(row, (n, 1))
            if x in causes:
                i = causes.index(x)
                scale = np.abs(row)
                h = REL_STEP * np.where(scale > 0, scale, max(scale.max(), 1.0))
                arr[1 + 2 * i] += h
                arr[2 + 2 * i] -= h
            p[x] = xr.DataArray(arr, dims=("sample", "time"), coords={"time": grid})
        res = bm.run(p, n, return_columns=[b])[b]
        years = res["time"].values
        vals = res.values
        ref = np.maximum(np.abs(vals[0]), 1e-12)
        for i, a in enumerate(causes):
            diff = vals[1 + 2 * i] - vals[2 + 2 * i]
            sign = np.where(np.abs(diff) > ZERO * ref, np.sign(diff), 0.0)
            out[f"{a} -> {b}"] = pd.Series(sign[1:], index=years[1:] - sp)
    return pd.DataFrame(out).astype(int)


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
    from sim.model.graph import load_graph
    from sim.model.loopspec import load_loops
    from sim.scenarios.loader import load_scenario
    from sim.simulate import Simulator

    decl = decl or load_loops()
    sim = simulator or Simulator()
    graph = graph or load_graph(sim.model_path)
    loops = derive_loops(graph, decl)
    params = sim.inputs(load_scenario(decl.polarity_run))
    return loop_polarities(graph, loops, sim.batch, params)
