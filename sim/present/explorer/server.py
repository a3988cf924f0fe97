"""Serving the explorer: a Bokeh server (through Panel) on 127.0.0.1, its JavaScript and the
CJK font served by the same server (no outside resource), one :class:`Explorer` per browser
tab on one shared compiled model and one shared conditioned ensemble.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

FONT_ROUTE = "plansim-fonts"
#: history-matched samples behind the band and P(met)
DEFAULT_SAMPLES = 300


def make_app(start: str | Path = "plan", *, lang: str = "zh", simulator: Any = None,
             samples: int | None = None, seed: int | None = None):
    """An :class:`~sim.present.explorer.app.Explorer` for ``start`` (a scenario id or file);
    display ``.layout`` in a notebook."""
    import panel as pn

    from sim.present.explorer.app import Explorer
    from sim.present.explorer.session import Session
    from sim.present.labels import check_lang

    check_lang(lang)
    pn.extension(design="native")
    if simulator is None:
        from sim.analysis.ensemble import shared_simulator

        simulator = shared_simulator()
    session = Session(simulator, start, samples=samples or DEFAULT_SAMPLES, seed=seed)
    return Explorer(session, lang)


def origins(host: str, port: int) -> list[str]:
    """Browser origins the server accepts: this machine's names, or with ``--host`` that
    address (any origin when listening on every address)."""
    if host in ("0.0.0.0", "::"):
        return ["*"]
    local = [f"127.0.0.1:{port}", f"localhost:{port}"]
    return local if host in ("127.0.0.1", "localhost") else [f"{host}:{port}"]


def serve(start: str | Path = "plan", *, lang: str = "zh", host: str = "127.0.0.1",
          port: int = 5006, show: bool = True, samples: int | None = None,
          seed: int | None = None, say: Callable[[str], None] = print) -> None:
    """Serve the explorer until interrupted. The start scenario is checked, the model compiled
    and the first page built before the server listens; the ensemble is conditioned in the
    background."""
    import panel as pn

    from sim.analysis.ensemble import shared_simulator
    from sim.present.explorer.app import CSS, font_face
    from sim.present.fonts import cjk_font_path

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
                      websocket_origin=origins(host, port), threaded=False)
    url = f"http://{host}:{port}/"
    say(f"serving at {url} (Ctrl-C stops)")
    if show:
        import webbrowser

        server.io_loop.add_callback(webbrowser.open, url)
    server.start()
    server.io_loop.start()
