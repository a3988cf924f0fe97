"""`plansim regen` (sim.present.output.artefacts): every committed generated file, in dependency order.

One test checks the project's own files (every stale one listed, with the one command to run);
the others make an artefact stale in a tmp copy and check that `--check` reports it and writes
nothing, and that `regen` fixes it.
"""

from __future__ import annotations

import json
import re

import pytest

from sim import paths
from sim.cli.main import main
from sim.model.equations.sketch import SKETCH_MARK
from sim.present.output import artefacts


@pytest.mark.slow
def test_every_generated_artefact_is_current(capsys):
    """The sketch, the estimation, the schema, the diagrams, PySD's reference runs and the
    document blocks are what `make regen` makes of the declarations now."""
    code = main(["regen", "--check", "-q"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "every generated file is current" in out


def test_documents_show_the_committed_svg_diagrams_and_git_keeps_no_png():
    """The READMEs link the committed SVG of every diagram (what a reader who does not run the
    tool sees); PNGs, which `plansim diagram` draws on demand, are ignored by git."""
    links = set()
    for doc in (paths.MODEL_DIR / "README.md", paths.MODEL_DIR / "README.zh.md"):
        links |= set(re.findall(r"\(diagrams/([^)]+)\)", doc.read_text(encoding="utf-8")))
    assert links and all(name.endswith(".svg") for name in links), links
    missing = [n for n in links if not (paths.DIAGRAMS_DIR / n).is_file()]
    assert not missing, f"linked but not committed: {missing}; run `make regen`"
    assert "/model/diagrams/*.png" in (paths.ROOT / ".gitignore").read_text(encoding="utf-8")


@pytest.fixture
def fake_steps(monkeypatch):
    """Every artefact replaced by a step that records its calls; 'calibration' and 'docs' are
    stale until written."""
    calls: list[tuple[str, bool]] = []
    stale = {"calibration", "docs"}

    def step(aid):
        def run(write, say):
            calls.append((aid, write))
            if aid not in stale:
                return []
            if write:
                stale.discard(aid)
            return [f"{aid}.file: differs"]
        return run
    monkeypatch.setattr(artefacts, "ARTEFACTS",
                        {aid: (what, step(aid)) for aid, (what, _) in artefacts.ARTEFACTS.items()})
    return calls, stale


def test_check_lists_every_stale_artefact_writes_nothing_and_names_the_command(fake_steps,
                                                                              capsys):
    calls, stale = fake_steps
    assert main(["regen", "--check", "-q"]) == 1
    out = capsys.readouterr().out
    assert "calibration: STALE: calibration.file: differs" in out
    assert "docs: STALE: docs.file: differs" in out
    assert "2 stale; run `make regen`" in out and "the new estimation may change" in out
    assert calls == [(a, False) for a in artefacts.ARTEFACTS]       # in dependency order
    assert stale == {"calibration", "docs"}


def test_regen_writes_in_dependency_order_and_no_calibrate_skips_the_estimation(fake_steps,
                                                                                 capsys):
    calls, stale = fake_steps
    assert main(["regen", "--no-calibrate", "-q"]) == 0
    out = capsys.readouterr().out
    assert "calibration: STALE" in out and "docs: rewritten" in out
    assert "left as it is (--no-calibrate)" in out
    assert dict(calls) == {a: a != "calibration" for a in artefacts.ARTEFACTS}
    assert stale == {"calibration"}
    calls.clear()
    assert main(["regen", "-q"]) == 0
    assert "calibration: rewritten" in capsys.readouterr().out and not stale
    assert main(["regen", "--check", "docs", "-q"]) == 0
    assert calls[-1] == ("docs", False) and len(calls) == len(artefacts.ARTEFACTS) + 1


def test_an_unknown_artefact_is_one_line_and_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["regen", "--check", "sketches"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "'sketches' is not a generated artefact; allowed: sketch, calibration" in err


def test_a_stale_sketch_is_reported_then_rewritten(tmp_path, monkeypatch, capsys):
    """A tmp copy of the .mdl whose sketch lost an arrow: reported, left as it is by --check,
    rewritten by regen with the equations untouched."""
    mdl = tmp_path / "model.mdl"
    text = paths.MODEL_FILE.read_text(encoding="utf-8")
    equations, sketch = text.split(SKETCH_MARK, 1)
    lines = sketch.splitlines(keepends=True)
    arrow = next(i for i, line in enumerate(lines) if line.startswith("1,"))
    broken = equations + SKETCH_MARK + "".join(lines[:arrow] + lines[arrow + 1:])
    mdl.write_text(broken, encoding="utf-8")
    monkeypatch.setattr(paths, "MODEL_FILE", mdl)
    assert main(["regen", "--check", "sketch", "-q"]) == 1
    assert "sketch: STALE: " in capsys.readouterr().out
    assert mdl.read_text(encoding="utf-8") == broken
    assert main(["regen", "sketch", "-q"]) == 0
    assert "sketch: rewritten" in capsys.readouterr().out
    assert mdl.read_text(encoding="utf-8").split(SKETCH_MARK, 1)[0] == equations
    assert main(["regen", "--check", "sketch", "-q"]) == 0


def test_a_stale_schema_is_reported_then_rewritten(tmp_path, monkeypatch, capsys):
    """A tmp copy of scenarios/schema.json with one lever's range changed by hand."""
    committed = paths.SCENARIO_SCHEMA.read_text(encoding="utf-8")
    doc = json.loads(committed)
    lever = next(iter(doc["properties"]["levers"]["properties"].values()))
    lever["maximum"] = 1e9
    f = tmp_path / "schema.json"
    f.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    before = f.read_bytes()
    monkeypatch.setattr(paths, "SCENARIO_SCHEMA", f)
    assert main(["regen", "--check", "schema", "-q"]) == 1
    assert "differs from the one model/parameters.yaml" in capsys.readouterr().out
    assert f.read_bytes() == before
    assert main(["regen", "schema", "-q"]) == 0
    assert f.read_text(encoding="utf-8") == committed
