"""Generated documentation blocks (sim.present.documents.docs) and `plansim docs`.

The machinery is tested on small documents in tmp_path with toy generators; one slow test runs
`plansim docs --check` on the real README.md and model/README.md, so that no number in them can
drift from what the model computes.
"""

from __future__ import annotations

import textwrap

import pandas as pd
import pytest

from sim.cli.main import main
from sim.errors import DocumentError
from sim.present.documents.docs import (
    find_blocks,
    md_table,
    percent,
    signed_percent,
    update_documents,
    wrap,
)

DOC = textwrap.dedent("""\
    # Title

    Blocks look like `<!-- generated: NAME -->` in prose; that mention is not a marker.

    <!-- generated: alpha -->
    old alpha
    <!-- /generated -->

    middle text

    <!-- generated: beta -->
    <!-- /generated -->
    """)


def gens(calls: list | None = None, **values):
    calls = calls if calls is not None else []

    def make(name, value):
        def f():
            calls.append(name)
            return value
        return f
    return {k: make(k, v) for k, v in values.items()}


def test_find_blocks_ignores_mentions_in_prose():
    blocks = find_blocks(DOC, "doc.md")
    assert [(b.name, b.line) for b in blocks] == [("alpha", 5), ("beta", 11)]
    assert blocks[0].body(DOC).strip() == "old alpha"


def test_update_rewrites_blocks_and_keeps_everything_else(tmp_path):
    path = tmp_path / "doc.md"
    path.write_text(DOC, encoding="utf-8")
    stale = update_documents([path], gens(alpha="A = 1", beta="| x |\n|---|\n| 2 |"))
    assert [s.name for s in stale] == ["alpha", "beta"]
    text = path.read_text(encoding="utf-8")
    assert "<!-- generated: alpha -->\nA = 1\n<!-- /generated -->" in text
    assert "<!-- generated: beta -->\n| x |\n|---|\n| 2 |\n<!-- /generated -->" in text
    assert text.replace("A = 1", "old alpha").replace("\n| x |\n|---|\n| 2 |", "") == DOC
    # a second run finds nothing stale and leaves the file byte for byte
    assert update_documents([path], gens(alpha="A = 1", beta="| x |\n|---|\n| 2 |")) == []
    assert not [p for p in tmp_path.iterdir() if p.name != "doc.md"], "temporary files left"


def test_check_reports_only_stale_blocks_and_writes_nothing(tmp_path):
    path = tmp_path / "doc.md"
    path.write_text(DOC, encoding="utf-8")
    stale = update_documents([path], gens(alpha="old alpha", beta="new"), check=True)
    assert [(s.name, s.line) for s in stale] == [("beta", 11)]
    assert path.read_text(encoding="utf-8") == DOC


def test_each_generator_runs_once_for_several_documents(tmp_path):
    a, b = tmp_path / "a.md", tmp_path / "b.md"
    a.write_text(DOC, encoding="utf-8")
    b.write_text("<!-- generated: alpha -->\n<!-- /generated -->\n", encoding="utf-8")
    calls: list = []
    update_documents([a, b], gens(calls, alpha="x", beta="y", unused="z"))
    assert sorted(calls) == ["alpha", "beta"]
    assert "\nx\n" in b.read_text(encoding="utf-8")


def test_a_failing_generator_leaves_every_file_as_it_was(tmp_path):
    a, b = tmp_path / "a.md", tmp_path / "b.md"
    a.write_text(DOC, encoding="utf-8")
    b.write_text("<!-- generated: beta -->\n<!-- /generated -->\n", encoding="utf-8")

    def boom():
        raise DocumentError("block 'beta': the model has no variable 'x'")
    with pytest.raises(DocumentError, match="no variable 'x'"):
        update_documents([a, b], {"alpha": lambda: "new", "beta": boom})
    assert a.read_text(encoding="utf-8") == DOC


@pytest.mark.parametrize("text, message", [
    ("<!-- generated: a -->\nx\n", r"doc.md:1: block 'a' is never closed"),
    ("x\n<!-- /generated -->\n", r"doc.md:2: <!-- /generated --> without an opening"),
    ("<!-- generated: a -->\n<!-- generated: b -->\n<!-- /generated -->\n",
     r"doc.md:2: block 'b' opens inside block 'a'"),
    ("<!-- generated: Bad_Name -->\n<!-- /generated -->\n", r"doc.md:1: malformed marker"),
    ("<!-- generated: a -->\n<!-- /generated -->\n<!-- generated: a -->\n<!-- /generated -->\n",
     r"doc.md: block 'a' appears twice"),
])
def test_malformed_markers_are_one_clear_error(text, message):
    with pytest.raises(DocumentError, match=message):
        find_blocks(text, "doc.md")


def test_unknown_block_names_file_line_and_known_blocks(tmp_path):
    path = tmp_path / "doc.md"
    path.write_text("\n<!-- generated: gamma -->\n<!-- /generated -->\n", encoding="utf-8")
    with pytest.raises(DocumentError, match=r"doc.md:2: unknown block 'gamma'; known blocks: "
                                            r"alpha, beta"):
        update_documents([path], gens(alpha="", beta=""))


def test_formatting_helpers():
    assert percent(0.4949) == "49%" and percent(0.0015) == "0.15%" and percent(0) == "0%"
    assert percent(float("nan")) == "-"
    assert signed_percent(-0.045) == "-4.5%" and signed_percent(0.26) == "+26%"
    table = md_table(pd.DataFrame({"a": ["x|y"], "b": [1]}))
    assert table.splitlines() == ["| a | b |", "|---|---|", "| x\\|y | 1 |"]
    long = "- " + " ".join(["word"] * 40) + " 7.5-13.6"
    wrapped = wrap(long, width=40).splitlines()
    assert all(len(x) <= 40 for x in wrapped) and all(x.startswith("  ") for x in wrapped[1:])
    assert "7.5-13.6" in wrapped[-1]
    assert wrap("| " + "a | " * 40) == "| " + "a | " * 40   # tables are never wrapped


def test_cli_check_lists_a_stale_block_and_exit_1(tmp_path, capsys):
    path = tmp_path / "doc.md"
    path.write_text("Controls:\n\n<!-- generated: time-controls -->\nTIME STEP 7\n"
                    "<!-- /generated -->\n", encoding="utf-8")
    assert main(["docs", str(path), "--check", "-q"]) == 1
    out = capsys.readouterr().out
    assert f"{path}:3: block 'time-controls' is stale" in out
    assert "TIME STEP 7" in path.read_text(encoding="utf-8")
    assert main(["docs", str(path), "-q"]) == 0
    text = path.read_text(encoding="utf-8")
    assert "TIME STEP 7" not in text and "`INITIAL TIME` 2012" in text
    assert main(["docs", str(path), "--check", "-q"]) == 0


def test_cli_unknown_block_exit_2(tmp_path, capsys):
    path = tmp_path / "doc.md"
    path.write_text("<!-- generated: nonsense -->\n<!-- /generated -->\n", encoding="utf-8")
    assert main(["docs", str(path), "--check"]) == 2
    err = capsys.readouterr().err
    assert "unknown block 'nonsense'" in err and str(path) in err


def test_pysd_model_loaded_twice_is_a_model():
    """load_pysd_model returned None on its second call in a process (PySD's reload returns
    None); the element-count and constants blocks load it after other users."""
    from sim import paths
    from sim.model.equations.mdl import load_pysd_model

    first = load_pysd_model(paths.MODEL_FILE)
    again = load_pysd_model(paths.MODEL_FILE)
    assert again is not None and len(again.doc) == len(first.doc) > 0


def test_a_block_names_a_variable_the_model_lacks():
    import numpy as np
    import xarray as xr

    from sim.present.documents.doc_blocks import DocContext

    ctx = DocContext()
    ctx.__dict__["runs"] = {"plan": xr.Dataset(
        {"tech_firms": (("sample", "time"), np.ones((1, 2)))},
        coords={"sample": [0], "time": [2028.0, 2029.0]})}
    assert ctx.value("plan", "tech_firms", 2028, "reading") == 1.0
    with pytest.raises(DocumentError, match="block 'reading': the model has no variable "
                                            "'fiscal_st_funds'"):
        ctx.value("plan", "fiscal_st_funds", 2028, "reading")


def test_the_chinese_guide_is_a_generated_document_with_known_blocks():
    """model/README.zh.md is regenerated by `plansim docs` (its numbers live only in blocks),
    and every block it holds has a generator."""
    from sim import paths
    from sim.present.documents.doc_blocks import generators

    guide = paths.MODEL_DIR / "README.zh.md"
    assert guide in paths.DOCUMENTS
    names = {b.name for b in find_blocks(guide.read_text(encoding="utf-8"), str(guide))}
    assert {"targets-table-zh", "plan-lever-values-zh", "calibration-summary-zh",
            "results-table-zh", "loop-table-zh"} <= names
    assert names <= set(generators())


def test_caveats_declared_once_drive_both_readmes(tmp_path, monkeypatch):
    """Change model/caveats.yaml alone: the caveats blocks of model/README.md (en) and
    model/README.zh.md (zh) both follow; the rest of each document stays as it was."""
    import yaml

    from sim import paths
    from sim.present.documents.doc_blocks import generators

    raw = yaml.safe_load(paths.CAVEATS_FILE.read_text(encoding="utf-8"))
    raw["caveats"]["scarce-data"] = {"zh": "**新的局限**：只是一个测试。",
                                     "en": "**A new caveat**: only a test."}
    raw["caveats"]["extra-one"] = {"zh": "再加一条。", "en": "One more."}
    changed = tmp_path / "caveats.yaml"
    changed.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False),
                       encoding="utf-8")
    monkeypatch.setattr(paths, "CAVEATS_FILE", changed)
    real = generators()
    docs, gens = [], {}
    for name in ("README.md", "README.zh.md"):
        doc = tmp_path / name
        text = (paths.MODEL_DIR / name).read_text(encoding="utf-8")
        doc.write_text(text, encoding="utf-8")
        docs.append((doc, text))
        for b in find_blocks(text, name):   # every other block: kept as it is
            body = b.body(text)
            gens[b.name] = lambda body=body: body
    gens.update({"caveats": real["caveats"], "caveats-zh": real["caveats-zh"]})
    stale = update_documents([d for d, _ in docs], gens)
    assert sorted((s.path.name, s.name) for s in stale) == [("README.md", "caveats"),
                                                            ("README.zh.md", "caveats-zh")]
    for (doc, old), (lang, other) in zip(docs, (("en", "zh"), ("zh", "en")), strict=True):
        new = doc.read_text(encoding="utf-8")
        body = next(b for b in find_blocks(new) if b.name.startswith("caveats")).body(new)
        bullets = [line for line in body.splitlines() if line.startswith("- ")]
        assert bullets[0] == "- " + raw["caveats"]["scarce-data"][lang]
        assert bullets[-1] == "- " + raw["caveats"]["extra-one"][lang]
        assert len(bullets) == len(raw["caveats"])
        assert raw["caveats"]["scarce-data"][other] not in new
        assert new.replace(body, "") == old.replace(
            next(b for b in find_blocks(old) if b.name.startswith("caveats")).body(old), "")
