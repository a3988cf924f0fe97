"""What comes to the explorer from a browser, made safe: an uploaded file's name, work that
must not hold the server's event loop (parsing an upload), and every error shown on the page
as one line in the page's language, with no server path and no traceback.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from sim import paths
from sim.errors import PlanSimError, ScenarioError, cap
from sim.present.explorer.words import word
from sim.scenarios.loader import check_id

#: an absolute path in a message (a server path is shown by its last part only)
_PATH = re.compile(r"(?<![\w.~])(?:/|[A-Za-z]:\\)(?:[^\s/\\:'\"]+[/\\])*([^\s/\\:'\",;)]*)")
#: at most this many uploads are parsed at once (the rest wait; no thread per request)
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="plansim-upload")
_POOL_LOCK = threading.Lock()


class PageError(ScenarioError):
    """A refusal the page words itself (:data:`~sim.present.explorer.words.WORDS` key and its
    fields); ``str()`` is the English line."""

    def __init__(self, key: str, **fields: Any):
        self.key, self.fields = key, fields
        super().__init__(word(key, "en", **fields))


def upload_name(name: str | None) -> str:
    """The file name an upload is read under: a plain name ending ``.yaml``/``.yml`` whose
    stem can be a scenario id (:func:`sim.scenarios.loader.check_id`, including the length of
    every file name the id produces); else :class:`PageError`."""
    text = name or "upload.yaml"
    base = PureWindowsPath(PurePosixPath(text).name).name
    shown = cap(text, 60)
    if base != text or base in ("", ".", ".."):
        raise PageError("upload_path", name=shown)
    if len(base.encode("utf-8")) > paths.MAX_NAME_BYTES:
        raise PageError("upload_long", n=len(base.encode("utf-8")), most=paths.MAX_ID_BYTES)
    stem, dot, ext = base.rpartition(".")
    if not dot or ext.lower() not in ("yaml", "yml"):
        raise PageError("upload_ext", name=shown)
    try:
        check_id(stem, PurePosixPath(base))
    except ScenarioError:
        if len(stem.encode("utf-8")) > paths.MAX_ID_BYTES:
            raise PageError("upload_long", n=len(stem.encode("utf-8")),
                            most=paths.MAX_ID_BYTES) from None
        raise PageError("upload_id", name=shown) from None
    return base


def page_message(exc: BaseException, lang: str) -> str:
    """``exc`` as one line of the page in ``lang``: a :class:`PageError` in the page's words,
    a library error (:class:`PlanSimError`) as its message with every absolute path cut to
    its last part, anything else by its kind only."""
    if isinstance(exc, PageError):
        return word(exc.key, lang, **exc.fields)
    if isinstance(exc, PlanSimError):
        return cap(_PATH.sub(lambda m: m.group(1), str(exc)), 400)
    return word("unexpected", lang, kind=type(exc).__name__)


def off_loop(doc: Any, work: Callable[[], Any], done: Callable[[Any, BaseException | None],
                                                                None]) -> None:
    """Run ``work`` in a worker thread, then ``done(result, error)`` back on the server's
    event loop (``doc.add_next_tick_callback``), so a slow parse never holds other pages;
    without a server (a notebook, tests) both run at once."""
    def attempt() -> tuple[Any, BaseException | None]:
        try:
            return work(), None
        except Exception as exc:   # shown on the page as one line (page_message)
            return None, exc

    if doc is None or getattr(doc, "session_context", None) is None:
        done(*attempt())
        return

    def in_worker() -> None:
        result, error = attempt()
        doc.add_next_tick_callback(lambda: done(result, error))

    with _POOL_LOCK:
        _POOL.submit(in_worker)
