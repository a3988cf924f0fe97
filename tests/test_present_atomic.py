"""Atomic directories, files and figure saving (sim.present.output.atomic)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from sim.errors import OutputError
from sim.present.figures.fonts import use_cjk_font
from sim.present.output import atomic
from sim.present.output.atomic import (
    atomic_dir,
    atomic_write_bytes,
    atomic_write_text,
    figure_bytes,
    save_figure,
)


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def make_old(final: Path) -> dict[str, bytes]:
    (final / "sub").mkdir(parents=True)
    (final / "a.csv").write_text("old a\n")
    (final / "sub" / "b.txt").write_text("旧的 b\n", encoding="utf-8")
    return snapshot(final)


def test_new_directory_is_created(tmp_path):
    final = tmp_path / "out" / "plan"
    with atomic_dir(final) as tmp:
        assert tmp.parent == final.parent and tmp != final and not final.exists()
        (tmp / "x.txt").write_text("x")
    assert snapshot(final) == {"x.txt": b"x"}
    assert sorted(p.name for p in final.parent.iterdir()) == ["plan"]


def test_existing_directory_is_replaced_whole(tmp_path):
    final = tmp_path / "plan"
    make_old(final)
    with atomic_dir(final) as tmp:
        (tmp / "new.csv").write_text("new\n")
    assert snapshot(final) == {"new.csv": b"new\n"}
    assert [p.name for p in tmp_path.iterdir()] == ["plan"]


def test_failure_midway_leaves_old_content_identical(tmp_path):
    final = tmp_path / "plan"
    before = make_old(final)
    with pytest.raises(RuntimeError, match="boom"), atomic_dir(final) as tmp:
        (tmp / "a.csv").write_text("half-written")
        (tmp / "more.csv").write_text("partial")
        raise RuntimeError("boom")
    assert snapshot(final) == before
    assert [p.name for p in tmp_path.iterdir()] == ["plan"]  # no temp dir left behind


def test_failed_swap_restores_old_directory(tmp_path, monkeypatch):
    final = tmp_path / "plan"
    before = make_old(final)
    real_rename = os.rename

    def rename(src, dst):
        if ".tmp-" in str(src):
            raise OSError("disk gone")
        return real_rename(src, dst)

    monkeypatch.setattr(atomic.os, "rename", rename)
    with pytest.raises(OutputError, match="cannot move"), atomic_dir(final) as tmp:
        (tmp / "new.csv").write_text("new")
    assert snapshot(final) == before
    assert [p.name for p in tmp_path.iterdir()] == ["plan"]


def test_final_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "plan").write_text("not a dir")
    with pytest.raises(OutputError, match="not a directory"), atomic_dir(tmp_path / "plan"):
        pass


def test_atomic_write_replaces_and_failure_keeps_old(tmp_path, monkeypatch):
    path = tmp_path / "deep" / "t.txt"
    atomic_write_text(path, "第一版\n")
    atomic_write_bytes(path, b"v2\n")
    assert path.read_bytes() == b"v2\n"

    def broken_fsync(_fd):
        raise OSError("no space left")

    monkeypatch.setattr(atomic.os, "fsync", broken_fsync)
    with pytest.raises(OutputError, match="no space left"):
        atomic_write_text(path, "v3 partial")
    assert path.read_bytes() == b"v2\n"
    assert [p.name for p in path.parent.iterdir()] == ["t.txt"]


def _fig() -> Figure:
    use_cjk_font()  # before any text is created: Text objects fix their font when made
    fig = Figure(figsize=(3, 2))
    ax = fig.subplots()
    ax.plot([1, 2, 3], [3, 1, 2])
    ax.set_title("技术经纪人")
    return fig


def test_save_figure_formats_and_determinism(tmp_path):
    fig = _fig()
    paths = save_figure(fig, tmp_path / "fig.v1", formats=("png", "svg", "pdf"), dpi=50)
    assert [p.name for p in paths] == ["fig.v1.png", "fig.v1.svg", "fig.v1.pdf"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in paths[1].read_bytes()[:1000]
    assert paths[2].read_bytes()[:5] == b"%PDF-"
    first = [p.read_bytes() for p in paths]
    save_figure(fig, tmp_path / "fig.v1", formats=("png", "svg", "pdf"), dpi=50)
    assert [p.read_bytes() for p in paths] == first


def test_save_figure_writes_png_unless_asked(tmp_path):
    paths = save_figure(_fig(), tmp_path / "fig", dpi=50)
    assert [p.name for p in paths] == ["fig.png"]
    assert [p.name for p in tmp_path.iterdir()] == ["fig.png"]


@pytest.mark.parametrize("size", [(13.8, 10.8), (15, 8.5), (4.6, 3.3)])
def test_png_is_rgb_of_the_canvas_size(size):
    """The PNG holds the pixels matplotlib draws (inches x dpi, however that rounds), as RGB."""
    import io

    import numpy as np
    from PIL import Image

    fig = _fig()
    fig.set_size_inches(size)
    png = Image.open(io.BytesIO(figure_bytes(fig, "png", dpi=150)))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150)
    reference = Image.open(buf)
    assert png.mode == "RGB" and png.size == reference.size
    assert np.array_equal(np.asarray(png), np.asarray(reference)[..., :3])


def test_save_figure_bad_format_writes_nothing(tmp_path):
    with pytest.raises(OutputError, match="'jpeg' not supported"):
        save_figure(_fig(), tmp_path / "fig", formats=("png", "jpeg"))
    assert list(tmp_path.iterdir()) == []
