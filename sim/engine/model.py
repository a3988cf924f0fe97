"""The engine's view of a model: variables, their metadata, subscripts and namespaces.

Built from PySD's abstract model (``sim.model.equations.mdl.load_abstract_model``): every element becomes
a :class:`Var` carrying its Python name (as PySD names it), Vensim name, units, documentation,
kind and final subscript ranges. Macros are kept as templates and expanded per call site by the
compiler. Nothing here evaluates an equation.

PySD is imported only to parse (:class:`ModelInfo` from an abstract model) and compile; a
:meth:`ModelInfo.light` copy (metadata without the equations' syntax trees, what the on-disk
cache of :mod:`sim.engine.cache` loads first) needs no PySD.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from sim.errors import ModelError, UnsupportedConstructError

CONTROL_NAMES = ("initial_time", "final_time", "time_step", "saveper")
KINDS = ("stock", "aux", "constant", "lookup", "data", "control")


@dataclass
class Var:
    """One model variable. ``dims`` are the final subscript range names (may be empty).

    ``kind``: ``stock`` (INTEG), ``aux`` (flow or auxiliary), ``constant``, ``lookup``,
    ``data`` (time series from a data file) or ``control`` (INITIAL TIME, ...).
    ``components``: list of ``(lhs_subscripts, ast)``; ``ctx``: namespace used to resolve the
    references of its equations; ``hidden``: internal (macro expansion), never returned.
    """

    id: str
    py_name: str
    vensim_name: str
    units: str
    doc: str
    kind: str
    dims: tuple
    components: list
    ctx: str = "main"
    hidden: bool = False
    lookup_mode: str = "interpolate"
    table: tuple | None = None
    data_keyword: str | None = None
    extra: dict = field(default_factory=dict)


def _kind(element, py_name) -> str:
    from pysd.translators.structures import abstract_expressions as ae
    from pysd.translators.structures import abstract_model as am

    if py_name in CONTROL_NAMES:
        return "control"
    comps = element.components
    if any(isinstance(c, am.AbstractLookup) for c in comps):
        return "lookup"
    if any(isinstance(c, am.AbstractData) and isinstance(c.ast, ae.DataStructure)
           for c in comps):
        return "data"
    if any(isinstance(c.ast, ae.IntegStructure) for c in comps):
        return "stock"
    if all(isinstance(c.ast, (int, float)) or type(c.ast).__name__ == "ndarray"
           for c in comps):
        return "constant"
    return "aux"


class ModelInfo:
    """Variables, subscripts and namespaces of an abstract model.

    ``vars``: id -> Var for the main section (id == PySD Python name); ``ctxs``: namespace name
    -> {clean reference -> var id}; ``macros``: clean macro name -> AbstractSection.
    """

    #: ``light`` copies: returns the full info (with the syntax trees) when a compile needs it
    full_loader: Callable[[], ModelInfo] | None = None
    #: the on-disk cache entry of this model (:mod:`sim.engine.cache`), or None
    cache_dir: Path | None = None

    def __init__(self, abstract_model, path: Path):
        from pysd.builders.python.namespace import NamespaceManager
        from pysd.builders.python.subscripts import SubscriptManager

        self.path = Path(path)
        main = [s for s in abstract_model.sections if s.type == "main"]
        self.main = main[0]
        self.macros = {s.name: s for s in abstract_model.sections if s.type == "macro"}
        self.subs = SubscriptManager(self.main.subscripts, self.path.parent)
        self.ranges: dict[str, list[str]] = {k: list(v) for k, v in self.subs.subscripts.items()}
        self.vars: dict[str, Var] = {}
        self.ctxs: dict[str, dict[str, str]] = {}
        ns = NamespaceManager()
        for e in self.main.elements:
            ns.add_to_namespace(e.name)
        self.ctxs["main"] = dict(ns.cleanspace)
        for e in self.main.elements:
            py = ns.namespace[e.name]
            self.vars[py] = self.make_var(e, py, py, "main")

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("full_loader", None)
        state.pop("cache_dir", None)
        return state

    @property
    def is_light(self) -> bool:
        return self.main is None

    def light(self) -> ModelInfo:
        """A copy with the metadata only (names, units, kinds, subscripts, lookup tables): no
        syntax trees, macros or PySD objects, so it unpickles without importing PySD."""
        out = object.__new__(ModelInfo)
        out.__dict__.update(self.__getstate__())
        out.main, out.macros, out.subs = None, {}, None
        out.vars = {k: replace(v, components=[]) for k, v in self.vars.items()}
        return out

    def full(self) -> ModelInfo:
        """This info with the syntax trees (what the compiler needs)."""
        if not self.is_light:
            return self
        if self.full_loader is None:
            raise ModelError(f"model '{self.path}': its equations were not loaded")
        return self.full_loader()

    def make_var(self, element, vid, py_name, ctx, hidden=False) -> Var:
        from pysd.translators.structures import abstract_expressions as ae

        comps = [(list(c.subscripts[0]), c) for c in element.components]
        if any(c.subscripts[1] for c in element.components):
            raise UnsupportedConstructError(element.name, "EXCEPT subscripts")
        dims: tuple = ()
        if any(s for s, _ in comps):
            dims = tuple(self.subs.make_merge_list([s for s, _ in comps], element.name))
        var = Var(id=vid, py_name=py_name, vensim_name=element.name, units=element.units or "",
                  doc=(element.documentation or "").strip(), kind=_kind(element, py_name),
                  dims=dims, components=[(s, c.ast) for s, c in comps], ctx=ctx, hidden=hidden)
        if var.kind == "lookup":
            ast = element.components[0].ast
            if len(comps) > 1 or not isinstance(ast, ae.LookupsStructure):
                raise UnsupportedConstructError(element.name, type(ast).__name__,
                                                "only inline lookup tables are supported")
            var.lookup_mode = ast.type
            var.table = (tuple(float(x) for x in ast.x), tuple(float(y) for y in ast.y))
        if var.kind == "data":
            var.data_keyword = element.components[0].keyword
        return var

    def is_range(self, name: str) -> bool:
        return name in self.ranges

    def range_elements(self, name: str) -> list[str]:
        return self.ranges[name]

    def by_name(self, name: str) -> Var | None:
        """Find a main-section variable by Python or Vensim name (case-insensitive)."""
        if name in self.vars:
            return self.vars[name]
        low = name.strip().lower()
        for v in self.vars.values():
            if v.vensim_name.lower() == low or v.py_name == low:
                return v
        clean = self.ctxs["main"].get(low.replace(" ", "_"))
        return self.vars.get(clean) if clean else None
