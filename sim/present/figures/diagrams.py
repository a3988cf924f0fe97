"""Stock-and-flow diagrams per sector and a causal-loop diagram, drawn with Graphviz.

Both are generated from the model: the stock-and-flow diagram of a sector is the sector's view of
the sketch (:mod:`sim.model.equations.sketch`: stocks as boxes, flows as valves on pipes, dependencies as
arrows, variables of other sectors as grey ghosts in angle brackets); constants that are not
policy levers are left out to keep it readable (the sketch in the ``.mdl`` has them all). The
causal-loop diagram joins the variables named in ``model/loops.yaml`` by arrows carrying the sign
of the chain between them measured on the calibrated run (:mod:`sim.analysis.diagnostics.loops`), with a label
per loop (R reinforcing, B balancing).

For each diagram three files are written: ``NAME.LANG.dot`` (the Graphviz source, which the
staleness check compares), ``.svg`` (its first comment carries the source's sha256) and ``.png``.
The committed copies in ``model/diagrams`` are the ``.dot`` and ``.svg`` only
(:data:`COMMITTED_FORMATS`, written by ``plansim regen``): no picture that a command redraws is
kept in git.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path

from sim.errors import OutputError
from sim.model.declarations.parameters import load_parameters
from sim.model.declarations.varlabels import variable_labels as declared
from sim.model.declarations.words import LANGS, by_lang, group
from sim.model.equations.dot import quote, render_all
from sim.model.equations.graph import ModelGraph, load_graph
from sim.model.equations.sketch import build_sketch
from sim.present.labels import check_lang, label
from sim.present.output.atomic import atomic_write_bytes, atomic_write_text

FORMATS = ("svg", "png")
COMMITTED_FORMATS = ("svg",)
FONT = "Noto Sans CJK SC"
STOCK_FILL = "#dbe9f6"
LINK_COLOR = "#3465a4"
GHOST_COLOR = "#888888"
LEVER_COLOR = "#2e7d32"
LOOP_COLORS = {"reinforcing": "#2e7d32", "balancing": "#c62828"}
TEXT = group("diagrams")
ZH_SIGN = {1: "+", -1: "−", 0: "0"}


def variable_labels(graph: ModelGraph, lang: str) -> dict[str, str]:
    """Display name of every model variable in ``lang``: its declared label
    (:func:`sim.model.declarations.varlabels.variable_labels`, the same the workbooks show)."""
    check_lang(lang)
    names = {n: node.vensim_name for n, node in graph.nodes.items()}
    return {n: lab[lang] for n, lab in declared(names).items()}


def _head(name: str, title: str, legend: str, rankdir: str = "LR") -> list[str]:
    return [f"digraph {name} {{",
            f"  rankdir={rankdir}; nodesep=0.3; ranksep=0.45; pad=0.3; fontname={quote(FONT)};",
            f"  labelloc=t; fontsize=18; label={quote(title + chr(10) + legend)};",
            f"  node [fontname={quote(FONT)}, fontsize=11];",
            f"  edge [fontname={quote(FONT)}, fontsize=11];"]


def sector_dot(vs, graph: ModelGraph, labels: dict[str, str], lang: str,
               levers: set[str]) -> str:
    """Graphviz source of the stock-and-flow diagram of one view (a ``ViewSketch``)."""
    title = label(vs.view.sector.label, lang)
    lines = _head(f"sector_{vs.view.id}", title, label(TEXT["legend_sf"], lang))
    shown = set()
    for o in vs.objects:
        if o.name is not None and graph[o.name].kind in ("constant", "lookup") \
                and o.name not in levers:
            continue
        shown.add(o.key)
        key = quote(o.key)
        if o.kind == "stock":
            lines.append(f"  {key} [shape=box, style=filled, fillcolor={quote(STOCK_FILL)}, "
                         f"penwidth=1.4, label={quote(labels[o.name])}];")
        elif o.kind == "valve":
            lines.append(f"  {key} [shape=circle, width=0.2, height=0.2, fixedsize=true, "
                         f"label=\"\", xlabel={quote(labels[o.name])}];")
        elif o.kind == "cloud":
            lines.append(f"  {key} [shape=ellipse, style=dashed, width=0.35, height=0.22, "
                         "label=\"\"];")
        elif o.kind == "ghost":
            lines.append(f"  {key} [shape=plaintext, fontcolor={quote(GHOST_COLOR)}, "
                         f"label={quote('<' + labels[o.name] + '>')}];")
        elif o.name in levers:
            lines.append(f"  {key} [shape=plaintext, fontcolor={quote(LEVER_COLOR)}, "
                         f"label={quote(labels[o.name])}];")
        else:
            lines.append(f"  {key} [shape=plaintext, label={quote(labels[o.name])}];")
    pipe = 'color="#555555:white:#555555", penwidth=1.3, weight=10'
    for p in vs.pipes:
        lines.append(f"  {quote(p.source)} -> {quote(p.valve)} [{pipe}, arrowhead=none];")
        lines.append(f"  {quote(p.valve)} -> {quote(p.sink)} [{pipe}];")
    for a, b in vs.arrows:
        if a in shown and b in shown:
            lines.append(f"  {quote(a)} -> {quote(b)} [color={quote(LINK_COLOR)}, "
                         "arrowsize=0.6, penwidth=0.8];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def loop_dot(polarities, labels: dict[str, str], lang: str, run: str) -> str:
    """Graphviz source of the causal-loop diagram of the declared loops."""
    lines = _head("loops", label(TEXT["cld_title"], lang),
                  label(TEXT["legend_cld"], lang).format(run=run), rankdir="TB")
    nodes: list[str] = []
    edges: dict[tuple[str, str], int] = {}
    for pol in polarities:
        seq = pol.loop.spec.variables
        for v in seq:
            if v not in nodes:
                nodes.append(v)
        for k, a in enumerate(seq):
            b = seq[(k + 1) % len(seq)]
            edges.setdefault((a, b), pol.segment_sign(k))
    for v in nodes:
        lines.append(f"  {quote(v)} [shape=plaintext, label={quote(labels[v])}];")
    for (a, b), s in edges.items():
        color = LOOP_COLORS["balancing"] if s < 0 else LINK_COLOR
        lines.append(f"  {quote(a)} -> {quote(b)} [color={quote(color)}, "
                     f"headlabel={quote(ZH_SIGN[s])}, labelfontsize=14, "
                     f"labelfontcolor={quote(color)}, labeldistance=1.6];")
    for pol in polarities:
        spec = pol.loop.spec
        color = LOOP_COLORS[spec.polarity]
        text = f"{spec.id} {label(spec.name, lang)}"
        lid = quote(f"loop:{spec.id}")
        lines.append(f"  {lid} [shape=circle, style=bold, color={quote(color)}, "
                     f"fontcolor={quote(color)}, fontsize=10, label={quote(text)}];")
        a, b = spec.variables[0], spec.variables[min(1, len(spec.variables) - 1)]
        lines.append(f"  {quote(a)} -> {lid} [style=invis, weight=0];")
        lines.append(f"  {lid} -> {quote(b)} [style=invis, weight=0];")
    lines.append("}")
    return "\n".join(lines) + "\n"


POL_TEXT = group("polarity")
TABLE_HEAD = by_lang("loop_table")


def _years(years: list[int]) -> str:
    if not years:
        return "-"
    runs, start = [], years[0]
    for prev, cur in zip(years, [*years[1:], None], strict=True):
        if cur != prev + 1:
            runs.append(f"{start}" if start == prev else f"{start}-{prev}")
            start = cur
    return ", ".join(runs)


def loop_table(polarities, labels: dict[str, str], lang: str) -> str:
    """The derived loop table as Markdown."""
    check_lang(lang)
    head = list(TABLE_HEAD[lang].values())
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for pol in polarities:
        spec = pol.loop.spec
        chain = " → ".join(labels[v] for v in (*pol.loop.cycle, pol.loop.cycle[0]))
        rows.append(f"| {spec.id} | {label(spec.name, lang)} | {chain} | "
                    f"{label(POL_TEXT[spec.polarity], lang)} | "
                    f"{label(POL_TEXT[pol.derived], lang)} | {_years(pol.active_years)} |")
    return "\n".join(rows) + "\n"


# --------------------------------------------------------------------------- files
def _digest(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def diagram_sources(langs: Sequence[str] = LANGS, sectors: Sequence[str] | None = None,
                    polarities=None, graph: ModelGraph | None = None,
                    run=None) -> dict[str, str]:
    """``{file stem: Graphviz source}``: ``sector-ID.LANG`` per sector, ``loops.LANG``
    (when ``polarities`` is given) and ``loop-table.LANG`` (Markdown, not a graph). ``run``:
    the scenario the polarities were measured on (its name goes into the legend)."""
    graph = graph or load_graph()
    sketch = build_sketch(graph)
    known = [vs.view.id for vs in sketch]
    for s in sectors or ():
        if s not in known:
            raise OutputError(f"sector: {s!r} is not a sector of model/sectors.yaml; "
                              f"allowed: {', '.join(known)}")
    levers = {p.py_name for p in load_parameters().levers.values()}
    out = {}
    for lang in langs:
        labels = variable_labels(graph, lang)
        for vs in sketch:
            if not sectors or vs.view.id in sectors:
                out[f"sector-{vs.view.id}.{lang}"] = sector_dot(vs, graph, labels, lang, levers)
        if polarities is not None:
            out[f"loops.{lang}"] = loop_dot(polarities, labels, lang,
                                            run.label(lang) if run is not None else "")
            out[f"loop-table.{lang}"] = loop_table(polarities, labels, lang)
    return out


def _stamped(source: str) -> str:
    """The source with a comment naming its sha256 (Graphviz copies it into the SVG)."""
    return source.replace("{\n", f"{{\n  comment={quote('source sha256 ' + _digest(source))};\n",
                          1)


class Drawer:
    """A pool of ``dot`` runs (one per diagram, every format; as many at once as there are
    cores), so that drawing can start before every source is known (the sector diagrams
    while the loops' polarities are measured): :meth:`start`, then :func:`write_diagrams`."""

    def __init__(self):
        from concurrent.futures import ThreadPoolExecutor

        self.pool = ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1))
        self.started: dict[tuple, object] = {}
        self.fonts: list[Path] | None = None

    def start(self, sources: dict[str, str], formats: Sequence[str] = FORMATS) -> None:
        """Begin drawing every graph of ``sources`` in ``formats``, unless begun already."""
        if self.fonts is None:
            # lazy: pulls matplotlib (103 ms)
            from sim.present.figures.fonts import cjk_font_path

            self.fonts = [cjk_font_path().parent]
        for stem, src in sources.items():
            key = (src, tuple(formats))
            if not stem.startswith("loop-table.") and key not in self.started:
                self.started[key] = self.pool.submit(render_all, _stamped(src), key[1],
                                                     font_dirs=self.fonts)

    def drawn(self, src: str, formats: Sequence[str] = FORMATS) -> dict[str, bytes]:
        """``{format: bytes}`` of the graph ``src`` (started by :meth:`start`)."""
        return self.started[(src, tuple(formats))].result()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.pool.shutdown(wait=True, cancel_futures=True)


def write_diagrams(out_dir: Path | str, sources: dict[str, str],
                   drawer: Drawer | None = None, formats: Sequence[str] = FORMATS
                   ) -> list[Path]:
    """Write each source (``.dot`` and each of ``formats``; Markdown tables as ``.md``) to
    ``out_dir``, each file atomically. Returns the files written. ``drawer``: a pool that may
    already be drawing some of them."""
    if drawer is None:
        with Drawer() as own:
            return write_diagrams(out_dir, sources, own, formats)
    out_dir = Path(out_dir)
    drawer.start(sources, formats)
    # every drawing finished before the first file is written (a failed one writes nothing)
    drawn = {stem: drawer.drawn(src, formats) for stem, src in sources.items()
             if not stem.startswith("loop-table.")}
    written = []
    for stem, src in sources.items():
        if stem not in drawn:
            written.append(atomic_write_text(out_dir / f"{stem}.md", src))
            continue
        written.append(atomic_write_text(out_dir / f"{stem}.dot", src))
        for fmt in formats:
            written.append(atomic_write_bytes(out_dir / f"{stem}.{fmt}", drawn[stem][fmt]))
    return written


def diagrams_are_current(out_dir: Path | str, sources: dict[str, str]) -> tuple[bool, str]:
    """Whether the committed diagrams in ``out_dir`` (``.dot`` and ``.svg``) were drawn from
    ``sources``."""
    out_dir = Path(out_dir)
    for stem, src in sources.items():
        if stem.startswith("loop-table."):
            f = out_dir / f"{stem}.md"
            if not f.is_file() or f.read_text(encoding="utf-8") != src:
                return False, f"{f} differs from the derived loop table"
            continue
        f = out_dir / f"{stem}.dot"
        if not f.is_file() or f.read_text(encoding="utf-8") != src:
            return False, f"{f} differs from the diagram generated from the model"
        svg = out_dir / f"{stem}.svg"
        if not svg.is_file() or _digest(src) not in svg.read_text(encoding="utf-8"):
            return False, f"{svg} was not drawn from {f.name}"
    stems = {re.sub(r"\.(dot|svg|png|md)$", "", p.name) for p in out_dir.iterdir()
             if p.suffix in (".dot", ".svg", ".png", ".md")}
    extra = sorted(stems - set(sources))
    if extra:
        return False, f"{out_dir}: diagrams of no current sector or loop: {extra}"
    return True, ""


README_TABLES = {"README.md": "loop-table.en", "README.zh.md": "loop-table.zh"}


def fill_generated_block(text: str, name: str, content: str, where: str = "") -> str:
    """Replace the body of ``<!-- generated: NAME -->`` ... ``<!-- /generated -->``."""
    start = f"<!-- generated: {name} -->\n"
    i = text.find(start)
    j = text.find("<!-- /generated -->", i + len(start)) if i >= 0 else -1
    if i < 0 or j < 0:
        raise OutputError(f"{where}: no block '<!-- generated: {name} -->' ... "
                          "'<!-- /generated -->'")
    return text[: i + len(start)] + content + text[j:]


def update_model_readmes(sources: dict[str, str], model_dir: Path | str) -> list[Path]:
    """Put the derived loop tables into the generated blocks ``loop-table-en`` of
    ``model/README.md`` and ``loop-table-zh`` of ``model/README.zh.md``."""
    done = []
    for name, stem in README_TABLES.items():
        path = Path(model_dir) / name
        if stem not in sources or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        new = fill_generated_block(text, stem.replace(".", "-"), sources[stem], str(path))
        if new != text:
            done.append(atomic_write_text(path, new))
    return done
