"""Labels of model variables, declared in ``model/labels.yaml``: the Chinese label of every
variable (``zh``), the English label of the charted ones (``en``; otherwise the Vensim name), and
the variables and outcomes whose dimensionless value is a share (``shares``, shown in per cent).
See :func:`sim.present.figures.diagrams.variable_labels` and :func:`sim.present.labels.variable_label`
for the order in which the project's other bilingual labels are used. Any key but those of
:data:`SECTIONS` is refused."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sim import paths
from sim.errors import ModelError
from sim.model.declarations.parameters import load_parameters
from sim.model.declarations.targets import load_targets
from sim.model.declarations.words import LANGS
from sim.model.declarations.yamlio import check_keys, read_yaml, require_mapping

#: the sections of model/labels.yaml
SECTIONS = ("zh", "en", "shares")


@dataclass(frozen=True)
class VariableLabels:
    zh: dict[str, str]
    en: dict[str, str]
    shares: frozenset[str]


def _texts(raw, key: str, path: Path, required: bool) -> dict[str, str]:
    if raw.get(key) is None and not required:
        return {}
    entries = require_mapping(raw.get(key), f"{path}: {key}", ModelError)
    bad = {k: v for k, v in entries.items() if not isinstance(v, str) or not v.strip()}
    if bad:
        raise ModelError(f"{path}: {key}: {bad!r} are not texts")
    return {str(k): v.strip() for k, v in entries.items()}


def load_labels(path: Path | str | None = None) -> VariableLabels:
    path = Path(path or paths.LABELS_FILE)
    return _load(path, path.stat().st_mtime if path.exists() else 0.0)


@lru_cache(maxsize=8)
def _load(path: Path, _mtime: float) -> VariableLabels:
    raw = require_mapping(read_yaml(path, ModelError), str(path), ModelError)
    check_keys(raw, SECTIONS, str(path), ModelError)
    shares = raw.get("shares") or []
    if not isinstance(shares, list) or not all(isinstance(s, str) for s in shares):
        raise ModelError(f"{path}: shares: {shares!r} is not a list of variable names")
    return VariableLabels(_texts(raw, "zh", path, True), _texts(raw, "en", path, False),
                          frozenset(shares))


def load_zh_labels(path: Path | str | None = None) -> dict[str, str]:
    return dict(load_labels(path).zh)


def variable_labels(vensim_names: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """Bilingual label ``{zh, en}`` of each model variable (PySD name -> Vensim name given).

    In order of precedence: the indicators of model/targets.yaml; the levers and assumptions
    of model/parameters.yaml; ``model/labels.yaml`` (``zh:``, ``en:``); else the Vensim name
    (the English label of every other variable, and the Chinese one when none is declared).
    """
    declared = load_labels()
    out = {}
    for name, vensim in vensim_names.items():
        en = str(vensim or name)
        en = declared.en.get(name, en[:1].upper() + en[1:])
        out[name] = {lang: getattr(declared, lang).get(name, en) for lang in LANGS}
    params = load_parameters()
    for p in (*params.levers.values(), *params.assumptions.values()):
        if p.py_name in out:
            out[p.py_name] = dict(p.label)
    for name, lab in load_targets().indicator_labels().items():
        if name in out:
            out[name] = dict(lab)
    return out
