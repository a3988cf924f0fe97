"""``plansim check``: the model's validation checks (Sterman, Business Dynamics, ch. 21).

Runs the dimensional-consistency check over every equation of the ``.mdl`` and the behaviour
checks of ``model/checks.yaml`` on every scenario in ``scenarios/`` (or those named), prints one
line per check and scenario (PASS/FAIL and the worst case) and exits 1 if anything failed.
"""

from __future__ import annotations

from pathlib import Path

from sim import paths
from sim.cli.common import Progress, add_engine
from sim.errors import ModelError

UNITS_CHECK = "dimensional consistency"


# lazy (command module): the parser imports every command, so its imports sit in functions
def add_parser(sub) -> None:
    p = sub.add_parser(
        "check", help="units check and behaviour checks on every scenario",
        description="Check the units of every equation of the model, then run every scenario "
                    "(default: all of scenarios/) and evaluate model/checks.yaml on it. Prints "
                    "one line per check and scenario; exits 1 on any failure.")
    p.add_argument("scenarios", nargs="*", metavar="SCENARIO",
                   help="scenario files or ids (default: every scenario in scenarios/)")
    p.add_argument("--model", type=Path, default=None,
                   help=f"the Vensim model (default: {paths.MODEL_FILE.relative_to(paths.ROOT)})")
    p.add_argument("--checks", type=Path, default=None,
                   help="behaviour checks file (default: model/checks.yaml)")
    p.add_argument("--units-only", action="store_true", help="only the units check")
    add_engine(p)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    p.set_defaults(func=run)


def _fmt(value) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if v != v:  # NaN
        return "NaN"
    return f"{v:.6g}"


def format_lines(rows: list[tuple[str, str, bool, str]]) -> list[str]:
    """Aligned lines ``check | scenario | PASS/FAIL | worst case`` for ``rows``."""
    w1 = max([len(r[0]) for r in rows] + [5])
    w2 = max([len(r[1]) for r in rows] + [8])
    out = [f"{'check':<{w1}}  {'scenario':<{w2}}  result  worst case",
           f"{'-' * w1}  {'-' * w2}  ------  ----------"]
    out += [f"{c:<{w1}}  {s:<{w2}}  {'PASS' if ok else 'FAIL'}    {worst}"
            for c, s, ok, worst in rows]
    return out


def units_rows(model_path: Path) -> tuple[list[tuple[str, str, bool, str]], list[str]]:
    """The units check as one table row, plus one detail line per finding."""
    from sim.analysis.diagnostics.units import check_units

    findings = check_units(model_path)
    errors = [f for f in findings if f.severity == "error"]
    warnings = [f for f in findings if f.severity != "error"]
    worst = (f"{len(errors)} errors, {len(warnings)} warnings"
             + (f"; first: {errors[0].variable}" if errors else ""))
    return [(UNITS_CHECK, "(model)", not errors, worst)], [str(f) for f in findings]


def behaviour_rows(args, say) -> list[tuple[str, str, bool, str]]:
    """Runs the scenarios and evaluates the behaviour checks; one row per check and scenario."""
    from sim.analysis.diagnostics.checks import (
        evaluate_all,
        model_stocks,
        summarize,
        variables_needed,
    )
    from sim.model.declarations.checkspec import load_checks
    from sim.scenarios import list_scenarios, load_scenario
    from sim.simulate import Simulator

    checks = load_checks(args.checks)
    refs = args.scenarios or list_scenarios()
    scenarios = [load_scenario(r) for r in refs]  # validate all before running any
    say(f"compiling model ({args.engine} engine)")
    sim = Simulator(args.engine, model_path=args.model)
    stocks = model_stocks(sim.model_path)
    needed = variables_needed(checks, stocks)
    known = set(sim.info.index)
    for name in needed:
        if name not in known:
            raise ModelError(f"{checks.source}: variable '{name}' is not a variable of the "
                             f"model {sim.model_path}")
    results = {}
    for i, sc in enumerate(scenarios, 1):
        say(f"[{i}/{len(scenarios)}] {sc.id}: simulating")
        results[sc.id] = sim.run(sc, return_columns=needed)
    summary = summarize(evaluate_all(checks, results, stocks))
    rows = []
    for r in summary.itertuples(index=False):
        if r.kind == "bounds":
            worst = f"{r.variable} = {_fmt(r.worst)} at {_fmt(r.time)}"
        else:
            worst = f"relative imbalance {_fmt(r.worst)} at {_fmt(r.time)}"
        if r.n_failed:
            worst += f" ({r.n_failed} of {r.n_variables} variables fail)"
        rows.append((r.check, r.scenario, bool(r.passed), worst))
    return rows


def run(args) -> int:
    say = Progress(args.quiet)
    model_path = Path(args.model or paths.MODEL_FILE)
    say(f"units check of {model_path}")
    rows, details = units_rows(model_path)
    if not args.units_only:
        rows += behaviour_rows(args, say)
    print("\n".join(format_lines(rows)))
    if details:
        print("\nunits findings:")
        print("\n".join("  " + d for d in details))
    failed = sum(not ok for _, _, ok, _ in rows)
    print(f"\n{len(rows) - failed} passed, {failed} failed")
    return 1 if failed else 0
