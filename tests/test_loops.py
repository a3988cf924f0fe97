"""Feedback loops: derived from the equations, with the stated polarity measured numerically."""

from __future__ import annotations

import textwrap

import pandas as pd
import pytest

from sim.analysis.diagnostics.loops import (
    LoopError,
    calibrated_polarities,
    derive_loop,
    effect_groups,
    link_signs,
    loop_polarities,
)
from sim.errors import ModelError
from sim.model.declarations.loopspec import LoopSpec, load_loops
from sim.model.equations.graph import load_graph
from tests.inline_mdl import control_section, numpy_model

TINY = textwrap.dedent("""\
    {UTF-8}
    population=
    \tINTEG(births - deaths, 100)
    \t~\tpersons
    \t~\t|

    births=
    \tMIN(population * birth rate, birth cap)
    \t~\tpersons/Year
    \t~\t|

    birth rate=
    \t0.03
    \t~\t1/Year
    \t~\t|

    birth cap=
    \t1000
    \t~\tpersons/Year
    \t~\t|

    deaths=
    \tpopulation / lifetime * (1 + crowding)
    \t~\tpersons/Year
    \t~\t|

    lifetime=
    \t70
    \t~\tYear
    \t~\t|

    crowding=
    \tpopulation / 1000
    \t~\tDmnl
    \t~\t|

    """) + control_section(5)


def _spec(lid, pol, variables):
    return LoopSpec(lid, {"zh": lid, "en": lid}, pol, tuple(variables), {"zh": "", "en": ""})


@pytest.fixture
def loop_mdl(tmp_path):
    p = tmp_path / "tiny.mdl"
    p.write_text(TINY, encoding="utf-8")
    return p


def test_derivation_fills_in_the_chain_between_declared_variables(loop_mdl):
    g = load_graph(loop_mdl)
    lp = derive_loop(g, _spec("B", "balancing", ["crowding", "deaths"]))
    assert lp.cycle == ("crowding", "deaths", "population")
    assert lp.segments == (("crowding", "deaths"), ("deaths", "population", "crowding"))


def test_shortest_chain_and_missing_link_message(loop_mdl):
    g = load_graph(loop_mdl)
    lp = derive_loop(g, _spec("R", "reinforcing", ["population", "births"]))
    assert lp.cycle == ("population", "births")
    assert lp.links == [("population", "births"), ("births", "population")]
    with pytest.raises(LoopError, match=r"loop X \(X\): link births -> lifetime is missing"):
        derive_loop(g, _spec("X", "balancing", ["births", "lifetime"]))
    with pytest.raises(LoopError, match="loop Y: variable 'nobody' is not in the model"):
        derive_loop(g, _spec("Y", "balancing", ["population", "nobody"]))


def test_polarity_signs_and_inactive_links(loop_mdl):
    g = load_graph(loop_mdl)
    loops = [derive_loop(g, _spec("R", "reinforcing", ["population", "births"])),
             derive_loop(g, _spec("B", "balancing", ["population", "deaths"])),
             derive_loop(g, _spec("C", "balancing", ["crowding", "deaths"]))]
    bm = numpy_model(loop_mdl)
    r, b, c = loop_polarities(g, loops, bm, {})
    assert (r.derived, b.derived, c.derived) == ("reinforcing", "balancing", "balancing")
    assert r.confirmed and b.confirmed and c.confirmed
    # the sign at the end of each period labels the period (calendar reporting): rows 0..4
    assert r.active_years == [0, 1, 2, 3, 4]
    assert c.segment_sign(0) == 1 and c.segment_sign(1) == -1
    # the birth cap binds: births no longer respond to the population, the loop is inactive
    capped = loop_polarities(g, loops[:1], bm, {"birth_cap": 1.0})[0]
    assert capped.derived == "inactive" and not capped.confirmed
    assert capped.inactive_links() == ["population -> births"]


# a stock whose initial value reads (through an aux) a flow, and an effect whose run pins
# that aux; a SMOOTH
INIT = textwrap.dedent("""\
    {UTF-8}
    capital=
    \tINTEG(investment - wear, start capital)
    \t~\tyuan
    \t~\t|

    start capital=
    \tbase wear * 20
    \t~\tyuan
    \t~\t|

    base wear=
    \twear * 1
    \t~\tyuan/Year
    \t~\t|

    wear=
    \t5 + Time * 0.5
    \t~\tyuan/Year
    \t~\t|

    demand=
    \t50 + Time * 2 + base wear
    \t~\tyuan/Year
    \t~\t|

    investment=
    \tdemand * 0.3 + SMOOTH(demand, 2) * 0.1
    \t~\tyuan/Year
    \t~\t|

    """) + control_section(5)


@pytest.mark.parametrize("body", [TINY, INIT], ids=["tiny", "initial-value"])
def test_measuring_effects_together_gives_the_numbers_of_separate_runs(tmp_path, body):
    p = tmp_path / "m.mdl"
    p.write_text(body, encoding="utf-8")
    g, bm = load_graph(p), numpy_model(p)
    links = [(d, n) for n, node in g.nodes.items() if node.kind in ("stock", "flow", "aux")
             for d in node.deps if g[d].kind in ("stock", "flow", "aux")]
    effects = sorted({b for _, b in links})
    pinned = {b: [d for d in g[b].deps if g[d].kind in ("stock", "flow", "aux")]
              for b in effects}
    groups = effect_groups(g, effects, pinned)
    assert 1 < len(groups) < len(effects)
    assert sorted(b for grp in groups for b in grp) == effects
    together = link_signs(g, links, bm, {})
    apart = link_signs(g, links, bm, {}, together=False)
    pd.testing.assert_frame_equal(together, apart)
    assert (together != 0).any().all()


def test_an_effect_is_not_grouped_with_one_that_pins_what_its_initial_value_reads(tmp_path):
    p = tmp_path / "m.mdl"
    p.write_text(INIT, encoding="utf-8")
    g = load_graph(p)
    assert g["capital"].init_deps == ("start_capital",)
    # demand's run pins base wear, which the capital's initial value reads (via start capital):
    # pinned, the capital's start would no longer respond to the wear
    pinned = {"capital": ["investment", "wear"], "demand": ["base_wear"]}
    assert effect_groups(g, ["capital", "demand"], pinned) == [["capital"], ["demand"]]
    # an effect is never measured in a run that pins it; unrelated effects share a run
    assert effect_groups(g, ["base_wear", "demand"], {"base_wear": ["wear"],
                                                       "demand": ["base_wear"]}
                         ) == [["base_wear"], ["demand"]]
    assert effect_groups(g, ["investment", "start_capital"], {"investment": ["demand"],
                                                               "start_capital": ["base_wear"]}
                         ) == [["investment", "start_capital"]]
    # the wear raises the capital through its start more than it lowers it by year 5
    signs = link_signs(g, [("wear", "capital")], numpy_model(p), {})
    assert (signs["wear -> capital"] == 1).all()


def test_declarations_are_checked(tmp_path):
    p = tmp_path / "loops.yaml"
    p.write_text("loops:\n  R1:\n    name: {zh: 甲, en: A}\n    polarity: positive\n"
                 "    variables: [a, b]\n    description: {zh: 甲, en: A}\n", encoding="utf-8")
    with pytest.raises(ModelError, match=r"loops.R1.polarity: 'positive'; allowed: "
                                         "reinforcing, balancing"):
        load_loops(p)


# ------------------------------------------------------------------ the project's model
@pytest.fixture(scope="module")
def polarities():
    return calibrated_polarities()


@pytest.mark.slow
def test_every_declared_loop_exists_with_its_stated_polarity(polarities):
    decl = load_loops()
    assert [p.loop.spec.id for p in polarities] == [s.id for s in decl.loops]
    wrong = {p.loop.spec.id: (p.loop.spec.polarity, p.derived) for p in polarities
             if not p.confirmed}
    assert not wrong, f"loops whose measured polarity differs from model/loops.yaml: {wrong}"


@pytest.mark.slow
def test_loops_are_active_in_the_plan_period(polarities):
    for p in polarities:
        assert set(range(2026, 2029)) <= set(p.active_years), p.loop.spec.id
