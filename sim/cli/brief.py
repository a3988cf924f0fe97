"""``plansim brief``: the meeting briefing, one self-contained HTML page and its PDF per
language.

Writes, atomically, ``DIR/brief/brief_<lang>.html`` and (when WeasyPrint is installed)
``brief_<lang>.pdf`` for each language of ``--lang`` (``zh``, ``en`` or ``zh,en``: one
simulation, one render per language); the other language's files already in ``DIR/brief/``
are kept. Contents in :mod:`sim.present.documents.brief` and :mod:`sim.present.documents.brief_page`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.cli.common import Progress, add_common, add_ensemble, check_distinct
from sim.model.declarations.words import LANGS


# lazy (command module): the parser imports every command, so its imports sit in functions
def languages(text: str) -> list[str]:
    """``zh``, ``en`` or a comma-separated list of them, each once."""
    langs = [x.strip() for x in str(text).split(",") if x.strip()]
    bad = [x for x in langs if x not in LANGS]
    if not langs or bad or len(set(langs)) != len(langs):
        raise argparse.ArgumentTypeError(
            f"{text!r}: allowed: {', '.join(LANGS)} or both, comma-separated (zh,en), each once")
    return langs


def add_parser(sub) -> None:
    p = sub.add_parser(
        "brief", help="meeting briefing: one HTML page (and PDF) per language",
        description="Run the scenarios (central run and posterior ensemble, as "
                    "plansim uncertainty) and write DIR/brief/brief_<lang>.html: a headline "
                    "and findings (targets met, P(met) with N and standard error, cost, "
                    "change against the reference); what each scenario assumes (every lever "
                    "it changes, by year); targets with central value, P(met), year reached "
                    "and change; fiscal cost and result per 亿元; the indicator chart; the "
                    "attribution to lever groups (money included); the most influential "
                    "assumptions; caveats, data sources and file versions. With WeasyPrint "
                    "installed, also brief_<lang>.pdf. The other language's files in "
                    "DIR/brief/ are kept.")
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO",
                   help="scenario files or ids in scenarios/ (e.g. plan, or mine.yaml)")
    p.add_argument("--against", default=None, metavar="REF",
                   help="reference scenario for the changes, the extra money and the "
                        "attribution: any scenario (e.g. baseline, or plan: `brief mine "
                        "--against plan` compares the two directly)")
    add_ensemble(p)   # default: the canonical ensemble, as every ensemble command
    add_common(p, charts=False, lang=False)
    p.add_argument("--lang", type=languages, default=[LANGS[0]], metavar="LANG",
                   help=f"language(s) of the page: zh, en or zh,en (default: {LANGS[0]})")
    p.set_defaults(func=run)


def run(args) -> int:
    from sim.present.documents.brief import compute_brief
    from sim.present.documents.printer import Printer
    from sim.present.output.outdir import claim, owned_dir
    from sim.scenarios import load_scenario

    say = Progress(args.quiet)
    langs = list(args.lang)
    scenarios = [load_scenario(r) for r in args.scenarios]
    reference = load_scenario(args.against) if args.against else None
    check_distinct(scenarios + ([reference] if reference is not None else []))
    claim(args.out, "brief", ["brief"])  # check --out before any work
    with Printer() as printer:   # a second process draws and prints beside this one
        brief = compute_brief(scenarios, reference, samples=args.samples, seed=args.seed,
                              engine=args.engine, say=say)
        pages = printer.pages(brief, langs, say)
    final = Path(args.out) / "brief"
    with owned_dir(final, langs=langs) as tmp:
        for lang, (page, pdf) in pages.items():
            (tmp / f"brief_{lang}.html").write_text(page, encoding="utf-8")
            if pdf is not None:
                (tmp / f"brief_{lang}.pdf").write_bytes(pdf)
    if any(pdf is None for _page, pdf in pages.values()):
        print("WeasyPrint is not installed (or its Pango library is missing): HTML only")
    print(f"-> {final}")
    say("done")
    return 0
