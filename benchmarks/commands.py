"""Wall time of the commands users wait for, each run as a user runs it (a fresh process).

    python benchmarks/commands.py [--repeats 2] [--only run,uncertainty,...]

Prints, per command, the minimum and the median wall time of the repeats (seconds) and the
least CPU time (user + system of the command and its worker processes; steadier than wall time
on a busy machine) next to
the goal of issue 11 or 22 where it sets one: ``plansim run`` (baseline and plan, all charts)
under 8 s, ``plansim uncertainty plan baseline --samples 2000`` under 8 s, ``plansim --help``
under 0.5 s, the briefing under 5 s, ``what-it-takes`` and ``diagram`` under 10 s; the
comparison for reference. The briefing and ``what-it-takes`` read back what they computed for
the same question before (the results cache); ``brief-fresh`` and ``what-it-takes-fresh`` are
the same commands with that cache off, as for a question asked the first time. Every command writes into a fresh
temporary folder, never into the project. The first repeat of each command warms the disk
caches (the parsed model, the compiled kernel) the way a user's second command finds them;
timings on a shared machine vary, so the minimum is the figure to quote.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: name -> (arguments after ``plansim``, goal in seconds or None)
COMMANDS = {
    "help": (["--help"], 0.5),
    "run": (["run", "baseline", "plan", "-q"], 8.0),
    "run-svg": (["run", "baseline", "plan", "--formats", "png,svg", "-q"], None),
    "compare": (["compare", "plan", "baseline", "-q"], None),
    "uncertainty": (["uncertainty", "plan", "baseline", "--samples", "2000", "-q"], 8.0),
    "brief": (["brief", "plan", "--against", "baseline", "-q"], 5.0),   # issue 22, item 9
    "what-it-takes": (["what-it-takes", "plan", "-q"], 10.0),   # issue 22, item 9
    "diagram": (["diagram", "-q"], 10.0),
    # the same two questions asked for the first time: nothing read back from the results
    # cache (sim.model.cache.results), every run, ensemble and search done again
    "brief-fresh": (["brief", "plan", "--against", "baseline", "-q"], None),
    "what-it-takes-fresh": (["what-it-takes", "plan", "-q"], None),
}
#: commands run with these environment variables
FRESH = {"PLANSIM_RESULTS_CACHE": "off"}
ENV = {"brief-fresh": FRESH, "what-it-takes-fresh": FRESH}


def _cpu() -> float:
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def _time(args: list[str], out: Path | None, env: dict[str, str] | None = None
          ) -> tuple[float, float]:
    """Wall time and CPU time (user + system, the command and its worker processes)."""
    cmd = [sys.executable, "-m", "sim", *args, *(["--out", str(out)] if out else [])]
    c0, t0 = _cpu(), time.perf_counter()
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                       env={**os.environ, "MPLBACKEND": "Agg", **(env or {})})
    dt, cpu = time.perf_counter() - t0, _cpu() - c0
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({r.returncode}): {r.stderr.strip()[-400:]}")
    return dt, cpu


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--only", default=",".join(COMMANDS),
                   help=f"comma-separated subset of {', '.join(COMMANDS)}")
    args = p.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in COMMANDS]
    if unknown:
        p.error(f"--only: {unknown} not among {list(COMMANDS)}")
    print(f"{'command':<70} {'min s':>7} {'median s':>9} {'cpu s':>7} {'goal s':>7}  ok")
    for name in names:
        cmd, goal = COMMANDS[name]
        times, cpus = [], []
        for _ in range(max(1, args.repeats)):
            with tempfile.TemporaryDirectory(prefix="plansim-bench-") as tmp:
                dt, cpu = _time(cmd, None if name == "help" else Path(tmp), ENV.get(name))
            times.append(dt)
            cpus.append(cpu)
        best, med = min(times), statistics.median(times)
        verdict = "" if goal is None else ("yes" if best <= goal else "no")
        text = ("PLANSIM_RESULTS_CACHE=off " if name in ENV else "") + "plansim " + " ".join(cmd)
        print(f"{text:<70} {best:7.2f} {med:9.2f} {min(cpus):7.2f} "
              f"{goal if goal else '':>7}  {verdict}")
    print(f"(cores: {os.cpu_count()}; load average at the end: "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
