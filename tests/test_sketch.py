"""The generated Vensim sketch: one view per sector, every variable in exactly one view, ghosts
for links across views, and PySD's split-views check on the real model."""

from __future__ import annotations

import json
import shutil
import warnings

import pytest

from sim import paths
from sim.errors import ModelError
from sim.model.declarations.sectors import load_sectors
from sim.model.equations.graph import load_graph
from sim.model.equations.mdl import load_pysd_model
from sim.model.equations.sketch import (
    SKETCH_MARK,
    build_sketch,
    signature,
    sketch_is_current,
    sketch_text,
    split_mdl,
    write_sketch,
)
from sim.model.equations.views import assign_sectors, build_views


def test_graph_kinds_flows_and_initial_dependencies(sketch_files):
    mdl, _ = sketch_files
    g = load_graph(mdl)
    assert g["population"].kind == "stock"
    assert g["population"].inflows == ("births",) and g["population"].outflows == ("deaths",)
    assert g["births"].kind == "flow" and g["income"].kind == "flow"
    assert g["birth_rate"].kind == "constant"
    assert g["reference_population"].deps == ()
    assert g["reference_population"].init_deps == ("population",)
    assert "final_time" not in g.variables()


def test_every_variable_in_exactly_one_view(sketch_files):
    mdl, sec = sketch_files
    g = load_graph(mdl)
    views = build_views(g, load_sectors(sec))
    placed = [v for view in views for v in view.variables]
    assert sorted(placed) == sorted(g.variables())
    by = {view.id: view for view in views}
    assert set(by["people"].variables) == {"population", "births", "birth_rate", "deaths",
                                           "lifetime", "reference_population"}
    # income is a flow of wealth, wage is read by income: both go with the money view
    assert set(by["money"].variables) == {"wealth", "income", "wage"}
    assert by["money"].ghosts == ("population",)


def test_sketch_objects_pipes_ghosts_and_arrows(sketch_files):
    mdl, sec = sketch_files
    g = load_graph(mdl)
    people, money = build_sketch(g, load_sectors(sec))
    kinds = {o.key: o.kind for o in people.objects}
    assert kinds["v:population"] == "stock" and kinds["v:births"] == "valve"
    assert kinds["v:birth_rate"] == "aux"
    pipes = {p.valve: (p.source, p.sink) for p in people.pipes}
    assert pipes["v:births"][1] == "v:population" and pipes["v:births"][0].startswith("c:")
    assert pipes["v:deaths"][0] == "v:population" and pipes["v:deaths"][1].startswith("c:")
    assert ("v:birth_rate", "v:births") in people.arrows
    assert ("v:population", "v:reference_population") in people.arrows   # initial value
    assert ("v:births", "v:population") not in people.arrows               # drawn as a pipe
    assert ("g:population", "v:income") in money.arrows
    text = sketch_text([people, money], g, with_layout=False)
    assert text.count(SKETCH_MARK) == 2
    assert "10,1,population,0,0,40,20,3,3,0,0,0,0,0,0" in text
    ghost = [ln for ln in text.splitlines() if ln.startswith("10,") and ",population," in ln
             and ",8,2," in ln]
    assert len(ghost) == 1


def test_write_keeps_the_equations_and_check_detects_staleness(sketch_files, monkeypatch):
    mdl, sec = sketch_files
    monkeypatch.setattr("sim.model.equations.sketch.load_sectors", lambda: load_sectors(sec))
    before, _ = split_mdl(mdl.read_text(encoding="utf-8"))
    assert sketch_is_current(mdl)[0] is False
    write_sketch(mdl)
    after, sketch = split_mdl(mdl.read_text(encoding="utf-8"))
    assert after == before
    assert sketch_is_current(mdl) == (True, "")
    # positions do not matter, structure does
    assert signature(sketch) == signature(sketch.replace("10,1,population,", "10,1,population,"))
    mdl.write_text(before.replace("population * wage", "population * wage * birth rate")
                   + sketch, encoding="utf-8")
    ok, why = sketch_is_current(mdl)
    assert not ok and "sketch line" in why


def test_missing_sketch_section_is_a_named_error(tmp_path):
    p = tmp_path / "bare.mdl"
    with pytest.raises(ModelError, match="bare.mdl.*Sketch information"):
        split_mdl("{UTF-8}\nx=1\n~~|\n", p)


def test_sector_declared_twice_is_a_named_error(sketch_files, tmp_path):
    mdl, _ = sketch_files
    sec = tmp_path / "dup.yaml"
    sec.write_text("a:\n  label: {zh: 甲, en: A}\n  variables: [population]\n"
                   "b:\n  label: {zh: 乙, en: B}\n  variables: [population]\n", encoding="utf-8")
    with pytest.raises(ModelError, match="'population' is declared in both 'a' and 'b'"):
        assign_sectors(load_graph(mdl), load_sectors(sec))


# ------------------------------------------------------------------ the project's model
def test_model_views_cover_every_variable_once():
    g = load_graph()
    views = build_views(g, load_sectors())
    placed = [v for view in views for v in view.variables]
    assert len(placed) == len(set(placed))
    assert set(placed) == set(g.variables())
    assert [v.id for v in views] == [s.id for s in load_sectors()]


def _translate_split(src, where):
    import pysd

    where.mkdir()
    target = where / src.name
    shutil.copyfile(src, target)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="No encoding specified")
        model = pysd.read_vensim(str(target), split_views=True)
    return model, target


@pytest.mark.slow
def test_pysd_split_views_one_module_per_sector_same_results(tmp_path):
    split, target = _translate_split(paths.MODEL_FILE, tmp_path / "split")
    modules = json.loads((target.parent / f"modules_{target.stem}" / "_modules.json")
                         .read_text(encoding="utf-8"))
    sectors = [s.id for s in load_sectors()]
    assert sorted(modules) == sorted(sectors)
    g = load_graph()
    in_modules = [v for names in modules.values() for v in names]
    assert len(in_modules) == len(set(in_modules))
    assert set(in_modules) == set(g.variables()), "variables left out of every view"
    # the whole model as the PySD engine translates it (once per process, shared with the
    # other PySD tests of the process); both run every equation at every step, with a yearly
    # step (the model's 1/32 year would take 32 times as long and test the same equations)
    whole = load_pysd_model(paths.MODEL_FILE)
    a, b = (m.run(time_step=1, saveper=1) for m in (split, whole))
    assert len(b) == 25   # 2012 to 2036
    assert sorted(a.columns) == sorted(b.columns)
    diff = (a[b.columns] - b).abs().to_numpy().max()
    assert diff == 0.0
