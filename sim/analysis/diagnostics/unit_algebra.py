"""A small algebra of physical units for Vensim units strings.

A :class:`Unit` is a product of named base units raised to rational powers, e.g.
``亿元/Year`` is ``{亿元: 1, Year: -1}``. Base-unit names are taken literally: Chinese names
(``亿元``, ``万元``), words (``firms``, ``persons``), even several words (``tech firms``; runs of
whitespace collapse to one space). Plurals are *not* merged: ``firm`` and ``firms`` are
different units, so a model that mixes them is reported.

Two documented exceptions to the literal reading:

- dimensionless: ``Dmnl`` (any case), ``dimensionless``, ``1`` and the empty product all mean
  the unit with no base units;
- time units: ``Year``/``Years``/``year``/``years``/``yr``/``yrs`` are one unit, ``Year``;
  likewise ``Month``, ``Week``, ``Day``, ``Quarter``, ``Hour``, ``Minute``, ``Second`` in their
  capitalised, lower-case, singular and plural forms. These are the units Vensim offers as
  time units, and models habitually write both ``Year`` and ``Years``.

Grammar of a units string (Vensim's): factors joined by ``*`` and ``/`` (left to right), each a
name, a number (a bare number is a pure scale factor and counts as dimensionless), or a
parenthesised sub-expression, optionally raised with ``^`` to a (possibly negative, possibly
parenthesised fractional) number, e.g. ``firms/(Year*亿元)``, ``1/Year``, ``m^2``, ``m^(1/2)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

_TIME_ALIASES = {
    "Year": ("year", "years", "yr", "yrs"),
    "Month": ("month", "months"),
    "Week": ("week", "weeks"),
    "Day": ("day", "days"),
    "Quarter": ("quarter", "quarters"),
    "Hour": ("hour", "hours"),
    "Minute": ("minute", "minutes"),
    "Second": ("second", "seconds"),
}
_CANONICAL = {alias: canon for canon, aliases in _TIME_ALIASES.items() for alias in aliases}
_DIMENSIONLESS = {"dmnl", "dimensionless", "1"}


class UnitSyntaxError(ValueError):
    """A units string does not follow the grammar above."""


def canonical_name(name: str) -> str | None:
    """Canonical base-unit name for ``name``; ``None`` if it means dimensionless."""
    name = " ".join(name.split())
    if name.lower() in _DIMENSIONLESS:
        return None
    return _CANONICAL.get(name.lower(), name)


@dataclass(frozen=True)
class Unit:
    """A product of base units with rational exponents; ``Unit()`` is dimensionless.

    ``powers`` is a sorted tuple of ``(name, exponent)`` with no zero exponents, so equal units
    compare equal and hash alike.
    """

    powers: tuple[tuple[str, Fraction], ...] = ()

    @staticmethod
    def base(name: str) -> Unit:
        canon = canonical_name(name)
        return DMNL if canon is None else Unit(((canon, Fraction(1)),))

    @staticmethod
    def _make(d: dict[str, Fraction]) -> Unit:
        return Unit(tuple(sorted((k, v) for k, v in d.items() if v != 0)))

    def __mul__(self, other: Unit) -> Unit:
        d = dict(self.powers)
        for k, v in other.powers:
            d[k] = d.get(k, Fraction(0)) + v
        return Unit._make(d)

    def __truediv__(self, other: Unit) -> Unit:
        return self * other ** -1

    def __pow__(self, exponent: float | Fraction) -> Unit:
        e = Fraction(exponent).limit_denominator(1000)
        return Unit._make({k: v * e for k, v in self.powers})

    @property
    def dimensionless(self) -> bool:
        return not self.powers

    def __str__(self) -> str:
        if not self.powers:
            return "Dmnl"

        def fmt(name: str, e: Fraction) -> str:
            if e == 1:
                return name
            return f"{name}^{e}" if e.denominator == 1 else f"{name}^({e})"

        num = [fmt(k, v) for k, v in self.powers if v > 0]
        den = [fmt(k, -v) for k, v in self.powers if v < 0]
        top = "*".join(num) if num else "1"
        if not den:
            return top
        bottom = den[0] if len(den) == 1 else "(" + "*".join(den) + ")"
        return f"{top}/{bottom}"


DMNL = Unit()

_TOKEN = re.compile(r"\s*(?:(?P<num>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)|(?P<op>[*/^()\-+])|"
                    r"(?P<name>[^*/^()\s]+(?:[ \t]+[^*/^()\s\d][^*/^()\s]*)*))")


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos, text = [], 0, text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise UnitSyntaxError(f"cannot read units {text!r} at {text[pos:]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise UnitSyntaxError(f"units {self.text!r} end unexpectedly")
        self.i += 1
        return tok

    def product(self) -> Unit:
        unit = self.power()
        while (tok := self.peek()) and tok[1] in "*/" and tok[0] == "op":
            self.take()
            rhs = self.power()
            unit = unit * rhs if tok[1] == "*" else unit / rhs
        return unit

    def power(self) -> Unit:
        unit = self.atom()
        if (tok := self.peek()) and tok == ("op", "^"):
            self.take()
            unit = unit ** self.exponent()
        return unit

    def exponent(self) -> Fraction:
        kind, val = self.take()
        if (kind, val) == ("op", "("):
            num = self.exponent()
            if self.peek() == ("op", "/"):
                self.take()
                num = num / self.exponent()
            if self.take() != ("op", ")"):
                raise UnitSyntaxError(f"unbalanced parentheses in units {self.text!r}")
            return num
        if (kind, val) == ("op", "-"):
            return -self.exponent()
        if kind != "num":
            raise UnitSyntaxError(f"exponent {val!r} in units {self.text!r} is not a number")
        return Fraction(val)

    def atom(self) -> Unit:
        kind, val = self.take()
        if kind == "name":
            return Unit.base(val)
        if kind == "num":
            return DMNL
        if val == "(":
            unit = self.product()
            if self.take() != ("op", ")"):
                raise UnitSyntaxError(f"unbalanced parentheses in units {self.text!r}")
            return unit
        raise UnitSyntaxError(f"unexpected {val!r} in units {self.text!r}")


def parse_unit(text: str) -> Unit:
    """Parse a Vensim units string (without its ``[min,max]`` range) into a :class:`Unit`.

    Raises :class:`UnitSyntaxError` for an empty or unreadable string.
    """
    if not text or not text.strip():
        raise UnitSyntaxError("empty units")
    parser = _Parser(text)
    unit = parser.product()
    if parser.peek() is not None:
        raise UnitSyntaxError(f"unexpected {parser.peek()[1]!r} in units {text!r}")
    return unit
