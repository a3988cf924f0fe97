"""Dimensional-consistency check of every equation of a Vensim model (Sterman 2000, ch. 21.4).

``check_units(path)`` reads the ``.mdl`` through PySD's abstract model, parses each element's
units string (see :mod:`sim.analysis.diagnostics.unit_algebra`), infers the units of each equation from its
syntax tree and compares them with the declared units. It returns a list of :class:`Finding`;
severity ``"error"`` (missing or unreadable units, an inconsistency) is a failure, ``"warning"``
(a construct whose units cannot be inferred, e.g. ``PROD``) is not.

Inference rules (T is the model's time unit, the units of ``TIME STEP``):

- a number is *unit-polymorphic*: next to ``+ - MIN MAX``, comparisons or the branches of
  ``IF THEN ELSE`` it takes the other operand's units; in ``* /`` it is dimensionless. An
  expression made only of numbers stays polymorphic and matches any declared units.
- ``+ - MIN MAX ABS INTEGER MODULO QUANTUM SUM VMIN VMAX``, comparisons, ``IF THEN ELSE``
  branches, ``ACTIVE INITIAL`` and ``SAMPLE IF TRUE`` require equal units;
  ``* /`` combine units; ``x^n`` needs a numeric ``n`` unless ``x`` is dimensionless;
  ``SQRT(x)`` is ``x^(1/2)``; ``EXP LN LOG`` and trigonometric functions need and give Dmnl;
  comparisons and ``:AND: :OR: :NOT:`` give Dmnl.
- ``XIDZ(a, b, x)`` is ``a/b`` and ``x`` must match it; ``ZIDZ(a, b)`` is ``a/b``.
- ``INTEG(rate, init)``: ``init`` has the stock's units and ``rate`` the stock's units per T.
- ``SMOOTH* / DELAY* / DELAY FIXED / FORECAST``: the result and the initial value have the
  input's units; delay, smoothing and averaging times and horizons have units T.
  ``TREND`` gives 1/T.
- ``Time`` has units T. ``STEP(h, t)`` has h's units, t is a time; ``RAMP(s, t1, t2)`` has
  ``s*T``; ``PULSE`` and ``PULSE TRAIN`` give Dmnl, their arguments are times.
- Lookups: a call ``table(x)`` gives the table's declared units; the argument ``x`` is not
  constrained (Vensim lookups declare no x units, and ``table(Time)`` is idiomatic). ``WITH
  LOOKUP`` and data/``GET`` definitions give the element's declared units.
"""

from __future__ import annotations

import numbers
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pysd.translators.structures import abstract_expressions as ae

from sim.analysis.diagnostics.unit_algebra import DMNL, Unit, UnitSyntaxError, parse_unit
from sim.errors import ModelError
from sim.model.equations.mdl import load_abstract_model


@dataclass(frozen=True)
class Finding:
    """One result of the units check: the Vensim name, ``"error"`` or ``"warning"``, a message."""

    variable: str
    severity: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.variable}: {self.message}"


class _Poly:
    """Units of a bare number: adapts to its context."""

    def __repr__(self) -> str:
        return "number"


class _Unknown:
    """Units that could not be inferred (already reported); compatible with anything."""

    def __repr__(self) -> str:
        return "unknown"


POLY = _Poly()
UNKNOWN = _Unknown()
Type = Unit | _Poly | _Unknown


def _key(name: str) -> str:
    """PySD's reference name for a Vensim name: lower case, whitespace runs as underscores."""
    return re.sub(r"[\s_]+", "_", name.strip().strip('"').lower())


def _is_number(node: object) -> bool:
    return isinstance(node, numbers.Number | np.ndarray) and not isinstance(node, bool)


def render(node: object) -> str:
    """Vensim-like text of an expression tree, for messages."""
    if _is_number(node):
        return str(node) if not isinstance(node, np.ndarray) else "(constant list)"
    if isinstance(node, ae.ReferenceStructure):
        subs = f"[{', '.join(node.subscripts.subscripts)}]" if node.subscripts else ""
        return node.reference + subs
    if isinstance(node, ae.ArithmeticStructure | ae.LogicStructure):
        ops, args = node.operators, node.arguments
        if ops and ops[0] in ("negative", "positive", ":NOT:"):
            sign = {"negative": "-", "positive": "+", ":NOT:": ":NOT: "}[ops[0]]
            return sign + _paren(args[0])
        parts = [_paren(args[0])]
        for op, arg in zip(ops, args[1:], strict=False):
            parts += [op, _paren(arg)]
        return " ".join(parts)
    if isinstance(node, ae.CallStructure):
        args = ", ".join(render(a) for a in node.arguments)
        return f"{node.function.reference.upper()}({args})"
    if isinstance(node, ae.IntegStructure):
        return f"INTEG({render(node.flow)}, {render(node.initial)})"
    if isinstance(node, ae.SmoothStructure | ae.SmoothNStructure):
        return f"SMOOTH({render(node.input)}, {render(node.smooth_time)}, ...)"
    if isinstance(node, ae.DelayStructure | ae.DelayNStructure | ae.DelayFixedStructure):
        return f"DELAY({render(node.input)}, {render(node.delay_time)}, ...)"
    if isinstance(node, ae.InitialStructure):
        return f"INITIAL({render(node.initial)})"
    return type(node).__name__.replace("Structure", "").upper()


def _paren(node: object) -> str:
    text = render(node)
    compound = isinstance(node, ae.ArithmeticStructure | ae.LogicStructure)
    return f"({text})" if compound and len(node.arguments) > 1 else text


def _fmt(t: Type) -> str:
    return str(t) if isinstance(t, Unit) else repr(t)


_SAME = {"min", "max", "abs", "integer", "quantum", "modulo", "sum", "vmin", "vmax",
         "vmax_xmile", "vmin_xmile", "active_initial"}
_DMNL_FUNCS = {"exp", "ln", "log", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh",
               "cosh", "tanh"}
_COMPARISONS = {"=", "<>", "<", "<=", ">", ">="}


class _Checker:
    """Infers units over one model; collects findings for the element being checked."""

    def __init__(self, declared: dict[str, Unit | None], lookups: set[str],
                 subscripts: set[str], time_unit: Unit):
        self.declared = declared
        self.lookups = lookups
        self.subscripts = subscripts
        self.T = time_unit
        self.findings: list[Finding] = []
        self.var = ""
        self.own: Unit | None = None

    # -- reporting and unification --------------------------------------------------------
    def error(self, node: object, message: str) -> _Unknown:
        self.findings.append(Finding(self.var, "error", f"in `{render(node)}`: {message}"))
        return UNKNOWN

    def warn(self, node: object, message: str) -> _Unknown:
        self.findings.append(Finding(self.var, "warning", f"in `{render(node)}`: {message}"))
        return UNKNOWN

    def unify(self, node: object, parts: list[tuple[object, Type]], what: str) -> Type:
        """Common units of ``parts`` (pairs of sub-expression and its units)."""
        if any(t is UNKNOWN for _, t in parts):
            return UNKNOWN
        concrete = [(n, t) for n, t in parts if isinstance(t, Unit)]
        if not concrete:
            return POLY
        first_node, first = concrete[0]
        for n, t in concrete[1:]:
            if t != first:
                return self.error(node, f"{what} need equal units, but `{render(first_node)}` "
                                        f"is {first} and `{render(n)}` is {t}")
        return first

    def expect(self, node: object, t: Type, unit: Unit, role: str) -> None:
        if isinstance(t, Unit) and t != unit:
            self.error(node, f"{role} should be {unit}, but is {t}")

    # -- inference ------------------------------------------------------------------------
    def infer(self, node: object) -> Type:  # noqa: C901 - one dispatch over node kinds
        if _is_number(node):
            return POLY
        if isinstance(node, ae.ReferenceStructure):
            return self.reference(node)
        if isinstance(node, ae.ArithmeticStructure):
            return self.arithmetic(node)
        if isinstance(node, ae.LogicStructure):
            return self.logic(node)
        if isinstance(node, ae.CallStructure):
            return self.call(node)
        if isinstance(node, ae.IntegStructure):
            return self.integ(node)
        if isinstance(node, ae.SmoothStructure | ae.SmoothNStructure):
            return self.delay(node, node.input, node.smooth_time, node.initial)
        if isinstance(node, ae.DelayStructure | ae.DelayNStructure | ae.DelayFixedStructure):
            return self.delay(node, node.input, node.delay_time, node.initial)
        if isinstance(node, ae.TrendStructure):
            self.expect(node, self.infer(node.average_time), self.T, "the averaging time")
            self.infer(node.input)
            inv = self.T ** -1
            self.expect(node, self.infer(node.initial_trend), inv, "the initial trend")
            return inv
        if isinstance(node, ae.ForecastStructure):
            self.expect(node, self.infer(node.average_time), self.T, "the averaging time")
            self.expect(node, self.infer(node.horizon), self.T, "the horizon")
            return self.infer(node.input)
        if isinstance(node, ae.SampleIfTrueStructure):
            self.infer(node.condition)
            parts = [(node.input, self.infer(node.input)), (node.initial, self.infer(node.initial))]
            return self.unify(node, parts, "the input and the initial value")
        if isinstance(node, ae.InitialStructure):
            return self.infer(node.initial)
        if isinstance(node, ae.GameStructure):
            return self.infer(node.expression)
        if isinstance(node, ae.InlineLookupsStructure | ae.LookupsStructure | ae.DataStructure
                      | ae.GetLookupsStructure | ae.GetDataStructure
                      | ae.GetConstantsStructure):
            return self.own if self.own is not None else UNKNOWN
        return self.warn(node, f"units of {type(node).__name__} are not inferred")

    def reference(self, node: ae.ReferenceStructure) -> Type:
        name = _key(node.reference)
        if name == "time":
            return self.T
        if name in self.declared:
            unit = self.declared[name]
            return UNKNOWN if unit is None else unit
        if name in self.subscripts:
            return DMNL
        return self.warn(node, f"'{name}' is not a variable of the model")

    def arithmetic(self, node: ae.ArithmeticStructure) -> Type:
        ops, args = node.operators, node.arguments
        types = [self.infer(a) for a in args]
        if ops and ops[0] in ("negative", "positive"):
            return types[0]
        if ops[0] in ("+", "-"):
            return self.unify(node, list(zip(args, types, strict=True)), "added or subtracted terms")
        if ops[0] == "^":
            return self.power(node, args[0], types[0], args[1], types[1])
        result: Type = types[0]
        for op, t in zip(ops, types[1:], strict=True):
            result = self.product(result, t, op)
        return result

    @staticmethod
    def product(a: Type, b: Type, op: str) -> Type:
        if a is UNKNOWN or b is UNKNOWN:
            return UNKNOWN
        ua = DMNL if a is POLY else a
        ub = DMNL if b is POLY else b
        if a is POLY and b is POLY:
            return POLY
        return ua * ub if op == "*" else ua / ub

    def power(self, node: object, base: object, tb: Type, exp: object, te: Type) -> Type:
        value = _constant(exp)
        if isinstance(te, Unit) and not te.dimensionless:
            return self.error(node, f"the exponent `{render(exp)}` must be dimensionless, not {te}")
        if tb is POLY or tb is UNKNOWN:
            return tb
        if value is not None:
            return tb ** value
        if tb.dimensionless:
            return DMNL
        return self.error(node, f"`{render(base)}` has units {tb}, so the exponent "
                                f"`{render(exp)}` must be a number")

    def logic(self, node: ae.LogicStructure) -> Type:
        types = [self.infer(a) for a in node.arguments]
        if node.operators and node.operators[0] in _COMPARISONS:
            self.unify(node, list(zip(node.arguments, types, strict=True)), "compared terms")
        return DMNL

    def call(self, node: ae.CallStructure) -> Type:  # noqa: C901 - one table of functions
        fname, args = _key(node.function.reference), node.arguments
        if fname in self.lookups:
            for a in args:
                self.infer(a)
            unit = self.declared.get(fname)
            return UNKNOWN if unit is None else unit
        types = [self.infer(a) for a in args]
        pairs = list(zip(args, types, strict=True))
        if fname in _SAME:
            return self.unify(node, pairs, "the arguments of " + fname.upper())
        if fname == "if_then_else":
            return self.unify(node, pairs[1:], "the IF THEN ELSE branches")
        if fname in _DMNL_FUNCS:
            for a, t in pairs[:1]:
                self.expect(node, t, DMNL, f"the argument `{render(a)}`")
            return DMNL
        if fname == "sqrt":
            return self.power(node, args[0], types[0], 0.5, POLY)
        if fname == "power":
            return self.power(node, args[0], types[0], args[1], types[1])
        if fname in ("xidz", "zidz"):
            ratio = self.product(types[0], types[1], "/")
            if fname == "xidz":
                return self.unify(node, [(node, ratio), (args[2], types[2])],
                                  "a/b and the fallback of XIDZ")
            return ratio
        if fname == "step":
            self.expect(node, types[1], self.T, f"the step time `{render(args[1])}`")
            return types[0]
        if fname == "ramp":
            for a, t in pairs[1:]:
                self.expect(node, t, self.T, f"the ramp time `{render(a)}`")
            return types[0] if types[0] is POLY else self.product(types[0], self.T, "*")
        if fname in ("pulse", "pulse_train"):
            for a, t in pairs:
                self.expect(node, t, self.T, f"the pulse time `{render(a)}`")
            return DMNL
        if fname in ("pi", "elmcount"):
            return POLY
        if fname == "random_0_1":
            return DMNL
        if fname.startswith("random_"):
            return self.unify(node, pairs[:2], "the bounds of " + fname.upper())
        if fname == "get_time_value":
            return self.T
        if fname == "prod" and all(t is POLY or t == DMNL for t in types):
            return DMNL
        return self.warn(node, f"units of {fname.upper()} are not inferred")

    def integ(self, node: ae.IntegStructure) -> Type:
        rate, init = self.infer(node.flow), self.infer(node.initial)
        stock = self.own
        if stock is None:
            return self.unify(node, [(node.initial, init),
                                     (node.flow, self.product(rate, self.T, "*"))],
                              "the initial value and rate*time of INTEG")
        self.expect(node, rate, stock / self.T, f"the rate `{render(node.flow)}`")
        self.expect(node, init, stock, f"the initial value `{render(node.initial)}`")
        return stock

    def delay(self, node: object, inp: object, time: object, init: object) -> Type:
        self.expect(node, self.infer(time), self.T, f"the delay time `{render(time)}`")
        parts = [(inp, self.infer(inp))]
        if init is not inp:
            parts.append((init, self.infer(init)))
        return self.unify(node, parts, "the input and the initial value")


def _constant(node: object) -> float | None:
    """Value of an expression made only of numbers, else ``None``."""
    if _is_number(node) and not isinstance(node, np.ndarray):
        return float(node)
    if isinstance(node, ae.ArithmeticStructure):
        vals = [_constant(a) for a in node.arguments]
        if any(v is None for v in vals):
            return None
        ops = node.operators
        if ops[0] == "negative":
            return -vals[0]
        if ops[0] == "positive":
            return vals[0]
        acc = vals[0]
        for op, v in zip(ops, vals[1:], strict=True):
            if op == "+":
                acc += v
            elif op == "-":
                acc -= v
            elif op == "*":
                acc *= v
            elif op == "/":
                if v == 0:
                    return None
                acc /= v
            else:
                acc = acc**v
        return acc
    return None


def load_abstract(path: str | Path):
    """PySD's abstract model of ``path`` (:func:`sim.model.equations.mdl.load_abstract_model`)."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: model file not found")
    return load_abstract_model(path)


def check_abstract_model(model) -> list[Finding]:
    """Units findings for a PySD ``AbstractModel`` (see module docstring for the rules)."""
    findings: list[Finding] = []
    main = [s for s in model.sections if s.name == "__main__"] or model.sections[:1]
    section = main[0]
    declared: dict[str, Unit | None] = {}
    lookups: set[str] = set()
    for element in section.elements:
        key = _key(element.name)
        try:
            declared[key] = parse_unit(element.units)
        except UnitSyntaxError as exc:
            declared[key] = None
            what = "has no units" if not (element.units or "").strip() else f"has bad units: {exc}"
            findings.append(Finding(element.name, "error", what))
        if any(getattr(c, "type", "") == "Lookup" for c in element.components):
            lookups.add(key)
    subscripts: set[str] = set()
    for rng in section.subscripts:
        subscripts.add(_key(rng.name))
        if isinstance(rng.subscripts, list):
            subscripts.update(_key(s) for s in rng.subscripts)
    time_unit = declared.get("time_step") or declared.get("initial_time")
    if time_unit is None:
        findings.append(Finding("TIME STEP", "warning", "no time unit declared; Year assumed"))
        time_unit = Unit.base("Year")
    checker = _Checker(declared, lookups, subscripts, time_unit)
    for element in section.elements:
        checker.var, checker.own = element.name, declared[_key(element.name)]
        for comp in element.components:
            if getattr(comp, "type", "") in ("Lookup", "Data"):
                continue
            t = checker.infer(comp.ast)
            if checker.own is not None and isinstance(t, Unit) and t != checker.own:
                checker.error(comp.ast, f"the equation gives {t}, but the declared units "
                                        f"are {checker.own}")
    for other in model.sections:
        if other is not section:
            findings.append(Finding(other.name, "warning", "macro not checked for units"))
    return findings + checker.findings


def check_units(path: str | Path) -> list[Finding]:
    """Units findings for the Vensim model at ``path``; errors are failures.

    Raises :class:`sim.errors.ModelError` if the file is missing or cannot be parsed.
    """
    return check_abstract_model(load_abstract(path))
