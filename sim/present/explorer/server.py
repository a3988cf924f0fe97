"""Serving the explorer: a Bokeh server (through Panel) on 127.0.0.1 (another address only
with explicit browser origins, never a wildcard, and a warning), its JavaScript and the
CJK font served by the same server (no outside resource), one :class:`Explorer` per browser
tab on one shared compiled model and one shared conditioned ensemble.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim.errors import PlanSimError, excerpt

FONT_ROUTE = "plansim-fonts"


def make_app(start: str | Path = "plan", *, lang: str = "zh", simulator: Any = None,
             samples: int | None = None, seed: int | None = None):
    """An :class:`~sim.present.explorer.app.Explorer` for ``start`` (a scenario id or file);
    display ``.layout`` in a notebook."""
    # lazy: pulls xarray, yaml (376 ms); breaks the cycle server <-> app
    import panel as pn

    from sim.present.explorer.app import Explorer
    from sim.present.explorer.session import Session
    from sim.present.labels import check_lang

    check_lang(lang)
    pn.extension(design="native")
    if simulator is None:
        # lazy: pulls xarray (309 ms)
        from sim.analysis.ensembles.ensemble import shared_simulator

        simulator = shared_simulator()
    session = Session(simulator, start, samples=samples, seed=seed)
    return Explorer(session, lang)


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
    and the first page built before the server listens; the ensemble is conditioned in the
    background. A ``host`` other than loopback needs ``allow_origins`` (:func:`origins`)."""
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
    apps = [first]

    def page():
        app = apps.pop() if apps else make_app(start, lang=lang, simulator=simulator,
                                               samples=samples, seed=seed)
        return app.layout

    server = pn.serve({"/": page}, address=host, port=port, show=False, start=False,
                      title="plansim explore", static_dirs={FONT_ROUTE: str(font.parent)},
                      websocket_origin=accepted, threaded=False)
    url = f"http://{host}:{port}/"
    say(f"serving at {url} (Ctrl-C stops)")
    if show:
        import webbrowser

        server.io_loop.add_callback(webbrowser.open, url)
    server.start()
    server.io_loop.start()
