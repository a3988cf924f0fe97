"""Stock-and-flow and causal-loop diagrams, their labels, the committed copies and the command."""

from __future__ import annotations

import pytest

from sim import paths
from sim.analysis.diagnostics.loops import derive_loop, loop_polarities
from sim.cli.main import main
from sim.model.declarations.loopspec import LoopSpec
from sim.model.declarations.sectors import load_sectors
from sim.model.declarations.varlabels import load_zh_labels
from sim.model.equations.graph import load_graph
from sim.model.equations.sketch import build_sketch
from sim.present.figures.diagrams import (
    diagrams_are_current,
    loop_dot,
    loop_table,
    sector_dot,
    variable_labels,
    write_diagrams,
)
from tests.inline_mdl import numpy_model


@pytest.fixture
def sketched(sketch_files):
    mdl, sec = sketch_files
    g = load_graph(mdl)
    return mdl, g, build_sketch(g, load_sectors(sec))


def _labels(g):
    return {n: f"L<{n}>" for n in g.nodes}


def test_sector_diagram_draws_stocks_valves_ghosts_and_levers_only(sketched):
    _, g, (people, money) = sketched
    src = sector_dot(people, g, _labels(g), "en", levers={"birth_rate"})
    assert '"v:population" [shape=box' in src
    assert '"v:births" [shape=circle' in src and 'xlabel="L<births>"' in src
    assert '"v:birth_rate" [shape=plaintext, fontcolor=' in src       # a lever: shown, green
    assert '"v:lifetime"' not in src                                    # other constants: not
    assert '"v:birth_rate" -> "v:births"' in src
    assert 'arrowhead=none' in src                                      # the pipe's tail
    msrc = sector_dot(money, g, _labels(g), "zh", levers=set())
    assert 'label="<L<population>>"' in msrc                            # a ghost
    assert "人口" not in msrc and "财富" in msrc                          # the sector's title


def test_loop_diagram_and_table_carry_measured_signs(sketched):
    mdl, g, _ = sketched
    spec = LoopSpec("B1", {"zh": "死亡", "en": "Deaths"}, "balancing",
                    ("population", "deaths"), {"zh": "", "en": ""})
    pols = loop_polarities(g, [derive_loop(g, spec)], numpy_model(mdl), {})
    src = loop_dot(pols, _labels(g), "en", "tiny")
    assert '"population" -> "deaths"' in src and 'headlabel="+"' in src
    assert '"deaths" -> "population"' in src and 'headlabel="−"' in src
    assert 'label="B1 Deaths"' in src
    table = loop_table(pols, _labels(g), "zh")
    assert "| B1 | 死亡 | L<population> → L<deaths> → L<population> | 调节 | 调节 | 0-9 |" in table


def test_written_files_are_stamped_and_checked(sketched, tmp_path):
    _, g, (people, _) = sketched
    src = {"sector-people.en": sector_dot(people, g, _labels(g), "en", set())}
    out = tmp_path / "d"
    write_diagrams(out, src)
    assert (out / "sector-people.en.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in (out / "sector-people.en.svg").read_text(encoding="utf-8")
    assert diagrams_are_current(out, src) == (True, "")
    changed = {"sector-people.en": src["sector-people.en"].replace("L<births>", "L<b>")}
    ok, why = diagrams_are_current(out, changed)
    assert not ok and "sector-people.en.dot differs" in why
    (out / "sector-people.en.dot").write_text(changed["sector-people.en"], encoding="utf-8")
    ok, why = diagrams_are_current(out, changed)
    assert not ok and "was not drawn from" in why


def test_every_drawn_variable_has_a_chinese_label():
    g = load_graph()
    zh = variable_labels(g, "zh")
    drawn = [n for n, node in g.nodes.items() if node.kind in ("stock", "flow", "aux")]
    missing = [n for n in drawn if zh[n] == g[n].vensim_name]
    assert not missing, f"add Chinese labels to model/labels.yaml for {missing}"
    stale = sorted(set(load_zh_labels()) - set(g.nodes))
    assert not stale, f"model/labels.yaml labels variables the model does not have: {stale}"


def test_unknown_sector_is_one_line_and_exit_2(capsys, tmp_path):
    assert main(["diagram", "--sector", "nope", "--out", str(tmp_path / "d"), "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--sector: 'nope' is not a sector" in err[0]


def test_out_dir_with_other_files_is_refused(capsys, tmp_path):
    (tmp_path / "notes.txt").write_text("keep me", encoding="utf-8")
    assert main(["diagram", "--sector", "platforms", "--lang", "en", "--out", str(tmp_path),
                 "-q"]) == 2
    assert "holds files that are not diagrams" in capsys.readouterr().err
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "keep me"


@pytest.mark.slow
def test_diagram_command_writes_one_sector_and_the_loops(capsys, tmp_path):
    out = tmp_path / "d"
    assert main(["diagram", "--sector", "platforms", "--lang", "en", "--out", str(out),
                 "-q"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([f"{stem}.{ext}" for stem in ("sector-platforms.en", "loops.en")
                            for ext in ("dot", "svg", "png")] + ["loop-table.en.md"])
    printed = capsys.readouterr().out
    assert "| R1 | Entrepreneurship |" in printed and f"-> {out}" in printed


def test_model_readme_shows_the_derived_loop_table_and_every_diagram():
    text = (paths.MODEL_DIR / "README.md").read_text(encoding="utf-8")
    start = text.index("<!-- generated: loop-table-en -->\n") + len(
        "<!-- generated: loop-table-en -->\n")
    block = text[start:text.index("<!-- /generated -->", start)]
    committed = (paths.MODEL_DIR / "diagrams" / "loop-table.en.md").read_text(encoding="utf-8")
    assert block == committed, "model/README.md: the loop table differs from the derived one"
    for s in load_sectors():
        assert f"diagrams/sector-{s.id}.en.svg" in text
    assert "diagrams/loops.en.svg" in text


def _outside_generated(text: str) -> str:
    import re

    return re.sub(r"<!-- generated: [\w-]+ -->.*?<!-- /generated -->", "", text, flags=re.S)


def test_chinese_guide_has_the_derived_loop_table_and_no_typed_numbers():
    import re

    text = (paths.MODEL_DIR / "README.zh.md").read_text(encoding="utf-8")
    marker = "<!-- generated: loop-table-zh -->\n"
    start = text.index(marker) + len(marker)
    block = text[start:text.index("<!-- /generated -->", start)]
    assert block == (paths.MODEL_DIR / "diagrams" / "loop-table.zh.md").read_text(
        encoding="utf-8")
    for s in load_sectors():
        assert f"diagrams/sector-{s.id}.zh.svg" in text
    prose = _outside_generated(text)
    prose = prose.replace("2024—2028", "")                # the plan's title
    prose = re.sub(r"\b[RB]\d+\b", "", prose)              # loop ids (B10 too)
    assert not re.findall(r"\d", prose), "model/README.zh.md: numbers typed outside a generated block"


def test_fill_generated_block():
    from sim.errors import OutputError
    from sim.present.figures.diagrams import fill_generated_block

    text = "a\n<!-- generated: t -->\nold\n<!-- /generated -->\nb\n"
    assert fill_generated_block(text, "t", "new\n") == \
        "a\n<!-- generated: t -->\nnew\n<!-- /generated -->\nb\n"
    with pytest.raises(OutputError, match="README.md: no block '<!-- generated: u -->'"):
        fill_generated_block(text, "u", "x", "README.md")
