"""Chinese labels of model variables, declared in ``model/labels.yaml`` (the English label of a
variable is its Vensim name; see :func:`sim.present.diagrams.variable_labels` for the order in
which the project's other bilingual labels are used)."""

from __future__ import annotations

from pathlib import Path

from sim import paths
from sim.errors import ModelError
from sim.model.yamlio import read_yaml, require_mapping


def load_zh_labels(path: Path | str | None = None) -> dict[str, str]:
    path = Path(path or paths.MODEL_DIR / "labels.yaml")
    raw = require_mapping(read_yaml(path, ModelError), str(path), ModelError)
    zh = require_mapping(raw.get("zh"), f"{path}: zh", ModelError)
    bad = {k: v for k, v in zh.items() if not isinstance(v, str) or not v.strip()}
    if bad:
        raise ModelError(f"{path}: zh: {bad!r} are not texts")
    return {str(k): v.strip() for k, v in zh.items()}
