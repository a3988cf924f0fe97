"""The live explorer (``plansim explore``): move a lever in the browser and see the
indicators, their targets, the fiscal cost and the odds at once.

- :mod:`.session`: the state (base scenario, slider values, the scenario document they make)
  and the runs (central run, conditioned ensemble), all through the library;
- :mod:`.figures`: the Bokeh figures, updated in place;
- :mod:`.app`: the Panel page and its callbacks;
- :mod:`.server`: serving it on 127.0.0.1 with its JavaScript and CJK font from the same server;
- :mod:`.words`: the page's fixed words in Chinese and English.

In a notebook: ``make_app("plan").layout`` shows the same page inline.
"""

from sim.present.explorer.server import make_app, serve

__all__ = ["make_app", "serve"]
