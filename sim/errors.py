"""Named exceptions. Every error a user can cause is a :class:`PlanSimError`.

The command line prints ``str(error)`` on one line and exits with status 2; it never shows a
traceback for these. Messages name the file, the key, the value and what is allowed.
"""

from __future__ import annotations

import re


class PlanSimError(Exception):
    """Base class of every user-facing error."""


class ModelError(PlanSimError):
    """The ``.mdl`` file is missing, unreadable, or inconsistent."""


class UnsupportedConstructError(ModelError):
    """The batch engine met a Vensim construct it does not compile."""

    def __init__(self, variable: str, construct: str, detail: str = ""):
        self.variable = variable
        self.construct = construct
        msg = f"variable '{variable}': construct '{construct}' is not supported by the batch engine"
        if detail:
            msg += f" ({detail})"
        msg += "; run it with the pysd engine"
        super().__init__(msg)


class ParameterError(PlanSimError):
    """A lever or assumption declaration (model/parameters.yaml) is invalid."""


class ScenarioError(PlanSimError):
    """A scenario file is missing, malformed, or names an unknown or out-of-range value."""


class UncertaintyError(PlanSimError):
    """The uncertainty specification is invalid."""


class CalibrationError(PlanSimError):
    """Calibration data or settings are invalid."""


class OutputError(PlanSimError):
    """Results could not be written."""


class DiskFullError(OutputError):
    """The disk filled (or the quota ran out) while results were written: ``plansim`` exits
    with :attr:`exit_code` 3; earlier results are left as they were."""

    exit_code = 3


class ForecastError(PlanSimError):
    """A forecast vintage or an outturn file to score it against is missing or malformed."""


class DivergenceError(PlanSimError):
    """A run diverged: NaN, inf, or a stock beyond the explosion bound of ``model/checks.yaml``.

    ``plansim`` exits with :attr:`exit_code` (3, not the 2 of bad input) and writes nothing.
    """

    exit_code = 3

    def __init__(self, message: str, *, variable: str = "", year: float | None = None):
        self.variable = variable
        self.year = year
        super().__init__(message)


class DocumentError(PlanSimError):
    """A Markdown document's generated blocks are malformed or unknown (``plansim docs``)."""


#: longest excerpt of a value shown in a message
EXCERPT = 60
#: longest message the command line prints
MAX_MESSAGE = 600


def excerpt(value: object, limit: int = EXCERPT, *, quote: bool = True) -> str:
    """A short, one-line rendering of ``value`` for messages: ``repr`` (or ``str`` with
    ``quote=False``) cut to ``limit`` characters with an ellipsis and the full length."""
    try:
        text = repr(value) if quote else str(value)
    except Exception:  # a value whose repr fails still gets a message
        text = f"<{type(value).__name__}>"
    if len(text) > limit:
        text = f"{text[:limit]}… ({len(text):,} characters)"
    return printable(text.replace("\n", "\\n").replace("\r", "\\r"))


def cap(message: str, limit: int = MAX_MESSAGE) -> str:
    """``message`` cut to ``limit`` characters (one line, control characters escaped)."""
    message = printable(message.replace("\r", " ").replace("\n", " "))
    return message if len(message) <= limit else f"{message[:limit]}… (message cut)"


#: control characters: C0 (but tab and newline), DEL and C1 (ESC, BEL, CSI, OSC, ...), which a
#: terminal, a page or a PDF may act on instead of showing
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
#: the same with tab and newline (not allowed in one-line texts such as names)
CONTROL_OR_BREAK = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """``text`` with every control character (but tab and newline) escaped as ``\\xNN``."""
    return CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def control_char(text: str, *, one_line: bool = False) -> str | None:
    """The first control character of ``text`` (escaped, e.g. ``\\x1b``), or None; with
    ``one_line`` tab, newline and the Unicode line separators count too."""
    m = (CONTROL_OR_BREAK if one_line else CONTROL).search(text)
    return None if m is None else f"\\x{ord(m.group()):02x}" if ord(m.group()) < 256 else \
        f"\\u{ord(m.group()):04x}"


def plain_text(text: str, where: str, error: type[PlanSimError], *, one_line: bool = False) -> str:
    """``text`` if it holds no control character (which a terminal, a page or a PDF could act
    on: ESC sequences set a window's title or clear the screen), else ``error`` naming it; with
    ``one_line`` (a name) a line break counts too."""
    bad = control_char(text, one_line=one_line)
    if bad is not None:
        allowed = "one line of text" if one_line else "text (tabs and line breaks allowed)"
        raise error(f"{where}: {excerpt(text, 40)} holds the control character {bad}; "
                    f"allowed: {allowed} without control characters")
    return text
