"""Generated blocks in Markdown documents: every number a document shows comes from a command.

A document marks each generated part, each marker alone on its line::

    <!-- generated: forecast -->
    ... text written by `plansim docs`; edits here are overwritten ...
    <!-- /generated -->

:func:`update_documents` finds the blocks of each document, asks the generators (a mapping
``name -> callable returning Markdown``, see :mod:`sim.present.documents.doc_blocks`) for the blocks
present, and rewrites every changed document atomically, or, with ``check=True``, only reports
the stale blocks. Block names are stable identifiers: a document may hold any subset of them,
in any order, each at most once; a name no generator knows is an error naming the file.
Everything is computed before anything is written, so an error leaves every file as it was.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import DocumentError
from sim.present.output.atomic import atomic_write_text

OPEN = re.compile(r"<!-- generated: ([a-z0-9][a-z0-9-]*) -->")
CLOSE = "<!-- /generated -->"
# a marker stands alone on its line; a mention inside prose or `code` is not a marker
_ANY_MARK = re.compile(r"^[ \t]*(<!--\s*/?generated\b[^>]*-->)[ \t]*$", re.MULTILINE)


@dataclass(frozen=True)
class Block:
    """One generated block of a document: ``text[start:end]`` is its body (between markers)."""

    name: str
    start: int
    end: int
    line: int

    def body(self, text: str) -> str:
        return text[self.start:self.end]


def find_blocks(text: str, source: str = "<text>") -> list[Block]:
    """The generated blocks of ``text`` in order; malformed markers raise :class:`DocumentError`
    naming ``source`` and the line."""
    blocks: list[Block] = []
    open_at: tuple[str, int, int] | None = None
    for m in _ANY_MARK.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        mark = m.group(1)
        opened = OPEN.fullmatch(mark)
        if opened:
            if open_at is not None:
                raise DocumentError(f"{source}:{line}: block '{opened.group(1)}' opens inside "
                                    f"block '{open_at[0]}' (line {open_at[2]}); close it first "
                                    f"with {CLOSE}")
            open_at = (opened.group(1), m.end(1), line)
        elif mark == CLOSE:
            if open_at is None:
                raise DocumentError(f"{source}:{line}: {CLOSE} without an opening "
                                    "<!-- generated: NAME -->")
            blocks.append(Block(open_at[0], open_at[1], m.start(1), open_at[2]))
            open_at = None
        else:
            raise DocumentError(f"{source}:{line}: malformed marker {mark!r}; allowed: "
                                f"'<!-- generated: NAME -->' (NAME: lower case, digits, '-') "
                                f"and '{CLOSE}'")
    if open_at is not None:
        raise DocumentError(f"{source}:{open_at[2]}: block '{open_at[0]}' is never closed; "
                            f"end it with {CLOSE}")
    names = [b.name for b in blocks]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise DocumentError(f"{source}: block '{dup[0]}' appears twice; each block may appear "
                            "once per document")
    return blocks


def fill(text: str, blocks: Sequence[Block], contents: Mapping[str, str]) -> str:
    """``text`` with the body of every block replaced by ``"\\n" + contents[name] + "\\n"``."""
    out, pos = [], 0
    for b in blocks:
        out += [text[pos:b.start], "\n", contents[b.name].strip("\n"), "\n"]
        pos = b.end
    out.append(text[pos:])
    return "".join(out)


@dataclass(frozen=True)
class Stale:
    """A block whose text differs from what its generator gives now."""

    path: Path
    name: str
    line: int


Generator = Callable[[], str]


def update_documents(paths: Iterable[Path | str], generators: Mapping[str, Generator], *,
                     check: bool = False, say: Callable[[str], None] = lambda _m: None
                     ) -> list[Stale]:
    """Regenerate the blocks of each document (or, with ``check``, only compare them).

    Each generator runs at most once, however many documents use its block. Returns the stale
    blocks (with ``check=False``: the blocks that were rewritten).
    """
    docs = []
    for path in map(Path, paths):
        if not path.is_file():
            raise DocumentError(f"{path}: file not found")
        text = path.read_text(encoding="utf-8")
        blocks = find_blocks(text, str(path))
        for b in blocks:
            if b.name not in generators:
                raise DocumentError(f"{path}:{b.line}: unknown block '{b.name}'; known blocks: "
                                    f"{', '.join(sorted(generators))}")
        docs.append((path, text, blocks))
    contents: dict[str, str] = {}
    for _, _, blocks in docs:
        for b in blocks:
            if b.name not in contents:
                say(f"block {b.name}")
                contents[b.name] = generators[b.name]()
    stale: list[Stale] = []
    writes = []
    for path, text, blocks in docs:
        new = fill(text, blocks, contents)
        if new != text:
            stale += [Stale(path, b.name, b.line) for b in blocks
                      if b.body(text).strip("\n") != contents[b.name].strip("\n")]
            writes.append((path, new))
    if not check:
        for path, new in writes:
            atomic_write_text(path, new)
    return stale


# -- Markdown helpers for the generators -------------------------------------------------------
def md_table(df: pd.DataFrame, *, index: bool = False) -> str:
    """A pipe table of ``df`` (cells already formatted as text; ``|`` escaped)."""
    frame = df.reset_index() if index else df
    def cell(v) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")
    lines = ["| " + " | ".join(cell(c) for c in frame.columns) + " |",
             "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |"
              for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def _chinese(line: str) -> bool:
    """Mostly Chinese text (more CJK characters than ASCII letters)."""
    cjk = sum(1 for ch in line if "\u4e00" <= ch <= "\u9fff")
    return cjk > sum(1 for ch in line if ch.isascii() and ch.isalpha())


def wrap(markdown: str, width: int = 100) -> str:
    """Fill prose lines and ``- `` bullets to ``width`` (tables, headings and blank lines are
    kept as they are; numbers such as ``7.5-13.6`` are never split; a mostly Chinese line is
    kept whole: it has no spaces to break at, and a break inside it reads as a space)."""
    out = []
    for line in markdown.split("\n"):
        if (not line.strip() or line.lstrip().startswith(("|", "#", "<!--"))
                or len(line) <= width or _chinese(line)):
            out.append(line)
            continue
        bullet = line.startswith("- ")
        out.append(textwrap.fill(line, width=width, subsequent_indent="  " if bullet else "",
                                 break_long_words=False, break_on_hyphens=False))
    return "\n".join(out)


def percent(p: float) -> str:
    """A probability or share as a percentage: whole percents from 1%, else two significant
    digits (0.15%); NaN as '-'."""
    if p is None or np.isnan(p):
        return "-"
    x = 100 * float(p)
    if x == 0 or abs(x) >= 1:
        return f"{x:.0f}%"
    return f"{x:.2g}%"


def signed_percent(change: float) -> str:
    """A relative change as '+26%' / '-4.5%' (two significant digits below 10%)."""
    x = 100 * float(change)
    body = f"{abs(x):.0f}" if abs(x) >= 10 else f"{abs(x):.2g}"
    return ("+" if x >= 0 else "-") + body + "%"
