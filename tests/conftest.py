"""Shared set-up of the test run: one compiled-model cache for all workers, the real model's
simulator, a tiny lever/assumption declaration for scenario unit tests."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import textwrap
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")


def _seed_from_the_user_cache(session: str) -> None:
    """Copy the parsed models, compiled kernels and remembered names ``make setup`` left in the
    user's cache (and the key that signs them) into this run's new cache, so the real model's
    kernels are read, not compiled again, as the first command on a set-up machine reads them. Entries are keyed
    by the model's bytes and the engine's code (a stale one is a miss) and verified with the
    key; nothing is copied from a cache folder that is not the user's own and closed to
    others. Tests that need an empty or hostile cache use folders of their own."""
    from sim.model.cache.diskcache import KEY_NAME, root_path, unsafe

    user, dest = root_path(), Path(session) / "plansim"
    try:
        if unsafe(os.lstat(user)) or not (user / KEY_NAME).is_file():
            return
        dest.mkdir(mode=0o700)
        shutil.copy2(user / KEY_NAME, dest / KEY_NAME)
        for sub in ("models", "kernels"):
            if (user / sub).is_dir():
                shutil.copytree(user / sub, dest / sub)
        # the remembered tables (sim.model.cache.diskcache.RememberedTable, a file each at the
        # top of the cache: PySD's Python names of the variables), which a process writes when
        # it exits, so a test's first subprocess starts as warm as a command does
        for table in user.glob("*.pkl"):
            shutil.copy2(table, dest / table.name)
    except OSError:
        shutil.rmtree(dest, ignore_errors=True)   # start from an empty cache instead


# The compiled-model cache (sim.engine.cache, the numba kernels of sim.engine.kernel_cache) of
# this test run, never the user's own. One folder for the whole run: the first pytest process
# (the xdist controller, or a run without workers) creates it and hands its path to the workers
# it starts through the environment, so each kernel is compiled once per run, not once per
# worker. PLANSIM_TEST_CACHE names a folder kept across runs (a developer's repeated runs).
# A new folder starts with what `make setup` compiled into the user's cache (the real model's
# kernels: see _seed_from_the_user_cache). Tests that need an empty or hostile cache set
# PLANSIM_CACHE_DIR / XDG_CACHE_HOME to a tmp folder of their own.
_SESSION_CACHE = "PLANSIM_TEST_SESSION_CACHE"
if os.environ.get("PLANSIM_TEST_CACHE"):
    _CACHE = os.environ["PLANSIM_TEST_CACHE"]
    os.makedirs(_CACHE, mode=0o700, exist_ok=True)
elif os.environ.get(_SESSION_CACHE):   # a worker: the controller's folder
    _CACHE = os.environ[_SESSION_CACHE]
else:
    _CACHE = tempfile.mkdtemp(prefix="plansim-test-cache-")
    os.environ[_SESSION_CACHE] = _CACHE
    atexit.register(shutil.rmtree, _CACHE, True)
    _seed_from_the_user_cache(_CACHE)   # before XDG_CACHE_HOME points here
os.environ["XDG_CACHE_HOME"] = _CACHE
# computed results are not reused across tests (a test may monkeypatch what they are computed
# from); the tests of sim.model.cache.results turn it on
os.environ["PLANSIM_RESULTS_CACHE"] = "off"
# commands run by tests compile a missing kernel in-process (no background compile process)
os.environ["PLANSIM_BACKGROUND_COMPILE"] = "off"
# a pytest-xdist worker is one of several processes: one numba thread each (the parallel
# kernel still runs), so the workers do not start workers x cores threads
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")

@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Make ``xdist_group`` work (``--dist loadgroup``, pyproject.toml): pytest-xdist 3.8 puts a
    grouped test on one worker by adding ``@group`` to its node id through ``item._nodeid``,
    which pytest 9 no longer reads (a node's id is ``item._id``), so every group was ignored
    and the tests of a group ran on both workers, each paying its shared set-up. Here, on a
    worker, the same suffix is set where pytest 9 reads it (xdist's own hook ran before)."""
    if not getattr(config.option, "loadgroup", False):
        return
    from _pytest.nodeid import NodeId

    for item in items:
        names = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                        for m in item.iter_markers("xdist_group")})
        if names and not item.nodeid.endswith("@" + "_".join(names)):
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(names)}")


TINY_PARAMETERS = """
groups:
  fiscal: {zh: 财政, en: Fiscal}
levers:
  fiscal_budget:
    variable: municipal ST budget
    kind: series
    interpolation: linear
    min: 0
    max: 500
    group: fiscal
    label: {zh: 市级财政科技专项资金, en: Municipal fiscal S&T budget}
    description: {zh: 测试用说明, en: A test declaration}
  budget_multiplier:
    variable: budget multiplier
    kind: series
    interpolation: step
    min: 0
    max: 10
    group: fiscal
    label: {zh: 预算系数, en: Budget multiplier}
    description: {zh: 测试用说明, en: A test declaration}
  hte_first_award:
    variable: HTE first award
    kind: constant
    min: 0
    max: 100
    group: fiscal
    label: {zh: 首次认定高企奖补, en: First-time HTE award}
    description: {zh: 测试用说明, en: A test declaration}
assumptions:
  crowding_in:
    variable: crowding in coefficient
    min: -0.5
    max: 1.5
    label: {zh: 挤入系数, en: Crowding-in coefficient}
    description: {zh: 测试用说明, en: A test declaration}
"""


@pytest.fixture(scope="session", autouse=True)
def _model_kernels_compiled_once():
    """Under xdist: the first worker here compiles the real model's kernels of the two
    scenarios most tests run into the shared cache while the other waits on the lock, then
    reads them from the cache (compiled once per run, not once per worker at the same time).
    A run without workers compiles them when a test first needs them."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        yield
        return
    import fcntl

    from sim import api

    with open(Path(_CACHE) / "tests-warm.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)   # blocks until the worker that compiles is done
        try:
            for scenario in ("baseline", "plan"):
                api.run(scenario)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    yield


@pytest.fixture(scope="session")
def simulator():
    """The batch simulator of the real model, shared by every test of the process (the one
    sim.api and the ensembles use: compiled once)."""
    from sim.api import simulator as shared

    return shared()


@pytest.fixture
def sketch_files(tmp_path) -> tuple[Path, Path]:
    """The two-sector model of the sketch and diagram tests and its sectors file."""
    from tests.inline_mdl import SKETCH_MDL, SKETCH_SECTORS

    mdl = tmp_path / "tiny.mdl"
    mdl.write_text(SKETCH_MDL, encoding="utf-8")
    sec = tmp_path / "sectors.yaml"
    sec.write_text(SKETCH_SECTORS, encoding="utf-8")
    return mdl, sec


@pytest.fixture
def output_locks_released():
    """After the test, the locks it took on output folders (sim.present.output.outdir) are let go."""
    from sim.present.output.outdir import release_all

    yield
    release_all()


@pytest.fixture
def tiny_parameters(tmp_path, monkeypatch) -> Path:
    """Point the lever declarations at a tiny file; scenarios are written to tmp_path."""
    from sim import paths

    p = tmp_path / "parameters.yaml"
    p.write_text(TINY_PARAMETERS, encoding="utf-8")
    monkeypatch.setattr(paths, "PARAMETERS_FILE", p)
    monkeypatch.setattr(paths, "SCENARIO_DIR", tmp_path)
    return p


@pytest.fixture
def write_scenario(tmp_path):
    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


@pytest.fixture
def run_cli(capsys):
    """A plansim command run in this process (as ``python -m sim`` runs it, without starting
    an interpreter): ``run_cli(*args)`` gives its exit code and stderr."""
    from sim.cli.main import main

    def run(*args) -> tuple[int, str]:
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:   # argument errors exit from argparse
            code = exc.code
        return code, capsys.readouterr().err

    return run
