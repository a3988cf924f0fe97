"""Code for the hidden stocks of INTEG, SMOOTH*, DELAY*, DELAY N, DELAY FIXED and INITIAL.

Each stateful becomes a :class:`Stateful` holding the lines that initialise it (evaluated at
INITIAL TIME, in dependency order), its state slots, the expression of its output during the
run and the lines computing its next state. The formulas follow ``pysd.py_backend.statefuls``:
Delay stores ``value * delay_time`` per stage and outputs ``stage[-1] / delay_time``; DelayN
keeps the delay time per stage and fixes its order at initialisation; Smooth moves each stage
toward the previous one at ``order / smooth_time``; DelayFixed is a pipeline of
``round(delay / dt)`` values; INITIAL is frozen at initialisation.
"""

from __future__ import annotations

import numpy as np
from pysd.translators.structures import abstract_expressions as ae

from sim.engine.expr import ExprCompiler
from sim.errors import UnsupportedConstructError

STATEFUL_TYPES = (ae.IntegStructure, ae.DelayStructure, ae.DelayNStructure, ae.DelayFixedStructure,
             ae.SmoothStructure, ae.SmoothNStructure, ae.InitialStructure)


class Stateful:
    def __init__(self, n, kind, labels):
        self.sid = f"S#{n}"
        self.name = f"s{n}"
        self.kind = kind
        self.labels = labels
        self.init_lines: list[str] = []
        self.init_refs: set[str] = set()
        self.slots: list[str] = []
        self.out_run = ""
        self.out_run_refs: set[str] = set()
        self.update_lines: list[str] = []


class StatefulBuilder:
    """Mixin of :class:`sim.engine.compiler.ModelCompiler` building statefuls."""

    def _sub(self, ec, mode, node):
        sub = ExprCompiler(self, ec.var, ec.lhs, mode, self.scalar, ec.comp_index)
        code, labels = sub.compile(node)
        return sub.align(code, labels, ec.lhs), sub.refs

    def _make_stateful(self, ec, node) -> Stateful:
        n = len(self.statefuls)
        vname = ec.var.vensim_name
        labels = ec.lhs
        full = f"_fb({{}}, {tuple(len(self.range_elements(lb)) for lb in labels)!r})" \
            if labels else "{}"
        dt = "v_time_step"
        if isinstance(node, ae.IntegStructure):
            st = Stateful(n, "integ", labels)
            init, r = self._sub(ec, "init", node.initial)
            flow, _ = self._sub(ec, "run", node.flow)
            s = st.name
            st.init_lines = [f"{s} = {full.format(init)}", f"{s}_v = {s}"]
            st.init_refs = r
            st.slots = [s]
            st.out_run = s
            nxt = f"{s} + ({flow}) * {dt}"
            if node.non_negative:
                nxt = f"_max({nxt}, 0.0)"
            st.update_lines = [f"n_{s} = {nxt}"]
            return st
        if isinstance(node, ae.InitialStructure):
            st = Stateful(n, "initial", labels)
            init, r = self._sub(ec, "init", node.initial)
            st.init_lines = [f"{st.name}_v = {init}"]
            st.init_refs = r
            st.out_run = f"{st.name}_v"
            return st
        if isinstance(node, (ae.SmoothStructure, ae.SmoothNStructure, ae.DelayStructure)):
            order = node.order
            if not isinstance(order, (int, float, np.integer, np.floating)):
                return self._smooth_n(ec, node, n, labels, full, dt)
            k = int(order)
            is_delay = isinstance(node, ae.DelayStructure)
            st = Stateful(n, "delay" if is_delay else "smooth", labels)
            s = st.name
            init, r1 = self._sub(ec, "init", node.initial)
            time_node = node.delay_time if is_delay else node.smooth_time
            tinit, r2 = self._sub(ec, "init", time_node)
            trun, r3 = self._sub(ec, "run", time_node)
            inp, _ = self._sub(ec, "run", node.input)
            st.init_refs = r1 | r2 | {"time_step"}
            st.slots = [f"{s}_{j}" for j in range(k)]
            if is_delay:
                st.init_lines = [f"{s}_d = {tinit}",
                                 f"_check_order({k}, v_time_step, {s}_d, {vname!r})"]
                st.init_lines += [f"{s}_{j} = {full.format(f'({init}) * {s}_d')}"
                                  for j in range(k)]
                st.init_lines.append(f"{s}_v = {s}_{k - 1} / {s}_d")
                st.out_run = f"({s}_{k - 1} / ({trun}))"
                st.out_run_refs = r3
                st.update_lines = [f"{s}_t = {trun}", f"{s}_in = {inp}"]
                for j in range(k):
                    inflow = f"{s}_in" if j == 0 else f"{s}_{j - 1} / {s}_t"
                    st.update_lines.append(
                        f"n_{s}_{j} = {s}_{j} + (({inflow}) - {s}_{j} / {s}_t) * {k} * {dt}")
            else:
                st.init_lines = [f"{s}_{j} = {full.format(init)}" for j in range(k)]
                st.init_lines.append(f"{s}_v = {s}_{k - 1}")
                st.out_run = f"{s}_{k - 1}"
                st.update_lines = [f"{s}_t = {trun}", f"{s}_in = {inp}"]
                for j in range(k):
                    target = f"{s}_in" if j == 0 else f"{s}_{j - 1}"
                    st.update_lines.append(
                        f"n_{s}_{j} = {s}_{j} + (({target}) - {s}_{j}) * {k} / {s}_t * {dt}")
            return st
        if isinstance(node, ae.DelayNStructure):
            return self._delay_n(ec, node, n, labels, full, dt)
        if isinstance(node, ae.DelayFixedStructure):
            return self._delay_fixed(ec, node, n, labels, full)
        raise UnsupportedConstructError(vname, type(node).__name__)

    def _smooth_n(self, ec, node, n, labels, full, dt) -> Stateful:
        """SMOOTH N with an order given by an expression: stages on axis 0 (PySD's Smooth)."""
        st = Stateful(n, "smoothn", labels)
        s = st.name
        init, r1 = self._sub(ec, "init", node.initial)
        oinit, r2 = self._sub(ec, "init", node.order)
        trun, _ = self._sub(ec, "run", node.smooth_time)
        inp, _ = self._sub(ec, "run", node.input)
        st.init_refs = r1 | r2
        st.init_lines = [
            f"{s}_k = int(_uniform({oinit}, 'SMOOTH N order', {ec.var.vensim_name!r}))",
            f"{s} = _stack({full.format(init)}, {s}_k)",
            f"{s}_v = {s}[-1]",
        ]
        st.slots = [s]
        st.out_run = f"{s}[-1]"
        st.update_lines = [f"n_{s} = {s} + (_shift_in({inp}, {s}) - {s}) * {s}_k / ({trun}) * {dt}"]
        return st

    def _delay_n(self, ec, node, n, labels, full, dt) -> Stateful:
        """DELAY N: stages on axis 0, order fixed at initialisation (PySD's DelayN)."""
        vname = ec.var.vensim_name
        st = Stateful(n, "delayn", labels)
        s = st.name
        init, r1 = self._sub(ec, "init", node.initial)
        tinit, r2 = self._sub(ec, "init", node.delay_time)
        oinit, r3 = self._sub(ec, "init", node.order)
        trun, _ = self._sub(ec, "run", node.delay_time)
        inp, _ = self._sub(ec, "run", node.input)
        st.init_refs = r1 | r2 | r3 | {"time_step"}
        st.init_lines = [
            f"{s}_d = {tinit}",
            f"{s}_k = _delayn_order({oinit}, v_time_step, {s}_d, {vname!r})",
            f"{s} = _stack({full.format(f'({init}) * {s}_d')}, {s}_k)",
            f"{s}_T = _stack({s}_d, {s}_k)",
            f"{s}_v = {s}[-1] / {s}_T[0]",
        ]
        st.slots = [s, f"{s}_T"]
        st.out_run = f"({s}[-1] / {s}_T[0])"
        st.update_lines = [
            f"n_{s}_T = _shift_in({trun}, {s}_T)",
            f"{s}_o = {s} / n_{s}_T",
            f"n_{s} = {s} + (_shift_in({inp}, {s}_o) - {s}_o) * {s}_k * {dt}",
        ]
        return st

    def _delay_fixed(self, ec, node, n, labels, full) -> Stateful:
        """DELAY FIXED: a pipeline of round(delay/dt) values (PySD's DelayFixed)."""
        vname = ec.var.vensim_name
        st = Stateful(n, "delayfixed", labels)
        s = st.name
        init, r1 = self._sub(ec, "init", node.initial)
        tinit, r2 = self._sub(ec, "init", node.delay_time)
        inp, _ = self._sub(ec, "run", node.input)
        st.init_refs = r1 | r2 | {"time_step"}
        st.init_lines = [
            f"{s}_k = _fixed_order({tinit}, v_time_step, {vname!r})",
            f"{s} = {full.format(init)}",
            f"{s}_pipe = [{s}] * {s}_k",
            f"{s}_ptr = [0]",
            f"{s}_v = {s}",
        ]
        st.slots = [s]
        st.out_run = s
        st.update_lines = [
            f"{s}_pipe[{s}_ptr[0]] = {inp}",
            f"{s}_ptr[0] = ({s}_ptr[0] + 1) % {s}_k",
            f"n_{s} = {s}_pipe[{s}_ptr[0]]",
        ]
        return st
