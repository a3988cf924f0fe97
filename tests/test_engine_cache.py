"""The compiled model on disk (sim.engine.cache): hits, invalidation, corrupt entries,
concurrent writers, an unsafe folder; and the command line's help importing no NumPy."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from test_engine_helpers import write_model

from sim.engine import cache, compile_model
from sim.model.cache import diskcache

ROOT = Path(__file__).resolve().parent.parent

BODY = """
stock = INTEG(inflow, initial stock)
~ widgets ~~|
initial stock = 10
~ widgets ~~|
inflow = growth rate * stock
~ widgets/Year ~~|
growth rate = 0.1
~ 1/Year ~~|
"""


@pytest.fixture
def own_cache(tmp_path, monkeypatch):
    """An empty cache folder of this test."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("PLANSIM_CACHE", raising=False)
    return tmp_path / "xdg" / "plansim"


def run_stock(path, rate=None) -> np.ndarray:
    params = None if rate is None else {"growth_rate": np.asarray(rate, dtype=float)}
    n = 1 if rate is None else len(rate)
    return compile_model(path).run(params, n, return_columns=["stock"])["stock"].values


def entry_of(root: Path) -> Path:
    (entry,) = [p for p in (root / "models").iterdir() if p.is_dir()]
    return entry


def test_second_compile_hits_the_cache_and_gives_the_same_numbers(tmp_path, own_cache):
    path = write_model(tmp_path, BODY)
    first = run_stock(path, [0.1, 0.2])
    entry = entry_of(own_cache)
    assert {"info.pkl", "full.pkl"} <= {p.name for p in entry.iterdir()}
    assert any(p.name.startswith("code-") for p in entry.iterdir())
    info = cache.load_info(path)
    assert info.is_light and info.cache_dir == entry     # the cached copy, not a new parse
    np.testing.assert_array_equal(run_stock(path, [0.1, 0.2]), first)
    os.environ["PLANSIM_CACHE"] = "off"
    try:
        assert not cache.load_info(path).is_light
        np.testing.assert_array_equal(run_stock(path, [0.1, 0.2]), first)
    finally:
        del os.environ["PLANSIM_CACHE"]


def test_a_new_output_compiles_from_the_cached_parse(tmp_path, own_cache):
    path = write_model(tmp_path, BODY)
    run_stock(path)
    bm = compile_model(path)          # light info; inflow was never generated
    ds = bm.run(None, 1, return_columns=["inflow", "stock"])
    np.testing.assert_allclose(ds["inflow"].values, 0.1 * ds["stock"].values)


def test_editing_the_model_invalidates(tmp_path, own_cache):
    path = write_model(tmp_path, BODY)
    before = run_stock(path)
    write_model(tmp_path, BODY.replace("growth rate = 0.1", "growth rate = 0.2"))
    assert not cache.load_info(path).is_light              # a new key: parsed again
    after = run_stock(path)
    assert after[0, -1] > before[0, -1]
    np.testing.assert_array_equal(after, run_stock(path, [0.2]))
    assert len([p for p in (own_cache / "models").iterdir() if p.is_dir()]) == 2


def test_engine_code_is_part_of_the_key(tmp_path, own_cache, monkeypatch):
    path = write_model(tmp_path, BODY)
    content = Path(path).read_bytes()
    key = cache.model_key(Path(path), content)
    monkeypatch.setattr(cache, "engine_fingerprint", lambda: "another engine")
    assert cache.model_key(Path(path), content) != key


def test_a_model_read_recently_outlives_models_written_since(tmp_path, own_cache, monkeypatch):
    """Pruning goes by last use, not by when an entry was written: a model read after the
    others were stored stays when a new one pushes the cache over its bound (a test run
    parsing many tiny models keeps the real model's parse)."""
    monkeypatch.setattr(cache, "MAX_ENTRIES", 3)
    models = [write_model(tmp_path, BODY, name=f"m{i}.mdl") for i in range(4)]
    entries = [cache.load_info(m).cache_dir for m in models[:3]]   # parsed and stored
    for i, entry in enumerate(entries):
        os.utime(entry, (1000 + i, 1000 + i))   # written in this order, long ago
    assert cache.load_info(models[0]).is_light   # read: the first written, the last used
    cache.load_info(models[3])                   # a fourth: one must go
    assert [e.is_dir() for e in entries] == [True, False, True]
    assert cache.load_info(models[0]).is_light   # not parsed again


@pytest.mark.parametrize("victim", ["info.pkl", "full.pkl", "code"])
def test_corrupt_entry_is_ignored_and_rebuilt(tmp_path, own_cache, victim):
    path = write_model(tmp_path, BODY)
    good = run_stock(path, [0.1, 0.3])
    entry = entry_of(own_cache)
    files = ([p for p in entry.iterdir() if p.name.startswith("code-")] if victim == "code"
             else [entry / victim])
    for f in files:
        f.write_bytes(b"\x80\x05 not a pickle")
    if victim == "full.pkl":   # the light copy is fine: new numpy code needs the full parse
        ds = compile_model(path).run(None, 1, return_columns=["inflow"], backend="numpy")
        assert ds["inflow"].values[0, 0] == pytest.approx(1.0)
    np.testing.assert_array_equal(run_stock(path, [0.1, 0.3]), good)
    for f in files:
        assert diskcache.read(f) is not None                  # written again


def _compile_and_run(args):
    path, xdg = args
    os.environ["XDG_CACHE_HOME"] = xdg
    return run_stock(path, [0.1, 0.15, 0.2])


def test_concurrent_writers_leave_a_valid_entry(tmp_path, own_cache):
    path = write_model(tmp_path, BODY)
    xdg = str(own_cache.parent)
    with ProcessPoolExecutor(4) as pool:
        results = list(pool.map(_compile_and_run, [(path, xdg)] * 8))
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])
    entry = entry_of(own_cache)
    assert not [p for p in entry.iterdir() if p.name.startswith(".tmp-")]
    assert cache.load_info(path).is_light
    np.testing.assert_array_equal(run_stock(path, [0.1, 0.15, 0.2]), results[0])


def test_atomic_write_under_concurrent_writers(tmp_path):
    target = tmp_path / "x.pkl"
    with ProcessPoolExecutor(4) as pool:
        assert all(pool.map(diskcache.write, [target] * 16, [list(range(10000))] * 16))
    assert diskcache.read(target) == list(range(10000))
    assert [p.name for p in tmp_path.iterdir()] == ["x.pkl"]


def test_a_folder_open_to_others_is_not_used(own_cache):
    own_cache.mkdir(parents=True)
    own_cache.chmod(0o777)
    assert diskcache.cache_root() is None
    own_cache.chmod(0o700)
    assert diskcache.cache_root() == own_cache


def test_missing_model_is_a_named_error(tmp_path, own_cache):
    from sim.errors import ModelError

    with pytest.raises(ModelError, match="does not exist"):
        compile_model(tmp_path / "none.mdl")


HEAVY = ("numpy", "pandas", "xarray", "matplotlib", "scipy", "pysd")
PROBE = """
import runpy, sys
sys.argv = ["plansim", *{args!r}]
try:
    runpy.run_module("sim", run_name="__main__")
except SystemExit:
    pass
print("LOADED:", *[m for m in {heavy!r} if m in sys.modules])
"""


@pytest.mark.parametrize("args", [["--help"], ["run", "--engine", "nope"], [],
                                  ["uncertainty", "--bogus"], ["forecast", "--bogus"]])
def test_help_and_argument_errors_import_no_numpy(args):
    """``python -m sim --help`` (and an argument error) loads neither NumPy nor pandas nor
    xarray."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", PROBE.format(args=args, heavy=HEAVY)],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    loaded = out.stdout.splitlines()[-1].split()[1:]
    assert "numpy" not in loaded, loaded
    assert "pandas" not in loaded and "xarray" not in loaded, loaded
    assert "matplotlib" not in loaded and "pysd" not in loaded, loaded
    if args == ["--help"]:
        assert "sensitivity" in out.stdout or "sensitivity" in out.stderr


def test_warm_start_imports_no_pysd():
    """With the parse cached, compiling and running the plan model imports no PySD. The cache
    is this test run's shared one (tests/conftest.py): the run here compiles the kernel there
    if no test has, so the process started below starts warm without parsing the model or
    compiling its kernel again."""
    from sim.simulate import Simulator

    Simulator("batch").run("plan", return_columns=["tech_firms"])   # its entry used last
    code = ("import sys\nfrom sim.simulate import Simulator\n"
            "Simulator('batch').run('plan', return_columns=['tech_firms'])\n"
            "print('pysd' in sys.modules)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, cwd=ROOT, timeout=300)
    assert run.stdout.strip() == "False", run.stderr
