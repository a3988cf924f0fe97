"""Server-side latency of ``plansim explore``: from a slider release to the page's models
updated (re-run, target table, fiscal cost, the five figures), without and with the
uncertainty band (history-matched ensemble).

    python benchmarks/explorer_latency.py [--repeats 15] [--samples N] [--checkpoints off]

Prints the median and the slowest of the repeats in ms: a single run (bound 150 ms) and the
band on with the ensemble (bound 300 ms). The page is built on a Bokeh Document as a server
session builds it, so every change goes through the same Bokeh models; the browser's own
drawing is not included. The ensemble is conditioned once before timing (as the server does
in the background at start). A move changes the lever from its year on, so its runs resume
from the state the previous full run stored there (sim.engine.checkpoints, as the page does);
``--checkpoints off`` times every run in full (the same numbers).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

#: CPU time of each move (ms, every thread of this process): steadier than wall time on a
#: shared machine (wall time there includes waiting for a core)
CPU_MS: list[float] = []
BOUNDS_MS = {"single": 150.0, "band": 300.0}   # band: issue 22, item 9


def _time_moves(app, lever: str, year: int, values: list[float]) -> list[float]:
    from param import edit_constant

    out = []
    for v in values:
        slider = app.sliders[(lever, year)]
        t0, c0 = time.perf_counter(), time.process_time()
        slider.value = v
        with edit_constant(slider):
            slider.value_throttled = v      # what the browser sends on release
        out.append((time.perf_counter() - t0) * 1000.0)
        CPU_MS.append((time.process_time() - c0) * 1000.0)
        if app.message.object and "error" in app.message.object:
            raise SystemExit(f"the run failed: {app.message.object}")
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--samples", type=int, default=None,
                   help="posterior draws (default: the canonical ensemble's N, as the page)")
    p.add_argument("--scenario", default="plan")
    p.add_argument("--checkpoints", choices=("on", "off"), default="on",
                   help="resume runs from stored states (sim.engine.checkpoints), as the page")
    args = p.parse_args()
    os.environ["PLANSIM_CHECKPOINTS"] = args.checkpoints

    from bokeh.document import Document

    from sim.present.explorer.server import make_app

    t0 = time.perf_counter()
    app = make_app(args.scenario, samples=args.samples)
    app.layout.get_root(Document())
    print(f"page built in {time.perf_counter() - t0:.1f} s (model compiled, references run)")
    lever, year = "fiscal_budget", app.s.years[2]
    base = app.s.values[lever][year]
    values = [round(base + 0.1 * (i + 1), 1) for i in range(args.repeats + 2)]
    single = _time_moves(app, lever, year, values)[2:]        # two warm-up moves
    cpu = {"single": statistics.median(CPU_MS[2:])}
    t0 = time.perf_counter()
    app.s.ensemble()
    print(f"ensemble conditioned in {time.perf_counter() - t0:.1f} s "
          f"({app.s.samples} samples kept)")
    app.band_switch.value = True
    band = _time_moves(app, lever, year, [v + 5 for v in values[: max(3, args.repeats // 3)]])
    band = band[1:]
    cpu["band"] = statistics.median(CPU_MS[len(values) + 1:])
    rows = {"single": single, "band": band}
    print(f"\n{'case':<8} {'runs':>5} {'median ms':>10} {'max ms':>8} {'cpu ms':>7} "
          f"{'bound ms':>9}")
    ok = True
    for name, ms in rows.items():
        med = statistics.median(ms)
        ok &= med < BOUNDS_MS[name]
        print(f"{name:<8} {len(ms):>5} {med:>10.0f} {max(ms):>8.0f} {cpu[name]:>7.0f} "
              f"{BOUNDS_MS[name]:>9.0f}")
    label = f"{app.s.samples}-sample ensemble"
    print(f"\nsingle = one re-run and redraw; band = the same with the {label}")
    print("within the bounds" if ok else "OVER A BOUND")
    print(f"(cores: {os.cpu_count()}; load average at the end: "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())})")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
