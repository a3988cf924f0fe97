"""The explorer's page factory (:mod:`sim.present.explorer.spare`): every page gets an app of
its own, never one handed out before, with the next one built ahead; a spare that fails to
build is reported and the page builds its own. Threads are synchronised on events, never by
sleeping. (The served pages in a real browser: tests/test_explorer_browser.py.)"""

from __future__ import annotations

import itertools
import logging
import threading

import pytest

from sim.present.explorer.spare import Spare

WAIT = 60   # seconds a test waits on an event before it fails (never reached when it passes)


class Builds:
    """Numbered fake apps (``.layout`` as a Panel page has), counting who built them."""

    def __init__(self):
        self.count = itertools.count(1)
        self.made: list[tuple[str, int]] = []

    def make(self, by: str):
        n = next(self.count)
        self.made.append((by, n))
        return type("App", (), {"n": n, "layout": f"layout {n}"})()


def at_once(work) -> None:
    """``start`` that builds the spare in the calling thread (deterministic tests)."""
    work()


def in_thread(work) -> threading.Thread:
    t = threading.Thread(target=work, daemon=True)
    t.start()
    return t


def test_each_request_gets_a_new_app_and_the_next_is_built_ahead():
    b = Builds()
    first = b.make("first")
    pages = Spare(lambda: b.make("request"), ahead=lambda: b.make("ahead"), first=first,
                  start=at_once)
    assert pages.ready and not pages.building
    given = []
    for _ in range(4):
        given.append(pages.take())
        assert not pages.ready            # handed out: never handed out again
        pages.refill()
        assert pages.ready                # the next page's app is waiting
        pages.refill()                    # one spare at a time
    assert given[0] is first
    assert len({id(a) for a in given}) == len(given) == 4
    assert [by for by, _ in b.made] == ["first", "ahead", "ahead", "ahead", "ahead"]
    assert pages.take().n == 5            # the spare built after the last request


def test_without_a_spare_the_request_builds_its_own():
    b = Builds()
    pages = Spare(lambda: b.make("request"), ahead=lambda: b.make("ahead"), start=at_once)
    assert pages.take().n == 1 and b.made == [("request", 1)]
    pages.refill()
    assert pages.take().n == 2 and b.made[-1] == ("ahead", 2)


def test_a_failing_spare_is_logged_and_the_next_page_builds_its_own(caplog):
    b = Builds()
    fails = iter([True, False])

    def ahead():
        if next(fails):
            raise RuntimeError("no spare today")
        return b.make("ahead")

    pages = Spare(lambda: b.make("request"), ahead=ahead, first=b.make("first"),
                  start=at_once)
    pages.take()
    with caplog.at_level(logging.ERROR, logger="sim.present.explorer"):
        pages.refill()                    # fails: reported, not raised, not retried at once
    record, = [r for r in caplog.records if r.name == "sim.present.explorer"]
    assert record.levelno == logging.ERROR and "no spare today" in record.getMessage()
    assert record.exc_info[0] is RuntimeError            # with its traceback
    assert not pages.ready and not pages.building
    assert pages.take().n == 2 and b.made[-1] == ("request", 2)   # no page lost
    pages.refill()                        # the next attempt succeeds
    assert pages.take().n == 3 and b.made[-1] == ("ahead", 3)


def test_a_spare_built_before_its_files_changed_is_dropped():
    """An edited scenario shows on the next page, as when every page was built on request."""
    b = Builds()
    files = {"plan.yaml": 1}
    pages = Spare(lambda: b.make("request"), ahead=lambda: b.make("ahead"),
                  first=b.make("first"), start=at_once, stamp=lambda: files["plan.yaml"])
    files["plan.yaml"] = 2                # edited after the first page was built
    assert pages.take().n == 2 and b.made[-1] == ("request", 2)
    pages.refill()
    assert pages.take().n == 3 and b.made[-1] == ("ahead", 3)    # unchanged since: served
    pages.refill()
    files["plan.yaml"] = 3
    assert pages.take().n == 5 and b.made[-2:] == [("ahead", 4), ("request", 5)]
    assert not pages.ready                # the stale one is gone, never handed out


def test_the_stamp_follows_the_files_a_page_reads(tmp_path):
    from sim.present.explorer.server import inputs_stamp

    start = tmp_path / "mine.yaml"
    start.write_text("extends: plan.yaml\n", encoding="utf-8")
    before = inputs_stamp(start)
    assert inputs_stamp(start) == before and inputs_stamp("plan") != before
    start.write_text("extends: baseline.yaml\n", encoding="utf-8")   # edited: size differs
    edited = inputs_stamp(start)
    assert edited != before
    (tmp_path / "base.yaml").write_text("levers: {}\n", encoding="utf-8")   # one it may extend
    assert inputs_stamp(start) != edited


def test_no_thread_to_build_in_is_reported_and_the_page_is_still_served():
    b = Builds()
    told = []

    def no_thread(_work):
        raise RuntimeError("can't start new thread")

    pages = Spare(lambda: b.make("request"), first=b.make("first"), start=no_thread,
                  report=told.append)
    assert pages.take().n == 1
    pages.refill()
    assert [str(e) for e in told] == ["can't start new thread"]
    assert not pages.building and pages.take().n == 2


def test_concurrent_requests_while_the_spare_is_built_each_get_their_own():
    """Two pages asked for while the spare is still being built: one gets the spare (waiting
    for it, or after it is done), the other builds its own; none gets an app twice."""
    b = Builds()
    release, started = threading.Event(), threading.Event()

    def ahead():
        started.set()
        assert release.wait(WAIT)
        return b.make("ahead")

    builder: list[threading.Thread] = []
    pages = Spare(lambda: b.make("request"), ahead=ahead,
                  start=lambda work: builder.append(in_thread(work)))
    pages.refill()
    assert started.wait(WAIT) and pages.building
    got: list = []
    takers = [threading.Thread(target=lambda: got.append(pages.take())) for _ in range(2)]
    for t in takers:
        t.start()
    release.set()
    for t in [*takers, *builder]:
        t.join(WAIT)
        assert not t.is_alive()
    assert sorted(a.n for a in got) == [1, 2]
    assert sorted(by for by, _ in b.made) == ["ahead", "request"]
    assert not pages.ready and not pages.building


def test_the_page_function_hands_out_new_apps_and_starts_the_next():
    """Outside a server ``pn.state.onload`` runs at once: the spare follows each page."""
    pytest.importorskip("panel")
    from sim.present.explorer.server import page_of

    b = Builds()
    pages = Spare(lambda: b.make("request"), ahead=lambda: b.make("ahead"),
                  first=b.make("first"), start=at_once)
    page = page_of(pages)
    assert [page() for _ in range(3)] == ["layout 1", "layout 2", "layout 3"]
    assert pages.ready and [by for by, _ in b.made] == ["first", "ahead", "ahead", "ahead"]


def test_a_page_built_ahead_sees_a_document_of_its_own():
    """Panel falls back to Bokeh's ``curdoc()``, one for the whole process: while the event
    loop serves a page (Bokeh patches ``curdoc()`` to its document), a worker thread sees that
    page's document; :func:`build_ahead` pins a new empty one, for its thread only."""
    pytest.importorskip("panel")
    import panel as pn
    from bokeh.document import Document
    from bokeh.io import curdoc
    from bokeh.io.doc import patch_curdoc

    from sim.present.explorer.server import build_ahead

    def seen_in_thread(work):
        out = {}
        t = threading.Thread(target=lambda: out.update(doc=work()))
        t.start()
        t.join(WAIT)
        return out["doc"]

    served = Document()
    with patch_curdoc(served):
        assert seen_in_thread(curdoc) is served                       # the hazard
        pinned = seen_in_thread(build_ahead(lambda: pn.state.curdoc))
        other = seen_in_thread(build_ahead(lambda: pn.state.curdoc))
    assert isinstance(pinned, Document) and pinned.session_context is None
    assert pinned is not served and other is not pinned             # one per build
    assert pn.state.curdoc is None                                   # this thread untouched


def test_an_app_built_ahead_in_a_thread_is_the_page_the_first_is(simulator):
    pytest.importorskip("panel")
    from bokeh.document import Document

    from sim.present.explorer.server import build_ahead, build_app, make_app

    first = make_app("plan", simulator=simulator)
    out = {}
    t = threading.Thread(target=lambda: out.update(app=build_ahead(
        lambda: build_app("plan", simulator=simulator))()))
    t.start()
    t.join(WAIT)
    spare = out["app"]
    assert spare is not first and spare.s is not first.s
    kinds = []
    for app in (first, spare):
        doc = Document()
        app.layout.server_doc(doc)
        kinds.append(sorted(type(m).__name__ for m in doc.models))
    assert kinds[0] == kinds[1]
    assert spare.table.object == first.table.object
