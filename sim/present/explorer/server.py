"""Serving the explorer: a Bokeh server (through Panel) on 127.0.0.1 (another address only
with explicit browser origins, never a wildcard, and a warning), its JavaScript and the
CJK font served by the same server (no outside resource), one :class:`Explorer` per browser
tab on one shared compiled model and one shared conditioned ensemble, the next tab's built
ahead (:mod:`sim.present.explorer.spare`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim import paths
from sim.errors import PlanSimError, excerpt
from sim.present.explorer.spare import Spare

FONT_ROUTE = "plansim-fonts"


def make_app(start: str | Path = "plan", *, lang: str = "zh", simulator: Any = None,
             samples: int | None = None, seed: int | None = None):
    """An :class:`~sim.present.explorer.app.Explorer` for ``start`` (a scenario id or file);
    display ``.layout`` in a notebook."""
    # lazy: pulls xarray, yaml (376 ms); breaks the cycle server <-> app
    import panel as pn

    from sim.present.labels import check_lang

    check_lang(lang)
    pn.extension(design="native")
    return build_app(start, lang=lang, simulator=simulator, samples=samples, seed=seed)


def build_app(start: str | Path = "plan", *, lang: str = "zh", simulator: Any = None,
              samples: int | None = None, seed: int | None = None):
    """:func:`make_app` without loading Panel's extension (which :func:`make_app` did once)."""
    # lazy: pulls panel, xarray (the page's modules); breaks the cycle server <-> app
    from sim.present.explorer.app import Explorer
    from sim.present.explorer.session import Session

    if simulator is None:
        # lazy: pulls xarray (309 ms)
        from sim.analysis.ensembles.ensemble import shared_simulator

        simulator = shared_simulator()
    return Explorer(Session(simulator, start, samples=samples, seed=seed), lang)


def page_of(pages: Spare) -> Callable[[], Any]:
    """The server's page function: each request gets an app of its own from ``pages``; the
    next is started once this page is shown (``pn.state.onload``; at once outside a server),
    not while it is being served: both are Python work under one interpreter lock, and a
    spare built beside the page being served slowed that page about as much as it gained."""
    import panel as pn

    def page():
        app = pages.take()
        pn.state.onload(pages.refill)
        return app.layout

    return page


def build_ahead(build: Callable[[], Any]) -> Callable[[], Any]:
    """``build`` to run in a worker thread, on a document of its own. Widgets read per-page
    settings of the current document while they are made, and ``pn.io.hold`` holds it;
    Panel falls back to Bokeh's ``curdoc()``, one for the whole process, which names the
    page the event loop is serving at that moment, so a page built beside it would read and
    hold that page's document from the wrong thread. Pinned (``pn.state.curdoc``, a context
    variable: this thread only) to a new empty document, it is made as the first page is,
    outside any page."""
    def ahead():
        import panel as pn
        from bokeh.document import Document

        pn.state.curdoc = Document()
        return build()

    return ahead


def inputs_stamp(start: str | Path) -> frozenset:
    """What a new page reads from disk, as (file, modification time, size) of every file in
    ``model/``, ``model/data/``, ``scenarios/`` and the folder of a start file: a page built
    ahead is served only while this is unchanged (:class:`~.spare.Spare`)."""
    folders = {paths.MODEL_DIR, paths.HISTORY_FILE.parent, paths.SCENARIO_DIR}
    if Path(start).suffix.lower() in (".yaml", ".yml"):
        folders.add(Path(start).resolve().parent)
    seen = set()
    for folder in folders:
        try:
            files = list(os.scandir(folder))
        except OSError:
            continue
        for f in files:
            try:
                st = f.stat()
            except OSError:   # removed meanwhile
                continue
            seen.add((f.path, st.st_mtime_ns, st.st_size))
    return frozenset(seen)


#: host names that reach this machine only
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def is_loopback(host: str) -> bool:
    """``host`` reaches this machine only (127.0.0.0/8, ``::1``, ``localhost``)."""
    import ipaddress

    if host.strip("[]").lower() in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def origin_of(url: str) -> str:
    """``host:port`` of a browser origin given as ``http(s)://host[:port]``; a wildcard or
    anything else is refused (:class:`~sim.errors.PlanSimError`, one line)."""
    from urllib.parse import urlsplit

    text = url.strip()
    if "*" in text:
        raise PlanSimError(f"--allow-origin {excerpt(text, 80)}: a wildcard lets any web page "
                           "drive the explorer; allowed: one origin per URL, such as "
                           "http://203.0.113.5:5006")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        parts, port = None, None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or \
            parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise PlanSimError(f"--allow-origin {excerpt(text, 80)}: not an origin; allowed: "
                           "http(s)://HOST[:PORT], such as http://203.0.113.5:5006")
    if ":" in parts.hostname:   # Bokeh's origin list takes host:port only
        raise PlanSimError(f"--allow-origin {excerpt(text, 80)}: an IPv6 address is not "
                           "accepted here; allowed: a host name or an IPv4 address")
    return f"{parts.hostname}:{port or (443 if parts.scheme == 'https' else 80)}"


def origins(host: str, port: int, allow: tuple[str, ...] | list[str] = ()) -> list[str]:
    """Browser origins the server accepts (never a wildcard): this machine's names and the
    ``allow`` list (URLs, :func:`origin_of`). Listening on an address other people can reach
    (``host`` not loopback) needs an explicit ``allow`` list."""
    allowed = [origin_of(u) for u in allow]
    if not is_loopback(host) and not allowed:
        raise PlanSimError(f"--host {host}: listening beyond this machine needs the browser "
                           "origins that may use the page: add --allow-origin "
                           f"http://<address people type>:{port} (no wildcard)")
    local = [f"127.0.0.1:{port}", f"localhost:{port}"]
    if is_loopback(host) and ":" not in host and host not in LOOPBACK:
        local.append(f"{host}:{port}")
    return list(dict.fromkeys([*local, *allowed]))


def remote_warning(host: str, port: int, allow) -> str | None:
    """The warning printed when the page is served beyond this machine (None on loopback)."""
    if is_loopback(host):
        return None
    return (f"warning: serving on {host}:{port}, reachable from the network: anyone who can "
            f"reach it, through pages at {', '.join(origin_of(u) for u in allow)}, can move "
            "the levers, run the model on this machine (its CPU and memory), upload scenario "
            "files (which may extend only files of scenarios/) and download the settings; "
            "there is no password")


def serve(start: str | Path = "plan", *, lang: str = "zh", host: str = "127.0.0.1",
          port: int = 5006, show: bool = True, samples: int | None = None,
          seed: int | None = None, say: Callable[[str], None] = print,
          allow_origins: tuple[str, ...] | list[str] = ()) -> None:
    """Serve the explorer until interrupted. The start scenario is checked, the model compiled
    and the first page built before the server listens; each later page is built ahead, in a
    worker thread, once the one before is shown (:class:`~.spare.Spare`, :func:`page_of`);
    the ensemble is conditioned in the background. A ``host`` other than loopback needs
    ``allow_origins`` (:func:`origins`)."""
    accepted = origins(host, port, allow_origins)   # refused before any work
    warning = remote_warning(host, port, allow_origins)
    if warning:
        say(warning)
    # lazy: pulls xarray, matplotlib, yaml (462 ms); breaks the cycle server <-> app
    import panel as pn

    from sim.analysis.ensembles.ensemble import shared_simulator
    from sim.present.explorer.app import CSS, font_face
    from sim.present.figures.fonts import cjk_font_path

    font = cjk_font_path()
    pn.config.raw_css = [*pn.config.raw_css, font_face(f"{FONT_ROUTE}/{font.name}"), CSS]
    say("compiling the model and running the references")
    simulator = shared_simulator()
    first = make_app(start, lang=lang, simulator=simulator, samples=samples, seed=seed)

    def warm() -> None:   # the ensemble, ready before anyone switches the band on
        first.s.ensemble()

    threading.Thread(target=warm, daemon=True, name="plansim-ensemble").start()

    def build():
        return make_app(start, lang=lang, simulator=simulator, samples=samples, seed=seed)

    # every page gets an app of its own, built ahead of the request (spare.Spare)
    pages = Spare(build, ahead=build_ahead(lambda: build_app(
        start, lang=lang, simulator=simulator, samples=samples, seed=seed)), first=first,
        stamp=lambda: inputs_stamp(start))
    server = pn.serve({"/": page_of(pages)}, address=host, port=port, show=False, start=False,
                      title="plansim explore", static_dirs={FONT_ROUTE: str(font.parent)},
                      websocket_origin=accepted, threaded=False)
    url = f"http://{host}:{port}/"
    say(f"serving at {url} (Ctrl-C stops)")
    if show:
        import webbrowser

        server.io_loop.add_callback(webbrowser.open, url)
    server.start()
    server.io_loop.start()
