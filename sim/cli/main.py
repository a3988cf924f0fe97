"""Entry point of ``plansim``: parses the command, runs it, and turns errors into one line.

Each command lives in its own module ``sim.cli.<name>`` that defines ``add_parser(subparsers)``
and ``run(args) -> int``. Modules are imported only when their command runs, so ``plansim --help``
stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

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
    "docs": "sim.cli.docs",
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
    modules = {}
    for name, path in COMMANDS.items():
        try:
            modules[name] = importlib.import_module(path)
        except ModuleNotFoundError as exc:  # a command not built yet
            if exc.name != path:
                raise
    return modules


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="plansim",
        description="Simulate Qingdao's S&T action plan (青岛科技强市行动计划; its years and "
                    "targets in model/targets.yaml).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in _available().values():
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from sim.cli.common import flag_message
    from sim.errors import PlanSimError, cap
    from sim.present import outdir

    parser = build_parser()
    args = parser.parse_args(argv)
    handlers = outdir.install_signal_handlers()
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
        outdir.release_all()
        outdir.restore_signal_handlers(handlers)


if __name__ == "__main__":
    raise SystemExit(main())
