"""``plansim explore``: the live explorer, a local web page (Panel on a Bokeh server).

Move a lever and see the indicators, their targets, the fiscal cost and (with the band on)
P(met) at once; save the settings as a scenario file or load one. The page is
:mod:`sim.present.explorer`; nothing it runs writes into the project.
"""

from __future__ import annotations

from sim.cli.common import Progress, add_ensemble
from sim.errors import PlanSimError


# lazy (command module): the parser imports every command, so its imports sit in functions
def _port(text: str) -> int:
    import argparse

    try:
        value = int(text, 10)
    except ValueError:
        value = -1
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text[:40]!r}; allowed: a port number from 1 to "
                                         "65535")
    return value


def add_parser(sub) -> None:
    from sim.model.declarations.targets import load_targets

    p = sub.add_parser(
        "explore", help="live explorer in the browser: move levers, see the targets at once",
        description=load_targets().fill(
            "Serve a local web page with one slider per lever and plan year (grouped by lever "
            "group, marks at the baseline and plan values), the {n} indicators with history, "
            "targets and baseline/plan references, the target table, the fiscal cost, an "
            "uncertainty band with P(met) from the ensemble of posterior draws, save/load of "
            "scenario files and a zh/en switch. Listens on 127.0.0.1 unless --host is given; "
            "another address needs --allow-origin (no wildcard) and prints what a remote "
            "visitor can do.", "en"))
    from sim.model.declarations.words import LANGS

    p.add_argument("scenario", nargs="?", default="plan", metavar="SCENARIO",
                   help="scenario to start from: an id in scenarios/ or a file (default: plan)")
    p.add_argument("--port", type=_port, default=5006, help="port (default 5006)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only; "
                        "another address needs --allow-origin)")
    p.add_argument("--allow-origin", nargs="+", action="extend", default=[], metavar="URL",
                   help="browser origins that may use the page when --host is not loopback, "
                        "such as http://203.0.113.5:5006 (no wildcard)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.add_argument("--lang", choices=LANGS, default=LANGS[0],
                   help=f"language of the page at start (default: {LANGS[0]})")
    add_ensemble(p)   # the band's draws: the canonical ensemble unless told otherwise
    p.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    p.set_defaults(func=run)


def run(args) -> int:
    import sys

    from sim.present.explorer.server import origins, serve
    from sim.scenarios import load_scenario

    say = Progress(args.quiet)
    origins(args.host, args.port, args.allow_origin)   # no wildcard, no open host unasked
    load_scenario(args.scenario)  # a bad file stops here with the usual one line

    def tell(message: str) -> None:
        if message.startswith("warning"):
            print(message, file=sys.stderr, flush=True)
        elif message.startswith("serving"):
            print(message, flush=True)
        else:
            say(message)

    try:
        serve(args.scenario, lang=args.lang, host=args.host, port=args.port,
              show=not args.no_browser, samples=args.samples, seed=args.seed, say=tell,
              allow_origins=args.allow_origin)
    except OSError as exc:
        raise PlanSimError(f"--port {args.port}: cannot listen on {args.host}:{args.port} "
                           f"({exc.strerror or exc}); allowed: a free port") from None
    except KeyboardInterrupt:
        print("stopped")
    return 0
