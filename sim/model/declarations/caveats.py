"""The model's key caveats, declared once in both languages in ``model/caveats.yaml``.

The file maps each caveat's id (lower case, digits, '-') to its text in Chinese and English
(``{zh: ..., en: ...}``, each one paragraph of Markdown: ``**bold**`` lead words, ```code```
names), in the order they are shown. :func:`load_caveats` validates it: a bad entry is one
:class:`~sim.errors.ModelError` line naming the file and the key. The documents' blocks
(:mod:`sim.present.documents.doc_caveats`) and ``plansim brief`` show them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sim import paths
from sim.errors import ModelError, excerpt
from sim.model.declarations.words import LANGS
from sim.model.declarations.yamlio import check_keys, read_yaml, require_mapping

CAVEAT_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
#: the longest text of one caveat (characters): a caveat is one short paragraph
MAX_CHARS = 600
#: the one section of model/caveats.yaml
SECTIONS = ("caveats",)


@dataclass(frozen=True)
class Caveat:
    id: str
    text: dict[str, str]   # language -> Markdown paragraph

    def __getitem__(self, lang: str) -> str:
        return self.text[lang]


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        kind = "nothing" if value is None else excerpt(value)
        raise ModelError(f"{where}: needs a non-empty text, got {kind}")
    if "\n" in value.strip():
        raise ModelError(f"{where}: one paragraph without line breaks, got "
                         f"{excerpt(value)}; fold the lines (>-)")
    if len(value) > MAX_CHARS:
        raise ModelError(f"{where}: {len(value)} characters; allowed: at most {MAX_CHARS} "
                         "(one short paragraph)")
    return value.strip()


def load_caveats(path: Path | str | None = None) -> list[Caveat]:
    """The declared caveats in their order (``path``: default ``model/caveats.yaml``)."""
    path = Path(path or paths.CAVEATS_FILE)
    raw = require_mapping(read_yaml(path, ModelError), str(path), ModelError)
    check_keys(raw, SECTIONS, str(path), ModelError)
    entries = require_mapping(raw.get("caveats"), f"{path}: caveats", ModelError)
    if not entries:
        raise ModelError(f"{path}: caveats: declares no caveat; give at least one")
    caveats = []
    for cid, entry in entries.items():
        if not isinstance(cid, str) or not CAVEAT_ID.fullmatch(cid):
            raise ModelError(f"{path}: caveats: id {excerpt(cid)} is not allowed; use lower "
                             "case letters, digits and '-'")
        where = f"{path}: caveats.{cid}"
        entry = require_mapping(entry, where, ModelError)
        check_keys(entry, LANGS, where, ModelError)
        caveats.append(Caveat(cid, {lang: _text(entry.get(lang), f"{where}.{lang}")
                                    for lang in LANGS}))
    return caveats
