"""Shared pieces of the command line: progress messages, scenario arguments, engine choice."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from sim import paths


class Progress:
    """Timestamped progress lines on stderr (results go to stdout)."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.t0 = time.perf_counter()

    def __call__(self, msg: str) -> None:
        if not self.quiet:
            print(f"[{time.perf_counter() - self.t0:6.1f}s] {msg}", file=sys.stderr, flush=True)


def add_common(parser, *, out_default: Path | None = None, lang: bool = True,
               engine: bool = True) -> None:
    parser.add_argument("--out", type=Path, default=out_default or paths.DEFAULT_OUT,
                        help=f"output directory (default: ./{out_default or paths.DEFAULT_OUT})")
    if lang:
        parser.add_argument("--lang", choices=("zh", "en"), default="zh",
                            help="language of chart labels (default: zh)")
    if engine:
        parser.add_argument("--engine", choices=("batch", "pysd"), default="batch",
                            help="simulation engine: the compiled batch engine (default) or "
                                 "PySD, to cross-check")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
