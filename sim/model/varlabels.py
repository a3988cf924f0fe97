"""Chinese labels of model variables, declared in ``model/labels.yaml`` (the English label of a
variable is its Vensim name; see :func:`sim.present.diagrams.variable_labels` for the order in
which the project's other bilingual labels are used)."""

from __future__ import annotations

from collections.abc import Mapping
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


def variable_labels(vensim_names: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """Bilingual label ``{zh, en}`` of each model variable (PySD name -> Vensim name given).

    In order of precedence: the indicators of model/targets.yaml; the levers and assumptions
    of model/parameters.yaml; in Chinese ``model/labels.yaml``; else the Vensim name (the
    English label of every other variable, and the Chinese one when none is declared).
    """
    from sim.model.parameters import load_parameters
    from sim.model.targets import load_targets

    zh = load_zh_labels()
    out = {}
    for name, vensim in vensim_names.items():
        en = str(vensim or name)
        out[name] = {"zh": zh.get(name, en), "en": en[:1].upper() + en[1:]}
    params = load_parameters()
    for p in (*params.levers.values(), *params.assumptions.values()):
        if p.py_name in out:
            out[p.py_name] = dict(p.label)
    for name, lab in load_targets().indicator_labels().items():
        if name in out:
            out[name] = dict(lab)
    return out
