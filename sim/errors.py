"""Named exceptions. Every error a user can cause is a :class:`PlanSimError`.

The command line prints ``str(error)`` on one line and exits with status 2; it never shows a
traceback for these. Messages name the file, the key, the value and what is allowed.
"""

from __future__ import annotations


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
        msg += "; run it with --engine pysd"
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


class ForecastError(PlanSimError):
    """A forecast vintage or an outturn file to score it against is missing or malformed."""
