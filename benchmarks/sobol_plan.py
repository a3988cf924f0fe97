"""Benchmark: a full Sobol analysis of the plan scenario on the batch engine, versus PySD.

First, the command as a user runs it: ``plansim sensitivity plan --method sobol --samples N``
(default N = 1024), first order and with ``--second-order``, each in a fresh process: wall
time, the child's CPU time and its peak memory (maximum resident set), the minimum over
``--repeats`` runs (the machine may be shared: the minimum is the least disturbed run; the CPU
time varies less than the wall time). Targets: under 20 s (first order) and 40 s (second
order), under 1 GB. ``--skip-command`` leaves this out.

Then, in this process, samples every uncertain assumption of scenarios/uncertainty.yaml with a Saltelli design
(N = 1024 by default, second-order indices: N * (2D + 2) runs), runs them through the batch
engine in chunks, computes S1/ST/S2 for the five 2028 indicators, and prints the wall time.
PySD is timed on a few runs of the same design; its time for the whole design is extrapolated
from that per-run time, and the ratio is printed.

    .venv/bin/python benchmarks/sobol_plan.py [--n 1024] [--repeats 2] [--skip-command]
        [--first-order-only] [--skip-engine] [--pysd-runs 3] [--no-second-order]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def run_command(n: int, second_order: bool, seed: int, out: Path) -> tuple[float, float, float]:
    """``plansim sensitivity plan --method sobol`` in a fresh process: (wall s, CPU s, peak
    resident MB of the command and of its chart worker, the larger)."""
    cmd = [sys.executable, "-m", "sim", "sensitivity", "plan", "--method", "sobol",
           "--samples", str(n), "--seed", str(seed), "-q", "--out", str(out)]
    if second_order:
        cmd.append("--second-order")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode() if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def command_figures(n: int, repeats: int, seed: int, orders: tuple[bool, ...] = (False, True)
                    ) -> None:
    out = Path(tempfile.mkdtemp(prefix="plansim-sobol-bench-"))
    try:
        run_command(8, False, seed, out)   # fill the compiled-model cache (not timed)
        for second in orders:
            runs = [run_command(n, second, seed, out) for _ in range(repeats)]
            label = "--second-order" if second else "first order"
            target = 40 if second else 20
            print(f"plansim sensitivity plan --method sobol --samples {n} ({label}): "
                  f"wall {min(r[0] for r in runs):.1f} s (min of {repeats}; target {target} s), "
                  f"CPU {min(r[1] for r in runs):.1f} s, "
                  f"peak memory {min(r[2] for r in runs):,.0f} MB (target 1,024 MB)")
    finally:
        shutil.rmtree(out, ignore_errors=True)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"(load average {load} on {os.cpu_count()} CPUs: minima over repeats; wall times "
          "are inflated when other work shares the machine)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="plan")
    ap.add_argument("--n", type=int, default=1024, help="Saltelli base N (power of two)")
    ap.add_argument("--no-second-order", action="store_true")
    ap.add_argument("--pysd-runs", type=int, default=3, help="PySD runs to time (0: skip)")
    ap.add_argument("--chunk-size", type=int, default=4096)
    ap.add_argument("--seed", type=int, default=20240101)
    ap.add_argument("--repeats", type=int, default=2, help="runs of the command per figure")
    ap.add_argument("--skip-command", action="store_true",
                    help="do not time the plansim sensitivity command")
    ap.add_argument("--first-order-only", action="store_true",
                    help="time the command without --second-order only")
    ap.add_argument("--skip-engine", action="store_true",
                    help="do not time the in-process Saltelli run and PySD")
    args = ap.parse_args(argv)
    if not args.skip_command:
        command_figures(args.n, args.repeats, args.seed,
                        (False,) if args.first_order_only else (False, True))
    if args.skip_engine:
        return 0

    import numpy as np

    from sim.analysis import sensitivity
    from sim.analysis.ensembles import ensemble, sampling
    from sim.analysis.ensembles.uncertainty_spec import load_uncertainty
    from sim.model.declarations.targets import load_targets
    from sim.scenarios import load_scenario
    from sim.simulate import Simulator

    scenario = load_scenario(args.scenario)
    targets = load_targets()
    t0 = time.perf_counter()
    sim = Simulator("batch")
    spec = load_uncertainty(parameters=sim.parameters)
    sim.batch  # compile  # noqa: B018
    t_compile = time.perf_counter() - t0
    second = not args.no_second_order
    design = sampling.saltelli(spec, args.n, second_order=second, seed=args.seed)
    cols = list(targets.indicators)
    print(f"{spec.dim} uncertain assumptions; Saltelli N={args.n}, second order={second}: "
          f"{design.n} runs; model compiled in {t_compile:.1f} s")

    evaluate = ensemble.ScenarioEvaluator(scenario, return_columns=cols)
    evaluate._cache[("batch",)] = sim
    t0 = time.perf_counter()
    ds = ensemble.run_ensemble(evaluate, design, chunk_size=args.chunk_size, progress=True)
    t_run = time.perf_counter() - t0
    t0 = time.perf_counter()
    outputs = sensitivity.outputs_at_year(ds, targets)
    long, _second = sensitivity.analyse_outputs(design, outputs, method="sobol",
                                                num_resamples=100, seed=args.seed)
    t_analyse = time.perf_counter() - t0
    per_run = t_run / design.n
    print(f"batch engine: {t_run:.1f} s for {design.n} runs ({per_run * 1e3:.3f} ms/run); "
          f"SALib analysis {t_analyse:.1f} s; total {t_run + t_analyse:.1f} s")
    top = (long.reset_index().sort_values("ST", ascending=False)
           .groupby("output").head(3)[["output", "parameter", "S1", "ST", "ST_conf"]])
    print(top.to_string(index=False))

    if args.pysd_runs > 0:
        pysd_sim = Simulator("pysd")
        pysd_sim.pysd  # load  # noqa: B018
        times, worst = [], 0.0
        for i in range(args.pysd_runs):
            ov = {k: float(v[i]) for k, v in design.overrides().items()}
            t0 = time.perf_counter()
            one = pysd_sim.run(scenario, assumptions=ov, return_columns=cols)
            times.append(time.perf_counter() - t0)
            for c in cols:  # the two engines must agree on the same run
                a = float(one[c].sel(time=targets.year).squeeze())
                b = float(ds[c].isel(sample=i).sel(time=targets.year))
                worst = max(worst, abs(a - b) / max(abs(a), 1e-12))
        pysd_per_run = float(np.median(times))
        pysd_total = pysd_per_run * design.n
        print(f"PySD: median {pysd_per_run:.3f} s/run over {len(times)} runs -> "
              f"{pysd_total / 3600:.2f} h extrapolated for {design.n} runs")
        print(f"speed-up of the batch engine (runs only): {pysd_total / t_run:.0f}x; "
              f"largest relative difference batch vs PySD in {targets.year}: {worst:.2e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
