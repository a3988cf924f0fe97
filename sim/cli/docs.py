"""``plansim docs``: recompute the generated blocks of README.md, model/README.md and
model/README.zh.md.

Every number the documents show sits in a block marked ``<!-- generated: NAME -->`` ...
``<!-- /generated -->`` and is recomputed here by the library (see
:mod:`sim.present.documents.doc_blocks`). ``--check`` changes nothing and exits 1 listing the stale
blocks (a test runs it, so the documents cannot drift from the model).
"""

from __future__ import annotations

from pathlib import Path

from sim import paths
from sim.cli.common import Progress

STALE_EXIT = 1


# lazy (command module): the parser imports every command, so its imports sit in functions
def add_parser(sub) -> None:
    p = sub.add_parser(
        "docs", help="regenerate the numbers in README.md, model/README.md and model/README.zh.md",
        description="Recompute every generated block (<!-- generated: NAME --> ... "
                    "<!-- /generated -->) of the documents and rewrite them atomically. With "
                    "--check, write nothing and exit 1 if a block is stale, listing it.")
    p.add_argument("documents", nargs="*", type=Path, metavar="FILE",
                   help="Markdown files (default: README.md, model/README.md and "
                        "model/README.zh.md)")
    p.add_argument("--check", action="store_true",
                   help="only check: exit 1 and list the stale blocks")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    p.set_defaults(func=run)


def run(args) -> int:
    from sim.present.documents.doc_blocks import generators
    from sim.present.documents.doc_context import DocContext
    from sim.present.documents.docs import update_documents

    say = Progress(args.quiet)
    files = args.documents or list(paths.DOCUMENTS)
    stale = update_documents(files, generators(DocContext(say=say)), check=args.check, say=say)
    for s in stale:
        verb = "is stale" if args.check else "rewritten"
        print(f"{s.path}:{s.line}: block '{s.name}' {verb}")
    if args.check and stale:
        print(f"{len(stale)} stale block(s); run `plansim docs` to regenerate them")
        return STALE_EXIT
    if not stale:
        print("every generated block is current")
    say("done")
    return 0
