"""``plansim brief``: the meeting briefing, one self-contained HTML page and its PDF.

Writes, atomically, ``DIR/brief/brief_<lang>.html`` and (when WeasyPrint is installed)
``brief_<lang>.pdf``; contents in :mod:`sim.present.brief`.
"""

from __future__ import annotations

from pathlib import Path

from sim.cli.common import Progress, add_common, add_ensemble, check_distinct


def add_parser(sub) -> None:
    p = sub.add_parser(
        "brief", help="meeting briefing: one HTML page (and PDF) per language",
        description="Run the scenarios (central run and posterior ensemble, as "
                    "plansim uncertainty) and write DIR/brief/brief_<lang>.html: targets with "
                    "central value, P(met), year reached and change against the reference; "
                    "fiscal cost and result per 亿元; the indicator chart; the most "
                    "influential assumptions; caveats, data sources and file versions. With "
                    "WeasyPrint installed, also brief_<lang>.pdf.")
    from sim.analysis.sampling import DEFAULT_SEED
    from sim.present.brief import DEFAULT_SAMPLES

    p.add_argument("scenarios", nargs="+", metavar="SCENARIO",
                   help="scenario files or ids in scenarios/ (e.g. plan)")
    p.add_argument("--against", default=None, metavar="REF",
                   help="reference scenario for the changes and the extra money "
                        "(e.g. baseline)")
    add_ensemble(p, DEFAULT_SAMPLES, DEFAULT_SEED)
    add_common(p, charts=False)
    p.set_defaults(func=run)


def run(args) -> int:
    from sim.present.brief import compute_brief, pdf_available, render_html, write_pdf
    from sim.present.outdir import claim, owned_dir
    from sim.scenarios import load_scenario

    say = Progress(args.quiet)
    scenarios = [load_scenario(r) for r in args.scenarios]
    reference = load_scenario(args.against) if args.against else None
    check_distinct(scenarios + ([reference] if reference is not None else []))
    claim(args.out, "brief", ["brief"])  # check --out before any work
    brief = compute_brief(scenarios, reference, samples=args.samples, seed=args.seed,
                          engine=args.engine, say=say)
    final = Path(args.out) / "brief"
    pdf = pdf_available()
    with owned_dir(final) as tmp:
        page = render_html(brief, args.lang)
        (tmp / f"brief_{args.lang}.html").write_text(page, encoding="utf-8")
        if pdf:
            say("printing the PDF")
            write_pdf(page, tmp / f"brief_{args.lang}.pdf")
    if not pdf:
        print("WeasyPrint is not installed (or its Pango library is missing): HTML only")
    print(f"-> {final}")
    say("done")
    return 0
