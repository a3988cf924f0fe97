"""Issue 20 cases 4, 5 (output side), 6 (disk and lock) and 7: a user's file in a result folder
is kept, the lock never writes through a link or into a FIFO, and every OS error on the lock,
the marker or the swap is one line with exit 2 (3 for a full disk), earlier results intact.
Everything in tmp_path; no model is run (the command line stops at its claim on --out)."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from sim.cli.main import main
from sim.errors import DiskFullError, OutputError
from sim.present.output import atomic, outdir
from sim.present.output.outdir import LOCK, MARKER, claim, marker_text, owned_dir, release_all

pytestmark = pytest.mark.usefixtures("output_locks_released")


def earlier(folder: Path, files=("a.csv",), listed=True) -> Path:
    """An earlier result of `plansim run` (its marker lists its files unless not ``listed``:
    a marker of an older plansim)."""
    folder.mkdir(parents=True)
    (folder / MARKER).write_text(marker_text("run", files if listed else None))
    for f in files:
        (folder / f).write_text("old")
    return folder


def rerun(root: Path, name: str = "plan", files=("a.csv",)) -> None:
    claim(root, "run", [name])
    with owned_dir(root / name) as tmp:
        for f in files:
            (tmp / f).write_text("new")
    release_all()


def test_marker_lists_what_plansim_wrote(tmp_path):
    rerun(tmp_path, files=("a.csv", "b.csv"))
    doc = json.loads((tmp_path / "plan" / MARKER).read_text())
    assert doc["files"] == ["a.csv", "b.csv"]


def test_users_file_in_a_result_folder_is_carried_over(tmp_path, capsys):
    """Issue 20 case 4: `echo notes > L/plan/my-notes.txt` survives the next run."""
    earlier(tmp_path / "plan")
    (tmp_path / "plan" / "my-notes.txt").write_text("notes")
    (tmp_path / "plan" / "mine").mkdir()
    (tmp_path / "plan" / "mine" / "x.txt").write_text("x")
    rerun(tmp_path)
    assert (tmp_path / "plan" / "my-notes.txt").read_text() == "notes"
    assert (tmp_path / "plan" / "mine" / "x.txt").read_text() == "x"
    assert (tmp_path / "plan" / "a.csv").read_text() == "new"
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "kept in" in err[0] and "my-notes.txt" in err[0], err
    rerun(tmp_path)                    # and on every later run
    assert (tmp_path / "plan" / "my-notes.txt").read_text() == "notes"


def test_old_marker_without_list_keeps_what_the_new_result_does_not_write(tmp_path):
    earlier(tmp_path / "plan", files=("a.csv", "gone.csv"), listed=False)
    (tmp_path / "plan" / "my-notes.txt").write_text("notes")
    rerun(tmp_path)
    assert (tmp_path / "plan" / "my-notes.txt").read_text() == "notes"
    assert (tmp_path / "plan" / "a.csv").read_text() == "new"


def test_users_file_named_like_a_new_output_refuses_and_keeps_everything(tmp_path):
    earlier(tmp_path / "plan")
    (tmp_path / "plan" / "b.csv").write_text("mine")
    claim(tmp_path, "run", ["plan"])
    with pytest.raises(OutputError, match=r"b.csv' was not written by plansim"), \
            owned_dir(tmp_path / "plan") as tmp:
        (tmp / "a.csv").write_text("new")
        (tmp / "b.csv").write_text("new")
    assert (tmp_path / "plan" / "b.csv").read_text() == "mine"
    assert (tmp_path / "plan" / "a.csv").read_text() == "old"
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


def cli_run(out: Path, capsys) -> tuple[int, list[str]]:
    code = main(["run", "plan", "--quiet", "--out", str(out)])
    return code, capsys.readouterr().err.strip().splitlines()


@pytest.mark.parametrize("kind", ["fifo", "folder", "symlink", "hardlink"])
def test_lock_that_is_not_a_plain_file_is_refused_in_one_line(tmp_path, capsys, kind):
    """Issue 20 cases 6 (a FIFO: EINVAL) and 7 (a hard link: ~/f overwritten)."""
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "f"
    victim.write_text("precious")
    lock = out / LOCK
    {"fifo": lambda: os.mkfifo(lock), "folder": lock.mkdir,
     "symlink": lambda: lock.symlink_to(victim), "hardlink": lambda: os.link(victim, lock)}[kind]()
    code, err = cli_run(out, capsys)
    assert code == 2 and len(err) == 1, err
    assert LOCK in err[0] and "Traceback" not in err[0]
    assert victim.read_text() == "precious"


@pytest.mark.parametrize("errnum, status", [(errno.ENOSPC, 2), (errno.EROFS, 2),
                                            (errno.EACCES, 2)])
def test_os_error_writing_the_lock_is_one_line(tmp_path, capsys, monkeypatch, errnum, status):
    """Issue 20 case 6: `--out` on a disk with 0 bytes free (the lock's pwrite)."""
    def full(*_a):
        raise OSError(errnum, os.strerror(errnum))

    monkeypatch.setattr(os, "pwrite", full)
    code, err = cli_run(tmp_path / "out", capsys)
    assert code == status and len(err) == 1, err
    assert os.strerror(errnum) in err[0] and LOCK in err[0]


def test_full_disk_at_the_marker_keeps_the_earlier_result(tmp_path, monkeypatch):
    earlier(tmp_path / "plan")
    claim(tmp_path, "run", ["plan"])
    real = Path.write_text

    def write_text(self, *a, **k):
        if self.name == MARKER:
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return real(self, *a, **k)

    monkeypatch.setattr(Path, "write_text", write_text)
    with pytest.raises(DiskFullError, match="No space left on device") as info, \
            owned_dir(tmp_path / "plan") as tmp:
        (tmp / "a.csv").write_text("new")
    assert info.value.exit_code == 3
    monkeypatch.undo()
    assert (tmp_path / "plan" / "a.csv").read_text() == "old"
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


def test_full_disk_while_writing_a_result_is_exit_3_earlier_intact(tmp_path):
    earlier(tmp_path / "plan")
    claim(tmp_path, "run", ["plan"])
    with pytest.raises(DiskFullError) as info, owned_dir(tmp_path / "plan") as tmp:
        (tmp / "a.csv").write_text("half")
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp / "b.csv"))
    assert info.value.exit_code == 3 and "\n" not in str(info.value)
    assert (tmp_path / "plan" / "a.csv").read_text() == "old"


@pytest.mark.parametrize("errnum, cls", [(errno.ENOSPC, DiskFullError),
                                         (errno.EROFS, OutputError)])
def test_failed_swap_is_one_line_and_keeps_the_earlier_result(tmp_path, monkeypatch, errnum,
                                                               cls):
    earlier(tmp_path / "plan")
    claim(tmp_path, "run", ["plan"])
    real = os.rename

    def rename(src, dst):
        if ".tmp-" in str(src):
            raise OSError(errnum, os.strerror(errnum))
        return real(src, dst)

    monkeypatch.setattr(atomic.os, "rename", rename)
    with pytest.raises(cls, match="cannot move the new") as info, \
            owned_dir(tmp_path / "plan") as tmp:
        (tmp / "a.csv").write_text("new")
    assert type(info.value) is cls
    monkeypatch.undo()
    assert (tmp_path / "plan" / "a.csv").read_text() == "old"
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name or ".old-" in p.name]


def test_exit_status_3_for_a_full_disk_on_the_command_line(tmp_path, capsys, monkeypatch):
    def full(*_a, **_k):
        raise DiskFullError("output: cannot write 'x': No space left on device")

    monkeypatch.setattr(outdir, "claim", full)
    code, err = cli_run(tmp_path / "out", capsys)
    assert code == 3 and len(err) == 1 and "No space left" in err[0]
