"""Figures rendered in worker processes (sim.present.output.render): the same bytes as in the
command's process, a job's error raised once and clearly, a dead worker named, nothing
written of a result whose figure failed."""

from __future__ import annotations

import contextlib
import os
import socket
import time

import pytest
from matplotlib.figure import Figure

from sim.errors import OutputError
from sim.present.output.outdir import owned_dir
from sim.present.output.render import FigureJob, FigurePool, render, start_method, write_renderings

#: how long a test waits for a worker to start a job or to end (seconds)
WAIT_S = 120


def small_figure(title: str) -> Figure:
    from sim.present.figures.chartutil import new_figure
    from sim.present.figures.layout import fit_margins

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


WARMED = []


def slow_warm() -> None:
    time.sleep(1.0)
    WARMED.append(True)


def test_warmed_here_in_the_background_then_drawn_here_the_same():
    """``here=True``: this process runs the warm-up in a thread; a job drawn here waits for it
    and gives the bytes it gives without; nothing is left running after the pool."""
    from sim.present.output import render as rd

    WARMED.clear()
    job = _jobs(1, ("png",))[0]
    with FigurePool(0, warm=slow_warm, here=True) as pool:
        assert not WARMED and rd.warming()   # started, not finished
        got = pool.submit(job).get()
        assert WARMED == [True]             # drawn after the warm-up, not during it
    assert got == render(job)
    assert not rd.warming()


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
    with FigurePool(1) as pool, listening() as server:
        r = pool.submit(FigureJob("sector-fiscal", calling_figure, (port(server), "die")))
        server.accept()[0].close()   # the worker has the job (get() would render it here)
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



@contextlib.contextmanager
def listening():
    """A socket on this host a figure job calls when a worker starts it (:func:`calling_figure`);
    waiting on it is waiting for an event, with a timeout, never polling."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(WAIT_S)
        yield server


def port(server: socket.socket) -> int:
    return server.getsockname()[1]


def calling_figure(port: int, then: str) -> Figure:
    """A job that tells the test it started (it connects to ``port`` and keeps the connection
    open while its worker lives), then dies (``then="die"``) or sleeps for ten minutes."""
    conn = socket.create_connection(("127.0.0.1", port))
    conn.sendall(b"started\n")
    if then == "die":
        os._exit(3)
    time.sleep(600)
    raise OutputError("slept")


def ended(conn: socket.socket) -> bool:
    """Whether the worker holding the other end of ``conn`` ended within :data:`WAIT_S` (the
    system closes its end: the read returns no bytes)."""
    conn.settimeout(WAIT_S)
    with conn:
        try:
            while conn.recv(64):
                pass
        except TimeoutError:
            return False
    return True


def test_an_error_in_the_command_ends_the_workers_at_once():
    with listening() as server:
        with pytest.raises(KeyError, match="stop"), FigurePool(1) as pool:
            pool.submit(FigureJob("slow", calling_figure, (port(server), "sleep")))
            conn = server.accept()[0]   # the worker draws the figure
            raise KeyError("stop")   # e.g. bad input found while the figure is drawn
        assert ended(conn), "the worker was waited for instead of ended"


_ORPHAN_SCRIPT = """
import os, sys
from sim.present.output.render import FigureJob, FigurePool
from tests.test_render import calling_figure
pool = FigurePool(1)
pool.submit(FigureJob("slow", calling_figure, (int(sys.argv[1]), "sleep")))
sys.stdin.readline()   # the test has seen the worker start the job
os._exit(0)   # the command's process gone without closing its pool (as if killed)
"""


def test_workers_end_when_the_command_process_is_gone():
    """A worker whose command's process vanished ends itself (no process left behind holding
    the command's output pipes), whether it was forked or spawned."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    with listening() as server:
        cmd = subprocess.Popen([sys.executable, "-c", _ORPHAN_SCRIPT, str(port(server))],
                               cwd=root, stdin=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env={**os.environ, "PYTHONPATH": str(root)})
        try:
            conn = server.accept()[0]
        except TimeoutError:
            cmd.kill()
            pytest.fail(f"no worker started the job: {cmd.communicate()[1]}")
        cmd.communicate("go\n", timeout=WAIT_S)
        assert ended(conn), "a worker outlived the command's process"
