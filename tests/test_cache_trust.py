"""Issue 20 cases 1 and 5: nothing planted in a cache runs (numba's .nbi/.nbc pickles, a .py or
.pyc beside a kernel, a model-cache pickle), a cache folder that is not the user's own or is
open to others is refused with one notice, ``PLANSIM_CACHE=off`` writes nothing, and a cache
that cannot be written (read-only, full) leaves the command running uncached.

The kernel cases use a two-line numba module (compiled in a fraction of a second) through the
same loader as the generated kernels (:func:`sim.engine.kernel_cache.load`)."""

from __future__ import annotations

import errno
import os
import pickle
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from test_engine_helpers import write_model

from sim.engine import cache, compile_model
from sim.model.cache import diskcache

numba = pytest.importorskip("numba")
from sim.engine import kernel_cache  # noqa: E402 (numba needed)

BODY = """
stock = INTEG(inflow, 10)
~ widgets ~~|
inflow = growth rate * stock
~ widgets/Year ~~|
growth rate = 0.1
~ 1/Year ~~|
"""
TEXT = """from numba import njit


@njit
def kernel(x):
    return x + 1.0


@njit
def serial(x):
    return x * 2.0
"""


@dataclass(frozen=True)
class Source:
    """What :func:`kernel_cache.load` reads of a generated kernel source."""

    text: str
    digest: str


@pytest.fixture
def root(tmp_path, monkeypatch) -> Path:
    """A cache root of this test (PLANSIM_CACHE_DIR), caching on."""
    monkeypatch.setenv("PLANSIM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("PLANSIM_CACHE", raising=False)
    diskcache.forget()   # every notice said again, as in a new process
    return tmp_path / "cache"


def fresh(src: Source) -> tuple:
    """``src`` loaded as a new process would (nothing of it kept in this one)."""
    kernel_cache.unload(src)
    return kernel_cache.load(src)


def compiled_once() -> tuple[Source, list[Path]]:
    src = Source(TEXT, uuid.uuid4().hex * 2)
    _, serial = fresh(src)
    assert serial(1.0) == 2.0
    files = sorted(p for p in kernel_cache.folder().iterdir() if ".serial-" in p.name)
    assert {p.suffix for p in files} == {".nbi", ".nbc"}
    return src, files


class Payload:
    """A pickle that creates a folder when it is loaded."""

    def __init__(self, path: Path):
        self.path = str(path)

    def __reduce__(self):
        return (os.mkdir, (self.path,))


@pytest.mark.parametrize("victim", [".nbi", ".nbc"])
def test_planted_numba_pickle_does_not_run(root, tmp_path, victim):
    src, files = compiled_once()
    proof = tmp_path / "pwned"
    planted = next(p for p in files if p.suffix == victim)
    planted.write_bytes(pickle.dumps(Payload(proof)))
    assert pickle.loads(planted.read_bytes()) is None and proof.is_dir()   # it would run
    proof.rmdir()
    _, serial = fresh(src)
    assert serial(1.0) == 2.0                      # compiled again, same answer
    assert not proof.exists()
    assert diskcache.read_bytes(planted) is not None   # replaced by a signed file
    assert sum(serial.stats.cache_misses.values()) == 1


def test_signed_cache_is_reused(root):
    src, _ = compiled_once()
    _, serial = fresh(src)
    assert serial(3.0) == 6.0
    assert sum(serial.stats.cache_hits.values()) == 1
    assert sum(serial.stats.cache_misses.values()) == 0


def test_file_signed_with_another_key_is_not_read(root, tmp_path):
    src, files = compiled_once()
    key = root / diskcache.KEY_NAME
    os.chmod(key, 0o600)
    key.write_bytes(os.urandom(diskcache.MAC_SIZE))   # another user's key, or a new cache
    diskcache.forget()
    _, serial = fresh(src)
    assert serial(1.0) == 2.0
    assert sum(serial.stats.cache_misses.values()) == 1


def test_planted_py_and_pyc_beside_the_kernel_do_not_run(root, tmp_path):
    """The kernel's text runs from memory: a module file of its name, and a .pyc carrying
    that file's mtime and size, are never imported."""
    src = Source(TEXT, uuid.uuid4().hex * 2)
    folder = kernel_cache.folder()
    proof = tmp_path / "pwned"
    name = f"plansim_kernel_{src.digest[:24]}"
    planted = folder / f"{name}.py"
    planted.write_text(f"import os\nos.mkdir({str(proof)!r})\n" + TEXT)
    import py_compile

    py_compile.compile(str(planted), cfile=str(folder / "__pycache__" / f"{name}.cpython-"
                                              f"{sys.version_info[0]}{sys.version_info[1]}.pyc"))
    kernel, serial = fresh(src)
    assert kernel(1.0) == 2.0 and serial(1.0) == 2.0
    assert not proof.exists()


def test_planted_model_cache_pickle_does_not_run(root, tmp_path):
    path = write_model(tmp_path, BODY)
    compile_model(path).run(None, 1, backend="numpy")
    (entry,) = (root / "models").iterdir()
    proof = tmp_path / "pwned"
    for name in ("info.pkl", "full.pkl"):
        (entry / name).write_bytes(pickle.dumps(Payload(proof)))
    ds = compile_model(path).run(None, 1, return_columns=["stock"], backend="numpy")
    assert ds["stock"].values[0, 0] == 10.0
    assert not proof.exists()
    assert cache.load_info(path).is_light        # written again, signed


def unsafe_root(root: Path, how: str, monkeypatch) -> None:
    root.mkdir(mode=0o700)
    if how == "group-writable":
        os.chmod(root, 0o770)
    elif how == "world-writable":
        os.chmod(root, 0o777)
    elif os.getuid() == 0:                       # another user's folder
        os.chown(root, 12345, -1)
    else:
        monkeypatch.setattr(os, "getuid", lambda: 12345)


@pytest.mark.parametrize("how", ["group-writable", "world-writable", "other-user"])
def test_unsafe_cache_folder_is_refused_with_one_notice(root, tmp_path, monkeypatch, capsys, how):
    unsafe_root(root, how, monkeypatch)
    path = write_model(tmp_path, BODY)
    for _ in range(2):
        ds = compile_model(path).run(None, 1, return_columns=["stock"], backend="numpy")
        assert ds["stock"].values[0, 0] == 10.0
    assert diskcache.cache_root() is None and kernel_cache.folder() is None
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(root) in err[0] and "running without a cache" in err[0], err
    assert sorted(p.name for p in root.iterdir()) == []         # nothing written there


def test_unsafe_kernels_folder_is_refused(root, capsys):
    diskcache.cache_root()
    (root / "kernels").mkdir(mode=0o700)
    os.chmod(root / "kernels", 0o777)
    src = Source(TEXT, uuid.uuid4().hex * 2)
    _, serial = fresh(src)
    assert serial(1.0) == 2.0                    # compiled in this process only
    assert list((root / "kernels").iterdir()) == []
    assert "kernels' is not used: others may write in it" in capsys.readouterr().err


def test_key_open_to_others_is_refused(root, capsys):
    diskcache.cache_root()
    os.chmod(root / diskcache.KEY_NAME, 0o644)
    diskcache.forget()
    assert diskcache.cache_root() is None
    assert "is not a private file of yours" in capsys.readouterr().err


def test_cache_off_writes_nothing(root, tmp_path, monkeypatch):
    monkeypatch.setenv("PLANSIM_CACHE", "off")
    path = write_model(tmp_path, BODY)
    compile_model(path).run(None, 1, backend="numpy")
    _, serial = fresh(Source(TEXT, uuid.uuid4().hex * 2))
    assert serial(1.0) == 2.0
    assert not root.exists()


def test_read_only_cache_degrades_with_one_notice(root, tmp_path, monkeypatch, capsys):
    """Issue 20 case 5: HOME on a read-only mount."""
    real = os.mkdir

    def read_only(path, *a, **k):
        if str(path).startswith(str(root)):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real(path, *a, **k)

    monkeypatch.setattr(os, "mkdir", read_only)
    path = write_model(tmp_path, BODY)
    for _ in range(2):
        ds = compile_model(path).run(None, 1, return_columns=["stock"], backend="numpy")
        assert ds["stock"].values[0, 0] == 10.0
    _, serial = fresh(Source(TEXT, uuid.uuid4().hex * 2))
    assert serial(1.0) == 2.0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Read-only file system" in err[0], err


def test_full_cache_disk_degrades_with_one_notice(root, tmp_path, monkeypatch, capsys):
    """Issue 20 case 5: ENOSPC while the cache writes (models and numba's files)."""
    diskcache.cache_root()

    def full(*_a, **_k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(diskcache.tempfile, "mkstemp", full)
    path = write_model(tmp_path, BODY)
    ds = compile_model(path).run(None, 1, return_columns=["stock"], backend="numpy")
    assert ds["stock"].values[0, 0] == 10.0
    _, serial = fresh(Source(TEXT, uuid.uuid4().hex * 2))
    assert serial(1.0) == 2.0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "No space left on device" in err[0], err
    assert not [p for p in root.rglob("*") if p.is_file() and p.name != diskcache.KEY_NAME]


def test_folders_and_files_are_private(root, tmp_path):
    path = write_model(tmp_path, BODY)
    compile_model(path).run(None, 1, backend="numpy")
    compiled_once()
    for p in [root, *root.rglob("*")]:
        mode = p.stat().st_mode & 0o777
        assert mode == (0o700 if p.is_dir() else 0o600), (p, oct(mode))


def test_nothing_written_inside_the_package(root, tmp_path):
    """The helpers' numba cache lives in the cache root, not in sim/engine/__pycache__: a
    kernel calling a helper (MIN) is compiled in a new process with this cache root."""
    path = write_model(tmp_path, "low = MIN(Time, 3)\n~ Month ~~|\n", final=4, dt=1)
    code = ("import sys; sys.path.insert(0, sys.argv[1])\n"
            "from sim.engine import compile_model\n"
            "ds = compile_model(sys.argv[2]).run(backend='kernel')\n"
            "print(*ds['low'].values[0])\n")
    repo = Path(__file__).resolve().parent.parent
    res = subprocess.run([sys.executable, "-c", code, str(repo), path], capture_output=True,
                         text=True, env={**os.environ}, timeout=300)
    assert res.returncode == 0, res.stderr
    np.testing.assert_equal([float(v) for v in res.stdout.split()], [0.0, 1.0, 2.0, 3.0, 3.0])
    assert list((root / "kernels" / "helpers").glob("*.nbi"))
    assert not list((repo / "sim").rglob("*.nb[ic]"))


def test_missing_kernel_compiles_in_the_background_for_the_next_command(root, monkeypatch,
                                                                         capsys):
    """Issue 22 item 9: with an empty cache a command does not wait for the kernel: a
    background process compiles it into the cache, and the next command loads it."""
    from types import SimpleNamespace

    from sim.engine import BACKGROUND_COMPILE

    monkeypatch.setitem(BACKGROUND_COMPILE, "on", True)
    src = SimpleNamespace(text=TEXT, digest=uuid.uuid4().hex * 2)
    job = {"digest": src.digest, "source": src}
    _, serial = fresh(src)
    assert not kernel_cache.ready([serial], [1.0], job)       # started, not waited for
    proc = kernel_cache.background(src.digest)
    assert not kernel_cache.ready([serial], [1.0], job)       # one process per kernel
    assert proc.wait(timeout=300) == 0
    assert kernel_cache.ready([serial], [1.0], job)           # in the cache now
    assert not serial.signatures                              # not compiled in this process
    _, serial = fresh(src)
    assert serial(1.0) == 2.0 and sum(serial.stats.cache_hits.values()) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "built in the background" in err[0], err
    assert not list(kernel_cache.folder().glob("job-*"))


def test_run_waiting_for_the_kernel_takes_the_numpy_path(root, tmp_path, monkeypatch):
    path = write_model(tmp_path, BODY)
    bm = compile_model(path)
    rate = np.array([0.1, 0.2])
    monkeypatch.setattr(kernel_cache, "ready", lambda *a: False)
    a = bm.run({"growth_rate": rate}, 2, return_columns=["stock"])
    b = bm.run({"growth_rate": rate}, 2, return_columns=["stock"], backend="numpy")
    np.testing.assert_array_equal(a["stock"].values, b["stock"].values)
    (entry,) = bm.kernels.loaded()
    assert not any(f.signatures for f in entry.fn)            # the kernel was not compiled
