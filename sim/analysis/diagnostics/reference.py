"""PySD's reference runs of the model: the numbers the batch engine is held to at the model's own
time step.

A PySD run of the model at its TIME STEP takes about half a minute, so the runs of
:func:`reference_ids` are a committed generated file each (``model/reference/pysd-<id>.csv``,
:func:`reference_path`), written by ``plansim regen reference`` and read by
tests/test_agreement.py, which compares the batch engine with them (as the conformance tests
compare it with Vensim's output). They are the runs of

- every scenario file of the project (:func:`scenario_ids`);
- the sampled cases (:func:`sampled_ids`): the samples of one seeded draw of assumptions,
  :data:`SAMPLED`, each a scenario of its own (:func:`sampled_cases`, ``<scenario>-sample-<i>``:
  the scenario with sample ``i``'s assumption values), so that one batch run of the draw
  (:func:`sample_draws`, the same numbers) is compared sample by sample with PySD.

:func:`case` resolves an id of either kind to its scenario.

A file is text: ``#`` lines holding its fingerprint (``# key: value``), then a CSV with one row
per variable (sorted by name) and one column per calendar row of the run (the Dataset
``Simulator("pysd").run(scenario)`` returns), each value written as ``repr`` of the float, so
that reading it back gives PySD's number exactly.

The fingerprint says what the run was made from, and is computed without running PySD:

- ``mdl_sha256``: the ``.mdl``'s bytes;
- ``inputs_sha256``: the scenario's engine inputs (:meth:`~sim.simulate.Simulator.inputs`:
  levers, assumptions, the calibrated values; their float64 bytes; a sampled case's drawn
  values are its assumptions, so a change of the draw or of an assumption's range makes it
  stale). The inputs come from the numpy path (the ``.mdl`` trajectory of a lever a scenario
  changes from some year is read from a run of the model, and PySD's lookups can differ from
  the engine's in the last bit);
  :func:`reference_text` checks that PySD was given the same inputs to 1e-12;
- ``rates_sha256``: the variables whose calendar row is a year's mean (the rest are levels);
- ``code_sha256``: the source of the modules that turn inputs into PySD's calendar rows
  (:data:`CODE`);
- ``pysd``: PySD's version; ``time_step`` and ``final_time``: the run's controls.

:func:`stale_reason` compares the stored fingerprint with the current one ("" when current).
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from sim import paths
from sim.dims import RUN_DIMS, SAMPLE
from sim.errors import ModelError
from sim.model.cache.diskcache import package_version
from sim.model.declarations.parameters import load_parameters
from sim.scenarios.loader import Scenario, list_scenarios, load_scenario
from sim.simulate import Simulator

#: the modules whose code turns a scenario's inputs into PySD's calendar rows: the PySD path of
#: the simulator, the reporting rule (rate or level, the yearly means) and PySD's loading
CODE = ("sim.simulate", "sim.engine.reporting", "sim.model.equations.mdl")
#: PySD's inputs may differ from the numpy path's in the last bit, never by more than this
INPUTS_RTOL = 1e-12
#: what each fingerprint entry says changed when it differs
CHANGED = {
    "scenario": "the scenario",
    "mdl_sha256": "the .mdl",
    "inputs_sha256": "the scenario's inputs (levers, assumptions or calibrated values)",
    "rates_sha256": "which variables a calendar row averages",
    "code_sha256": f"the code that runs PySD ({', '.join(CODE)})",
    "pysd": "PySD's version",
    "time_step": "the time step",
    "final_time": "the final time",
}
_TITLE = ("PySD's run of the scenario {id!r} at the model's own time step, one row per "
          "variable, one column per calendar row; written by `plansim regen reference` "
          "(sim.analysis.diagnostics.reference), not by hand")
_SAMPLE_TITLE = ("PySD's run of {id!r}: the scenario {scenario!r} with sample {i} of the {n} "
                 "samples of the seeded draw of assumptions (SAMPLED: seed {seed}, the first "
                 "{k} declared assumptions, each uniform within its range), at the model's own "
                 "time step, one row per variable, one column per calendar row; written by "
                 "`plansim regen reference` (sim.analysis.diagnostics.reference), not by hand")

Say = Callable[[str], None]


def scenario_ids() -> list[str]:
    """The scenarios whose PySD run at the model's step is stored: every scenario file of the
    project (``scenarios/*.yaml``), so each is compared with PySD at the model's own step."""
    return [p.stem for p in list_scenarios()]


@dataclass(frozen=True)
class SampleDraw:
    """A seeded draw of assumption values laid over one scenario: the first ``assumptions``
    declared assumptions (model/parameters.yaml), each drawn uniform within its min..max,
    ``n`` values each (in declared order) from ``numpy.random.default_rng(seed)``."""

    scenario: str
    n: int
    seed: int
    assumptions: int


#: the draw whose samples are stored as PySD runs (the sampled cases); tests/test_agreement.py
#: runs the batch engine once with its ``n`` samples and compares sample i with case i
SAMPLED = SampleDraw(scenario="plan", n=2, seed=20240101, assumptions=4)
#: the id of sample ``i`` of the draw over ``scenario``
SAMPLE_ID = "{scenario}-sample-{i}"


def sample_draws() -> dict[str, np.ndarray]:
    """The draw :data:`SAMPLED` as the batch engine takes it: ``{assumption id: array of n}``."""
    d = SAMPLED
    chosen = list(load_parameters().assumptions.values())[:d.assumptions]
    rng = np.random.default_rng(d.seed)
    return {a.id: rng.uniform(a.min, a.max, d.n) for a in chosen}


def sampled_ids() -> list[str]:
    """The ids of the sampled cases, sample 0 first."""
    return [SAMPLE_ID.format(scenario=SAMPLED.scenario, i=i) for i in range(SAMPLED.n)]


def sampled_cases() -> list[Scenario]:
    """The sampled cases, one per sample of :data:`SAMPLED`: its scenario with that sample's
    assumption values (:func:`sample_draws`), under the id :func:`sampled_ids` gives."""
    base, draws = load_scenario(SAMPLED.scenario), sample_draws()
    return [base.with_assumptions({k: float(v[i]) for k, v in draws.items()}, id=cid)
            for i, cid in enumerate(sampled_ids())]


def reference_ids() -> list[str]:
    """Every stored run: the scenario files, then the sampled cases."""
    files, cases = scenario_ids(), sampled_ids()
    clash = sorted(set(files) & set(cases))
    if clash:
        raise ModelError(f"scenario file(s) {', '.join(clash)} have the id of a sampled case "
                         f"({SAMPLE_ID}); rename them")
    return files + cases


def case(case_id: str) -> Scenario:
    """The scenario whose run ``case_id`` stores: a sampled case, else the scenario file."""
    ids = sampled_ids()
    return sampled_cases()[ids.index(case_id)] if case_id in ids else load_scenario(case_id)


def _title(case_id: str) -> str:
    ids = sampled_ids()
    if case_id not in ids:
        return _TITLE.format(id=case_id)
    return _SAMPLE_TITLE.format(id=case_id, scenario=SAMPLED.scenario, i=ids.index(case_id),
                                n=SAMPLED.n, seed=SAMPLED.seed, k=SAMPLED.assumptions)


def reference_path(scenario_id: str) -> Path:
    """The committed file of PySD's run of ``scenario_id``."""
    return paths.REFERENCE_DIR / paths.REFERENCE_NAME.format(scenario=scenario_id)


def _engine(simulator: Simulator | None, engine: str) -> Simulator:
    """``simulator`` if it runs on ``engine``, else one for the same model and declarations."""
    if simulator is None:
        return Simulator(engine)
    if simulator.engine == engine:
        return simulator
    return Simulator(engine, model_path=simulator.model_path, parameters=simulator.parameters,
                     use_calibration=simulator.use_calibration)


def _scenario(scenario: Scenario | str) -> Scenario:
    return scenario if isinstance(scenario, Scenario) else case(scenario)


def inputs_hash(inputs: Mapping[str, object]) -> str:
    """sha256 (hex) of engine inputs: per name (sorted) its kind, shape, time index (a series)
    and float64 values, as little-endian bytes."""
    h = hashlib.sha256()
    for name in sorted(inputs):
        value = inputs[name]
        index = np.asarray(value.index, "<f8") if isinstance(value, pd.Series) else np.empty(0)
        data = np.asarray(value, "<f8")
        h.update(f"{name}\0{type(value).__name__}\0{data.shape}\0".encode())
        h.update(index.tobytes() + data.tobytes())
    return h.hexdigest()


def _code_hash() -> str:
    h = hashlib.sha256()
    for module in CODE:
        h.update(f"{module}\0".encode() + Path(importlib.util.find_spec(module).origin)
                 .read_bytes())
    return h.hexdigest()


def fingerprint(scenario: Scenario | str, simulator: Simulator | None = None) -> dict[str, str]:
    """What PySD's run of ``scenario`` is made from now (see the module docstring); no PySD
    run. ``simulator``: the model and declarations (default: the project's)."""
    sim = _engine(simulator, "numpy")
    sc = _scenario(scenario)
    rates = sorted(v for v in sim.batch.variables if sim.batch.is_rate(v))
    return {
        "scenario": sc.id,
        "mdl_sha256": hashlib.sha256(sim.model_path.read_bytes()).hexdigest(),
        "inputs_sha256": inputs_hash(sim.inputs(sc)),
        "rates_sha256": hashlib.sha256("\n".join(rates).encode("utf-8")).hexdigest(),
        "code_sha256": _code_hash(),
        "pysd": package_version("pysd"),
        "time_step": repr(sim.control("time_step")),
        "final_time": repr(sim.control("final_time")),
    }


def _same_inputs(ours: Mapping[str, object], pysds: Mapping[str, object], sid: str) -> None:
    diff = sorted(set(ours) ^ set(pysds))
    diff += [k for k in sorted(set(ours) & set(pysds))
             if not np.allclose(np.asarray(ours[k], float), np.asarray(pysds[k], float),
                                rtol=INPUTS_RTOL, atol=0.0)]
    if diff:
        raise ModelError(f"scenario {sid!r}: PySD's inputs differ from the numpy path's in "
                         f"{', '.join(diff)}; the reference's fingerprint would not describe "
                         "them")


def reference_text(scenario: Scenario | str, simulator: Simulator | None = None,
                   say: Say | None = None) -> str:
    """The file of PySD's run of ``scenario`` at the model's own step (runs PySD: about half
    a minute for the real model). ``simulator``: the model and declarations (a PySD one is
    reused)."""
    pysd = _engine(simulator, "pysd")
    sc = _scenario(scenario)
    ours = _engine(pysd, "numpy")
    _same_inputs(ours.inputs(sc), pysd.inputs(sc), sc.id)
    if say:
        say(f"running PySD: scenario {sc.id!r} at the model's own step")
    ds = pysd.run(sc)
    lines = ["# " + _title(sc.id)]
    lines += [f"# {k}: {v}" for k, v in fingerprint(sc, ours).items()]
    lines.append(",".join(["variable", *map(repr, ds.time.values.astype(float).tolist())]))
    for name in sorted(ds.data_vars):
        da = ds[name]
        if da.dims != RUN_DIMS or da.sizes[SAMPLE] != 1:
            raise ModelError(f"scenario {sc.id!r}: {name} has dims {da.dims}; a reference "
                             f"holds one sample of {RUN_DIMS}")
        lines.append(",".join([name, *map(repr, da.values[0].astype(float).tolist())]))
    return "\n".join(lines) + "\n"


def orphans() -> list[Path]:
    """Stored runs that no scenario file or sampled case has any more (a scenario file deleted
    or renamed, fewer samples drawn): the files of :data:`~sim.paths.REFERENCE_DIR` named as
    :func:`reference_path` names them whose id :func:`reference_ids` does not list."""
    if not paths.REFERENCE_DIR.is_dir():
        return []
    prefix, suffix = paths.REFERENCE_NAME.split("{scenario}")
    ids = set(reference_ids())
    return sorted(p for p in paths.REFERENCE_DIR.glob(f"{prefix}*{suffix}")
                  if p.name[len(prefix):len(p.name) - len(suffix)] not in ids)


def written_by_regen(path: Path) -> bool:
    """Whether ``path`` carries the fingerprint ``plansim regen reference`` writes (a file
    without it is someone else's, which regen never removes)."""
    try:
        return bool(_stored(path))
    except (OSError, UnicodeDecodeError):
        return False


def _stored(path: Path) -> dict[str, str]:
    out = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            if not line.startswith("#"):
                break
            key, sep, value = line[1:].strip().partition(": ")
            if sep and key in CHANGED:
                out[key] = value
    return out


def stale_reason(scenario: Scenario | str, path: Path | str | None = None,
                 simulator: Simulator | None = None) -> str:
    """Why the stored reference of ``scenario`` (at ``path``, default :func:`reference_path`)
    is not PySD's run of it now: "" when its fingerprint is the current one."""
    sc = _scenario(scenario)
    path = Path(path or reference_path(sc.id))
    if not path.is_file():
        return "missing"
    stored = _stored(path)
    if not stored:
        return "no fingerprint: not a file `plansim regen reference` wrote"
    now = fingerprint(sc, simulator)
    changed = [what for key, what in CHANGED.items() if stored.get(key) != now[key]]
    if changed:
        return f"written before a change of {'; '.join(changed)}"
    return ""


def read_reference(scenario_id: str, path: Path | str | None = None) -> xr.Dataset:
    """The stored run of ``scenario_id`` (a scenario file or a sampled case), shaped as :meth:`Simulator.run` returns it (dims
    ``("sample", "time")``, one sample); check it with :func:`stale_reason` first."""
    path = Path(path or reference_path(scenario_id))
    if not path.is_file():
        raise ModelError(f"{path}: no reference run of {scenario_id!r}; run `make regen`")
    rows = [line.rstrip("\n").split(",") for line in path.read_text(encoding="utf-8")
            .splitlines() if line and not line.startswith("#")]
    if not rows or rows[0][0] != "variable":
        raise ModelError(f"{path}: no header row 'variable,<times>' after the # lines")
    try:
        times = [float(t) for t in rows[0][1:]]
        data = {r[0]: (RUN_DIMS, np.array([[float(x) for x in r[1:]]])) for r in rows[1:]}
    except ValueError as exc:
        raise ModelError(f"{path}: {exc}") from None
    bad = [name for name, (_, v) in data.items() if v.shape[1] != len(times)]
    if bad:
        raise ModelError(f"{path}: rows {', '.join(bad[:3])} do not have {len(times)} values")
    ds = xr.Dataset(data, coords={"time": times, SAMPLE: [0]})
    ds.attrs.update(scenario=scenario_id, engine="pysd", reporting="calendar")
    return ds
