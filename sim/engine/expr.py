"""Translate one PySD abstract-syntax tree into a Python expression over numpy arrays.

Values in generated code are Python floats or numpy arrays whose leading axis is the sample
axis: an unsubscripted value has shape ``()`` / ``(S,)`` / ``(1,)``, a subscripted value has shape
``(S|1, *sizes)`` where the trailing axes follow its *labels* (subscript range names, a name
ending in ``!`` for an axis that SUM/PROD/VMIN/VMAX reduce). Labels are tracked at compile time
so that operands are transposed and broadcast explicitly (PySD aligns xarray dims by name).

:class:`ExprCompiler` turns a node into ``(code, labels)`` and records the references it reads
in ``refs``: variable ids, stateful ids (``"S#n"``) and ``"@time"`` when the value changes with
time. Statefuls (INTEG, SMOOTH, DELAY, ...) and macros are delegated to the model compiler.
"""

from __future__ import annotations

import re

import numpy as np
from pysd.translators.structures import abstract_expressions as ae

from sim.errors import UnsupportedConstructError

_NUMBER = re.compile(r"^-?[0-9.]+(e[-+]?[0-9]+)?$")
_ARITH = {"^": "**", "*": "*", "/": "/", "+": "+", "-": "-", "=": "==", "<>": "!=",
          ">=": ">=", ">": ">", "<=": "<=", "<": "<"}

_UNARY_FUNCS = {"abs": "_abs", "exp": "_exp", "ln": "_ln", "sqrt": "_sqrt", "integer": "_int",
                "sin": "_sin", "cos": "_cos", "tan": "_tan", "arcsin": "_arcsin",
                "arccos": "_arccos", "arctan": "_arctan", "sinh": "_sinh", "cosh": "_cosh",
                "tanh": "_tanh"}
_BINARY_FUNCS = {"min": "_min", "max": "_max", "modulo": "_mod", "zidz": "_zidz",
                 "power": "_pow", "quantum": "_quantum"}
_REDUCE = {"sum": "_sum", "prod": "_prod", "vmax": "_vmax", "vmin": "_vmin"}


class ExprCompiler:
    """Compile expressions of one component of one variable.

    ``model`` is the :class:`sim.engine.compiler.ModelCompiler` (subscripts, variables, constant
    registry, stateful registry); ``var`` the variable; ``lhs`` the component's LHS labels (range
    names; element subscripts excluded); ``mode`` ``"init"`` or ``"run"``; ``scalar`` selects the
    scalar code flavour (floats, inline conditionals).
    """

    def __init__(self, model, var, lhs, mode, scalar=False, comp_index=0):
        self.m = model
        self.var = var
        self.lhs = tuple(lhs)
        self.mode = mode
        self.scalar = scalar
        self.comp_index = comp_index
        self.refs: set[str] = set()

    # ------------------------------------------------------------------ public
    def compile(self, node):
        """Return ``(code, labels)`` for ``node``."""
        if isinstance(node, (bool, np.bool_)):
            return ("1.0" if node else "0.0"), ()
        if isinstance(node, (int, float, np.integer, np.floating)):
            v = float(node)
            return ("_np.nan" if v != v else repr(v)), ()
        if isinstance(node, np.ndarray):
            return self._array_constant(node)
        if isinstance(node, ae.ArithmeticStructure):
            return self._nary(node.operators, node.arguments)
        if isinstance(node, ae.LogicStructure):
            return self._logic(node)
        if isinstance(node, ae.ReferenceStructure):
            return self._reference(node)
        if isinstance(node, ae.CallStructure):
            return self._call(node)
        if isinstance(node, ae.InlineLookupsStructure):
            arg, labels = self.compile(node.argument)
            name = self.m.register_table(node.lookups, self.var)
            return f"_lookup({name}_x, {name}_y, {arg}, {node.lookups.type!r})", labels
        if isinstance(node, ae.LookupsStructure):
            raise UnsupportedConstructError(self.var.vensim_name, "lookup table in expression")
        stateful = self.m.stateful_expression(self, node)
        if stateful is not None:
            return stateful
        raise UnsupportedConstructError(self.var.vensim_name, type(node).__name__)

    # ------------------------------------------------------------------ labels
    def label_elements(self, label):
        return self.m.range_elements(label.rstrip("!"))

    def union(self, labels_list):
        out: list[str] = []
        for labels in labels_list:
            for lab in labels:
                if lab not in out:
                    out.append(lab)
        return tuple(out)

    def align(self, code, labels, target):
        """Transpose/expand ``code`` (with ``labels``) to ``target`` (labels or None=new axis)."""
        target = list(target)
        labels, code = self._resolve(code, tuple(labels), target)
        if not target:
            return code
        if not labels:
            return f"_bc({code}, {len(target)})"
        order = [t for t in target if t is not None and t in labels]
        perm = [labels.index(t) for t in order]
        if perm != list(range(len(labels))):
            code = f"_np.transpose({code}, {(0,) + tuple(p + 1 for p in perm)!r})"
        if len(order) == len(target):
            return code
        idx = ", ".join(":" if (t is not None and t in labels) else "None" for t in target)
        return f"({code})[:, {idx}]"

    def _resolve(self, code, labels, target):
        """Rename or subset labels not in ``target`` onto a matching target label."""
        labels = list(labels)
        for i, lab in enumerate(labels):
            if lab in target:
                continue
            elems = self.label_elements(lab)
            match = None
            for t in target:
                if t is None or t in labels:
                    continue
                telems = self.label_elements(t)
                if telems == elems:
                    match = t
                    break
                if set(telems) <= set(elems) and match is None:
                    match = t
            if match is None:
                raise UnsupportedConstructError(
                    self.var.vensim_name, "subscript mapping",
                    f"dimension '{lab}' does not match the equation's dimensions {target}")
            telems = self.label_elements(match)
            if telems != elems:
                pos = [elems.index(e) for e in telems]
                code = f"_np.take({code}, {pos!r}, axis={i + 1})"
            labels[i] = match
        return tuple(labels), code

    # ------------------------------------------------------------------ pieces
    def _array_constant(self, arr):
        labels = tuple(self.lhs)
        arr = np.asarray(arr, dtype=float)
        if arr.ndim != len(labels):
            raise UnsupportedConstructError(
                self.var.vensim_name, "array constant",
                f"{arr.ndim}-d values for dimensions {labels}")
        name = self.m.register_constant(arr[None, ...])
        return name, labels

    def _nary(self, operators, arguments):
        parts = [self.compile(a) for a in arguments]
        if len(parts) == 1:
            code, labels = parts[0]
            op = operators[0]
            if op == "negative":
                return f"(-{code})", labels
            if op == ":NOT:":
                return (f"(not {code})" if self.scalar else f"_not({code})"), labels
            raise UnsupportedConstructError(self.var.vensim_name, f"unary operator {op}")
        labels = self.union([p[1] for p in parts])
        # numeric literals stay bare as in PySD's generated code, so "-2^2" is -(2**2)
        codes = [c if _NUMBER.match(c) else f"({self.align(c, lab, labels)})"
                 for c, lab in parts]
        out = codes[0]
        for op, c in zip(operators, codes[1:], strict=True):
            if op not in _ARITH:
                raise UnsupportedConstructError(self.var.vensim_name, f"operator {op}")
            out = f"{out} {_ARITH[op]} {c}"
        return f"({out})", labels

    def _logic(self, node):
        ops = node.operators
        if all(op in (":AND:", ":OR:") for op in ops) and len(node.arguments) > 1:
            parts = [self.compile(a) for a in node.arguments]
            labels = self.union([p[1] for p in parts])
            codes = [self.align(c, lab, labels) for c, lab in parts]
            out = codes[0]
            for op, c in zip(ops, codes[1:], strict=True):
                if self.scalar:
                    out = f"({out} {'and' if op == ':AND:' else 'or'} {c})"
                else:
                    out = f"{'_and' if op == ':AND:' else '_or'}({out}, {c})"
            return out, labels
        return self._nary(ops, node.arguments)

    def _reference(self, node):
        ref = node.reference
        if ref == "time":
            self.refs.add("@time")
            return "t", ()
        var = self.m.resolve(self.var, ref)
        if var is None:
            raise UnsupportedConstructError(self.var.vensim_name, f"reference to '{ref}'",
                                            "subscript used as a value or unknown name")
        if var.kind == "lookup":
            raise UnsupportedConstructError(self.var.vensim_name, "lookup used as a value")
        self.refs.add(var.id)
        code = f"v_{var.id}"
        dims = var.dims
        subs = list(node.subscripts.subscripts) if node.subscripts else list(dims)
        if len(subs) != len(dims):
            raise UnsupportedConstructError(self.var.vensim_name, f"reference {ref}{subs}")
        labels = []
        ints = []
        for axis, (sub, dim) in enumerate(zip(subs, dims, strict=True)):
            delems = self.m.range_elements(dim)
            name = sub.rstrip("!")
            if not sub.endswith("!") and name in delems and not self.m.is_range(name):
                ints.append((axis, delems.index(name)))
                continue
            if not self.m.is_range(name):
                raise UnsupportedConstructError(self.var.vensim_name, f"subscript '{sub}'")
            elems = self.m.range_elements(name)
            if elems != delems:
                missing = [e for e in elems if e not in delems]
                if missing:
                    raise UnsupportedConstructError(self.var.vensim_name, "subscript mapping",
                                                    f"'{sub}' in reference to {ref}")
                code = f"_np.take({code}, {[delems.index(e) for e in elems]!r}, axis={axis + 1})"
            labels.append(sub)
        for axis, i in reversed(ints):
            code = f"({code})[{':, ' * (axis + 1)}{i}]"
        return code, tuple(labels)

    def _call(self, node):
        fname = node.function.reference if isinstance(node.function, ae.ReferenceStructure) \
            else str(node.function)
        args = node.arguments
        var = self.m.resolve(self.var, fname)
        if var is not None and var.kind == "lookup":
            return self._lookup_call(var, args)
        if self.m.is_macro(fname):
            return self.m.macro_call(self, fname, args)
        if fname == "if_then_else":
            parts = [self.compile(a) for a in args]
            labels = self.union([p[1] for p in parts])
            c, a, b = (self.align(code, lab, labels) for code, lab in parts)
            if self.scalar:
                return f"(({a}) if ({c}) else ({b}))", labels
            return f"_if({c}, {a}, {b})", labels
        if fname in _UNARY_FUNCS:
            code, labels = self.compile(args[0])
            return f"{_UNARY_FUNCS[fname]}({code})", labels
        if fname in _BINARY_FUNCS or fname == "xidz":
            parts = [self.compile(a) for a in args]
            labels = self.union([p[1] for p in parts])
            codes = [self.align(c, lab, labels) for c, lab in parts]
            func = "_xidz" if fname == "xidz" else _BINARY_FUNCS[fname]
            return f"{func}({', '.join(codes)})", labels
        if fname == "log":
            parts = [self.compile(a) for a in args]
            labels = self.union([p[1] for p in parts])
            a, b = (self.align(c, lab, labels) for c, lab in parts)
            return f"(_ln({a}) / _ln({b}))", labels
        if fname == "pi":
            return repr(float(np.pi)), ()
        if fname in _REDUCE:
            if self.scalar:
                raise UnsupportedConstructError(self.var.vensim_name, fname.upper())
            code, labels = self.compile(args[0])
            axes = tuple(i + 1 for i, lab in enumerate(labels) if lab.endswith("!"))
            rest = tuple(lab for lab in labels if not lab.endswith("!"))
            if not axes:
                return code, labels
            return f"{_REDUCE[fname]}({code}, axis={axes!r})", rest
        if fname in ("step", "ramp", "Xramp", "pulse", "Xpulse", "pulse_train", "Xpulse_train"):
            return self._time_function(fname, args)
        raise UnsupportedConstructError(self.var.vensim_name, fname.upper())

    def _time_function(self, fname, args):
        self.refs.add("@time")
        self.refs.add(self.m.control_id("time_step"))
        parts = [self.compile(a) for a in args]
        labels = self.union([p[1] for p in parts])
        c = [self.align(code, lab, labels) for code, lab in parts]
        dt = f"v_{self.m.control_id('time_step')}"
        if fname == "step":
            return f"_step(t, {dt}, {c[0]}, {c[1]})", labels
        if fname == "ramp":
            return f"_ramp(t, {', '.join(c)})", labels
        if fname == "Xramp":
            return f"_ramp(t, {c[0]}, {c[1]})", labels
        if fname == "pulse":
            return f"_pulse(t, {dt}, {c[0]}, width={c[1]})", labels
        if fname == "Xpulse":
            return f"_pulse(t, {dt}, {c[0]}, magnitude={c[1]})", labels
        if fname == "pulse_train":
            return (f"_pulse_train(t, {dt}, {c[0]}, repeat_time={c[1]}, width={c[2]}, "
                    f"end={c[3]})"), labels
        return (f"_pulse_train(t, {dt}, {c[0]}, repeat_time={c[1]}, magnitude={c[2]})"), labels

    def _lookup_call(self, var, args):
        if len(args) != 1:
            raise UnsupportedConstructError(self.var.vensim_name, "lookup with several arguments")
        if var.dims:
            raise UnsupportedConstructError(self.var.vensim_name, "subscripted lookup")
        code, labels = self.compile(args[0])
        self.refs.add(var.id)
        return f"_lookup(v_{var.id}_x, v_{var.id}_y, {code}, {var.lookup_mode!r})", labels
