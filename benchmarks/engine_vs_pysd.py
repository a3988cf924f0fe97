"""Benchmark: PySD running K parameter sets one after another vs the batch engine at once.

Usage: .venv/bin/python benchmarks/engine_vs_pysd.py [--model PATH] [--pysd-budget SECONDS]
       [--reporting instant|calendar]

Uses model/qingdao_st_plan.mdl when present (else a conformance model, with a message).
A few constants vary by sample (+-20% around their baseline, seeded). PySD is timed for as many
runs as fit in the budget and extrapolated linearly beyond that (marked "extrapolated").
Peak memory of the engine run is measured with tracemalloc (numpy allocations included); the
result Dataset itself ("result MiB") is part of the peak and grows linearly with K, the
working memory on top of it is bounded by ``--chunk-size``.
Ends with the line ``ratio at 1000 samples: X``.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim import paths  # noqa: E402
from sim.engine import compile_model  # noqa: E402
from sim.model.mdl import load_pysd_model  # noqa: E402

FALLBACK = Path("/work/shared/conformance/smooth_and_stock/test_smooth_and_stock.mdl")


def _pick_model(arg):
    if arg:
        return Path(arg)
    plan = ROOT / "model" / "qingdao_st_plan.mdl"
    if plan.is_file():
        return plan
    print(f"model/qingdao_st_plan.mdl not found; using conformance model {FALLBACK}")
    return FALLBACK


def _varied_constants(bm, ds, n_const=3):
    """Unsubscripted non-zero constants; on the plan model, its declared uncertain assumptions
    (never a unit conversion or a control)."""
    names = []
    allowed = None
    if bm.path.resolve() == paths.MODEL_FILE.resolve():
        from sim.model.parameters import load_parameters

        allowed = {a.py_name for a in load_parameters().assumptions.values()}
    for name, info in bm.variables.items():
        if allowed is not None and name not in allowed:
            continue
        if info.kind == "constant" and not info.subscripts:
            base = float(ds[name].values[0, 0])
            if base != 0 and np.isfinite(base):
                names.append((name, base))
        if len(names) == n_const:
            break
    return names


def _samples(consts, k, seed=12345):
    rng = np.random.default_rng(seed)
    return {name: base * rng.uniform(0.8, 1.2, size=k) for name, base in consts}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("--pysd-budget", type=float, default=20.0,
                    help="seconds of PySD runs to measure before extrapolating")
    ap.add_argument("--sizes", default="1,100,1000,10000")
    ap.add_argument("--chunk-size", type=int, default=2000)
    ap.add_argument("--reporting", choices=("instant", "calendar"), default="calendar",
                    help="engine reporting mode (calendar: yearly rows, rates averaged over the "
                         "year inside the time loop; instant: values at the saved instants)")
    args = ap.parse_args(argv)
    path = _pick_model(args.model)
    sizes = [int(s) for s in args.sizes.split(",")]

    bm = compile_model(path)
    base = bm.run()
    consts = _varied_constants(bm, base)
    print(f"model: {path.name}  variables: {len(bm.variables)}  "
          f"TIME STEP {bm.time_step}  {bm.initial_time:g}-{bm.final_time:g}")
    print(f"varied constants: {', '.join(n for n, _ in consts)}")
    print(f"engine reporting mode: {args.reporting}")
    rmode = {"reporting": args.reporting}

    # --- single run (scalar fast path)
    bm.run(return_columns=["time_step"], **rmode)
    reps = 50
    t = time.perf_counter()
    for _ in range(reps):
        bm.run(**rmode)
    single_all = (time.perf_counter() - t) / reps
    first_stock = next((n for n, i in bm.variables.items() if i.kind == "stock"), None)
    cols = [first_stock] if first_stock else None
    t = time.perf_counter()
    for _ in range(reps):
        bm.run(return_columns=cols, **rmode)
    single_one = (time.perf_counter() - t) / reps
    print(f"engine single run: {single_one * 1e3:.2f} ms (one column), "
          f"{single_all * 1e3:.2f} ms (all {len(base.data_vars)} columns as a Dataset)")

    # --- PySD per-run time
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = load_pysd_model(path)
        model.run()
        per = _samples(consts, 1000)
        times = []
        start = time.perf_counter()
        i = 0
        while time.perf_counter() - start < args.pysd_budget and i < 1000:
            t = time.perf_counter()
            model.run(params={bm.variables[n].vensim_name: float(v[i]) for n, v in per.items()})
            times.append(time.perf_counter() - t)
            i += 1
    pysd_per_run = float(np.median(times))
    print(f"PySD: {len(times)} runs measured, median {pysd_per_run * 1e3:.1f} ms per run")

    print(f"{'K':>7} {'PySD total s':>14} {'engine s':>10} {'engine ms/run':>14} "
          f"{'ratio':>9} {'result MiB':>11} {'peak MiB':>9} {'peak chunked':>13}  note")
    ratio_1000 = None
    for warm in (1, 2):  # compile the scalar and vector flavours once, outside the timings
        bm.run(_samples(consts, warm), n_samples=warm, **rmode)
    for k in sizes:
        params = _samples(consts, k)
        pysd_total = pysd_per_run * k
        note = "measured" if k <= len(times) else "PySD extrapolated"
        t = time.perf_counter()
        ds = bm.run(params, n_samples=k, **rmode)
        eng = time.perf_counter() - t  # timed without tracemalloc, which slows allocation
        result = ds.nbytes / 2**20
        del ds
        tracemalloc.start()
        bm.run(params, n_samples=k, **rmode)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        tracemalloc.start()
        bm.run(params, n_samples=k, chunk_size=args.chunk_size, **rmode)
        peak_chunk = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        ratio = pysd_total / eng
        if k == 1000:
            ratio_1000 = ratio
        print(f"{k:>7} {pysd_total:>14.2f} {eng:>10.3f} {eng / k * 1e3:>14.4f} "
              f"{ratio:>9.0f} {result:>11.1f} {peak:>9.1f} {peak_chunk:>13.1f}  {note}")
    if ratio_1000 is not None:
        print(f"ratio at 1000 samples: {ratio_1000:.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
