"""Figures rendered in worker processes while the command writes its tables.

Rendering is most of what ``plansim run`` and ``compare`` spend (matplotlib draws each figure
in one thread, about half a second each), and the figures are independent: each is a
:class:`FigureJob`, a module-level function that makes a Figure and its arguments (picklable:
the function is sent by name). A :class:`FigurePool`

- starts its worker processes when it is made, so they are ready when the runs are done:
  forked (no imports to repeat: about 0.05 s) while the process has no other thread and
  Numba's thread pool has not started (:func:`start_method`; a command makes its pool before
  it simulates), else spawned (each worker imports matplotlib, xarray and the chart modules
  again: about 2 s of CPU, overlapping the simulation);
- feeds each worker one job at a time, in the order submitted; the command's own process
  takes any job no worker has started when its result is needed (:meth:`Rendering.get`), so
  both cores work and nothing waits on a queue;
- returns bytes (``{format: bytes}``, :func:`render`), the same bytes in a worker as in the
  command's process; writing them, atomically into the result's temporary folder
  (:func:`sim.present.output.outdir.owned_dir`), stays with the caller, so a failure leaves no
  half-written folder.

A job that raises in a worker raises the same exception from :meth:`Rendering.get`; a worker
that dies raises :class:`sim.errors.OutputError` naming the figure. With one CPU, or
``workers=0``, every job is rendered in the calling process, when asked for.
"""

from __future__ import annotations

import os
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sim.errors import OutputError
from sim.present.output.atomic import DEFAULT_FORMATS, atomic_write_bytes, render_formats

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: seconds a worker told to stop (SIGTERM) has before it is killed
STOP_GRACE_S = 2.0
#: at most this many worker processes (each holds its own matplotlib, about 150 MB)
MAX_WORKERS = 3


@dataclass(frozen=True)
class FigureJob:
    """One figure to render: ``make(*args, **kwargs)`` -> Figure, saved as ``<stem>.<fmt>``
    for each of ``formats``."""

    stem: str
    make: Callable[..., Figure]
    args: tuple = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    formats: tuple[str, ...] = DEFAULT_FORMATS
    dpi: float = 150


def render(job: FigureJob) -> dict[str, bytes]:
    """Make the job's figure and render it to each format (:func:`render_formats`)."""
    return render_formats(job.make(*job.args, **job.kwargs), job.formats, dpi=job.dpi)


def default_workers() -> int:
    """Worker processes to use: one fewer than the CPUs this process may run on (the
    command's own process renders too), at most :data:`MAX_WORKERS`."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:   # not on Linux
        cpus = os.cpu_count() or 1
    return max(0, min(MAX_WORKERS, cpus - 1))


def start_method() -> str:
    """``"fork"`` when forking is safe: on Linux, no other thread in this process (a lock
    another thread holds would stay locked in the child) and Numba's thread pool not started
    (its threads are not Python threads); else ``"spawn"``."""
    if not sys.platform.startswith("linux") or threading.active_count() > 1:
        return "spawn"
    numba_pool = sys.modules.get("numba.np.ufunc.parallel")
    if numba_pool is not None and getattr(numba_pool, "_is_initialized", True):
        return "spawn"
    return "fork"


class Rendering:
    """A submitted job; :meth:`get` returns its bytes."""

    def __init__(self, pool: FigurePool, job: FigureJob):
        self.pool, self.job = pool, job
        self.future: Future = Future()

    def get(self, among: Sequence[Rendering] | None = None) -> dict[str, bytes]:
        """The rendered bytes by format: rendered here if no worker has started the job;
        while a worker renders it, this process renders the last jobs queued (of ``among``,
        e.g. the figures of the same result, so the others stay with the workers while this
        process writes the next result's tables)."""
        while not self.future.done():
            if self.pool.take(self):
                self.run_here()
                break
            other = self.pool.steal(among)
            if other is None:
                break
            other.run_here()
        return self.future.result()

    def run_here(self) -> None:
        """Render the job in this process; its result (or error) goes to :attr:`future`."""
        if not self.future.set_running_or_notify_cancel():
            return
        join_warming()   # matplotlib is not drawn with while it is being set up
        try:
            result = render(self.job)
        except Exception as exc:   # raised again by get(); an interruption propagates now
            self.future.set_exception(exc)
        else:
            self.future.set_result(result)


class FigurePool:
    """Worker processes rendering :class:`FigureJob`\\ s; use as a context manager (the workers
    stop at the end of the block, jobs not started are dropped)."""

    def __init__(self, workers: int | None = None, warm: Callable[[], None] | None = None,
                 here: bool = False):
        """``warm``: a module-level function each worker runs first (its imports, fonts, a
        first drawing), default :func:`warm_up`. ``here``: this process runs it too, in a
        background thread (started after the workers), so that a job it renders itself later
        (the last ones, when the command waits for them) does not start with the imports;
        worth it when the command has other work meanwhile whose heavy part releases the GIL
        (the compiled kernel)."""
        self.workers = default_workers() if workers is None else max(0, int(workers))
        self._cond = threading.Condition()
        self._queue: deque[Rendering] = deque()
        self._closed = False
        self._executor = None
        self._threads: list[threading.Thread] = []
        self.method: str | None = None   # how the workers were started
        self._start_workers(warm)
        if here:
            t = threading.Thread(target=_quietly, args=(warm or warm_up,),
                                 name="plansim-warm-here", daemon=True)
            t.start()
            _WARMING.append(t)

    def _start_workers(self, warm: Callable[[], None] | None) -> None:
        if self.workers == 0:
            return
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        for stream in (sys.stdout, sys.stderr):   # a forked child must not write them again
            stream.flush()
        self.method = start_method()
        self._executor = ProcessPoolExecutor(
            self.workers, mp_context=multiprocessing.get_context(self.method),
            initializer=_worker_start)
        for _ in range(self.workers):   # start every worker now: imports while we simulate
            self._executor.submit(warm or warm_up)
        for _ in range(self.workers):
            t = threading.Thread(target=self._feed, name="plansim-figures", daemon=True)
            t.start()
            self._threads.append(t)

    def submit(self, job: FigureJob) -> Rendering:
        """Queue ``job``; returns its :class:`Rendering`."""
        r = Rendering(self, job)
        with self._cond:
            if self._closed:
                raise OutputError("figures: the rendering pool is closed")
            if self._executor is not None:
                self._queue.append(r)
                self._cond.notify()
        return r

    def submit_all(self, jobs: Iterable[FigureJob]) -> list[Rendering]:
        return [self.submit(job) for job in jobs]

    def take(self, r: Rendering) -> bool:
        """Remove ``r`` from the queue if no worker has it yet (the caller renders it)."""
        with self._cond:
            if self._executor is None:
                return True
            try:
                self._queue.remove(r)
            except ValueError:
                return False
            return True

    def steal(self, among: Sequence[Rendering] | None = None) -> Rendering | None:
        """The last job queued (of ``among``, default any), removed from the queue (the
        caller renders it); None if there is none."""
        with self._cond:
            for r in reversed(self._queue):
                if among is None or any(r is a for a in among):
                    self._queue.remove(r)
                    return r
            return None

    def _feed(self) -> None:
        """One per worker: hand the worker the next job, wait for it, repeat."""
        from concurrent.futures.process import BrokenProcessPool

        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                r = self._queue.popleft()
            if not r.future.set_running_or_notify_cancel():
                continue
            try:
                result = self._executor.submit(render, r.job).result()
            except BrokenProcessPool as exc:
                r.future.set_exception(OutputError(
                    f"figures: the worker process rendering '{r.job.stem}' stopped "
                    f"unexpectedly ({exc}); nothing of this result was written"))
            except BaseException as exc:   # the job's own error, raised again by get()
                r.future.set_exception(exc)
            else:
                r.future.set_result(result)

    def close(self, *, stop: bool = False) -> None:
        """Stop the workers: jobs not started are dropped, a job running is waited for; with
        ``stop`` (on an error: nobody will read the figures) the workers are ended at once."""
        with self._cond:
            self._closed = True
            for r in self._queue:
                r.future.cancel()
            self._queue.clear()
            self._cond.notify_all()
        if self._executor is not None:
            executor = self._executor
            procs = list((getattr(executor, "_processes", None) or {}).values()) if stop else []
            executor.shutdown(wait=not stop, cancel_futures=True)
            for proc in procs:   # the stdlib's own list of the workers
                proc.terminate()
            for proc in procs:   # a worker still starting may hold a handler it inherited
                proc.join(STOP_GRACE_S)
                if proc.is_alive():
                    proc.kill()
        for t in self._threads:
            t.join(timeout=10)
        join_warming()

    def __enter__(self) -> FigurePool:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.close(stop=exc_type is not None)


def write_renderings(renderings: Sequence[Rendering], folder, say: Callable[[str], None]
                     ) -> None:
    """Write each rendering's files into ``folder`` (a result's temporary folder), in order,
    each file atomically."""
    for r in renderings:
        for fmt, data in r.get(renderings).items():
            atomic_write_bytes(folder / f"{r.job.stem}.{fmt}", data)
        say(f"    {r.job.stem}")


#: how often a worker checks that the command's process is still there (seconds)
PARENT_CHECK_S = 0.5


def _worker_start() -> None:
    """In each worker: Ctrl-C and SIGTERM are the command's to handle (it stops the pool);
    a forked worker drops the handlers it inherited. A worker ends itself when the command's
    process is gone however it ended (killed, ``os._exit``): a forked worker holds both ends
    of its job queue, so it would otherwise wait for a job for ever, and hold the command's
    output pipes open."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    parent = os.getppid()
    threading.Thread(target=_watch_parent, args=(parent,), name="plansim-parent-watch",
                     daemon=True).start()


def _watch_parent(parent: int) -> None:
    import time

    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(1)


#: threads running a pool's ``warm`` in this process (``FigurePool(here=True)``)
_WARMING: list[threading.Thread] = []


def warming() -> bool:
    """Whether a warm-up thread of this process is still running."""
    return any(t.is_alive() for t in _WARMING)


def join_warming() -> None:
    """Wait for this process's warm-up threads (before drawing here, or leaving)."""
    while _WARMING:
        _WARMING.pop().join(timeout=30)


def _quietly(warm: Callable[[], None]) -> None:
    """``warm()`` in a background thread: a failure is left to the job that needs it."""
    import contextlib

    with contextlib.suppress(Exception):   # the job rendered here raises it, with context
        warm()


def warm_up() -> None:
    """The imports and the font set-up every chart job needs, done once when a worker
    starts."""
    # lazy: pulls matplotlib, xarray, yaml (638 ms)
    import sim.present.figures.analysis_charts  # noqa: F401
    import sim.present.figures.charts  # noqa: F401
    from sim.present.figures.fonts import use_cjk_font

    use_cjk_font()
