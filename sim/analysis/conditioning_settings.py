"""The ``conditioning:`` section of ``scenarios/uncertainty.yaml``: the settings of the history
match (:mod:`sim.analysis.conditioning`), validated with one-line errors naming the file, the key
and the value."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim import paths
from sim.errors import UncertaintyError
from sim.model.yamlio import is_number, read_yaml, require_mapping

SECTION = "conditioning"

#: keys of the section: (allowed minimum, exclusive?) checks, and the meaning for messages
_KEYS = {
    "cutoff": "a number > 0 (the implausibility cut-off, e.g. 3)",
    "observation_sd": "a number >= 0 (relative error of a weight-1 figure)",
    "discrepancy_sd": "a number >= 0 (relative model discrepancy)",
    "oversample": "a number >= 1 (first round: oversample x N draws)",
    "max_draws": "a number >= oversample (cap: max_draws x N draws in all)",
    "sensitivity_samples": "an integer >= 10 (survivors behind Morris and Sobol designs)",
}


@dataclass(frozen=True)
class ConditioningSettings:
    cutoff: float
    observation_sd: float
    discrepancy_sd: float
    oversample: float
    max_draws: float
    sensitivity_samples: int
    source: str = "<dict>"


def parse_conditioning(raw: Any, source: str = "<dict>") -> ConditioningSettings:
    """Validate the ``conditioning:`` mapping; errors name the file, the key and the value."""
    raw = require_mapping(raw, f"{source}: {SECTION}", UncertaintyError)
    for key in raw:
        if key not in _KEYS:
            raise UncertaintyError(f"{source}: {SECTION}.{key} is not a setting; allowed: "
                                   f"{', '.join(_KEYS)}")
    vals = {}
    for key, allowed in _KEYS.items():
        v = raw.get(key)
        if not is_number(v) or not math.isfinite(v):
            raise UncertaintyError(f"{source}: {SECTION}.{key} is {v!r}; allowed: {allowed}")
        vals[key] = float(v)
    bad = {"cutoff": vals["cutoff"] <= 0, "observation_sd": vals["observation_sd"] < 0,
           "discrepancy_sd": vals["discrepancy_sd"] < 0, "oversample": vals["oversample"] < 1,
           "max_draws": vals["max_draws"] < vals["oversample"],
           "sensitivity_samples": vals["sensitivity_samples"] < 10
           or vals["sensitivity_samples"] != int(vals["sensitivity_samples"])}
    for key, wrong in bad.items():
        if wrong:
            raise UncertaintyError(f"{source}: {SECTION}.{key} is {raw[key]!r}; allowed: "
                                   f"{_KEYS[key]}")
    if vals["observation_sd"] == 0 and vals["discrepancy_sd"] == 0:
        raise UncertaintyError(f"{source}: {SECTION}: observation_sd and discrepancy_sd are "
                               "both 0; allowed: at least one > 0")
    return ConditioningSettings(vals["cutoff"], vals["observation_sd"], vals["discrepancy_sd"],
                                vals["oversample"], vals["max_draws"],
                                int(vals["sensitivity_samples"]), source)


def load_conditioning(path: Path | str | None = None) -> ConditioningSettings:
    """The ``conditioning:`` section of ``scenarios/uncertainty.yaml`` (or ``path``)."""
    path = Path(path or paths.UNCERTAINTY_FILE)
    raw = require_mapping(read_yaml(path, UncertaintyError), str(path), UncertaintyError)
    if SECTION not in raw:
        raise UncertaintyError(f"{path}: no '{SECTION}:' section; allowed: a mapping with "
                               f"{', '.join(_KEYS)}")
    return parse_conditioning(raw[SECTION], str(path))
