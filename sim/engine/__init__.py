"""Batch simulation engine: compiles PySD's abstract model into vectorized numpy code.

``compile_model(path, data_files=None) -> BatchModel``; ``BatchModel.run(...) -> xr.Dataset``
with dims ``("sample", "time", *subscript ranges)`` (see ARCHITECTURE.md, "Engine contract").
"""

from __future__ import annotations

from pathlib import Path

from sim.engine.batch import BatchModel, VariableInfo
from sim.engine.model import ModelInfo


def compile_model(path, data_files=None) -> BatchModel:
    """Parse ``path`` (a Vensim .mdl) and compile it. ``data_files``: path or list of paths
    (relative to the model's directory) for data variables. Raises ``ModelError`` /
    ``UnsupportedConstructError``."""
    from sim.model.mdl import load_abstract_model

    abstract = load_abstract_model(path, data_files)
    info = ModelInfo(abstract, Path(path))
    return BatchModel(info, Path(path), data_files)


__all__ = ["BatchModel", "VariableInfo", "compile_model"]
