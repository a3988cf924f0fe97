"""One view per sector: every model variable placed in exactly one sector.

``model/sectors.yaml`` names, per sector, the variables to chart and optional further ``members``;
together they are the *declared* variables of the sector. Every other variable is placed by rule,
so that the views follow the equations when they change:

1. a stock without a declared sector goes with its flows, a flow with the stocks it fills or
   drains (pipes stay inside one view where the declarations allow);
2. any other variable goes to the sector most of its users (the equations that read it) are in,
   or, when none of them is placed yet, to the sector most of its inputs are in;
3. ties go to the sector declared first; the rules repeat until nothing changes.

Shadow (ghost) variables: a view shows, besides its own variables, every variable of another view
that one of its equations reads, drawn as a ghost.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sim.errors import ModelError
from sim.model.declarations.sectors import Sector
from sim.model.equations.graph import ModelGraph


@dataclass(frozen=True)
class View:
    sector: Sector
    variables: tuple[str, ...]      # own variables, in equation order
    ghosts: tuple[str, ...]         # variables of other views read here, sorted

    @property
    def id(self) -> str:
        return self.sector.id


def _vote(candidates: list[str], order: dict[str, int]) -> str | None:
    if not candidates:
        return None
    counts = Counter(candidates)
    best = max(counts.values())
    return min((s for s, c in counts.items() if c == best), key=order.__getitem__)


def assign_sectors(graph: ModelGraph, sectors: list[Sector]) -> dict[str, str]:
    """variable -> sector id for every variable of ``graph`` (control variables excluded)."""
    order = {s.id: i for i, s in enumerate(sectors)}
    place: dict[str, str] = {}
    for s in sectors:
        for v in (*s.variables, *s.members):
            if v not in graph:
                raise ModelError(f"model/sectors.yaml: {s.id}: {v!r} is not a variable of the "
                                 "model (use Python names such as tech_firms)")
            if graph[v].kind == "control":
                continue
            if v in place and place[v] != s.id:
                raise ModelError(f"model/sectors.yaml: {v!r} is declared in both {place[v]!r} "
                                 f"and {s.id!r}; a variable belongs to exactly one sector")
            place[v] = s.id
    names = graph.variables()
    users = graph.users(initial=True)
    stocks_of: dict[str, list[str]] = {v: [] for v in names}
    for v in names:
        node = graph[v]
        for f in (*node.inflows, *node.outflows):
            stocks_of[f].append(v)
    changed = True
    while changed:
        changed = False
        for v in names:
            if v in place:
                continue
            node = graph[v]
            if node.kind == "stock":
                pick = _vote([place[f] for f in (*node.inflows, *node.outflows) if f in place],
                             order)
            elif node.kind == "flow":
                pick = _vote([place[s] for s in stocks_of[v] if s in place], order)
            else:
                pick = None
            pick = pick or _vote([place[u] for u in users[v] if u in place], order)
            pick = pick or _vote([place[d] for d in (*node.deps, *node.init_deps)
                                  if d in place], order)
            if pick:
                place[v] = pick
                changed = True
    for v in names:       # unconnected leftovers (none in a well-formed model)
        place.setdefault(v, sectors[0].id)
    return place


def build_views(graph: ModelGraph, sectors: list[Sector]) -> list[View]:
    """The views of the sketch, one per sector, in the order of ``model/sectors.yaml``."""
    if not sectors:
        raise ModelError("model/sectors.yaml: no sectors declared")
    place = assign_sectors(graph, sectors)
    views = []
    for s in sectors:
        own = [v for v in graph.variables() if place[v] == s.id]
        ghosts = sorted({d for v in own for d in (*graph[v].deps, *graph[v].init_deps)
                         if graph[d].kind != "control" and place[d] != s.id})
        views.append(View(s, tuple(own), tuple(ghosts)))
    return views
