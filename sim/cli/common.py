"""Shared pieces of the command line: progress messages, scenario arguments, engine choice."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

from sim import paths
from sim.cli.formats import add_formats
from sim.errors import ScenarioError


# lazy (command module): every command imports this for its parser; imports sit in functions
class Progress:
    """Timestamped progress lines on stderr (results go to stdout)."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.t0 = time.perf_counter()

    def __call__(self, msg: str) -> None:
        if not self.quiet:
            print(f"[{time.perf_counter() - self.t0:6.1f}s] {msg}", file=sys.stderr, flush=True)


def add_common(parser, *, out_default: Path | None = None, lang: bool = True,
               engine: bool = True, charts: bool = True) -> None:
    """``--out``, ``--lang``, ``--engine``, ``--formats`` (a command that writes charts) and
    ``--quiet``."""
    parser.add_argument("--out", type=Path, default=out_default or paths.DEFAULT_OUT,
                        help=f"output directory (default: ./{out_default or paths.DEFAULT_OUT})")
    if lang:
        from sim.model.declarations.words import LANGS

        parser.add_argument("--lang", choices=LANGS, default=LANGS[0],
                            help=f"language of chart labels (default: {LANGS[0]})")
    if engine:
        add_engine(parser, help="simulation engine: the compiled batch engine (default) or "
                                "PySD, to cross-check")
    if charts:
        add_formats(parser)
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress messages")


def add_ensemble(parser, samples: int | None = None, seed_default: int | None = None) -> None:
    """``--samples`` (posterior draws) and ``--seed`` of an ensemble command; default: the
    canonical ensemble (``ensemble:`` of scenarios/uncertainty.yaml)."""
    parser.add_argument("--samples", type=sample_count, default=samples,
                        help="posterior draws (default: the canonical ensemble's N, "
                             "scenarios/uncertainty.yaml ensemble.samples)")
    parser.add_argument("--seed", type=seed, default=seed_default,
                        help="random seed (default: the canonical ensemble's seed)")


def add_engine(parser, help: str = "simulation engine (default: batch)") -> None:
    """``--engine``, its choices those of :data:`sim.engine.ENGINES`."""
    from sim.engine import ENGINES

    parser.add_argument("--engine", choices=ENGINES, default=ENGINES[0], help=help)


#: library parameter names in error messages -> the command-line flag that sets them
FLAGS = {"engine": "--engine", "samples": "--samples", "method": "--method",
         "vintage": "--vintage", "seed": "--seed", "sampling": "--sampling",
         "cost_variable": "--cost-variable", "scheduler": "--scheduler", "sector": "--sector",
         "test": "--test", "chunk_size": "--chunk-size", "root": "--out",
         "budget_max": "--budget-max",
         "probability": "--probability", "target": "--target"}
#: a leading parameter name: followed by " is ", ": " or its value ("target record" is not one)
_LEADING = re.compile(r"^([a-z_]+)(?= is |: | ['\"\[(\d-])")
_QUOTED = re.compile(r"`([a-z_]+)`")


def flag_message(message: str) -> str:
    """A library message with its parameter names as the command's flags: a leading name
    (``samples is 3; ...`` -> ``--samples is 3; ...``) and any name in backticks
    (``choose another `root``` -> ``choose another --out``)."""
    m = _LEADING.match(message)
    if m and m.group(1) in FLAGS:
        message = FLAGS[m.group(1)] + message[m.end():]
    return _QUOTED.sub(lambda q: FLAGS.get(q.group(1), q.group(0)), message)


def check_distinct(scenarios) -> None:
    """Refuse, before any work, two scenarios with one id: their results would share a folder."""
    seen: dict[str, object] = {}
    for sc in scenarios:
        if sc.id in seen:
            first, second = seen[sc.id], sc.source or sc.id
            what = (f"given twice ({first})" if str(first) == str(second)
                    else f"is the id of both {first} and {second}")
            raise ScenarioError(f"scenario '{sc.id}' {what}; each result folder is named by "
                                "the id, so give each scenario once or rename one file")
        seen[sc.id] = sc.source or sc.id


#: largest count accepted by the --samples, --seed and --chunk-size checks (one declaration,
#: shared with the library's checks)
from sim.analysis.ensembles.bounds import MAX_COUNT, MAX_SEED  # noqa: E402


def _integer(text: str, what: str, lo: int, hi: int) -> int:
    import argparse

    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text[:40]!r} is not a whole number; allowed: {what} from {lo} to {hi:,}") from None
    if not lo <= value <= hi:
        raise argparse.ArgumentTypeError(f"{value} is not allowed; allowed: {what} from {lo} "
                                         f"to {hi:,}")
    return value


def sample_count(text: str) -> int:
    """argparse type of ``--samples``: a whole number >= 1."""
    return _integer(text, "a number of samples", 1, MAX_COUNT)


def seed(text: str) -> int:
    """argparse type of ``--seed``: a whole number 0 .. 2^32-1."""
    return _integer(text, "a seed", 0, MAX_SEED)


def chunk_size(text: str) -> int:
    """argparse type of ``--chunk-size``: a whole number >= 1."""
    return _integer(text, "samples per chunk", 1, MAX_COUNT)


def money(text: str) -> float:
    """argparse type: an amount of money > 0 (亿元)."""
    import argparse

    try:
        x = float(text)
    except ValueError:
        x = float("nan")
    if not (x > 0 and x < float("inf")):
        raise argparse.ArgumentTypeError(f"{text!r}; allowed: a number > 0 (亿元)")
    return x
