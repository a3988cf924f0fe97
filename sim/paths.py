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
WORDS_FILE = MODEL_DIR / "words.yaml"
#: the committed diagrams (Graphviz sources and SVG; `plansim regen` writes them)
DIAGRAMS_DIR = MODEL_DIR / "diagrams"
CHECKS_FILE = MODEL_DIR / "checks.yaml"
#: PySD's runs of the model at its own step, one file per scenario (`plansim regen` writes
#: them, sim.analysis.diagnostics.reference; tests/test_agreement.py compares the engine with them)
REFERENCE_DIR = MODEL_DIR / "reference"
REFERENCE_NAME = "pysd-{scenario}.csv"
LOOPS_FILE = MODEL_DIR / "loops.yaml"
SECTORS_FILE = MODEL_DIR / "sectors.yaml"
LABELS_FILE = MODEL_DIR / "labels.yaml"
#: the documents whose numbers ``plansim docs`` writes
DOCUMENTS = (ROOT / "README.md", MODEL_DIR / "README.md", MODEL_DIR / "README.zh.md")
SCENARIO_DIR = ROOT / "scenarios"
SCENARIO_SCHEMA = SCENARIO_DIR / "schema.json"
UNCERTAINTY_FILE = SCENARIO_DIR / "uncertainty.yaml"
FORECASTS_DIR = ROOT / "forecasts"
DEFAULT_OUT = Path("out")
#: the scenarios ``plansim run`` runs when none is named (and ``make setup`` prepares the cache
#: for: :func:`sim.api.warm_start`)
DEFAULT_SCENARIOS = ("baseline", "plan")

#: a name that can name a result folder (a scenario id, "compare", ...): letters (any script),
#: digits, '_', '-', '.' and inner spaces; not starting with '.', '-' or a space, not ending
#: with a space or '.'; so never '.', '..', a path separator or a hidden name
SAFE_NAME = re.compile(r"^\w(?:[\w.\- ]*[\w\-])?$")
SAFE_NAME_RULE = ("letters, digits, '_', '-', '.' and spaces, starting with a letter or digit, "
                  "not ending with '.' or a space")

#: longest file name most file systems allow (bytes)
MAX_NAME_BYTES = 255
#: every file or folder name plansim makes from a scenario id (``{id}``), the longest
#: variable parts filled in: result folders and their temporary siblings
#: (sim.present.output.atomic: ``.<name>.tmp-<12 hex>``), a workbook's temporary file
#: (``.<name>.<8 random>.tmp``), the explorer's download
ID_NAMES = (".{id}.tmp-0123456789ab", ".sensitivity_{id}_shapley.tmp-0123456789ab",
            ".what-it-takes_{id}.tmp-0123456789ab", ".returns_{id}.tmp-0123456789ab",
            ".discover_{id}.tmp-0123456789ab", ".{id}.xlsx.01234567.tmp",
            "{id}-explored.yaml")
#: the longest of them, and the longest id (UTF-8 bytes) that keeps each within the limit
LONGEST_ID_NAME = max(ID_NAMES, key=len)
MAX_ID_BYTES = MAX_NAME_BYTES - (len(LONGEST_ID_NAME) - len("{id}"))
