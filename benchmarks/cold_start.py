"""Benchmark: how soon a command starts simulating, and how fast ``plansim --help`` answers.

Prints, in one run (each figure the minimum over ``--repeats`` runs: the machine may be shared,
and the minimum is the least disturbed run):

- ``plansim --help`` wall time (``python -m sim --help`` in a fresh process);
- time from launch to the first simulation step of ``plansim run plan``, with a cold cache
  (a new, empty ``$XDG_CACHE_HOME``: the ``.mdl`` parsed and compiled) and a warm one (the
  compiled model read from ``sim.engine.cache``). "Launch" is the moment the parent starts the
  child process; "first step" is the batch engine about to enter its time loop (its first
  ``run``: the baseline trajectories of the levers). The child's CPU time is printed too: it
  varies less than the wall time when other work shares the machine;
- the whole ``plansim run plan`` (as a user runs it), cold and warm side by side: time to its
  first results (the first result table on the console) and to the command's end. With a
  cold cache the kernel is compiled by a background process while the command runs on the
  numpy path; the benchmark waits for that process before the warm run (its time is shown).

    .venv/bin/python benchmarks/cold_start.py [--repeats 3]
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

#: the child: run `plansim run plan` and report the wall clock when the time loop is entered
PROBE = """
import os, sys, time
import sim.engine.batch as batch

def first_step(*args, **kwargs):   # the engine's run() calls time_grid right before its loop
    print(f"FIRST_STEP {time.time():.6f} {time.process_time():.6f}", flush=True)
    os._exit(0)

batch.time_grid = first_step
from sim.cli.main import main
main(["run", "plan", "-q", "--out", sys.argv[1]])
print("NO_STEP", flush=True)
"""


def _env(cache: Path) -> dict[str, str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "PYTHONPATH": str(ROOT)}
    env.pop("PLANSIM_CACHE", None)
    return env


def time_to_first_step(cache: Path, out: Path) -> tuple[float, float]:
    start = time.time()
    res = subprocess.run([sys.executable, "-c", PROBE, str(out)], capture_output=True,
                         text=True, env=_env(cache), cwd=ROOT, timeout=600)
    line = next((ln for ln in res.stdout.splitlines() if ln.startswith("FIRST_STEP")), None)
    if line is None:
        raise SystemExit(f"the probe did not reach a simulation step:\n{res.stdout}{res.stderr}")
    return float(line.split()[1]) - start, float(line.split()[2])


def full_run(cache: Path, out: Path) -> tuple[float, float]:
    """Seconds from launch to the first result line (``<title> -> <folder>``) and to the end
    of ``plansim run plan``."""
    start = time.time()
    proc = subprocess.Popen([sys.executable, "-m", "sim", "run", "plan", "-q", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=_env(cache), cwd=ROOT)
    first = None
    for line in proc.stdout:
        if first is None and " -> " in line:
            first = time.time() - start
    if proc.wait(timeout=600) != 0:
        raise SystemExit("plansim run plan failed")
    end = time.time() - start
    return (first if first is not None else end), end


def wait_for_background(cache: Path) -> float:
    """Seconds until the background kernel compile of a cold run has finished."""
    start = time.time()
    kernels = cache / "plansim" / "kernels"
    while list(kernels.glob("job-*.pkl")) and time.time() - start < 600:
        time.sleep(0.2)
    return time.time() - start


def help_time(cache: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "sim", "--help"], capture_output=True,
                   env=_env(cache), cwd=ROOT, check=True, timeout=120)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3, help="runs per figure (minimum shown)")
    ap.add_argument("--skip-full", action="store_true", help="no whole `run plan` timings")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="plansim-cold-start-"))
    try:
        helps = [help_time(work / "help-cache") for _ in range(max(args.repeats, 5))]
        cold, warm = [], []
        for r in range(args.repeats):
            cache = work / f"cache-{r}"          # empty: parse and compile
            cold.append(time_to_first_step(cache, work / "out"))
            warm.append(time_to_first_step(cache, work / "out"))   # the same cache, now full
        full = {"cold": [], "warm": []}
        background = []
        for r in range(0 if args.skip_full else args.repeats):
            cache = work / f"full-cache-{r}"
            full["cold"].append(full_run(cache, work / "out"))
            background.append(wait_for_background(cache))
            full["warm"].append(full_run(cache, work / "out"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    n = f"min of {args.repeats}"
    print(f"load average now: {', '.join(f'{x:.1f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} CPUs (figures are minima over repeats: the machine may be shared)")
    print(f"plansim --help: {min(helps):.2f} s (min of {len(helps)}; target 0.5 s)")
    for what, runs in (("cold", cold), ("warm", warm)):
        walls = [w for w, _ in runs]
        print(f"launch to first simulation step, {what} cache: {min(walls):.2f} s wall ({n}; "
              f"all: {', '.join(f'{x:.2f}' for x in walls)}), child CPU "
              f"{min(c for _, c in runs):.2f} s" + ("; target 1.5 s" if what == "warm" else ""))
    if full["cold"]:
        print("plansim run plan, whole command (min over repeats; cold: empty cache):")
        print("  cache  first results  command end")
        for what in ("cold", "warm"):
            firsts, ends = zip(*full[what], strict=True)
            print(f"  {what:5}  {min(firsts):11.2f} s  {min(ends):9.2f} s")
        print(f"  background kernel compile still running after the cold command: "
              f"{min(background):.2f} s more")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
