"""Entry point of ``plansim``: parses the command, runs it, and turns errors into one line.

Each command lives in its own module ``sim.cli.<name>`` that defines ``add_parser(subparsers)``
and ``run(args) -> int``. Every command module is imported to build the parser; each imports
what its command needs inside its functions (the ``# lazy (command module):`` marker), so
``plansim --help`` and an argument error import no NumPy, pandas or xarray.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys

from sim.errors import PlanSimError, cap

COMMANDS = {
    "run": "sim.cli.run",
    "compare": "sim.cli.compare",
    "conformance": "sim.cli.conformance",
    "calibrate": "sim.cli.calibrate",
    "check": "sim.cli.check",
    "uncertainty": "sim.cli.uncertainty",
    "sensitivity": "sim.cli.sensitivity",
    "forecast": "sim.cli.forecast",
    "score": "sim.cli.score",
    "backtest": "sim.cli.backtest",
    "docs": "sim.cli.docs",
    "regen": "sim.cli.regen",
    "diagram": "sim.cli.diagram",
    "what-it-takes": "sim.cli.what_it_takes",
    "returns": "sim.cli.returns",
    "discover": "sim.cli.discover",
    "brief": "sim.cli.brief",
    "levers": "sim.cli.levers",
    "assumptions": "sim.cli.assumptions",
    "explore": "sim.cli.explore",
}


def _available() -> dict[str, object]:
    return {name: importlib.import_module(path) for name, path in COMMANDS.items()}


class _Listed(Exception):
    """Raised once a command's help line is added (its arguments are not needed)."""


class _HelpLine:
    """Stands in for the subparsers action when only the command's help line is needed: adds
    the command and stops its ``add_parser`` before the arguments and what they import (each
    ``add_parser`` calls ``sub.add_parser(...)`` first, its imports after)."""

    def __init__(self, sub):
        self.sub = sub

    def add_parser(self, name, **kwargs):
        self.sub.add_parser(name, help=kwargs.get("help"), description=kwargs.get("description"))
        raise _Listed


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The ``plansim`` parser. With ``argv``, only the command it names gets its arguments (the
    others their help line), so ``plansim --help`` and argument errors import no NumPy, pandas
    or xarray; without, every command is complete."""
    parser = argparse.ArgumentParser(
        prog="plansim",
        description="Simulate Qingdao's S&T action plan (青岛科技强市行动计划; its years and "
                    "targets in model/targets.yaml).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    chosen = None if argv is None else next((a for a in argv if a in COMMANDS), "")
    for name, module in _available().items():
        if chosen is None or name == chosen:
            module.add_parser(sub)
            continue
        with contextlib.suppress(_Listed):
            module.add_parser(_HelpLine(sub))
    return parser


# lazy (command module): what a command needs loads once it runs, not for --help or a parse error
def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv).parse_args(argv)   # help and argument errors exit here

    from sim import engine
    from sim.cli.common import flag_message
    from sim.present.output import outdir

    handlers = outdir.install_signal_handlers()
    # a kernel not compiled yet is built in the background; this command runs the numpy path
    engine.BACKGROUND_COMPILE["on"] = os.environ.get("PLANSIM_BACKGROUND_COMPILE") != "off"
    try:
        return int(args.func(args) or 0)
    except PlanSimError as exc:
        print(f"plansim {args.command}: error: {cap(flag_message(str(exc)))}",
              file=sys.stderr)
        session = outdir.active()
        if session is not None and (session.created or session.replaced):
            print(f"plansim {args.command}: {session.summary()}", file=sys.stderr)
        return getattr(exc, "exit_code", 2)
    except KeyboardInterrupt as exc:   # Ctrl-C, or SIGINT/SIGTERM as outdir.Interrupted
        name = str(exc) if isinstance(exc, outdir.Interrupted) else "SIGINT"
        session = outdir.active()
        done = session.summary() if session is not None else "nothing written"
        print(f"plansim {args.command}: interrupted ({name}); temporary folders removed; "
              f"{done}", file=sys.stderr)
        return exc.exit_status if isinstance(exc, outdir.Interrupted) else 130
    finally:
        engine.BACKGROUND_COMPILE["on"] = False
        outdir.release_all()
        outdir.restore_signal_handlers(handlers)


def entry() -> int:
    """The ``plansim`` program (and ``python -m sim``): :func:`main`, after which the process
    ends. Everything the command made is frozen out of the garbage collector first: the
    interpreter's last collection over it at exit (0.3-0.4 s after a briefing) would free
    memory the process is about to give back anyway. Not in :func:`main`, which tests and
    notebooks call in a process that goes on."""
    import gc

    code = main()
    gc.freeze()
    return code


if __name__ == "__main__":
    raise SystemExit(entry())
