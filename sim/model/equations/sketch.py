"""The Vensim sketch of the model, generated from its equations and ``model/sectors.yaml``.

One view per sector (:mod:`sim.model.equations.views`). In a view, stocks are boxes, flows are valves on
pipes (a pipe runs from the stock the flow drains, or a cloud, to the stock it fills, or a
cloud), auxiliaries, constants and lookups are names, and every dependency is an arrow. A variable
of another view that an equation reads is shown as a shadow (ghost) variable. Positions come from
Graphviz ``dot``; the structure (objects, pipes, arrows, their numbering) does not depend on them,
so :func:`sketch_is_current` checks a committed sketch without Graphviz.

    python -m sim.model.equations.sketch --write     # rewrite the sketch section of the .mdl
    python -m sim.model.equations.sketch --check     # exit 1 if the committed sketch is stale

Only the part of the ``.mdl`` from the ``\\\\\\---/// Sketch information`` line on is rewritten;
the equations are never touched.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

from sim import paths
from sim.errors import ModelError
from sim.model.declarations.sectors import load_sectors
from sim.model.equations.dot import layout, quote
from sim.model.equations.graph import ModelGraph, load_graph
from sim.model.equations.views import View, build_views

SKETCH_MARK = "\\\\\\---/// Sketch information - do not modify anything except names"
SKETCH_END = "///---\\\\\\"
V300 = "V300  Do not put anything below this section - it will be ignored"
VIEW_STYLE = ("$192-192-192,0,Times New Roman|12||0-0-0|0-0-0|0-0-255|-1--1--1|-1--1--1|"
              "72,72,100,0")
GHOST_STYLE = "128-128-128,0-0-0,|12||128-128-128"
MARGIN = 60


@dataclass(frozen=True)
class Obj:
    key: str                 # unique in its view: "v:NAME" own, "g:NAME" ghost, "c:N" cloud
    kind: str                # stock | valve | aux | ghost | cloud
    name: str | None = None  # Python name (None for a cloud)


@dataclass(frozen=True)
class Pipe:
    valve: str               # key of the flow's valve
    source: str              # key of the stock drained, or of a cloud
    sink: str                # key of the stock filled, or of a cloud


@dataclass
class ViewSketch:
    view: View
    objects: list[Obj] = field(default_factory=list)
    pipes: list[Pipe] = field(default_factory=list)
    arrows: list[tuple[str, str]] = field(default_factory=list)   # (cause key, effect key)

    def obj(self, key: str) -> Obj:
        return next(o for o in self.objects if o.key == key)


def build_view_sketch(graph: ModelGraph, view: View) -> ViewSketch:
    """Objects, pipes and arrows of one view."""
    own = set(view.variables)
    vs = ViewSketch(view)
    for v in view.variables:
        kind = graph[v].kind
        vs.objects.append(Obj(f"v:{v}", {"stock": "stock", "flow": "valve"}.get(kind, "aux"), v))
    piped: set[tuple[str, str]] = set()
    clouds = 0
    for v in view.variables:
        if graph[v].kind != "flow":
            continue
        ends = []
        for attr in ("outflows", "inflows"):
            stocks = [s for s in view.variables
                      if graph[s].kind == "stock" and v in getattr(graph[s], attr)]
            if stocks:
                ends.append(f"v:{stocks[0]}")
                piped.add((v, stocks[0]))
            else:
                clouds += 1
                ends.append(f"c:{clouds}")
                vs.objects.append(Obj(f"c:{clouds}", "cloud"))
        vs.pipes.append(Pipe(f"v:{v}", ends[0], ends[1]))
    for g in view.ghosts:
        vs.objects.append(Obj(f"g:{g}", "ghost", g))
    for v in view.variables:
        node = graph[v]
        for d in sorted({*node.deps, *node.init_deps}):
            if graph[d].kind == "control" or (d, v) in piped:
                continue
            vs.arrows.append((f"v:{d}" if d in own else f"g:{d}", f"v:{v}"))
    return vs


def build_sketch(graph: ModelGraph | None = None, sectors=None) -> list[ViewSketch]:
    graph = graph or load_graph()
    views = build_views(graph, sectors if sectors is not None else load_sectors())
    return [build_view_sketch(graph, v) for v in views]


# --------------------------------------------------------------------------- layout
def _half_width(text: str) -> int:
    return int(min(70, max(20, 3.3 * len(text))))


def layout_source(vs: ViewSketch, graph: ModelGraph) -> str:
    """The DOT graph used to place a view's objects (Vensim names as labels)."""
    lines = ["digraph view {", "  rankdir=LR; nodesep=0.35; ranksep=0.9;",
             "  node [fontsize=10, fixedsize=true];"]
    group: dict[str, str] = {}
    for p in vs.pipes:   # a valve and its clouds in line with the stock it drains or fills
        stock = next((e for e in (p.source, p.sink) if not e.startswith("c:")), None)
        if stock is not None:
            for k in (stock, p.valve, p.source, p.sink):
                if k == stock or k.startswith("c:") or k == p.valve:
                    group.setdefault(k, stock)
    for o in vs.objects:
        extra = f", group={quote(group[o.key])}" if o.key in group else ""
        if o.kind == "stock":
            size = "shape=box, width=1.11, height=0.56"
        elif o.kind == "cloud":
            size = "shape=ellipse, width=0.3, height=0.22"
        else:
            text = graph[o.name].vensim_name
            size = f"shape=box, width={2 * _half_width(text) / 72:.2f}, height=0.3"
        lines.append(f"  {quote(o.key)} [{size}{extra}];")
    for p in vs.pipes:
        lines.append(f"  {quote(p.source)} -> {quote(p.valve)} [weight=20];")
        lines.append(f"  {quote(p.valve)} -> {quote(p.sink)} [weight=20];")
    for a, b in vs.arrows:
        lines.append(f"  {quote(a)} -> {quote(b)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def positions(vs: ViewSketch, graph: ModelGraph) -> dict[str, tuple[int, int]]:
    """Vensim coordinates (pixels, y down) of every object of the view, from Graphviz."""
    pos, (_, height) = layout(layout_source(vs, graph))
    out = {k: (int(round(x)) + MARGIN, int(round(height - y)) + MARGIN)
           for k, (x, y) in pos.items()}
    _straighten_pipes(vs, out)
    return out


def _straighten_pipes(vs: ViewSketch, pos: dict[str, tuple[int, int]]) -> None:
    """Vensim draws a pipe as a straight line from the valve to each end: put every valve in
    line with the stock it drains (else the one it fills), horizontally or vertically, whichever
    moves it less, when that is a small move and no other valve sits there; put its clouds on
    the same line."""
    taken = {pos[p.valve] for p in vs.pipes}
    for p in vs.pipes:
        stock = next((e for e in (p.source, p.sink) if not e.startswith("c:")), None)
        vx, vy = pos[p.valve]
        if stock is not None:
            sx, sy = pos[stock]
            cand = (vx, sy) if abs(vx - sx) >= abs(vy - sy) else (sx, vy)
            if cand != (sx, sy) and min(abs(vx - sx), abs(vy - sy)) <= 60 and all(abs(cand[0] - tx) + abs(cand[1] - ty) > 30
                                        for tx, ty in taken - {(vx, vy)}):
                taken.discard((vx, vy))
                taken.add(cand)
                vx, vy = pos[p.valve] = cand
        horizontal = stock is None or abs(pos[stock][1] - vy) <= abs(pos[stock][0] - vx)
        for end, sign in ((p.source, -1), (p.sink, 1)):
            if end.startswith("c:"):
                if stock is not None and end != stock:
                    sx, sy = pos[stock]
                    dx = (vx - sx) if horizontal else 0
                    dy = 0 if horizontal else (vy - sy)
                    step = 1 if (dx if horizontal else dy) >= 0 else -1
                    pos[end] = (vx + 60 * step, vy) if horizontal else (vx, vy + 45 * step)
                else:
                    pos[end] = (vx + 60 * sign, vy)


# --------------------------------------------------------------------------- writing
def view_text(vs: ViewSketch, graph: ModelGraph,
              pos: dict[str, tuple[int, int]] | None = None) -> str:
    """The sketch lines of one view; without ``pos`` every object sits at (0, 0)."""
    pos = pos or {}
    ids: dict[str, int] = {}
    lines = [SKETCH_MARK, V300, f"*{vs.view.id}", VIEW_STYLE]
    n = 0
    for o in vs.objects:
        n += 1
        ids[o.key] = n
        x, y = pos.get(o.key, (0, 0))
        if o.kind == "stock":
            lines.append(f"10,{n},{graph[o.name].vensim_name},{x},{y},40,20,3,3,0,0,0,0,0,0")
        elif o.kind == "aux":
            name = graph[o.name].vensim_name
            lines.append(f"10,{n},{name},{x},{y},{_half_width(name)},11,8,3,0,0,0,0,0,0")
        elif o.kind == "ghost":
            name = graph[o.name].vensim_name
            lines.append(f"10,{n},{name},{x},{y},{_half_width(name)},11,8,2,0,3,-1,0,0,0,"
                         f"{GHOST_STYLE}")
        elif o.kind == "cloud":
            lines.append(f"12,{n},48,{x},{y},10,8,0,3,0,0,-1,0,0,0")
        else:   # valve and its flow variable, named just below it
            name = graph[o.name].vensim_name
            lines.append(f"11,{n},0,{x},{y},6,8,34,3,0,0,1,0,0,0")
            n += 1
            lines.append(f"10,{n},{name},{x},{y + 16 if pos else 0},{_half_width(name)},11,40,"
                         "3,0,0,-1,0,0,0")

    def mid(a: str, b: str) -> str:
        (xa, ya), (xb, yb) = pos.get(a, (0, 0)), pos.get(b, (0, 0))
        return f"|({(xa + xb) // 2},{(ya + yb) // 2})|"

    for p in vs.pipes:
        n += 1
        lines.append(f"1,{n},{ids[p.valve]},{ids[p.sink]},4,0,0,22,0,0,0,-1--1--1,,1"
                     + mid(p.valve, p.sink))
        n += 1
        lines.append(f"1,{n},{ids[p.valve]},{ids[p.source]},100,0,0,22,0,0,0,-1--1--1,,1"
                     + mid(p.valve, p.source))
    for a, b in vs.arrows:
        n += 1
        lines.append(f"1,{n},{ids[a]},{ids[b]},0,0,0,0,0,64,1,-1--1--1,,1" + mid(a, b))
    return "\n".join(lines)


def sketch_text(sketch: list[ViewSketch], graph: ModelGraph, with_layout: bool = True) -> str:
    """The whole sketch section (from the sketch mark to the end mark)."""
    views = [view_text(vs, graph, positions(vs, graph) if with_layout else None)
             for vs in sketch]
    return "\n".join(views) + "\n" + SKETCH_END + "\n"


def split_mdl(text: str, path: Path | str = "") -> tuple[str, str]:
    """(equations part, sketch part) of a ``.mdl`` text."""
    at = text.find(SKETCH_MARK)
    if at < 0:
        raise ModelError(f"model file '{path}': no line '{SKETCH_MARK}' (the sketch section)")
    return text[:at], text[at:]


def signature(sketch_part: str) -> list[str]:
    """The sketch's lines with positions blanked: equal for two sketches with the same views,
    objects, pipes and arrows, wherever they are drawn."""
    out = []
    for line in sketch_part.strip().splitlines():
        fields = line.split(",")
        if fields[0] in ("10", "11", "12") and len(fields) > 4:
            fields[3] = fields[4] = "0"
            line = ",".join(fields)
        elif fields[0] == "1" and "|(" in line:
            line = line[: line.index("|(")]
        out.append(line)
    return out


def sketch_is_current(path: Path | str | None = None) -> tuple[bool, str]:
    """Whether the sketch of the ``.mdl`` at ``path`` is what the generator makes of its
    equations and ``model/sectors.yaml``; with a one-line reason when it is not."""
    path = Path(path or paths.MODEL_FILE)
    _, committed = split_mdl(path.read_text(encoding="utf-8"), path)
    graph = load_graph(path)
    fresh = sketch_text(build_sketch(graph), graph, with_layout=False)
    a, b = signature(committed), signature(fresh)
    if a == b:
        return True, ""
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return False, f"sketch line {i + 1}: committed {x!r}, generated {y!r}"
    return False, f"sketch has {len(a)} lines, the generator makes {len(b)}"


def write_sketch(path: Path | str | None = None) -> Path:
    """Rewrite the sketch section of the ``.mdl`` at ``path`` (atomically)."""
    path = Path(path or paths.MODEL_FILE)
    text = path.read_text(encoding="utf-8")
    equations, _ = split_mdl(text, path)
    graph = load_graph(path)
    new = equations + sketch_text(build_sketch(graph), graph)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(new, encoding="utf-8")
    tmp.replace(path)
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.model.equations.sketch", description=__doc__.split(
        "\n\n")[0])
    ap.add_argument("--write", action="store_true", help="rewrite the sketch of the .mdl")
    ap.add_argument("--check", action="store_true", help="exit 1 if the sketch is stale")
    ap.add_argument("--model", default=None, help="the .mdl file (default: the project's)")
    args = ap.parse_args(argv)
    if args.write:
        print(f"wrote the sketch of {write_sketch(args.model)}")
        return 0
    ok, why = sketch_is_current(args.model)
    print("sketch is current" if ok else f"sketch is stale: {why}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
