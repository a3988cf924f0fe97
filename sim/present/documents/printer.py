"""Drawing and printing the briefing on two cores: a second process prints while this one draws.

``plansim brief`` spends most of its time, once its runs are computed (or read back from the
cache, :mod:`sim.model.cache.results`), in matplotlib and WeasyPrint. :class:`Printer` forks one
worker process as the command starts. While the main process loads the scenarios and computes
the brief, the worker imports matplotlib; it draws the attribution waterfalls while the main
process draws the indicator chart, and imports WeasyPrint (and loads its fonts) while the main
process lays out the pages; then it prints each language's PDF (with two languages the main
process prints the last one itself, beside the worker). The page is the
same page, drawn by the same functions (:mod:`sim.present.documents.brief_page`), as one
process draws it; only the main process writes files. Where ``fork`` does not exist or is
not safe (another thread runs), or the machine has one core, everything is done in the main
process, in order (a spawned worker would import everything again: about the time it saves).
"""

from __future__ import annotations

import multiprocessing
import warnings
from dataclasses import replace
from typing import Any

from sim.present.documents import brief_page as bp
from sim.present.output.render import default_workers, start_method


def _quiet_signals() -> None:
    """In the worker: SIGTERM ends it without a word (the main process's handlers, inherited
    by the fork, would raise in it); SIGINT is left to the main process (it ends the worker)."""
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _warm_charts() -> None:
    """Import what the drawing needs (matplotlib, the waterfalls' module)."""
    # lazy: pulls matplotlib (308 ms)
    import sim.present.reports.sensitivity_report  # noqa: F401


def _warm_printing() -> bool:
    """Import WeasyPrint and lay out one line of text (loads fontconfig and Pango once);
    whether it can print (the main process need not import it to know)."""
    if not bp.pdf_available():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from weasyprint import HTML
    HTML(string="<p>x</p>").render()
    return True


def _waterfalls(brief: Any, langs: list[str]) -> dict[str, dict[str, str]]:
    """The SVG text of each scenario's attribution waterfall, per language."""
    return {lang: {f"waterfall:{sid}": bp.svg(bp.waterfall_figure(brief, sid, lang))
                   for sid in brief.attributions} for lang in langs}


def _light(brief: Any) -> Any:
    """What the waterfalls need of ``brief`` (not the ensembles: tens of MB to copy)."""
    return replace(brief, runs={}, uncertainty={})


def _pdf(page: str) -> bytes:
    return bp.pdf_bytes(page)


def can_fork() -> bool:
    """Whether a worker can be forked safely (:func:`sim.present.output.render.start_method`:
    Linux, no other thread, Numba's thread pool not started) and has a core of its own."""
    return default_workers() >= 1 and start_method() == "fork"


class Printer:
    """The worker that draws the waterfalls and prints the PDFs (see the module's text); use
    it as a context manager (the worker ends with it)."""

    def __init__(self, fork: bool | None = None) -> None:
        """``fork``: start the worker (True), do everything here (False), or (None) start it
        when :func:`can_fork`."""
        self.pool = None
        if fork is None:
            fork = can_fork()
        if fork and "fork" in multiprocessing.get_all_start_methods():
            with warnings.catch_warnings():   # Python 3.12 warns on fork with threads
                warnings.simplefilter("ignore", DeprecationWarning)
                ctx = multiprocessing.get_context("fork")
                self.pool = ctx.Pool(1, initializer=_quiet_signals)
            self.pool.apply_async(_warm_charts)   # the worker's jobs run in this order

    def __enter__(self) -> Printer:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        if self.pool is not None:
            if kind is None:   # done: the idle worker ends
                self.pool.close()
            else:
                self.pool.terminate()
            self.pool.join()

    def pages(self, brief: Any, langs: list[str], say: Any = lambda _m: None
              ) -> dict[str, tuple[str, bytes | None]]:
        """``{lang: (page, PDF bytes or None without WeasyPrint)}`` of ``brief``."""
        pool = self.pool
        drawn = (pool.apply_async(_waterfalls, (_light(brief), langs))
                 if pool is not None and brief.attributions else None)
        ready = pool.apply_async(_warm_printing) if pool is not None else None
        figures = {lang: {"chart": bp.svg(bp.chart_figure(brief, lang))} for lang in langs}
        if drawn is not None:
            for lang, more in drawn.get().items():
                figures[lang].update(more)
        pages = {}
        for lang in langs:
            say(f"page ({lang})")
            pages[lang] = bp.render_html(brief, lang, figures[lang])
        pdf = ready.get() if ready is not None else bp.pdf_available()
        printing: dict[str, Any] = {}
        for i, lang in enumerate(langs):
            if not pdf:
                break
            say(f"printing the PDF ({lang})")
            here = pool is None or (len(langs) > 1 and i == len(langs) - 1)
            printing[lang] = (bp.pdf_bytes(pages[lang]) if here
                              else pool.apply_async(_pdf, (pages[lang],)))
        return {lang: (page, _result(printing.get(lang))) for lang, page in pages.items()}


def _result(job: Any) -> bytes | None:
    if job is None or isinstance(job, bytes):
        return job
    return job.get()
