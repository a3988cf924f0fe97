"""Where the SDXorg conformance models are (``../shared/conformance`` beside the checkout) and
the rows of their manifest, for the tests that run them (the engine, and the kernel's
agreement)."""

from __future__ import annotations

import csv
from pathlib import Path

from sim.paths import ROOT

CONFORMANCE = (ROOT.parent / "shared" / "conformance").resolve()
if not (CONFORMANCE / "manifest.csv").is_file():
    CONFORMANCE = Path("/work/shared/conformance")


def _rows() -> list[dict]:
    path = CONFORMANCE / "manifest.csv"
    if not path.is_file():
        return []
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


ROWS = _rows()
