"""Feedback loops: derived from the equations, with the stated polarity measured numerically."""

from __future__ import annotations

import textwrap

import pytest

from sim.analysis.loops import LoopError, calibrated_polarities, derive_loop, loop_polarities
from sim.engine import compile_model
from sim.errors import ModelError
from sim.model.graph import load_graph
from sim.model.loopspec import LoopSpec, load_loops
from tests.inline_mdl import control_section

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
    bm = compile_model(loop_mdl)
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
