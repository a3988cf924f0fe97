"""The fontconfig file Graphviz reads (to find the CJK font): written where only the user can
write, never at a fixed name in the shared temporary folder, and safely by many threads."""

from __future__ import annotations

import os
import stat
import tempfile
import threading
from pathlib import Path

import pytest

from sim.model.equations import dot

PLANTED = '<?xml version="1.0"?><fontconfig><dir>/planted/fonts</dir></fontconfig>'


@pytest.fixture
def shared_tmp(tmp_path, monkeypatch):
    """A stand-in for /tmp where another user has planted plansim-fontconfig/fonts.conf."""
    shared = tmp_path / "shared"
    planted = shared / "plansim-fontconfig" / "fonts.conf"
    planted.parent.mkdir(parents=True)
    planted.write_text(PLANTED, encoding="utf-8")
    monkeypatch.setattr(tempfile, "tempdir", str(shared))
    monkeypatch.delenv("PLANSIM_CACHE", raising=False)
    monkeypatch.setenv("PLANSIM_CACHE_DIR", str(tmp_path / "cache"))
    return planted


def _is_private_folder(folder: Path) -> bool:
    st = os.lstat(folder)
    return (stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid()
            and stat.S_IMODE(st.st_mode) & 0o077 == 0)


def _check_ours(path: str, font_dir: Path, planted: Path) -> None:
    p = Path(path)
    assert p.resolve() != planted.resolve() and planted.parent.resolve() not in p.parents
    text = p.read_text(encoding="utf-8")
    assert f"<dir>{font_dir.resolve()}</dir>" in text and "/planted/" not in text
    assert _is_private_folder(p.parent)
    assert planted.read_text(encoding="utf-8") == PLANTED     # left alone, and never read


def test_a_planted_shared_file_is_never_used_with_the_cache(shared_tmp, tmp_path):
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    path = dot.fontconfig_file([fonts])
    _check_ours(path, fonts, shared_tmp)
    assert Path(path).parent == tmp_path / "cache" / "fontconfig"


def test_a_planted_shared_file_is_never_used_without_the_cache(shared_tmp, tmp_path,
                                                               monkeypatch):
    monkeypatch.setenv("PLANSIM_CACHE", "off")
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    path = dot.fontconfig_file([fonts])
    _check_ours(path, fonts, shared_tmp)
    assert not (tmp_path / "cache").exists()                  # caching off: nothing written
    assert Path(path).parent.name.startswith("plansim-fontconfig-")   # a new, private name


def test_an_unsafe_cache_root_falls_back_to_a_private_folder(shared_tmp, tmp_path, capsys):
    root = tmp_path / "cache"
    root.mkdir(mode=0o700)
    os.chmod(root, 0o777)                                     # others may write in it
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    path = dot.fontconfig_file([fonts])
    _check_ours(path, fonts, shared_tmp)
    assert root not in Path(path).parents
    assert "is not used: others may write in it" in capsys.readouterr().err


def test_graphviz_is_given_the_private_file(shared_tmp, tmp_path, monkeypatch):
    seen = {}

    class Done:
        returncode, stdout, stderr = 0, b"<svg/>", b""

    def fake_run(cmd, **kw):
        seen["conf"] = kw["env"]["FONTCONFIG_FILE"]
        return Done()

    monkeypatch.setattr(dot, "dot_program", lambda: "dot")
    monkeypatch.setattr(dot.subprocess, "run", fake_run)
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    assert dot.render("digraph { a }", "svg", font_dirs=[fonts]) == b"<svg/>"
    _check_ours(seen["conf"], fonts, shared_tmp)


def test_concurrent_calls_from_threads_never_fail(shared_tmp, tmp_path):
    # several folder sets, so that threads write new files while others read them
    dirs = []
    for i in range(4):
        d = tmp_path / f"fonts{i}"
        d.mkdir()
        dirs.append([d])
    n = 24
    start = threading.Barrier(n)
    results, errors = [None] * n, []

    def call(i):
        try:
            start.wait()
            results[i] = [dot.fontconfig_file(dirs[(i + k) % len(dirs)]) for k in range(8)]
        except Exception as exc:  # noqa: BLE001 - collected and reported below
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    folder = tmp_path / "cache" / "fontconfig"
    for i, paths in enumerate(results):
        for k, path in enumerate(paths):
            _check_ours(path, dirs[(i + k) % len(dirs)][0], shared_tmp)
    assert sorted(p.name.startswith(".tmp-") for p in folder.iterdir()) == [False] * len(dirs)
