"""``plansim conformance DIR``: run the SDXorg conformance suite through the batch engine."""

from __future__ import annotations


# lazy (command module): the parser imports every command, so its imports sit in functions
def add_parser(subparsers) -> None:
    p = subparsers.add_parser("conformance", help="run Vensim conformance models (batch engine)",
                              description=__doc__)
    p.add_argument("directory", metavar="DIR", help="folder with manifest.csv and test folders")
    p.add_argument("--test", action="append", default=None,
                   help="run only this test (repeatable)")
    p.set_defaults(func=run)


def run(args) -> int:
    from sim.engine.conformance import run_all

    results = run_all(args.directory, only=args.test)
    for r in results:
        if r.passed:
            print(f"PASS {r.name}")
        else:
            where = f" worst {r.worst!r} error/tolerance {r.error:.3g}" if r.worst else ""
            print(f"FAIL {r.name}:{where} {r.message}".rstrip())
    n_pass = sum(r.passed for r in results)
    print(f"{n_pass} passed, {len(results) - n_pass} failed")
    return 0 if n_pass == len(results) else 1
