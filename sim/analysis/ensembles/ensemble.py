"""Run a sample matrix through a model in chunks, locally or on a dask.distributed cluster.

The model is any callable ``evaluate(overrides) -> xr.Dataset`` where ``overrides`` maps an
assumption (or lever) id to a 1-D array of shape ``(n,)`` and the result has a ``sample``
dimension of length ``n``. The chunks are concatenated along ``sample`` in order and the
``sample`` coordinate is renumbered 0..N-1, so the same design gives identical numbers whether
it ran locally, in other chunk sizes, or on Dask: the randomness is all in the design.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from sim.analysis.ensembles.bounds import check_samples
from sim.errors import PlanSimError, UncertaintyError

if TYPE_CHECKING:
    from sim.analysis.ensembles.conditioning import HistoryMatch
    from sim.analysis.ensembles.sampling import Design
    from sim.scenarios import Scenario
    from sim.simulate import Simulator

Evaluate = Callable[[dict[str, np.ndarray]], xr.Dataset]

#: default number of samples per chunk (memory ~ chunk x time x variables x 8 bytes)
DEFAULT_CHUNK = 4096
#: how long to wait for a Dask scheduler given by address
CONNECT_TIMEOUT = "10s"


def _as_columns(samples: Any) -> dict[str, np.ndarray]:
    """Accept a Design, a DataFrame or a mapping of 1-D arrays; return {id: array (N,)}."""
    if hasattr(samples, "overrides") and callable(samples.overrides):
        samples = samples.overrides()
    elif hasattr(samples, "columns") and hasattr(samples, "to_numpy"):
        samples = {str(c): samples[c].to_numpy() for c in samples.columns}
    if not isinstance(samples, Mapping) or not samples:
        raise UncertaintyError("samples must be a Design, a DataFrame or a non-empty mapping")
    cols = {k: np.asarray(v) for k, v in samples.items()}
    lengths = {v.shape for v in cols.values()}
    if len(lengths) != 1 or len(next(iter(lengths))) != 1:
        raise UncertaintyError(f"every sample column must be 1-D of one length; got {lengths}")
    return cols


def chunks(columns: dict[str, np.ndarray], chunk_size: int) -> Iterator[dict[str, np.ndarray]]:
    """Split ``{id: array (N,)}`` into consecutive row blocks of at most ``chunk_size``."""
    n = len(next(iter(columns.values())))
    for start in range(0, n, chunk_size):
        yield {k: v[start:start + chunk_size] for k, v in columns.items()}


def _check_chunk(ds: xr.Dataset, expected: int, index: int) -> xr.Dataset:
    if not isinstance(ds, xr.Dataset) or ds.sizes.get("sample") != expected:
        got = ds.sizes.get("sample") if isinstance(ds, xr.Dataset) else type(ds).__name__
        raise PlanSimError(
            f"ensemble chunk {index}: evaluate returned sample size {got}; expected {expected}"
        )
    return ds


def _combine(parts: list[xr.Dataset]) -> xr.Dataset:
    if len(parts) == 1 and all("sample" in v.dims for v in parts[0].data_vars.values()):
        out = parts[0]   # what concat would give, without copying every variable
    else:
        out = xr.concat(parts, dim="sample", data_vars="all", coords="minimal",
                        compat="override", join="override", combine_attrs="override")
    return out.assign_coords(sample=np.arange(out.sizes["sample"]))


def _progress_bar(total: int, progress: bool | None, desc: str):
    from tqdm import tqdm

    if progress is False:
        return None
    # None: show only if the run lasts more than a second
    return tqdm(total=total, desc=desc, unit="run", delay=0 if progress else 1.0)


def run_ensemble(
    evaluate: Evaluate,
    samples: Any,
    *,
    chunk_size: int | None = None,
    scheduler: Any = None,
    progress: bool | None = None,
    desc: str = "ensemble",
) -> xr.Dataset:
    """Evaluate every row of ``samples`` and return one Dataset with ``sample`` = 0..N-1.

    ``samples``: a :class:`~sim.analysis.ensembles.sampling.Design`, a DataFrame or ``{id: array (N,)}``.
    ``chunk_size``: rows per call of ``evaluate`` (default :data:`DEFAULT_CHUNK`), which bounds
    memory. ``scheduler``: ``None`` to run here, a ``distributed.Client``, or a scheduler
    address such as ``"tcp://host:8786"``; ``evaluate`` must then be picklable.
    ``progress``: True shows a tqdm bar, False never, None only after one second.
    """
    cols = _as_columns(samples)
    chunk_size = int(chunk_size or DEFAULT_CHUNK)
    if chunk_size < 1:
        raise UncertaintyError(f"chunk_size is {chunk_size}; allowed: a positive integer")
    blocks = list(chunks(cols, chunk_size))
    sizes = [len(next(iter(b.values()))) for b in blocks]
    total = sum(sizes)
    bar = _progress_bar(total, progress, desc)
    parts: list[xr.Dataset] = []
    try:
        if scheduler is None:
            for i, block in enumerate(blocks):
                parts.append(_check_chunk(evaluate(block), sizes[i], i))
                if bar is not None:
                    bar.update(sizes[i])
        else:
            parts = _run_dask(evaluate, blocks, sizes, scheduler, bar)
    finally:
        if bar is not None:
            bar.close()
    return _combine(parts)


def _run_dask(evaluate: Evaluate, blocks, sizes, scheduler, bar) -> list[xr.Dataset]:
    from distributed import Client, as_completed

    own = isinstance(scheduler, str)
    if own:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise PlanSimError(
                f"scheduler {scheduler}: cannot reach a Dask scheduler there ({exc}); "
                "allowed: the address of a running dask scheduler, e.g. tcp://127.0.0.1:8786"
            ) from exc
    else:
        client = scheduler
    try:
        futures = client.map(evaluate, blocks, pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        parts: list[xr.Dataset | None] = [None] * len(blocks)
        for fut in as_completed(futures):
            i = index[fut.key]
            parts[i] = _check_chunk(fut.result(), sizes[i], i)
            if bar is not None:
                bar.update(sizes[i])
        return parts  # type: ignore[return-value]
    finally:
        if own:
            client.close()


class ScenarioEvaluator:
    """Picklable ``evaluate`` for a scenario: runs ``Simulator(engine).run`` on each chunk.

    The simulator (and its compiled model) is built once per process, on first use, so a Dask
    worker compiles the model once however many chunks it runs.
    """

    _cache: dict[tuple, Simulator] = {}

    def __init__(self, scenario: Scenario | None, *, return_columns: list[str] | None = None,
                 engine: str = "batch", levers: dict | None = None,
                 final_time: float | None = None):
        self.scenario = scenario
        self.return_columns = list(return_columns) if return_columns else None
        self.engine = engine
        self.levers = levers
        self.final_time = final_time

    def simulator(self):
        key = (self.engine,)
        if key not in self._cache:
            # lazy: pulls yaml (49 ms)
            from sim.simulate import Simulator

            self._cache[key] = Simulator(engine=self.engine)
        return self._cache[key]

    def __call__(self, overrides: dict[str, np.ndarray]) -> xr.Dataset:
        n = len(next(iter(overrides.values())))
        return self.simulator().run(
            self.scenario, assumptions=overrides, levers=self.levers, n_samples=n,
            return_columns=self.return_columns, check_divergence=False,
            **({} if self.final_time is None else {"final_time": self.final_time}),
        )


def shared_simulator(engine: str = "batch"):
    """The simulator :class:`ScenarioEvaluator` uses in this process (compiled once)."""
    return ScenarioEvaluator(None, engine=engine).simulator()


def simulate_design(scenario: Scenario, design: Design, *, return_columns: list[str] | None = None,
                    engine: str = "batch", evaluate: Evaluate | None = None,
                    scheduler: Any = None, chunk_size: int | None = None,
                    progress: bool | None = None, final_time: float | None = None
                    ) -> xr.Dataset:
    """Run ``scenario`` once per row of ``design`` (assumption overrides per sample).

    ``evaluate`` defaults to a :class:`ScenarioEvaluator` on ``engine`` (to ``final_time``,
    default the model's FINAL TIME). Returns a Dataset with dims ``(sample, time)``,
    ``sample`` = 0..N-1, attrs ``scenario`` and ``design``.
    """
    evaluate = evaluate or ScenarioEvaluator(scenario, return_columns=return_columns,
                                             engine=engine, final_time=final_time)
    ds = run_ensemble(evaluate, design, chunk_size=chunk_size, scheduler=scheduler,
                      progress=progress, desc=str(getattr(scenario, "id", scenario)))
    ds.attrs["scenario"] = str(getattr(scenario, "id", scenario))
    ds.attrs["design"] = f"{design.method} n={design.n} seed={design.seed}"
    return ds


def history_simulate(match: HistoryMatch, **_: Any) -> None:
    """Kept for callers of the former history-matching ensemble: an ensemble drawn from the
    posterior needs no history-only runs (:func:`sim.analysis.ensembles.conditioning.condition_all`
    accepts and ignores ``history=``). Returns ``None``."""
    return None


#: share of the available memory a run may plan to use
MEMORY_SHARE = 0.8
def available_memory() -> int | None:
    """Bytes of memory available now (Linux: MemAvailable; else free pages), or None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        import os

        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def saved_times(engine: str = "batch") -> int:
    """Number of saved time points of the model (compiled once per process)."""
    sim = ScenarioEvaluator(None, engine=engine).simulator()
    t0, t1, dt = (sim.control(k) for k in ("initial_time", "final_time", "saveper"))
    return int(round((t1 - t0) / dt)) + 1


def check_request(samples: Any, seed: Any = None, *, runs_per_count: int, dim: int, columns: int,
                  times: int | None = None, engine: str = "batch") -> int:
    """The bounds every ensemble request meets before any work, on the command line and in the
    API alike: the sample count and the seed (:func:`sim.analysis.ensembles.bounds.check_samples`) and
    the memory the arrays would need (:func:`check_memory`; ``times`` defaults to the model's
    saved times). Returns the samples."""
    check_samples(samples, seed)
    check_memory(samples, runs_per_count=runs_per_count, dim=dim, columns=columns,
                 times=saved_times(engine) if times is None else times)
    return int(samples)


def check_memory(count: int, *, runs_per_count: int, dim: int, columns: int, times: int,
                 what: str = "samples", available: int | None = None) -> int:
    """Refuse, before any work, a run whose arrays would not fit in memory.

    ``count`` (the user's sample count) gives ``count * runs_per_count`` model runs, each
    keeping ``columns`` outputs at ``times`` points, over a design of ``dim`` assumptions.
    Returns the estimated bytes; raises :class:`UncertaintyError` with the estimate and the
    largest count that fits when it exceeds :data:`MEMORY_SHARE` of the available memory.
    """
    per = 8 * (runs_per_count * (2 * dim + 2 * columns * times) + dim)
    need = count * per
    avail = available_memory() if available is None else available
    if avail is not None and need > MEMORY_SHARE * avail:
        fit = int(MEMORY_SHARE * avail // per)
        raise UncertaintyError(
            f"{what} {count:,}: the arrays would need about {_size(need)} "
            f"({count * runs_per_count:,} runs), more than {MEMORY_SHARE:.0%} of the "
            f"{_size(avail)} available; allowed here: at most about {fit:,}")
    return need


def _size(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"
