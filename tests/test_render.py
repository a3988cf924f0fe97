"""Figures rendered in worker processes (sim.present.render): the same bytes as in the
command's process, a job's error raised once and clearly, a dead worker named, nothing
written of a result whose figure failed."""

from __future__ import annotations

import os
import time

import pytest
from matplotlib.figure import Figure

from sim.errors import OutputError
from sim.present.outdir import owned_dir
from sim.present.render import FigureJob, FigurePool, render, start_method, write_renderings


def small_figure(title: str) -> Figure:
    from sim.present.chartutil import new_figure
    from sim.present.layout import fit_margins

    fig, axes = new_figure(1, 2, figsize=(4, 2.5), layout=None)
    for ax in axes.ravel():
        ax.plot([2020, 2025, 2030], [1, 3, 2])
        ax.set_title(title)
    fit_margins(fig, axes, fig.suptitle("技术经纪人"))
    return fig


def failing_figure(title: str) -> Figure:
    raise OutputError(f"figure {title!r}: no data")


def dying_figure(title: str) -> Figure:
    os._exit(3)


def _jobs(n: int, formats=("png", "svg")) -> list[FigureJob]:
    return [FigureJob(f"f{i}", small_figure, (f"panel {i}",), {}, formats) for i in range(n)]


def test_worker_bytes_equal_local_bytes():
    jobs = _jobs(4)
    with FigurePool(1) as pool:
        assert pool.method in ("fork", "spawn")
        got = [r.get() for r in pool.submit_all(jobs)]
    assert got == [render(job) for job in jobs]
    assert all(set(g) == {"png", "svg"} for g in got)


def test_no_worker_renders_here():
    pool = FigurePool(0)
    assert pool.method is None
    r = pool.submit(_jobs(1, ("png",))[0])
    assert r.get()["png"][:8] == b"\x89PNG\r\n\x1a\n"
    assert r.get() is r.get()   # rendered once
    pool.close()


def test_error_in_a_worker_leaves_no_result(tmp_path):
    jobs = [*_jobs(2), FigureJob("bad", failing_figure, ("x",))]
    final = tmp_path / "plan"
    with FigurePool(1) as pool:
        renderings = pool.submit_all(jobs)
        with pytest.raises(OutputError, match="figure 'x': no data"), \
                owned_dir(final) as tmp:
            (tmp / "timeseries.csv").write_text("rows")
            write_renderings(renderings, tmp, lambda m: None)
    assert not final.exists()
    assert [p.name for p in tmp_path.iterdir()] == []   # no temporary folder left


def test_a_dead_worker_is_one_clear_error():
    with FigurePool(1) as pool:
        r = pool.submit(FigureJob("sector-fiscal", dying_figure, ("x",)))
        for _ in range(3000):   # until the worker has it (get() would render it here)
            if r.future.running() or r.future.done():
                break
            time.sleep(0.01)
        else:
            pytest.fail("no worker took the job")
        with pytest.raises(OutputError, match="'sector-fiscal' stopped unexpectedly"):
            r.get()


def test_fork_only_without_other_threads():
    import threading

    gate = threading.Event()
    t = threading.Thread(target=gate.wait)
    t.start()
    try:
        assert start_method() == "spawn"
    finally:
        gate.set()
        t.join()



def sleeping_figure(seconds: float) -> Figure:
    time.sleep(seconds)
    raise OutputError("slept")


def test_an_error_in_the_command_ends_the_workers_at_once():
    import signal

    with pytest.raises(KeyError, match="stop"), FigurePool(1) as pool:
        r = pool.submit(FigureJob("slow", sleeping_figure, (600,)))
        procs = list(pool._executor._processes.values())
        for _ in range(3000):
            if r.future.running():
                break
            time.sleep(0.01)
        raise KeyError("stop")   # e.g. bad input found while the figure is drawn
    for proc in procs:
        proc.join(60)
        # ended, not waited for (killed if a SIGTERM came before its handlers were reset)
        assert proc.exitcode in (-signal.SIGTERM, -signal.SIGKILL)


_ORPHAN_SCRIPT = """
import os, sys, time
from sim.present.render import FigureJob, FigurePool
from tests.test_render import sleeping_figure
pool = FigurePool(1)
r = pool.submit(FigureJob("slow", sleeping_figure, (600,)))
while not r.future.running():
    time.sleep(0.01)
print(*[p.pid for p in pool._executor._processes.values()], flush=True)
os._exit(0)   # the command's process gone without closing its pool (as if killed)
"""


def test_workers_end_when_the_command_process_is_gone():
    """A worker whose command's process vanished ends itself (no process left behind holding
    the command's output pipes), whether it was forked or spawned."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", _ORPHAN_SCRIPT], cwd=root, capture_output=True,
                         text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(root)})
    pids = [int(p) for p in out.stdout.split()]
    assert pids, out.stderr
    for pid in pids:
        for _ in range(200):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            os.kill(pid, 9)
            pytest.fail(f"worker {pid} outlived the command's process")
