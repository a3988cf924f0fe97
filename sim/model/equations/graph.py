"""The model's dependency graph, read from PySD's abstract model.

Every element of the ``.mdl`` becomes a :class:`Node` with its Python name (as PySD names it), its
Vensim name, a kind and the variables its equation refers to. Kinds:

- ``stock``: an INTEG; ``inflows``/``outflows`` are the plain references added to / subtracted from
  its rate (``INTEG(a - b - c, ...)``), the rest of the rate (if any) are ordinary dependencies;
- ``flow``: an auxiliary that is an inflow or outflow of some stock;
- ``aux``: any other equation (including SMOOTH, which keeps its own state);
- ``constant``, ``lookup`` (a table), ``control`` (INITIAL TIME, FINAL TIME, TIME STEP, SAVEPER).

``deps`` are the variables read in the simulation (the initial value of a stock or SMOOTH is not a
dependency: it only sets where the state starts; such variables are ``init_deps``, drawn in the
sketch but never part of a feedback loop). Nothing here evaluates an equation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sim import paths
from sim.errors import ModelError
from sim.model.cache import diskcache
from sim.model.equations.mdl import load_abstract_model

CONTROL = ("initial_time", "final_time", "time_step", "saveper")


@dataclass
class Node:
    name: str                 # PySD Python name
    vensim_name: str
    kind: str                 # stock | flow | aux | constant | lookup | control
    deps: tuple[str, ...]     # variables read in the simulation, sorted, without Time
    inflows: tuple[str, ...] = ()
    outflows: tuple[str, ...] = ()
    init_deps: tuple[str, ...] = ()   # variables read only for an initial value
    units: str = ""
    doc: str = ""


@dataclass
class ModelGraph:
    nodes: dict[str, Node] = field(default_factory=dict)

    def __contains__(self, name: str) -> bool:
        return name in self.nodes

    def __getitem__(self, name: str) -> Node:
        return self.nodes[name]

    def variables(self) -> list[str]:
        """Every element except the control variables, in equation order."""
        return [n for n, node in self.nodes.items() if node.kind != "control"]

    def users(self, initial: bool = False) -> dict[str, list[str]]:
        """variable -> the variables whose equations read it (stocks read their flows);
        with ``initial``, also those that read it for an initial value."""
        out: dict[str, list[str]] = {n: [] for n in self.nodes}
        for n, node in self.nodes.items():
            for d in (*node.deps, *(node.init_deps if initial else ())):
                out[d].append(n)
        return out

    def edges(self) -> list[tuple[str, str]]:
        """Every dependency ``(cause, effect)``: ``effect``'s equation reads ``cause``."""
        return [(d, n) for n, node in self.nodes.items() for d in node.deps]


def _refs(ast, out: set[str]) -> None:
    """Collect every ReferenceStructure name in ``ast`` (functions included; filtered later)."""
    from pysd.translators.structures import abstract_expressions as ae

    if isinstance(ast, ae.ReferenceStructure):
        out.add(ast.reference)
        return
    if isinstance(ast, (list, tuple)):
        for a in ast:
            _refs(a, out)
        return
    if hasattr(ast, "__dataclass_fields__"):
        for f in ast.__dataclass_fields__:
            _refs(getattr(ast, f), out)


def _dynamic_part(ast):
    """The parts of an expression read during the run: an INTEG's rate, a SMOOTH's input and
    time (not their initial values), recursively."""
    from pysd.translators.structures import abstract_expressions as ae

    if isinstance(ast, ae.IntegStructure):
        return [ast.flow]
    if hasattr(ast, "initial") and hasattr(ast, "__dataclass_fields__"):
        return [_dynamic_part(getattr(ast, f)) for f in ast.__dataclass_fields__
                if f != "initial"]
    if isinstance(ast, (list, tuple)):
        return [_dynamic_part(a) for a in ast]
    if isinstance(ast, ae.CallStructure):
        return [ast.function, [_dynamic_part(a) for a in ast.arguments]]
    if isinstance(ast, ae.ArithmeticStructure):
        return [_dynamic_part(a) for a in ast.arguments]
    return ast


def _signed_terms(ast) -> list[tuple[int, object]] | None:
    """``a - b - c`` -> [(+1, a), (-1, b), (-1, c)]; None when the rate is not a plain sum."""
    from pysd.translators.structures import abstract_expressions as ae

    if isinstance(ast, ae.ReferenceStructure):
        return [(1, ast)]
    if isinstance(ast, ae.ArithmeticStructure) and all(op in "+-" for op in ast.operators):
        terms = [(1, ast.arguments[0])]
        terms += [(1 if op == "+" else -1, a) for op, a in zip(ast.operators, ast.arguments[1:],
                                                               strict=True)]
        return terms
    if isinstance(ast, ae.ArithmeticStructure) and ast.operators == ["negative"]:
        return [(-1, ast.arguments[0])]
    return None


def _kind(element) -> str:
    from pysd.translators.structures import abstract_expressions as ae
    from pysd.translators.structures import abstract_model as am

    comps = element.components
    if any(isinstance(c, am.AbstractLookup) for c in comps):
        return "lookup"
    if any(isinstance(c.ast, ae.IntegStructure) for c in comps):
        return "stock"
    if all(isinstance(c.ast, (int, float)) or type(c.ast).__name__ == "ndarray" for c in comps):
        return "constant"
    return "aux"


def build_graph(abstract_model) -> ModelGraph:
    """The dependency graph of the main section of a PySD abstract model."""
    from pysd.builders.python.namespace import NamespaceManager

    main = [s for s in abstract_model.sections if s.type == "main"][0]
    ns = NamespaceManager()
    for e in main.elements:
        ns.add_to_namespace(e.name)
    names = {ns.namespace[e.name] for e in main.elements}
    clean = {k: v for k, v in ns.cleanspace.items() if v in names}  # reference -> Python name
    graph = ModelGraph()
    flow_sets: dict[str, tuple[list[str], list[str]]] = {}
    for e in main.elements:
        py = ns.namespace[e.name]
        kind = "control" if py in CONTROL else _kind(e)
        refs: set[str] = set()
        all_refs: set[str] = set()
        inflows: list[str] = []
        outflows: list[str] = []
        for c in e.components:
            if kind not in ("lookup", "constant"):
                _refs(c.ast, all_refs)
            if kind == "stock":
                terms = _signed_terms(c.ast.flow)
                if terms is not None:
                    for sign, term in terms:
                        if term.reference in clean and clean[term.reference] not in CONTROL:
                            (inflows if sign > 0 else outflows).append(clean[term.reference])
                        else:
                            _refs(term, refs)
                else:
                    _refs(c.ast.flow, refs)
            elif kind not in ("lookup", "constant"):
                _refs(_dynamic_part(c.ast), refs)
        deps = {clean[r] for r in refs if r in clean} - {py, *CONTROL}
        deps |= set(inflows) | set(outflows)
        init = {clean[r] for r in all_refs if r in clean} - deps - {py, *CONTROL}
        flow_sets[py] = (inflows, outflows)
        graph.nodes[py] = Node(py, e.name, kind, tuple(sorted(deps)), tuple(inflows),
                               tuple(outflows), tuple(sorted(init)), e.units or "",
                               (e.documentation or "").strip())
    for ins, outs in flow_sets.values():
        for f in (*ins, *outs):
            if graph.nodes[f].kind == "aux":
                graph.nodes[f].kind = "flow"
    return graph


def load_graph(path: Path | str | None = None) -> ModelGraph:
    """The dependency graph of the model file (default ``model/qingdao_st_plan.mdl``); kept in
    the user's cache (:mod:`sim.model.cache.diskcache`) by the file's text, this module's code and
    PySD's version, so a second command does not parse the model again."""
    import hashlib

    path = Path(path or paths.MODEL_FILE)
    root, cached = diskcache.cache_root(), None
    if root is not None and path.is_file():
        key = hashlib.sha256(path.read_bytes() + Path(__file__).read_bytes()
                             + diskcache.package_version("pysd").encode()).hexdigest()[:32]
        (root / "graphs").mkdir(mode=0o700, exist_ok=True)
        cached = root / "graphs" / f"{key}.pickle"
        graph = diskcache.read(cached)
        if isinstance(graph, ModelGraph) and graph.nodes:
            return graph
    graph = build_graph(load_abstract_model(path))
    if not graph.nodes:
        raise ModelError(f"model file '{path}' has no equations")
    if cached is not None:
        diskcache.write(cached, graph)
    return graph
