"""One page built ahead: the explorer's page factory.

A Bokeh server builds a page (:class:`~sim.present.explorer.app.Explorer`: some 640 Panel
objects and five Bokeh figures) when a browser asks for it, on its event loop, before the
browser can draw anything. :class:`Spare` keeps one built ahead, in a worker thread: a request
takes the ready one (or waits for the one being built, sooner than starting another), never
one handed out before; :meth:`Spare.refill` starts the next (the server calls it once the page
is shown: :func:`sim.present.explorer.server.page_of`). A spare that fails to build is
reported and the next request builds its own, as without a spare: no page is lost. A spare
made before the files it reads changed is dropped (``stamp``), so an edited scenario shows on
the next page, as when every page was built on request.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")

LOG = logging.getLogger("sim.present.explorer")


def log_failure(exc: BaseException) -> None:
    """A spare that could not be built, told as the Bokeh server tells its own errors (an
    error line with the traceback on the server's log)."""
    LOG.error("building the next page ahead failed: %r (the next page is built when it is "
              "asked for)", exc, exc_info=exc)


def in_thread(work: Callable[[], None]) -> None:
    """Run ``work`` in a daemon thread (the default way :class:`Spare` builds ahead)."""
    threading.Thread(target=work, daemon=True, name="plansim-spare-page").start()


class Spare(Generic[T]):
    """Hands out a new object per request with one built ahead.

    ``build()`` makes one in the requesting thread (when no spare is ready or coming);
    ``ahead()`` (default ``build``) makes the spare, run by ``start`` (default a daemon
    thread); ``report(exc)`` tells a failed spare (default :func:`log_failure`); ``first``,
    already built, is the first one handed out. ``stamp()`` is taken before each spare is
    built and again when it is asked for: a spare whose stamp changed is dropped (what it was
    built from changed) and the request builds its own.
    """

    def __init__(self, build: Callable[[], T], *, ahead: Callable[[], T] | None = None,
                 first: T | None = None,
                 start: Callable[[Callable[[], None]], None] = in_thread,
                 report: Callable[[BaseException], None] = log_failure,
                 stamp: Callable[[], Hashable] = lambda: None):
        self._build, self._ahead = build, ahead or build
        self._start, self._report, self._stamp = start, report, stamp
        self._changed = threading.Condition()
        self._ready: list[tuple[T, Hashable]] = [] if first is None else [(first, stamp())]
        self._building = False

    @property
    def ready(self) -> bool:
        """A spare is built and not yet handed out."""
        with self._changed:
            return bool(self._ready)

    @property
    def building(self) -> bool:
        """A spare is being built."""
        with self._changed:
            return self._building

    def take(self) -> T:
        """A new object, never one handed out before: the spare, else the one being built
        (waited for), else one built here (its error is the caller's), also when the spare's
        stamp changed. The next spare is started by :meth:`refill`."""
        with self._changed:
            while not self._ready and self._building:
                self._changed.wait()
            spare = self._ready.pop() if self._ready else None
        if spare is not None and spare[1] == self._stamp():
            return spare[0]
        return self._build()

    def refill(self) -> None:
        """Start building a spare unless one is ready or being built."""
        with self._changed:
            if self._ready or self._building:
                return
            self._building = True
        try:
            self._start(self._make_spare)
        except Exception as exc:   # no thread to build in: the next request builds its own
            self._done(None)
            self._report(exc)

    def _make_spare(self) -> None:
        made = None
        try:
            stamp = self._stamp()
            made = (self._ahead(), stamp)
        except Exception as exc:   # reported; the next request builds its own
            self._report(exc)
        finally:
            self._done(made)

    def _done(self, made: tuple[T, Hashable] | None) -> None:
        with self._changed:
            self._building = False
            if made is not None:
                self._ready.append(made)
            self._changed.notify_all()
