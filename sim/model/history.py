"""Observed history (``model/data/history.csv``): figures with their status and source."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim import paths
from sim.errors import ModelError

COLUMNS = ("indicator", "year", "value", "unit", "status", "source", "note")
STATUSES = ("sourced", "implied", "conflicting")


def load_history(path: Path | str | None = None) -> pd.DataFrame:
    """The history table; ``status`` is one of sourced / implied / conflicting."""
    path = Path(path or paths.HISTORY_FILE)
    if not path.is_file():
        raise ModelError(f"{path}: file not found")
    df = pd.read_csv(path, dtype={"indicator": str, "status": str, "source": str})
    missing = [c for c in COLUMNS[:6] if c not in df.columns]
    if missing:
        raise ModelError(f"{path}: missing columns {missing}; expected {list(COLUMNS)}")
    bad = sorted(set(df["status"]) - set(STATUSES))
    if bad:
        raise ModelError(f"{path}: status {bad[0]!r} is not allowed; use one of {STATUSES}")
    return df
