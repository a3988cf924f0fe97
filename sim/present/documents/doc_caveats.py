"""The documents' lists of the model's key caveats (block ``caveats`` of model/README.md, "Open
doubts", and ``caveats-zh`` of model/README.zh.md, "八、模型的局限"), one bullet per caveat
declared in model/caveats.yaml (:func:`sim.model.declarations.caveats.load_caveats`), in its order."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def block_caveats(lang: str, path: Path | str | None = None) -> str:
    # lazy: pulls numpy, yaml (89 ms)
    from sim.model.declarations.caveats import load_caveats

    return "\n".join(f"- {c[lang]}" for c in load_caveats(path))


def _en(_ctx: Any) -> str:
    return block_caveats("en")


def _zh(_ctx: Any) -> str:
    return block_caveats("zh")


BLOCKS = {"caveats": _en, "caveats-zh": _zh}
