"""Where the project's files live. One place, so that nothing else hard-codes a path."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL_DIR = ROOT / "model"
MODEL_FILE = MODEL_DIR / "qingdao_st_plan.mdl"
PARAMETERS_FILE = MODEL_DIR / "parameters.yaml"
TARGETS_FILE = MODEL_DIR / "targets.yaml"
HISTORY_FILE = MODEL_DIR / "data" / "history.csv"
CALIBRATION_FILE = MODEL_DIR / "calibration.yaml"
SCENARIO_DIR = ROOT / "scenarios"
SCENARIO_SCHEMA = SCENARIO_DIR / "schema.json"
UNCERTAINTY_FILE = SCENARIO_DIR / "uncertainty.yaml"
FORECASTS_DIR = ROOT / "forecasts"
DEFAULT_OUT = Path("out")
