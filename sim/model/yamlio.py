"""Reading YAML files with messages that name the file and the line of a syntax error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sim.errors import PlanSimError


def read_yaml(path: Path, error: type[PlanSimError]) -> Any:
    """Parse ``path``; raise ``error`` naming the file (and line) if it is missing or malformed."""
    path = Path(path)
    if not path.is_file():
        raise error(f"{path}: file not found")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot be read as UTF-8 text ({exc})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise error(f"{path}: malformed YAML{where}: {problem}") from None


def require_mapping(value: Any, where: str, error: type[PlanSimError]) -> dict:
    if not isinstance(value, dict):
        raise error(f"{where}: expected a mapping, got {type(value).__name__} {value!r}")
    return value


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
