"""Generate the Python source of one simulation from a :class:`ModelInfo`.

The generated module defines ``_build(K, H, _n)`` which, given the run inputs ``K`` (controls,
constants, lookup tables, time-series arrays), the helper set ``H`` (``runtime.VECTOR`` or
``runtime.SCALAR``) and the number of samples ``_n``, evaluates the initialisation phase at
INITIAL TIME (in dependency order, stocks included, as PySD does), evaluates the static
(time-independent) variables once, and returns ``(initial_states, step)``.

``step(_i, t, *states, _save)`` computes every time-dependent variable at time index ``_i`` /
time ``t`` from the states, then the next states (Euler, ``x + dt * ddt`` for every stateful
at once, DELAY FIXED as a pipeline), and returns ``(saved_values or None, next_states)``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from pysd.builders.python.namespace import NamespaceManager
from pysd.translators.structures import abstract_expressions as ae

from sim.engine.expr import ExprCompiler
from sim.engine.model import CONTROL_NAMES, ModelInfo, Var
from sim.engine.statefuls import STATEFUL_TYPES, Stateful, StatefulBuilder
from sim.errors import ModelError, UnsupportedConstructError


class Sections(NamedTuple):
    """Ordered lines of one simulation: ``init`` (INITIAL TIME, statefuls included), ``static``
    (time-independent, once), ``step`` (every time step), ``update`` (next states ``n_<slot>``);
    ``slots`` the state variables."""

    init: list[str]
    static: list[str]
    step: list[str]
    update: list[str]
    slots: list[str]


class ModelCompiler(StatefulBuilder):
    """Compile ``info`` for a set of overrides into Python source.

    ``overrides``: var id -> ``"const"`` (value in ``K['p_<id>']``), ``"series"`` (array in
    ``K['ts_<id>']`` indexed by time step) or ``"lookup"`` (y values in ``K['ly_<id>']``).
    ``outputs``: ids of the variables ``step`` returns. ``scalar``: emit the float flavour.
    """

    def __init__(self, info: ModelInfo, overrides: dict, outputs: list[str], scalar=False):
        self.info = info
        self.overrides = overrides
        self.outputs = outputs
        self.scalar = scalar
        self.vars: dict[str, Var] = dict(info.vars)
        self.ctxs = dict(info.ctxs)
        self.constants: dict[str, object] = {}
        self.statefuls: dict[tuple, Stateful] = {}
        self.macro_instances: dict[tuple, str] = {}
        self.code_init: dict[str, tuple[list[str], set]] = {}
        self.code_run: dict[str, tuple[list[str], set]] = {}
        self._current: tuple | None = None

    # --------------------------------------------------------------- interface for expr
    def resolve(self, var, ref):
        vid = self.ctxs[var.ctx].get(ref)
        return self.vars.get(vid) if vid else None

    def is_range(self, name):
        return self.info.is_range(name)

    def range_elements(self, name):
        return self.info.range_elements(name)

    def is_macro(self, name):
        return name in self.info.macros

    def control_id(self, name):
        return name

    def register_constant(self, value) -> str:
        name = f"c{len(self.constants)}"
        self.constants[name] = value
        return name

    def register_table(self, lookups, var) -> str:
        name = f"tab{len(self.constants)}"
        x = np.array([float(v) for v in lookups.x])
        y = np.array([float(v) for v in lookups.y])
        self.constants[name + "_x"] = tuple(x) if self.scalar else x
        self.constants[name + "_y"] = tuple(y) if self.scalar else y
        return name

    # --------------------------------------------------------------- statefuls
    def stateful_expression(self, ec: ExprCompiler, node):
        if isinstance(node, ae.CallStructure):
            return None
        if not isinstance(node, STATEFUL_TYPES):
            return None
        key = (ec.var.id, ec.comp_index, id(node))
        st = self.statefuls.get(key)
        if st is None:
            st = self._make_stateful(ec, node)
            self.statefuls[key] = st
        if ec.mode == "init":
            ec.refs.add(st.sid)
            return f"{st.name}_v", st.labels
        if st.kind != "initial":
            ec.refs.add(st.sid)
        ec.refs.update(st.out_run_refs)
        return st.out_run, st.labels

    # --------------------------------------------------------------- macros
    def macro_call(self, ec: ExprCompiler, fname, args):
        if ec.lhs:
            raise UnsupportedConstructError(ec.var.vensim_name, "subscripted macro call")
        key = (ec.var.id, ec.comp_index, fname, tuple(id(a) for a in args))
        out_id = self.macro_instances.get(key)
        if out_id is None:
            out_id = self._expand_macro(ec.var, fname, args)
            self.macro_instances[key] = out_id
        ec.refs.add(out_id)
        return f"v_{out_id}", ()

    def _expand_macro(self, caller: Var, fname, args) -> str:
        sec = self.info.macros[fname]
        if len(args) != len(sec.params):
            raise UnsupportedConstructError(caller.vensim_name, f"macro {fname}",
                                            "wrong number of arguments")
        prefix = f"m{len(self.macro_instances)}_"
        ns = NamespaceManager(sec.params)
        for e in sec.elements:
            ns.add_to_namespace(e.name)
        ctx_name = prefix + fname
        ctx = {}
        for param, arg in zip(sec.params, args, strict=True):
            clean = ns.namespace[param]
            vid = prefix + "p_" + clean
            self.vars[vid] = Var(id=vid, py_name=vid, vensim_name=f"{fname}:{param}", units="",
                                 doc="", kind="aux", dims=(), components=[([], arg)],
                                 ctx=caller.ctx, hidden=True)
            for cl, py in ns.cleanspace.items():
                if py == clean:
                    ctx[cl] = vid
        out = None
        for e in sec.elements:
            py = ns.namespace[e.name]
            vid = prefix + py
            var = self.info.make_var(e, vid, vid, ctx_name, hidden=True)
            if var.dims:
                raise UnsupportedConstructError(caller.vensim_name, "subscripted macro")
            self.vars[vid] = var
            for cl, p in ns.cleanspace.items():
                if p == py:
                    ctx[cl] = vid
            if py == fname or e.name.lower().replace(" ", "_") == fname:
                out = vid
        self.ctxs[ctx_name] = ctx
        if out is None:
            raise UnsupportedConstructError(caller.vensim_name, f"macro {fname}", "no output")
        return out

    # --------------------------------------------------------------- variables
    def _compile_var(self, var: Var, mode: str, literal_controls=False):
        ov = self.overrides.get(var.id)
        if var.kind == "control" and not literal_controls:
            return [f"v_{var.id} = K['ctl_{var.id}']"], set()
        if ov == "const":
            return [f"v_{var.id} = K['p_{var.id}']"], set()
        if ov == "series":
            return [f"v_{var.id} = K['ts_{var.id}'][_i]"], {"@time"}
        if var.kind == "lookup":
            return [f"v_{var.id}_x = K['lx_{var.id}']", f"v_{var.id}_y = K['ly_{var.id}']"], set()
        if var.kind == "data":
            return [f"v_{var.id} = K['ts_{var.id}'][_i]"], {"@time"}
        refs: set[str] = set()
        lines: list[str] = []
        sizes = tuple(len(self.range_elements(d)) for d in var.dims)
        simple = len(var.components) == 1 and list(var.components[0][0]) == list(var.dims)
        parts = []
        for ci, (lhs, ast) in enumerate(var.components):
            lhs_labels = [s for s in lhs if self.is_range(s)]
            ec = ExprCompiler(self, var, lhs_labels, mode, self.scalar, ci)
            if isinstance(ast, ae.CallStructure) and isinstance(ast.function, ae.ReferenceStructure) \
                    and ast.function.reference == "active_initial":
                ast = ast.arguments[1] if mode == "init" else ast.arguments[0]
            code, labels = ec.compile(ast)
            refs |= ec.refs
            if simple:
                code = ec.align(code, labels, var.dims)
                lines.append(f"v_{var.id} = {f'_fb({code}, {sizes!r})' if sizes else code}")
                return lines, refs
            target = [s if self.is_range(s) else None for s in lhs]
            parts.append((ec.align(code, labels, target), self._index(var, lhs)))
        for j, (code, _) in enumerate(parts):
            lines.append(f"_p{j} = {code}")
        lines.append(f"v_{var.id} = _alloc({sizes!r}, {', '.join(f'_p{j}' for j in range(len(parts)))})")
        for j, (_, idx) in enumerate(parts):
            lines.append(f"v_{var.id}[{idx}] = _p{j}")
        return lines, refs

    def _index(self, var, lhs):
        lists = []
        for sub, dim in zip(lhs, var.dims, strict=True):
            delems = self.range_elements(dim)
            if self.is_range(sub):
                lists.append([delems.index(e) for e in self.range_elements(sub)])
            elif sub in delems:
                lists.append([delems.index(sub)])
            else:
                raise UnsupportedConstructError(var.vensim_name, f"subscript '{sub}'")
        name = self.register_constant((slice(None),) + np.ix_(*lists))
        return name

    # --------------------------------------------------------------- assembly
    def sections(self) -> Sections:
        """Compile every variable and order the code: the pieces :meth:`build_source` assembles
        (and the compiled kernel, :mod:`sim.engine.kernel_codegen`, reuses unchanged)."""
        done: set[str] = set()
        while len(done) < len(self.vars):  # macro expansion adds variables while compiling
            for vid in [v for v in self.vars if v not in done]:
                done.add(vid)
                var = self.vars[vid]
                self.code_init[vid] = self._compile_var(var, "init")
                self.code_run[vid] = self._compile_var(var, "run")
        st_by_sid = {st.sid: st for st in self.statefuls.values()}
        # ---- init order (vars and statefuls)
        init_deps = {vid: {r for r in refs if r != "@time"}
                     for vid, (_, refs) in self.code_init.items()}
        for st in self.statefuls.values():
            init_deps[st.sid] = {r for r in st.init_refs if r != "@time"}
        init_order = _toposort(init_deps, "initialisation")
        # ---- run: dynamic classification and order
        run_deps = {vid: set(refs) for vid, (_, refs) in self.code_run.items()}
        dynamic: set[str] = set()
        run_order = _toposort({v: {r for r in d if r in run_deps} for v, d in run_deps.items()},
                              "simulation")
        for vid in run_order:
            d = run_deps[vid]
            if "@time" in d or any(r in dynamic for r in d) or any(
                    r.startswith("S#") and st_by_sid[r].kind != "initial" for r in d):
                dynamic.add(vid)
        self.dynamic = frozenset(dynamic)
        init: list[str] = []
        for node in init_order:
            init.extend(st_by_sid[node].init_lines if node.startswith("S#")
                        else self.code_init[node][0])
        return Sections(
            init=init,
            static=[ln for vid in run_order if vid not in dynamic for ln in self.code_run[vid][0]],
            step=[ln for vid in run_order if vid in dynamic for ln in self.code_run[vid][0]],
            update=[ln for st in self.statefuls.values() for ln in st.update_lines],
            slots=[s for st in self.statefuls.values() for s in st.slots])

    def build_source(self) -> str:
        """Return the module source defining ``_build(K, H, _n)``."""
        sec = self.sections()
        slots = sec.slots
        h = ["def _build(K, H, _n):"]
        for name in sorted(_HELPER_NAMES):
            h.append(f"    {name} = H[{name!r}]")
        h.append("    t = K['t0']")
        h.append("    _i = 0")
        for name in self.constants:
            h.append(f"    {name} = K[{name!r}]")
        h.extend("    " + ln for ln in sec.init + sec.static)
        args = "".join(f"{s}, " for s in slots)
        h.append(f"    def step(_i, t, {args}_save):")
        h.extend("        " + ln for ln in sec.step + sec.update)
        nxt = "".join(f"n_{s}, " for s in slots)
        outs = "".join(f"v_{o}, " for o in self.outputs)
        h.append("        if _save:")
        h.append(f"            return ({outs}), ({nxt})")
        h.append(f"        return None, ({nxt})")
        h.append(f"    return ({''.join(f'{s}, ' for s in slots)}), step")
        return "\n".join(h) + "\n"

    def build_controls_source(self) -> str:
        """Source of ``_ctl(K, H, _n)`` returning the four control values (from the equations)."""
        needed: dict[str, tuple] = {}
        todo = [c for c in CONTROL_NAMES if c in self.vars]
        while todo:
            vid = todo.pop()
            if vid in needed:
                continue
            lines, refs = self._compile_var(self.vars[vid], "run", literal_controls=True)
            if "@time" in refs or any(r.startswith("S#") for r in refs):
                raise ModelError(f"control variable '{vid}' must not depend on time or stocks")
            needed[vid] = (lines, refs)
            todo.extend(r for r in refs if r in self.vars)
        order = _toposort({v: {r for r in d[1] if r in needed} for v, d in needed.items()},
                          "control evaluation")
        h = ["def _ctl(K, H, _n):"]
        for name in sorted(_HELPER_NAMES):
            h.append(f"    {name} = H[{name!r}]")
        h.append("    t = _np.nan")
        h.append("    _i = 0")
        for name in self.constants:
            h.append(f"    {name} = K[{name!r}]")
        for vid in order:
            h.extend("    " + ln for ln in needed[vid][0])
        h.append("    return {" + ", ".join(f"{c!r}: v_{c}" for c in CONTROL_NAMES
                                          if c in needed) + "}")
        return "\n".join(h) + "\n"


_HELPER_NAMES = {
    "_np", "_if", "_min", "_max", "_abs", "_exp", "_ln", "_sqrt", "_sin", "_cos", "_tan",
    "_arcsin", "_arccos", "_arctan", "_sinh", "_cosh", "_tanh", "_pow", "_int", "_mod",
    "_quantum", "_xidz", "_zidz", "_step", "_ramp", "_pulse", "_pulse_train", "_lookup", "_and",
    "_or", "_not", "_sum", "_prod", "_vmax", "_vmin", "_bc", "_fb", "_alloc", "_stack",
    "_shift_in", "_check_order", "_delayn_order", "_fixed_order", "_uniform",
}


def _toposort(deps: dict[str, set], phase: str) -> list[str]:
    order: list[str] = []
    state: dict[str, int] = {}
    for root in deps:
        if state.get(root) == 2:
            continue
        stack = [(root, iter(sorted(deps.get(root, ()))))]
        state[root] = 1
        while stack:
            node, it = stack[-1]
            nxt = next((d for d in it if d in deps), None)
            if nxt is None:
                stack.pop()
                state[node] = 2
                order.append(node)
                continue
            if state.get(nxt) == 1:
                cycle = [n for n, _ in stack]
                raise ModelError(f"circular dependency during {phase}: "
                                 f"{' -> '.join(cycle[cycle.index(nxt):] + [nxt])}")
            if state.get(nxt) is None:
                state[nxt] = 1
                stack.append((nxt, iter(sorted(deps.get(nxt, ())))))
    return order


__all__ = ["CONTROL_NAMES", "ModelCompiler", "Sections"]
