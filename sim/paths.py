"""Where the project's files live. One place, so that nothing else hard-codes a path."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL_DIR = ROOT / "model"
MODEL_FILE = MODEL_DIR / "qingdao_st_plan.mdl"
PARAMETERS_FILE = MODEL_DIR / "parameters.yaml"
TARGETS_FILE = MODEL_DIR / "targets.yaml"
HISTORY_FILE = MODEL_DIR / "data" / "history.csv"
CALIBRATION_FILE = MODEL_DIR / "calibration.yaml"
POSTERIOR_FILE = MODEL_DIR / "posterior.csv.gz"
CALIBRATION_SETTINGS_FILE = MODEL_DIR / "calibration-settings.yaml"
CAVEATS_FILE = MODEL_DIR / "caveats.yaml"
SCENARIO_DIR = ROOT / "scenarios"
SCENARIO_SCHEMA = SCENARIO_DIR / "schema.json"
UNCERTAINTY_FILE = SCENARIO_DIR / "uncertainty.yaml"
FORECASTS_DIR = ROOT / "forecasts"
DEFAULT_OUT = Path("out")

#: a name that can name a result folder (a scenario id, "compare", ...): letters (any script),
#: digits, '_', '-', '.' and inner spaces; not starting with '.', '-' or a space, not ending
#: with a space or '.'; so never '.', '..', a path separator or a hidden name
SAFE_NAME = re.compile(r"^\w(?:[\w.\- ]*[\w\-])?$")
SAFE_NAME_RULE = ("letters, digits, '_', '-', '.' and spaces, starting with a letter or digit, "
                  "not ending with '.' or a space")
