"""``--formats``: the files every chart of a command is written as, one flag for every command
that writes charts (added by :func:`sim.cli.common.add_common`)."""

from __future__ import annotations


# lazy (command module): every command imports this for its parser; imports sit in functions
def add_formats(parser) -> None:
    """``--formats``: the files every chart of the command is written as (``args.formats``, a
    tuple for the ``formats=`` keyword of the report writers); PNG unless asked."""
    from sim.present.output.atomic import DEFAULT_FORMATS, FIGURE_FORMATS

    parser.add_argument("--formats", type=figure_formats, default=DEFAULT_FORMATS,
                        metavar="LIST",
                        help=f"chart files, comma-separated, of {', '.join(FIGURE_FORMATS)} "
                             f"(default: {','.join(DEFAULT_FORMATS)}; e.g. png,svg to also get "
                             "charts to edit, png,pdf for print)")


def figure_formats(text: str) -> tuple[str, ...]:
    """argparse type of ``--formats``: ``png,svg`` -> ``("png", "svg")``, each once."""
    import argparse

    from sim.present.output.atomic import FIGURE_FORMATS

    given = [f.strip().lower() for f in text.split(",") if f.strip()]
    bad = [f for f in given if f not in FIGURE_FORMATS]
    if bad or not given:
        raise argparse.ArgumentTypeError(
            f"{text[:40]!r}; allowed: one or more of {', '.join(FIGURE_FORMATS)}, "
            "comma-separated (e.g. png,svg)")
    return tuple(dict.fromkeys(given))
