"""Benchmark: PySD, the batch engine's numpy path and its compiled kernel, side by side.

Usage: .venv/bin/python benchmarks/engine_vs_pysd.py [--model PATH] [--pysd-budget SECONDS]
       [--sizes 1,1000,10000] [--repeats N] [--memory-samples 100000]

Uses model/qingdao_st_plan.mdl when present (else a conformance model, with a message).
A few constants vary by sample (+-20% around their baseline, seeded); runs report calendar
rows and return five columns (the plan's indicators on the plan model). PySD is timed for as
many runs as fit in the budget and extrapolated linearly beyond that ("extrapolated").
Every engine time is the minimum over ``--repeats`` runs (the machine may be shared: the
minimum is the least disturbed run); the load average is printed with them, and the kernel's
CPU time (all threads, minimum of the repeats), the steadier figure on a busy machine (on two
free cores the 1,000-sample wall time is about half of it).
"ns/eq-step-sample" = time / (samples x integration steps x equations), the equations being
the model's auxiliaries, flows and stocks. Peak memory of ``--memory-samples`` samples is the
peak resident set size of a fresh process (resource.getrusage), results included.
Targets (issue 14): single run <= 0.5 ms in the engine, warm ``sim.run("plan")`` <= 2 ms,
1,000 samples <= 60 ms, 10,000 samples <= 1 ns/eq-step-sample, 100,000 samples < 1 GB.
Every line above runs in full (``PLANSIM_CHECKPOINTS=off``: a repeat of the same inputs would
otherwise resume from the end of the stored run); the lines "resumed from 2024" then time
kernel runs whose input (a series replacing the municipal S&T budget) differs from a stored
run's from 2024 on, each repeat with another value, in full and resumed from the stored
state at 2024 (sim.engine.checkpoints; the numbers are the same).
Ends with the line ``ratio at 1000 samples: X`` (kernel vs PySD).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

os.environ["PLANSIM_CHECKPOINTS"] = "off"   # full runs, but for the "resumed" lines
from sim import paths  # noqa: E402
from sim.engine import compile_model  # noqa: E402
from sim.model.equations.mdl import load_pysd_model  # noqa: E402

FALLBACK = Path("/work/shared/conformance/smooth_and_stock/test_smooth_and_stock.mdl")
ENGINES = ("numpy", "kernel")
MEMORY_SCRIPT = """
import resource, sys
sys.path.insert(0, sys.argv[1])
import numpy as np
from sim.engine import compile_model
bm = compile_model(sys.argv[2])
cols = sys.argv[5].split(",")
consts = [c.split("=") for c in sys.argv[6].split(",") if c]
n = int(sys.argv[3])
rng = np.random.default_rng(12345)
params = {k: float(v) * rng.uniform(0.8, 1.2, size=n) for k, v in consts}
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
ds = bm.run(params, n_samples=n, return_columns=cols, reporting="calendar",
            backend=sys.argv[4], chunk_size=int(sys.argv[7]) or None)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(before / 1024, peak / 1024, ds.nbytes / 2**20)
"""


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
        from sim.model.declarations.parameters import load_parameters

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


def _columns(bm) -> list[str]:
    if bm.path.resolve() == paths.MODEL_FILE.resolve():
        from sim.model.declarations.targets import load_targets

        return load_targets().indicators[:5]
    stocks = [n for n, i in bm.variables.items() if i.kind in ("stock", "aux")]
    return stocks[:5]


def _samples(consts, k, seed=12345):
    rng = np.random.default_rng(seed)
    return {name: base * rng.uniform(0.8, 1.2, size=k) for name, base in consts}


#: CPU seconds (all threads of this process) of the fastest-CPU repeat, by label
CPU: dict[str, float] = {}


def _best(fn, repeats: int, label: str | None = None) -> float:
    """Minimum wall time over ``repeats`` runs; with ``label``, also the minimum CPU time
    (process time, every thread) in :data:`CPU` (on a shared machine the CPU time is the
    steadier figure; on 2 free cores the kernel's wall time is about half of it)."""
    best, cpu = np.inf, np.inf
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        fn()
        best = min(best, time.perf_counter() - t)
        cpu = min(cpu, time.process_time() - c)
    if label is not None:
        CPU[label] = cpu
    return best


def _peak_rss(path, n, backend, cols, consts, chunk) -> tuple[float, float, float]:
    arg = ",".join(f"{k}={v!r}" for k, v in consts)
    out = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, str(ROOT), str(path), str(n),
                          backend, ",".join(cols), arg, str(chunk)],
                         capture_output=True, text=True, check=True)
    before, peak, result = (float(x) for x in out.stdout.split()[-3:])
    return before, peak, result


def _pysd_per_run(path, bm, consts, budget) -> tuple[float, int]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = load_pysd_model(path)
        model.run()
        per = _samples(consts, 1000)
        times = []
        start = time.perf_counter()
        i = 0
        while time.perf_counter() - start < budget and i < 1000:
            t = time.perf_counter()
            model.run(params={bm.variables[n].vensim_name: float(v[i]) for n, v in per.items()})
            times.append(time.perf_counter() - t)
            i += 1
    return float(np.min(times)), len(times)


def _warm_sim_run(repeats) -> dict[str, float]:
    """Warm ``sim.run("plan")`` end to end per engine (plan model only)."""
    import sim

    out = {}
    for engine in (*ENGINES, "pysd"):
        sim.run("plan", engine=engine)
        out[engine] = _best(lambda e=engine: sim.run("plan", engine=e),
                            repeats if engine != "pysd" else 2, f"warm {engine}")
    return out


#: the input the "resumed" lines change from PLAN_START on (plan model only)
RESUMED_INPUT, PLAN_START = "municipal_st_budget", 2024.0


def _resumed(bm, base, consts, sizes, kw, repeats) -> None:
    """Kernel runs whose series input differs from a stored run's from PLAN_START on: in
    full and resumed from the stored state (each repeat with another value)."""
    import pandas as pd

    grid = np.arange(bm.initial_time, bm.final_time + bm.time_step / 2, bm.time_step)
    vals = np.interp(grid, base.time.values, base[RESUMED_INPUT].values[0])

    def series(r):
        return pd.Series(np.where(grid >= PLAN_START, vals * (1 + 0.01 * r), vals), index=grid)

    for k in sizes:
        if k > 1000:
            continue
        p = _samples(consts, k)
        out = {}
        for mode in ("off", "on"):
            os.environ["PLANSIM_CHECKPOINTS"] = mode
            bm.run({**p, RESUMED_INPUT: series(0)}, k, backend="kernel", **kw)  # stored
            it = iter(range(1, 10 ** 6))
            out[mode] = _best(lambda p=p, k=k, it=it: bm.run(
                {**p, RESUMED_INPUT: series(next(it))}, k, backend="kernel", **kw),
                repeats * (10 if k == 1 else 1), f"{k} samples {mode} kernel")
        os.environ["PLANSIM_CHECKPOINTS"] = "off"
        label = f"{k} samples, changed from {PLAN_START:.0f}"
        print(f"{label + ' (ms)':34}{'full':>12}{out['off'] * 1e3:>14.3f}"
              f"   resumed from {PLAN_START:.0f} {out['on'] * 1e3:.3f}  (kernel; CPU "
              f"{CPU[f'{k} samples off kernel'] * 1e3:.3f} / "
              f"{CPU[f'{k} samples on kernel'] * 1e3:.3f})")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("--pysd-budget", type=float, default=20.0,
                    help="seconds of PySD runs to measure before extrapolating")
    ap.add_argument("--sizes", default="1,1000,10000")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--memory-samples", type=int, default=100_000)
    ap.add_argument("--chunk-size", type=int, default=2000,
                    help="numpy path's chunk of samples in the memory measurement")
    args = ap.parse_args(argv)
    path = _pick_model(args.model)
    sizes = [int(s) for s in args.sizes.split(",")]

    bm = compile_model(path)
    base = bm.run()
    consts = _varied_constants(bm, base)
    cols = _columns(bm)
    equations = sum(1 for i in bm.variables.values() if i.kind in ("aux", "stock", "data"))
    steps = int(round((bm.final_time - bm.initial_time) / bm.time_step)) + 1
    print(f"model: {path.name}  variables: {len(bm.variables)}  equations: {equations}  "
          f"integration steps: {steps} (TIME STEP {bm.time_step:g}, "
          f"{bm.initial_time:g}-{bm.final_time:g})")
    print(f"varied constants: {', '.join(n for n, _ in consts)}")
    print(f"columns returned: {', '.join(cols)}; calendar rows")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; times are the "
          f"minimum of {args.repeats} runs")
    kw = {"return_columns": cols, "reporting": "calendar"}
    t = time.perf_counter()
    bm.run(_samples(consts, 1), 1, backend="kernel", **kw)
    print(f"kernel ready in {time.perf_counter() - t:.1f} s (compiled, or loaded from the "
          "disk cache)")
    for k in (1, 64):
        for engine in ENGINES:
            bm.run(_samples(consts, k), k, backend=engine, **kw)  # compile both flavours

    pysd_run, measured = _pysd_per_run(path, bm, consts, args.pysd_budget)
    single = {e: _best(lambda e=e: bm.run(_samples(consts, 1), 1, backend=e, **kw),
                       args.repeats * 10, f"single {e}") for e in ENGINES}
    print(f"\n{'':34}{'PySD':>12}{'numpy path':>14}{'kernel':>12}")
    print(f"{'single run in the engine (ms)':34}{pysd_run * 1e3:>12.2f}"
          f"{single['numpy'] * 1e3:>14.3f}{single['kernel'] * 1e3:>12.3f}")
    if path.resolve() == paths.MODEL_FILE.resolve():
        warm = _warm_sim_run(args.repeats * 10)
        label = 'warm sim.run("plan") (ms)'
        print(f"{label:34}{warm['pysd'] * 1e3:>12.1f}"
              f"{warm['numpy'] * 1e3:>14.3f}{warm['kernel'] * 1e3:>12.3f}")
    ratio_1000 = None
    for k in sizes:
        params = _samples(consts, k)
        eng = {e: _best(lambda e=e, p=params, k=k: bm.run(p, k, backend=e, **kw),
                        args.repeats if k <= 1000 else max(2, args.repeats // 2),
                        f"{k} samples {e}")
               for e in ENGINES}
        pysd_total = pysd_run * k
        note = "" if k <= measured else " (PySD extrapolated)"
        print(f"{f'{k} samples (ms)':34}{pysd_total * 1e3:>12.0f}{eng['numpy'] * 1e3:>14.1f}"
              f"{eng['kernel'] * 1e3:>12.1f}{note}")
        ns = {e: eng[e] / (k * steps * equations) * 1e9 for e in ENGINES}
        print(f"{f'  ns/eq-step-sample at {k}':34}"
              f"{pysd_run / (steps * equations) * 1e9:>12.1f}"
              f"{ns['numpy']:>14.2f}{ns['kernel']:>12.2f}")
        if k == 1000:
            ratio_1000 = pysd_total / eng["kernel"]
    cpu = ", ".join(f"{label} {CPU[label] * 1e3:.3f}" for label in CPU if label.endswith("kernel"))
    print(f"kernel CPU time (ms, all threads, min of repeats): {cpu}")
    if RESUMED_INPUT in bm.variables:
        _resumed(bm, base, consts, sizes, kw, args.repeats)
    if args.memory_samples:
        n = args.memory_samples
        for engine, chunk in (("numpy", args.chunk_size), ("kernel", 0)):
            before, peak, result = _peak_rss(path, n, engine, cols, consts, chunk)
            what = f"chunks of {chunk}" if chunk else "no chunks needed"
            print(f"peak RSS {n} samples, {engine} ({what}): {peak:.0f} MiB "
                  f"(process before the run {before:.0f} MiB, result {result:.0f} MiB)")
    if ratio_1000 is not None:
        print(f"ratio at 1000 samples: {ratio_1000:.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
