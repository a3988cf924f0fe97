"""Output folders plansim owns (sim.present.output.outdir): markers, names, locks, stale temporaries,
signals. Everything in tmp_path; no model is run."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from sim.errors import OutputError
from sim.present.output import outdir
from sim.present.output.outdir import (
    MARKER,
    Interrupted,
    check_name,
    claim,
    install_signal_handlers,
    marker_text,
    owned_dir,
    release_all,
    restore_signal_handlers,
)

pytestmark = pytest.mark.usefixtures("output_locks_released")


def ours(folder: Path, command: str = "run", files=("a.csv",)) -> Path:
    folder.mkdir(parents=True)
    (folder / MARKER).write_text(marker_text(command, files))
    for f in files:
        (folder / f).write_text("old")
    return folder


def test_result_folder_gets_a_marker(tmp_path):
    claim(tmp_path, "run", ["plan"])
    with owned_dir(tmp_path / "plan") as tmp:
        (tmp / "x.csv").write_text("x")
    doc = json.loads((tmp_path / "plan" / MARKER).read_text())
    assert doc["tool"] == "plansim" and doc["command"] == "run" and doc["time"]
    assert outdir.active().created == ["plan"]


def test_own_earlier_result_is_replaced_and_reported(tmp_path):
    ours(tmp_path / "plan")
    claim(tmp_path, "run", ["plan"])
    with owned_dir(tmp_path / "plan") as tmp:
        (tmp / "new.csv").write_text("new")
    assert sorted(p.name for p in (tmp_path / "plan").iterdir()) == [MARKER, "new.csv"]
    assert outdir.active().replaced == ["plan"]
    assert "replaced: " in outdir.active().summary()


def test_folder_without_marker_is_never_replaced(tmp_path):
    (tmp_path / "plan").mkdir()
    (tmp_path / "plan" / "thesis.tex").write_text("years of work")
    with pytest.raises(OutputError, match=r"plan' exists and was not written by plansim"):
        claim(tmp_path, "run", ["plan"])
    with pytest.raises(OutputError, match="not written by plansim"), \
            owned_dir(tmp_path / "plan"):
        pass
    assert (tmp_path / "plan" / "thesis.tex").read_text() == "years of work"


def test_other_commands_result_is_not_replaced(tmp_path):
    """Issue 8 case 3: a scenario named 'uncertainty' must not replace a Monte Carlo result."""
    ours(tmp_path / "uncertainty", command="uncertainty")
    with pytest.raises(OutputError, match="holds a result of `plansim uncertainty`"):
        claim(tmp_path, "run", ["uncertainty"])
    assert (tmp_path / "uncertainty" / "a.csv").read_text() == "old"


def test_out_itself_and_other_files_untouched(tmp_path):
    """Issue 8 case 1: only the result folders change; --out and its other content stay."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "thesis.tex").write_text("thesis")
    (tmp_path / "notes.txt").write_text("notes")
    claim(tmp_path, "compare", ["compare"])
    with owned_dir(tmp_path / "compare") as tmp:
        (tmp / "comparison.csv").write_text("c")
    assert (tmp_path / "src" / "thesis.tex").read_text() == "thesis"
    assert (tmp_path / "notes.txt").read_text() == "notes"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".plansim.lock", "compare",
                                                          "notes.txt", "src"]


@pytest.mark.parametrize("name", [".", "..", "a/b", "a\\b", ".hidden", "", "-x", "a\0b",
                                  "plan.", "plan ", " plan", "a\nb", "../plan"])
def test_bad_result_names_refused(name, tmp_path):
    with pytest.raises(OutputError, match="cannot name a result folder"):
        check_name(name)
    with pytest.raises(OutputError):
        claim(tmp_path, "run", [name])


@pytest.mark.parametrize("name", ["plan", "budget-squeeze", "my plan", "预算压缩", "v2.1_x", "a"])
def test_plain_result_names_accepted(name):
    assert check_name(name) == name


def test_duplicate_results_refused_before_anything(tmp_path):
    out = tmp_path / "x"
    with pytest.raises(OutputError, match="two results would be written to .*plan"):
        claim(out, "run", ["plan", "baseline", "plan"])
    assert not out.exists()


def test_out_that_is_a_file_refused(tmp_path):
    (tmp_path / "x").write_text("a file")
    with pytest.raises(OutputError, match="exists and is not a folder"):
        claim(tmp_path / "x", "run", ["plan"])
    assert (tmp_path / "x").read_text() == "a file"


def test_out_not_writable_refused(tmp_path, monkeypatch):
    ro = tmp_path / "ro"
    ro.mkdir()
    # as if the folder were read-only (chmod does not stop root, who may run the tests)
    monkeypatch.setattr(outdir.os, "access", lambda path, mode: Path(path) != ro)
    with pytest.raises(OutputError, match=f"folder '{ro}' is not writable"):
        claim(ro, "run", ["plan"])
    with pytest.raises(OutputError, match=f"cannot create '{ro / 'sub'}': folder '{ro}' is not"):
        claim(ro / "sub", "run", ["plan"])
    assert list(ro.iterdir()) == []


def test_result_that_is_a_symlink_refused(tmp_path):
    victim = tmp_path / "victim"
    ours(victim)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "plan").symlink_to(victim)
    with pytest.raises(OutputError, match="symbolic link"):
        claim(tmp_path / "out", "run", ["plan"])


def test_concurrent_command_refused_with_message(tmp_path):
    """Issue 8 case 3: two runs into one folder: the second is refused, naming the first."""
    claim(tmp_path, "run", ["plan"])
    with pytest.raises(OutputError, match=r"another plansim command is writing into .*pid "
                                          rf"{os.getpid()}: plansim run"):
        claim(tmp_path, "uncertainty", ["uncertainty"])
    release_all()
    claim(tmp_path, "uncertainty", ["uncertainty"])  # free again once the first has ended


def test_stale_temporaries_removed_by_next_run(tmp_path):
    """Issue 8 case 4: a killed run's .X.tmp-* folder is removed by the next run; a folder
    of the same shape that is not ours is left alone; an old result caught mid-swap is put
    back."""
    stale = ours(tmp_path / ".plan.tmp-0123456789ab")
    foreign = tmp_path / ".mine.tmp-0123456789ab"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("keep")
    halfway = ours(tmp_path / ".baseline.old-abcdefabcdef", files=("b.csv",))
    session = claim(tmp_path, "run", ["plan"])
    assert not stale.exists() and session.removed_stale == [stale.name]
    assert (foreign / "keep.txt").read_text() == "keep"
    assert not halfway.exists()
    assert (tmp_path / "baseline" / "b.csv").read_text() == "old"


def test_sigterm_mid_result_removes_temporary_and_reports(tmp_path):
    """Issue 8 case 4: SIGTERM while writing the second result: the first result was replaced,
    the second is untouched, no temporary folder remains, the summary says which is which."""
    ours(tmp_path / "baseline")
    ours(tmp_path / "plan")
    old = install_signal_handlers()
    try:
        session = claim(tmp_path, "run", ["baseline", "plan"])
        with owned_dir(tmp_path / "baseline") as tmp:
            (tmp / "new.csv").write_text("new")
        with pytest.raises(Interrupted) as info, owned_dir(tmp_path / "plan") as tmp:
            (tmp / "half.csv").write_text("half")
            os.kill(os.getpid(), signal.SIGTERM)
            raise AssertionError("not reached: SIGTERM raises Interrupted")
    finally:
        restore_signal_handlers(old)
    assert info.value.exit_status == 128 + signal.SIGTERM
    assert (tmp_path / "plan" / "a.csv").read_text() == "old"
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]
    text = session.summary()
    assert f"replaced: {tmp_path / 'baseline'}" in text
    assert f"not written (any earlier result there is untouched): {tmp_path / 'plan'}" in text


def test_signal_during_swap_is_deferred(tmp_path, monkeypatch):
    """A signal arriving between the two renames of a swap takes effect after the swap."""
    from sim.present.output import atomic

    ours(tmp_path / "plan")
    real_rename = os.rename
    calls = []

    def rename(src, dst):
        calls.append(Path(src).name)
        real_rename(src, dst)
        if len(calls) == 1:   # after moving the old result away, before moving the new in
            atomic.interrupt(Interrupted(signal.SIGINT))

    monkeypatch.setattr(atomic.os, "rename", rename)
    session = claim(tmp_path, "run", ["plan"])
    with pytest.raises(Interrupted), owned_dir(tmp_path / "plan") as tmp:
        (tmp / "new.csv").write_text("new")
    assert (tmp_path / "plan" / "new.csv").read_text() == "new"
    assert session.replaced == ["plan"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".plan.")]


def test_a_result_in_one_language_keeps_the_other_languages_files(tmp_path):
    """owned_dir(langs=...) carries over the old folder's files tagged with another language
    (brief_zh.html, fit_zh.png, loops.zh.dot); untagged and same-language files are replaced."""
    from sim.present.output.outdir import owned_dir

    final = tmp_path / "brief"
    with owned_dir(final, langs="zh") as tmp:
        for name in ("brief_zh.html", "fit_zh.png", "loops.zh.dot", "table.csv",
                     "enterprise.png"):
            (tmp / name).write_text("zh run", encoding="utf-8")
    with owned_dir(final, langs=["en"]) as tmp:
        (tmp / "brief_en.html").write_text("en run", encoding="utf-8")
    names = {p.name for p in final.iterdir() if not p.name.startswith(".")}
    assert names == {"brief_zh.html", "fit_zh.png", "loops.zh.dot", "brief_en.html"}
    with owned_dir(final, langs="zh") as tmp:   # a new zh result replaces the old zh files
        (tmp / "brief_zh.html").write_text("zh again", encoding="utf-8")
    assert (final / "brief_zh.html").read_text(encoding="utf-8") == "zh again"
    assert not (final / "fit_zh.png").exists() and (final / "brief_en.html").exists()
    with owned_dir(final) as tmp:                # no language given: the whole folder replaced
        pass
    assert not (final / "brief_en.html").exists()
